//! `penalty.wgsl`: L2 and L1 weight penalties over a flat parameter buffer.

use super::optimizer::{model_ranges, ParamRange};
use super::{batch_suffix, dim};
use crate::dispatch::Dispatch;
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

/// Each model's block: its range, strengths and first output slot (`slots`: the first model's
/// slot and how far apart consecutive models' slots lie).
fn penalty_blocks(
    op: &'static str,
    weights: &GpuTensor,
    mask: &GpuTensor,
    specs: &[PenaltySpec],
    (first_slot, slot_stride): (usize, usize),
    accumulate: bool,
) -> Result<Vec<PenaltyParams>, GpuError> {
    mask.expect_len(op, weights.len(), ElementKind::F32)?;
    specs
        .iter()
        .enumerate()
        .map(|(z, spec)| {
            let mut params = PenaltyParams {
                offset: dim(op, spec.range.offset)?,
                len: dim(op, spec.range.len)?,
                out_index: dim(op, first_slot + z * slot_stride)?,
                accumulate: u32::from(accumulate),
                ..PenaltyParams::default()
            };
            params.set_strengths(spec.l1, spec.l2);
            Ok(params)
        })
        .collect()
}

impl Kernels {
    /// grads += mask · (2·l2·w + l1·sign(w)) over the spec's range.
    pub fn penalty_gradient(&self, weights: &GpuTensor, mask: &GpuTensor, grads: &GpuTensor, spec: PenaltySpec) -> Result<Dispatch, GpuError> {
        self.penalty_gradient_of_models(weights, mask, grads, &[spec])
    }

    /// K models' penalty gradients in one dispatch (a sweep's batched step): model z adds its own
    /// strengths' gradient over its own range, bit for bit its gradient alone. Ranges must not
    /// overlap.
    pub fn penalty_gradient_of_models(&self, weights: &GpuTensor, mask: &GpuTensor, grads: &GpuTensor, specs: &[PenaltySpec]) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty gradient";
        let ranges: Vec<ParamRange> = specs.iter().map(|spec| spec.range).collect();
        let workgroups = model_ranges(OP, weights, &ranges, true)?;
        let blocks = penalty_blocks(OP, weights, mask, specs, (0, 0), false)?;
        grads.expect_len(OP, weights.len(), ElementKind::F32)?;
        expect_distinct(OP, grads, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (2, grads)];
        let label = format!("penalty.gradient{} {}", batch_suffix(specs.len()), grads.label());
        self.dispatch_per_model(label, &self.penalty_gradient, &buffers, &blocks, 3, workgroups)
    }

    /// out[index] = l2·Σ mask·w², out[index + 1] = l1·Σ mask·|w| over the spec's range.
    pub fn penalty_value(&self, weights: &GpuTensor, mask: &GpuTensor, slots: PenaltySlots<'_>, spec: PenaltySpec) -> Result<Dispatch, GpuError> {
        self.penalty_value_of_models(weights, mask, slots, 0, &[spec])
    }

    /// K models' penalty values in one dispatch: model z's land in slots index + z·stride and the
    /// one after, each bit for bit its values alone.
    pub fn penalty_value_of_models(
        &self,
        weights: &GpuTensor,
        mask: &GpuTensor,
        slots: PenaltySlots<'_>,
        slot_stride: usize,
        specs: &[PenaltySpec],
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "penalty value";
        let PenaltySlots { out, index, accumulate } = slots;
        let ranges: Vec<ParamRange> = specs.iter().map(|spec| spec.range).collect();
        // Reading the same weights is fine: a shared range only repeats a sum.
        let [_, _, models] = model_ranges(OP, weights, &ranges, false)?;
        let last = slot_stride.checked_mul(specs.len() - 1).and_then(|offset| offset.checked_add(index + 1));
        if out.kind() != ElementKind::F32 || last.is_none_or(|last| last >= out.len()) || (specs.len() > 1 && slot_stride < 2) {
            return Err(GpuError::invalid(
                OP,
                format!("slots {index} + {slot_stride}·z (and the one after) for {} models are outside {} or overlap", specs.len(), out.describe()),
            ));
        }
        let blocks = penalty_blocks(OP, weights, mask, specs, (index, slot_stride), accumulate)?;
        expect_distinct(OP, out, &[weights, mask])?;
        let buffers = [(0, weights), (1, mask), (4, out)];
        let label = format!("penalty.value{} {}", batch_suffix(specs.len()), weights.label());
        self.dispatch_per_model(label, &self.penalty_value, &buffers, &blocks, 3, [1, 1, models])
    }
}
