//! K VAEs of one shape trained as one (a sweep's models): one recorded step whose dispatches each
//! cover every model, so K models cost about the dispatches of one.
//!
//! The parameters, gradients and optimizer moments live in the [stacked](ParamLayout::stacked)
//! layout (each slot holds the K models' tensors one after another), so a layer of K models is one
//! batched matmul; activations stack the K batches. Every knob is the member's own: β in the KL's
//! block, λ₁ and λ₂ in the penalties', p in each dropout matmul's table, the optimizer's settings
//! in its blocks (a run of blocks per model, since a model's parameters are a range per slot here,
//! cut into chunks: see `Stacked::update_blocks`).
//! Each member's parameters after any number of steps are, bit for bit, what the same model
//! computes alone ([`GpuVae`](super::GpuVae)); its penalty *value* (a metric) is summed slot by
//! slot, so it differs from the single model's in the last bits. VAE-GANs
//! ([`with_discriminator`](BatchedVae::with_discriminator)) add the discriminators' D step and the
//! generator term (`batched_adversary`), a round being one D step then one VAE step, as alone.

use std::sync::Arc;

use latent_core::data::{Rows, RunData};
use latent_core::engine::{ModelError, MAX_BATCH};
use latent_core::model::vae::{DECODER_DROPOUT_STREAM, ENCODER_DROPOUT_STREAM, REPARAM_STREAM};
use latent_core::model::{Likelihood, ParamLayout, StepMetrics, VaeArch, VaeGanArch, VaeGanMetrics};
use latent_core::Knobs;

use super::batched_adversary::{BatchedAdversary, BesideVaes};
use super::core::{reconstruction_rows, KL, PENALTY, RECONSTRUCTION, TRAIN_COUNTER};
use super::dataset::GpuDataset;
use super::step_metrics::{MetricSums, SLOTS};
use crate::context::GpuContext;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::{DropoutDispatches, NetBuffers};
use crate::ops::{set_model_drop_probability, DropoutSpec, GatherSpec, IndexSlice, PenaltySlots, ReparamSpec};
use crate::params::{KlParams, LossParams};
use crate::readback::read_f32;
use crate::stacked::{MemberUpdate, MemberUpdates, Stacked, UpdateBuffers};
use crate::tensor::GpuTensor;

/// One model of a batched VAE: its knobs, its initial parameters (the arch's layout) and the
/// training rows it visits, in order (a fold's, or the run's).
#[derive(Clone, Copy, Debug)]
pub struct BatchedMember<'a> {
    pub knobs: &'a Knobs,
    pub init: &'a [f32],
    pub train: &'a [u32],
}

/// The knob-carrying dispatches of the batched step beside the update's: each holds a block per
/// model.
#[derive(Debug)]
struct MemberKnobs {
    dropout: DropoutDispatches,
    kl_backward: Tuned<KlParams>,
    update: MemberUpdates,
    /// The VAE-GAN's generator term, whose scale is γ/batch.
    gamma: Option<Tuned<LossParams>>,
}

/// K VAEs of one shape on the GPU, trained in one recorded step.
#[derive(Debug)]
pub struct BatchedVae {
    arch: VaeArch,
    ctx: GpuContext,
    members: usize,
    batch: usize,
    params: GpuTensor,
    counters: GpuTensor,
    metrics: MetricSums,
    step: Schedule,
    knobs: MemberKnobs,
    /// The VAE-GANs' discriminators and D step; `None` for plain VAEs.
    adversary: Option<Box<BatchedAdversary>>,
    /// Buffers the step's bind groups use, held for as long as it lives.
    _buffers: Vec<GpuTensor>,
    _nets: [NetBuffers; 2],
    _dataset: GpuDataset,
}

