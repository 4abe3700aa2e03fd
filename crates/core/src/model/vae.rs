//! The VAE: encoder → (μ, logσ²) → reparameterization → decoder, loss = reconstruction + β·KL
//! (+ weight penalties), and its CPU training step: the twin the GPU engine is checked against and
//! the fallback engine where WebGPU is missing.

use super::layout::ParamLayout;
use super::mlp::{BackwardOptions, ForwardPass, Mlp, MlpDropout};
use crate::activation::Activation;
use crate::error::CoreError;
use crate::knobs::Knobs;
use crate::matrix::Matrix;
use crate::ops::optimizer::{adam_step, sgd_step};
use crate::ops::{loss, penalty, vae as vae_ops};
use crate::real::Real;
use crate::rng::RngStream;

/// RNG stream of the reparameterization noise (the GPU engine uses the same).
pub const REPARAM_STREAM: u32 = 1;
/// RNG stream of held-out evaluation noise (never the training stream), on every engine.
pub const EVAL_STREAM: u32 = 101;
/// Whole batches an evaluation scores: (held-out, training). The training split gets as many as
/// the held-out one (at least one, wrapping round a set smaller than a batch), so the two lines
/// of a train-vs-test chart average over the same number of rows; every engine follows this rule.
pub fn eval_chunks(train_rows: usize, test_rows: usize, batch: usize) -> (usize, usize) {
    let test = test_rows / batch.max(1);
    (test, (train_rows / batch.max(1)).clamp(1, test.max(1)))
}

/// RNG stream of the fixed prior noise behind sample views, on every engine.
pub const PRIOR_STREAM: u32 = 102;

/// The fixed prior codes (rows × latent, N(0, I)) that sample views decode, so a knob change shows
/// as a change of the same images; identical on the CPU twin and the GPU engine.
pub fn prior_noise<T: Real>(seed: u32, rows: usize, latent: usize) -> Matrix<T> {
    vae_ops::reparam_noise(RngStream::new(seed, PRIOR_STREAM), rows, latent, 0)
}

/// First dropout streams of the encoder's and decoder's hidden layers (one stream per layer).
pub const ENCODER_DROPOUT_STREAM: u32 = 20;
pub const DECODER_DROPOUT_STREAM: u32 = 40;
/// Largest width or latent size accepted: keeps hostile shapes from allocating gigabytes.
pub const MAX_WIDTH: usize = 4096;
/// Most hidden layers per network.
pub const MAX_HIDDEN_LAYERS: usize = 8;

/// How the decoder's output scores a data point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Likelihood {
    /// Pixels in [0, 1]: decoder outputs logits, loss is binary cross-entropy.
    Bernoulli,
    /// 2D points: decoder outputs means, loss is ½·inv_var·‖y − x‖².
    Gaussian { inv_var: f32 },
}

impl Likelihood {
    /// The map from decoder output to data (its mean): σ for pixel logits, the identity for points.
    pub fn mean_activation(self) -> Activation {
        match self {
            Self::Bernoulli => Activation::Sigmoid,
            Self::Gaussian { .. } => Activation::Identity,
        }
    }
}

/// The shape of a VAE, as the user picks it.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeSpec {
    pub data_dim: usize,
    /// Encoder widths; the decoder mirrors them.
    pub hidden: Vec<usize>,
    pub latent: usize,
    pub activation: Activation,
    pub likelihood: Likelihood,
}

impl VaeSpec {
    /// The reference model of the tests and benchmarks: 784-400-20, ReLU, Bernoulli.
    pub fn reference_mnist() -> Self {
        Self { data_dim: 784, hidden: vec![400], latent: 20, activation: Activation::Relu, likelihood: Likelihood::Bernoulli }
    }

