//! What a teacher expects to see, asserted on the native engine (lavapipe in CI).
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write as _;

use std::sync::Arc;

use anyhow::Context as _;
use latent_core::data::mnist::{self, Mnist};
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::data::{Rows, RunData};
use latent_core::engine::{EvalSplit, GanModel as _, ModelSetup, VaeModel as _};
use latent_core::model::GanSpec;
use latent_core::Knobs;
use latent_gpu::{GpuContext, GpuGan, Kernels};

fn block<T>(f: impl std::future::Future<Output = anyhow::Result<T>>) -> T {
    pollster::block_on(f).unwrap_or_else(|e| panic!("{e:#}"))
}

const MNIST_ASSET: &[u8] = include_bytes!("../../www/assets/mnist-10k.bin");

/// The project's MNIST split: the digits, its training rows in their stored order, its held-out rows.
fn mnist_split() -> anyhow::Result<(Mnist, Vec<u32>, Vec<u32>)> {
    let data = Mnist::parse(MNIST_ASSET)?;
    let split = data.split(mnist::DEFAULT_TEST_COUNT, mnist::DEFAULT_SPLIT_SEED)?;
    Ok((data, split.train, split.test))
}

/// MNIST rows training on `train` and holding out `test`.
fn mnist_rows(data: &Mnist, train: Vec<u32>, test: Vec<u32>) -> Arc<RunData> {
    Arc::new(RunData { rows: Rows::Pixels(data.shared_pixels()), dim: mnist::PIXELS, labels: None, train, test })
}

async fn kernels() -> anyhow::Result<Kernels> {
    let ctx = GpuContext::new().await?;
    Ok(Kernels::new(&ctx).await?)
}

/// With default settings the GAN on the ring of 8 Gaussians covers at least 6 of the 8 modes.
#[test]
fn gan_covers_the_ring() {
    let covered = block(async {
        let kernels = kernels().await?;
        let rows = 4096;
        let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows, toy2d::DEFAULT_NOISE, 1)?.into_iter().flatten().collect();
        let indices: Vec<u32> = (0..rows as u32).collect();
        let data = Arc::new(RunData { rows: Rows::Points(points), dim: 2, labels: None, train: indices.clone(), test: indices });
        let arch = GanSpec::toy_2d().build()?;
        let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
        let mut gan = GpuGan::new(&kernels, &ModelSetup { data, batch: 128, seed: 1, knobs: Knobs::default() }, arch, &g, &d)?;
        for _ in 0..20 {
            gan.train(100)?;
            gan.steps_done().await?;
        }
        let samples: Vec<[f32; 2]> = gan.samples(128).await?.chunks(2).map(|p| [p[0], p[1]]).collect();
        let modes = Toy2d::Ring8.modes().context("the ring has modes")?;
        let covered = toy2d::modes_covered(&samples, &modes, 0.4, 0.02);
        let m = gan.metrics().await?;
        writeln!(std::io::stderr(), "GAN on the ring after 2000 rounds: {covered}/8 modes covered; {m:?}").ok();
        Ok(covered)
    });
    assert!(covered >= 6, "the GAN covers only {covered} of 8 modes");
}

/// A VAE on the MNIST split (GPU engine) with the given β, trained for `steps`; returns the mean
/// metrics of its last 100 steps.
async fn mnist_vae_metrics(beta: f32, steps: usize) -> anyhow::Result<latent_core::model::StepMetrics> {
    use latent_core::model::VaeSpec;
    use latent_core::Activation;
    use latent_gpu::GpuVae;

    let (data, train, test) = mnist_split()?;
    let kernels = kernels().await?;
    let spec = VaeSpec { hidden: vec![128], latent: 8, activation: Activation::Relu, ..VaeSpec::reference_mnist() };
    let arch = spec.build()?;
    let init = arch.layout.init(3);
    let setup = ModelSetup { data: mnist_rows(&data, train, test), batch: 64, seed: 3, knobs: Knobs { beta, ..Knobs::default() } };
    let mut vae = GpuVae::new(&kernels, &setup, arch, &init)?;
    for _ in 0..steps / 100 {
        // Metrics are means since the last read: read (and so reset) them before the last 100.
        vae.metrics().await.ok();
        vae.train(100)?;
    }
    Ok(vae.metrics().await?.vae)
}

