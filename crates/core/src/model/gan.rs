//! The GAN: a generator G(z) and a discriminator D(x) trained against each other with the
//! non-saturating loss, each with its own L2 penalty (λ_G, λ_D) and Adam; and its CPU twin.
//!
//! One D step: real batch and G(z) through D; loss −log σ(D(x)) − log(1 − σ(D(G(z)))); update D.
//! One G step: fresh z; loss −log σ(D(G(z))) (non-saturating); gradients flow through D into G;
//! update G. The D:G ratio is how many D steps run per G step.
//!
//! Two read-only views tell a learner what D has learnt: its loss and accuracy on held-out real rows
//! (a D that beats the training rows but not these has memorised them), and σ(D(p)) over a grid of
//! points, GAN Lab's heat map of where D believes the data lies.

use super::layout::ParamLayout;
use super::mlp::{BackwardOptions, ForwardPass, Mlp};
use crate::activation::{sigmoid, Activation};
use crate::error::CoreError;
use crate::knobs::Knobs;
use crate::matrix::Matrix;
use crate::ops::optimizer::{adam_step, AdamConfig};
use crate::ops::{loss, penalty, vae as vae_ops};
use crate::real::Real;
use crate::rng::RngStream;

/// Noise streams of the D and G steps (the GPU engine draws the same numbers).
pub const D_NOISE_STREAM: u32 = 11;
pub const G_NOISE_STREAM: u32 = 12;

/// Side of the discriminator heat map: the GPU engine records D over `MAP_SIDE²` points once.
pub const MAP_SIDE: usize = 64;
/// Points of the heat map: also the most one GPU map or generate call evaluates.
pub const MAP_POINTS: usize = MAP_SIDE * MAP_SIDE;

/// The centres of a `side` × `side` grid of cells tiling [−half_extent, half_extent]², row by row from
/// the top (y = +half_extent), so that point `row * side + col` is pixel (col, row) of an image.
pub fn map_grid(side: usize, half_extent: f32) -> Vec<[f32; 2]> {
    let cell = 2.0 * half_extent / side.max(1) as f32;
    let centre = |i: usize| -half_extent + (i as f32 + 0.5) * cell;
    (0..side).flat_map(|row| (0..side).map(move |col| [centre(col), -centre(row)])).collect()
}

/// The shape of a GAN.
#[derive(Clone, Debug, PartialEq)]
pub struct GanSpec {
    pub data_dim: usize,
    pub latent: usize,
    pub generator_hidden: Vec<usize>,
    pub discriminator_hidden: Vec<usize>,
    pub generator_activation: Activation,
    pub discriminator_activation: Activation,
}

impl GanSpec {
    /// GAN Lab's kind of model for 2D data.
    pub fn toy_2d() -> Self {
        Self {
            data_dim: 2,
            latent: 2,
            generator_hidden: vec![64, 64],
            discriminator_hidden: vec![64, 64],
            generator_activation: Activation::Relu,
            discriminator_activation: Activation::LeakyRelu,
        }
    }

    pub fn build(&self) -> Result<GanArch, CoreError> {
        let bad = |message: String| Err(CoreError::InvalidArgument { op: "gan", message });
        let widths_ok = |w: &[usize]| w.len() <= super::vae::MAX_HIDDEN_LAYERS && w.iter().all(|&x| (1..=super::vae::MAX_WIDTH).contains(&x));
        if !(1..=super::vae::MAX_WIDTH).contains(&self.data_dim) || !(1..=super::vae::MAX_WIDTH).contains(&self.latent) {
            return bad(format!("data dimension {} and latent size {} must be in 1..={}", self.data_dim, self.latent, super::vae::MAX_WIDTH));
        }
        if !widths_ok(&self.generator_hidden) || !widths_ok(&self.discriminator_hidden) {
            return bad(format!(
                "hidden layers G {:?}, D {:?}: at most {} each, widths 1..={}",
                self.generator_hidden,
                self.discriminator_hidden,
                super::vae::MAX_HIDDEN_LAYERS,
                super::vae::MAX_WIDTH
            ));
        }
        let mut g_layout = ParamLayout::default();
        let g_widths: Vec<usize> = std::iter::once(self.latent).chain(self.generator_hidden.iter().copied()).chain([self.data_dim]).collect();
        let generator = Mlp::new(&mut g_layout, "generator", &g_widths, self.generator_activation, Activation::Identity);
        let mut d_layout = ParamLayout::default();
        let d_widths: Vec<usize> = std::iter::once(self.data_dim).chain(self.discriminator_hidden.iter().copied()).chain([1]).collect();
        let discriminator = Mlp::new(&mut d_layout, "discriminator", &d_widths, self.discriminator_activation, Activation::Identity);
        Ok(GanArch { spec: self.clone(), g_layout, d_layout, generator, discriminator })
    }
}

