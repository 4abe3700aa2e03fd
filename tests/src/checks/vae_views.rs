//! The GPU VAE's on-demand outputs against its CPU twin: latent codes of held-out rows, decoding of
//! arbitrary codes, the training-split evaluation, early stopping's save/restore of parameters,
//! and training metrics as means over the steps since the last read.

use anyhow::bail;
use latent_core::engine::cpu::CpuVae;
use latent_core::engine::{EvalSplit, ModelSetup, VaeModel, MAX_DECODE_ROWS, MAX_ENCODE_ROWS};
use latent_core::model::{Likelihood, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::GpuVae;

use crate::harness::{pixel_rows, Check, Harness, Inputs};

fn close(what: &str, got: &[f32], expected: &[f32], tol: f32) -> Check {
    if got.len() != expected.len() {
        bail!("{what}: {} values, expected {}", got.len(), expected.len());
    }
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        if (g - e).abs() > tol * (1.0 + e.abs()) {
            bail!("{what}[{i}]: GPU {g} vs CPU {e}");
        }
    }
    Ok(())
}

/// Save, train on, restore: the saved parameters come back bit for bit (on either engine);
/// restoring before any save fails.
async fn save_and_restore(model: &mut dyn VaeModel, engine: &str) -> Check {
    let params = model.parameters().await?;
    model.save_best()?;
    model.train(3)?;
    if model.parameters().await? == params {
        bail!("{engine}: training after save_best did not change the parameters");
    }
    model.restore_best()?;
    if model.parameters().await? != params {
        bail!("{engine}: restore_best did not bring the saved parameters back");
    }
    Ok(())
}

/// A small VAE trained a few steps on both engines: the metrics of the run are the same means; the
/// CPU twin, given the GPU's parameters, gives the same codes, encodings of given rows, decodes and
/// scores on both splits; save/restore and setting parameters work on both; bad encode and decode
/// requests are refused by both.
pub async fn vae_views_match_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(23);
    let (rows, dim, batch, seed, latent) = (64usize, 20usize, 8usize, 5u32, 2usize);
    let spec = VaeSpec { data_dim: dim, hidden: vec![12], latent, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = spec.build()?;
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let setup = ModelSetup { data: pixel_rows(bytes, dim, (0..40).collect(), (40..64).collect()), batch, seed, knobs: Knobs::default() };
    let mut gpu = GpuVae::new(&h.kernels, &setup, arch.clone(), &arch.layout.init(2))?;
    let mut twin = CpuVae::new(setup, arch.clone(), &arch.layout.init(2))?;
    for (engine, model) in [("GPU", &mut gpu as &mut dyn VaeModel), ("CPU", &mut twin)] {
        if model.restore_best().is_ok() {
            bail!("{engine}: restore_best before any save_best should fail");
        }
        if model.metrics().await.is_ok() {
            bail!("{engine}: metrics before any step should fail");
        }
        model.train(5)?;
    }

    // Metrics of a run of steps are their means, on both engines.
    let (got, expected) = (gpu.metrics().await?.vae, twin.metrics().await?.vae);
    let pairs = [(got.reconstruction, expected.reconstruction), (got.kl, expected.kl), (got.l2_term, expected.l2_term)];
    let per_dim = got.kl_per_dim.iter().copied().zip(expected.kl_per_dim.iter().copied());
    if let Some((a, b)) = pairs.into_iter().chain(per_dim).find(|(a, b)| (a - b).abs() > 1e-3 * b.abs().max(1e-3)) {
        bail!("metrics over 5 steps: GPU {got:?} vs CPU mean {expected:?} ({a} vs {b})");
    }
    if gpu.metrics().await?.vae != got || twin.metrics().await?.vae != expected {
        bail!("metrics with no step since the last read should repeat it");
    }
    let params = gpu.parameters().await?;
    twin.set_parameters(&params)?;
    if twin.parameters().await? != params {
        bail!("the CPU twin did not take the GPU's parameters");
    }

    // Latent codes of the 24 held-out rows (3 whole batches), in test order.
    let (codes, expected) = (gpu.latent_codes().await?, twin.latent_codes().await?);
    if (codes.rows, codes.latent) != (24, latent) || (expected.rows, expected.latent) != (24, latent) {
        bail!("latent codes cover {} rows of {}, expected 24 of {latent}", codes.rows, codes.latent);
    }
    close("μ", &codes.mean, &expected.mean, 1e-4)?;
    close("logσ²", &codes.log_var, &expected.log_var, 1e-4)?;

    // 11 rows the caller gives (one whole batch and a padded one), and bad ones refused.
    let x: Vec<f32> = (0..11 * dim).map(|i| ((i as f32 * 0.61).sin() + 1.0) / 2.0).collect();
    let (encoded, expected) = (gpu.encode(&x).await?, twin.encode(&x).await?);
    if (encoded.rows, encoded.latent) != (11, latent) {
        bail!("encode gave {} rows of {}, expected 11 of {latent}", encoded.rows, encoded.latent);
    }
    close("encode μ", &encoded.mean, &expected.mean, 1e-4)?;
    close("encode logσ²", &encoded.log_var, &expected.log_var, 1e-4)?;
    for (what, bad) in [("empty", vec![]), ("NaN", vec![f32::NAN; dim]), ("ragged", vec![0.0; dim + 1]), ("too many", vec![0.0; (MAX_ENCODE_ROWS + 1) * dim])] {
        if gpu.encode(&bad).await.is_ok() || twin.encode(&bad).await.is_ok() {
            bail!("encode accepted {what} rows");
        }
    }

    // 11 codes: one whole batch and a padded one.
    let z: Vec<f32> = (0..11 * latent).map(|i| (i as f32 * 0.37).sin() * 2.0).collect();
    close("decode", &gpu.decode(&z).await?, &twin.decode(&z).await?, 1e-4)?;
    for (what, bad) in
        [("empty", vec![]), ("NaN", vec![f32::NAN; latent]), ("ragged", vec![0.0; latent + 1]), ("too many", vec![0.0; (MAX_DECODE_ROWS + 1) * latent])]
    {
        if gpu.decode(&bad).await.is_ok() || twin.decode(&bad).await.is_ok() {
            bail!("decode accepted {what} codes");
        }
    }

    // Both splits, scored chunk by chunk on the evaluation stream: 3 batches each.
    for split in [EvalSplit::Test, EvalSplit::Train] {
        let (got, expected) = (gpu.evaluate(split).await?, twin.evaluate(split).await?);
        let gap = (got.negative_elbo() - expected.negative_elbo()).abs() / expected.negative_elbo().abs().max(1e-3);
        if got.rows != 24 || expected.rows != 24 || gap > 1e-4 {
            bail!("{split:?} evaluation: GPU {got:?} vs CPU {expected:?} (relative gap {gap:.2e})");
        }
    }

    save_and_restore(&mut gpu, "GPU").await?;
    save_and_restore(&mut twin, "CPU").await?;
    // Parameters set on the GPU read back as set.
    let shifted: Vec<f32> = params.iter().map(|p| p + 0.25).collect();
    gpu.set_parameters(&shifted)?;
    if gpu.parameters().await? != shifted || gpu.set_parameters(&shifted[1..]).is_ok() {
        bail!("set_parameters on the GPU did not take the parameters, or took a short list");
    }
    h.no_gpu_errors()
}
