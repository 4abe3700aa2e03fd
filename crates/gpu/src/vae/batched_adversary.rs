//! The VAE-GAN's share of a batched step
//! ([`BatchedVae::with_discriminator`](super::BatchedVae::with_discriminator)): K discriminators
//! stacked as the K VAEs are, a D step whose dispatches each cover every member, and the generator
//! term (γ · −log σ(D(decoded prior codes))) recorded into the VAE step before its update. Dispatch
//! for dispatch the single model's [`Adversary`](super::adversarial::Adversary), so each member
//! trains bit for bit as it does alone.

use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM};
use latent_core::model::{ParamLayout, VaeGanArch, VaeGanMetrics};
use latent_core::Knobs;

use super::core::{mean_of_likelihood, TRAIN_COUNTER};
use super::dataset::GpuDataset;
use crate::context::GpuContext;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::gan::discriminator::{discriminator_metrics, DiscriminatorPasses, Fakes, NetParams, D_PENALTY, G_LOSS, METRICS};
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, IndexSlice, PenaltySlots, ReparamSpec};
use crate::params::LossParams;
use crate::readback::{read_f32, read_u32};
use crate::stacked::{MemberUpdate, MemberUpdates, Stacked};
use crate::tensor::GpuTensor;

/// The D step's counter, in its own buffer (the VAEs' counters are the VAE step and evaluation).
const D_COUNTER: u32 = 0;

/// The batched VAEs' buffers and shape the discriminators train beside.
pub(super) struct BesideVaes<'a> {
    /// The VAEs' stacked layout, parameters and gradients: the prior codes' decoder shares them.
    pub(super) stacked: &'a ParamLayout,
    pub(super) params: &'a GpuTensor,
    pub(super) grads: &'a GpuTensor,
    /// The real rows' batch buffer (every member's batch), the D step's real side.
    pub(super) x: &'a GpuTensor,
    pub(super) dataset: &'a GpuDataset,
    pub(super) slices: &'a [IndexSlice],
    pub(super) members: usize,
    pub(super) batch: usize,
    pub(super) seed: u32,
}

/// K discriminators, their D step and the decoder passes over prior codes.
#[derive(Debug)]
pub(super) struct BatchedAdversary {
    discriminator: NetParams,
    d_layout: ParamLayout,
    d_counters: GpuTensor,
    /// [`METRICS`] slots per member: D's losses, accuracies and L2 term, the generator loss.
    gan_metrics: GpuTensor,
    pub(super) d_step: Schedule,
    d_updates: MemberUpdates,
    prior_decoder: NetBuffers,
    passes: DiscriminatorPasses,
    /// A zero posterior (μ = 0, logσ² = 0: the prior), prior codes, their noise, the decoded means
    /// (the fakes) and their gradient, each stacking the members' rows.
    rows: [GpuTensor; 5],
    members: usize,
    seed: u32,
}

