//! Element-wise activations and the fixed-order reductions.

use latent_core::finite_diff;
use latent_core::ops::reduce::{column_sums, sum_all};
use latent_core::Activation;

use crate::harness::{compare, compare_gradient, dot, Check, Harness, Inputs, Tolerance};

pub async fn activations(h: &Harness) -> Check {
    let mut inputs = Inputs::new(3);
    let (rows, cols) = (33, 301);
    // Away from 0 so ReLU/LeakyReLU finite differences never straddle the kink.
    let x = inputs.matrix_away_from_zero(rows, cols, 4.0, 0.01);
    let upstream = inputs.matrix(rows, cols, -1.0, 1.0);
    let prior = inputs.matrix(rows, cols, -1.0, 1.0);
    let (gx, gup) = (h.upload("x", &x)?, h.upload("dy", &upstream)?);
    for activation in Activation::ALL {
        let y: Vec<f64> = x.data.iter().map(|&v| activation.apply(v)).collect();
        let gy_out = h.zeros("y", rows, cols)?;
        h.run([h.kernels.activation_forward(&gx, &gy_out, activation, false)])?;
        let y_gpu = h.read(&gy_out).await?;
        compare(&format!("{} forward", activation.name()), &y_gpu, &y, None, Tolerance::TRANSCENDENTAL)?;

        // Backward from the GPU's own y, as training does; compared with the f64 formula and with
        // finite differences of Σ dy·f(x).
        let dx = h.upload("dx", &prior)?;
        h.run([h.kernels.activation_backward(&gy_out, &gup, &dx, activation, true)])?;
        let dx_gpu = h.read(&dx).await?;
        let expected: Vec<f64> =
            y_gpu.iter().zip(&upstream.data).zip(&prior.data).map(|((&yv, &u), &p)| p + u * activation.derivative_from_output(f64::from(yv))).collect();
        compare(&format!("{} backward (accumulate)", activation.name()), &dx_gpu, &expected, None, Tolerance::TRANSCENDENTAL)?;
        let fd = finite_diff::gradient(&x.data, 1e-5, |xs| dot(&upstream.data, &xs.iter().map(|&v| activation.apply(v)).collect::<Vec<_>>()));
        let dx_only: Vec<f32> = dx_gpu.iter().zip(&prior.data).map(|(&g, &p)| (f64::from(g) - p) as f32).collect();
        compare_gradient(&format!("{} backward vs finite differences", activation.name()), &dx_only, &fd)?;
    }
    Ok(())
}

pub async fn reductions(h: &Harness) -> Check {
    let mut inputs = Inputs::new(4);
    for (rows, cols) in [(1, 1), (128, 400), (1000, 3), (7, 784)] {
        let x = inputs.matrix(rows, cols, -1.0, 1.0);
        let prior = inputs.matrix(1, cols, -1.0, 1.0);
        let gx = h.upload("x", &x)?;
        let out = h.upload("sums", &prior)?;
        h.run([h.kernels.column_sums(&gx, &out, 0.5, true)])?;
        let mut expected = vec![0.0; cols];
        column_sums(&x, &mut expected, false);
        let expected: Vec<f64> = expected.iter().zip(&prior.data).map(|(s, p)| p + 0.5 * s).collect();
        let bound = vec![rows as f64; cols];
        compare(&format!("column sums {rows}×{cols}"), &h.read(&out).await?, &expected, Some(&bound), Tolerance::F32)?;
    }
    // Whole-buffer sums over sizes around the 256-lane tree, into chosen slots.
    for len in [1usize, 255, 256, 257, 100_003] {
        let x = inputs.matrix(1, len, -1.0, 1.0);
        let gx = h.upload("x", &x)?;
        let out = h.zeros("metrics", 1, 4)?;
        h.run([h.kernels.sum_all(&gx, &out, 2, 0.25, false), h.kernels.sum_all(&gx, &out, 3, 1.0, true), h.kernels.sum_all(&gx, &out, 3, 1.0, true)])?;
        let total = sum_all(&x.data, 1.0);
        let bound = vec![len as f64; 4];
        compare(&format!("sum of {len}"), &h.read(&out).await?, &[0.0, 0.0, 0.25 * total, 2.0 * total], Some(&bound), Tolerance::F32)?;
    }
    Ok(())
}
