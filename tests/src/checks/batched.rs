//! A sweep's K models trained as one batched step ([`BatchedVae`]) against the same models trained
//! one by one ([`GpuVae`]): the batched step must not change what any member learns.

use anyhow::bail;
use latent_core::engine::{ModelSetup, VaeModel as _};
use latent_core::knobs::Optimizer;
use latent_core::model::{Likelihood, StepMetrics, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::{BatchedMember, BatchedVae, GpuVae};

use super::models::relative_gap;
use crate::harness::{pixel_rows, point_rows, Check, Harness, Inputs};

/// Where two members' metrics may differ: reconstruction and KL are summed per model in the same
/// order as alone (bit for bit); the penalty's value is summed slot by slot in the batched step.
fn same_metrics(step: u32, member: usize, batched: &StepMetrics, alone: &StepMetrics) -> Check {
    for (name, a, b) in [("reconstruction", batched.reconstruction, alone.reconstruction), ("KL", batched.kl, alone.kl)] {
        if a.to_bits() != b.to_bits() {
            bail!("step {step}: member {member}'s {name} is {a} batched, {b} alone");
        }
    }
    if batched.kl_per_dim != alone.kl_per_dim {
        bail!("step {step}: member {member}'s KL per dimension {:?} batched, {:?} alone", batched.kl_per_dim, alone.kl_per_dim);
    }
    for (name, a, b) in [("L2 term", batched.l2_term, alone.l2_term), ("L1 term", batched.l1_term, alone.l1_term)] {
        if relative_gap(a, b) > 1e-5 {
            bail!("step {step}: member {member}'s {name} is {a} batched, {b} alone (relative gap {:.1e})", relative_gap(a, b));
        }
    }
    Ok(())
}

/// A model's spec and the rows it trains on.
type DataSet = (VaeSpec, std::sync::Arc<latent_core::data::RunData>);

/// The parity checks' two data sets, drawn from `seed`: 90 random pixel rows of `dim` (a Bernoulli
/// VAE with `pixel_hidden` layers) and 90 random points of the plane (the ring's 2D VAE), each with
/// its first 60 rows shuffled for training and the rest held out; and three members' training rows:
/// the whole set and two folds of it.
fn pixels_and_points(seed: u64, dim: usize, pixel_hidden: Vec<usize>) -> ([DataSet; 2], [Vec<u32>; 3]) {
    let mut inputs = Inputs::new(seed);
    let rows = 90usize;
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let pixels = VaeSpec { data_dim: dim, hidden: pixel_hidden, latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let points: Vec<f32> = (0..rows * 2).map(|_| inputs.below(2000) as f32 / 500.0 - 2.0).collect();
    let ring = VaeSpec { data_dim: 2, hidden: vec![16], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Gaussian { inv_var: 4.0 } };
    let all: Vec<u32> = (0..60).map(|i| (i * 37 + 11) % 60).collect();
    let folds = [all.clone(), all.iter().copied().filter(|i| i % 3 != 1).collect(), all.iter().copied().filter(|i| i % 3 != 2).collect()];
    let test: Vec<u32> = (60..rows as u32).collect();
    ([(pixels, pixel_rows(bytes, dim, all.clone(), test.clone())), (ring, point_rows(points, all, test))], folds)
}

/// A member's setup for training alone: `data` with `train` as its training rows.
fn alone_on(data: &std::sync::Arc<latent_core::data::RunData>, train: &[u32], (batch, seed): (usize, u32), knobs: Knobs) -> ModelSetup {
    let own = std::sync::Arc::new(latent_core::data::RunData { train: train.to_vec(), ..(**data).clone() });
    ModelSetup { data: own, batch, seed, knobs }
}

/// Three members of a small VAE that differ in every knob (β, λ₁, λ₂, dropout, learning rate, one
/// on SGD with momentum) and in their training rows (two folds and the whole set), trained 24
/// steps in one batched step and each alone: every member's parameters are bit for bit the same
/// at steps 1, 12 and 24 and its metrics at every step, also after one member's knobs change at
/// step 12 (the others untouched); the same for the ring's 2D VAE (Gaussian likelihood). Bad
/// input is refused by name.
pub async fn batched_vae_matches_alone(h: &Harness) -> Check {
    let (data_sets, folds) = pixels_and_points(23, 20, vec![24, 12]);
    for (spec, data) in data_sets {
        let arch = spec.build()?;
        let knobs = [
            Knobs { beta: 0.5, l1: 1e-4, l2: 0.0, dropout: 0.2, lr: 3e-3, ..Knobs::default() },
            Knobs { beta: 1.0, l1: 0.0, l2: 1e-3, dropout: 0.0, lr: 1e-3, ..Knobs::default() },
            Knobs { beta: 4.0, l1: 0.0, l2: 1e-2, dropout: 0.5, optimizer: Optimizer::Sgd, lr: 0.02, momentum: 0.9, ..Knobs::default() },
        ];
        let inits: Vec<Vec<f32>> = (0..3).map(|z| arch.layout.init(5 + z)).collect();
        let (batch, seed) = (8, 31);
        let members: Vec<BatchedMember<'_>> = (0..3).map(|z| BatchedMember { knobs: &knobs[z], init: &inits[z], train: &folds[z] }).collect();
        let mut batched = BatchedVae::new(&h.kernels, &data, arch.clone(), (batch, seed), &members)?;
        let mut alone = Vec::new();
        for z in 0..3 {
            alone.push(GpuVae::new(&h.kernels, &alone_on(&data, &folds[z], (batch, seed), knobs[z]), arch.clone(), &inits[z])?);
        }
        let changed = Knobs { beta: 2.0, l1: 1e-3, l2: 0.0, dropout: 0.4, lr: 5e-3, ..Knobs::default() };
        for step in 1..=24u32 {
            if step == 13 {
                batched.set_member_knobs(1, &changed)?;
                alone[1].set_knobs(&changed)?;
            }
            batched.train(1)?;
            let metrics = batched.member_metrics().await?;
            for (z, model) in alone.iter_mut().enumerate() {
                model.train(1)?;
                same_metrics(step, z, &metrics[z], &model.metrics().await?.vae)?;
            }
            if [1, 12, 24].contains(&step) {
                let params = batched.member_parameters().await?;
                for (z, model) in alone.iter().enumerate() {
                    let own = model.parameters().await?;
                    if let Some(i) = (0..own.len()).find(|&i| own[i].to_bits() != params[z][i].to_bits()) {
                        bail!("{:?} step {step}: member {z}'s parameter {i} is {} batched, {} alone", spec.likelihood, params[z][i], own[i]);
                    }
                }
            }
        }
        if batched.steps_done().await? != 24 {
            bail!("the batched step counted {} steps, not 24", batched.steps_done().await?);
        }
        // Members that differ must have learned different things (the knobs reached them).
        let params = batched.member_parameters().await?;
        if params[0] == params[1] || params[1] == params[2] {
            bail!("members with other knobs and rows ended with the same parameters");
        }
    }
    refuses_bad_members(h).await?;
    h.no_gpu_errors()
}

/// No members, parameters of another length, training rows outside the data and a member that
/// is not there are refused by name.
async fn refuses_bad_members(h: &Harness) -> Check {
    let spec = VaeSpec { data_dim: 4, hidden: vec![8], latent: 2, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = spec.build()?;
    let data = pixel_rows(vec![7; 40], 4, (0..6).collect(), (6..10).collect());
    let (knobs, init) = (Knobs::default(), arch.layout.init(1));
    let good = BatchedMember { knobs: &knobs, init: &init, train: &data.train };
    let short = BatchedMember { init: &init[1..], ..good };
    let outside = [3, 10];
    let stray = BatchedMember { train: &outside, ..good };
    for (members, expected) in [(vec![], "at least one member"), (vec![good, short], "member 1's parameters"), (vec![stray], "outside the 10 rows")] {
        match BatchedVae::new(&h.kernels, &data, arch.clone(), (2, 1), &members) {
            Err(e) if e.to_string().contains(expected) => {}
            Err(e) => bail!("refused without saying `{expected}`: {e}"),
            Ok(_) => bail!("a batched VAE was built where `{expected}` should refuse it"),
        }
    }
    let mut two = BatchedVae::new(&h.kernels, &data, arch, (2, 1), &[good, good])?;
    match two.set_member_knobs(2, &knobs) {
        Err(e) if e.to_string().contains("no member 2 of 2") => Ok(()),
        other => bail!("knobs for a third member of two: {other:?}"),
    }
}

/// Three GANs on the ring that differ in λ_G, λ_D, both learning rates and their training rows
/// (two folds and the whole set), D:G 2:1, trained 12 rounds in one batched step and each alone:
/// every member's D and G losses and accuracies are bit for bit the same after every round (its
/// L2 terms within 1e-5 relative, summed slot by slot), both networks' parameters at rounds 1, 6
/// and 12, also after one member's knobs change at round 7. Members whose D steps per round
/// differ, a D-step change for one member and pixel data are refused by name.
pub async fn batched_gan_matches_alone(h: &Harness) -> Check {
    use latent_core::data::toy2d::{self, Toy2d};
    use latent_core::engine::GanModel as _;
    use latent_core::model::GanSpec;
    use latent_gpu::{BatchedGan, BatchedGanMember, GpuGan};

    let (rows, held_out, batch, seed) = (90usize, 30usize, 8usize, 7u32);
    let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows + held_out, 0.05, 3)?.into_iter().flatten().collect();
    let all: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let folds: [Vec<u32>; 3] = [all.clone(), all.iter().copied().filter(|i| i % 3 != 1).collect(), all.iter().copied().filter(|i| i % 3 != 2).collect()];
    let test: Vec<u32> = (rows as u32..(rows + held_out) as u32).collect();
    let data = point_rows(points, all, test);
    let arch = GanSpec { generator_hidden: vec![16], discriminator_hidden: vec![16], ..GanSpec::toy_2d() }.build()?;
    let knobs = [
        Knobs { d_steps: 2, l2_g: Some(1e-3), lr: 2e-3, ..Knobs::default() },
        Knobs { d_steps: 2, l2_d: Some(1e-2), lr_d: Some(5e-4), ..Knobs::default() },
        Knobs { d_steps: 2, l2: 1e-4, lr: 1e-3, ..Knobs::default() },
    ];
    let inits: Vec<(Vec<f32>, Vec<f32>)> = (0..3).map(|z| (arch.g_layout.init(1 + z), arch.d_layout.init(10 + z))).collect();
    let members: Vec<BatchedGanMember<'_>> =
        (0..3).map(|z| BatchedGanMember { knobs: &knobs[z], g_init: &inits[z].0, d_init: &inits[z].1, train: &folds[z] }).collect();
    let mut batched = BatchedGan::new(&h.kernels, &data, arch.clone(), (batch, seed), &members)?;
    let mut alone = Vec::new();
    for z in 0..3 {
        alone.push(GpuGan::new(&h.kernels, &alone_on(&data, &folds[z], (batch, seed), knobs[z]), arch.clone(), &inits[z].0, &inits[z].1)?);
    }
    let changed = Knobs { d_steps: 2, l2_g: Some(1e-2), l2_d: Some(1e-3), lr: 5e-3, lr_d: Some(2e-3), ..Knobs::default() };
    for round in 1..=12u32 {
        if round == 7 {
            batched.set_member_knobs(1, &changed)?;
            alone[1].set_knobs(&changed)?;
        }
        batched.train(1)?;
        let metrics = batched.member_metrics().await?;
        for (z, model) in alone.iter_mut().enumerate() {
            model.train(1)?;
            let (got, own) = (metrics[z], model.metrics().await?);
            let (d, own_d) = (got.discriminator, own.discriminator);
            for (name, a, b) in [
                ("D loss on real", d.loss_real, own_d.loss_real),
                ("D loss on fakes", d.loss_fake, own_d.loss_fake),
                ("D accuracy on real", d.accuracy_real, own_d.accuracy_real),
                ("D accuracy on fakes", d.accuracy_fake, own_d.accuracy_fake),
                ("G loss", got.generator_loss, own.generator_loss),
            ] {
                if a.to_bits() != b.to_bits() {
                    bail!("round {round}: member {z}'s {name} is {a} batched, {b} alone");
                }
            }
            for (name, a, b) in [("D L2 term", d.l2_term, own_d.l2_term), ("G L2 term", got.generator_l2_term, own.generator_l2_term)] {
                if relative_gap(a, b) > 1e-5 {
                    bail!("round {round}: member {z}'s {name} is {a} batched, {b} alone (relative gap {:.1e})", relative_gap(a, b));
                }
            }
        }
        if [1, 6, 12].contains(&round) {
            let params = batched.member_parameters().await?;
            for (z, model) in alone.iter().enumerate() {
                for (net, got, own) in [("G", &params[z].0, model.generator_parameters().await?), ("D", &params[z].1, model.discriminator_parameters().await?)]
                {
                    if let Some(i) = (0..own.len()).find(|&i| own[i].to_bits() != got[i].to_bits()) {
                        bail!("round {round}: member {z}'s {net} parameter {i} is {} batched, {} alone", got[i], own[i]);
                    }
                }
            }
        }
    }
    if batched.steps_done().await? != (24, 12) {
        bail!("the batched GAN counted {:?} (D, G) steps, not (24, 12)", batched.steps_done().await?);
    }
    let params = batched.member_parameters().await?;
    if params[0] == params[1] || params[1] == params[2] {
        bail!("members with other knobs and rows ended with the same parameters");
    }
    match batched.set_member_knobs(0, &Knobs { d_steps: 1, ..knobs[0] }) {
        Err(e) if e.to_string().contains("the group replays 2") => {}
        other => bail!("one member's D steps per round changed in a group: {other:?}"),
    }
    let one = Knobs { d_steps: 1, ..knobs[1] };
    let mixed = [members[0], BatchedGanMember { knobs: &one, ..members[1] }];
    let pixels = pixel_rows(vec![0u8; 64], 2, (0..32).collect(), (0..32).collect());
    for (data, members, expected) in [(&data, &mixed[..], "member 1 takes 1 D steps per round"), (&pixels, &members[..1], "pixels")] {
        match BatchedGan::new(&h.kernels, data, arch.clone(), (batch, seed), members) {
            Err(e) if e.to_string().contains(expected) => {}
            Err(e) => bail!("refused without saying `{expected}`: {e}"),
            Ok(_) => bail!("a batched GAN was built where `{expected}` should refuse it"),
        }
    }
    h.no_gpu_errors()
}

/// Three VAE-GANs that differ in γ, β, λ₂ of both networks, dropout, both learning rates (one VAE on
/// SGD with momentum) and their training rows (two folds and the whole set), trained 12 rounds in
/// one batched step ([`BatchedVae::with_discriminator`]) and each alone ([`GpuVae`] with a
/// discriminator): after every round each member's reconstruction, KL, D losses and accuracies,
/// generator loss and both networks' parameters are bit for bit its own (L2 terms within 1e-5
/// relative, summed slot by slot), also after one member's knobs (γ among them) change at round 7; for pixels (Bernoulli) and the ring's points (Gaussian). A
/// discriminator count other than the members' and D parameters of another length are refused by
/// name.
pub async fn batched_vae_gan_matches_alone(h: &Harness) -> Check {
    use latent_core::model::VaeGanSpec;

    let (data_sets, folds) = pixels_and_points(41, 16, vec![20]);
    for (spec, data) in data_sets {
        let arch = VaeGanSpec::new(spec.clone(), vec![12]).build()?;
        let knobs = [
            Knobs { gamma: 0.5, beta: 0.5, l2_d: Some(1e-3), dropout: 0.2, lr: 3e-3, ..Knobs::default() },
            Knobs { gamma: 1.0, beta: 1.0, l2: 1e-3, lr: 1e-3, lr_d: Some(5e-4), ..Knobs::default() },
            Knobs { gamma: 2.0, beta: 4.0, l1: 1e-4, l2: 1e-2, optimizer: Optimizer::Sgd, lr: 0.02, momentum: 0.9, ..Knobs::default() },
        ];
        let inits: Vec<(Vec<f32>, Vec<f32>)> = (0..3).map(|z| (arch.vae.layout.init(5 + z), arch.d_layout.init(50 + z))).collect();
        let d_inits: Vec<&[f32]> = inits.iter().map(|(_, d)| &d[..]).collect();
        let (batch, seed) = (8, 31);
        let members: Vec<BatchedMember<'_>> = (0..3).map(|z| BatchedMember { knobs: &knobs[z], init: &inits[z].0, train: &folds[z] }).collect();
        let mut batched = BatchedVae::with_discriminator(&h.kernels, &data, arch.clone(), (batch, seed), &members, &d_inits)?;
        let mut alone = Vec::new();
        for z in 0..3 {
            let setup = alone_on(&data, &folds[z], (batch, seed), knobs[z]);
            alone.push(GpuVae::with_discriminator(&h.kernels, &setup, arch.clone(), &inits[z].0, &inits[z].1)?);
        }
        let changed = Knobs { gamma: 3.0, beta: 2.0, l2_d: Some(1e-2), dropout: 0.4, lr: 5e-3, lr_d: Some(2e-3), ..Knobs::default() };
        for round in 1..=12u32 {
            if round == 7 {
                batched.set_member_knobs(1, &changed)?;
                alone[1].set_knobs(&changed)?;
            }
            batched.train(1)?;
            let metrics = batched.member_vae_gan_metrics().await?;
            for (z, model) in alone.iter_mut().enumerate() {
                model.train(1)?;
                let (got, own) = (&metrics[z], model.metrics().await?);
                same_metrics(round, z, &got.vae, &own.vae)?;
                let (d, own_d) = (got.discriminator, own.discriminator);
                for (name, a, b) in [
                    ("D loss on real", d.loss_real, own_d.loss_real),
                    ("D loss on fakes", d.loss_fake, own_d.loss_fake),
                    ("D accuracy on real", d.accuracy_real, own_d.accuracy_real),
                    ("D accuracy on fakes", d.accuracy_fake, own_d.accuracy_fake),
                    ("G loss", got.generator_loss, own.generator_loss),
                ] {
                    if a.to_bits() != b.to_bits() {
                        bail!("{:?} round {round}: member {z}'s {name} is {a} batched, {b} alone", spec.likelihood);
                    }
                }
                if relative_gap(d.l2_term, own_d.l2_term) > 1e-5 {
                    bail!("round {round}: member {z}'s D L2 term is {} batched, {} alone", d.l2_term, own_d.l2_term);
                }
            }
            let (vaes, discriminators) = (batched.member_parameters().await?, batched.member_discriminator_parameters().await?);
            for (z, model) in alone.iter().enumerate() {
                for (net, got, own) in [("VAE", &vaes[z], model.parameters().await?), ("D", &discriminators[z], model.discriminator_parameters().await?)] {
                    if let Some(i) = (0..own.len()).find(|&i| own[i].to_bits() != got[i].to_bits()) {
                        bail!("{:?} round {round}: member {z}'s {net} parameter {i} is {} batched, {} alone", spec.likelihood, got[i], own[i]);
                    }
                }
            }
        }
        if (batched.steps_done().await?, batched.discriminator_steps_done().await?) != (12, 12) {
            bail!("the batched VAE-GAN counted {} VAE and {} D steps, not 12 and 12", batched.steps_done().await?, batched.discriminator_steps_done().await?);
        }
        let discriminators = batched.member_discriminator_parameters().await?;
        if discriminators[0] == discriminators[1] || discriminators[1] == discriminators[2] {
            bail!("members with other knobs and rows ended with the same discriminators");
        }
        let short = &inits[0].1[1..];
        for (d_inits, expected) in
            [(&d_inits[..2], "2 discriminators for 3 members"), (&[d_inits[0], short, d_inits[2]][..], "member 1's discriminator parameters")]
        {
            match BatchedVae::with_discriminator(&h.kernels, &data, arch.clone(), (batch, seed), &members, d_inits) {
                Err(e) if e.to_string().contains(expected) => {}
                Err(e) => bail!("refused without saying `{expected}`: {e}"),
                Ok(_) => bail!("a batched VAE-GAN was built where `{expected}` should refuse it"),
            }
        }
    }
    h.no_gpu_errors()
}
