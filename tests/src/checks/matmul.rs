//! matmul: every variant × form on awkward shapes, and every epilogue.

use latent_core::ops::matmul::{abs_product_scale, matmul, Epilogue, MatmulForm};
use latent_core::{Activation, Matrix};
use latent_gpu::ops::{GpuEpilogue, MatmulSpec};
use latent_gpu::GpuTensor;

use crate::harness::{compare, model_block, Check, Harness, Inputs, Tolerance};

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
            matmul(&a, &b, form, Epilogue::None, false, &mut expected)?;
            let scale = abs_product_scale(&a, &b, form)?;
            let (ga, gb) = (h.upload("a", &a)?, h.upload("b", &b)?);
            for variant in h.kernels.available_matmuls() {
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
        let scale = abs_product_scale(&a, &b, form)?;
        let (ga, gb, gbias, gy) = (h.upload("a", &a)?, h.upload("b", &b)?, h.upload("bias", &bias)?, h.upload("y", &y)?);
        for variant in h.kernels.available_matmuls() {
            for activation in Activation::ALL {
                for accumulate in [false, true] {
                    let cases = [
                        (Epilogue::BiasActivation { bias: &bias.data, activation }, GpuEpilogue::BiasActivation { bias: &gbias, activation }),
                        (Epilogue::ActivationGrad { output: &y, activation }, GpuEpilogue::ActivationGrad { output: &gy, activation }),
                    ];
                    for (cpu_epilogue, gpu_epilogue) in cases {
                        let mut expected = prior.clone();
                        matmul(&a, &b, form, cpu_epilogue, accumulate, &mut expected)?;
                        let c = h.upload("c", &prior)?;
                        let spec = MatmulSpec::new(form).variant(variant).epilogue(gpu_epilogue).accumulate(accumulate);
                        h.run([h.kernels.matmul(&ga, &gb, &c, spec)])?;
                        let what =
                            format!("{} {} {:?}/{} accumulate={accumulate}", variant.name(), form.name(), gpu_epilogue_name(&gpu_epilogue), activation.name());
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

/// Fused dropout: the forward epilogue's mask equals the CPU's Threefry mask for the same (seed,
/// stream, element, step), and the backward epilogue redraws exactly that mask.
pub async fn matmul_fused_dropout(h: &Harness) -> Check {
    use latent_core::ops::dropout as cpu_dropout;
    use latent_core::rng::RngStream;
    use latent_gpu::ops::DropoutSpec;

    let mut inputs = Inputs::new(20);
    let (m, k, n, step, p) = (33, 70, 45, 9u32, 0.3f32);
    let (x, w, bias, upstream) =
        (inputs.matrix(m, k, -1.0, 1.0), inputs.matrix(k, n, -0.3, 0.3), inputs.matrix(1, n, -0.2, 0.2), inputs.matrix(m, n, -1.0, 1.0));
    let w_next = inputs.matrix(n, n, -0.3, 0.3);
    let rng = RngStream::new(5, 21);
    let mask: Vec<f64> = cpu_dropout::mask(rng, m * n, p, step);
    let counters = h.counters(&[0, step])?;
    let spec = DropoutSpec { p, seed: rng.seed, stream: rng.stream, counter_index: 1 };
    let (gx, gw, gb, gup, gwn) =
        (h.upload("x", &x)?, h.upload("w", &w)?, h.upload("bias", &bias)?, h.upload("upstream", &upstream)?, h.upload("w_next", &w_next)?);
    for activation in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
        let (y, d_pre) = (h.zeros("y", m, n)?, h.zeros("d_pre", m, n)?);
        let forward = MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gb, activation }).dropout(spec, &counters);
        // d_pre = (upstream · W_nextᵀ) ⊙ mask ⊙ f'(y), as the layer below a dropped layer computes it.
        let backward = MatmulSpec::new(MatmulForm::Nt).epilogue(GpuEpilogue::ActivationGrad { output: &y, activation }).dropout(spec, &counters);
        h.run([h.kernels.matmul(&gx, &gw, &y, forward), h.kernels.matmul(&gup, &gwn, &d_pre, backward)])?;
        let mut plain = Matrix::zeros(m, n);
        matmul(&x, &w, MatmulForm::Nn, Epilogue::BiasActivation { bias: &bias.data, activation }, false, &mut plain)?;
        let expected_y: Vec<f64> = plain.data.iter().zip(&mask).map(|(v, mk)| v * mk).collect();
        compare(&format!("dropout forward {}", activation.name()), &h.read(&y).await?, &expected_y, None, Tolerance::TRANSCENDENTAL)?;
        let mut through = Matrix::zeros(m, n);
        matmul(&upstream, &w_next, MatmulForm::Nt, Epilogue::None, false, &mut through)?;
        let expected_d: Vec<f64> =
            through.data.iter().zip(&mask).zip(&plain.data).map(|((g, mk), yv)| g * mk * activation.derivative_from_output(*yv)).collect();
        let bound: Vec<f64> = through.data.iter().map(|g| g.abs() * 2.0 + 1e-3).collect();
        compare(&format!("dropout backward {}", activation.name()), &h.read(&d_pre).await?, &expected_d, Some(&bound), Tolerance::TRANSCENDENTAL)?;
    }
    Ok(())
}

/// Each form with the epilogue a layer uses it with (forward: bias, activation and dropout; the
/// gradient through a dropped layer; the weight gradients accumulating).
fn models_case<'a>(
    form: MatmulForm,
    variant: latent_gpu::MatmulVariant,
    bias: &'a GpuTensor,
    y: &'a GpuTensor,
    dropout: latent_gpu::ops::DropoutSpec,
    counters: &'a GpuTensor,
) -> MatmulSpec<'a> {
    let spec = MatmulSpec::new(form).variant(variant);
    match form {
        MatmulForm::Nn => spec.epilogue(GpuEpilogue::BiasActivation { bias, activation: Activation::Tanh }).dropout(dropout, counters),
        MatmulForm::Nt => spec.epilogue(GpuEpilogue::ActivationGrad { output: y, activation: Activation::Sigmoid }).dropout(dropout, counters),
        _ => spec.accumulate(true),
    }
}

