//! Forks on the GPU: `copy_state_to` gives a twin built from the same setup the whole training
//! state (parameters, gradients, optimizer moments, step counters, metric sums, restore-best's
//! copy), so with the same knobs the two go on bit for bit alike, the source is not disturbed, and
//! a knob changed on the branch changes the branch alone.

use anyhow::bail;
use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
use latent_core::model::{GanSpec, Likelihood, VaeGanSpec, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::{GpuGan, GpuVae};

use crate::harness::{pixel_rows, point_rows, Check, Harness, Inputs};

/// The training state as the engine reads it back: the VAE's parameters, D's, and the step counts.
async fn vae_state(model: &GpuVae) -> anyhow::Result<(Vec<f32>, Vec<f32>, u32, Option<u32>)> {
    Ok((model.parameters().await?, model.discriminator_parameters().await?, model.steps_done().await?, model.discriminator_steps_done().await?))
}

/// A VAE-GAN with dropout on (so the noise streams and the data cursor matter) trains 10 rounds,
/// keeps a restore-best copy, trains 3 more, and is forked into a twin built from other initial
/// weights. Both then train 10 rounds: every round's metrics are equal, and so are the parameters,
/// D's, the step counts and the restored best; the source ends exactly where a model trained 23
/// rounds straight ends. A knob changed on a second fork moves that fork alone. A plain VAE and a
/// model of another shape are refused with `StateMismatch` (another engine cannot even be named
/// here: the method takes this engine's type; the session refuses it, `crates/session/tests/forks.rs`).
pub async fn forks_carry_the_whole_training_state(h: &Harness) -> Check {
    let mut inputs = Inputs::new(31);
    let (rows, dim, batch, seed) = (96usize, 20usize, 16usize, 17u32);
    let vae = VaeSpec { data_dim: dim, hidden: vec![12], latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = VaeGanSpec::new(vae.clone(), vec![8]).build()?;
    let (init, d_init) = (arch.vae.layout.init(5), arch.d_layout.init(6));
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let knobs = Knobs { beta: 1.0, l2: 1e-3, dropout: 0.2, lr: 3e-3, gamma: 0.5, l2_d: Some(1e-3), ..Knobs::default() };
    let setup = ModelSetup { data: pixel_rows(bytes, dim, indices, (0..32).collect()), batch, seed, knobs };
    let build = |init: &[f32], d_init: &[f32]| GpuVae::with_discriminator(&h.kernels, &setup, arch.clone(), init, d_init);

    let mut source = build(&init, &d_init)?;
    let mut straight = build(&init, &d_init)?;
    source.train(10)?;
    source.save_best()?;
    source.train(3)?;
    source.metrics().await?;
    let mut branch = build(&arch.vae.layout.init(50), &arch.d_layout.init(60))?;
    let mut other_knobs = build(&arch.vae.layout.init(51), &arch.d_layout.init(61))?;
    source.copy_state_to(&mut branch)?;
    source.copy_state_to(&mut other_knobs)?;
    other_knobs.set_knobs(&Knobs { beta: 4.0, ..knobs })?;
    if vae_state(&branch).await? != vae_state(&source).await? {
        bail!("right after the fork the branch's parameters or step counts differ from the source's");
    }
    for round in 0..10 {
        source.train(1)?;
        branch.train(1)?;
        other_knobs.train(1)?;
        let (a, b) = (source.metrics().await?, branch.metrics().await?);
        if a != b {
            bail!("round {round} after the fork: the source's metrics {a:?} against the branch's {b:?}");
        }
    }
    let (a, b) = (vae_state(&source).await?, vae_state(&branch).await?);
    if a != b || a.2 != 23 || a.3 != Some(23) {
        bail!("after 10 rounds on both the parameters, D's or the step counts differ (source at {:?}, branch at {:?})", (a.2, a.3), (b.2, b.3));
    }
    straight.train(23)?;
    if vae_state(&straight).await? != a {
        bail!("the source after the fork is not where 23 rounds straight take the same model");
    }
    if other_knobs.parameters().await? == a.0 {
        bail!("β changed on one fork and its parameters still equal the source's");
    }
    source.restore_best()?;
    branch.restore_best()?;
    if source.parameters().await? != branch.parameters().await? {
        bail!("restore-best's copy did not go across with the fork");
    }

    // What cannot hold the state is refused, and left as it was.
    let plain = GpuVae::new(&h.kernels, &setup, arch.vae.clone(), &init)?;
    let wider = VaeGanSpec::new(VaeSpec { hidden: vec![13], ..vae }, vec![8]).build()?;
    let mut other_shape = GpuVae::with_discriminator(&h.kernels, &setup, wider.clone(), &wider.vae.layout.init(5), &wider.d_layout.init(6))?;
    let mut plain_target = GpuVae::new(&h.kernels, &setup, arch.vae.clone(), &init)?;
    for (what, result) in [
        ("a VAE-GAN into a plain VAE", source.copy_state_to(&mut plain_target)),
        ("a plain VAE into a VAE-GAN", plain.copy_state_to(&mut branch)),
        ("into another shape", source.copy_state_to(&mut other_shape)),
    ] {
        if !matches!(result, Err(ModelError::StateMismatch(_))) {
            bail!("copying {what}: expected StateMismatch, got {result:?}");
        }
    }
    if branch.steps_done().await? != 23 {
        bail!("a refused copy changed the model it was refused for");
    }
    Ok(())
}

/// The GAN's training state as the engine reads it back: G's and D's parameters, (D, G) steps.
async fn gan_state(gan: &GpuGan) -> anyhow::Result<(Vec<f32>, Vec<f32>, (u32, u32))> {
    Ok((gan.generator_parameters().await?, gan.discriminator_parameters().await?, gan.steps_done().await?))
}

/// The GAN's fork: 6 rounds of 2 D steps, forked into a twin; 6 more rounds on both give the same
/// generator and discriminator and step counts as the source, which ends where 12 rounds straight
/// end; λ_D changed on a second fork moves that fork alone.
pub async fn gan_forks_carry_the_whole_training_state(h: &Harness) -> Check {
    use latent_core::data::toy2d::{self, Toy2d};
    let (rows, held_out, batch, seed) = (200usize, 60usize, 25usize, 9u32);
    let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows + held_out, 0.05, 3)?.into_iter().flatten().collect();
    let spec = GanSpec { generator_hidden: vec![16], discriminator_hidden: vec![16], ..GanSpec::toy_2d() };
    let arch = spec.build()?;
    let knobs = Knobs { d_steps: 2, ..Knobs::default() };
    let setup = ModelSetup { data: point_rows(points, (0..rows as u32).collect(), (rows as u32..(rows + held_out) as u32).collect()), batch, seed, knobs };
    let build = |g: u64, d: u64| GpuGan::new(&h.kernels, &setup, arch.clone(), &arch.g_layout.init(g), &arch.d_layout.init(d));

    let (mut source, mut straight) = (build(1, 2)?, build(1, 2)?);
    source.train(6)?;
    let (mut branch, mut other_knobs) = (build(10, 20)?, build(11, 21)?);
    source.copy_state_to(&mut branch)?;
    source.copy_state_to(&mut other_knobs)?;
    other_knobs.set_knobs(&Knobs { l2_d: Some(0.1), ..knobs })?;
    for gan in [&mut source, &mut branch, &mut other_knobs] {
        gan.train(6)?;
    }
    let (a, b) = (gan_state(&source).await?, gan_state(&branch).await?);
    if a != b || a.2 != (24, 12) {
        bail!("after 6 rounds on both the networks or step counts differ (source {:?}, branch {:?})", a.2, b.2);
    }
    if source.metrics().await? != branch.metrics().await? {
        bail!("the source's and the branch's latest metrics differ");
    }
    straight.train(12)?;
    if gan_state(&straight).await? != a {
        bail!("the source after the fork is not where 12 rounds straight take the same GAN");
    }
    if other_knobs.discriminator_parameters().await? == a.1 {
        bail!("λ_D changed on one fork and its discriminator still equals the source's");
    }
    Ok(())
}
