//! What every batched model (a sweep's K models in one step) does with its stacked parameters: in
//! the [stacked](ParamLayout::stacked) layout a model's parameters are one range per slot, so its
//! penalty value is summed slot by slot, and the element-wise updates (optimizers, penalty
//! gradient) run over blocks, a run of them per model.

use std::ops::Range;

use latent_core::model::ParamLayout;

use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::{ParamRange, PenaltySlots, PenaltySpec};
use crate::params::PenaltyParams;
use crate::tensor::GpuTensor;

/// K models of one layout, stacked.
#[derive(Clone, Copy)]
pub(crate) struct Stacked<'a> {
    /// One model's layout.
    pub(crate) layout: &'a ParamLayout,
    /// Its [stacked](ParamLayout::stacked) form over the K models.
    pub(crate) stacked: &'a ParamLayout,
    pub(crate) models: usize,
}

impl Stacked<'_> {
    /// One dispatch per weight slot, recorded neutral: each model's penalty value over its part of
    /// that slot into `slots.out[slots.index + z · stride]`. The first dispatch writes as `slots`
    /// says, the later ones add, so the total is the model's value in either mode.
    pub(crate) fn push_penalty_values(
        self,
        k: &Kernels,
        s: &mut Schedule,
        (params, mask): (&GpuTensor, &GpuTensor),
        slots: PenaltySlots<'_>,
        stride: usize,
    ) -> Result<Vec<Tuned<PenaltyParams>>, GpuError> {
        let mut values = Vec::new();
        for (slot, _) in self.layout.slots.iter().enumerate().filter(|(_, s)| s.is_weight) {
            let specs: Vec<PenaltySpec> = (0..self.models)
                .map(|m| {
                    let range = self.layout.model_range(self.stacked, slot, m);
                    PenaltySpec { range: ParamRange { offset: range.start, len: range.len() }, l1: 0.0, l2: 0.0 }
                })
                .collect();
            let slots = PenaltySlots { accumulate: slots.accumulate || !values.is_empty(), ..slots };
            values.push(s.push_tuned(k.penalty_value_of_models(params, mask, slots, stride, &specs)?)?);
        }
        Ok(values)
    }

    /// The element-wise update's blocks (optimizers, penalty gradient), model by model, and each
    /// model's run of them: its range in every slot, cut into chunks of at most [`chunk_len`],
    /// since every block of a dispatch gets the longest block's workgroups (one block per slot
    /// would leave most of a bias slot's workgroups idle beside a weight matrix). Chunks of one
    /// element-wise update give exactly the update of the whole range.
    pub(crate) fn update_blocks(self) -> (Vec<ParamRange>, Vec<Range<usize>>) {
        let chunk = chunk_len(self.layout.len);
        let (mut blocks, mut runs) = (Vec::new(), Vec::with_capacity(self.models));
        for m in 0..self.models {
            let first = blocks.len();
            for slot in 0..self.layout.slots.len() {
                let range = self.layout.model_range(self.stacked, slot, m);
                blocks.extend(range.clone().step_by(chunk).map(|offset| ParamRange { offset, len: chunk.min(range.end - offset) }));
            }
            runs.push(first..blocks.len());
        }
        (blocks, runs)
    }
}

/// Elements per update block for a model of `len` parameters: a sixteenth of it, in whole
/// workgroups (256 invocations of a run each), at most 64 of them (a model's blocks then number
/// about 16 plus its slots).
fn chunk_len(len: usize) -> usize {
    let workgroup = 256 * crate::ops::optimizer::RUN;
    (len / 16).next_multiple_of(workgroup).clamp(workgroup, 64 * workgroup)
}
