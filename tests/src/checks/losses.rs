//! BCE-with-logits, Gaussian and GAN losses, forward and backward.

use anyhow::bail;
use latent_core::finite_diff;
use latent_core::ops::loss;
use latent_core::Matrix;
use latent_gpu::ops::GanLabel;
use latent_gpu::params::LossParams;
use latent_gpu::Schedule;

use super::errors::expect_err;
use crate::harness::{compare, compare_gradient, model_block, Check, Harness, Inputs, Tolerance};

fn sum(v: &[f64]) -> f64 {
    v.iter().sum()
}

pub async fn loss_bce(h: &Harness) -> Check {
    let mut inputs = Inputs::new(5);
    let (rows, cols) = (19, 784);
    // Logits up to ±30 exercise the stable softplus/sigmoid branches.
    let logits = inputs.matrix(rows, cols, -30.0, 30.0);
    let targets = inputs.matrix(rows, cols, 0.0, 1.0);
    let (gl, gt) = (h.upload("logits", &logits)?, h.upload("targets", &targets)?);
    let per_row = h.zeros("per_row", 1, rows)?;
    let grad = h.zeros("grad", rows, cols)?;
    let scale = 1.0 / rows as f64;
    h.run([h.kernels.bce_forward(&gl, &gt, &per_row), h.kernels.bce_backward(&gl, &gt, &grad, scale as f32, false)])?;
    let expected_rows = loss::bce_with_logits_rows(&logits, &targets);
    let bound: Vec<f64> = expected_rows.iter().map(|v| v.abs() + cols as f64).collect();
    compare("bce forward", &h.read(&per_row).await?, &expected_rows, Some(&bound), Tolerance::TRANSCENDENTAL)?;
    let expected_grad = loss::bce_with_logits_grad(&logits, &targets, scale);
    compare("bce backward", &h.read(&grad).await?, &expected_grad.data, Some(&vec![scale; rows * cols]), Tolerance::TRANSCENDENTAL)?;
    // Finite differences on a small slice (moderate logits so h = 1e-5 resolves the curvature).
    let small = inputs.matrix(3, 5, -4.0, 4.0);
    let small_t = inputs.matrix(3, 5, 0.0, 1.0);
    let (gs, gst) = (h.upload("logits", &small)?, h.upload("targets", &small_t)?);
    let g = h.zeros("grad", 3, 5)?;
    h.run([h.kernels.bce_backward(&gs, &gst, &g, 1.0, false)])?;
    let fd = finite_diff::gradient(&small.data, 1e-5, |l| sum(&loss::bce_with_logits_rows(&Matrix { rows: 3, cols: 5, data: l.to_vec() }, &small_t)));
    compare_gradient("bce backward vs finite differences", &h.read(&g).await?, &fd)
}

pub async fn loss_gaussian(h: &Harness) -> Check {
    let mut inputs = Inputs::new(6);
    let (rows, cols) = (257, 2);
    let outputs = inputs.matrix(rows, cols, -3.0, 3.0);
    let targets = inputs.matrix(rows, cols, -3.0, 3.0);
    let prior = inputs.matrix(rows, cols, -1.0, 1.0);
    let inv_var = 4.0;
    let (go, gt) = (h.upload("outputs", &outputs)?, h.upload("targets", &targets)?);
    let per_row = h.zeros("per_row", rows, 1)?;
    let grad = h.upload("grad", &prior)?;
    h.run([h.kernels.gaussian_forward(&go, &gt, &per_row, inv_var as f32), h.kernels.gaussian_backward(&go, &gt, &grad, inv_var as f32, 0.5, true)])?;
    compare("gaussian forward", &h.read(&per_row).await?, &loss::gaussian_rows(&outputs, &targets, inv_var), None, Tolerance::F32)?;
    let g = loss::gaussian_grad(&outputs, &targets, inv_var, 0.5);
    let expected: Vec<f64> = g.data.iter().zip(&prior.data).map(|(a, b)| a + b).collect();
    let grad_gpu = h.read(&grad).await?;
    compare("gaussian backward (accumulate)", &grad_gpu, &expected, None, Tolerance::F32)?;
    let fd = finite_diff::gradient(&outputs.data, 1e-5, |y| 0.5 * sum(&loss::gaussian_rows(&Matrix { rows, cols, data: y.to_vec() }, &targets, inv_var)));
    let only: Vec<f32> = grad_gpu.iter().zip(&prior.data).map(|(&g, &p)| (f64::from(g) - p) as f32).collect();
    compare_gradient("gaussian backward vs finite differences", &only, &fd)
}

