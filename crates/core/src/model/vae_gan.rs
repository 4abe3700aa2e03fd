//! The VAE-GAN: a VAE whose decoder also plays generator against a discriminator D, so that the
//! reconstruction loss's blur is traded for samples D cannot tell from data; and its CPU twin.
//!
//! One round is one D step then one VAE step:
//! - D step: real = the training batch, fake = the decoder's mean on prior codes z_p (σ(logits) for
//!   pixels, the mean for points) from [`D_NOISE_STREAM`] at the D step count; loss
//!   −log σ(D(x)) − log(1 − σ(D(fake))), λ₂ on D, Adam on D.
//! - VAE step: the VAE's own loss (reconstruction + β·KL + penalties, the code of [`VaeCpu`]) plus
//!   γ · the non-saturating generator loss −log σ(D(dec_mean(z_p'))) on fresh prior codes from
//!   [`G_NOISE_STREAM`] at the VAE step count; its gradient flows through the frozen D and the mean
//!   map into the decoder. One Adam over encoder and decoder. γ = 0 is exactly the plain VAE.
//!
//! The adversarial passes run the decoder without dropout: D judges the samples the user sees.

use super::gan::{self, DiscriminatorMetrics, NetState, D_NOISE_STREAM, G_NOISE_STREAM};
use super::layout::ParamLayout;
use super::mlp::Mlp;
use super::vae::{StepMetrics, VaeArch, VaeCpu, VaeSpec, MAX_HIDDEN_LAYERS, MAX_WIDTH};
use crate::activation::Activation;
use crate::error::CoreError;
use crate::knobs::Knobs;
use crate::matrix::Matrix;
use crate::ops::vae as vae_ops;
use crate::real::Real;
use crate::rng::RngStream;

/// The shape of a VAE-GAN: the VAE and its discriminator.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeGanSpec {
    pub vae: VaeSpec,
    pub discriminator_hidden: Vec<usize>,
    pub discriminator_activation: Activation,
}

impl VaeGanSpec {
    /// `vae` with a discriminator of the given hidden widths and LeakyReLU, the GAN's default.
    pub fn new(vae: VaeSpec, discriminator_hidden: Vec<usize>) -> Self {
        Self { vae, discriminator_hidden, discriminator_activation: Activation::LeakyRelu }
    }

    /// Checks sizes and lays out both networks' parameters (D in its own layout).
    pub fn build(&self) -> Result<VaeGanArch, CoreError> {
        let vae = self.vae.build()?;
        let hidden = &self.discriminator_hidden;
        if hidden.len() > MAX_HIDDEN_LAYERS || hidden.iter().any(|&w| w == 0 || w > MAX_WIDTH) {
            return Err(CoreError::InvalidArgument {
                op: "vae-gan",
                message: format!("discriminator hidden layers {hidden:?}: at most {MAX_HIDDEN_LAYERS}, each 1..={MAX_WIDTH} wide"),
            });
        }
        let mut d_layout = ParamLayout::default();
        let widths: Vec<usize> = std::iter::once(self.vae.data_dim).chain(hidden.iter().copied()).chain([1]).collect();
        let discriminator = Mlp::new(&mut d_layout, "discriminator", &widths, self.discriminator_activation, Activation::Identity);
        Ok(VaeGanArch { spec: self.clone(), vae, d_layout, discriminator })
    }
}

/// The compiled VAE-GAN: the VAE's layers and layout, and D's.
#[derive(Clone, Debug, PartialEq)]
pub struct VaeGanArch {
    pub spec: VaeGanSpec,
    pub vae: VaeArch,
    pub d_layout: ParamLayout,
    pub discriminator: Mlp,
}

/// What one round measured.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VaeGanMetrics {
    /// The VAE step's terms (before its update).
    pub vae: StepMetrics,
    /// The D step (before its update).
    pub discriminator: DiscriminatorMetrics,
    /// The VAE step's generator loss −log σ(D(dec_mean(z_p'))), unweighted (γ is applied in `total`).
    pub generator_loss: f64,
}

impl VaeGanMetrics {
    /// The loss the encoder and decoder minimised: the VAE's total + γ · generator loss.
    pub fn total(&self, knobs: &Knobs) -> f64 {
        self.vae.total(knobs.beta) + f64::from(knobs.gamma) * self.generator_loss
    }

    /// False once anything is NaN or infinite: the run diverged.
    pub fn is_finite(&self) -> bool {
        let d = &self.discriminator;
        self.vae.is_finite() && [self.generator_loss, d.loss_real, d.loss_fake, d.l2_term].iter().all(|v| v.is_finite())
    }
}

/// The VAE-GAN trained on the CPU, in `T` (f32 as the engine, f64 as an oracle).
#[derive(Clone, Debug)]
pub struct VaeGanCpu<T> {
    pub arch: VaeGanArch,
    vae: VaeCpu<T>,
    discriminator: NetState<T>,
    seed: u32,
}

