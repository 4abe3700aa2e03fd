//! End-to-end checks: chained kernels against finite differences of the composed CPU forward, and
//! bit-for-bit determinism of a replayed training step.

use anyhow::bail;
use latent_core::finite_diff;
use latent_core::ops::matmul::{matmul, Epilogue, MatmulForm};
use latent_core::ops::optimizer::AdamConfig;
use latent_core::ops::{loss, vae as cpu_vae};
use latent_core::rng::RngStream;
use latent_core::{Activation, Matrix};
use latent_gpu::ops::{AdamBuffers, DropoutSpec, GatherSpec, GpuEpilogue, MatmulSpec, ParamRange, ReparamSpec};
use latent_gpu::{GpuError, GpuTensor, Schedule};

use crate::harness::{compare_gradient, dot, Check, Harness, Inputs};

fn linear(x: &Matrix<f64>, w: &Matrix<f64>, b: &[f64], activation: Activation) -> Matrix<f64> {
    let mut out = Matrix::zeros(x.rows, w.cols);
    // Shapes are built consistent below; a mismatch would be a bug in the check itself.
    matmul(x, w, MatmulForm::Nn, Epilogue::BiasActivation { bias: b, activation }, false, &mut out).ok();
    out
}

/// Splits a flat parameter vector back into the matrices it was made of.
fn unflatten(flat: &[f64], shapes: &[(usize, usize)]) -> Vec<Matrix<f64>> {
    let mut at = 0;
    shapes
        .iter()
        .map(|&(r, c)| {
            let m = Matrix { rows: r, cols: c, data: flat[at..at + r * c].to_vec() };
            at += r * c;
            m
        })
        .collect()
}

/// Two layers (tanh hidden, linear logits) into BCE: every gradient of the fused backward schedule
/// against finite differences of the f64 forward.
pub async fn chain_linear_activation_loss(h: &Harness) -> Check {
    let mut inputs = Inputs::new(14);
    let (batch, n_in, hidden, n_out) = (3, 6, 5, 4);
    let x = inputs.matrix(batch, n_in, -1.0, 1.0);
    let w1 = inputs.matrix(n_in, hidden, -0.8, 0.8);
    let b1 = inputs.matrix(1, hidden, -0.3, 0.3);
    let w2 = inputs.matrix(hidden, n_out, -0.8, 0.8);
    let b2 = inputs.matrix(1, n_out, -0.3, 0.3);
    let targets = inputs.matrix(batch, n_out, 0.0, 1.0);
    let scale = 1.0 / batch as f64;
    let shapes = [(batch, n_in), (n_in, hidden), (1, hidden), (hidden, n_out), (1, n_out)];
    let loss_of = |flat: &[f64]| {
        let p = unflatten(flat, &shapes);
        let hidden_out = linear(&p[0], &p[1], &p[2].data, Activation::Tanh);
        let logits = linear(&hidden_out, &p[3], &p[4].data, Activation::Identity);
        scale * loss::bce_with_logits_rows(&logits, &targets).iter().sum::<f64>()
    };
    let flat: Vec<f64> = [&x, &w1, &b1, &w2, &b2].iter().flat_map(|m| m.data.clone()).collect();
    let fd = unflatten(&finite_diff::gradient(&flat, 1e-5, loss_of), &shapes);

    let t = |label: &str, m: &Matrix<f64>| h.upload(label, m);
    let (gx, gw1, gb1, gw2, gb2, gt) = (t("x", &x)?, t("w1", &w1)?, t("b1", &b1)?, t("w2", &w2)?, t("b2", &b2)?, t("targets", &targets)?);
    let z = |label: &str, r: usize, c: usize| h.zeros(label, r, c);
    let (h1, logits, dlogits) = (z("h1", batch, hidden)?, z("logits", batch, n_out)?, z("dlogits", batch, n_out)?);
    let (dw2, db2, dh1, dw1, db1, dx) =
        (z("dw2", hidden, n_out)?, z("db2", 1, n_out)?, z("dh1", batch, hidden)?, z("dw1", n_in, hidden)?, z("db1", 1, hidden)?, z("dx", batch, n_in)?);
    let k = &h.kernels;
    h.run([
        k.matmul(&gx, &gw1, &h1, MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gb1, activation: Activation::Tanh })),
        k.matmul(&h1, &gw2, &logits, MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gb2, activation: Activation::Identity })),
        k.bce_backward(&logits, &gt, &dlogits, scale as f32, false),
        k.matmul(&h1, &dlogits, &dw2, MatmulSpec::new(MatmulForm::Tn)),
        k.column_sums(&dlogits, &db2, 1.0, false),
        k.matmul(&dlogits, &gw2, &dh1, MatmulSpec::new(MatmulForm::Nt).epilogue(GpuEpilogue::ActivationGrad { output: &h1, activation: Activation::Tanh })),
        k.matmul(&gx, &dh1, &dw1, MatmulSpec::new(MatmulForm::Tn)),
        k.column_sums(&dh1, &db1, 1.0, false),
        k.matmul(&dh1, &gw1, &dx, MatmulSpec::new(MatmulForm::Nt)),
    ])?;
    for (name, gpu, expected) in [("dX", &dx, &fd[0]), ("dW1", &dw1, &fd[1]), ("db1", &db1, &fd[2]), ("dW2", &dw2, &fd[3]), ("db2", &db2, &fd[4])] {
        compare_gradient(&format!("linear→tanh→linear→BCE {name}"), &h.read(gpu).await?, &expected.data)?;
    }
    Ok(())
}

