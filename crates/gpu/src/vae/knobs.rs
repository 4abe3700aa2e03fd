//! The VAE's knobs on the GPU: the dispatches of a recorded step whose uniform blocks carry a knob,
//! and the one place that writes knobs into them, at build (they are recorded neutral) and at
//! every change after, through the blocks' own checks ([`Schedule::retune`]).

use latent_core::Knobs;

use crate::context::GpuContext;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::net::DropoutDispatches;
use crate::ops::set_drop_probability;
use crate::params::{KlParams, OptimizerParams, PenaltyParams};

/// The knob-carrying dispatches of the gradient half of a step.
#[derive(Debug)]
pub(crate) struct GradientKnobs {
    /// Matmuls with fused dropout (forward and backward, both networks).
    pub(crate) dropout: DropoutDispatches,
    /// KL's backward, whose scale is β / batch.
    pub(crate) kl_backward: Tuned<KlParams>,
    /// The penalty's value and gradient (λ₁, λ₂).
    pub(crate) penalties: [Tuned<PenaltyParams>; 2],
}

/// The two updates of the update half: Adam and SGD, one of them at learning rate 0.
#[derive(Debug)]
pub(crate) struct UpdateKnobs {
    pub(crate) adam: Tuned<OptimizerParams>,
    pub(crate) sgd: Tuned<OptimizerParams>,
}

/// Every knob-carrying dispatch of a VAE step.
#[derive(Debug)]
pub(crate) struct VaeKnobDispatches {
    pub(crate) gradients: GradientKnobs,
    pub(crate) update: UpdateKnobs,
}

impl VaeKnobDispatches {
    /// Writes β, λ₁, λ₂, dropout and the optimizer's settings into `step`'s blocks.
    pub(crate) fn apply(&self, ctx: &GpuContext, step: &Schedule, knobs: &Knobs, batch: usize) -> Result<(), GpuError> {
        let GradientKnobs { dropout, kl_backward, penalties } = &self.gradients;
        for &matmul in dropout {
            step.retune(ctx, matmul, |block| set_drop_probability(block, knobs.dropout))?;
        }
        step.retune(ctx, *kl_backward, |block| {
            block.scale = knobs.beta / batch as f32;
            Ok(())
        })?;
        for &penalty in penalties {
            step.retune(ctx, penalty, |block| {
                block.set_strengths(knobs.l1, knobs.l2);
                Ok(())
            })?;
        }
        let (adam, sgd) = knobs.updates();
        step.retune(ctx, self.update.adam, |block| {
            block.set_adam(adam);
            Ok(())
        })?;
        step.retune(ctx, self.update.sgd, |block| {
            block.set_sgd(sgd);
            Ok(())
        })
    }
}