/// β = 0 lets the KL grow large (an autoencoder with noise); a large β drives most latent
/// dimensions' KL to about 0 (posterior collapse), while β = 1 keeps most of them in use.
#[test]
fn beta_controls_kl_and_posterior_collapse() {
    let steps = 400;
    let runs: Vec<(f32, latent_core::model::StepMetrics)> = [0.0f32, 1.0, 20.0].iter().map(|&beta| (beta, block(mnist_vae_metrics(beta, steps)))).collect();
    let collapsed = |m: &latent_core::model::StepMetrics| m.kl_per_dim.iter().filter(|&&kl| kl < 0.05).count();
    for (beta, m) in &runs {
        writeln!(std::io::stderr(), "β = {beta}: KL {:.2} nats, per dimension {:.3?}, collapsed {}/8", m.kl, m.kl_per_dim, collapsed(m)).ok();
    }
    let (free, standard, heavy) = (&runs[0].1, &runs[1].1, &runs[2].1);
    assert!(free.kl > 2.0 * standard.kl, "β = 0 should let KL grow far above β = 1's ({:.2} vs {:.2})", free.kl, standard.kl);
    assert!(collapsed(heavy) >= 6, "β = 20 should collapse most of the 8 dimensions, collapsed {}", collapsed(heavy));
    assert!(collapsed(standard) <= 4, "β = 1 should keep most dimensions in use, collapsed {}", collapsed(standard));
}

/// Training and held-out negative ELBO of a small VAE (784-128-16, batch 50) trained on a
/// class-balanced subset of `train_size` MNIST digits, every `every` steps: (step, train, test).
/// The held-out side is the first 500 test digits, to keep each evaluation cheap on lavapipe.
/// (step, training −ELBO, held-out −ELBO) at each evaluation of a run.
type Curve = Vec<(usize, f64, f64)>;

async fn train_test_curve(train_size: usize, knobs: Knobs, steps: usize, every: usize) -> anyhow::Result<Curve> {
    use latent_core::model::VaeSpec;
    use latent_gpu::GpuVae;

    let (data, _, test) = mnist_split()?;
    let train = data.split(mnist::DEFAULT_TEST_COUNT, mnist::DEFAULT_SPLIT_SEED)?.train_subset(train_size, data.labels())?;
    let kernels = kernels().await?;
    let spec = VaeSpec { hidden: vec![128], latent: 16, ..VaeSpec::reference_mnist() };
    let arch = spec.build()?;
    let init = arch.layout.init(4);
    let setup = ModelSetup { data: mnist_rows(&data, train, test[..500].to_vec()), batch: 50, seed: 4, knobs };
    let mut vae = GpuVae::new(&kernels, &setup, arch, &init)?;
    let mut curve = Vec::new();
    for done in (every..=steps).step_by(every) {
        vae.train(every)?;
        let train = vae.evaluate(EvalSplit::Train).await?.negative_elbo();
        let test = vae.evaluate(EvalSplit::Test).await?.negative_elbo();
        curve.push((done, train, test));
    }
    Ok(curve)
}

/// With 200 training digits and no regularization the held-out loss turns and rises while the
/// training loss keeps falling (overfitting); L2 and dropout each narrow the final train/test gap.
#[test]
fn small_training_set_overfits_and_regularization_narrows_the_gap() {
    let (steps, every) = (800, 100);
    let plain = Knobs { lr: 3e-3, ..Knobs::default() };
    let runs: Vec<(&str, Curve)> = [("none", plain), ("L2 2e-2", Knobs { l2: 2e-2, ..plain }), ("dropout 0.5", Knobs { dropout: 0.5, ..plain })]
        .into_iter()
        .map(|(name, knobs)| (name, block(train_test_curve(200, knobs, steps, every))))
        .collect();
    let gap = |curve: &[(usize, f64, f64)]| curve.last().map_or(f64::NAN, |&(_, train, test)| test - train);
    for (name, curve) in &runs {
        let points: Vec<String> = curve.iter().map(|(s, tr, te)| format!("{s}: {tr:.1}/{te:.1}")).collect();
        writeln!(std::io::stderr(), "regularization {name}: train/test −ELBO {}; final gap {:.1} nats", points.join(", "), gap(curve)).ok();
    }
    let plain_curve = &runs[0].1;
    let best = plain_curve.iter().copied().min_by(|a, b| a.2.total_cmp(&b.2)).unwrap_or((0, f64::NAN, f64::NAN));
    let last = plain_curve.last().copied().unwrap_or((0, f64::NAN, f64::NAN));
    assert!(last.2 > best.2 + 2.0, "held-out −ELBO should rise after its best ({:.1} at step {}) but ends at {:.1}", best.2, best.0, last.2);
    assert!(last.1 < best.1 - 5.0, "training −ELBO should keep falling after the held-out best ({:.1} → {:.1})", best.1, last.1);
    for (name, curve) in &runs[1..] {
        assert!(gap(curve) < 0.85 * gap(plain_curve), "{name} should narrow the train/test gap: {:.1} vs {:.1} without", gap(curve), gap(plain_curve));
    }
}

