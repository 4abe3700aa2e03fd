//! The engine seam: what every front end asks of a model, whichever engine holds it. A VAE (with
//! or without a discriminator, the VAE-GAN) answers [`VaeModel`], a GAN [`GanModel`]; the GPU engine
//! (`latent-gpu`) and the CPU twin ([`cpu`], the reference and the fallback engine) implement both,
//! so the run loop above them (`latent-session`) is written once.
//!
//! Both traits are object-safe: the engine and the model family are chosen at run time (by the
//! adapter the page finds, by a URL key), so a run holds a `Box<dyn VaeModel>`. Readbacks are
//! asynchronous (a GPU resolves them only when control returns to the browser's event loop), so
//! those methods return boxed futures (`async_trait`, without a `Send` bound: a browser page and a
//! native run drive a model from one thread). The CPU twin's futures are ready at once. Natively a
//! model is [`MaybeSend`], so a sweep can train its CPU members on every core; in the browser it
//! need not be (wgpu's WebGPU handles are not `Send`, and a worker holds its own models).
//!
//! A fork copies a model's whole training state into a twin built from the same setup: each engine
//! has its own `copy_state_to` (the CPU twin clones itself, the GPU engine copies buffers on the
//! GPU), reached through [`VaeModel::as_any`] by the session, which knows the engines it builds.
//!
//! Contract shared by both engines, checked by the parity tests in `tests/`:
//! - `train(n)` takes `n` steps (the GAN: rounds of `d_steps` D steps and one G step) with the knobs
//!   of the last `set_knobs` (or of the build); it returns without waiting for a GPU.
//! - `metrics()` is the mean of the VAE terms over the steps since the previous call (the last
//!   result again when none ran); adversarial terms are those of the latest step.
//! - views (`evaluate`, codes, samples, …) never change training state.

pub mod cpu;

use std::sync::Arc;

use async_trait::async_trait;

use crate::data::RunData;
use crate::error::CoreError;
use crate::knobs::{KnobError, Knobs};
use crate::model::{DiscriminatorMetrics, GanArch, HeldOutMetrics, ParamLayout, VaeArch, VaeGanMetrics};

/// `Send` natively, where a sweep trains its members on every core (each member's model moves to a
/// rayon thread for its steps); no bound in the browser, whose models stay on the thread that made
/// them. wgpu's `WasmNotSend` is the same idea for its own types.
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeSend: Send {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send> MaybeSend for T {}
#[cfg(target_arch = "wasm32")]
pub trait MaybeSend {}
#[cfg(target_arch = "wasm32")]
impl<T> MaybeSend for T {}

/// Most latent codes one [`VaeModel::decode`] call takes (a 32×32 manifold grid).
pub const MAX_DECODE_ROWS: usize = 1024;
/// Most rows one [`VaeModel::encode`] call takes (the drawing pad sends one).
pub const MAX_ENCODE_ROWS: usize = 64;

/// What every model is built from, on either engine: its data (the GPU engine uploads it, the CPU
/// twin reads it), the batch size, the seed of its random draws and its first knobs.
#[derive(Clone, Debug)]
pub struct ModelSetup {
    pub data: Arc<RunData>,
    pub batch: usize,
    /// Keys every random draw of training (noise, dropout, the fixed prior samples), with the step
    /// number: the same seed gives the same run on both engines.
    pub seed: u32,
    pub knobs: Knobs,
}

/// Largest batch either engine builds.
pub const MAX_BATCH: usize = 4096;

impl ModelSetup {
    /// What both engines check before building: the knobs, a batch in 1..=[`MAX_BATCH`], a
    /// held-out set of at least one batch (evaluations score whole batches), some training rows.
    pub fn check(&self) -> Result<(), ModelError> {
        self.knobs.validate()?;
        if self.batch == 0 || self.batch > MAX_BATCH {
            return Err(CoreError::InvalidArgument { op: "model", message: format!("batch size {} is outside 1..={MAX_BATCH}", self.batch) }.into());
        }
        self.data.check_batch(self.batch).map_err(|e| CoreError::InvalidArgument { op: "model", message: e.to_string() })?;
        Ok(())
    }
}

/// Why a model call failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum ModelError {
    /// A shape or argument the model refuses (codes of the wrong width, parameters that do not fit).
    #[error(transparent)]
    Core(#[from] CoreError),
    #[error(transparent)]
    Knob(#[from] KnobError),
    /// The device the model lived on is gone (a driver reset, a crashed GPU process), or the worker
    /// a hosted model trains in stopped: the model must be rebuilt, on a new device, a new worker or
    /// on the CPU.
    #[error("the model's device or worker was lost ({0}); the model must be rebuilt")]
    DeviceLost(String),
    /// Any other failure the device reported (validation, a failed readback, memory), as it says it.
    #[error("{0}")]
    Device(String),
    /// Training state copied between two models that cannot hold each other's: another engine,
    /// another model family or another shape.
    #[error("cannot copy the training state: {0}")]
    StateMismatch(String),
}

/// Which rows an evaluation scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalSplit {
    /// The held-out rows (whole batches of them).
    Test,
    /// The training rows, as many whole batches as the held-out pass uses (at least one): the
    /// "train" line of a train-vs-test chart, scored exactly like the "test" line (no dropout,
    /// the evaluation noise stream), so the gap between them is overfitting and nothing else.
    Train,
}

/// Negative ELBO of the current parameters on one split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalMetrics {
    pub reconstruction: f64,
    pub kl: f64,
    /// Rows evaluated (whole batches).
    pub rows: usize,
}

