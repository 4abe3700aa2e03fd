//! What every batched model (a sweep's K models in one step) does with its stacked parameters: in
//! the [stacked](ParamLayout::stacked) layout a model's parameters are one range per slot, so its
//! penalty value is summed slot by slot, and the element-wise updates (optimizers, penalty
//! gradient) run over blocks, a run of them per model. [`MemberUpdates`] is the update both
//! batched models record (penalty value and gradient, Adam, SGD where the network has it) and
//! the way a member's knobs are written into it.

use std::ops::Range;

use latent_core::model::ParamLayout;
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};

use crate::context::GpuContext;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::{AdamBuffers, ParamRange, PenaltySlots, PenaltySpec};
use crate::params::{OptimizerParams, PenaltyParams};
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

/// The buffers of K stacked networks' update, all in the stacked layout.
#[derive(Clone, Copy)]
pub(crate) struct UpdateBuffers<'a> {
    pub(crate) params: &'a GpuTensor,
    pub(crate) penalty_mask: &'a GpuTensor,
    pub(crate) grads: &'a GpuTensor,
    /// Adam's first and second moments.
    pub(crate) moments: [&'a GpuTensor; 2],
    /// SGD's velocity, for a network that may train with SGD (a VAE's; a GAN's train with Adam).
    pub(crate) velocity: Option<&'a GpuTensor>,
    /// The counter Adam's bias correction reads: the buffer and the index in it.
    pub(crate) counter: (&'a GpuTensor, u32),
}

/// What one member's update is set to: its penalty strengths and its optimizer. `sgd` is `None`
/// exactly for a network without SGD.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MemberUpdate {
    pub(crate) l1: f32,
    pub(crate) l2: f32,
    pub(crate) adam: AdamConfig,
    pub(crate) sgd: Option<SgdConfig>,
}

/// The knob-carrying dispatches of K stacked networks' update, recorded neutral: the penalty's
/// value (a dispatch per weight slot, a block per model), its gradient, Adam and SGD (a run of
/// blocks per model). [`apply`](Self::apply) writes one member's settings into its blocks only.
#[derive(Debug)]
pub(crate) struct MemberUpdates {
    values: Vec<Tuned<PenaltyParams>>,
    gradient: Tuned<PenaltyParams>,
    adam: Tuned<OptimizerParams>,
    sgd: Option<Tuned<OptimizerParams>>,
    /// Member z's blocks in the gradient's and the optimizers' dispatches.
    runs: Vec<Range<usize>>,
}

impl MemberUpdates {
    pub(crate) fn apply(&self, ctx: &GpuContext, schedule: &Schedule, member: usize, update: MemberUpdate) -> Result<(), GpuError> {
        const OP: &str = "batched update";
        let run = self.runs.get(member).ok_or_else(|| GpuError::invalid(OP, format!("no member {member} of {}", self.runs.len())))?;
        let strengths = |block: &mut PenaltyParams| {
            block.set_strengths(update.l1, update.l2);
            Ok(())
        };
        for &value in &self.values {
            schedule.retune_model(ctx, value, member, strengths)?;
        }
        schedule.retune_models(ctx, self.gradient, run.clone(), strengths)?;
        schedule.retune_models(ctx, self.adam, run.clone(), |block| {
            block.set_adam(update.adam);
            Ok(())
        })?;
        match (self.sgd, update.sgd) {
            (Some(sgd), Some(cfg)) => schedule.retune_models(ctx, sgd, run.clone(), |block| {
                block.set_sgd(cfg);
                Ok(())
            }),
            (None, None) => Ok(()),
            (recorded, asked) => Err(GpuError::invalid(OP, format!("SGD recorded: {}, SGD settings given: {}", recorded.is_some(), asked.is_some()))),
        }
    }
}

impl Stacked<'_> {
    /// The update after the gradients, each model's its own: the penalty's value into
    /// `slots.out[slots.index + z · stride]`, its gradient, one Adam step and, where `b` has a
    /// velocity, one SGD step (a member trains with one of the two: the other's rate is 0).
    /// Bit for bit each model's update alone; the value, summed slot by slot, to the last bits.
    pub(crate) fn push_update(self, k: &Kernels, s: &mut Schedule, b: UpdateBuffers<'_>, slots: (PenaltySlots<'_>, usize)) -> Result<MemberUpdates, GpuError> {
        let penalties = self.push_penalties(k, s, &b, slots)?;
        self.push_optimizers(k, s, b, penalties)
    }

    /// The first half of [`push_update`](Self::push_update): the penalty's value and gradient.
    /// Apart from the optimizers where something else adds to the gradients in between (the
    /// VAE-GAN's generator term), in the order the single model adds them.
    pub(crate) fn push_penalties(
        self,
        k: &Kernels,
        s: &mut Schedule,
        b: &UpdateBuffers<'_>,
        (slots, stride): (PenaltySlots<'_>, usize),
    ) -> Result<Penalties, GpuError> {
        let values = self.push_penalty_values(k, s, (b.params, b.penalty_mask), slots, stride)?;
        let (blocks, _) = self.update_blocks();
        let neutral: Vec<PenaltySpec> = blocks.iter().map(|&range| PenaltySpec { range, l1: 0.0, l2: 0.0 }).collect();
        let gradient = s.push_tuned(k.penalty_gradient_of_models(b.params, b.penalty_mask, b.grads, &neutral)?)?;
        Ok(Penalties { values, gradient })
    }

    /// The second half of [`push_update`](Self::push_update): Adam and, where `b` has a
    /// velocity, SGD, with `penalties` (recorded earlier) in the member updates they make.
    pub(crate) fn push_optimizers(self, k: &Kernels, s: &mut Schedule, b: UpdateBuffers<'_>, penalties: Penalties) -> Result<MemberUpdates, GpuError> {
        let (blocks, runs) = self.update_blocks();
        let [m, v] = b.moments;
        let (counters, counter_index) = b.counter;
        let adam_buffers = AdamBuffers { weights: b.params, grads: b.grads, m, v, counters, counter_index };
        let adam_blocks: Vec<(ParamRange, AdamConfig)> = blocks.iter().map(|&range| (range, AdamConfig { lr: 0.0, ..AdamConfig::default() })).collect();
        let adam = s.push_tuned(k.adam_of_models(adam_buffers, &adam_blocks)?)?;
        let sgd = match b.velocity {
            Some(velocity) => {
                let sgd_blocks: Vec<(ParamRange, SgdConfig)> = blocks.iter().map(|&range| (range, SgdConfig { lr: 0.0, momentum: 0.0 })).collect();
                Some(s.push_tuned(k.sgd_of_models(b.params, b.grads, velocity, &sgd_blocks)?)?)
            }
            None => None,
        };
        let Penalties { values, gradient } = penalties;
        Ok(MemberUpdates { values, gradient, adam, sgd, runs })
    }
}

/// The penalty's dispatches of K stacked networks' update, recorded neutral: its value (a
/// dispatch per weight slot) and its gradient.
#[derive(Debug)]
pub(crate) struct Penalties {
    values: Vec<Tuned<PenaltyParams>>,
    gradient: Tuned<PenaltyParams>,
}

/// Elements per update block for a model of `len` parameters: a sixteenth of it, in whole
/// workgroups (256 invocations of a run each), at most 64 of them (a model's blocks then number
/// about 16 plus its slots).
fn chunk_len(len: usize) -> usize {
    let workgroup = 256 * crate::ops::optimizer::RUN;
    (len / 16).next_multiple_of(workgroup).clamp(workgroup, 64 * workgroup)
}
