//! The VAE compiled for the GPU, with or without a discriminator (the VAE-GAN): every buffer made
//! once for the model's shape ([`VaeCore`](self::core)), recorded training steps that replay with
//! no allocation, uniform write or readback, and the read-only passes behind the views.
//!
//! Files by concern: `dataset` (rows on the GPU), `core` (buffers and the two halves of a step),
//! `knobs` (the knob-carrying dispatches and the one place that writes them), `evaluation`,
//! `views`, `checkpoint` (restore-best), `step_metrics` (sums since the last read),
//! `adversarial` (the VAE-GAN's discriminator and round), and `batched` with
//! `batched_adversary` (a sweep's K VAEs or VAE-GANs as one). [`GpuVae`] puts them together behind
//! the engine seam, [`VaeModel`].

mod adversarial;
mod batched;
mod batched_adversary;
mod checkpoint;
mod core;
mod dataset;
mod evaluation;
mod knobs;
mod step_metrics;
mod views;

use async_trait::async_trait;
use latent_core::engine::{EvalMetrics, EvalSplit, LatentCodes, ModelError, ModelSetup, VaeModel};
use latent_core::model::vae::prior_noise;
use latent_core::model::{ParamLayout, VaeArch, VaeGanArch, VaeGanMetrics};
use latent_core::Knobs;

use self::adversarial::Adversary;
use self::core::{Purpose, VaeCore};
use self::knobs::VaeKnobDispatches;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::readback::read_f32;
use crate::state_copy::copy_state;
use crate::tensor::GpuTensor;
pub use batched::{BatchedMember, BatchedVae};
pub use dataset::{GpuDataset, GpuRows};

/// How a model trains its VAE: alone, in rounds against a discriminator, or not here at all.
#[derive(Debug)]
enum Training {
    Plain {
        step: Schedule,
        knobs: VaeKnobDispatches,
    },
    Adversarial(Box<Adversary>),
    /// Parameters trained elsewhere (a sweep's batched step), scored and drawn here: no training
    /// buffers and no recorded step; a VAE-GAN's discriminator as its layout and parameters only.
    Elsewhere {
        discriminator: Option<(ParamLayout, GpuTensor)>,
    },
}

impl Training {
    /// D's layout and parameters, where there is a discriminator (trained here or elsewhere).
    fn discriminator(&self) -> Option<(&ParamLayout, &GpuTensor)> {
        match self {
            Training::Plain { .. } => None,
            Training::Adversarial(adversary) => Some((&adversary.d_layout, adversary.discriminator_parameters())),
            Training::Elsewhere { discriminator } => discriminator.as_ref().map(|(layout, params)| (layout, params)),
        }
    }
}

/// A VAE (or VAE-GAN) living on the GPU.
#[derive(Debug)]
pub struct GpuVae {
    core: VaeCore,
    training: Training,
}

impl GpuVae {
    /// Uploads the setup's data, allocates everything for `arch` from `init` and records the
    /// training step.
    pub fn new(kernels: &Kernels, setup: &ModelSetup, arch: VaeArch, init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let dataset = GpuDataset::upload(kernels.context(), &setup.data)?;
        let core = VaeCore::new(kernels, "vae", (arch, init), dataset, (setup.batch, setup.seed), Purpose::Train)?;
        let mut step = Schedule::new("vae step");
        let gradients = core.push_gradients(kernels, &mut step)?;
        let update = core.push_update(kernels, &mut step)?;
        let mut vae = Self { core, training: Training::Plain { step, knobs: VaeKnobDispatches { gradients, update } } };
        vae.set_knobs(&setup.knobs)?;
        Ok(vae)
    }

