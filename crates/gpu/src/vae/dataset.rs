//! A run's rows on the GPU, and the gather that reads a batch of them.

use std::ops::Deref;
use std::sync::Arc;

use latent_core::data::{Rows, RunData};

use crate::context::GpuContext;
use crate::dispatch::Dispatch;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::{GatherSpec, IndexSlice};
use crate::tensor::GpuTensor;

/// A run's rows on the GPU (rows × data_dim: u8 pixels, packed, or f32 points), uploaded once and
/// shared by every model that reads them: a sweep's members each visit their own fold's rows of one
/// copy. The buffer lives, and the context's ledger counts it, until its last holder drops.
#[derive(Clone, Debug)]
pub struct GpuRows(Arc<GpuTensor>);

impl GpuRows {
    /// Uploads `data`'s rows.
    pub fn upload(ctx: &GpuContext, data: &RunData) -> Result<Self, GpuError> {
        let tensor = match &data.rows {
            Rows::Pixels(bytes) => ctx.upload_u8("dataset", whole_rows("pixels", bytes.len(), data.dim)?, data.dim, bytes)?,
            Rows::Points(points) => ctx.upload_f32("dataset", whole_rows("points", points.len(), data.dim)?, data.dim, points)?,
        };
        Ok(Self::holding(tensor))
    }

    /// An `Arc`, which natively keeps the models that hold it `Send` (a sweep's CPU members
    /// train on every core, and the engine seam asks the same of every model); in the browser
    /// wgpu's types are neither `Send` nor `Sync`, and nothing there crosses threads.
    #[cfg_attr(target_arch = "wasm32", allow(clippy::arc_with_non_send_sync))]
    fn holding(tensor: GpuTensor) -> Self {
        Self(Arc::new(tensor))
    }

    /// Whether these are rows of `data`'s shape and kind (their values are the caller's word).
    fn fit(&self, data: &RunData) -> Result<(), GpuError> {
        let (rows, kind) = match &data.rows {
            Rows::Pixels(bytes) => (bytes.len() / data.dim.max(1), crate::tensor::ElementKind::U8Packed),
            Rows::Points(points) => (points.len() / data.dim.max(1), crate::tensor::ElementKind::F32),
        };
        if (self.0.rows(), self.0.cols(), self.0.kind()) != (rows, data.dim, kind) {
            return Err(GpuError::shape("shared rows", format!("{rows} rows of {} {kind:?} values", data.dim), self.0.describe()));
        }
        Ok(())
    }
}

impl Deref for GpuRows {
    type Target = GpuTensor;

    fn deref(&self) -> &GpuTensor {
        &self.0
    }
}

/// A dataset on the GPU and the order its rows are visited in.
#[derive(Debug)]
pub struct GpuDataset {
    /// rows × data_dim: u8 pixels (packed) or f32 points.
    pub data: GpuRows,
    /// Row indices visited in order, one batch per step, wrapping around.
    pub indices: GpuTensor,
    /// Held-out rows for evaluation, reconstructions and latent views (at least one batch).
    pub test_indices: GpuTensor,
}

impl GpuDataset {
    /// Uploads a run's rows with its training and held-out row lists.
    pub fn upload(ctx: &GpuContext, data: &RunData) -> Result<Self, GpuError> {
        Self::upload_lists(ctx, data, &data.train, &data.test)
    }

    /// Uploads a run's rows with other row lists (a batched sweep's: every member's training
    /// rows one after another).
    pub(crate) fn upload_lists(ctx: &GpuContext, data: &RunData, train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        Self::with_indices(ctx, GpuRows::upload(ctx, data)?, train, test)
    }

    /// `data`'s training and held-out row lists over `rows`, uploaded already (they must be
    /// `data`'s rows; a shape or kind other than theirs is refused).
    pub fn on_rows(ctx: &GpuContext, rows: &GpuRows, data: &RunData) -> Result<Self, GpuError> {
        rows.fit(data)?;
        Self::with_indices(ctx, rows.clone(), &data.train, &data.test)
    }

    fn with_indices(ctx: &GpuContext, data: GpuRows, train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let list = |label: &str, rows: &[u32]| ctx.upload_u32(label, 1, rows.len(), rows);
        Ok(Self { data, indices: list("train_indices", train)?, test_indices: list("test_indices", test)? })
    }

    /// Gathers a batch of the rows `indices` picks into `out` (bytes are scaled to [0, 1]).
    pub(crate) fn gather(&self, k: &Kernels, indices: &GpuTensor, counters: &GpuTensor, out: &GpuTensor, spec: GatherSpec) -> Result<Dispatch, GpuError> {
        k.gather_of_models(&self.data, indices, counters, out, &[IndexSlice::all(indices)], spec)
    }
}

fn whole_rows(what: &'static str, len: usize, cols: usize) -> Result<usize, GpuError> {
    if cols == 0 || !len.is_multiple_of(cols) {
        return Err(GpuError::invalid("dataset", format!("{len} {what} values are not whole rows of {cols}")));
    }
    Ok(len / cols)
}
