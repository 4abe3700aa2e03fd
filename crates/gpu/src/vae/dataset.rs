//! A run's rows on the GPU, and the gather that reads a batch of them.

use latent_core::data::{Rows, RunData};

use crate::context::GpuContext;
use crate::dispatch::Dispatch;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::{GatherSpec, IndexSlice};
use crate::tensor::GpuTensor;

/// A dataset on the GPU and the order its rows are visited in.
#[derive(Debug)]
pub struct GpuDataset {
    /// rows × data_dim: u8 pixels (packed) or f32 points.
    pub data: GpuTensor,
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
        match &data.rows {
            Rows::Pixels(bytes) => Self::pixels(ctx, data.dim, bytes, train, test),
            Rows::Points(points) => Self::points(ctx, data.dim, points, train, test),
        }
    }

    /// Uploads byte rows (pixels, `cols` per row) with the training and held-out row lists.
    pub fn pixels(ctx: &GpuContext, cols: usize, bytes: &[u8], train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let rows = whole_rows("pixels", bytes.len(), cols)?;
        Self::with_indices(ctx, ctx.upload_u8("dataset", rows, cols, bytes)?, train, test)
    }

    /// Uploads f32 rows (2D points, `cols` per row) with the training and held-out row lists.
    pub fn points(ctx: &GpuContext, cols: usize, points: &[f32], train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let rows = whole_rows("points", points.len(), cols)?;
        Self::with_indices(ctx, ctx.upload_f32("dataset", rows, cols, points)?, train, test)
    }

    fn with_indices(ctx: &GpuContext, data: GpuTensor, train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
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