impl BatchedAdversary {
    /// Stacks the members' discriminators (`d_inits`, in `arch.d_layout`) beside the VAEs' buffers
    /// and records the D step.
    pub(super) fn record(k: &Kernels, ctx: &GpuContext, arch: &VaeGanArch, vaes: BesideVaes<'_>, d_inits: &[&[f32]]) -> Result<Self, GpuError> {
        let BesideVaes { stacked, params, grads, x, dataset, slices, members, batch, seed } = vaes;
        let (latent, dim, likelihood) = (arch.vae.spec.latent, arch.vae.spec.data_dim, arch.vae.spec.likelihood);
        let d_stacked = arch.d_layout.stacked(members);
        let init = arch.d_layout.stack(d_inits).ok_or_else(|| GpuError::invalid("batched vae-gan", "the members' discriminator parameters do not stack"))?;
        let discriminator = NetParams::new(ctx, "batched_vae_gan.discriminator", &d_stacked, &init)?;
        let passes = DiscriminatorPasses::of_models(ctx, &d_stacked, &arch.discriminator, &discriminator, (batch, members))?;
        let prior_decoder = NetBuffers::of_models(ctx, stacked, &arch.vae.decoder, "batched_vae_gan.decoder.prior", (batch, members), params, grads)?;
        let d_counters = ctx.upload_u32("batched_vae_gan.d_counters", 1, 1, &[0])?;
        let gan_metrics = ctx.zeros("batched_vae_gan.gan_metrics", members, METRICS)?;
        let n = members * batch;
        let rows = [
            ctx.zeros("batched_vae_gan.zero_posterior", n, 2 * latent)?,
            ctx.zeros("batched_vae_gan.z_prior", n, latent)?,
            ctx.zeros("batched_vae_gan.eps_prior", n, latent)?,
            ctx.zeros("batched_vae_gan.fake", n, dim)?,
            ctx.zeros("batched_vae_gan.fake_grad", n, dim)?,
        ];
        let [zero_posterior, z_prior, eps_prior, fake, _] = &rows;

        // The D step: every member's training batch against its decoder's means on prior codes.
        let mut d = Schedule::new(format!("batched vae_gan discriminator step ×{members}"));
        d.push(k.gather_of_models(&dataset.data, &dataset.indices, &d_counters, x, slices, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        let noise = ReparamSpec { seed, stream: D_NOISE_STREAM, counter_index: D_COUNTER, sample: true };
        d.push(k.reparam_forward_of_models(zero_posterior, z_prior, eps_prior, &d_counters, noise, members)?);
        prior_decoder.forward(k, &arch.vae.decoder, z_prior, &mut d)?;
        d.push(mean_of_likelihood(k, likelihood, prior_decoder.output()?, fake)?);
        passes.push_discriminator_gradients(k, &arch.discriminator, x, fake, &gan_metrics, &mut d)?;
        let stacking = Stacked { layout: &arch.d_layout, stacked: &d_stacked, models: members };
        let penalty = PenaltySlots { out: &gan_metrics, index: D_PENALTY, accumulate: false };
        let d_updates = stacking.push_update(k, &mut d, discriminator.stacked_update((&d_counters, D_COUNTER)), (penalty, METRICS))?;
        d.push(k.advance_counter(&d_counters, D_COUNTER, 1)?);

        Ok(Self { discriminator, d_layout: arch.d_layout.clone(), d_counters, gan_metrics, d_step: d, d_updates, prior_decoder, passes, rows, members, seed })
    }

    /// Records the generator term into the VAE step (after its gradients, before its update):
    /// γ · the generator loss through the frozen D and the mean map, accumulated onto the
    /// decoders' gradients. Returns the dispatch that carries each member's γ/batch.
    pub(super) fn push_generator_term(&self, k: &Kernels, arch: &VaeGanArch, counters: &GpuTensor, s: &mut Schedule) -> Result<Tuned<LossParams>, GpuError> {
        let [zero_posterior, z_prior, eps_prior, fake, fake_grad] = &self.rows;
        let (decoder, likelihood) = (&arch.vae.decoder, arch.vae.spec.likelihood);
        let noise = ReparamSpec { seed: self.seed, stream: G_NOISE_STREAM, counter_index: TRAIN_COUNTER, sample: true };
        s.push(k.reparam_forward_of_models(zero_posterior, z_prior, eps_prior, counters, noise, self.members)?);
        self.prior_decoder.forward(k, decoder, z_prior, s)?;
        s.push(mean_of_likelihood(k, likelihood, self.prior_decoder.output()?, fake)?);
        let gamma = self.passes.push_generator_signal(k, &arch.discriminator, Fakes { rows: fake, grad: fake_grad }, &self.gan_metrics, 0.0, s)?;
        s.push(k.activation_backward(fake, fake_grad, self.prior_decoder.output_grad()?, likelihood.mean_activation(), false)?);
        self.prior_decoder.backward(k, decoder, z_prior, None, true, s)?;
        Ok(gamma)
    }

    /// Member `member`'s D knobs (λ₂ and Adam of the discriminator); γ is the VAE step's.
    pub(super) fn set_member_knobs(&self, ctx: &GpuContext, member: usize, knobs: &Knobs) -> Result<(), GpuError> {
        let update = MemberUpdate { l1: 0.0, l2: knobs.l2_discriminator(), adam: knobs.adam_discriminator(), sgd: None };
        self.d_updates.apply(ctx, &self.d_step, member, update)
    }

    /// Each member's VAE-GAN metrics: `vaes` (its VAE's terms) with its D's terms and generator
    /// loss of the latest round (one readback for all).
    pub(super) async fn member_metrics(&self, ctx: &GpuContext, vaes: Vec<latent_core::model::StepMetrics>) -> Result<Vec<VaeGanMetrics>, GpuError> {
        let values = read_f32(ctx, &self.gan_metrics).await?;
        Ok(vaes
            .into_iter()
            .zip(values.chunks(METRICS))
            .map(|(vae, v)| VaeGanMetrics { vae, discriminator: discriminator_metrics(v), generator_loss: v.get(G_LOSS).copied().map_or(f64::NAN, f64::from) })
            .collect())
    }

    /// Each member's discriminator parameters, in the arch's D layout (one readback for all).
    pub(super) async fn member_parameters(&self, ctx: &GpuContext) -> Result<Vec<Vec<f32>>, GpuError> {
        let stacked = read_f32(ctx, &self.discriminator.params).await?;
        (0..self.members)
            .map(|z| {
                self.d_layout.unstack(&stacked, self.members, z).ok_or_else(|| GpuError::invalid("batched vae-gan", "discriminator parameters read back short"))
            })
            .collect()
    }

    /// D steps taken (every member takes each one).
    pub(super) async fn steps_done(&self, ctx: &GpuContext) -> Result<u32, GpuError> {
        Ok(read_u32(ctx, &self.d_counters).await?.first().copied().unwrap_or(0))
    }
}
