//! `reduce.wgsl`: fixed-order sums, of one model or of K models' stacked blocks in one dispatch.

use super::{dim, flag, rows_per_model};
use crate::dispatch::{groups_for, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::ReduceParams;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

impl Kernels {
    /// out[j] (+)= scale · Σᵢ x[i, j]; `out` holds x.cols() values.
    pub fn column_sums(&self, x: &GpuTensor, out: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.column_sums_of_models(x, out, 1, scale, accumulate)
    }

    /// Each model's column sums (a sweep's batched step): `x` holds `models` blocks of rows, `out`
    /// their sums one model after another (models × x.cols() values), each bit for bit the block's
    /// sums alone.
    pub fn column_sums_of_models(&self, x: &GpuTensor, out: &GpuTensor, models: usize, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "column sums";
        let rows = rows_per_model(OP, x, models)?;
        x.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
        out.expect_len(OP, models * x.cols(), ElementKind::F32)?;
        expect_distinct(OP, out, &[x])?;
        let cols = dim(OP, x.cols())?;
        let params = ReduceParams { rows: dim(OP, rows)?, cols, out_index: 0, accumulate: flag(accumulate), scale, out_stride: cols, _pad: [0; 2] };
        let label = format!("reduce.column_sums {}→{}", x.label(), out.label());
        self.dispatch(label, &self.column_sums, &[(0, x), (1, out)], &params, 2, [groups_for(x.cols(), 64), 1, models as u32])
    }

    /// out[out_index] (+)= scale · Σ x, summed in a fixed order (bit-reproducible).
    pub fn sum_all(&self, x: &GpuTensor, out: &GpuTensor, out_index: usize, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.sum_all_of_models(x, out, 1, (out_index, 0), scale, accumulate)
    }

    /// Each model's total (a sweep's batched step): `x` holds `models` blocks of rows; model z's
    /// total goes to out[first + z · stride] (`slots` = (first, stride)), bit for bit the block's
    /// total alone.
    pub fn sum_all_of_models(
        &self,
        x: &GpuTensor,
        out: &GpuTensor,
        models: usize,
        slots: (usize, usize),
        scale: f32,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "sum";
        let rows = rows_per_model(OP, x, models)?;
        let (out_index, out_stride) = slots;
        x.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
        let last = out_stride.checked_mul(models - 1).and_then(|offset| offset.checked_add(out_index));
        if out.kind() != ElementKind::F32 || last.is_none_or(|last| last >= out.len()) || (models > 1 && out_stride == 0) {
            return Err(GpuError::invalid(OP, format!("slots {out_index} + {out_stride}·z for {models} models are outside {} or overlap", out.describe())));
        }
        expect_distinct(OP, out, &[x])?;
        let params = ReduceParams {
            rows: dim(OP, rows)?,
            cols: dim(OP, x.cols())?,
            out_index: dim(OP, out_index)?,
            accumulate: flag(accumulate),
            scale,
            out_stride: dim(OP, out_stride)?,
            _pad: [0; 2],
        };
        let label = format!("reduce.sum_all {}→{}[{out_index}]", x.label(), out.label());
        self.dispatch(label, &self.sum_all, &[(0, x), (1, out)], &params, 2, [1, 1, models as u32])
    }
}
