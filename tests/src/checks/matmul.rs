//! matmul: every variant × form on awkward shapes, and every epilogue.

use latent_core::ops::matmul::{abs_product_scale, matmul, Epilogue, MatmulForm};
use latent_core::{Activation, Matrix};
use latent_gpu::ops::{GpuEpilogue, MatmulSpec};
use latent_gpu::MatmulVariant;

use crate::harness::{compare, Check, Harness, Inputs, Tolerance};

/// Stored shapes of A and B for a form and (m, k, n).
fn stored(form: MatmulForm, m: usize, k: usize, n: usize) -> ((usize, usize), (usize, usize)) {
    let a = if form.trans_a() { (k, m) } else { (m, k) };
    let b = if form.trans_b() { (n, k) } else { (k, n) };
    (a, b)
}

/// (m, k, n) covering 1, 3, 127, 784 and 1000 (none a multiple of any tile) plus seeded random shapes.
fn shapes(inputs: &mut Inputs) -> Vec<(usize, usize, usize)> {
    let mut shapes = vec![(1, 1, 1), (3, 1, 1), (1, 3, 127), (127, 784, 3), (3, 1000, 127), (67, 127, 784), (1000, 3, 1), (65, 17, 66)];
    for _ in 0..3 {
        shapes.push((1 + inputs.below(150) as usize, 1 + inputs.below(150) as usize, 1 + inputs.below(150) as usize));
    }
    shapes
}

pub async fn matmul_shapes(h: &Harness) -> Check {
    let mut inputs = Inputs::new(1);
    for (m, k, n) in shapes(&mut inputs) {
        for form in MatmulForm::ALL {
            let (sa, sb) = stored(form, m, k, n);
            let a = inputs.matrix(sa.0, sa.1, -1.0, 1.0);
            let b = inputs.matrix(sb.0, sb.1, -1.0, 1.0);
            let mut expected = Matrix::zeros(m, n);
            matmul(&a, &b, form, Epilogue::None, false, &mut expected).map_err(|e| e.to_string())?;
            let scale = abs_product_scale(&a, &b, form).map_err(|e| e.to_string())?;
            let (ga, gb) = (h.upload("a", &a)?, h.upload("b", &b)?);
            for variant in MatmulVariant::ALL {
                let c = h.zeros("c", m, n)?;
                h.run([h.kernels.matmul(&ga, &gb, &c, MatmulSpec::new(form).variant(variant))])?;
                let what = format!("{} {} m={m} k={k} n={n}", variant.name(), form.name());
                compare(&what, &h.read(&c).await?, &expected.data, Some(&scale.data), Tolerance::F32)?;
            }
        }
    }
    Ok(())
}

pub async fn matmul_epilogues(h: &Harness) -> Check {
    let mut inputs = Inputs::new(2);
    let (m, k, n) = (37, 129, 70);
    for form in MatmulForm::ALL {
        let (sa, sb) = stored(form, m, k, n);
        let a = inputs.matrix(sa.0, sa.1, -1.0, 1.0);
        let b = inputs.matrix(sb.0, sb.1, -0.2, 0.2);
        let bias = inputs.matrix(1, n, -0.5, 0.5);
        let y = inputs.matrix(m, n, 0.05, 0.95);
        let prior = inputs.matrix(m, n, -1.0, 1.0);
        let scale = abs_product_scale(&a, &b, form).map_err(|e| e.to_string())?;
        let (ga, gb, gbias, gy) = (h.upload("a", &a)?, h.upload("b", &b)?, h.upload("bias", &bias)?, h.upload("y", &y)?);
        for variant in MatmulVariant::ALL {
            for activation in Activation::ALL {
                for accumulate in [false, true] {
                    let cases = [
                        (Epilogue::BiasActivation { bias: &bias.data, activation }, GpuEpilogue::BiasActivation { bias: &gbias, activation }),
                        (Epilogue::ActivationGrad { output: &y, activation }, GpuEpilogue::ActivationGrad { output: &gy, activation }),
                    ];
                    for (cpu_epilogue, gpu_epilogue) in cases {
                        let mut expected = prior.clone();
                        matmul(&a, &b, form, cpu_epilogue, accumulate, &mut expected).map_err(|e| e.to_string())?;
                        let c = h.upload("c", &prior)?;
                        let spec = MatmulSpec::new(form).variant(variant).epilogue(gpu_epilogue).accumulate(accumulate);
                        h.run([h.kernels.matmul(&ga, &gb, &c, spec)])?;
                        let what = format!("{} {} {:?}/{} accumulate={accumulate}", variant.name(), form.name(), gpu_epilogue_name(&gpu_epilogue), activation.name());
                        // Epilogue outputs are O(1); bound by the dot product's scale plus |result|.
                        let bound: Vec<f64> = scale.data.iter().zip(&expected.data).map(|(s, e)| s + e.abs() + 1.0).collect();
                        compare(&what, &h.read(&c).await?, &expected.data, Some(&bound), Tolerance::TRANSCENDENTAL)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn gpu_epilogue_name(e: &GpuEpilogue<'_>) -> &'static str {
    match e {
        GpuEpilogue::None => "none",
        GpuEpilogue::BiasActivation { .. } => "bias+act",
        GpuEpilogue::ActivationGrad { .. } => "act-grad",
    }
}