/// Encoder layer → reparameterization → (upstream · z + β·KL): gradients of the encoder's weights
/// and bias against finite differences, with the GPU's own ε.
pub async fn chain_encoder_reparam_kl(h: &Harness) -> Check {
    let mut inputs = Inputs::new(15);
    let (batch, n_in, latent, beta, step) = (4, 7, 3, 2.0, 9u32);
    let x = inputs.matrix(batch, n_in, -1.0, 1.0);
    let w = inputs.matrix(n_in, 2 * latent, -0.5, 0.5);
    let b = inputs.matrix(1, 2 * latent, -0.5, 0.5);
    let upstream = inputs.matrix(batch, latent, -1.0, 1.0);
    let rng = RngStream::new(42, 1);
    let eps: Matrix<f64> = cpu_vae::reparam_noise(rng, batch, latent, step);
    let scale = 1.0 / batch as f64;
    let shapes = [(n_in, 2 * latent), (1, 2 * latent)];
    let loss_of = |flat: &[f64]| {
        let p = unflatten(flat, &shapes);
        let hm = linear(&x, &p[0], &p[1].data, Activation::Identity);
        let zm = cpu_vae::reparam_forward(&hm, &eps);
        scale * dot(&upstream.data, &zm.data) + beta * cpu_vae::kl_per_dim(&hm, latent, scale).iter().sum::<f64>()
    };
    let flat: Vec<f64> = w.data.iter().chain(&b.data).copied().collect();
    let fd = unflatten(&finite_diff::gradient(&flat, 1e-5, loss_of), &shapes);

    let dz_scaled = Matrix { rows: batch, cols: latent, data: upstream.data.iter().map(|u| u * scale).collect() };
    let (gx, gw, gb, gdz) = (h.upload("x", &x)?, h.upload("w_enc", &w)?, h.upload("b_enc", &b)?, h.upload("dz", &dz_scaled)?);
    let counters = h.counters(&[step])?;
    let (hm, zt, et, dh) = (h.zeros("h", batch, 2 * latent)?, h.zeros("z", batch, latent)?, h.zeros("eps", batch, latent)?, h.zeros("dh", batch, 2 * latent)?);
    let (dw, db) = (h.zeros("dw_enc", n_in, 2 * latent)?, h.zeros("db_enc", 1, 2 * latent)?);
    let spec = ReparamSpec { seed: rng.seed, stream: rng.stream, counter_index: 0, sample: true };
    let k = &h.kernels;
    h.run([
        k.matmul(&gx, &gw, &hm, MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gb, activation: Activation::Identity })),
        k.reparam_forward(&hm, &zt, &et, &counters, spec),
        k.reparam_backward(&hm, &et, &gdz, &dh, false),
        k.kl_backward(&hm, &dh, (beta * scale) as f32, true),
        k.matmul(&gx, &dh, &dw, MatmulSpec::new(MatmulForm::Tn)),
        k.column_sums(&dh, &db, 1.0, false),
    ])?;
    compare_gradient("encoder→reparam→KL dW", &h.read(&dw).await?, &fd[0].data)?;
    compare_gradient("encoder→reparam→KL db", &h.read(&db).await?, &fd[1].data)
}

