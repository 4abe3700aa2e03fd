//! The VAE-GAN compiled for the GPU: the VAE's buffers and schedules ([`VaeCore`]) with a
//! discriminator beside them, a recorded D step and a recorded VAE step that adds γ · the generator
//! loss, mirroring `latent_core::model::VaeGanCpu` dispatch for dispatch.
//!
//! The decoder's adversarial passes (fakes for D, and the generator term) run on a second set of
//! decoder activations over prior codes (the reparameterization kernel with μ = 0, logσ² = 0, as
//! the GAN draws its noise), sharing the decoder's parameter and gradient buffers: the generator
//! term's gradient is accumulated onto the VAE's before the one Adam step.

use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM};
use latent_core::model::{StepMetrics, VaeGanArch, VaeGanKnobs, VaeGanMetrics};

use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::gan::{discriminator_metrics, DiscriminatorPasses, NetParams, D_PENALTY, G_LOSS, METRICS};
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, ReparamSpec};
use crate::params::LossParams;
use crate::readback::{read_f32, read_u32};
use crate::tensor::GpuTensor;
use crate::vae::{gather_rows, mean_of_likelihood, EvalMetrics, EvalSplit, GpuDataset, KnobDispatches, LatentCodes, VaeCore, TRAIN_COUNTER};

/// The D step's counter, in its own buffer (the VAE's counters are the VAE step and evaluation).
const D_COUNTER: u32 = 0;

/// A VAE-GAN living on the GPU.
#[derive(Debug)]
pub struct GpuVaeGan {
    arch: VaeGanArch,
    vae: VaeCore,
    discriminator: NetParams,
    d_counters: GpuTensor,
    /// D's losses, accuracies and L2 term, and the generator loss, in the GAN's slots.
    gan_metrics: GpuTensor,
    d_step: Schedule,
    vae_step: Schedule,
    vae_knobs: KnobDispatches,
    d_knobs: [usize; 3],
    /// The generator loss's backward, whose scale is γ/batch.
    gamma_dispatch: usize,
    // Held for the schedules' bind groups.
    _nets: (NetBuffers, DiscriminatorPasses),
    _buffers: Vec<GpuTensor>,
}

