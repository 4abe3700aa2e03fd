//! The GPU VAE's on-demand outputs against its CPU twin: latent codes of held-out rows, decoding of
//! arbitrary codes, the training-split evaluation, early stopping's save/restore of parameters,
//! and training metrics as means over the steps since the last read.

use latent_core::model::vae::EVAL_STREAM;
use latent_core::model::{Likelihood, StepMetrics, TrainKnobs, VaeCpu, VaeSpec};
use latent_core::ops::gather::gather_u8;
use latent_core::rng::RngStream;
use latent_core::{Activation, Matrix};
use latent_gpu::{EvalSplit, GpuDataset, GpuVae, MAX_DECODE_ROWS};

use crate::harness::{Check, Harness, Inputs};

fn close(what: &str, got: &[f32], expected: &[f32], tol: f32) -> Check {
    if got.len() != expected.len() {
        return Err(format!("{what}: {} values, expected {}", got.len(), expected.len()));
    }
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if (g - e).abs() > tol * (1.0 + e.abs()) {
            return Err(format!("{what}[{i}]: GPU {g} vs CPU {e}"));
        }
    }
    Ok(())
}

/// A small VAE trained a few steps on the GPU, then mirrored into a CPU twin with the same
/// parameters: codes, decodes and both evaluation splits agree; save/restore brings parameters
/// back exactly; bad decode requests are refused.
pub async fn vae_views_match_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(23);
    let (rows, dim, batch, seed, latent) = (64usize, 20usize, 8usize, 5u32, 2usize);
    let spec = VaeSpec { data_dim: dim, hidden: vec![12], latent, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = spec.build().map_err(|e| e.to_string())?;
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let (train, test): (Vec<u32>, Vec<u32>) = ((0..40).collect(), (40..64).collect());
    let dataset = GpuDataset::pixels(&h.ctx, dim, &bytes, &train, &test).map_err(|e| e.to_string())?;
    let gpu = GpuVae::new(&h.kernels, arch.clone(), &arch.layout.init(2), dataset, batch, seed, TrainKnobs::default()).map_err(|e| e.to_string())?;
    if gpu.restore_best().is_ok() {
        return Err("restore_best before any save_best should fail".into());
    }
    if gpu.metrics().await.is_ok() {
        return Err("metrics before any step should fail".into());
    }
    gpu.train(5).map_err(|e| e.to_string())?;

    // Metrics of a run of steps are their means: the CPU twin's five steps, averaged.
    let mut twin: VaeCpu<f32> = VaeCpu::new(arch.clone(), &arch.layout.init(2), seed).map_err(|e| e.to_string())?;
    let mut each = Vec::new();
    for step in 0..5 {
        let x = Matrix::from_vec(batch, dim, gather_u8::<f32>(&bytes, dim, &train, 0, step, batch)).ok_or("bad batch")?;
        each.push(twin.train_step(&x, TrainKnobs::default()).map_err(|e| e.to_string())?);
    }
    let expected = StepMetrics::mean(&each);
    let got = gpu.metrics().await.map_err(|e| e.to_string())?;
    let pairs = [(got.reconstruction, expected.reconstruction), (got.kl, expected.kl), (got.l2_term, expected.l2_term)];
    let per_dim = got.kl_per_dim.iter().copied().zip(expected.kl_per_dim.iter().copied());
    if let Some((a, b)) = pairs.into_iter().chain(per_dim).find(|(a, b)| (a - b).abs() > 1e-3 * b.abs().max(1e-3)) {
        return Err(format!("metrics over 5 steps: GPU {got:?} vs CPU mean {expected:?} ({a} vs {b})"));
    }
    if gpu.metrics().await.map_err(|e| e.to_string())? != got {
        return Err("metrics with no step since the last read should repeat it".into());
    }
    let params = gpu.parameters().await.map_err(|e| e.to_string())?;
    let cpu: VaeCpu<f32> = VaeCpu::new(arch, &params, seed).map_err(|e| e.to_string())?;

    // Latent codes of the 24 held-out rows (3 whole batches), in test order.
    let codes = gpu.latent_codes().await.map_err(|e| e.to_string())?;
    let x_test = Matrix::from_vec(24, dim, gather_u8::<f32>(&bytes, dim, &test, 0, 0, 24)).ok_or("bad test rows")?;
    let (mean, log_var) = cpu.encode(&x_test).map_err(|e| e.to_string())?;
    if (codes.rows, codes.latent) != (24, latent) {
        return Err(format!("latent codes cover {} rows of {}, expected 24 of {latent}", codes.rows, codes.latent));
    }
    close("μ", &codes.mean, &mean.data, 1e-4)?;
    close("logσ²", &codes.log_var, &log_var.data, 1e-4)?;

    // 11 codes: one whole batch and a padded one.
    let z: Vec<f32> = (0..11 * latent).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    let decoded = gpu.decode(&z).await.map_err(|e| e.to_string())?;
    let expected = cpu.decode(&Matrix::from_vec(11, latent, z.clone()).ok_or("bad codes")?).map_err(|e| e.to_string())?;
    close("decode", &decoded, &expected.data, 1e-4)?;
    for (what, bad) in
        [("empty", vec![]), ("NaN", vec![f32::NAN; latent]), ("ragged", vec![0.0; latent + 1]), ("too many", vec![0.0; (MAX_DECODE_ROWS + 1) * latent])]
    {
        if gpu.decode(&bad).await.is_ok() {
            return Err(format!("decode accepted {what} codes"));
        }
    }

    // Both splits, scored chunk by chunk on the evaluation stream: 3 batches each.
    for (split, indices) in [(EvalSplit::Test, &test), (EvalSplit::Train, &train)] {
        let got = gpu.evaluate_split(split).await.map_err(|e| e.to_string())?;
        let mut expected = 0.0;
        for chunk in 0..3u32 {
            let x = Matrix::from_vec(batch, dim, gather_u8::<f32>(&bytes, dim, indices, 0, chunk, batch)).ok_or("bad batch")?;
            let (recon, kl) = cpu.evaluate(&x, RngStream::new(seed, EVAL_STREAM), chunk).map_err(|e| e.to_string())?;
            expected += (recon + kl) / 3.0;
        }
        let gap = (got.negative_elbo() - expected).abs() / expected.abs().max(1e-3);
        if got.rows != 24 || gap > 1e-4 {
            return Err(format!("{split:?} evaluation: GPU {got:?} vs CPU −ELBO {expected} (relative gap {gap:.2e})"));
        }
    }

    // Save, train on, restore: the saved parameters come back bit for bit.
    gpu.save_best().map_err(|e| e.to_string())?;
    gpu.train(3).map_err(|e| e.to_string())?;
    if gpu.parameters().await.map_err(|e| e.to_string())? == params {
        return Err("training after save_best did not change the parameters".into());
    }
    gpu.restore_best().map_err(|e| e.to_string())?;
    if gpu.parameters().await.map_err(|e| e.to_string())? != params {
        return Err("restore_best did not bring the saved parameters back".into());
    }
    h.no_gpu_errors()
}