/// The two networks and their parameter layouts.
#[derive(Clone, Debug, PartialEq)]
pub struct GanArch {
    pub spec: GanSpec,
    pub g_layout: ParamLayout,
    pub d_layout: ParamLayout,
    pub generator: Mlp,
    pub discriminator: Mlp,
}

/// What a D step measured (means over the batch).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DiscriminatorMetrics {
    pub loss_real: f64,
    pub loss_fake: f64,
    /// Share of real samples D called real, and of fakes it called fake.
    pub accuracy_real: f64,
    pub accuracy_fake: f64,
    pub l2_term: f64,
}

/// D on held-out real rows, means over `rows`: a D that is right on the training rows but not on
/// these has memorised them rather than learnt the distribution.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeldOutMetrics {
    pub loss_real: f64,
    /// Share of the held-out rows D called real.
    pub accuracy_real: f64,
    pub rows: usize,
}

/// One network's parameters and optimizer state.
#[derive(Clone, Debug)]
pub(crate) struct NetState<T> {
    pub(crate) params: Vec<T>,
    pub(crate) grads: Vec<T>,
    m: Vec<T>,
    v: Vec<T>,
    mask: Vec<T>,
    pub(crate) steps: u32,
}

impl<T: Real> NetState<T> {
    pub(crate) fn new(layout: &ParamLayout, init: &[f32]) -> Result<Self, CoreError> {
        if init.len() != layout.len {
            return Err(CoreError::ShapeMismatch { op: "gan parameters", expected: format!("{} values", layout.len), got: format!("{} values", init.len()) });
        }
        let zeros = vec![T::zero(); layout.len];
        Ok(Self {
            params: init.iter().map(|&p| T::from_f64(f64::from(p))).collect(),
            grads: zeros.clone(),
            m: zeros.clone(),
            v: zeros,
            mask: layout.penalty_mask(),
            steps: 0,
        })
    }

    /// Adds λ₂ to the gradients, returns the L2 term, and takes one Adam step.
    fn penalize_and_update(&mut self, l2: f32, adam: AdamConfig) -> f64 {
        let l2 = T::from_f64(f64::from(l2));
        let (l2_term, _) = penalty::values(&self.params, &self.mask, T::zero(), l2);
        penalty::add_gradient(&self.params, &self.mask, T::zero(), l2, &mut self.grads);
        self.steps += 1;
        adam_step(adam, self.steps, &mut self.params, &self.grads, &mut self.m, &mut self.v);
        l2_term.to_f64()
    }
}

fn last_layer<T: Real>(acts: &[Matrix<T>]) -> Result<&Matrix<T>, CoreError> {
    acts.last().ok_or_else(|| CoreError::InvalidArgument { op: "gan", message: "discriminator has no layers".into() })
}

