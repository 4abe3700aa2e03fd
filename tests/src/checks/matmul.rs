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
/// gradient through a dropped layer; the weight gradients accumulating). `probabilities`: a drop
/// probability per model of a batched dispatch (empty: the spec's for all).
fn models_case<'a>(
    form: MatmulForm,
    variant: latent_gpu::MatmulVariant,
    (bias, y): (&'a GpuTensor, &'a GpuTensor),
    dropout: latent_gpu::ops::DropoutSpec,
    probabilities: &'a [f32],
    counters: &'a GpuTensor,
) -> MatmulSpec<'a> {
    let spec = MatmulSpec::new(form).variant(variant);
    match form {
        MatmulForm::Nn => spec.epilogue(GpuEpilogue::BiasActivation { bias, activation: Activation::Tanh }).dropout_of_models(dropout, probabilities, counters),
        MatmulForm::Nt => {
            spec.epilogue(GpuEpilogue::ActivationGrad { output: y, activation: Activation::Sigmoid }).dropout_of_models(dropout, probabilities, counters)
        }
        _ => spec.accumulate(true),
    }
}

/// Batched models (a sweep's K models in one dispatch): each model's block of C is, bit for bit,
/// what the same product computes for that model alone, for every variant and form, with A each
/// model's own or shared, accumulating, and through both epilogues with fused dropout, a drop
/// probability per model (the forms a layer and its gradient use them in; a dropout sweep).
pub async fn matmul_models_match_alone(h: &Harness) -> Check {
    use latent_gpu::ops::{DropoutSpec, Models};

    const K: usize = 3;
    let mut inputs = Inputs::new(31);
    let (m, k, n) = (37, 70, 45);
    let counters = h.counters(&[0, 4])?;
    let dropout = DropoutSpec { p: 0.25, seed: 3, stream: 8, counter_index: 1 };
    // Model 1 without dropout: a sweep's grid often starts at 0.
    let probabilities = [0.25, 0.0, 0.6];
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
                    models_case(form, variant, (&gbias, &gy), dropout, &probabilities, &counters).models(models),
                )])?;
                let batched = h.read(&c).await?;
                for z in 0..K {
                    let a_z = if shared_a { a_shared.clone() } else { model_block(&a_each, K, z)? };
                    let (ga, gb_z) = (h.upload("a", &a_z)?, h.upload("b", &model_block(&b, K, z)?)?);
                    let (gbias_z, gy_z, c_z) =
                        (h.upload("bias", &model_block(&bias, K, z)?)?, h.upload("y", &model_block(&y, K, z)?)?, h.upload("c", &model_block(&prior, K, z)?)?);
                    let own = DropoutSpec { p: probabilities[z], ..dropout };
                    h.run([h.kernels.matmul(&ga, &gb_z, &c_z, models_case(form, variant, (&gbias_z, &gy_z), own, &[], &counters))])?;
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
    member_dropout_retunes(h, &mut inputs, dropout, &probabilities, &counters).await?;
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

/// One dropout-sweep member's slider: model 1's drop probability moved from 0 to 0.6 on a built
/// batched layer (`set_model_drop_probability` through `Schedule::retune`) gives that model what
/// the layer computes for it alone at 0.6, and leaves the others as they were. A probability list
/// of the wrong length, and more models than the per-model table holds, are refused by name.
async fn member_dropout_retunes(h: &Harness, inputs: &mut Inputs, dropout: latent_gpu::ops::DropoutSpec, probabilities: &[f32], counters: &GpuTensor) -> Check {
    use latent_gpu::ops::{set_model_drop_probability, DropoutSpec, Models};
    use latent_gpu::params::{MatmulParams, MAX_DROPOUT_MODELS};
    use latent_gpu::Schedule;

    let k_models = probabilities.len();
    let (m, k, n) = (9, 20, 33);
    let (a, b, bias) = (inputs.matrix(m, k, -1.0, 1.0), inputs.matrix(k_models * k, n, -0.3, 0.3), inputs.matrix(k_models, n, -0.2, 0.2));
    let (ga, gb, gbias, c) = (h.upload("a", &a)?, h.upload("b", &b)?, h.upload("bias", &bias)?, h.zeros("c", k_models * m, n)?);
    let layer = || MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gbias, activation: Activation::Tanh });
    let models = Models { count: k_models, shared_a: true, shared_b: false };
    let mut s = Schedule::new("dropout sweep");
    let tuned = s.push_tuned::<MatmulParams>(h.kernels.matmul(&ga, &gb, &c, layer().dropout_of_models(dropout, probabilities, counters).models(models))?)?;
    s.retune(&h.ctx, tuned, |block| set_model_drop_probability(block, 1, 0.6))?;
    s.submit(&h.ctx, 1)?;
    h.no_gpu_errors()?;
    let batched = h.read(&c).await?;
    for z in 0..k_models {
        let p = if z == 1 { 0.6 } else { probabilities[z] };
        let (gb_z, gbias_z, c_z) = (h.upload("b", &model_block(&b, k_models, z)?)?, h.upload("bias", &model_block(&bias, k_models, z)?)?, h.zeros("c", m, n)?);
        let alone = MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &gbias_z, activation: Activation::Tanh });
        h.run([h.kernels.matmul(&ga, &gb_z, &c_z, alone.dropout(DropoutSpec { p, ..dropout }, counters))])?;
        let own = h.read(&c_z).await?;
        if let Some(i) = (0..own.len()).find(|&i| own[i].to_bits() != batched[z * m * n + i].to_bits()) {
            anyhow::bail!("after model 1's drop probability moved to 0.6, model {z} differs from itself alone at p = {p}, element {i}");
        }
    }
    let wrong_length = h.kernels.matmul(&ga, &gb, &c, layer().dropout_of_models(dropout, &probabilities[..2], counters).models(models));
    match wrong_length {
        Err(e) if e.to_string().contains("2 drop probabilities for 3 models") => {}
        other => anyhow::bail!("2 drop probabilities for 3 models: {:?}", other.map(|d| d.label().to_owned())),
    }
    let many = MAX_DROPOUT_MODELS + 1;
    let (b_many, bias_many, c_many) = (h.zeros("b", many * k, n)?, h.zeros("bias", many, n)?, h.zeros("c", many * m, n)?);
    let too_many = MatmulSpec::new(MatmulForm::Nn).epilogue(GpuEpilogue::BiasActivation { bias: &bias_many, activation: Activation::Tanh });
    match h.kernels.matmul(&ga, &b_many, &c_many, too_many.dropout(dropout, counters).models(Models { count: many, shared_a: true, shared_b: false })) {
        Err(e) if e.to_string().contains(&format!("at most {MAX_DROPOUT_MODELS} models")) => Ok(()),
        other => anyhow::bail!("dropout over {many} models in one dispatch: {:?}", other.map(|d| d.label().to_owned())),
    }
}
