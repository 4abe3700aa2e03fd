//! KL, reparameterization and dropout: the pieces with randomness checked bit-for-bit against the
//! CPU's Threefry.

use anyhow::bail;
use latent_core::ops::{dropout as cpu_dropout, vae as cpu_vae};
use latent_core::rng::RngStream;
use latent_core::{finite_diff, Matrix};
use latent_gpu::ops::{DropoutSpec, ReparamSpec};

use crate::harness::{compare, compare_gradient, dot, Check, Harness, Inputs, Tolerance};

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