/// D's half of a discriminator step once the fakes exist (any model whose samples D judges: the
/// GAN's generator, the VAE-GAN's decoder): losses on `x` (real) and `fake`, gradients (real, then
/// fake accumulated), λ_D and one step of the discriminator's Adam.
pub(crate) fn discriminator_update<T: Real>(
    d: &Mlp,
    layout: &ParamLayout,
    state: &mut NetState<T>,
    x: &Matrix<T>,
    fake: &Matrix<T>,
    knobs: &Knobs,
) -> Result<DiscriminatorMetrics, CoreError> {
    let scale = T::from_f64(1.0 / x.rows as f64);
    let (real_acts, fake_acts) = (d.forward(layout, &state.params, x)?, d.forward(layout, &state.params, fake)?);
    let (real_logits, fake_logits) = (last_layer(&real_acts)?, last_layer(&fake_acts)?);
    let (loss_real, hits_real) = loss::gan_rows(real_logits, T::one());
    let (loss_fake, hits_fake) = loss::gan_rows(fake_logits, T::zero());
    d.backward(
        layout,
        &state.params,
        ForwardPass { input: x, outputs: &real_acts },
        loss::gan_grad(real_logits, T::one(), scale),
        &mut state.grads,
        BackwardOptions::default(),
    )?;
    let accumulate = BackwardOptions { accumulate: true, ..BackwardOptions::default() };
    d.backward(
        layout,
        &state.params,
        ForwardPass { input: fake, outputs: &fake_acts },
        loss::gan_grad(fake_logits, T::zero(), scale),
        &mut state.grads,
        accumulate,
    )?;
    let l2_term = state.penalize_and_update(knobs.l2_discriminator(), knobs.adam_discriminator());
    Ok(DiscriminatorMetrics {
        loss_real: mean(&loss_real),
        loss_fake: mean(&loss_fake),
        accuracy_real: mean(&hits_real),
        accuracy_fake: mean(&hits_fake),
        l2_term,
    })
}

/// The non-saturating generator loss −log σ(D(fake)) through a frozen D: the per-row losses and
/// scale · ∂loss/∂fake (D's own parameter gradients go to a scratch buffer and are dropped).
pub(crate) fn generator_signal<T: Real>(d: &Mlp, layout: &ParamLayout, params: &[T], fake: &Matrix<T>, scale: T) -> Result<(Vec<T>, Matrix<T>), CoreError> {
    let acts = d.forward(layout, params, fake)?;
    let logits = last_layer(&acts)?;
    let (loss_rows, _) = loss::gan_rows(logits, T::one());
    let mut scratch = vec![T::zero(); layout.len];
    let input_grad = BackwardOptions { input_grad: true, ..BackwardOptions::default() };
    let d_fake = d.backward(layout, params, ForwardPass { input: fake, outputs: &acts }, loss::gan_grad(logits, T::one(), scale), &mut scratch, input_grad)?;
    let d_fake = d_fake.ok_or_else(|| CoreError::InvalidArgument { op: "gan", message: "no gradient reached the generator".into() })?;
    Ok((loss_rows, d_fake))
}

fn mean<T: Real>(v: &[T]) -> f64 {
    v.iter().map(|x| x.to_f64()).sum::<f64>() / v.len().max(1) as f64
}

/// The GAN trained on the CPU.
#[derive(Clone, Debug)]
pub struct GanCpu<T> {
    pub arch: GanArch,
    generator: NetState<T>,
    discriminator: NetState<T>,
    seed: u32,
}

impl<T: Real> GanCpu<T> {
    pub fn new(arch: GanArch, g_init: &[f32], d_init: &[f32], seed: u32) -> Result<Self, CoreError> {
        Ok(Self { generator: NetState::new(&arch.g_layout, g_init)?, discriminator: NetState::new(&arch.d_layout, d_init)?, arch, seed })
    }

    pub fn generator_params(&self) -> &[T] {
        &self.generator.params
    }

    pub fn discriminator_params(&self) -> &[T] {
        &self.discriminator.params
    }