/// A tiny VAE with dropout, trained for a few replays of one recorded step.
struct TinyVae {
    schedule: Schedule,
    outputs: Vec<GpuTensor>,
    _keep_alive: Vec<GpuTensor>,
}

fn tiny_vae(h: &Harness, seed: u32) -> Result<TinyVae, GpuError> {
    let mut inputs = Inputs::new(16);
    let (n, pixels, batch, latent) = (50usize, 16usize, 8usize, 3usize);
    let ctx = &h.ctx;
    let k = &h.kernels;
    let bytes: Vec<u8> = (0..n * pixels).map(|_| inputs.below(256) as u8).collect();
    let data = ctx.upload_u8("pixels", n, pixels, &bytes)?;
    let indices = ctx.upload_u32("indices", 1, n, &(0..n as u32).rev().collect::<Vec<_>>())?;
    let counters = ctx.upload_u32("counters", 1, 1, &[0])?;
    let param = |label: &str, r: usize, c: usize, inputs: &mut Inputs| ctx.upload_f32(label, r, c, &inputs.matrix(r, c, -0.4, 0.4).to_f32());
    let (we, be, wd, bd) = (
        param("w_enc", pixels, 2 * latent, &mut inputs)?,
        param("b_enc", 1, 2 * latent, &mut inputs)?,
        param("w_dec", latent, pixels, &mut inputs)?,
        param("b_dec", 1, pixels, &mut inputs)?,
    );
    let z = |label: &str, r: usize, c: usize| ctx.zeros(label, r, c);
    let (x, hm, zt, eps, zd, mask) = (
        z("x", batch, pixels)?,
        z("h", batch, 2 * latent)?,
        z("z", batch, latent)?,
        z("eps", batch, latent)?,
        z("z_dropped", batch, latent)?,
        z("mask", batch, latent)?,
    );
    let (logits, per_row, kl_dim, metrics) = (z("logits", batch, pixels)?, z("per_row", batch, 1)?, z("kl_per_dim", 1, latent)?, z("metrics", 1, 2)?);
    let (dlogits, dzd, dz, dh) = (z("dlogits", batch, pixels)?, z("dz_dropped", batch, latent)?, z("dz", batch, latent)?, z("dh", batch, 2 * latent)?);
    let grads: Vec<GpuTensor> = [&we, &be, &wd, &bd].iter().map(|p| z(&format!("d{}", p.label()), p.rows(), p.cols())).collect::<Result<_, _>>()?;
    let moments: Vec<GpuTensor> =
        [&we, &be, &wd, &bd].iter().flat_map(|p| [z("m", p.rows(), p.cols()), z("v", p.rows(), p.cols())]).collect::<Result<_, _>>()?;
    let scale = 1.0 / batch as f32;
    let mut s = Schedule::new("tiny vae step");
    s.push(k.gather_u8(&data, &indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: Some(0) })?);
    s.push(k.matmul(&x, &we, &hm, MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &be, activation: Activation::Identity }))?);
    s.push(k.reparam_forward(&hm, &zt, &eps, &counters, ReparamSpec { seed, stream: 1, counter_index: 0, sample: true })?);
    s.push(k.dropout_forward(&zt, &zd, &mask, &counters, DropoutSpec { p: 0.2, seed, stream: 2, counter_index: 0 })?);
    s.push(k.matmul(
        &zd,
        &wd,
        &logits,
        MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &bd, activation: Activation::Identity }),
    )?);
    s.push(k.bce_forward(&logits, &x, &per_row)?);
    s.push(k.sum_all(&per_row, &metrics, 0, scale, false)?);
    s.push(k.kl_forward(&hm, &kl_dim, scale)?);
    s.push(k.sum_all(&kl_dim, &metrics, 1, 1.0, false)?);
    s.push(k.bce_backward(&logits, &x, &dlogits, scale, false)?);
    s.push(k.matmul(&zd, &dlogits, &grads[2], MatmulSpec::new(MatmulForm::Tn))?);
    s.push(k.column_sums(&dlogits, &grads[3], 1.0, false)?);
    s.push(k.matmul(&dlogits, &wd, &dzd, MatmulSpec::new(MatmulForm::Nt))?);
    s.push(k.dropout_backward(&dzd, &mask, &dz, false)?);
    s.push(k.reparam_backward(&hm, &eps, &dz, &dh, false)?);
    s.push(k.kl_backward(&hm, &dh, scale, true)?);
    s.push(k.matmul(&x, &dh, &grads[0], MatmulSpec::new(MatmulForm::Tn))?);
    s.push(k.column_sums(&dh, &grads[1], 1.0, false)?);
    for (i, p) in [&we, &be, &wd, &bd].into_iter().enumerate() {
        let buffers = AdamBuffers { weights: p, grads: &grads[i], m: &moments[2 * i], v: &moments[2 * i + 1], counters: &counters, counter_index: 0 };
        s.push(k.adam(buffers, ParamRange::all(p), AdamConfig { lr: 0.01, ..AdamConfig::default() })?);
    }
    s.push(k.advance_counter(&counters, 0, 1)?);
    let mut keep = vec![data, indices, counters, x, hm, zt, eps, zd, mask, logits, per_row, kl_dim, dlogits, dzd, dz, dh];
    keep.extend(grads);
    keep.extend(moments);
    Ok(TinyVae { schedule: s, outputs: vec![we, be, wd, bd, metrics], _keep_alive: keep })
}

