//! What every adversarial model shares on the GPU: a network's flat parameters with their update
//! (λ₂ and Adam, knob-carrying), and the discriminator's passes (on real rows and on fakes, on
//! held-out rows, and the generator's signal through a frozen D), with the metrics slots they fill.
//! The GAN uses them for its generator and discriminator, the VAE-GAN for its discriminator.

use latent_core::model::{DiscriminatorMetrics, Mlp, ParamLayout};
use latent_core::ops::optimizer::AdamConfig;

use crate::context::GpuContext;
use crate::dispatch::{Dispatch, Schedule, Tuned};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{AdamBuffers, GanLabel, ParamRange, PenaltySlots, PenaltySpec};
use crate::params::{LossParams, OptimizerParams, PenaltyParams};
use crate::stacked::UpdateBuffers;
use crate::tensor::GpuTensor;

/// Metrics buffer slots (the VAE-GAN uses the D and G-loss slots too).
const LOSS_REAL: usize = 0;
const LOSS_FAKE: usize = 1;
const ACC_REAL: usize = 2;
const ACC_FAKE: usize = 3;
/// L2 at 4, L1 at 5.
pub(crate) const D_PENALTY: usize = 4;
pub(crate) const G_LOSS: usize = 6;
/// L2 at 8, L1 at 9.
pub(crate) const G_PENALTY: usize = 8;
pub(crate) const METRICS: usize = 10;
/// Held-out metrics buffer slots.
pub(crate) const EVAL_LOSS: usize = 0;
pub(crate) const EVAL_ACC: usize = 1;

/// The D slots of a metrics buffer read back.
pub(crate) fn discriminator_metrics(values: &[f32]) -> DiscriminatorMetrics {
    let at = |i: usize| values.get(i).copied().map_or(f64::NAN, f64::from);
    DiscriminatorMetrics {
        loss_real: at(LOSS_REAL),
        loss_fake: at(LOSS_FAKE),
        accuracy_real: at(ACC_REAL),
        accuracy_fake: at(ACC_FAKE),
        l2_term: at(D_PENALTY),
    }
}

/// One network's parameters, gradients and Adam moments, flat.
#[derive(Debug)]
pub(crate) struct NetParams {
    pub(crate) params: GpuTensor,
    pub(crate) grads: GpuTensor,
    m: GpuTensor,
    v: GpuTensor,
    mask: GpuTensor,
}

/// The knob-carrying dispatches of one network's update: the L2 penalty's value and gradient, and
/// Adam. Recorded neutral; [`apply`](Self::apply) writes λ₂ and Adam's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UpdateKnobs {
    penalties: [Tuned<PenaltyParams>; 2],
    adam: Tuned<OptimizerParams>,
}

impl UpdateKnobs {
    pub(crate) fn apply(&self, ctx: &GpuContext, schedule: &Schedule, l2: f32, adam: AdamConfig) -> Result<(), GpuError> {
        for penalty in self.penalties {
            schedule.retune(ctx, penalty, |block| {
                block.set_strengths(0.0, l2);
                Ok(())
            })?;
        }
        schedule.retune(ctx, self.adam, |block| {
            block.set_adam(adam);
            Ok(())
        })
    }
}

impl NetParams {
    /// Parameters, gradients and Adam's moments: the network's share of a fork's state (the
    /// penalty mask never changes).
    pub(crate) fn state(&self) -> [&GpuTensor; 4] {
        [&self.params, &self.grads, &self.m, &self.v]
    }

    pub(crate) fn new(ctx: &GpuContext, name: &str, layout: &ParamLayout, init: &[f32]) -> Result<Self, GpuError> {
        let len = layout.len;
        Ok(Self {
            params: ctx.upload_f32(&format!("{name}.params"), 1, len, init)?,
            grads: ctx.zeros(&format!("{name}.grads"), 1, len)?,
            m: ctx.zeros(&format!("{name}.adam_m"), 1, len)?,
            v: ctx.zeros(&format!("{name}.adam_v"), 1, len)?,
            mask: ctx.upload_f32(&format!("{name}.penalty_mask"), 1, len, &layout.penalty_mask::<f32>())?,
        })
    }