    /// Replaces the generator's parameters (D and both optimizers' state carry on).
    pub fn set_generator_params(&mut self, params: &[f32]) -> Result<(), CoreError> {
        if params.len() != self.generator.params.len() {
            return Err(CoreError::ShapeMismatch {
                op: "gan parameters",
                expected: format!("{} values", self.generator.params.len()),
                got: format!("{} values", params.len()),
            });
        }
        self.generator.params = params.iter().map(|&p| T::from_f64(f64::from(p))).collect();
        Ok(())
    }

    /// (D steps, G steps) completed.
    pub fn steps(&self) -> (u32, u32) {
        (self.discriminator.steps, self.generator.steps)
    }

    /// G(z) for latent codes `z`.
    pub fn generate(&self, z: &Matrix<T>) -> Result<Matrix<T>, CoreError> {
        let mut out = self.arch.generator.forward(&self.arch.g_layout, &self.generator.params, z)?;
        out.pop().ok_or_else(|| CoreError::InvalidArgument { op: "gan", message: "generator has no layers".into() })
    }

    fn noise(&self, stream: u32, rows: usize, step: u32) -> Matrix<T> {
        vae_ops::reparam_noise(RngStream::new(self.seed, stream), rows, self.arch.spec.latent, step)
    }

    fn discriminate(&self, x: &Matrix<T>) -> Result<Vec<Matrix<T>>, CoreError> {
        self.arch.discriminator.forward(&self.arch.d_layout, &self.discriminator.params, x)
    }

    fn logits(&self, x: &Matrix<T>) -> Result<Matrix<T>, CoreError> {
        self.discriminate(x)?.pop().ok_or_else(|| CoreError::InvalidArgument { op: "gan", message: "discriminator has no layers".into() })
    }

    /// D's loss and accuracy on held-out real rows `x` (every row counts); changes nothing.
    pub fn evaluate_discriminator(&self, x: &Matrix<T>) -> Result<HeldOutMetrics, CoreError> {
        let (loss, hits) = loss::gan_rows(&self.logits(x)?, T::one());
        Ok(HeldOutMetrics { loss_real: mean(&loss), accuracy_real: mean(&hits), rows: x.rows })
    }

    /// σ(D(x)) for each row of `x`: D's belief that the point is real (the heat map).
    pub fn discriminator_probabilities(&self, x: &Matrix<T>) -> Result<Vec<T>, CoreError> {
        Ok(self.logits(x)?.data.into_iter().map(sigmoid).collect())
    }

    /// One discriminator step on the real batch `x`.
    pub fn discriminator_step(&mut self, x: &Matrix<T>, knobs: &Knobs) -> Result<DiscriminatorMetrics, CoreError> {
        let fake = self.generate(&self.noise(D_NOISE_STREAM, x.rows, self.discriminator.steps))?;
        discriminator_update(&self.arch.discriminator, &self.arch.d_layout, &mut self.discriminator, x, &fake, knobs)
    }