impl<T: Real> VaeGanCpu<T> {
    /// From initial VAE parameters (in `arch.vae.layout`) and D parameters (in `arch.d_layout`).
    pub fn new(arch: VaeGanArch, vae_init: &[f32], d_init: &[f32], seed: u32) -> Result<Self, CoreError> {
        Ok(Self { vae: VaeCpu::new(arch.vae.clone(), vae_init, seed)?, discriminator: NetState::new(&arch.d_layout, d_init)?, arch, seed })
    }

    /// The encoder and decoder: parameters, step count, [`decode`](VaeCpu::decode), [`evaluate`](VaeCpu::evaluate).
    pub fn vae(&self) -> &VaeCpu<T> {
        &self.vae
    }

    /// The encoder and decoder, mutably: for restoring a checkpoint of their parameters.
    pub fn vae_mut(&mut self) -> &mut VaeCpu<T> {
        &mut self.vae
    }

    pub fn discriminator_params(&self) -> &[T] {
        &self.discriminator.params
    }

    /// Gradients of the encoder and decoder from the last VAE step.
    pub fn gradients(&self) -> &[T] {
        self.vae.gradients()
    }

    /// D steps completed.
    pub fn discriminator_steps(&self) -> u32 {
        self.discriminator.steps
    }

    /// One D step then one VAE step, both on the batch `x`.
    pub fn train_round(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<VaeGanMetrics, CoreError> {
        let discriminator = self.discriminator_step(x, knobs)?;
        let (vae, generator_loss) = self.vae_step(x, knobs)?;
        Ok(VaeGanMetrics { vae, discriminator, generator_loss })
    }

    /// One D step: `x` against the decoder's means on prior codes.
    pub fn discriminator_step(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<DiscriminatorMetrics, CoreError> {
        let z = self.prior_codes(D_NOISE_STREAM, x.rows, self.discriminator.steps);
        let (_, fake) = self.decode_mean(&z)?;
        gan::discriminator_update(&self.arch.discriminator, &self.arch.d_layout, &mut self.discriminator, x, &fake, knobs)
    }

    /// One VAE step with the adversarial term; returns the VAE's metrics and the generator loss.
    pub fn vae_step(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<(StepMetrics, f64), CoreError> {
        let metrics = self.compute_vae_gradients(x, knobs)?;
        self.vae.apply_gradients(knobs);
        Ok(metrics)
    }

    /// The VAE step's forward and backward, leaving ∂(VAE loss + γ·generator loss)/∂params in
    /// [`gradients`](Self::gradients); parameters are untouched.
    pub fn compute_vae_gradients(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<(StepMetrics, f64), CoreError> {
        let metrics = self.vae.compute_gradients(x, knobs)?;
        let z = self.prior_codes(G_NOISE_STREAM, x.rows, self.vae.step);
        let (outputs, fake) = self.decode_mean(&z)?;
        let scale = T::from_f64(f64::from(knobs.gamma) / x.rows as f64);
        let (loss_rows, d_fake) = gan::generator_signal(&self.arch.discriminator, &self.arch.d_layout, &self.discriminator.params, &fake, scale)?;
        let mean = self.arch.vae.spec.likelihood.mean_activation();
        let d_out =
            Matrix { rows: fake.rows, cols: fake.cols, data: d_fake.data.iter().zip(&fake.data).map(|(&g, &y)| g * mean.derivative_from_output(y)).collect() };
        self.vae.accumulate_decoder_gradient(&z, &outputs, d_out)?;
        let generator_loss = loss_rows.iter().map(|v| v.to_f64()).sum::<f64>() / x.rows.max(1) as f64;
        Ok((metrics, generator_loss))
    }

    fn prior_codes(&self, stream: u32, rows: usize, step: u32) -> Matrix<T> {
        vae_ops::reparam_noise(RngStream::new(self.seed, stream), rows, self.arch.vae.spec.latent, step)
    }

    /// The decoder's layer outputs on `z` (no dropout) and its mean as data.
    fn decode_mean(&self, z: &Matrix<T>) -> Result<(Vec<Matrix<T>>, Matrix<T>), CoreError> {
        let arch = &self.arch.vae;
        let outputs = arch.decoder.forward(&arch.layout, &self.vae.params, z)?;
        let mut fake = outputs.last().cloned().ok_or_else(|| CoreError::InvalidArgument { op: "vae-gan", message: "decoder has no layers".into() })?;
        let mean = arch.spec.likelihood.mean_activation();
        fake.data.iter_mut().for_each(|v| *v = mean.apply(*v));
        Ok((outputs, fake))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff;
    use crate::model::Likelihood;
    use crate::rng::SplitMix64;

    fn tiny(likelihood: Likelihood) -> (VaeGanCpu<f64>, Matrix<f64>) {
        let vae = VaeSpec { data_dim: 6, hidden: vec![5], latent: 2, activation: Activation::Tanh, likelihood };
        let spec = VaeGanSpec { vae, discriminator_hidden: vec![4], discriminator_activation: Activation::Tanh };
        let arch = spec.build().unwrap_or_else(|e| panic!("{e}"));
        let (init, d_init) = (arch.vae.layout.init(3), arch.d_layout.init(4));
        let mut rng = SplitMix64::new(9);
        let x = Matrix { rows: 4, cols: 6, data: (0..24).map(|_| rng.next_f64()).collect() };
        (VaeGanCpu::new(arch, &init, &d_init, 5).unwrap_or_else(|e| panic!("{e}")), x)
    }

    fn knobs(gamma: f32) -> Knobs {
        Knobs { beta: 1.3, l1: 0.01, l2: 0.03, dropout: 0.25, lr: 0.01, gamma, l2_d: Some(0.02), ..Knobs::default() }
    }

    /// The whole VAE-step gradient (VAE terms, and γ·generator loss through D and σ into the
    /// decoder) against finite differences of its loss with the same noise, after one round so D
    /// is no longer at its initialisation.
    #[test]
    fn vae_step_gradient_matches_finite_differences() {
        for likelihood in [Likelihood::Bernoulli, Likelihood::Gaussian { inv_var: 2.0 }] {
            let (mut model, x) = tiny(likelihood);
            let knobs = knobs(0.7);
            model.train_round(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
            let probe = model.clone();
            model.compute_vae_gradients(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
            let fd = finite_diff::gradient(&probe.vae.params, 1e-6, |p| {
                let mut at = probe.clone();
                at.vae.params = p.to_vec();
                at.compute_vae_gradients(&x, &knobs).map(|(m, g)| m.total(knobs.beta) + f64::from(knobs.gamma) * g).unwrap_or(f64::NAN)
            });
            let mask: Vec<f64> = model.arch.vae.layout.penalty_mask();
            for (i, (a, f)) in model.gradients().iter().zip(&fd).enumerate() {
                let tol = 1e-5 + 1e-4 * f.abs();
                assert!(
                    (a - f).abs() <= tol || (mask[i] == 0.0 && a.abs() < 1e-12 && f.abs() < 1e-12),
                    "{likelihood:?} param {i}: analytic {a} vs finite difference {f}"
                );
            }
        }
    }

    #[test]
    fn discriminator_gradient_matches_finite_differences() {
        let (mut model, x) = tiny(Likelihood::Bernoulli);
        let frozen = Knobs { lr_d: Some(0.0), ..knobs(0.7) };
        model.train_round(&x, &knobs(0.7)).unwrap_or_else(|e| panic!("{e}"));
        let probe = model.clone();
        model.discriminator_step(&x, &frozen).unwrap_or_else(|e| panic!("{e}"));
        let fd = finite_diff::gradient(&probe.discriminator.params, 1e-6, |p| {
            let mut at = probe.clone();
            at.discriminator.params = p.to_vec();
            at.discriminator_step(&x, &frozen).map(|m| m.loss_real + m.loss_fake + m.l2_term).unwrap_or(f64::NAN)
        });
        for (i, (a, f)) in model.discriminator.grads.iter().zip(&fd).enumerate() {
            assert!((a - f).abs() <= 1e-6 + 1e-4 * f.abs(), "D param {i}: analytic {a} vs finite difference {f}");
        }
    }

    /// γ = 0: the encoder and decoder follow the plain VAE bit for bit, round after round, while D
    /// trains beside them.
    #[test]
    fn gamma_zero_is_the_plain_vae() {
        let (mut model, x) = tiny(Likelihood::Bernoulli);
        let mut plain: VaeCpu<f64> = VaeCpu::new(model.arch.vae.clone(), &model.arch.vae.layout.init(3), 5).unwrap_or_else(|e| panic!("{e}"));
        let knobs = knobs(0.0);
        for round in 0..5 {
            let got = model.train_round(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
            let expected = plain.compute_gradients(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(model.gradients(), plain.gradients(), "round {round}: gradients differ");
            plain.apply_gradients(&knobs);
            assert_eq!(got.vae, expected, "round {round}: metrics differ");
            assert_eq!(model.vae().params, plain.params, "round {round}: parameters differ");
        }
        assert_eq!(model.discriminator_steps(), 5);
    }

    #[test]
    fn bad_gamma_and_shapes_are_refused() {
        let (mut model, x) = tiny(Likelihood::Bernoulli);
        for gamma in [-1.0, f32::NAN, f32::INFINITY] {
            assert!(model.vae_step(&x, &knobs(gamma)).is_err(), "γ = {gamma} was accepted");
        }
        let spec = VaeGanSpec::new(VaeSpec::reference_mnist(), vec![0]);
        assert!(spec.build().is_err());
    }
}
