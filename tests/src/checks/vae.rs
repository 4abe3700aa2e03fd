//! KL, reparameterization and dropout: the pieces with randomness checked bit-for-bit against the
//! CPU's Threefry.

use anyhow::bail;
use latent_core::ops::{dropout as cpu_dropout, vae as cpu_vae};
use latent_core::rng::RngStream;
use latent_core::{finite_diff, Matrix};
use latent_gpu::ops::{DropoutSpec, ReparamSpec};
use latent_gpu::params::KlParams;
use latent_gpu::Schedule;

use super::errors::expect_err;
use crate::harness::{compare, compare_gradient, dot, model_block, Check, Harness, Inputs, Tolerance};

pub async fn kl(h: &Harness) -> Check {
    let mut inputs = Inputs::new(8);
    let (rows, latent) = (129, 20);
    let hm = inputs.matrix(rows, 2 * latent, -2.0, 2.0);
    let prior = inputs.matrix(rows, 2 * latent, -1.0, 1.0);
    let gh = h.upload("h", &hm)?;
    let per_dim = h.zeros("kl_per_dim", 1, latent)?;
    let dh = h.upload("dh", &prior)?;
    let (scale, beta) = (1.0 / rows as f64, 0.7);
    h.run([h.kernels.kl_forward(&gh, &per_dim, scale as f32), h.kernels.kl_backward(&gh, &dh, (beta * scale) as f32, true)])?;
    compare("kl per dimension", &h.read(&per_dim).await?, &cpu_vae::kl_per_dim(&hm, latent, scale), None, Tolerance::TRANSCENDENTAL)?;
    let mut expected = prior.clone();
    cpu_vae::kl_grad(&hm, latent, beta * scale, &mut expected, true);
    let dh_gpu = h.read(&dh).await?;
    compare("kl backward (accumulate)", &dh_gpu, &expected.data, None, Tolerance::TRANSCENDENTAL)?;
    let fd = finite_diff::gradient(&hm.data, 1e-5, |x| {
        beta * cpu_vae::kl_per_dim(&Matrix { rows, cols: 2 * latent, data: x.to_vec() }, latent, scale).iter().sum::<f64>()
    });
    let only: Vec<f32> = dh_gpu.iter().zip(&prior.data).map(|(&g, &p)| (f64::from(g) - p) as f32).collect();
    compare_gradient("kl backward vs finite differences", &only, &fd)
}

/// Batched models (a β sweep's K models in one dispatch): each model's KL per dimension and KL
/// gradient, with its own β, are bit for bit its own alone, also after one model's β changes.
pub async fn kl_of_models_match_alone(h: &Harness) -> Check {
    const K: usize = 3;
    let mut inputs = Inputs::new(44);
    // Latent 70 spreads the forward over two workgroups in x.
    for (rows, latent) in [(37, 5), (16, 70)] {
        let scale = |beta: f64| (beta / rows as f64) as f32;
        let betas = [scale(0.1), scale(1.0), scale(4.0)];
        let hm = inputs.matrix(K * rows, 2 * latent, -2.0, 2.0);
        let prior = inputs.matrix(K * rows, 2 * latent, -1.0, 1.0);
        // Runs forward and accumulating backward twice; model 1's β moves to 2.5 in between.
        let run = |hm: Matrix<f64>, prior: Matrix<f64>, betas: Vec<f32>, changed: Option<usize>| async move {
            let models = betas.len();
            let (gh, dh, per_dim) = (h.upload("h", &hm)?, h.upload("dh", &prior)?, h.zeros("kl_per_dim", 1, models * latent)?);
            let mut schedule = Schedule::new("kl");
            let forward = schedule.push_tuned::<KlParams>(h.kernels.kl_forward_of_models(&gh, &per_dim, &betas)?)?;
            let backward = schedule.push_tuned::<KlParams>(h.kernels.kl_backward_of_models(&gh, &dh, &betas, true)?)?;
            schedule.submit(&h.ctx, 1)?;
            if let Some(z) = changed {
                for tuned in [forward, backward] {
                    schedule.retune_model(&h.ctx, tuned, z, |block| {
                        block.scale = scale(2.5);
                        Ok(())
                    })?;
                }
            }
            schedule.submit(&h.ctx, 1)?;
            h.no_gpu_errors()?;
            anyhow::Ok((h.read(&per_dim).await?, h.read(&dh).await?))
        };
        let (per_dim, dh) = run(hm.clone(), prior.clone(), betas.to_vec(), Some(1)).await?;
        let block = rows * 2 * latent;
        for z in 0..K {
            let alone = run(model_block(&hm, K, z)?, model_block(&prior, K, z)?, vec![betas[z]], (z == 1).then_some(0)).await?;
            let what = format!("model {z} of {K}, {rows} rows, latent {latent}");
            if let Some(d) = (0..latent).find(|&d| per_dim[z * latent + d].to_bits() != alone.0[d].to_bits()) {
                bail!("{what}: KL of dimension {d} is {} batched, {} alone", per_dim[z * latent + d], alone.0[d]);
            }
            if let Some(i) = (0..block).find(|&i| dh[z * block + i].to_bits() != alone.1[i].to_bits()) {
                bail!("{what}: gradient [{i}] is {} batched, {} alone", dh[z * block + i], alone.1[i]);
            }
        }
    }
    let (gh, per_dim) = (h.zeros("h", 2 * K + 1, 4)?, h.zeros("kl_per_dim", 1, 2 * K)?);
    expect_err("an uneven stack", h.kernels.kl_forward_of_models(&gh, &per_dim, &[1.0; K]), &["3 models"])?;
    let gh = h.zeros("h", 2 * K, 4)?;
    expect_err("one model's NaN β", h.kernels.kl_backward_of_models(&gh, &h.zeros("dh", 2 * K, 4)?, &[1.0, f32::NAN, 1.0], false), &["scale"])
}

