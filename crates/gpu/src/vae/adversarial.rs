//! The VAE-GAN's training on the GPU: a discriminator beside the VAE's buffers ([`VaeCore`]), a
//! recorded D step and a recorded VAE step that adds γ · the generator loss, mirroring
//! `latent_core::model::VaeGanCpu` dispatch for dispatch.
//!
//! The decoder's adversarial passes (fakes for D, and the generator term) run on a second set of
//! decoder activations over prior codes (the reparameterization kernel with μ = 0, logσ² = 0, as
//! the GAN draws its noise), sharing the decoder's parameter and gradient buffers: the generator
//! term's gradient is accumulated onto the VAE's before the one optimizer step.

use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM};
use latent_core::model::{ParamLayout, VaeGanArch, VaeGanMetrics};
use latent_core::Knobs;

use super::core::{mean_of_likelihood, VaeCore, TRAIN_COUNTER};
use super::knobs::VaeKnobDispatches;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::gan::discriminator::{discriminator_metrics, DiscriminatorPasses, Fakes, NetParams, UpdateKnobs, D_PENALTY, G_LOSS, METRICS};
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, ReparamSpec};
use crate::params::LossParams;
use crate::readback::{read_f32, read_u32};
use crate::tensor::GpuTensor;

/// The D step's counter, in its own buffer (the VAE's counters are the VAE step and evaluation).
const D_COUNTER: u32 = 0;

/// A discriminator and the two steps of a VAE-GAN round.
#[derive(Debug)]
pub(super) struct Adversary {
    /// D's layout (for its weights' histograms) and parameters.
    pub(super) d_layout: ParamLayout,
    discriminator: NetParams,
    d_counters: GpuTensor,
    /// D's losses, accuracies and L2 term, and the generator loss, in the GAN's slots.
    gan_metrics: GpuTensor,
    d_step: Schedule,
    vae_step: Schedule,
    vae_knobs: VaeKnobDispatches,
    d_knobs: UpdateKnobs,
    /// The generator loss's backward, whose scale is γ/batch.
    gamma: Tuned<LossParams>,
    // Held for the schedules' bind groups.
    _nets: (NetBuffers, DiscriminatorPasses),
    _buffers: Vec<GpuTensor>,
}