pub async fn loss_gan(h: &Harness) -> Check {
    let mut inputs = Inputs::new(7);
    let (rows, cols) = (130, 1);
    let logits = inputs.matrix(rows, cols, -25.0, 25.0);
    let gl = h.upload("d_logits", &logits)?;
    for label in [GanLabel::Real, GanLabel::Fake] {
        let value = f64::from(label.value());
        let (loss_rows, correct) = (h.zeros("loss", rows, 1)?, h.zeros("correct", rows, 1)?);
        let grad = h.zeros("grad", rows, cols)?;
        let scale = 1.0 / rows as f64;
        h.run([h.kernels.gan_forward(&gl, label, &loss_rows, &correct), h.kernels.gan_backward(&gl, label, &grad, scale as f32, false)])?;
        let (expected_loss, expected_correct) = loss::gan_rows(&logits, value);
        let bound: Vec<f64> = expected_loss.iter().map(|v| v.abs() + 1.0).collect();
        compare(&format!("gan {label:?} forward"), &h.read(&loss_rows).await?, &expected_loss, Some(&bound), Tolerance::TRANSCENDENTAL)?;
        compare(&format!("gan {label:?} accuracy"), &h.read(&correct).await?, &expected_correct, None, Tolerance::EXACT)?;
        let grad_gpu = h.read(&grad).await?;
        compare(
            &format!("gan {label:?} backward"),
            &grad_gpu,
            &loss::gan_grad(&logits, value, scale).data,
            Some(&vec![scale; rows]),
            Tolerance::TRANSCENDENTAL,
        )?;
    }
    // Finite differences of the non-saturating generator loss on moderate logits.
    let small = inputs.matrix(9, 1, -5.0, 5.0);
    let gs = h.upload("d_logits", &small)?;
    let g = h.zeros("grad", 9, 1)?;
    h.run([h.kernels.gan_backward(&gs, GanLabel::Real, &g, 1.0, false)])?;
    let fd = finite_diff::gradient(&small.data, 1e-5, |d| sum(&loss::gan_rows(&Matrix { rows: 9, cols: 1, data: d.to_vec() }, 1.0).0));
    compare_gradient("non-saturating generator loss vs finite differences", &h.read(&g).await?, &fd)
}

