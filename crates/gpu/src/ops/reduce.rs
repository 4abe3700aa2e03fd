//! `reduce.wgsl`: fixed-order sums.

use super::{dim, flag};
use crate::dispatch::{groups_for, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::ReduceParams;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

impl Kernels {
    /// out[j] (+)= scale · Σᵢ x[i, j]; `out` holds x.cols() values.
    pub fn column_sums(&self, x: &GpuTensor, out: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "column sums";
        x.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
        out.expect_len(OP, x.cols(), ElementKind::F32)?;
        expect_distinct(OP, out, &[x])?;
        let params = ReduceParams { rows: dim(OP, x.rows())?, cols: dim(OP, x.cols())?, out_index: 0, accumulate: flag(accumulate), scale, _pad: [0; 3] };
        let label = format!("reduce.column_sums {}→{}", x.label(), out.label());
        self.dispatch(label, &self.column_sums, &[(0, x), (1, out)], &params, 2, [groups_for(x.cols(), 64), 1, 1])
    }

    /// out[out_index] (+)= scale · Σ x, summed in a fixed order (bit-reproducible).
    pub fn sum_all(&self, x: &GpuTensor, out: &GpuTensor, out_index: usize, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "sum";
        x.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
        if out.kind() != ElementKind::F32 || out_index >= out.len() {
            return Err(GpuError::invalid(OP, format!("slot {out_index} is outside {}", out.describe())));
        }
        expect_distinct(OP, out, &[x])?;
        let params = ReduceParams {
            rows: dim(OP, x.rows())?,
            cols: dim(OP, x.cols())?,
            out_index: dim(OP, out_index)?,
            accumulate: flag(accumulate),
            scale,
            _pad: [0; 3],
        };
        let label = format!("reduce.sum_all {}→{}[{out_index}]", x.label(), out.label());
        self.dispatch(label, &self.sum_all, &[(0, x), (1, out)], &params, 2, [1, 1, 1])
    }
}