/// Batched models (a sweep's K models in one dispatch): each model's noise, z and gradient are bit
/// for bit what the same dispatch computes for that model alone (the same seed, stream and step).
pub async fn reparam_of_models_match_alone(h: &Harness) -> Check {
    const K: usize = 3;
    let mut inputs = Inputs::new(45);
    let spec = ReparamSpec { seed: 0xC0FFEE, stream: 3, counter_index: 1, sample: true };
    // 37 × 5 spreads one model over a partial workgroup; 300 × 2 over three.
    for (rows, latent) in [(37, 5), (300, 2)] {
        let hm = inputs.matrix(K * rows, 2 * latent, -1.5, 1.5);
        let upstream = inputs.matrix(K * rows, latent, -1.0, 1.0);
        let prior = inputs.matrix(K * rows, 2 * latent, -1.0, 1.0);
        let run = |hm: Matrix<f64>, upstream: Matrix<f64>, prior: Matrix<f64>, models: usize| async move {
            let counters = h.counters(&[0, 12])?;
            let (gh, gdz, dh) = (h.upload("h", &hm)?, h.upload("dz", &upstream)?, h.upload("dh", &prior)?);
            let (z, eps) = (h.zeros("z", hm.rows, latent)?, h.zeros("eps", hm.rows, latent)?);
            h.run([
                h.kernels.reparam_forward_of_models(&gh, &z, &eps, &counters, spec, models),
                h.kernels.reparam_backward_of_models(&gh, &eps, &gdz, &dh, true, models),
            ])?;
            anyhow::Ok([h.read(&z).await?, h.read(&eps).await?, h.read(&dh).await?])
        };
        let batched = run(hm.clone(), upstream.clone(), prior.clone(), K).await?;
        for z in 0..K {
            let alone = run(model_block(&hm, K, z)?, model_block(&upstream, K, z)?, model_block(&prior, K, z)?, 1).await?;
            for (what, values, own) in [("z", &batched[0], &alone[0]), ("ε", &batched[1], &alone[1]), ("dh", &batched[2], &alone[2])] {
                let block = own.len();
                if let Some(i) = (0..block).find(|&i| values[z * block + i].to_bits() != own[i].to_bits()) {
                    bail!("model {z} of {K}, {rows} rows, latent {latent}: {what}[{i}] is {} batched, {} alone", values[z * block + i], own[i]);
                }
            }
        }
        // One seed, one step: every model draws the same ε, as K runs from one seed do alone.
        let block = rows * latent;
        if batched[1][..block] != batched[1][block..2 * block] || batched[1][..block].iter().all(|&e| e == 0.0) {
            bail!("{rows} rows, latent {latent}: models 0 and 1 drew different noise, or none");
        }
    }
    let (gh, z, eps) = (h.zeros("h", 2 * K + 1, 4)?, h.zeros("z", 2 * K + 1, 2)?, h.zeros("eps", 2 * K + 1, 2)?);
    expect_err("an uneven stack", h.kernels.reparam_forward_of_models(&gh, &z, &eps, &h.counters(&[0, 0])?, spec, K), &["3 models"])
}