/// Batched models (a sweep's K models in one dispatch): stacked rows give each model its losses
/// and gradients bit for bit (the rows are independent), and the GAN loss's gradient takes a
/// scale per model (the VAE-GAN's γ), also after one model's γ changes through `retune_model`.
pub async fn losses_of_models_match_alone(h: &Harness) -> Check {
    const K: usize = 3;
    let mut inputs = Inputs::new(47);
    let (rows, cols) = (37, 3);
    let scale = |gamma: f64| (gamma / rows as f64) as f32;
    let gammas = [scale(0.0), scale(0.5), scale(2.0)];
    let logits = inputs.matrix(K * rows, cols, -6.0, 6.0);
    let targets = inputs.matrix(K * rows, cols, 0.0, 1.0);
    let prior = inputs.matrix(K * rows, cols, -1.0, 1.0);
    // Every loss's per-row values and gradient; the GAN's gradient with model 1's γ moved to 1.5.
    let run = |logits: Matrix<f64>, targets: Matrix<f64>, prior: Matrix<f64>, gammas: Vec<f32>, changed: Option<usize>| async move {
        let n = logits.rows;
        let (gl, gt) = (h.upload("logits", &logits)?, h.upload("targets", &targets)?);
        let (rows_bce, rows_gauss, rows_gan, correct) = (h.zeros("bce", n, 1)?, h.zeros("gauss", n, 1)?, h.zeros("gan", n, 1)?, h.zeros("correct", n, 1)?);
        let (d_bce, d_gauss, d_gan) = (h.zeros("d_bce", n, cols)?, h.zeros("d_gauss", n, cols)?, h.upload("d_gan", &prior)?);
        let mut s = Schedule::new("losses");
        s.push(h.kernels.bce_forward(&gl, &gt, &rows_bce)?);
        s.push(h.kernels.bce_backward(&gl, &gt, &d_bce, 0.25, false)?);
        s.push(h.kernels.gaussian_forward(&gl, &gt, &rows_gauss, 4.0)?);
        s.push(h.kernels.gaussian_backward(&gl, &gt, &d_gauss, 4.0, 0.25, false)?);
        s.push(h.kernels.gan_forward(&gl, GanLabel::Real, &rows_gan, &correct)?);
        let gan = s.push_tuned::<LossParams>(h.kernels.gan_backward_of_models(&gl, GanLabel::Real, &d_gan, &gammas, true)?)?;
        s.submit(&h.ctx, 1)?;
        if let Some(z) = changed {
            s.retune_model(&h.ctx, gan, z, |block| {
                block.scale = scale(1.5);
                Ok(())
            })?;
        }
        s.submit(&h.ctx, 1)?;
        h.no_gpu_errors()?;
        let mut read = Vec::new();
        for t in [&rows_bce, &d_bce, &rows_gauss, &d_gauss, &rows_gan, &correct, &d_gan] {
            read.push(h.read(t).await?);
        }
        anyhow::Ok(read)
    };
    let batched = run(logits.clone(), targets.clone(), prior.clone(), gammas.to_vec(), Some(1)).await?;
    let names = ["BCE per row", "BCE gradient", "Gaussian per row", "Gaussian gradient", "GAN loss per row", "D accuracy per row", "GAN gradient"];
    for z in 0..K {
        let own = |m: &Matrix<f64>| model_block(m, K, z);
        let alone = run(own(&logits)?, own(&targets)?, own(&prior)?, vec![gammas[z]], (z == 1).then_some(0)).await?;
        for ((name, values), own) in names.iter().zip(&batched).zip(&alone) {
            let block = own.len();
            if let Some(i) = (0..block).find(|&i| values[z * block + i].to_bits() != own[i].to_bits()) {
                bail!("model {z} of {K}: {name} [{i}] is {} batched, {} alone", values[z * block + i], own[i]);
            }
        }
    }
    // γ = 0 adds nothing to model 0's prior gradient; model 2's γ = 2 does.
    let (block, d_gan) = (rows * cols, &batched[6]);
    let kept = |i: usize| d_gan[i] == prior.data[i] as f32;
    if !(0..block).all(kept) || (2 * block..3 * block).all(kept) {
        bail!("the GAN gradient's scales are not each model's own γ");
    }
    let (gl, grad) = (h.zeros("logits", 2 * K + 1, 2)?, h.zeros("grad", 2 * K + 1, 2)?);
    expect_err("an uneven stack", h.kernels.gan_backward_of_models(&gl, GanLabel::Fake, &grad, &[1.0; K], false), &["3 models"])?;
    let (gl, grad) = (h.zeros("logits", 2 * K, 2)?, h.zeros("grad", 2 * K, 2)?);
    expect_err("one model's infinite γ", h.kernels.gan_backward_of_models(&gl, GanLabel::Fake, &grad, &[1.0, f32::INFINITY, 1.0], false), &["scale"])
}