impl Adversary {
    /// Allocates D (from `d_init`) beside `vae`'s buffers and records both steps of a round.
    pub(super) fn record(k: &Kernels, vae: &VaeCore, arch: &VaeGanArch, d_init: &[f32]) -> Result<Self, GpuError> {
        let (ctx, batch, seed) = (&vae.ctx, vae.batch, vae.seed);
        let (latent, dim, likelihood) = (arch.vae.spec.latent, arch.vae.spec.data_dim, arch.vae.spec.likelihood);
        let decoder = &arch.vae.decoder;
        let discriminator = NetParams::new(ctx, "discriminator", &arch.d_layout, d_init)?;
        let passes = DiscriminatorPasses::new(ctx, &arch.d_layout, &arch.discriminator, &discriminator, batch)?;
        let prior_dec = NetBuffers::new(ctx, &arch.vae.layout, decoder, "decoder.prior", batch, &vae.params, vae.grads()?)?;
        let d_counters = ctx.upload_u32("vae_gan.d_counters", 1, 1, &[0])?;
        let gan_metrics = ctx.zeros("vae_gan.gan_metrics", 1, METRICS)?;
        let zero_posterior = ctx.zeros("vae_gan.zero_posterior", batch, 2 * latent)?;
        let (z_prior, eps_prior) = (ctx.zeros("vae_gan.z_prior_batch", batch, latent)?, ctx.zeros("vae_gan.eps_prior_batch", batch, latent)?);
        let fake = ctx.zeros("vae_gan.fake", batch, dim)?;
        let fake_grad = ctx.zeros("vae_gan.fake_grad", batch, dim)?;
        let noise = |stream, counter_index| ReparamSpec { seed, stream, counter_index, sample: true };

        // D step: the training batch against the decoder's means on prior codes.
        let mut d = Schedule::new("vae_gan discriminator step");
        let dataset = &vae.dataset;
        d.push(dataset.gather(k, &dataset.indices, &d_counters, &vae.x, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        d.push(k.reparam_forward(&zero_posterior, &z_prior, &eps_prior, &d_counters, noise(D_NOISE_STREAM, D_COUNTER))?);
        prior_dec.forward(k, decoder, &z_prior, &mut d)?;
        d.push(mean_of_likelihood(k, likelihood, prior_dec.output()?, &fake)?);
        passes.push_discriminator_gradients(k, &arch.discriminator, &vae.x, &fake, &gan_metrics, &mut d)?;
        let d_knobs = discriminator.push_update(k, &mut d, &gan_metrics, D_PENALTY, (&d_counters, D_COUNTER))?;
        d.push(k.advance_counter(&d_counters, D_COUNTER, 1)?);

        // VAE step: the VAE's gradients, then γ · generator loss through the frozen D and the mean
        // map, accumulated onto the decoder's, then one optimizer step.
        let mut s = Schedule::new("vae_gan vae step");
        let gradients = vae.push_gradients(k, &mut s)?;
        s.push(k.reparam_forward(&zero_posterior, &z_prior, &eps_prior, &vae.counters, noise(G_NOISE_STREAM, TRAIN_COUNTER))?);
        prior_dec.forward(k, decoder, &z_prior, &mut s)?;
        s.push(mean_of_likelihood(k, likelihood, prior_dec.output()?, &fake)?);
        let gamma = passes.push_generator_signal(k, &arch.discriminator, Fakes { rows: &fake, grad: &fake_grad }, &gan_metrics, 0.0, &mut s)?;
        s.push(k.activation_backward(&fake, &fake_grad, prior_dec.output_grad()?, likelihood.mean_activation(), false)?);
        prior_dec.backward(k, decoder, &z_prior, None, true, &mut s)?;
        let update = vae.push_update(k, &mut s)?;

        Ok(Self {
            d_layout: arch.d_layout.clone(),
            discriminator,
            d_counters,
            gan_metrics,
            d_step: d,
            vae_step: s,
            vae_knobs: VaeKnobDispatches { gradients, update },
            d_knobs,
            gamma,
            _nets: (prior_dec, passes),
            _buffers: vec![zero_posterior, z_prior, eps_prior, fake, fake_grad],
        })
    }

    /// The schedules of a round: the D step, then the VAE step.
    pub(super) fn schedules(&self) -> [&Schedule; 2] {
        [&self.d_step, &self.vae_step]
    }

    /// γ, the VAE's knobs and D's λ₂ and Adam.
    pub(super) fn apply_knobs(&self, vae: &VaeCore, knobs: &Knobs) -> Result<(), GpuError> {
        let ctx = &vae.ctx;
        self.vae_knobs.apply(ctx, &self.vae_step, knobs, vae.batch)?;
        self.vae_step.retune(ctx, self.gamma, |block| {
            block.scale = knobs.gamma / vae.batch as f32;
            Ok(())
        })?;
        self.d_knobs.apply(ctx, &self.d_step, knobs.l2_discriminator(), knobs.adam_discriminator())
    }

    /// `rounds` rounds of one D step then one VAE step, one submission.
    pub(super) fn train(&self, vae: &VaeCore, rounds: usize) -> Result<(), latent_core::engine::ModelError> {
        crate::gan::submit_rounds(&vae.ctx, self.schedules(), 1, rounds)?;
        vae.note_steps(rounds);
        Ok(())
    }

    /// The VAE terms (means since the last read), D's terms and the generator loss of the latest
    /// round. Fails if the GPU reported an error.
    pub(super) async fn metrics(&self, vae: &VaeCore) -> Result<VaeGanMetrics, GpuError> {
        let terms = vae.metrics("vae_gan round").await?;
        let values = read_f32(&vae.ctx, &self.gan_metrics).await?;
        let generator_loss = values.get(G_LOSS).copied().map_or(f64::NAN, f64::from);
        Ok(VaeGanMetrics { vae: terms, discriminator: discriminator_metrics(&values), generator_loss })
    }

    /// D's share of a fork's state: its network, its step counter and the latest round's metrics.
    pub(super) fn state(&self) -> Vec<&GpuTensor> {
        let mut state = self.discriminator.state().to_vec();
        state.extend([&self.d_counters, &self.gan_metrics]);
        state
    }

    /// D steps done, as the GPU counts them.
    pub(super) async fn discriminator_steps(&self, vae: &VaeCore) -> Result<u32, GpuError> {
        Ok(read_u32(&vae.ctx, &self.d_counters).await?.first().copied().unwrap_or(0))
    }

    /// D's parameters, flat in `d_layout`'s order (a sweep's batched step writes them).
    pub(super) fn discriminator_parameters(&self) -> &GpuTensor {
        &self.discriminator.params
    }
}