/// The VAE-GAN's samples are sharper than the plain VAE's: the same VAE (784-128-8, ReLU, batch 64,
/// seed 3, 200 steps), once alone and once with a discriminator (784-32-1, LeakyReLU) at γ = 3,
/// decoding the same fixed prior noise. Sharpness is the mean gradient energy of the 64 samples;
/// the VAE-GAN must at least 1.5× the VAE's while its held-out reconstruction stays within 10 %.
#[test]
fn vae_gan_samples_are_sharper_than_the_vae() {
    use latent_core::engine::EvalMetrics;
    use latent_core::metrics::gradient_energy;
    use latent_core::model::{VaeGanSpec, VaeSpec};
    use latent_core::Activation;
    use latent_gpu::GpuVae;

    let (steps, batch, seed, gamma) = (200usize, 64usize, 3u32, 3.0f32);
    let ((vae_energy, vae_eval), (gan_energy, gan_eval)) = block(async {
        let (data, train, test) = mnist_split()?;
        let kernels = kernels().await?;
        let setup = |knobs| ModelSetup { data: mnist_rows(&data, train.clone(), test.clone()), batch, seed, knobs };
        let spec = VaeSpec { hidden: vec![128], latent: 8, activation: Activation::Relu, ..VaeSpec::reference_mnist() };
        let score = |samples: &[f32]| gradient_energy(samples, 28, 28);

        let arch = spec.build()?;
        let init = arch.layout.init(3);
        let mut vae = GpuVae::new(&kernels, &setup(Knobs::default()), arch, &init)?;
        for _ in 0..steps / 100 {
            vae.train(100)?;
            vae.steps_done().await?;
        }
        let plain: (f64, EvalMetrics) = (score(&vae.samples(batch).await?)?, vae.evaluate(EvalSplit::Test).await?);

        let arch = VaeGanSpec::new(spec, vec![32]).build()?;
        let (init, d_init) = (arch.vae.layout.init(3), arch.d_layout.init(4));
        let mut model = GpuVae::with_discriminator(&kernels, &setup(Knobs { gamma, ..Knobs::default() }), arch, &init, &d_init)?;
        for _ in 0..steps / 100 {
            model.train(100)?;
            model.steps_done().await?;
        }
        let adversarial = (score(&model.samples(batch).await?)?, model.evaluate(EvalSplit::Test).await?);
        let m = model.metrics().await?;
        writeln!(std::io::stderr(), "VAE-GAN last round: D {:?}, generator loss {:.3}", m.discriminator, m.generator_loss).ok();
        anyhow::Ok((plain, adversarial))
    });
    writeln!(
        std::io::stderr(),
        "after {steps} steps: sample gradient energy VAE {vae_energy:.5}, VAE-GAN (γ = {gamma}) {gan_energy:.5} ({:.2}×); held-out reconstruction {:.1} vs {:.1}, KL {:.1} vs {:.1} nats",
        gan_energy / vae_energy,
        vae_eval.reconstruction,
        gan_eval.reconstruction,
        vae_eval.kl,
        gan_eval.kl
    )
    .ok();
    assert!(gan_energy >= 1.5 * vae_energy, "VAE-GAN samples are not sharper: gradient energy {gan_energy:.4} vs the VAE's {vae_energy:.4}");
    assert!(
        gan_eval.reconstruction <= 1.1 * vae_eval.reconstruction,
        "VAE-GAN reconstruction {:.1} is far worse than the VAE's {:.1}",
        gan_eval.reconstruction,
        vae_eval.reconstruction
    );
}