impl EvalMetrics {
    /// Negative ELBO (β = 1), in nats per sample.
    pub fn negative_elbo(&self) -> f64 {
        self.reconstruction + self.kl
    }
}

/// Posterior codes of rows: the held-out rows (whole batches of them, in the order of the held-out
/// list), or the rows a caller encoded.
#[derive(Clone, Debug, PartialEq)]
pub struct LatentCodes {
    pub rows: usize,
    pub latent: usize,
    /// rows × latent posterior means μ.
    pub mean: Vec<f32>,
    /// rows × latent posterior log-variances logσ².
    pub log_var: Vec<f32>,
}

impl LatentCodes {
    /// Each latent dimension's KL(q(z|x) ‖ N(0, 1)) in nats, averaged over the rows: the rate
    /// one dimension carries. A dimension near 0 is collapsed (its posterior ignores the input).
    pub fn kl_per_dim(&self) -> Vec<f64> {
        let mut sums = vec![0.0f64; self.latent];
        if self.latent == 0 || self.rows == 0 {
            return sums;
        }
        for (means, log_vars) in self.mean.chunks_exact(self.latent).zip(self.log_var.chunks_exact(self.latent)) {
            for ((sum, &mu), &log_var) in sums.iter_mut().zip(means).zip(log_vars) {
                let (mu, log_var) = (f64::from(mu), f64::from(log_var));
                *sum += 0.5 * (mu * mu + log_var.exp() - log_var - 1.0);
            }
        }
        let rows = (self.mean.len() / self.latent) as f64;
        sums.iter().map(|s| s / rows).collect()
    }
}

/// What the latest D and G steps of a GAN measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GanMetrics {
    pub discriminator: DiscriminatorMetrics,
    pub generator_loss: f64,
    pub generator_l2_term: f64,
}