    /// A VAE-GAN: the VAE of `arch.vae` from `vae_init`, its discriminator from `d_init`, trained in
    /// rounds of one D step and one VAE step with γ · the generator loss.
    pub fn with_discriminator(kernels: &Kernels, setup: &ModelSetup, arch: VaeGanArch, vae_init: &[f32], d_init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let dataset = GpuDataset::upload(kernels.context(), &setup.data)?;
        let core = VaeCore::new(kernels, "vae_gan", (arch.vae.clone(), vae_init), dataset, (setup.batch, setup.seed), Purpose::Train)?;
        let adversary = Adversary::record(kernels, &core, &arch, d_init)?;
        let mut model = Self { core, training: Training::Adversarial(Box::new(adversary)) };
        model.set_knobs(&setup.knobs)?;
        Ok(model)
    }

    /// A VAE (with `discriminator`'s layout and parameters, a VAE-GAN) whose parameters train
    /// elsewhere: a sweep's member, which its batched step trains and which scores the parameters
    /// and draws their views here. It holds no gradients, optimizer moments, penalty mask,
    /// restore-best copy or training scratch (six parameter-sized buffers and the networks'
    /// backward activations fewer than [`new`](Self::new)), nor rows of its own: it reads `rows`,
    /// `setup.data`'s rows uploaded once for all the members. [`train`](VaeModel::train), its
    /// metrics, a fork and early stopping's save and restore are refused.
    pub fn trained_elsewhere(
        kernels: &Kernels,
        setup: &ModelSetup,
        (arch, init): (VaeArch, &[f32]),
        discriminator: Option<(&ParamLayout, &[f32])>,
        rows: &GpuRows,
    ) -> Result<Self, ModelError> {
        setup.check()?;
        let dataset = GpuDataset::on_rows(kernels.context(), rows, &setup.data)?;
        let core = VaeCore::new(kernels, "vae_scored", (arch, init), dataset, (setup.batch, setup.seed), Purpose::Score)?;
        let discriminator = discriminator
            .map(|(layout, parameters)| {
                let params = core.ctx.zeros("vae_scored.discriminator", 1, layout.len)?;
                crate::gan::write_parameters(&core.ctx, &params, parameters)?;
                Ok::<_, ModelError>((layout.clone(), params))
            })
            .transpose()?;
        Ok(Self { core, training: Training::Elsewhere { discriminator } })
    }

    /// The recorded schedules one training step replays (VAE-GAN: the D step and the VAE step).
    pub fn step_schedules(&self) -> Vec<&Schedule> {
        match &self.training {
            Training::Plain { step, .. } => vec![step],
            Training::Adversarial(adversary) => adversary.schedules().to_vec(),
            Training::Elsewhere { .. } => Vec::new(),
        }
    }

    /// Every buffer of the training state, the VAE's then D's (VAE-GAN); refused for a model
    /// that trains elsewhere.
    fn state(&self) -> Result<Vec<&GpuTensor>, GpuError> {
        let mut state = self.core.state()?;
        if let Training::Adversarial(adversary) = &self.training {
            state.extend(adversary.state());
        }
        Ok(state)
    }

    /// Makes `other`, built from the same setup and shape on the same device, this model's exact
    /// training state (a fork): buffer copies on the GPU in one submission and the host's step
    /// count; nothing is read back. Another shape, batch or family is refused.
    pub fn copy_state_to(&self, other: &mut GpuVae) -> Result<(), ModelError> {
        if self.core.arch != other.core.arch || self.core.batch != other.core.batch {
            return Err(ModelError::StateMismatch("the other GPU VAE has another shape or batch".into()));
        }
        copy_state(&self.core.ctx, &other.core.ctx, "GPU VAE", &self.state()?, &other.state()?)?;
        self.core.copy_host_state_to(&other.core);
        Ok(())
    }

    /// Writes the VAE-GAN's D parameters (a sweep's batched step trained them elsewhere); the
    /// engine seam has only the VAE's setter, the weights a run file holds. Refused for a plain VAE.
    pub fn set_discriminator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        match self.training.discriminator() {
            Some((_, params)) => crate::gan::write_parameters(&self.core.ctx, params, parameters),
            None => Err(ModelError::StateMismatch("a plain VAE has no discriminator".into())),
        }
    }

    /// The VAE-GAN's D steps done, as the GPU counts them (`None` for a plain VAE).
    pub async fn discriminator_steps_done(&self) -> Result<Option<u32>, ModelError> {
        match &self.training {
            Training::Plain { .. } | Training::Elsewhere { .. } => Ok(None),
            Training::Adversarial(adversary) => Ok(Some(adversary.discriminator_steps(&self.core).await?)),
        }
    }
}

