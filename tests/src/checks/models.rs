//! Whole models: the GPU VAE against its CPU twin, step by step, with knobs changed mid-run.

use latent_core::model::{Likelihood, TrainKnobs, VaeCpu, VaeSpec};
use latent_core::ops::gather::gather_u8;
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};
use latent_core::{Activation, Matrix};
use latent_gpu::{GpuDataset, GpuVae};

use crate::harness::{Check, Harness, Inputs};

pub(super) fn relative_gap(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1e-3)
}

/// 100 steps of a small VAE (two hidden layers per network, dropout on) on both engines from the
/// same seed and initial parameters: every loss term agrees within 1e-3 relative at every step,
/// including after β, L1, L2, dropout and the learning rate change at step 50 and the switch from
/// Adam to SGD with momentum at step 75, without a rebuild.
pub async fn vae_matches_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(17);
    let (rows, dim, batch, seed) = (96usize, 20usize, 16usize, 31u32);
    let spec = VaeSpec { data_dim: dim, hidden: vec![24, 12], latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = spec.build().map_err(|e| e.to_string())?;
    let init = arch.layout.init(5);
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let dataset = GpuDataset::pixels(&h.ctx, dim, &bytes, &indices, &(0..40).collect::<Vec<_>>()).map_err(|e| e.to_string())?;
    let mut knobs = TrainKnobs { beta: 1.0, l1: 1e-4, l2: 1e-3, dropout: 0.2, adam: AdamConfig { lr: 3e-3, ..AdamConfig::default() }, sgd: None };
    let gpu = GpuVae::new(&h.kernels, arch.clone(), &init, dataset, batch, seed, knobs).map_err(|e| e.to_string())?;
    let mut cpu: VaeCpu<f32> = VaeCpu::new(arch, &init, seed).map_err(|e| e.to_string())?;
    let before = gpu.evaluate().await.map_err(|e| e.to_string())?;
    let (mut first, mut last) = (0.0, 0.0);
    for step in 0..100u32 {
        if step == 50 {
            knobs = TrainKnobs { beta: 4.0, l1: 1e-3, l2: 1e-2, dropout: 0.5, adam: AdamConfig { lr: 1e-3, ..AdamConfig::default() }, sgd: None };
            gpu.set_knobs(knobs).map_err(|e| e.to_string())?;
        }
        if step == 75 {
            // The optimizer itself is a knob: SGD with momentum from here on, no rebuild.
            knobs.sgd = Some(SgdConfig { lr: 0.02, momentum: 0.9 });
            gpu.set_knobs(knobs).map_err(|e| e.to_string())?;
        }
        let x = Matrix::from_vec(batch, dim, gather_u8::<f32>(&bytes, dim, &indices, 0, step, batch)).ok_or("gathered batch has the wrong length")?;
        let expected = cpu.train_step(&x, knobs).map_err(|e| e.to_string())?;
        gpu.train(1).map_err(|e| e.to_string())?;
        let got = gpu.metrics().await.map_err(|e| e.to_string())?;
        for (name, a, b) in [
            ("reconstruction", got.reconstruction, expected.reconstruction),
            ("KL", got.kl, expected.kl),
            ("L2 term", got.l2_term, expected.l2_term),
            ("L1 term", got.l1_term, expected.l1_term),
        ] {
            if relative_gap(a, b) > 1e-3 {
                return Err(format!("step {step}: GPU {name} {a} vs CPU {b} (relative gap {:.2e})", relative_gap(a, b)));
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
    let steps = gpu.steps_done().await.map_err(|e| e.to_string())?;
    if steps != 100 {
        return Err(format!("GPU counted {steps} steps, expected 100"));
    }
    if last.is_nan() || last >= first {
        return Err(format!("training did not lower the loss: {first} → {last}"));
    }
    // Held-out evaluation: 2 whole batches of the 40 test rows, reproducible, and improved by training.
    let after = gpu.evaluate().await.map_err(|e| e.to_string())?;
    let again = gpu.evaluate().await.map_err(|e| e.to_string())?;
    if after != again || after.rows != 32 {
        return Err(format!("evaluation is not reproducible or covers the wrong rows: {after:?} vs {again:?}"));
    }
    if !(after.negative_elbo().is_finite() && after.negative_elbo() < before.negative_elbo()) {
        return Err(format!("held-out −ELBO did not fall with training: {before:?} → {after:?}"));
    }
    if gpu.steps_done().await.map_err(|e| e.to_string())? != 100 {
        return Err("evaluation disturbed the training step counter".into());
    }
    for (what, values) in [("samples", gpu.samples().await), ("reconstructions", gpu.reconstructions().await)] {
        let values = values.map_err(|e| e.to_string())?;
        if values.len() != batch * dim || !values.iter().all(|v| (0.0..=1.0).contains(v)) {
            return Err(format!("{what}: {} values, expected {} pixels in [0, 1]", values.len(), batch * dim));
        }
    }
    h.no_gpu_errors()
}

/// The reference VAE (784-400-20, batch 128) records one step in at most 30 dispatches (gather,
/// forward, losses and their sums, backward, penalties, Adam and SGD, the step counter).
pub async fn vae_step_dispatch_count(h: &Harness) -> Check {
    let arch = VaeSpec::reference_mnist().build().map_err(|e| e.to_string())?;
    let init = arch.layout.init(1);
    let rows = 128;
    let all: Vec<u32> = (0..rows as u32).collect();
    let dataset = GpuDataset::pixels(&h.ctx, 784, &vec![0u8; rows * 784], &all, &all).map_err(|e| e.to_string())?;
    let gpu = GpuVae::new(&h.kernels, arch, &init, dataset, 128, 1, TrainKnobs::default()).map_err(|e| e.to_string())?;
    let count = gpu.step_schedule().len();
    if count > 30 {
        let labels: Vec<&str> = gpu.step_schedule().dispatches().iter().map(|d| d.label()).collect();
        return Err(format!("a VAE step takes {count} dispatches (> 30): {labels:?}"));
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
    use latent_core::model::{GanCpu, GanKnobs, GanSpec};
    use latent_core::ops::gather::gather_f32;
    use latent_gpu::GpuGan;

    let (rows, held_out, batch, seed) = (200usize, 60usize, 25usize, 7u32);
    let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows + held_out, 0.05, 3).map_err(|e| e.to_string())?.into_iter().flatten().collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let test: Vec<u32> = (rows as u32..(rows + held_out) as u32).collect();
    let spec = GanSpec { generator_hidden: vec![16], discriminator_hidden: vec![16], ..GanSpec::toy_2d() };
    let arch = spec.build().map_err(|e| e.to_string())?;
    let (g_init, d_init) = (arch.g_layout.init(1), arch.d_layout.init(2));
    let pixels = GpuDataset::pixels(&h.ctx, 2, &[0u8; 64], &indices[..32], &indices[..32]).map_err(|e| e.to_string())?;
    let refused = GpuGan::new(&h.kernels, arch.clone(), &g_init, &d_init, pixels, batch, seed, GanKnobs::default());
    super::errors::expect_err("GAN on pixels", refused.map(|_| ()), &["pixels", "points"])?;
    let dataset = GpuDataset::points(&h.ctx, 2, &points, &indices, &test).map_err(|e| e.to_string())?;
    let mut knobs = GanKnobs::default();
    let gpu = GpuGan::new(&h.kernels, arch.clone(), &g_init, &d_init, dataset, batch, seed, knobs).map_err(|e| e.to_string())?;
    let mut cpu: GanCpu<f32> = GanCpu::new(arch, &g_init, &d_init, seed).map_err(|e| e.to_string())?;
    // Whole batches of the held-out rows: 2 × 25 of the 60.
    let x_test = Matrix::from_vec(50, 2, gather_f32::<f32>(&points, 2, &test, 0, 0, 50)).ok_or("bad held-out batch")?;
    let held_out_agree = |when: &str, got: latent_core::model::HeldOutMetrics, expected: latent_core::model::HeldOutMetrics| -> Check {
        if got.rows != 50 || relative_gap(got.loss_real, expected.loss_real) > 1e-3 || (got.accuracy_real - expected.accuracy_real).abs() > 1.0 / 50.0 + 1e-6 {
            return Err(format!("{when}: GPU held-out {got:?} vs CPU {expected:?}"));
        }
        Ok(())
    };
    let mut d_steps_done = 0u32;
    for round in 0..40 {
        let ratio = if round < 20 { 2 } else { 1 };
        if round == 20 {
            let got = gpu.evaluate().await.map_err(|e| e.to_string())?;
            held_out_agree("round 20", got, cpu.evaluate_discriminator(&x_test).map_err(|e| e.to_string())?)?;
            knobs.l2_discriminator = 1e-3;
            knobs.l2_generator = 1e-3;
            knobs.adam_generator.lr = 2e-3;
            gpu.set_knobs(knobs).map_err(|e| e.to_string())?;
        }
        let mut expected_d = Default::default();
        for _ in 0..ratio {
            let x = Matrix::from_vec(batch, 2, gather_f32::<f32>(&points, 2, &indices, 0, d_steps_done, batch)).ok_or("bad batch")?;
            expected_d = cpu.discriminator_step(&x, knobs).map_err(|e| e.to_string())?;
            d_steps_done += 1;
        }
        let (expected_g, _) = cpu.generator_step(batch, knobs).map_err(|e| e.to_string())?;
        gpu.train(1, ratio).map_err(|e| e.to_string())?;
        let got = gpu.metrics().await.map_err(|e| e.to_string())?;
        for (name, a, b) in [
            ("D loss on real", got.discriminator.loss_real, expected_d.loss_real),
            ("D loss on fakes", got.discriminator.loss_fake, expected_d.loss_fake),
            ("D L2 term", got.discriminator.l2_term, expected_d.l2_term),
            ("G loss", got.generator_loss, expected_g),
        ] {
            if relative_gap(a, b) > 1e-3 {
                return Err(format!("round {round}: GPU {name} {a} vs CPU {b}"));
            }
        }
        for (name, a, b) in [
            ("D accuracy on real", got.discriminator.accuracy_real, expected_d.accuracy_real),
            ("D accuracy on fakes", got.discriminator.accuracy_fake, expected_d.accuracy_fake),
        ] {
            if (a - b).abs() > 1.0 / batch as f64 + 1e-6 {
                return Err(format!("round {round}: GPU {name} {a} vs CPU {b}"));
            }
        }
    }
    let (d_steps, g_steps) = gpu.steps_done().await.map_err(|e| e.to_string())?;
    if (d_steps, g_steps) != (60, 40) {
        return Err(format!("GPU counted {d_steps} D and {g_steps} G steps, expected 60 and 40"));
    }
    let samples = gpu.samples().await.map_err(|e| e.to_string())?;
    if samples.len() != batch * 2 || !samples.iter().all(|v| v.is_finite()) {
        return Err(format!("samples: {} values, expected {} finite", samples.len(), batch * 2));
    }
    let (got, again) = (gpu.evaluate().await.map_err(|e| e.to_string())?, gpu.evaluate().await.map_err(|e| e.to_string())?);
    if got != again {
        return Err(format!("held-out evaluation is not reproducible: {got:?} vs {again:?}"));
    }
    held_out_agree("after 40 rounds", got, cpu.evaluate_discriminator(&x_test).map_err(|e| e.to_string())?)?;
    if gpu.steps_done().await.map_err(|e| e.to_string())? != (60, 40) {
        return Err("evaluation disturbed the step counters".into());
    }
    let grid = map_grid(16, 3.0);
    let flat: Vec<f32> = grid.iter().flatten().copied().collect();
    let map = gpu.discriminator_map(&flat).await.map_err(|e| e.to_string())?;
    let expected = cpu.discriminator_probabilities(&Matrix::from_vec(grid.len(), 2, flat).ok_or("bad grid")?).map_err(|e| e.to_string())?;
    if map.len() != expected.len() {
        return Err(format!("heat map: {} values for {} points", map.len(), expected.len()));
    }
    if let Some((i, (a, b))) = map.iter().zip(&expected).enumerate().find(|(_, (a, b))| (*a - *b).abs() > 1e-4) {
        return Err(format!("heat map point {i} {:?}: GPU σ(D) {a} vs CPU {b}", grid[i]));
    }
    super::errors::expect_err("oversized map", gpu.discriminator_map(&vec![0.0; 2 * MAP_POINTS + 2]).await, &["rows of 2"])?;
    // G on more codes than a batch (a grid of z here): the same points on both engines, within what
    // 40 rounds of f32 training leave between their parameters.
    let codes = Matrix::from_vec(grid.len(), 2, grid.iter().flatten().map(|v| v * 0.5).collect()).ok_or("bad codes")?;
    let generated = gpu.generate(&codes.data).await.map_err(|e| e.to_string())?;
    let expected = cpu.generate(&codes).map_err(|e| e.to_string())?.data;
    if generated.len() != expected.len() || generated.iter().zip(&expected).any(|(a, b)| (a - b).abs() > 1e-3 * (1.0 + b.abs())) {
        return Err(format!(
            "G on {} codes: GPU and CPU differ (first values {:?} vs {:?})",
            grid.len(),
            &generated[..4.min(generated.len())],
            &expected[..4.min(expected.len())]
        ));
    }
    h.no_gpu_errors()
}

/// A model keeps working after the kernel set that built it is dropped (the app rebuilds kernels
/// after a device loss while models may still be around; the CLI drops them right away).
pub async fn model_outlives_its_kernels(h: &Harness) -> Check {
    let kernels = latent_gpu::Kernels::new(&h.ctx).await.map_err(|e| e.to_string())?;
    let spec = VaeSpec { data_dim: 8, hidden: vec![6], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
    let arch = spec.build().map_err(|e| e.to_string())?;
    let init = arch.layout.init(1);
    let rows: Vec<u32> = (0..16).collect();
    let dataset = GpuDataset::pixels(&h.ctx, 8, &[128u8; 128], &rows, &rows).map_err(|e| e.to_string())?;
    let knobs = TrainKnobs { dropout: 0.1, ..TrainKnobs::default() };
    let vae = GpuVae::new(&kernels, arch, &init, dataset, 8, 1, knobs).map_err(|e| e.to_string())?;
    drop(kernels);
    vae.train(3).map_err(|e| e.to_string())?;
    let metrics = vae.metrics().await.map_err(|e| e.to_string())?;
    if !(metrics.is_finite() && metrics.reconstruction > 0.0) {
        return Err(format!("after its kernels were dropped the model reads {metrics:?}"));
    }
    h.no_gpu_errors()
}
