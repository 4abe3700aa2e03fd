//! The grid search the course's readings describe, on the CPU twin with no front end: an L2 sweep
//! over 200 training digits with 3-fold cross-validation gives a U-shaped validation curve (too
//! little L2 overfits, too much underfits), so the chosen λ lies strictly inside the grid; the
//! refit at the chosen λ is scored on the held-out digits no member saw.

use latent_core::Activation;
use latent_session::config::{DataConfig, Dataset, Knob, ModelKind, Shape};
use latent_session::run::{Cadence, RunOptions};
use latent_session::sweep::{Sweep, SweepSpec};
use latent_session::RunSpec;
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");

/// Steps every member trains: long enough for 200 digits to overfit without L2, short enough
/// that λ = 0.1 still underfits (at 1,500 steps the least validation −ELBO moved to 0.1, the end).
const STEPS: usize = 800;

#[test]
fn an_l2_sweep_with_folds_is_u_shaped() {
    let steps = STEPS;
    let base = RunSpec {
        data: DataConfig { dataset: Dataset::Mnist, train_size: 200, noise: 0.0, drawn: Vec::new() },
        shape: Shape { model: ModelKind::Vae, hidden: vec![128], discriminator_hidden: None, activation: Activation::Relu, latent: 16, batch: 32, seed: 2 },
        knobs: latent_core::Knobs { lr: 3e-3, ..latent_core::Knobs::default() },
        options: RunOptions { early_stopping: None, beta_warmup: 0, evaluation: Cadence::Never, checkpoints: Cadence::Never, held_out_digits: 1000 },
    };
    let values = vec![0.0, 1e-4, 1e-3, 1e-2, 3e-2, 1e-1];
    let spec = SweepSpec { base, knob: Knob::L2, values, folds: 3, across: None };
    let mut sweep = Sweep::build(spec, None, Some(MNIST)).unwrap_or_else(|e| panic!("{e}"));
    block_on(sweep.advance(steps)).unwrap_or_else(|e| panic!("{e}"));
    let curve = block_on(sweep.curve()).unwrap_or_else(|e| panic!("{e}"));
    for p in &curve.points {
        println!(
            "λ {:>7}: train {:.1}, validation {:.1} ± {:.1}",
            p.value,
            p.train.unwrap_or(f64::NAN),
            p.validation.unwrap_or(f64::NAN),
            p.standard_error.unwrap_or(f64::NAN)
        );
    }
    let (Some(min), Some(one_se)) = (curve.min, curve.one_se) else { panic!("no choice: {curve:?}") };
    let (best, chosen) = (&curve.points[min], &curve.points[one_se]);
    println!("λ_min {}, λ_1se {}", best.value, chosen.value);
    assert!(min > 0 && min + 1 < curve.points.len(), "λ_min {} is an end of the grid: the curve is not U-shaped", best.value);
    let (least, se) = (best.validation.unwrap_or(f64::NAN), best.standard_error.unwrap_or(f64::NAN));
    for end in [&curve.points[0], &curve.points[curve.points.len() - 1]] {
        let v = end.validation.unwrap_or(f64::NAN);
        assert!(v > least + se, "λ {}: validation {v:.1} is not measurably worse than λ_min's {least:.1} ± {se:.1}", end.value);
    }
    assert!(chosen.value >= best.value, "λ_1se {} regularises less than λ_min {}", chosen.value, best.value);
    // Too little L2 overfits: the widest gap between training and validation −ELBO.
    let gap = |p: &latent_session::sweep::CurvePoint| p.validation.unwrap_or(f64::NAN) - p.train.unwrap_or(f64::NAN);
    assert!(gap(&curve.points[0]) > gap(chosen) + 10.0, "no overfitting without L2: gaps {:.1} and {:.1}", gap(&curve.points[0]), gap(chosen));
    let test = block_on(sweep.refit(chosen.value, steps, None)).unwrap_or_else(|e| panic!("{e}"));
    println!("refit at λ_1se on all 200 digits: held-out −ELBO {test:.1} (no member saw these digits)");
    assert!(test.is_finite(), "the refit's held-out −ELBO is {test}");
}