impl BatchedVae {
    /// Uploads `data`'s rows once with every member's training list, stacks the members' initial
    /// parameters and records the step. Refused by name: no members, a batch outside
    /// 1..=[`MAX_BATCH`], an empty or out-of-range training list, parameters of another length,
    /// an invalid knob, more models than one dispatch holds.
    pub fn new(kernels: &Kernels, data: &Arc<RunData>, arch: VaeArch, setup: (usize, u32), members: &[BatchedMember<'_>]) -> Result<Self, ModelError> {
        Self::build(kernels, data, arch, None, setup, members)
    }

    /// K VAE-GANs: as [`new`](Self::new), with each member's discriminator starting from
    /// `d_inits[member]` (in `arch.d_layout`). Also refused by name: a discriminator count other
    /// than the members', discriminator parameters of another length.
    pub fn with_discriminator(
        kernels: &Kernels,
        data: &Arc<RunData>,
        arch: VaeGanArch,
        setup: (usize, u32),
        members: &[BatchedMember<'_>],
        d_inits: &[&[f32]],
    ) -> Result<Self, ModelError> {
        let invalid = |message: String| ModelError::from(GpuError::invalid("batched vae-gan", message));
        if d_inits.len() != members.len() {
            return Err(invalid(format!("{} discriminators for {} members", d_inits.len(), members.len())));
        }
        if let Some(z) = d_inits.iter().position(|init| init.len() != arch.d_layout.len) {
            return Err(invalid(format!("member {z}'s discriminator parameters: {} values, the layout holds {}", d_inits[z].len(), arch.d_layout.len)));
        }
        Self::build(kernels, data, arch.vae.clone(), Some((&arch, d_inits)), setup, members)
    }

    fn build(
        kernels: &Kernels,
        data: &Arc<RunData>,
        arch: VaeArch,
        discriminators: Option<(&VaeGanArch, &[&[f32]])>,
        (batch, seed): (usize, u32),
        members: &[BatchedMember<'_>],
    ) -> Result<Self, ModelError> {
        let invalid = |message: String| ModelError::from(GpuError::invalid("batched vae", message));
        if members.is_empty() {
            return Err(invalid("a batched VAE needs at least one member".into()));
        }
        if batch == 0 || batch > MAX_BATCH {
            return Err(invalid(format!("batch size {batch} is outside 1..={MAX_BATCH}")));
        }
        let rows = match &data.rows {
            Rows::Pixels(bytes) => bytes.len(),
            Rows::Points(points) => points.len(),
        } / data.dim.max(1);
        for (z, member) in members.iter().enumerate() {
            member.knobs.validate()?;
            if member.train.is_empty() || member.train.iter().any(|&row| row as usize >= rows) {
                return Err(invalid(format!("member {z}'s training rows are empty or outside the {rows} rows")));
            }
            if member.init.len() != arch.layout.len {
                return Err(invalid(format!("member {z}'s parameters: {} values, the layout holds {}", member.init.len(), arch.layout.len)));
            }
        }
        let ctx = kernels.context().clone();
        let inits: Vec<&[f32]> = members.iter().map(|m| m.init).collect();
        let stacked = arch.layout.stacked(members.len());
        let init = arch.layout.stack(&inits).ok_or_else(|| invalid("the members' parameters do not stack".into()))?;
        let train: Vec<u32> = members.iter().flat_map(|m| m.train.iter().copied()).collect();
        let dataset = GpuDataset::upload_lists(&ctx, data, &train, &data.test)?;
        let mut slices = Vec::with_capacity(members.len());
        for member in members {
            let first = slices.last().map_or(0, |s: &IndexSlice| s.first + s.len);
            slices.push(IndexSlice { first, len: member.train.len() });
        }
        let buffers = StepBuffers::new(&ctx, &arch, &stacked, members.len(), batch, &init)?;
        let metrics = MetricSums::of_models(&ctx, "batched_vae", arch.spec.latent, members.len())?;
        let shape = Shape { arch: &arch, stacked: &stacked, members: members.len(), batch, seed };
        let adversary = discriminators
            .map(|(gan_arch, d_inits)| {
                let beside = BesideVaes {
                    stacked: &stacked,
                    params: &buffers.params,
                    grads: &buffers.grads,
                    x: &buffers.activations[0],
                    dataset: &dataset,
                    slices: &slices,
                    members: members.len(),
                    batch,
                    seed,
                };
                BatchedAdversary::record(kernels, &ctx, gan_arch, beside, d_inits).map(Box::new)
            })
            .transpose()?;
        let generator_term = adversary.as_deref().zip(discriminators.map(|(gan_arch, _)| gan_arch));
        let (step, knobs) = record_step(kernels, shape, &buffers, &dataset, &slices, &metrics, generator_term)?;
        let StepBuffers { params, grads, moments, mask, counters, activations, nets } = buffers;
        let mut model = Self {
            arch,
            ctx,
            members: members.len(),
            batch,
            params,
            counters,
            metrics,
            step,
            knobs,
            adversary,
            _buffers: [grads, mask].into_iter().chain(moments).chain(activations).collect(),
            _nets: nets,
            _dataset: dataset,
        };
        for (z, member) in members.iter().enumerate() {
            model.set_member_knobs(z, member.knobs)?;
        }
        Ok(model)
    }

    /// How many models train here.
    pub fn members(&self) -> usize {
        self.members
    }

    /// The recorded step (one replay trains every member one step).
    pub fn step_schedule(&self) -> &Schedule {
        &self.step
    }

    /// Member `member`'s knobs: writes into its blocks only; the others train on as they were.
    pub fn set_member_knobs(&mut self, member: usize, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        if member >= self.members {
            return Err(GpuError::invalid("batched vae", format!("no member {member} of {}", self.members)).into());
        }
        let (ctx, step, k) = (&self.ctx, &self.step, &self.knobs);
        for &matmul in &k.dropout {
            step.retune(ctx, matmul, |block| set_model_drop_probability(block, member, knobs.dropout))?;
        }
        let batch = self.batch as f32;
        step.retune_model(ctx, k.kl_backward, member, |block| {
            block.scale = knobs.beta / batch;
            Ok(())
        })?;
        let (adam, sgd) = knobs.updates();
        k.update.apply(ctx, step, member, MemberUpdate { l1: knobs.l1, l2: knobs.l2, adam, sgd: Some(sgd) })?;
        if let (Some(adversary), Some(gamma)) = (&self.adversary, k.gamma) {
            step.retune_model(ctx, gamma, member, |block| {
                block.scale = knobs.gamma / batch;
                Ok(())
            })?;
            adversary.set_member_knobs(ctx, member, knobs)?;
        }
        Ok(())
    }

    /// `steps` steps of every member (VAE-GANs: rounds of one D step, then one VAE step), in one
    /// submission; returns without waiting.
    pub fn train(&mut self, steps: usize) -> Result<(), ModelError> {
        match &self.adversary {
            Some(adversary) => crate::gan::submit_rounds(&self.ctx, [&adversary.d_step, &self.step], 1, steps)?,
            None => self.step.submit(&self.ctx, steps)?,
        }
        self.metrics.note_steps(steps);
        Ok(())
    }

    /// Each VAE-GAN member's metrics: its VAE's terms (means since the last read, as
    /// [`member_metrics`](Self::member_metrics)) with its D's terms and generator loss of the
    /// latest round. Plain VAEs' have no discriminator terms (zeros).
    pub async fn member_vae_gan_metrics(&self) -> Result<Vec<VaeGanMetrics>, ModelError> {
        let vaes = self.member_metrics().await?;
        match &self.adversary {
            Some(adversary) => Ok(adversary.member_metrics(&self.ctx, vaes).await?),
            None => Ok(vaes.into_iter().map(|vae| VaeGanMetrics { vae, ..VaeGanMetrics::default() }).collect()),
        }
    }

    /// Each VAE-GAN member's discriminator parameters, in the arch's D layout (empty for plain VAEs).
    pub async fn member_discriminator_parameters(&self) -> Result<Vec<Vec<f32>>, ModelError> {
        match &self.adversary {
            Some(adversary) => Ok(adversary.member_parameters(&self.ctx).await?),
            None => Ok(vec![Vec::new(); self.members]),
        }
    }

    /// D steps taken (0 for plain VAEs).
    pub async fn discriminator_steps_done(&self) -> Result<u32, ModelError> {
        match &self.adversary {
            Some(adversary) => Ok(adversary.steps_done(&self.ctx).await?),
            None => Ok(0),
        }
    }

    /// Each member's training metrics, the means over the steps since the last call.
    pub async fn member_metrics(&self) -> Result<Vec<StepMetrics>, ModelError> {
        self.ctx.check_no_uncaptured_errors("batched vae step")?;
        Ok(self.metrics.read_models(&self.ctx).await?)
    }

    /// Each member's parameters, in the arch's layout (one readback for all).
    pub async fn member_parameters(&self) -> Result<Vec<Vec<f32>>, ModelError> {
        let stacked = read_f32(&self.ctx, &self.params).await?;
        (0..self.members)
            .map(|z| self.arch.layout.unstack(&stacked, self.members, z).ok_or_else(|| GpuError::invalid("batched vae", "parameters read back short").into()))
            .collect()
    }

    /// Steps taken (every member takes each one).
    pub async fn steps_done(&self) -> Result<u32, ModelError> {
        let counts = crate::readback::read_u32(&self.ctx, &self.counters).await?;
        Ok(counts.first().copied().unwrap_or(0))
    }
}

/// What the step is recorded for.
#[derive(Clone, Copy)]
struct Shape<'a> {
    arch: &'a VaeArch,
    stacked: &'a ParamLayout,
    members: usize,
    batch: usize,
    seed: u32,
}

/// Every buffer of the batched step, made before it is recorded.
struct StepBuffers {
    params: GpuTensor,
    grads: GpuTensor,
    /// Adam's m and v, SGD's velocity.
    moments: [GpuTensor; 3],
    mask: GpuTensor,
    counters: GpuTensor,
    /// x, z, ε, ∂z, the per-row loss and this step's KL per dimension, each stacking the members.
    activations: [GpuTensor; 6],
    /// Encoder, decoder.
    nets: [NetBuffers; 2],
}

impl StepBuffers {
    fn new(ctx: &GpuContext, arch: &VaeArch, stacked: &ParamLayout, members: usize, batch: usize, init: &[f32]) -> Result<Self, GpuError> {
        let (len, latent, rows) = (stacked.len, arch.spec.latent, members * batch);
        let params = ctx.upload_f32("batched_vae.params", 1, len, init)?;
        let grads = ctx.zeros("batched_vae.grads", 1, len)?;
        let moments = [ctx.zeros("batched_vae.adam_m", 1, len)?, ctx.zeros("batched_vae.adam_v", 1, len)?, ctx.zeros("batched_vae.sgd_velocity", 1, len)?];
        let mask = ctx.upload_f32("batched_vae.penalty_mask", 1, len, &stacked.penalty_mask::<f32>())?;
        let counters = ctx.upload_u32("batched_vae.counters", 1, 2, &[0, 0])?;
        let activations = [
            ctx.zeros("batched_vae.batch", rows, arch.spec.data_dim)?,
            ctx.zeros("batched_vae.z", rows, latent)?,
            ctx.zeros("batched_vae.eps", rows, latent)?,
            ctx.zeros("batched_vae.dz", rows, latent)?,
            ctx.zeros("batched_vae.loss_per_sample", rows, 1)?,
            ctx.zeros("batched_vae.kl_per_dim", members, latent)?,
        ];
        let nets = [
            NetBuffers::of_models(ctx, stacked, &arch.encoder, "batched_vae.encoder", (batch, members), &params, &grads)?,
            NetBuffers::of_models(ctx, stacked, &arch.decoder, "batched_vae.decoder", (batch, members), &params, &grads)?,
        ];
        Ok(Self { params, grads, moments, mask, counters, activations, nets })
    }
}

/// The step, dispatch for dispatch [`VaeCore`](super::core::VaeCore)'s, each dispatch over every
/// member; knob-carrying dispatches recorded neutral and returned.
fn record_step(
    k: &Kernels,
    shape: Shape<'_>,
    b: &StepBuffers,
    dataset: &GpuDataset,
    slices: &[IndexSlice],
    metrics: &MetricSums,
    adversary: Option<(&BatchedAdversary, &VaeGanArch)>,
) -> Result<(Schedule, MemberKnobs), GpuError> {
    let Shape { arch, stacked, members, batch, seed } = shape;
    let [x, z, eps, dz, per_row, kl_per_dim] = &b.activations;
    let [enc, dec] = &b.nets;
    let counters = &b.counters;
    let scale = 1.0 / batch as f32;
    let mut s = Schedule::new(format!("batched vae step ×{members}"));
    s.push(k.gather_of_models(&dataset.data, &dataset.indices, counters, x, slices, GatherSpec { index_base: 0, cursor_counter: Some(TRAIN_COUNTER) })?);
    let dropout_at = |stream| (DropoutSpec { p: 0.0, seed, stream, counter_index: TRAIN_COUNTER }, counters);
    let (enc_drop, dec_drop) = (dropout_at(ENCODER_DROPOUT_STREAM), dropout_at(DECODER_DROPOUT_STREAM));
    let mut dropout = enc.forward_with_dropout(k, &arch.encoder, x, Some(enc_drop), &mut s)?;
    let (h, dh) = (enc.output()?, enc.output_grad()?);
    let reparam = ReparamSpec { seed, stream: REPARAM_STREAM, counter_index: TRAIN_COUNTER, sample: true };
    s.push(k.reparam_forward_of_models(h, z, eps, counters, reparam, members)?);
    dropout.extend(dec.forward_with_dropout(k, &arch.decoder, z, Some(dec_drop), &mut s)?);
    let (out, d_out) = (dec.output()?, dec.output_grad()?);
    s.push(reconstruction_rows(k, arch.spec.likelihood, out, x, per_row)?);
    s.push(k.sum_all_of_models(per_row, &metrics.sums, members, (RECONSTRUCTION, SLOTS), scale, true)?);
    s.push(match arch.spec.likelihood {
        Likelihood::Bernoulli => k.bce_backward(out, x, d_out, scale, false)?,
        Likelihood::Gaussian { inv_var } => k.gaussian_backward(out, x, d_out, inv_var, scale, false)?,
    });
    s.push(k.kl_forward_of_models(h, kl_per_dim, &vec![scale; members])?);
    s.push(k.sum_all_of_models(kl_per_dim, &metrics.sums, members, (KL, SLOTS), 1.0, true)?);
    s.push(k.column_sums_of_models(kl_per_dim, &metrics.kl_sums, members, 1.0, true)?);
    dropout.extend(dec.backward_with_dropout(k, &arch.decoder, z, Some(dz), dec_drop, &mut s)?);
    s.push(k.reparam_backward_of_models(h, eps, dz, dh, false, members)?);
    let kl_backward = s.push_tuned(k.kl_backward_of_models(h, dh, &vec![0.0; members], true)?)?;
    dropout.extend(enc.backward_with_dropout(k, &arch.encoder, x, None, enc_drop, &mut s)?);
    // The penalty's value is taken here, after the backward passes, not before them as the single
    // model does: nothing writes the parameters in between, so it is the same value. Its gradient
    // goes in before the VAE-GAN's generator term, as the single model adds them (another order of
    // the same additions would round differently).
    let stacking = Stacked { layout: &arch.layout, stacked, models: members };
    let [m, v, velocity] = &b.moments;
    let buffers = UpdateBuffers {
        params: &b.params,
        penalty_mask: &b.mask,
        grads: &b.grads,
        moments: [m, v],
        velocity: Some(velocity),
        counter: (counters, TRAIN_COUNTER),
    };
    let slots = PenaltySlots { out: &metrics.sums, index: PENALTY, accumulate: true };
    let penalties = stacking.push_penalties(k, &mut s, &buffers, (slots, SLOTS))?;
    let gamma = adversary.map(|(adversary, gan_arch)| adversary.push_generator_term(k, gan_arch, counters, &mut s)).transpose()?;
    let update = stacking.push_optimizers(k, &mut s, buffers, penalties)?;
    s.push(k.advance_counter(counters, TRAIN_COUNTER, 1)?);
    Ok((s, MemberKnobs { dropout, kl_backward, update, gamma }))
}
