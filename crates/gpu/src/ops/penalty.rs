//! `penalty.wgsl`: L2 and L1 weight penalties over a flat parameter buffer.

use super::dim;
use super::optimizer::ParamRange;
use crate::dispatch::{linear_workgroups, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::PenaltyParams;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// Penalties over `range` of a flat parameter buffer, where `mask` (1 on weights, 0 on biases and
/// padding) is set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PenaltySpec {
    pub range: ParamRange,
    pub l1: f32,
    pub l2: f32,
}

/// Where a penalty's value lands: slots `index` (L2) and `index + 1` (L1) of `out`, added to them
/// with `accumulate`.
#[derive(Clone, Copy, Debug)]
pub struct PenaltySlots<'a> {
    pub out: &'a GpuTensor,
    pub index: usize,
    pub accumulate: bool,
}

fn penalty_params(
    op: &'static str,
    weights: &GpuTensor,
    mask: &GpuTensor,
    spec: PenaltySpec,
    out_index: usize,
    accumulate: bool,
) -> Result<PenaltyParams, GpuError> {
    spec.range.check(op, weights)?;
    mask.expect_len(op, weights.len(), ElementKind::F32)?;
    let mut params = PenaltyParams {
        offset: dim(op, spec.range.offset)?,
        len: dim(op, spec.range.len)?,
        out_index: dim(op, out_index)?,
        accumulate: u32::from(accumulate),
        ..PenaltyParams::default()
    };
    params.set_strengths(spec.l1, spec.l2);
    Ok(params)
}

impl Kernels {
    /// grads += mask · (2·l2·w + l1·sign(w)) over the spec's range.
    pub fn penalty_gradient(&self, weights: &GpuTensor, mask: &GpuTensor, grads: &GpuTensor, spec: PenaltySpec) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty gradient";
        let params = penalty_params(OP, weights, mask, spec, 0, false)?;
        grads.expect_len(OP, weights.len(), ElementKind::F32)?;
        expect_distinct(OP, grads, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (2, grads)];
        self.dispatch(format!("penalty.gradient {}", grads.label()), &self.penalty_gradient, &buffers, &params, 3, linear_workgroups(spec.range.len))
    }

    /// out[index] = l2·Σ mask·w², out[index + 1] = l1·Σ mask·|w| over the spec's range.
    pub fn penalty_value(&self, weights: &GpuTensor, mask: &GpuTensor, slots: PenaltySlots<'_>, spec: PenaltySpec) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty value";
        let PenaltySlots { out, index, accumulate } = slots;
        let params = penalty_params(OP, weights, mask, spec, index, accumulate)?;
        if out.kind() != ElementKind::F32 || index + 1 >= out.len() {
            return Err(GpuError::invalid(OP, format!("slots {index}, {} are outside {}", index + 1, out.describe())));
        }
        expect_distinct(OP, out, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (4, out)];
        self.dispatch(format!("penalty.value {}", weights.label()), &self.penalty_value, &buffers, &params, 3, [1, 1, 1])
    }
}