    /// The update after the gradients: the L2 value into `metrics[slot]`, its gradient, and one
    /// Adam step counted by `counters[counter]`.
    pub(crate) fn push_update(
        &self,
        k: &Kernels,
        s: &mut Schedule,
        metrics: &GpuTensor,
        slot: usize,
        counters: (&GpuTensor, u32),
    ) -> Result<UpdateKnobs, GpuError> {
        let neutral = PenaltySpec { range: ParamRange::all(&self.params), l1: 0.0, l2: 0.0 };
        let slots = PenaltySlots { out: metrics, index: slot, accumulate: false };
        let value = s.push_tuned(k.penalty_value(&self.params, &self.mask, slots, neutral)?)?;
        let gradient = s.push_tuned(k.penalty_gradient(&self.params, &self.mask, &self.grads, neutral)?)?;
        let (counters, counter_index) = counters;
        let buffers = AdamBuffers { weights: &self.params, grads: &self.grads, m: &self.m, v: &self.v, counters, counter_index };
        let adam = s.push_tuned(k.adam(buffers, neutral.range, AdamConfig { lr: 0.0, ..AdamConfig::default() })?)?;
        Ok(UpdateKnobs { penalties: [value, gradient], adam })
    }

    /// These buffers as K stacked networks' (they hold a stacked layout): what
    /// [`Stacked::push_update`] records their update from, with Adam's bias correction counted by
    /// `counters[counter]`.
    pub(crate) fn stacked_update<'a>(&'a self, counter: (&'a GpuTensor, u32)) -> UpdateBuffers<'a> {
        UpdateBuffers { params: &self.params, penalty_mask: &self.mask, grads: &self.grads, moments: [&self.m, &self.v], velocity: None, counter }
    }
}

/// Generated rows and where the gradient w.r.t. them goes.
#[derive(Clone, Copy)]
pub(crate) struct Fakes<'a> {
    pub(crate) rows: &'a GpuTensor,
    pub(crate) grad: &'a GpuTensor,
}

/// D's two passes, on the real batch and on fakes, and the per-sample rows its losses go through:
/// shared by every model whose samples D judges (the GAN's generator, the VAE-GAN's decoder).
#[derive(Debug)]
pub(crate) struct DiscriminatorPasses {
    real: NetBuffers,
    fake: NetBuffers,
    loss_rows: GpuTensor,
    correct_rows: GpuTensor,
    /// How many models' passes these are (a sweep's batched step): every buffer stacks the models'
    /// batches, and each model's metrics lie [`METRICS`] slots after the previous one's.
    models: usize,
}

impl DiscriminatorPasses {
    pub(crate) fn new(ctx: &GpuContext, layout: &ParamLayout, net: &Mlp, discriminator: &NetParams, batch: usize) -> Result<Self, GpuError> {
        Self::of_models(ctx, layout, net, discriminator, (batch, 1))
    }

    /// `models` discriminators side by side: `layout` is the [stacked](ParamLayout::stacked) one
    /// over `discriminator`'s buffers.
    pub(crate) fn of_models(
        ctx: &GpuContext,
        layout: &ParamLayout,
        net: &Mlp,
        discriminator: &NetParams,
        (batch, models): (usize, usize),
    ) -> Result<Self, GpuError> {
        let net_of = |name| NetBuffers::of_models(ctx, layout, net, name, (batch, models), &discriminator.params, &discriminator.grads);
        Ok(Self {
            real: net_of("discriminator.real")?,
            fake: net_of("discriminator.fake")?,
            loss_rows: ctx.zeros("discriminator.loss_rows", models * batch, 1)?,
            correct_rows: ctx.zeros("discriminator.correct_rows", models * batch, 1)?,
            models,
        })
    }

    /// Each model's mean of `rows` (`scale` = 1 / its rows) into its slot `slot` of `metrics`.
    fn mean_into(&self, k: &Kernels, rows: &GpuTensor, metrics: &GpuTensor, slot: usize, scale: f32) -> Result<Dispatch, GpuError> {
        k.sum_all_of_models(rows, metrics, self.models, (slot, METRICS), scale, false)
    }

