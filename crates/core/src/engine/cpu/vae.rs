//! The VAE and the VAE-GAN on the CPU.

use std::sync::Arc;

use async_trait::async_trait;

use super::caller_rows;
use crate::data::RunData;
use crate::engine::{EvalMetrics, EvalSplit, LatentCodes, ModelError, ModelSetup, VaeModel, MAX_DECODE_ROWS, MAX_ENCODE_ROWS};
use crate::error::CoreError;
use crate::knobs::Knobs;
use crate::matrix::Matrix;
use crate::model::vae::{eval_chunks, prior_noise, EVAL_STREAM};
use crate::model::{DiscriminatorMetrics, ParamLayout, StepMetrics, VaeArch, VaeCpu, VaeGanArch, VaeGanCpu, VaeGanMetrics};
use crate::rng::RngStream;

/// The model proper: a plain VAE, or one whose decoder also faces a discriminator.
#[derive(Clone, Debug)]
enum Twin {
    Plain(Box<VaeCpu<f32>>),
    Adversarial(Box<VaeGanCpu<f32>>),
}

impl Twin {
    fn vae(&self) -> &VaeCpu<f32> {
        match self {
            Self::Plain(vae) => vae,
            Self::Adversarial(model) => model.vae(),
        }
    }

    fn vae_mut(&mut self) -> &mut VaeCpu<f32> {
        match self {
            Self::Plain(vae) => vae,
            Self::Adversarial(model) => model.vae_mut(),
        }
    }
}

/// A VAE (or VAE-GAN) trained on the CPU.
#[derive(Clone, Debug)]
pub struct CpuVae {
    twin: Twin,
    data: Arc<RunData>,
    batch: usize,
    seed: u32,
    knobs: Knobs,
    /// The VAE terms of every step since the last read.
    pending: Vec<StepMetrics>,
    /// The latest round's D metrics and generator loss (VAE-GAN).
    adversarial: (DiscriminatorMetrics, f64),
    /// The last read, returned again when no step ran since.
    last: Option<VaeGanMetrics>,
    best: Option<Vec<f32>>,
}

impl CpuVae {
    /// A VAE of `arch` starting from `init` (laid out by `arch.layout`).
    pub fn new(setup: ModelSetup, arch: VaeArch, init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let vae = VaeCpu::new(arch, init, setup.seed)?;
        Ok(Self::from_twin(setup, Twin::Plain(Box::new(vae))))
    }

    /// A VAE-GAN of `arch`: the encoder and decoder from `vae_init`, D from `d_init`.
    pub fn with_discriminator(setup: ModelSetup, arch: VaeGanArch, vae_init: &[f32], d_init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let model = VaeGanCpu::new(arch, vae_init, d_init, setup.seed)?;
        Ok(Self::from_twin(setup, Twin::Adversarial(Box::new(model))))
    }

    fn from_twin(setup: ModelSetup, twin: Twin) -> Self {
        let ModelSetup { data, batch, seed, knobs } = setup;
        Self { twin, data, batch, seed, knobs, pending: Vec::new(), adversarial: Default::default(), last: None, best: None }
    }

    /// `rows` rows of `indices` from chunk `chunk` on, by the gather kernels' rule.
    fn rows(&self, test: bool, chunk: u32, rows: usize) -> Matrix<f32> {
        let indices = if test { &self.data.test } else { &self.data.train };
        self.data.batch(indices, 0, chunk, rows)
    }

    /// Makes `other`, built from the same setup and shape, this model's exact training state (a
    /// fork): the whole model cloned, `other`'s knobs kept. Another shape, batch or family is
    /// refused.
    pub fn copy_state_to(&self, other: &mut CpuVae) -> Result<(), ModelError> {
        let same_family = matches!((&self.twin, &other.twin), (Twin::Plain(_), Twin::Plain(_)) | (Twin::Adversarial(_), Twin::Adversarial(_)));
        if !same_family || self.twin.vae().arch != other.twin.vae().arch || self.batch != other.batch {
            return Err(ModelError::StateMismatch("the other CPU VAE has another shape, batch or family".into()));
        }
        let knobs = other.knobs;
        *other = self.clone();
        other.knobs = knobs;
        Ok(())
    }

    /// Whole batches of the held-out rows.
    fn held_out(&self) -> Matrix<f32> {
        self.rows(true, 0, self.data.test.len() / self.batch * self.batch)
    }
}