/// A VAE (the VAE-GAN included: a VAE whose decoder also faces a discriminator) on some engine.
#[async_trait(?Send)]
pub trait VaeModel: MaybeSend {
    /// The encoder's and decoder's shape and parameter layout.
    fn arch(&self) -> &VaeArch;
    fn batch(&self) -> usize;
    /// Compute passes one training step records (VAE-GAN: one round); `None` off the GPU.
    fn dispatches_per_step(&self) -> Option<usize>;
    /// The knobs of the following steps, validated as at build.
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError>;
    /// `steps` training steps (VAE-GAN: rounds of one D step and one VAE step).
    fn train(&mut self, steps: usize) -> Result<(), ModelError>;
    /// The VAE terms as means over the steps since the last call; D's terms and the generator
    /// loss of the latest round (zero for a plain VAE).
    async fn metrics(&mut self) -> Result<VaeGanMetrics, ModelError>;
    /// Training steps completed, as the engine counts them (on the GPU: once they ran).
    async fn steps_done(&self) -> Result<u32, ModelError>;
    /// Negative ELBO on `split`.
    async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, ModelError>;
    async fn latent_codes(&self) -> Result<LatentCodes, ModelError>;
    /// The posterior (μ, logσ²) of each row of `inputs` (rows × data_dim, 1..=[`MAX_ENCODE_ROWS`]
    /// rows, finite): data the run never saw, such as a digit the user drew.
    async fn encode(&self, inputs: &[f32]) -> Result<LatentCodes, ModelError>;
    /// The decoder's output as data (pixels in [0, 1], or points) for each row of `codes`
    /// (rows × latent, 1..=[`MAX_DECODE_ROWS`] rows, finite).
    async fn decode(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError>;
    /// The decoder on the first `count` codes of the run's fixed prior noise, so a knob change
    /// shows as a change of the same pictures.
    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError>;
    /// The first held-out batch decoded through z = μ (batch × data_dim).
    async fn reconstructions(&self) -> Result<Vec<f32>, ModelError>;
    /// The encoder's and decoder's parameters, flat in the layout's order.
    async fn parameters(&self) -> Result<Vec<f32>, ModelError>;
    /// Replaces the encoder's and decoder's parameters (the optimizer's state carries on).
    fn set_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError>;
    /// The VAE-GAN's discriminator layout (`None` for a plain VAE).
    fn discriminator_layout(&self) -> Option<&ParamLayout>;
    /// The VAE-GAN's discriminator parameters, flat in that layout's order (empty for a plain VAE).
    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError>;
    /// Keeps a copy of the current parameters (early stopping saw a new best).
    fn save_best(&mut self) -> Result<(), ModelError>;
    /// Puts the last saved parameters back; fails if none were saved.
    fn restore_best(&mut self) -> Result<(), ModelError>;
    /// This model as [`Any`](std::any::Any): a fork finds the engine's own type behind the trait
    /// object and copies the training state with that engine's `copy_state_to` (`CpuVae`'s,
    /// `GpuVae`'s). Not a method of this trait, so a front end that never forks (the page today)
    /// does not carry the copying code in every model's vtable.
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

/// A GAN (a generator against a discriminator on 2D points) on some engine.
#[async_trait(?Send)]
pub trait GanModel: MaybeSend {
    fn arch(&self) -> &GanArch;
    fn batch(&self) -> usize;
    /// Compute passes of one round (one D step and one G step); `None` off the GPU.
    fn dispatches_per_round(&self) -> Option<usize>;
    /// The knobs of the following steps (λ_G, λ_D, both Adams, D steps per round).
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError>;
    /// `rounds` rounds of `d_steps` D steps and one G step.
    fn train(&mut self, rounds: usize) -> Result<(), ModelError>;
    /// D steps alone (GAN Lab's "train the discriminator").
    fn train_discriminator(&mut self, steps: usize) -> Result<(), ModelError>;
    /// G steps alone.
    fn train_generator(&mut self, steps: usize) -> Result<(), ModelError>;
    /// What the latest D and G steps measured.
    async fn metrics(&mut self) -> Result<GanMetrics, ModelError>;
    /// (D steps, G steps) completed.
    async fn steps_done(&self) -> Result<(u32, u32), ModelError>;
    /// D's loss and accuracy on whole batches of the held-out rows.
    async fn evaluate(&self) -> Result<HeldOutMetrics, ModelError>;
    /// G on each row of `codes` (rows × latent, at most [`MAP_POINTS`](crate::model::gan::MAP_POINTS) rows).
    async fn generate(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError>;
    /// G on the first `count` codes of the run's fixed prior noise.
    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError>;
    /// σ(D(p)) for each row `p` of `points` (at most `MAP_POINTS` rows): the heat map.
    async fn discriminator_map(&self, points: &[f32]) -> Result<Vec<f32>, ModelError>;
    /// The generator's parameters, flat in `arch().g_layout`'s order.
    async fn generator_parameters(&self) -> Result<Vec<f32>, ModelError>;
    /// Replaces the generator's parameters (D and both optimizers carry on).
    fn set_generator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError>;
    /// The discriminator's parameters, flat in `arch().d_layout`'s order.
    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError>;
    /// As [`VaeModel::as_any`].
    fn as_any(&self) -> &dyn std::any::Any;
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;
}

#[cfg(test)]
mod tests {
    use super::LatentCodes;

    /// KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − ln σ² − 1), averaged over the rows per dimension: a
    /// prior-matching dimension carries 0 nats, μ = 2 with σ = 1 carries 2, and σ² = e carries
    /// ½(e − 2).
    #[test]
    fn kl_per_dim_is_each_dimensions_rate() {
        let codes = LatentCodes { rows: 2, latent: 3, mean: vec![0.0, 2.0, 0.0, 0.0, 2.0, 0.0], log_var: vec![0.0, 0.0, 1.0, 0.0, 0.0, 1.0] };
        let kl = codes.kl_per_dim();
        let expected = [0.0, 2.0, 0.5 * (std::f64::consts::E - 2.0)];
        assert_eq!(kl.len(), 3);
        for (got, want) in kl.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{kl:?} against {expected:?}");
        }
    }
}
