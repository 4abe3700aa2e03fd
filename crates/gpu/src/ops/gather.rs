//! `gather.wgsl`: minibatches from a dataset that lives on the GPU.

use super::vae::expect_counter;
use super::{batch_suffix, dim, is_slice_of, per_model_workgroups, rows_per_model};
use crate::dispatch::Dispatch;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::GatherParams;
use crate::pipeline::PerModelPipeline;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// Which slice of the index list a gather reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GatherSpec {
    /// First position in the index list.
    pub index_base: u32,
    /// `Some(i)`: advance by one batch per step of counter `i`; `None`: always read from index_base.
    pub cursor_counter: Option<u32>,
}

/// Which of the two gather kernels runs: the element type of the dataset and its binding.
struct GatherKernel<'a> {
    op: &'static str,
    pipeline: &'a PerModelPipeline,
    data_kind: ElementKind,
    data_binding: u32,
}

/// Where one model's index list lies in a batched gather's index buffer: a sweep's models each
/// train on their own rows (a fold leaves its validation rows out), so the lists are laid one
/// after another and each model reads its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexSlice {
    pub first: usize,
    pub len: usize,
}

impl IndexSlice {
    /// The whole index buffer: one model's gather.
    pub fn all(indices: &GpuTensor) -> Self {
        Self { first: 0, len: indices.len() }
    }
}

impl Kernels {
    /// out (rows×cols f32) = dataset rows picked by `indices`, bytes scaled to [0, 1].
    pub fn gather_u8(&self, data: &GpuTensor, indices: &GpuTensor, counters: &GpuTensor, out: &GpuTensor, spec: GatherSpec) -> Result<Dispatch, GpuError> {
        self.gather(self.gather_kernel(ElementKind::U8Packed), (data, indices, counters, out), &[IndexSlice::all(indices)], spec)
    }

    /// out (rows×cols f32) = f32 dataset rows picked by `indices` (2D points).
    pub fn gather_f32(&self, data: &GpuTensor, indices: &GpuTensor, counters: &GpuTensor, out: &GpuTensor, spec: GatherSpec) -> Result<Dispatch, GpuError> {
        self.gather(self.gather_kernel(ElementKind::F32), (data, indices, counters, out), &[IndexSlice::all(indices)], spec)
    }

    /// K models' batches in one dispatch (u8 pixels or f32 points, as `data` holds): model z's
    /// block of `out` (its rows one after another) from its own slice of `indices`, bit for bit
    /// the batch it gathers alone.
    pub fn gather_of_models(
        &self,
        data: &GpuTensor,
        indices: &GpuTensor,
        counters: &GpuTensor,
        out: &GpuTensor,
        slices: &[IndexSlice],
        spec: GatherSpec,
    ) -> Result<Dispatch, GpuError> {
        self.gather(self.gather_kernel(data.kind()), (data, indices, counters, out), slices, spec)
    }

    /// The gather kernel for a dataset of `kind` (pixels packed as bytes, or anything else as f32,
    /// which the kernel then checks).
    fn gather_kernel(&self, kind: ElementKind) -> GatherKernel<'_> {
        match kind {
            ElementKind::U8Packed => GatherKernel { op: "gather u8", pipeline: &self.gather_u8, data_kind: ElementKind::U8Packed, data_binding: 0 },
            _ => GatherKernel { op: "gather f32", pipeline: &self.gather_f32, data_kind: ElementKind::F32, data_binding: 5 },
        }
    }

    fn gather(
        &self,
        kernel: GatherKernel<'_>,
        (data, indices, counters, out): (&GpuTensor, &GpuTensor, &GpuTensor, &GpuTensor),
        slices: &[IndexSlice],
        spec: GatherSpec,
    ) -> Result<Dispatch, GpuError> {
        let GatherKernel { op, pipeline, data_kind, data_binding } = kernel;
        data.expect(op, data.rows(), data.cols(), data_kind)?;
        indices.expect_len(op, indices.len(), ElementKind::U32)?;
        let rows = rows_per_model(op, out, slices.len())?;
        out.expect(op, out.rows(), data.cols(), ElementKind::F32)?;
        expect_counter(op, counters, spec.cursor_counter.unwrap_or(0))?;
        expect_distinct(op, out, &[data, indices, counters])?;
        let blocks = slices
            .iter()
            .map(|slice| {
                if !is_slice_of(slice.first, slice.len, indices.len()) {
                    return Err(GpuError::invalid(op, format!("index slice {}..+{} is empty or outside {}", slice.first, slice.len, indices.describe())));
                }
                // The kernel computes positions in u32: keep (index_len − 1)·rows + index_len below 2³².
                let index_len = slice.len as u64;
                if (index_len - 1) * rows as u64 + index_len >= u64::from(u32::MAX) {
                    return Err(GpuError::invalid(op, format!("{index_len} indices × batch {rows} overflow the kernel's position arithmetic")));
                }
                Ok(GatherParams {
                    rows: dim(op, rows)?,
                    cols: dim(op, out.cols())?,
                    index_len: dim(op, slice.len)?,
                    index_base: spec.index_base,
                    counter_index: spec.cursor_counter.unwrap_or(0),
                    use_counter: u32::from(spec.cursor_counter.is_some()),
                    index_first: dim(op, slice.first)?,
                    _pad: 0,
                })
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        let buffers = [(data_binding, data), (1, indices), (2, counters), (3, out)];
        let label = format!("{op}{} {}", batch_suffix(slices.len()), out.label());
        self.dispatch_per_model(label, pipeline, &buffers, &blocks, 4, per_model_workgroups(rows * out.cols(), slices.len()))
    }
}