#[async_trait(?Send)]
impl VaeModel for CpuVae {
    fn arch(&self) -> &VaeArch {
        &self.twin.vae().arch
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn dispatches_per_step(&self) -> Option<usize> {
        None
    }

    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        self.knobs = *knobs;
        Ok(())
    }

    fn train(&mut self, steps: usize) -> Result<(), ModelError> {
        for _ in 0..steps {
            let x = self.rows(false, self.twin.vae().step, self.batch);
            match &mut self.twin {
                Twin::Plain(vae) => self.pending.push(vae.train_step(&x, &self.knobs)?),
                Twin::Adversarial(model) => {
                    let round = model.train_round(&x, &self.knobs)?;
                    self.pending.push(round.vae);
                    self.adversarial = (round.discriminator, round.generator_loss);
                }
            }
        }
        Ok(())
    }

    async fn metrics(&mut self) -> Result<VaeGanMetrics, ModelError> {
        if !self.pending.is_empty() {
            let (discriminator, generator_loss) = self.adversarial;
            self.last = Some(VaeGanMetrics { vae: StepMetrics::mean(&self.pending), discriminator, generator_loss });
            self.pending.clear();
        }
        self.last.clone().ok_or_else(|| CoreError::InvalidArgument { op: "vae metrics", message: "no training step has run yet".into() }.into())
    }

    async fn steps_done(&self) -> Result<u32, ModelError> {
        Ok(self.twin.vae().step)
    }

    async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, ModelError> {
        let (test_chunks, train_chunks) = eval_chunks(self.data.train.len(), self.data.test.len(), self.batch);
        let chunks = match split {
            EvalSplit::Test => test_chunks,
            EvalSplit::Train => train_chunks,
        };
        let noise = RngStream::new(self.seed, EVAL_STREAM);
        let (mut reconstruction, mut kl) = (0.0, 0.0);
        for chunk in 0..chunks as u32 {
            let x = self.rows(split == EvalSplit::Test, chunk, self.batch);
            let (r, k) = self.twin.vae().evaluate(&x, noise, chunk)?;
            (reconstruction, kl) = (reconstruction + r, kl + k);
        }
        let n = chunks.max(1) as f64;
        Ok(EvalMetrics { reconstruction: reconstruction / n, kl: kl / n, rows: chunks * self.batch })
    }

    async fn latent_codes(&self) -> Result<LatentCodes, ModelError> {
        let x = self.held_out();
        let (mean, log_var) = self.twin.vae().encode(&x)?;
        Ok(LatentCodes { rows: x.rows, latent: mean.cols, mean: mean.data, log_var: log_var.data })
    }

    async fn encode(&self, inputs: &[f32]) -> Result<LatentCodes, ModelError> {
        let x = caller_rows("vae encode", inputs, self.arch().spec.data_dim, MAX_ENCODE_ROWS)?;
        let (mean, log_var) = self.twin.vae().encode(&x)?;
        Ok(LatentCodes { rows: x.rows, latent: mean.cols, mean: mean.data, log_var: log_var.data })
    }

    async fn decode(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        let z = caller_rows("vae decode", codes, self.arch().spec.latent, MAX_DECODE_ROWS)?;
        Ok(self.twin.vae().decode(&z)?.data)
    }

    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.decode(&prior_noise::<f32>(self.seed, count, self.arch().spec.latent).data).await
    }

    async fn reconstructions(&self) -> Result<Vec<f32>, ModelError> {
        let vae = self.twin.vae();
        let (mu, _) = vae.encode(&self.rows(true, 0, self.batch))?;
        Ok(vae.decode(&mu)?.data)
    }

    async fn parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(self.twin.vae().params.clone())
    }

    fn set_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        Ok(self.twin.vae_mut().set_params(parameters)?)
    }

    fn discriminator_layout(&self) -> Option<&ParamLayout> {
        match &self.twin {
            Twin::Plain(_) => None,
            Twin::Adversarial(model) => Some(&model.arch.d_layout),
        }
    }

    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(match &self.twin {
            Twin::Plain(_) => Vec::new(),
            Twin::Adversarial(model) => model.discriminator_params().to_vec(),
        })
    }

    fn save_best(&mut self) -> Result<(), ModelError> {
        self.best = Some(self.twin.vae().params.clone());
        Ok(())
    }

    fn restore_best(&mut self) -> Result<(), ModelError> {
        let best = self.best.clone().ok_or_else(|| CoreError::InvalidArgument { op: "vae restore best", message: "no parameters were saved yet".into() })?;
        self.twin.vae_mut().params = best;
        Ok(())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}