pub async fn reparam(h: &Harness) -> Check {
    let mut inputs = Inputs::new(9);
    let (rows, latent, step) = (67, 5, 12u32);
    let rng = RngStream::new(0xC0FFEE, 3);
    let hm = inputs.matrix(rows, 2 * latent, -1.5, 1.5);
    let upstream = inputs.matrix(rows, latent, -1.0, 1.0);
    let counters = h.counters(&[0, step])?;
    let (gh, gdz) = (h.upload("h", &hm)?, h.upload("dz", &upstream)?);
    let (z, eps, dh) = (h.zeros("z", rows, latent)?, h.zeros("eps", rows, latent)?, h.zeros("dh", rows, 2 * latent)?);
    let spec = ReparamSpec { seed: rng.seed, stream: rng.stream, counter_index: 1, sample: true };
    h.run([h.kernels.reparam_forward(&gh, &z, &eps, &counters, spec), h.kernels.reparam_backward(&gh, &eps, &gdz, &dh, false)])?;

    let expected_eps: Matrix<f64> = cpu_vae::reparam_noise(rng, rows, latent, step);
    let eps_gpu = h.read(&eps).await?;
    compare("reparam ε vs CPU Threefry", &eps_gpu, &expected_eps.data, None, Tolerance::TRANSCENDENTAL)?;
    compare("reparam z", &h.read(&z).await?, &cpu_vae::reparam_forward(&hm, &expected_eps).data, None, Tolerance::TRANSCENDENTAL)?;
    let mut expected_dh = Matrix::zeros(rows, 2 * latent);
    cpu_vae::reparam_backward(&hm, &expected_eps, &upstream, &mut expected_dh, false);
    let dh_gpu = h.read(&dh).await?;
    compare("reparam backward", &dh_gpu, &expected_dh.data, None, Tolerance::TRANSCENDENTAL)?;
    let fd = finite_diff::gradient(&hm.data, 1e-5, |x| {
        dot(&upstream.data, &cpu_vae::reparam_forward(&Matrix { rows, cols: 2 * latent, data: x.to_vec() }, &expected_eps).data)
    });
    compare_gradient("reparam backward vs finite differences", &dh_gpu, &fd)?;

    // Evaluation mode: z = μ exactly, ε = 0.
    let eval = ReparamSpec { sample: false, ..spec };
    h.run([h.kernels.reparam_forward(&gh, &z, &eps, &counters, eval)])?;
    let mu: Vec<f64> = (0..rows).flat_map(|i| (0..latent).map(move |d| (i, d))).map(|(i, d)| hm.at(i, d)).collect();
    compare("reparam without sampling returns μ", &h.read(&z).await?, &mu, None, Tolerance::EXACT)?;

    // A large draw has the moments of N(0, 1).
    let big = h.zeros("h", 4096, 64)?;
    let (bz, beps) = (h.zeros("z", 4096, 32)?, h.zeros("eps", 4096, 32)?);
    h.run([h.kernels.reparam_forward(&big, &bz, &beps, &counters, spec)])?;
    let draws = h.read(&beps).await?;
    let n = draws.len() as f64;
    let mean = draws.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let var = draws.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
    if mean.abs() > 0.01 || (var - 1.0).abs() > 0.02 {
        bail!("ε moments off: mean {mean:.4}, variance {var:.4} over {n} draws");
    }
    Ok(())
}

pub async fn dropout(h: &Harness) -> Check {
    let mut inputs = Inputs::new(10);
    let (rows, cols, step) = (64, 300, 5u32);
    let x = inputs.matrix(rows, cols, -1.0, 1.0);
    let upstream = inputs.matrix(rows, cols, -1.0, 1.0);
    let counters = h.counters(&[step])?;
    let (gx, gdy) = (h.upload("x", &x)?, h.upload("dy", &upstream)?);
    for p in [0.0f32, 0.1, 0.5, 0.9] {
        let rng = RngStream::new(77, 4);
        let (y, mask, dx) = (h.zeros("y", rows, cols)?, h.zeros("mask", rows, cols)?, h.zeros("dx", rows, cols)?);
        let spec = DropoutSpec { p, seed: rng.seed, stream: rng.stream, counter_index: 0 };
        h.run([h.kernels.dropout_forward(&gx, &y, &mask, &counters, spec), h.kernels.dropout_backward(&gdy, &mask, &dx, false)])?;
        let expected_mask: Vec<f64> = cpu_dropout::mask(rng, rows * cols, p, step);
        let mask_gpu = h.read(&mask).await?;
        // Keep decisions are integer comparisons: the same elements must be dropped. Scales are f32.
        compare(&format!("dropout p={p} mask"), &mask_gpu, &expected_mask, None, Tolerance { abs: 0.0, rel: 1e-6 })?;
        compare(&format!("dropout p={p} forward"), &h.read(&y).await?, &cpu_dropout::apply_mask(&x.data, &expected_mask), None, Tolerance::F32)?;
        compare(&format!("dropout p={p} backward"), &h.read(&dx).await?, &cpu_dropout::apply_mask(&upstream.data, &expected_mask), None, Tolerance::F32)?;
        let kept = mask_gpu.iter().filter(|&&m| m > 0.0).count() as f64 / mask_gpu.len() as f64;
        if (kept - (1.0 - f64::from(p))).abs() > 0.02 {
            bail!("dropout p={p} kept {kept:.3} of elements");
        }
        let fd = finite_diff::gradient(&x.data[..50], 1e-5, |xs| dot(&upstream.data[..50], &cpu_dropout::apply_mask(xs, &expected_mask[..50])));
        compare_gradient(&format!("dropout p={p} backward vs finite differences"), &h.read(&dx).await?[..50], &fd)?;
    }
    Ok(())
}
