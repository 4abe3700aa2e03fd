//! The engine a GAN run trains on: GAN Lab's experiment, a generator against a discriminator on 2D
//! points, on the GPU or as the CPU twin, answering the same questions either way.

use latent_core::model::vae::prior_noise;
use latent_core::model::{DiscriminatorMetrics, GanArch, GanCpu, GanKnobs, HeldOutMetrics};
use latent_core::rng::fold_seed;
use latent_core::Matrix;
use latent_gpu::{GanMetrics, GpuGan, Kernels};

use crate::vae_engine::initial;
use crate::{RunData, SessionError};

/// A GAN on the GPU or on the CPU.
pub enum GanEngine {
    Gpu(Box<GpuGan>),
    /// The CPU twin and how many D steps it has taken (its minibatch cursor).
    Cpu {
        gan: Box<GanCpu<f32>>,
        d_steps_done: u32,
    },
}

impl GanEngine {
    /// A GAN of `arch` initialised from `seed` (or its generator from `weights`): on the GPU when
    /// `kernels` are given, else the CPU twin.
    pub fn build(
        kernels: Option<&Kernels>,
        arch: GanArch,
        data: &RunData,
        batch: usize,
        seed: u64,
        knobs: GanKnobs,
        weights: Option<&[f32]>,
    ) -> Result<Self, SessionError> {
        let (g_init, d_init) = (initial(&arch.g_layout, seed, weights)?, arch.d_layout.init(seed.wrapping_add(1)));
        let rng_seed = fold_seed(seed);
        Ok(match kernels {
            None => Self::Cpu { gan: Box::new(GanCpu::new(arch, &g_init, &d_init, rng_seed)?), d_steps_done: 0 },
            Some(kernels) => Self::Gpu(Box::new(GpuGan::new(kernels, arch, &g_init, &d_init, data.upload(kernels.context())?, batch, rng_seed, knobs)?)),
        })
    }

    /// Compute passes of one round (one D step and one G step), on the GPU engine.
    pub fn dispatches_per_round(&self) -> Option<usize> {
        match self {
            Self::Gpu(gan) => Some(gan.dispatch_counts().0 + gan.dispatch_counts().1),
            Self::Cpu { .. } => None,
        }
    }

    pub fn arch(&self) -> &GanArch {
        match self {
            Self::Gpu(gan) => gan.arch(),
            Self::Cpu { gan, .. } => &gan.arch,
        }
    }

    /// `rounds` rounds of `d_steps` D steps and one G step; returns the last steps' metrics. The GPU
    /// engine holds its knobs (see [`Self::set_knobs`]); the CPU twin takes `knobs` with each step.
    pub async fn train(&mut self, data: &RunData, rounds: usize, d_steps: usize, batch: usize, knobs: GanKnobs) -> Result<GanMetrics, SessionError> {
        match self {
            Self::Gpu(gan) => {
                gan.train(rounds, d_steps)?;
                Ok(gan.metrics().await?)
            }
            Self::Cpu { gan, d_steps_done } => {
                let (mut discriminator, mut generator) = (DiscriminatorMetrics::default(), (0.0, 0.0));
                for _ in 0..rounds {
                    for _ in 0..d_steps {
                        discriminator = gan.discriminator_step(&data.batch(&data.train, 0, *d_steps_done, batch), knobs)?;
                        *d_steps_done += 1;
                    }
                    generator = gan.generator_step(batch, knobs)?;
                }
                Ok(GanMetrics { discriminator, generator_loss: generator.0, generator_l2_term: generator.1 })
            }
        }
    }

    /// One D step alone (GAN Lab's "step the discriminator"); returns D's metrics.
    pub async fn step_discriminator(&mut self, data: &RunData, batch: usize, knobs: GanKnobs) -> Result<DiscriminatorMetrics, SessionError> {
        match self {
            Self::Gpu(gan) => {
                gan.train_discriminator(1)?;
                Ok(gan.metrics().await?.discriminator)
            }
            Self::Cpu { gan, d_steps_done } => {
                let m = gan.discriminator_step(&data.batch(&data.train, 0, *d_steps_done, batch), knobs)?;
                *d_steps_done += 1;
                Ok(m)
            }
        }
    }

    /// One G step alone; returns the generator's loss.
    pub async fn step_generator(&mut self, batch: usize, knobs: GanKnobs) -> Result<f64, SessionError> {
        match self {
            Self::Gpu(gan) => {
                gan.train_generator(1)?;
                Ok(gan.metrics().await?.generator_loss)
            }
            Self::Cpu { gan, .. } => Ok(gan.generator_step(batch, knobs)?.0),
        }
    }

    /// The GPU engine's knobs for the following steps (the CPU twin takes them per step).
    pub fn set_knobs(&self, knobs: GanKnobs) -> Result<(), SessionError> {
        if let Self::Gpu(gan) = self {
            gan.set_knobs(knobs)?;
        }
        Ok(())
    }

    /// D on whole batches of the held-out rows.
    pub async fn evaluate(&self, data: &RunData, batch: usize) -> Result<HeldOutMetrics, SessionError> {
        match self {
            Self::Gpu(gan) => Ok(gan.evaluate().await?),
            Self::Cpu { gan, .. } => {
                let rows = data.test.len() / batch * batch;
                Ok(gan.evaluate_discriminator(&data.batch(&data.test, 0, 0, rows))?)
            }
        }
    }

    /// G on `count` codes of the run's fixed prior noise (count × data_dim).
    pub async fn samples(&self, count: usize, seed: u64) -> Result<Vec<f32>, SessionError> {
        let codes = prior_noise(fold_seed(seed), count, self.arch().spec.latent);
        match self {
            Self::Gpu(gan) => Ok(gan.generate(&codes.data).await?),
            Self::Cpu { gan, .. } => Ok(gan.generate(&codes)?.data),
        }
    }

    /// σ(D(p)) for each point.
    pub async fn map(&self, points: &[[f32; 2]]) -> Result<Vec<f32>, SessionError> {
        let flat: Vec<f32> = points.iter().flatten().copied().collect();
        match self {
            Self::Gpu(gan) => Ok(gan.discriminator_map(&flat).await?),
            Self::Cpu { gan, .. } => Ok(gan.discriminator_probabilities(&Matrix { rows: points.len(), cols: 2, data: flat })?),
        }
    }

    /// The generator's parameters (laid out by `arch().g_layout`).
    pub async fn generator_parameters(&self) -> Result<Vec<f32>, SessionError> {
        match self {
            Self::Gpu(gan) => Ok(gan.generator_parameters().await?),
            Self::Cpu { gan, .. } => Ok(gan.generator_params().to_vec()),
        }
    }
}