    /// Checks sizes and lays out the parameters.
    pub fn build(&self) -> Result<VaeArch, CoreError> {
        let bad = |message: String| Err(CoreError::InvalidArgument { op: "vae", message });
        if self.data_dim == 0 || self.data_dim > MAX_WIDTH {
            return bad(format!("data dimension {} is outside 1..={MAX_WIDTH}", self.data_dim));
        }
        if self.latent == 0 || self.latent > MAX_WIDTH / 2 {
            return bad(format!("latent size {} is outside 1..={}", self.latent, MAX_WIDTH / 2));
        }
        if self.hidden.len() > MAX_HIDDEN_LAYERS || self.hidden.iter().any(|&w| w == 0 || w > MAX_WIDTH) {
            return bad(format!("hidden layers {:?}: at most {MAX_HIDDEN_LAYERS}, each 1..={MAX_WIDTH} wide", self.hidden));
        }
        if let Likelihood::Gaussian { inv_var } = self.likelihood {
            if !(inv_var.is_finite() && inv_var > 0.0) {
                return bad(format!("Gaussian inverse variance {inv_var} must be finite and > 0"));
            }
        }
        let mut layout = ParamLayout::default();
        let mut enc_widths = vec![self.data_dim];
        enc_widths.extend(&self.hidden);
        enc_widths.push(2 * self.latent);
        let encoder = Mlp::new(&mut layout, "encoder", &enc_widths, self.activation, Activation::Identity);
        let mut dec_widths = vec![self.latent];
        dec_widths.extend(self.hidden.iter().rev());
        dec_widths.push(self.data_dim);
        let decoder = Mlp::new(&mut layout, "decoder", &dec_widths, self.activation, Activation::Identity);
        Ok(VaeArch { spec: self.clone(), layout, encoder, decoder })
    }
}

/// A VAE's layers and parameter layout: the compiled form both engines run.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeArch {
    pub spec: VaeSpec,
    pub layout: ParamLayout,
    pub encoder: Mlp,
    pub decoder: Mlp,
}

/// What one training step measured, all means over the batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StepMetrics {
    pub reconstruction: f64,
    /// Unweighted KL (β is applied in `total`).
    pub kl: f64,
    pub kl_per_dim: Vec<f64>,
    pub l2_term: f64,
    pub l1_term: f64,
}

impl StepMetrics {
    /// The loss the optimizer minimised: reconstruction + β·KL + penalties.
    pub fn total(&self, beta: f32) -> f64 {
        self.reconstruction + f64::from(beta) * self.kl + self.l2_term + self.l1_term
    }

    /// False once anything is NaN or infinite: the run diverged.
    pub fn is_finite(&self) -> bool {
        [self.reconstruction, self.kl, self.l2_term, self.l1_term].iter().all(|v| v.is_finite())
    }

    /// The mean of several steps' metrics: what the GPU engine reports for a run of steps.
    pub fn mean(steps: &[StepMetrics]) -> StepMetrics {
        let n = steps.len().max(1) as f64;
        let dims = steps.first().map_or(0, |m| m.kl_per_dim.len());
        let avg = |f: fn(&StepMetrics) -> f64| steps.iter().map(f).sum::<f64>() / n;
        StepMetrics {
            reconstruction: avg(|m| m.reconstruction),
            kl: avg(|m| m.kl),
            kl_per_dim: (0..dims).map(|d| steps.iter().map(|m| m.kl_per_dim.get(d).copied().unwrap_or(f64::NAN)).sum::<f64>() / n).collect(),
            l2_term: avg(|m| m.l2_term),
            l1_term: avg(|m| m.l1_term),
        }
    }
}

/// The VAE trained on the CPU, in `T` (f32 as the engine, f64 as an oracle).
#[derive(Clone, Debug)]
pub struct VaeCpu<T> {
    pub arch: VaeArch,
    pub params: Vec<T>,
    grads: Vec<T>,
    m: Vec<T>,
    v: Vec<T>,
    velocity: Vec<T>,
    mask: Vec<T>,
    /// Steps completed; numbers the noise like the GPU's step counter.
    pub step: u32,
    rng: RngStream,
}

impl<T: Real> VaeCpu<T> {
    pub fn new(arch: VaeArch, init: &[f32], seed: u32) -> Result<Self, CoreError> {
        if init.len() != arch.layout.len {
            return Err(CoreError::ShapeMismatch {
                op: "vae parameters",
                expected: format!("{} values", arch.layout.len),
                got: format!("{} values", init.len()),
            });
        }
        let zeros = vec![T::zero(); init.len()];
        Ok(Self {
            params: init.iter().map(|&p| T::from_f64(f64::from(p))).collect(),
            grads: zeros.clone(),
            m: zeros.clone(),
            v: zeros.clone(),
            velocity: zeros,
            mask: arch.layout.penalty_mask(),
            arch,
            step: 0,
            rng: RngStream::new(seed, REPARAM_STREAM),
        })
    }