/// Batched models (a sweep's K models in one dispatch): each model's block of C is, bit for bit,
/// what the same product computes for that model alone, for every variant and form, with A each
/// model's own or shared, accumulating, and through both epilogues with fused dropout (the forms a
/// layer and its gradient use them in).
pub async fn matmul_models_match_alone(h: &Harness) -> Check {
    use latent_gpu::ops::{DropoutSpec, Models};

    const K: usize = 3;
    let mut inputs = Inputs::new(31);
    let (m, k, n) = (37, 70, 45);
    let counters = h.counters(&[0, 4])?;
    let dropout = DropoutSpec { p: 0.25, seed: 3, stream: 8, counter_index: 1 };
    for form in MatmulForm::ALL {
        let (sa, sb) = stored(form, m, k, n);
        let (a_each, a_shared) = (inputs.matrix(K * sa.0, sa.1, -1.0, 1.0), inputs.matrix(sa.0, sa.1, -1.0, 1.0));
        let b = inputs.matrix(K * sb.0, sb.1, -0.3, 0.3);
        let (bias, y, prior) = (inputs.matrix(K, n, -0.2, 0.2), inputs.matrix(K * m, n, 0.05, 0.95), inputs.matrix(K * m, n, -1.0, 1.0));
        let (g_each, g_shared, gb, gbias, gy) =
            (h.upload("a", &a_each)?, h.upload("a", &a_shared)?, h.upload("b", &b)?, h.upload("bias", &bias)?, h.upload("y", &y)?);
        for variant in h.kernels.available_matmuls() {
            for shared_a in [false, true] {
                let c = h.upload("c", &prior)?;
                let models = Models { count: K, shared_a, shared_b: false };
                h.run([h.kernels.matmul(
                    if shared_a { &g_shared } else { &g_each },
                    &gb,
                    &c,
                    models_case(form, variant, &gbias, &gy, dropout, &counters).models(models),
                )])?;
                let batched = h.read(&c).await?;
                for z in 0..K {
                    let a_z = if shared_a { a_shared.clone() } else { model_block(&a_each, K, z)? };
                    let (ga, gb_z) = (h.upload("a", &a_z)?, h.upload("b", &model_block(&b, K, z)?)?);
                    let (gbias_z, gy_z, c_z) =
                        (h.upload("bias", &model_block(&bias, K, z)?)?, h.upload("y", &model_block(&y, K, z)?)?, h.upload("c", &model_block(&prior, K, z)?)?);
                    h.run([h.kernels.matmul(&ga, &gb_z, &c_z, models_case(form, variant, &gbias_z, &gy_z, dropout, &counters))])?;
                    let alone = h.read(&c_z).await?;
                    let block = &batched[z * m * n..(z + 1) * m * n];
                    if let Some(i) = (0..alone.len()).find(|&i| alone[i].to_bits() != block[i].to_bits()) {
                        anyhow::bail!(
                            "{} {} shared_a={shared_a}: model {z} of {K} differs from the same product alone at element {i}: {} batched, {} alone",
                            variant.name(),
                            form.name(),
                            block[i],
                            alone[i]
                        );
                    }
                }
            }
        }
    }
    // A stack that does not divide among the models is refused by name.
    let c = h.zeros("c", K * m, n)?;
    let odd = h.zeros("a", K * m + 1, k)?;
    let b_nn = h.zeros("b", K * k, n)?;
    match h.kernels.matmul(&odd, &b_nn, &c, MatmulSpec::new(MatmulForm::Nn).models(Models::each_own(K))) {
        Err(e) if e.to_string().contains("3 models") => Ok(()),
        Err(e) => anyhow::bail!("an uneven stack was refused without naming the models: {e}"),
        Ok(_) => anyhow::bail!("an uneven stack of 3 models' A was accepted"),
    }
}