    /// One generator step (non-saturating loss) on a fresh batch of `batch` codes; returns
    /// (generator loss, its L2 term).
    pub fn generator_step(&mut self, batch: usize, knobs: &Knobs) -> Result<(f64, f64), CoreError> {
        let scale = T::from_f64(1.0 / batch as f64);
        let z = self.noise(G_NOISE_STREAM, batch, self.generator.steps);
        let g_acts = self.arch.generator.forward(&self.arch.g_layout, &self.generator.params, &z)?;
        let fake = g_acts.last().cloned().ok_or_else(|| CoreError::InvalidArgument { op: "gan", message: "generator has no layers".into() })?;
        let (g_loss, d_fake) = generator_signal(&self.arch.discriminator, &self.arch.d_layout, &self.discriminator.params, &fake, scale)?;
        let state = &mut self.generator;
        self.arch.generator.backward(
            &self.arch.g_layout,
            &state.params,
            ForwardPass { input: &z, outputs: &g_acts },
            d_fake,
            &mut state.grads,
            BackwardOptions::default(),
        )?;
        let l2_term = state.penalize_and_update(knobs.l2_generator(), knobs.adam_generator());
        Ok((mean(&g_loss), l2_term))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff;
    use crate::rng::SplitMix64;

    fn tiny() -> (GanCpu<f64>, Matrix<f64>) {
        let spec = GanSpec {
            data_dim: 2,
            latent: 2,
            generator_hidden: vec![5],
            discriminator_hidden: vec![4],
            generator_activation: Activation::Tanh,
            discriminator_activation: Activation::Tanh,
        };
        let arch = spec.build().unwrap_or_else(|e| panic!("{e}"));
        let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
        let mut rng = SplitMix64::new(4);
        let x = Matrix { rows: 6, cols: 2, data: (0..12).map(|_| rng.range(-2.0, 2.0)).collect() };
        (GanCpu::new(arch, &g, &d, 9).unwrap_or_else(|e| panic!("{e}")), x)
    }

    fn no_update() -> Knobs {
        Knobs { lr: 0.0, l2_g: Some(0.02), l2_d: Some(0.03), ..Knobs::default() }
    }

    fn assert_close(analytic: &[f64], fd: &[f64], what: &str) {
        for (i, (a, f)) in analytic.iter().zip(fd).enumerate() {
            assert!((a - f).abs() <= 1e-6 + 1e-4 * f.abs(), "{what} param {i}: analytic {a} vs finite difference {f}");
        }
    }

    #[test]
    fn discriminator_gradient_matches_finite_differences() {
        let (mut gan, x) = tiny();
        let knobs = no_update();
        let probe = gan.clone();
        gan.discriminator_step(&x, &knobs).unwrap_or_else(|e| panic!("{e}"));
        let fd = finite_diff::gradient(&probe.discriminator.params, 1e-6, |p| {
            let mut at = probe.clone();
            at.discriminator.params = p.to_vec();
            at.discriminator_step(&x, &knobs).map(|m| m.loss_real + m.loss_fake + m.l2_term).unwrap_or(f64::NAN)
        });
        assert_close(&gan.discriminator.grads, &fd, "D");
    }

    #[test]
    fn generator_gradient_matches_finite_differences() {
        let (mut gan, _) = tiny();
        let knobs = no_update();
        let probe = gan.clone();
        gan.generator_step(6, &knobs).unwrap_or_else(|e| panic!("{e}"));
        let fd = finite_diff::gradient(&probe.generator.params, 1e-6, |p| {
            let mut at = probe.clone();
            at.generator.params = p.to_vec();
            at.generator_step(6, &knobs).map(|(loss, l2)| loss + l2).unwrap_or(f64::NAN)
        });
        assert_close(&gan.generator.grads, &fd, "G");
    }

    #[test]
    fn held_out_metrics_and_map_read_d_without_changing_it() {
        let (mut gan, x) = tiny();
        let before = gan.clone();
        let held_out = gan.evaluate_discriminator(&x).unwrap_or_else(|e| panic!("{e}"));
        let probabilities = gan.discriminator_probabilities(&x).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(gan.discriminator.params, before.discriminator.params);
        // The D step measures its real-row loss before it updates, so both must agree.
        let step = gan.discriminator_step(&x, &no_update()).unwrap_or_else(|e| panic!("{e}"));
        assert!((held_out.loss_real - step.loss_real).abs() < 1e-12, "{held_out:?} vs {step:?}");
        assert!((held_out.accuracy_real - step.accuracy_real).abs() < 1e-12);
        assert_eq!(held_out.rows, 6);
        let from_map = probabilities.iter().map(|p| -p.ln()).sum::<f64>() / 6.0;
        assert!((from_map - held_out.loss_real).abs() < 1e-9, "σ(D) gives loss {from_map}, D gives {}", held_out.loss_real);
    }

    #[test]
    fn map_grid_runs_row_by_row_from_the_top() {
        assert_eq!(map_grid(2, 1.0), vec![[-0.5, 0.5], [0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]]);
        assert_eq!(map_grid(MAP_SIDE, 3.0).len(), MAP_POINTS);
    }
}