    /// Replaces the parameters (the optimizer's state carries on).
    pub fn set_params(&mut self, params: &[f32]) -> Result<(), CoreError> {
        if params.len() != self.params.len() {
            return Err(CoreError::ShapeMismatch {
                op: "vae parameters",
                expected: format!("{} values", self.params.len()),
                got: format!("{} values", params.len()),
            });
        }
        self.params = params.iter().map(|&p| T::from_f64(f64::from(p))).collect();
        Ok(())
    }

    /// One step of Adam on the batch `x` (rows = samples): forward, backward, penalties, update.
    /// Metrics describe the parameters before the update.
    pub fn train_step(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<StepMetrics, CoreError> {
        let metrics = self.compute_gradients(x, knobs)?;
        self.apply_gradients(knobs);
        Ok(metrics)
    }

    /// The optimizer step with the current [`gradients`](Self::gradients), counting a step: the
    /// update half of [`train_step`](Self::train_step), for models that add terms to the VAE's
    /// gradients. Runs both updates of [`Knobs::updates`], as the GPU engine does.
    pub fn apply_gradients(&mut self, knobs: &Knobs) {
        self.step += 1;
        let (adam, sgd) = knobs.updates();
        adam_step(adam, self.step, &mut self.params, &self.grads, &mut self.m, &mut self.v);
        sgd_step(sgd.lr, sgd.momentum, &mut self.params, &self.grads, &mut self.velocity);
    }

    /// Held-out (reconstruction, KL) means over the rows of `x`, one z per row drawn from `noise` at
    /// counter `chunk` (the GPU evaluation draws chunk by chunk the same way).
    pub fn evaluate(&self, x: &Matrix<T>, noise: RngStream, chunk: u32) -> Result<(f64, f64), CoreError> {
        let arch = &self.arch;
        let (rows, latent) = (x.rows, arch.spec.latent);
        let scale = T::from_f64(1.0 / rows as f64);
        let enc = arch.encoder.forward(&arch.layout, &self.params, x)?;
        let h = enc.last().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "encoder has no layers".into() })?;
        let z = vae_ops::reparam_forward(h, &vae_ops::reparam_noise(noise, rows, latent, chunk));
        let dec = arch.decoder.forward(&arch.layout, &self.params, &z)?;
        let out = dec.last().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "decoder has no layers".into() })?;
        let per_row = match arch.spec.likelihood {
            Likelihood::Bernoulli => loss::bce_with_logits_rows(out, x),
            Likelihood::Gaussian { inv_var } => loss::gaussian_rows(out, x, T::from_f64(f64::from(inv_var))),
        };
        let recon = per_row.iter().map(|v| v.to_f64()).sum::<f64>() * scale.to_f64();
        let kl = vae_ops::kl_per_dim(h, latent, scale).iter().map(|v| v.to_f64()).sum();
        Ok((recon, kl))
    }

    /// The posterior of each row of `x`: (μ, logσ²), each rows × latent.
    pub fn encode(&self, x: &Matrix<T>) -> Result<(Matrix<T>, Matrix<T>), CoreError> {
        let arch = &self.arch;
        let (rows, latent) = (x.rows, arch.spec.latent);
        let enc = arch.encoder.forward(&arch.layout, &self.params, x)?;
        let h = enc.last().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "encoder has no layers".into() })?;
        let column_block = |first: usize| Matrix { rows, cols: latent, data: (0..rows).flat_map(|i| (0..latent).map(move |d| h.at(i, first + d))).collect() };
        Ok((column_block(0), column_block(latent)))
    }

    /// Decoder outputs as data (σ of logits for pixels, means for points) for latent codes `z`.
    pub fn decode(&self, z: &Matrix<T>) -> Result<Matrix<T>, CoreError> {
        let arch = &self.arch;
        let mut dec = arch.decoder.forward(&arch.layout, &self.params, z)?;
        let mut out = dec.pop().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "decoder has no layers".into() })?;
        let mean = arch.spec.likelihood.mean_activation();
        out.data.iter_mut().for_each(|v| *v = mean.apply(*v));
        Ok(out)
    }

    /// Gradients of the last [`compute_gradients`](Self::compute_gradients) (or step).
    pub fn gradients(&self) -> &[T] {
        &self.grads
    }

    /// Adds the gradient of an extra loss on the decoder's output for codes `z` to the gradients
    /// (`outputs` from a dropout-free decoder forward on `z`, `d_out` w.r.t. its last
    /// pre-activation): how a model adds its own terms before [`apply_gradients`](Self::apply_gradients).
    pub(crate) fn accumulate_decoder_gradient(&mut self, z: &Matrix<T>, outputs: &[Matrix<T>], d_out: Matrix<T>) -> Result<(), CoreError> {
        let accumulate = BackwardOptions { accumulate: true, ..BackwardOptions::default() };
        self.arch.decoder.backward(&self.arch.layout, &self.params, ForwardPass { input: z, outputs }, d_out, &mut self.grads, accumulate).map(|_| ())
    }

    /// Forward and backward at the current step's noise, leaving ∂loss/∂params in
    /// [`gradients`](Self::gradients); parameters are untouched.
    pub fn compute_gradients(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<StepMetrics, CoreError> {
        let arch = &self.arch;
        let (batch, latent) = (x.rows, arch.spec.latent);
        let scale = T::from_f64(1.0 / batch as f64);
        knobs.validate()?;
        let drop = |stream_base| Some(MlpDropout { p: knobs.dropout, seed: self.rng.seed, stream_base, step: self.step });
        let (enc_drop, dec_drop) = (drop(ENCODER_DROPOUT_STREAM), drop(DECODER_DROPOUT_STREAM));
        let enc = arch.encoder.forward_with_dropout(&arch.layout, &self.params, x, enc_drop)?;
        let h = enc.last().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "encoder has no layers".into() })?;
        let eps: Matrix<T> = vae_ops::reparam_noise(self.rng, batch, latent, self.step);
        let z = vae_ops::reparam_forward(h, &eps);
        let dec = arch.decoder.forward_with_dropout(&arch.layout, &self.params, &z, dec_drop)?;
        let out = dec.last().ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "decoder has no layers".into() })?;

        let (per_row, d_out) = match arch.spec.likelihood {
            Likelihood::Bernoulli => loss::bce_with_logits(out, x, scale),
            Likelihood::Gaussian { inv_var } => {
                let iv = T::from_f64(f64::from(inv_var));
                (loss::gaussian_rows(out, x, iv), loss::gaussian_grad(out, x, iv, scale))
            }
        };
        let kl_per_dim = vae_ops::kl_per_dim(h, latent, scale);
        let (l1, l2) = (T::from_f64(f64::from(knobs.l1)), T::from_f64(f64::from(knobs.l2)));
        let (l2_term, l1_term) = penalty::values(&self.params, &self.mask, l1, l2);

        let dz = arch.decoder.backward(
            &arch.layout,
            &self.params,
            ForwardPass { input: &z, outputs: &dec },
            d_out,
            &mut self.grads,
            BackwardOptions { input_grad: true, accumulate: false, dropout: dec_drop },
        )?;
        let dz = dz.ok_or_else(|| CoreError::InvalidArgument { op: "vae", message: "decoder returned no input gradient".into() })?;
        let mut dh = Matrix::zeros(batch, 2 * latent);
        vae_ops::reparam_backward(h, &eps, &dz, &mut dh, false);
        vae_ops::kl_grad(h, latent, T::from_f64(f64::from(knobs.beta)) * scale, &mut dh, true);
        arch.encoder.backward(
            &arch.layout,
            &self.params,
            ForwardPass { input: x, outputs: &enc },
            dh,
            &mut self.grads,
            BackwardOptions { dropout: enc_drop, ..BackwardOptions::default() },
        )?;
        penalty::add_gradient(&self.params, &self.mask, l1, l2, &mut self.grads);

        Ok(StepMetrics {
            reconstruction: per_row.iter().map(|v| v.to_f64()).sum::<f64>() * scale.to_f64(),
            kl: kl_per_dim.iter().map(|v| v.to_f64()).sum(),
            kl_per_dim: kl_per_dim.iter().map(|v| v.to_f64()).collect(),
            l2_term: l2_term.to_f64(),
            l1_term: l1_term.to_f64(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff;
    use crate::rng::SplitMix64;

    fn tiny(likelihood: Likelihood) -> (VaeCpu<f64>, Matrix<f64>) {
        let spec = VaeSpec { data_dim: 6, hidden: vec![5], latent: 2, activation: Activation::Tanh, likelihood };
        let arch = spec.build().unwrap_or_else(|e| panic!("{e}"));
        let init = arch.layout.init(3);
        let mut rng = SplitMix64::new(9);
        let x = Matrix { rows: 4, cols: 6, data: (0..24).map(|_| rng.next_f64()).collect() };
        (VaeCpu::new(arch, &init, 5).unwrap_or_else(|e| panic!("{e}")), x)
    }

    /// The whole VAE gradient (both networks, reparameterization, β·KL, L1 and L2) against finite
    /// differences of the loss with the same noise.
    #[test]
    fn gradients_match_finite_differences() {
        for likelihood in [Likelihood::Bernoulli, Likelihood::Gaussian { inv_var: 2.0 }] {
            let (mut vae, x) = tiny(likelihood);
            let knobs = Knobs { beta: 1.7, l1: 0.01, l2: 0.03, dropout: 0.25, ..Knobs::default() };
            vae.compute_gradients(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
            let analytic = vae.gradients().to_vec();
            let probe = vae.clone();
            let fd = finite_diff::gradient(&vae.params, 1e-6, |p| {
                let mut at = probe.clone();
                at.params = p.to_vec();
                at.compute_gradients(&x, &knobs).map(|m| m.total(knobs.beta)).unwrap_or(f64::NAN)
            });
            let mask: Vec<f64> = vae.arch.layout.penalty_mask();
            for (i, (a, f)) in analytic.iter().zip(&fd).enumerate() {
                // L1's kink at 0: padding and biases are never penalized, weights are never exactly 0 here.
                let tol = 1e-5 + 1e-4 * f.abs();
                assert!(
                    (a - f).abs() <= tol || (mask[i] == 0.0 && a.abs() < 1e-12 && f.abs() < 1e-12),
                    "{likelihood:?} param {i}: analytic {a} vs finite difference {f}"
                );
            }
        }
    }

    #[test]
    fn training_lowers_the_loss() {
        let (mut vae, x) = tiny(Likelihood::Bernoulli);
        let knobs = Knobs { lr: 0.01, ..Knobs::default() };
        let first = vae.train_step(&x, &knobs).unwrap_or_else(|e| panic!("{e}")).total(1.0);
        let mut last = first;
        for _ in 0..300 {
            last = vae.train_step(&x, &knobs).unwrap_or_else(|e| panic!("{e}")).total(1.0);
        }
        assert!(last < first - 0.3, "loss went from {first} to {last}");
    }

    #[test]
    fn sgd_with_momentum_trains_and_bad_settings_are_refused() {
        let (mut vae, x) = tiny(Likelihood::Bernoulli);
        let knobs = Knobs { optimizer: crate::knobs::Optimizer::Sgd, lr: 0.05, momentum: 0.9, ..Knobs::default() };
        let first = vae.train_step(&x, &knobs).unwrap_or_else(|e| panic!("{e}")).total(1.0);
        let mut last = first;
        for _ in 0..300 {
            last = vae.train_step(&x, &knobs).unwrap_or_else(|e| panic!("{e}")).total(1.0);
        }
        assert!(last < first - 0.3, "loss went from {first} to {last}");
        let bad = Knobs { momentum: 1.0, ..knobs };
        assert!(vae.train_step(&x, &bad).is_err());
    }

    #[test]
    fn both_splits_score_the_same_number_of_batches() {
        assert_eq!(eval_chunks(8000, 2000, 128), (15, 15));
        assert_eq!(eval_chunks(200, 500, 50), (10, 4));
        assert_eq!(eval_chunks(30, 500, 50), (10, 1), "a training set under one batch still gets one");
    }

    #[test]
    fn hostile_shapes_are_refused() {
        let mut spec = VaeSpec::reference_mnist();
        spec.hidden = vec![1_000_000_000];
        assert!(spec.build().is_err());
        spec.hidden = vec![10; 1000];
        assert!(spec.build().is_err());
        spec.hidden = vec![400];
        spec.latent = 0;
        assert!(spec.build().is_err());
    }
}