impl GpuVaeGan {
    /// Allocates everything for `arch` at `batch` and records the D and VAE steps.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kernels: &Kernels,
        arch: VaeGanArch,
        vae_init: &[f32],
        d_init: &[f32],
        dataset: GpuDataset,
        batch: usize,
        seed: u32,
        knobs: VaeGanKnobs,
    ) -> Result<Self, GpuError> {
        knobs.check_gamma()?;
        let k = kernels;
        let vae = VaeCore::new(k, "vae_gan", arch.vae.clone(), vae_init, dataset, batch, seed)?;
        let ctx = vae.ctx.clone();
        let (latent, dim, likelihood) = (arch.vae.spec.latent, arch.vae.spec.data_dim, arch.vae.spec.likelihood);
        let decoder = &arch.vae.decoder;
        let discriminator = NetParams::new(&ctx, "discriminator", &arch.d_layout, d_init)?;
        let passes = DiscriminatorPasses::new(&ctx, &arch.d_layout, &arch.discriminator, &discriminator, batch)?;
        let prior_dec = NetBuffers::new(&ctx, &arch.vae.layout, decoder, "decoder.prior", batch, &vae.params, &vae.grads)?;
        let d_counters = ctx.upload_u32("vae_gan.d_counters", 1, 1, &[0])?;
        let gan_metrics = ctx.zeros("vae_gan.gan_metrics", 1, METRICS)?;
        let zero_posterior = ctx.zeros("vae_gan.zero_posterior", batch, 2 * latent)?;
        let (z_prior, eps_prior) = (ctx.zeros("vae_gan.z_prior_batch", batch, latent)?, ctx.zeros("vae_gan.eps_prior_batch", batch, latent)?);
        let fake = ctx.zeros("vae_gan.fake", batch, dim)?;
        let fake_grad = ctx.zeros("vae_gan.fake_grad", batch, dim)?;
        let scale = 1.0 / batch as f32;
        let noise = |stream, counter_index| ReparamSpec { seed, stream, counter_index, sample: true };

        // D step: the training batch against the decoder's means on prior codes.
        let mut d = Schedule::new("vae_gan discriminator step");
        let dataset = &vae.dataset;
        d.push(gather_rows(k, dataset, &dataset.indices, &d_counters, &vae.x, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        d.push(k.reparam_forward(&zero_posterior, &z_prior, &eps_prior, &d_counters, noise(D_NOISE_STREAM, D_COUNTER))?);
        prior_dec.forward(k, decoder, &z_prior, &mut d)?;
        d.push(mean_of_likelihood(k, likelihood, prior_dec.output()?, &fake)?);
        passes.push_discriminator_gradients(k, &arch.discriminator, &vae.x, &fake, &gan_metrics, scale, &mut d)?;
        let d_knobs =
            discriminator.push_update(k, &mut d, &gan_metrics, D_PENALTY, &d_counters, D_COUNTER, knobs.l2_discriminator, knobs.adam_discriminator)?;
        d.push(k.advance_counter(&d_counters, D_COUNTER, 1)?);

        // VAE step: the VAE's gradients, then γ · generator loss through the frozen D and the mean
        // map, accumulated onto the decoder's, then one Adam step.
        let mut s = Schedule::new("vae_gan vae step");
        let mut vae_knobs = vae.push_gradients(k, &mut s, knobs.vae)?;
        s.push(k.reparam_forward(&zero_posterior, &z_prior, &eps_prior, &vae.counters, noise(G_NOISE_STREAM, TRAIN_COUNTER))?);
        prior_dec.forward(k, decoder, &z_prior, &mut s)?;
        s.push(mean_of_likelihood(k, likelihood, prior_dec.output()?, &fake)?);
        let gamma_dispatch = passes.push_generator_signal(k, &arch.discriminator, &fake, &fake_grad, &gan_metrics, scale, knobs.gamma * scale, &mut s)?;
        s.push(k.activation_backward(&fake, &fake_grad, prior_dec.output_grad()?, likelihood.mean_activation(), false)?);
        prior_dec.backward(k, decoder, &z_prior, None, true, &mut s)?;
        vae.push_update(k, &mut s, knobs.vae, &mut vae_knobs)?;

        Ok(Self {
            arch,
            vae,
            discriminator,
            d_counters,
            gan_metrics,
            d_step: d,
            vae_step: s,
            vae_knobs,
            d_knobs,
            gamma_dispatch,
            _nets: (prior_dec, passes),
            _buffers: vec![zero_posterior, z_prior, eps_prior, fake, fake_grad],
        })
    }

    pub fn arch(&self) -> &VaeGanArch {
        &self.arch
    }

    pub fn batch(&self) -> usize {
        self.vae.batch
    }

    /// Dispatches per (D step, VAE step).
    pub fn dispatch_counts(&self) -> (usize, usize) {
        (self.d_step.len(), self.vae_step.len())
    }

    /// `rounds` rounds of one D step then one VAE step, one submission; returns without waiting.
    pub fn train(&self, rounds: usize) -> Result<(), GpuError> {
        let ctx = &self.vae.ctx;
        ctx.check_alive()?;
        let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vae_gan rounds") });
        for _ in 0..rounds {
            self.d_step.record(&mut encoder, 1);
            self.vae_step.record(&mut encoder, 1);
        }
        ctx.queue.submit([encoder.finish()]);
        self.vae.note_steps(rounds);
        Ok(())
    }

    /// Changes γ, the VAE's knobs and D's λ₂ and Adam for the following rounds (uniform writes).
    pub fn set_knobs(&self, knobs: VaeGanKnobs) -> Result<(), GpuError> {
        knobs.check_gamma()?;
        let ctx = &self.vae.ctx;
        self.vae.set_knobs(&self.vae_step, &self.vae_knobs, knobs.vae)?;
        let gamma = &self.vae_step.dispatches()[self.gamma_dispatch];
        let params: LossParams = gamma.params().ok_or_else(|| GpuError::invalid("vae-gan", "the generator loss dispatch lost its parameters"))?;
        gamma.update_params(ctx, &LossParams { scale: knobs.gamma / self.vae.batch as f32, ..params })?;
        self.discriminator.set_knobs(ctx, &self.d_step, self.d_knobs, D_PENALTY, D_COUNTER, knobs.l2_discriminator, knobs.adam_discriminator)
    }

    /// The VAE terms as means over the rounds since the last call (as
    /// [`GpuVae::metrics`](crate::GpuVae::metrics)); D's terms and the generator loss of the latest
    /// round. Asynchronous readback; fails if the GPU reported an error.
    pub async fn metrics(&self) -> Result<VaeGanMetrics, GpuError> {
        let vae: StepMetrics = self.vae.metrics("vae_gan round").await?;
        let values = read_f32(&self.vae.ctx, &self.gan_metrics).await?;
        let generator_loss = values.get(G_LOSS).copied().map_or(f64::NAN, f64::from);
        Ok(VaeGanMetrics { vae, discriminator: discriminator_metrics(&values), generator_loss })
    }

    /// Negative ELBO on the held-out rows, exactly as [`GpuVae::evaluate`](crate::GpuVae::evaluate).
    pub async fn evaluate(&self) -> Result<EvalMetrics, GpuError> {
        self.vae.evaluate(EvalSplit::Test).await
    }

    /// Negative ELBO on `split`, as [`GpuVae::evaluate_split`](crate::GpuVae::evaluate_split).
    pub async fn evaluate_split(&self, split: EvalSplit) -> Result<EvalMetrics, GpuError> {
        self.vae.evaluate(split).await
    }

    /// The posterior of every held-out row, as [`GpuVae::latent_codes`](crate::GpuVae::latent_codes).
    pub async fn latent_codes(&self) -> Result<LatentCodes, GpuError> {
        self.vae.latent_codes().await
    }

    /// The decoder's output for caller-given codes, as [`GpuVae::decode`](crate::GpuVae::decode).
    pub async fn decode(&self, z: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.vae.decode(z).await
    }

    /// Keeps a copy of the encoder's and decoder's parameters (early stopping's best).
    pub fn save_best(&self) -> Result<(), GpuError> {
        self.vae.save_best()
    }

    /// Puts the parameters of the last [`save_best`](Self::save_best) back (D is left as it is).
    pub fn restore_best(&self) -> Result<(), GpuError> {
        self.vae.restore_best()
    }

    /// The decoder's mean on the fixed prior noise (`latent_core::model::vae::prior_noise`):
    /// batch × data_dim, pixels in [0, 1].
    pub async fn samples(&self) -> Result<Vec<f32>, GpuError> {
        self.vae.samples().await
    }

    /// The first held-out batch decoded through z = μ (batch × data_dim).
    pub async fn reconstructions(&self) -> Result<Vec<f32>, GpuError> {
        self.vae.reconstructions().await
    }

    /// The encoder's and decoder's parameters (flat, in `arch.vae.layout`'s order).
    pub async fn parameters(&self) -> Result<Vec<f32>, GpuError> {
        read_f32(&self.vae.ctx, &self.vae.params).await
    }

    /// (D steps, VAE steps) done, as the GPU counts them.
    pub async fn steps_done(&self) -> Result<(u32, u32), GpuError> {
        let d = read_u32(&self.vae.ctx, &self.d_counters).await?;
        Ok((d.first().copied().unwrap_or(0), self.vae.steps_done().await?))
    }
}
