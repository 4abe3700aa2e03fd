//! Whole models through the engine seam: the GPU engine against the CPU twin, both driven by the
//! same `VaeModel` / `GanModel` calls with the same arguments, step by step, with knobs changed
//! mid-run.

use anyhow::{bail, Context as _};
use latent_core::engine::cpu::{CpuGan, CpuVae};
use latent_core::engine::{EvalSplit, GanModel as _, ModelSetup, VaeModel as _};
use latent_core::knobs::Optimizer;
use latent_core::model::{Likelihood, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::{GpuGan, GpuVae};

use crate::harness::{pixel_rows, point_rows, Check, Harness, Inputs};

pub(super) fn relative_gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

/// The discriminator's parameters as each engine reads them back (what the weight histograms
/// show): the same count, each within 1e-3 of the other (relative above 1) after the same training.
pub(super) fn same_discriminator(gpu: &[f32], cpu: &[f32]) -> Check {
    if gpu.len() != cpu.len() || gpu.is_empty() {
        bail!("D's parameters: {} values on the GPU, {} on the CPU", gpu.len(), cpu.len());
    }
    if let Some((i, (a, b))) = gpu.iter().zip(cpu).enumerate().find(|(_, (a, b))| (*a - *b).abs() > 1e-3 * (1.0 + b.abs())) {
        bail!("D's parameter {i}: GPU {a} vs CPU {b}");
    }
    Ok(())
}

/// 100 steps of a small VAE (two hidden layers per network, dropout on) on both engines from the
/// same seed and initial parameters: every loss term agrees within 1e-3 relative at every step,
/// including after β, L1, L2, dropout and the learning rate change at step 50 and the switch from
/// Adam to SGD with momentum at step 75, without a rebuild; the held-out scores agree too.
pub async fn vae_matches_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(17);
    let (rows, dim, batch, seed) = (96usize, 20usize, 16usize, 31u32);
    let spec = VaeSpec { data_dim: dim, hidden: vec![24, 12], latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = spec.build()?;
    let init = arch.layout.init(5);
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let mut knobs = Knobs { beta: 1.0, l1: 1e-4, l2: 1e-3, dropout: 0.2, lr: 3e-3, ..Knobs::default() };
    let setup = ModelSetup { data: pixel_rows(bytes, dim, indices, (0..40).collect()), batch, seed, knobs };
    let mut gpu = GpuVae::new(&h.kernels, &setup, arch.clone(), &init)?;
    let mut cpu = CpuVae::new(setup, arch, &init)?;
    let before = gpu.evaluate(EvalSplit::Test).await?;
    let (mut first, mut last) = (0.0, 0.0);
    for step in 0..100u32 {
        if step == 50 {
            knobs = Knobs { beta: 4.0, l1: 1e-3, l2: 1e-2, dropout: 0.5, lr: 1e-3, ..Knobs::default() };
        }
        if step == 75 {
            // The optimizer itself is a knob: SGD with momentum from here on, no rebuild.
            knobs = Knobs { optimizer: Optimizer::Sgd, lr: 0.02, momentum: 0.9, ..knobs };
        }
        if step == 50 || step == 75 {
            gpu.set_knobs(&knobs)?;
            cpu.set_knobs(&knobs)?;
        }
        gpu.train(1)?;
        cpu.train(1)?;
        let (got, expected) = (gpu.metrics().await?.vae, cpu.metrics().await?.vae);
        for (name, a, b) in [
            ("reconstruction", got.reconstruction, expected.reconstruction),
            ("KL", got.kl, expected.kl),
            ("L2 term", got.l2_term, expected.l2_term),
            ("L1 term", got.l1_term, expected.l1_term),
        ] {
            if relative_gap(a, b) > 1e-3 {
                bail!("step {step}: GPU {name} {a} vs CPU {b} (relative gap {:.2e})", relative_gap(a, b));
            }
        }
        // Loss fell over the first regime (the knob change at 50 changes what the loss means).
        if step == 0 {
            first = expected.total(knobs.beta);
        }
        if step == 49 {
            last = expected.total(knobs.beta);
        }
    }
    h.no_gpu_errors()?;
    let steps = gpu.steps_done().await?;
    if steps != 100 || cpu.steps_done().await? != 100 {
        bail!("GPU counted {steps} steps, expected 100");
    }
    if last.is_nan() || last >= first {
        bail!("training did not lower the loss: {first} → {last}");
    }
    // Held-out evaluation: 2 whole batches of the 40 test rows, reproducible, improved by training,
    // and the same on both engines.
    let after = gpu.evaluate(EvalSplit::Test).await?;
    let again = gpu.evaluate(EvalSplit::Test).await?;
    if after != again || after.rows != 32 {
        bail!("evaluation is not reproducible or covers the wrong rows: {after:?} vs {again:?}");
    }
    if !(after.negative_elbo().is_finite() && after.negative_elbo() < before.negative_elbo()) {
        bail!("held-out −ELBO did not fall with training: {before:?} → {after:?}");
    }
    let twin = cpu.evaluate(EvalSplit::Test).await?;
    if relative_gap(after.negative_elbo(), twin.negative_elbo()) > 1e-3 || twin.rows != after.rows {
        bail!("held-out evaluation: GPU {after:?} vs CPU {twin:?}");
    }
    if gpu.steps_done().await? != 100 {
        bail!("evaluation disturbed the training step counter");
    }
    for (what, values) in [("samples", gpu.samples(batch).await), ("reconstructions", gpu.reconstructions().await)] {
        let values = values?;
        if values.len() != batch * dim || !values.iter().all(|v| (0.0..=1.0).contains(v)) {
            bail!("{what}: {} values, expected {} pixels in [0, 1]", values.len(), batch * dim);
        }
    }
    h.no_gpu_errors()
}

/// The reference VAE (784-400-20, batch 128) records one step in at most 30 dispatches (gather,
/// forward, losses and their sums, backward, penalties, Adam and SGD, the step counter).
pub async fn vae_step_dispatch_count(h: &Harness) -> Check {
    let arch = VaeSpec::reference_mnist().build()?;
    let init = arch.layout.init(1);
    let rows = 128;
    let all: Vec<u32> = (0..rows as u32).collect();
    let setup = ModelSetup { data: pixel_rows(vec![0u8; rows * 784], 784, all.clone(), all), batch: 128, seed: 1, knobs: Knobs::default() };
    let gpu = GpuVae::new(&h.kernels, &setup, arch, &init)?;
    let count = gpu.dispatches_per_step().context("the GPU engine counts its dispatches")?;
    if count > 30 {
        let labels: Vec<&str> = gpu.step_schedules().iter().flat_map(|s| s.dispatches()).map(|d| d.label()).collect();
        bail!("a VAE step takes {count} dispatches (> 30): {labels:?}");
    }
    h.no_gpu_errors()
}

/// A small GAN on the ring, 40 rounds on both engines (D:G 2:1 for the first 20, 1:1 after a knob
/// change): D and G losses agree within 1e-3 relative, accuracies within one sample. D's held-out
/// metrics (at round 20, where training then goes on matching, and at the end), its heat map σ(D)
/// on a 16×16 grid and G on 256 codes agree too; a pixel dataset and an oversized map are refused.
pub async fn gan_matches_cpu_twin(h: &Harness) -> Check {
    use latent_core::data::toy2d::{self, Toy2d};
    use latent_core::model::gan::{map_grid, MAP_POINTS};
    use latent_core::model::GanSpec;

    let (rows, held_out, batch, seed) = (200usize, 60usize, 25usize, 7u32);
    let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows + held_out, 0.05, 3)?.into_iter().flatten().collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let test: Vec<u32> = (rows as u32..(rows + held_out) as u32).collect();
    let spec = GanSpec { generator_hidden: vec![16], discriminator_hidden: vec![16], ..GanSpec::toy_2d() };
    let arch = spec.build()?;
    let (g_init, d_init) = (arch.g_layout.init(1), arch.d_layout.init(2));
    let mut knobs = Knobs { d_steps: 2, ..Knobs::default() };
    let pixels = ModelSetup { data: pixel_rows(vec![0u8; 64], 2, indices[..32].to_vec(), indices[..32].to_vec()), batch, seed, knobs };
    let refused = GpuGan::new(&h.kernels, &pixels, arch.clone(), &g_init, &d_init);
    super::errors::expect_err("GAN on pixels", refused.map(|_| ()), &["pixels", "points"])?;
    let setup = ModelSetup { data: point_rows(points, indices, test), batch, seed, knobs };
    let mut gpu = GpuGan::new(&h.kernels, &setup, arch.clone(), &g_init, &d_init)?;
    let mut cpu = CpuGan::new(setup, arch, &g_init, &d_init)?;
    let held_out_agree = |when: &str, got: latent_core::model::HeldOutMetrics, expected: latent_core::model::HeldOutMetrics| -> Check {
        // Whole batches of the held-out rows: 2 × 25 of the 60.
        if got.rows != 50
            || expected.rows != 50
            || relative_gap(got.loss_real, expected.loss_real) > 1e-3
            || (got.accuracy_real - expected.accuracy_real).abs() > 1.0 / 50.0 + 1e-6
        {
            bail!("{when}: GPU held-out {got:?} vs CPU {expected:?}");
        }
        Ok(())
    };
    for round in 0..40 {
        if round == 20 {
            held_out_agree("round 20", gpu.evaluate().await?, cpu.evaluate().await?)?;
            knobs = Knobs { d_steps: 1, l2_d: Some(1e-3), l2_g: Some(1e-3), lr: 2e-3, lr_d: Some(1e-3), ..knobs };
            gpu.set_knobs(&knobs)?;
            cpu.set_knobs(&knobs)?;
        }
        gpu.train(1)?;
        cpu.train(1)?;
        let (got, expected) = (gpu.metrics().await?, cpu.metrics().await?);
        let (d, expected_d) = (got.discriminator, expected.discriminator);
        for (name, a, b) in [
            ("D loss on real", d.loss_real, expected_d.loss_real),
            ("D loss on fakes", d.loss_fake, expected_d.loss_fake),
            ("D L2 term", d.l2_term, expected_d.l2_term),
            ("G loss", got.generator_loss, expected.generator_loss),
        ] {
            if relative_gap(a, b) > 1e-3 {
                bail!("round {round}: GPU {name} {a} vs CPU {b}");
            }
        }
        for (name, a, b) in
            [("D accuracy on real", d.accuracy_real, expected_d.accuracy_real), ("D accuracy on fakes", d.accuracy_fake, expected_d.accuracy_fake)]
        {
            if (a - b).abs() > 1.0 / batch as f64 + 1e-6 {
                bail!("round {round}: GPU {name} {a} vs CPU {b}");
            }
        }
    }
    let steps = gpu.steps_done().await?;
    if steps != (60, 40) || cpu.steps_done().await? != steps {
        bail!("GPU counted {steps:?} (D, G) steps, expected (60, 40) on both engines");
    }
    let samples = gpu.samples(batch).await?;
    if samples.len() != batch * 2 || !samples.iter().all(|v| v.is_finite()) {
        bail!("samples: {} values, expected {} finite", samples.len(), batch * 2);
    }
    let (got, again) = (gpu.evaluate().await?, gpu.evaluate().await?);
    if got != again {
        bail!("held-out evaluation is not reproducible: {got:?} vs {again:?}");
    }
    held_out_agree("after 40 rounds", got, cpu.evaluate().await?)?;
    if gpu.steps_done().await? != (60, 40) {
        bail!("evaluation disturbed the step counters");
    }
    let grid = map_grid(16, 3.0);
    let flat: Vec<f32> = grid.concat();
    let map = gpu.discriminator_map(&flat).await?;
    let expected = cpu.discriminator_map(&flat).await?;
    if map.len() != expected.len() {
        bail!("heat map: {} values for {} points", map.len(), expected.len());
    }
    if let Some((i, (a, b))) = map.iter().zip(&expected).enumerate().find(|(_, (a, b))| (*a - *b).abs() > 1e-4) {
        bail!("heat map point {i} {:?}: GPU σ(D) {a} vs CPU {b}", grid[i]);
    }
    super::errors::expect_err("oversized map", gpu.discriminator_map(&vec![0.0; 2 * MAP_POINTS + 2]).await, &["rows of 2"])?;
    same_discriminator(&gpu.discriminator_parameters().await?, &cpu.discriminator_parameters().await?)?;
    // G on more codes than a batch (a grid of z here): the same points on both engines, within what
    // 40 rounds of f32 training leave between their parameters.
    let codes: Vec<f32> = flat.iter().map(|v| v * 0.5).collect();
    let generated = gpu.generate(&codes).await?;
    let expected = cpu.generate(&codes).await?;
    if generated.len() != expected.len() || generated.iter().zip(&expected).any(|(a, b)| (a - b).abs() > 1e-3 * (1.0 + b.abs())) {
        bail!(
            "G on {} codes: GPU and CPU differ (first values {:?} vs {:?})",
            grid.len(),
            &generated[..4.min(generated.len())],
            &expected[..4.min(expected.len())]
        );
    }
    h.no_gpu_errors()
}

/// A model keeps working after the kernel set that built it is dropped (the app rebuilds kernels
/// after a device loss while models may still be around; the CLI drops them right away).
pub async fn model_outlives_its_kernels(h: &Harness) -> Check {
    let kernels = latent_gpu::Kernels::new(&h.ctx).await?;
    let spec = VaeSpec { data_dim: 8, hidden: vec![6], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
    let arch = spec.build()?;
    let init = arch.layout.init(1);
    let rows: Vec<u32> = (0..16).collect();
    let setup = ModelSetup { data: pixel_rows(vec![128u8; 128], 8, rows.clone(), rows), batch: 8, seed: 1, knobs: Knobs { dropout: 0.1, ..Knobs::default() } };
    let mut vae = GpuVae::new(&kernels, &setup, arch, &init)?;
    drop(kernels);
    vae.train(3)?;
    let metrics = vae.metrics().await?.vae;
    if !(metrics.is_finite() && metrics.reconstruction > 0.0) {
        bail!("after its kernels were dropped the model reads {metrics:?}");
    }
    h.no_gpu_errors()
}
