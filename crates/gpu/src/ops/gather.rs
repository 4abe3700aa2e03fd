//! `gather.wgsl`: minibatches from a dataset that lives on the GPU.

use super::dim;
use super::vae::expect_counter;
use crate::dispatch::{linear_workgroups, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::GatherParams;
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
    pipeline: &'a wgpu::ComputePipeline,
    data_kind: ElementKind,
    data_binding: u32,
}

impl Kernels {
    /// out (rows×cols f32) = dataset rows picked by `indices`, bytes scaled to [0, 1].
    pub fn gather_u8(&self, data: &GpuTensor, indices: &GpuTensor, counters: &GpuTensor, out: &GpuTensor, spec: GatherSpec) -> Result<Dispatch, GpuError> {
        let kernel = GatherKernel { op: "gather u8", pipeline: &self.gather_u8, data_kind: ElementKind::U8Packed, data_binding: 0 };
        self.gather(kernel, data, indices, counters, out, spec)
    }

    /// out (rows×cols f32) = f32 dataset rows picked by `indices` (2D points).
    pub fn gather_f32(&self, data: &GpuTensor, indices: &GpuTensor, counters: &GpuTensor, out: &GpuTensor, spec: GatherSpec) -> Result<Dispatch, GpuError> {
        let kernel = GatherKernel { op: "gather f32", pipeline: &self.gather_f32, data_kind: ElementKind::F32, data_binding: 5 };
        self.gather(kernel, data, indices, counters, out, spec)
    }

    fn gather(
        &self,
        kernel: GatherKernel<'_>,
        data: &GpuTensor,
        indices: &GpuTensor,
        counters: &GpuTensor,
        out: &GpuTensor,
        spec: GatherSpec,
    ) -> Result<Dispatch, GpuError> {
        let GatherKernel { op, pipeline, data_kind, data_binding } = kernel;
        data.expect(op, data.rows(), data.cols(), data_kind)?;
        indices.expect_len(op, indices.len(), ElementKind::U32)?;
        out.expect(op, out.rows(), data.cols(), ElementKind::F32)?;
        expect_counter(op, counters, spec.cursor_counter.unwrap_or(0))?;
        expect_distinct(op, out, &[data, indices, counters])?;
        // The kernel computes positions in u32: keep (index_len − 1)·rows + index_len below 2³².
        let index_len = indices.len() as u64;
        if (index_len.saturating_sub(1)) * out.rows() as u64 + index_len >= u64::from(u32::MAX) {
            return Err(GpuError::invalid(op, format!("{} indices × batch {} overflow the kernel's position arithmetic", index_len, out.rows())));
        }
        let params = GatherParams {
            rows: dim(op, out.rows())?,
            cols: dim(op, out.cols())?,
            index_len: dim(op, indices.len())?,
            index_base: spec.index_base,
            counter_index: spec.cursor_counter.unwrap_or(0),
            use_counter: u32::from(spec.cursor_counter.is_some()),
            _pad: [0; 2],
        };
        let buffers = [(data_binding, data), (1, indices), (2, counters), (3, out)];
        self.dispatch(format!("{op} {}", out.label()), pipeline, &buffers, &params, 4, linear_workgroups(out.len()))
    }
}
