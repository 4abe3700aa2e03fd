//! The GAN on the CPU.

use std::sync::Arc;

use async_trait::async_trait;

use super::caller_rows;
use crate::data::RunData;
use crate::engine::{GanMetrics, GanModel, ModelError, ModelSetup};
use crate::knobs::Knobs;
use crate::model::gan::MAP_POINTS;
use crate::model::vae::prior_noise;
use crate::model::{GanArch, GanCpu, HeldOutMetrics};

/// A GAN trained on the CPU.
#[derive(Clone, Debug)]
pub struct CpuGan {
    gan: GanCpu<f32>,
    data: Arc<RunData>,
    batch: usize,
    seed: u32,
    knobs: Knobs,
    last: GanMetrics,
}

impl CpuGan {
    /// A GAN of `arch`: the generator from `g_init`, the discriminator from `d_init`.
    pub fn new(setup: ModelSetup, arch: GanArch, g_init: &[f32], d_init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let gan = GanCpu::new(arch, g_init, d_init, setup.seed)?;
        let ModelSetup { data, batch, seed, knobs } = setup;
        Ok(Self { gan, data, batch, seed, knobs, last: GanMetrics::default() })
    }

    /// Makes `other`, built from the same setup and shape, this GAN's exact training state (a
    /// fork): both networks, their optimizers and counters cloned, `other`'s knobs kept.
    pub fn copy_state_to(&self, other: &mut CpuGan) -> Result<(), ModelError> {
        if self.gan.arch != other.gan.arch || self.batch != other.batch {
            return Err(ModelError::StateMismatch("the other CPU GAN has another shape or batch".into()));
        }
        let knobs = other.knobs;
        *other = self.clone();
        other.knobs = knobs;
        Ok(())
    }

    /// One D step on the next training batch (the D step count is the minibatch cursor).
    fn step_discriminator(&mut self) -> Result<(), ModelError> {
        let x = self.data.batch(&self.data.train, 0, self.gan.steps().0, self.batch);
        self.last.discriminator = self.gan.discriminator_step(&x, &self.knobs)?;
        Ok(())
    }

    fn step_generator(&mut self) -> Result<(), ModelError> {
        (self.last.generator_loss, self.last.generator_l2_term) = self.gan.generator_step(self.batch, &self.knobs)?;
        Ok(())
    }
}

#[async_trait(?Send)]
impl GanModel for CpuGan {
    fn arch(&self) -> &GanArch {
        &self.gan.arch
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn dispatches_per_round(&self) -> Option<usize> {
        None
    }

    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        self.knobs = *knobs;
        Ok(())
    }

    fn train(&mut self, rounds: usize) -> Result<(), ModelError> {
        for _ in 0..rounds {
            for _ in 0..self.knobs.d_steps {
                self.step_discriminator()?;
            }
            self.step_generator()?;
        }
        Ok(())
    }

    fn train_discriminator(&mut self, steps: usize) -> Result<(), ModelError> {
        (0..steps).try_for_each(|_| self.step_discriminator())
    }

    fn train_generator(&mut self, steps: usize) -> Result<(), ModelError> {
        (0..steps).try_for_each(|_| self.step_generator())
    }

    async fn metrics(&mut self) -> Result<GanMetrics, ModelError> {
        Ok(self.last)
    }

    async fn steps_done(&self) -> Result<(u32, u32), ModelError> {
        Ok(self.gan.steps())
    }

    async fn evaluate(&self) -> Result<HeldOutMetrics, ModelError> {
        let rows = self.data.test.len() / self.batch * self.batch;
        Ok(self.gan.evaluate_discriminator(&self.data.batch(&self.data.test, 0, 0, rows))?)
    }

    async fn generate(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        let z = caller_rows("gan generate", codes, self.arch().spec.latent, MAP_POINTS)?;
        Ok(self.gan.generate(&z)?.data)
    }

    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.generate(&prior_noise::<f32>(self.seed, count, self.arch().spec.latent).data).await
    }

    async fn discriminator_map(&self, points: &[f32]) -> Result<Vec<f32>, ModelError> {
        let x = caller_rows("gan map", points, self.arch().spec.data_dim, MAP_POINTS)?;
        Ok(self.gan.discriminator_probabilities(&x)?)
    }

    async fn generator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(self.gan.generator_params().to_vec())
    }

    fn set_generator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        Ok(self.gan.set_generator_params(parameters)?)
    }

    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(self.gan.discriminator_params().to_vec())
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}
