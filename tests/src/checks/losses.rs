//! BCE-with-logits, Gaussian and GAN losses, forward and backward.

use latent_core::finite_diff;
use latent_core::ops::loss;
use latent_core::Matrix;
use latent_gpu::ops::GanLabel;

use crate::harness::{compare, compare_gradient, Check, Harness, Inputs, Tolerance};

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