#[async_trait(?Send)]
impl VaeModel for GpuVae {
    fn arch(&self) -> &VaeArch {
        &self.core.arch
    }

    fn batch(&self) -> usize {
        self.core.batch
    }

    fn dispatches_per_step(&self) -> Option<usize> {
        Some(self.step_schedules().iter().map(|s| s.len()).sum())
    }

    /// Small uniform writes into the recorded step, through the same checks as at build.
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        match &self.training {
            Training::Plain { step, knobs: dispatches } => dispatches.apply(&self.core.ctx, step, knobs, self.core.batch)?,
            Training::Adversarial(adversary) => adversary.apply_knobs(&self.core, knobs)?,
            // The step that trains these parameters takes the knobs; β-independent views remain.
            Training::Elsewhere { .. } => {}
        }
        Ok(())
    }

    /// One submission; returns without waiting.
    fn train(&mut self, steps: usize) -> Result<(), ModelError> {
        match &self.training {
            Training::Plain { step, .. } => {
                step.submit(&self.core.ctx, steps)?;
                self.core.note_steps(steps);
            }
            Training::Adversarial(adversary) => adversary.train(&self.core, steps)?,
            Training::Elsewhere { .. } => return Err(elsewhere("train")),
        }
        Ok(())
    }

    /// Summed on the GPU, read back asynchronously; fails if the GPU reported an error since the
    /// last call, so a broken step never reads as a result.
    async fn metrics(&mut self) -> Result<VaeGanMetrics, ModelError> {
        Ok(match &self.training {
            Training::Plain { .. } => VaeGanMetrics { vae: self.core.metrics("vae step").await?, ..VaeGanMetrics::default() },
            Training::Adversarial(adversary) => adversary.metrics(&self.core).await?,
            Training::Elsewhere { .. } => return Err(elsewhere("report training metrics")),
        })
    }

    async fn steps_done(&self) -> Result<u32, ModelError> {
        Ok(self.core.steps_done().await?)
    }

    async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, ModelError> {
        Ok(self.core.evaluate(split).await?)
    }

    async fn latent_codes(&self) -> Result<LatentCodes, ModelError> {
        Ok(self.core.latent_codes().await?)
    }

    async fn encode(&self, inputs: &[f32]) -> Result<LatentCodes, ModelError> {
        Ok(self.core.encode(inputs).await?)
    }

    async fn decode(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        Ok(self.core.decode(codes).await?)
    }

    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.decode(&prior_noise::<f32>(self.core.seed, count, self.core.arch.spec.latent).data).await
    }

    async fn reconstructions(&self) -> Result<Vec<f32>, ModelError> {
        Ok(self.core.reconstructions().await?)
    }

    async fn parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(self.core.parameters().await?)
    }

    fn set_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        Ok(self.core.set_parameters(parameters)?)
    }

    fn discriminator_layout(&self) -> Option<&ParamLayout> {
        self.training.discriminator().map(|(layout, _)| layout)
    }

    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        match self.training.discriminator() {
            Some((_, params)) => Ok(read_f32(&self.core.ctx, params).await?),
            None => Ok(Vec::new()),
        }
    }

    /// A buffer copy on the GPU: nothing is read back.
    fn save_best(&mut self) -> Result<(), ModelError> {
        Ok(self.core.save_best()?)
    }

    fn restore_best(&mut self) -> Result<(), ModelError> {
        Ok(self.core.restore_best()?)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// What a VAE whose parameters train elsewhere refuses to do.
fn elsewhere(what: &str) -> ModelError {
    GpuError::invalid("vae", format!("this GPU VAE scores parameters a sweep's batched step trains; it does not {what} itself")).into()
}