    /// 1 / one model's rows in `x` (the scale of a mean over its batch).
    fn mean_scale(&self, x: &GpuTensor) -> f32 {
        1.0 / (x.rows() / self.models) as f32
    }

    /// D on `x` (real) and `fake`: losses and accuracies (means over the batch) into the D slots of
    /// `metrics`, then D's parameter gradients, real written and fake accumulated.
    pub(crate) fn push_discriminator_gradients(
        &self,
        k: &Kernels,
        net: &Mlp,
        x: &GpuTensor,
        fake: &GpuTensor,
        metrics: &GpuTensor,
        s: &mut Schedule,
    ) -> Result<(), GpuError> {
        let scale = self.mean_scale(x);
        let scales = vec![scale; self.models];
        self.real.forward(k, net, x, s)?;
        self.fake.forward(k, net, fake, s)?;
        for (pass, label, loss_slot, acc_slot) in [(&self.real, GanLabel::Real, LOSS_REAL, ACC_REAL), (&self.fake, GanLabel::Fake, LOSS_FAKE, ACC_FAKE)] {
            s.push(k.gan_forward(pass.output()?, label, &self.loss_rows, &self.correct_rows)?);
            s.push(self.mean_into(k, &self.loss_rows, metrics, loss_slot, scale)?);
            s.push(self.mean_into(k, &self.correct_rows, metrics, acc_slot, scale)?);
        }
        s.push(k.gan_backward_of_models(self.real.output()?, GanLabel::Real, self.real.output_grad()?, &scales, false)?);
        self.real.backward(k, net, x, None, false, s)?;
        s.push(k.gan_backward_of_models(self.fake.output()?, GanLabel::Fake, self.fake.output_grad()?, &scales, false)?);
        self.fake.backward(k, net, fake, None, true, s)
    }

    /// D on held-out real rows `x`: loss and accuracy means (`scale` = 1/rows evaluated) added to
    /// slots EVAL_LOSS and EVAL_ACC of `sums`, chunk after chunk; no gradient.
    pub(crate) fn push_held_out(&self, k: &Kernels, net: &Mlp, x: &GpuTensor, sums: &GpuTensor, scale: f32, s: &mut Schedule) -> Result<(), GpuError> {
        self.real.forward(k, net, x, s)?;
        s.push(k.gan_forward(self.real.output()?, GanLabel::Real, &self.loss_rows, &self.correct_rows)?);
        s.push(k.sum_all(&self.loss_rows, sums, EVAL_LOSS, scale, true)?);
        s.push(k.sum_all(&self.correct_rows, sums, EVAL_ACC, scale, true)?);
        Ok(())
    }

    /// The non-saturating generator loss −log σ(D(fake)) through a frozen D: its mean into
    /// metrics[G_LOSS] and `grad_scale` · ∂loss/∂fake into the fakes' gradient. Returns the
    /// dispatch that carries `grad_scale` (the VAE-GAN's γ/batch is a knob).
    pub(crate) fn push_generator_signal(
        &self,
        k: &Kernels,
        net: &Mlp,
        fakes: Fakes<'_>,
        metrics: &GpuTensor,
        grad_scale: f32,
        s: &mut Schedule,
    ) -> Result<Tuned<LossParams>, GpuError> {
        let scale = self.mean_scale(fakes.rows);
        self.fake.forward(k, net, fakes.rows, s)?;
        s.push(k.gan_forward(self.fake.output()?, GanLabel::Real, &self.loss_rows, &self.correct_rows)?);
        s.push(self.mean_into(k, &self.loss_rows, metrics, G_LOSS, scale)?);
        let scales = vec![grad_scale; self.models];
        let carrying = s.push_tuned(k.gan_backward_of_models(self.fake.output()?, GanLabel::Real, self.fake.output_grad()?, &scales, false)?)?;
        self.fake.backward_input_only(k, net, fakes.rows, fakes.grad, s)?;
        Ok(carrying)
    }
}
