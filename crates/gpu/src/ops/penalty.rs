//! `penalty.wgsl`: L2 and L1 weight penalties over a flat parameter buffer.

use super::dim;
use super::optimizer::ParamRange;
use crate::dispatch::{linear_workgroups, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::PenaltyParams;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

#[allow(clippy::too_many_arguments)]
fn penalty_params(
    op: &'static str,
    weights: &GpuTensor,
    mask: &GpuTensor,
    range: ParamRange,
    l1: f32,
    l2: f32,
    out_index: usize,
    accumulate: bool,
) -> Result<PenaltyParams, GpuError> {
    range.check(op, weights)?;
    mask.expect_len(op, weights.len(), ElementKind::F32)?;
    if !(l1 >= 0.0 && l2 >= 0.0 && l1.is_finite() && l2.is_finite()) {
        return Err(GpuError::invalid(op, format!("strengths must be finite and ≥ 0 (L1 {l1}, L2 {l2})")));
    }
    Ok(PenaltyParams {
        offset: dim(op, range.offset)?,
        len: dim(op, range.len)?,
        out_index: dim(op, out_index)?,
        accumulate: u32::from(accumulate),
        l1,
        l2,
        _pad1: [0; 2],
    })
}

impl Kernels {
    /// grads += mask · (2·l2·w + l1·sign(w)) over `range`.
    pub fn penalty_gradient(
        &self,
        weights: &GpuTensor,
        mask: &GpuTensor,
        grads: &GpuTensor,
        range: ParamRange,
        l1: f32,
        l2: f32,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty gradient";
        let params = penalty_params(OP, weights, mask, range, l1, l2, 0, false)?;
        grads.expect_len(OP, weights.len(), ElementKind::F32)?;
        expect_distinct(OP, grads, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (2, grads)];
        Ok(self.dispatch(format!("penalty.gradient {}", grads.label()), &self.penalty_gradient, &buffers, &params, 3, linear_workgroups(range.len)))
    }

    /// out[out_index] = l2·Σ mask·w², out[out_index + 1] = l1·Σ mask·|w| over `range` (added to
    /// the slots with `accumulate`).
    #[allow(clippy::too_many_arguments)]
    pub fn penalty_value(
        &self,
        weights: &GpuTensor,
        mask: &GpuTensor,
        out: &GpuTensor,
        out_index: usize,
        range: ParamRange,
        l1: f32,
        l2: f32,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty value";
        let params = penalty_params(OP, weights, mask, range, l1, l2, out_index, accumulate)?;
        if out.kind() != ElementKind::F32 || out_index + 1 >= out.len() {
            return Err(GpuError::invalid(OP, format!("slots {out_index}, {} are outside {}", out_index + 1, out.describe())));
        }
        expect_distinct(OP, out, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (4, out)];
        Ok(self.dispatch(format!("penalty.value {}", weights.label()), &self.penalty_value, &buffers, &params, 3, [1, 1, 1]))
    }
}