async fn train_tiny(h: &Harness, seed: u32, steps: usize) -> anyhow::Result<Vec<Vec<u32>>> {
    let vae = tiny_vae(h, seed)?;
    vae.schedule.submit(&h.ctx, steps)?;
    h.no_gpu_errors()?;
    let mut bits = Vec::new();
    for t in &vae.outputs {
        bits.push(h.read(t).await?.iter().map(|v| v.to_bits()).collect());
    }
    Ok(bits)
}

/// Same seed, same bits; another seed, other bits. Also a sanity check that training moved.
pub async fn determinism(h: &Harness) -> Check {
    let first = train_tiny(h, 1234, 6).await?;
    let second = train_tiny(h, 1234, 6).await?;
    if first != second {
        let which = first.iter().zip(&second).position(|(a, b)| a != b).unwrap_or(0);
        bail!("two runs from seed 1234 differ (output {which})");
    }
    let metrics: Vec<f32> = first[4].iter().map(|&b| f32::from_bits(b)).collect();
    if !metrics.iter().all(|v| v.is_finite() && *v > 0.0) {
        bail!("tiny VAE metrics are not positive finite numbers: {metrics:?}");
    }
    let other = train_tiny(h, 999, 6).await?;
    if other == first {
        bail!("seeds 1234 and 999 trained to identical bits: the seed does not reach the RNG");
    }
    Ok(())
}
