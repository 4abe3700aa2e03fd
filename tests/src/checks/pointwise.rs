//! Element-wise activations and the fixed-order reductions.

use latent_core::finite_diff;
use latent_core::ops::reduce::{column_sums, sum_all};
use latent_core::Activation;

use crate::harness::{compare, compare_gradient, dot, model_block, Check, Harness, Inputs, Tolerance};

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

/// Batched models (a sweep's K models in one dispatch): each model's column sums and total are,
/// bit for bit, its sums alone; a stack that does not divide among the models, and overlapping
/// slots, are refused.
pub async fn reductions_of_models_match_alone(h: &Harness) -> Check {
    const K: usize = 3;
    let mut inputs = Inputs::new(41);
    for (rows, cols) in [(1, 1), (128, 64), (300, 3), (7, 257)] {
        let x = inputs.matrix(K * rows, cols, -1.0, 1.0);
        let prior = inputs.matrix(K, cols, -1.0, 1.0);
        let gx = h.upload("x", &x)?;
        // Column sums into K rows of sums; totals into slots 1, 4, 7 of a metrics buffer.
        let (sums, totals) = (h.upload("sums", &prior)?, h.zeros("metrics", 1, 3 * K)?);
        h.run([h.kernels.column_sums_of_models(&gx, &sums, K, 0.5, true), h.kernels.sum_all_of_models(&gx, &totals, K, (1, 3), 0.25, false)])?;
        let (sums, totals) = (h.read(&sums).await?, h.read(&totals).await?);
        for z in 0..K {
            let g_block = h.upload("x", &model_block(&x, K, z)?)?;
            let alone_prior = model_block(&prior, K, z)?;
            let (alone_sums, alone_total) = (h.upload("sums", &alone_prior)?, h.zeros("metrics", 1, 1)?);
            h.run([h.kernels.column_sums(&g_block, &alone_sums, 0.5, true), h.kernels.sum_all(&g_block, &alone_total, 0, 0.25, false)])?;
            let (alone_sums, alone_total) = (h.read(&alone_sums).await?, h.read(&alone_total).await?);
            let what = format!("model {z} of {K}, {rows}×{cols}");
            if let Some(j) = (0..cols).find(|&j| alone_sums[j].to_bits() != sums[z * cols + j].to_bits()) {
                anyhow::bail!("{what}: column {j} sums to {} batched, {} alone", sums[z * cols + j], alone_sums[j]);
            }
            if totals[1 + 3 * z].to_bits() != alone_total[0].to_bits() {
                anyhow::bail!("{what}: total {} batched, {} alone", totals[1 + 3 * z], alone_total[0]);
            }
        }
        // Nothing lands between the models' slots.
        if (0..3 * K).filter(|i| i % 3 != 1).any(|i| totals[i] != 0.0) {
            anyhow::bail!("{rows}×{cols}: a batched total landed outside its model's slot: {totals:?}");
        }
    }
    let (odd, out) = (h.zeros("x", 2 * K + 1, 4)?, h.zeros("sums", 1, 4 * K)?);
    if h.kernels.column_sums_of_models(&odd, &out, K, 1.0, false).is_ok() {
        anyhow::bail!("7 rows were accepted as 3 models' blocks");
    }
    let x = h.zeros("x", K, 4)?;
    if h.kernels.sum_all_of_models(&x, &out, K, (0, 0), 1.0, false).is_ok() || h.kernels.sum_all_of_models(&x, &out, K, (4 * K - 1, 1), 1.0, false).is_ok() {
        anyhow::bail!("overlapping slots or slots past the end were accepted");
    }
    Ok(())
}
