//! The GPU VAE-GAN against its CPU twin, round by round, with γ, β and D's knobs changed mid-run.

use anyhow::bail;
use latent_core::engine::cpu::CpuVae;
use latent_core::engine::{EvalSplit, ModelSetup, VaeModel as _};
use latent_core::model::{Likelihood, VaeGanSpec, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::GpuVae;

use super::models::{relative_gap, same_discriminator};
use crate::harness::{pixel_rows, Check, Harness, Inputs};

/// 30 rounds (one D step, one VAE step each) of a tiny VAE-GAN with dropout on, on both engines
/// from the same seed and initial parameters: every VAE term, D's losses and L2 term and the
/// generator loss agree within 1e-3 relative every round, D's accuracies within one sample, also
/// after γ, β, dropout, the penalties and both learning rates change at round 15 without a rebuild.
pub async fn vae_gan_matches_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(23);
    let (rows, dim, batch, seed, rounds) = (96usize, 20usize, 16usize, 13u32, 30u32);
    let vae = VaeSpec { data_dim: dim, hidden: vec![12], latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = VaeGanSpec::new(vae, vec![8]).build()?;
    let (init, d_init) = (arch.vae.layout.init(5), arch.d_layout.init(6));
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let mut knobs = Knobs { beta: 1.0, l1: 1e-4, l2: 1e-3, dropout: 0.2, lr: 3e-3, gamma: 0.5, l2_d: Some(1e-3), lr_d: Some(2e-3), ..Knobs::default() };
    let setup = ModelSetup { data: pixel_rows(bytes, dim, indices, (0..32).collect()), batch, seed, knobs };
    let mut gpu = GpuVae::with_discriminator(&h.kernels, &setup, arch.clone(), &init, &d_init)?;
    let mut cpu = CpuVae::with_discriminator(setup, arch, &init, &d_init)?;
    for round in 0..rounds {
        if round == 15 {
            knobs = Knobs { beta: 3.0, l1: 1e-3, l2: 1e-2, dropout: 0.4, lr: 1e-3, gamma: 2.0, l2_d: Some(1e-2), lr_d: Some(1e-3), ..knobs };
            gpu.set_knobs(&knobs)?;
            cpu.set_knobs(&knobs)?;
        }
        gpu.train(1)?;
        cpu.train(1)?;
        let (got, expected) = (gpu.metrics().await?, cpu.metrics().await?);
        for (name, a, b) in [
            ("reconstruction", got.vae.reconstruction, expected.vae.reconstruction),
            ("KL", got.vae.kl, expected.vae.kl),
            ("L2 term", got.vae.l2_term, expected.vae.l2_term),
            ("L1 term", got.vae.l1_term, expected.vae.l1_term),
            ("D loss on real", got.discriminator.loss_real, expected.discriminator.loss_real),
            ("D loss on fakes", got.discriminator.loss_fake, expected.discriminator.loss_fake),
            ("D L2 term", got.discriminator.l2_term, expected.discriminator.l2_term),
            ("generator loss", got.generator_loss, expected.generator_loss),
        ] {
            if relative_gap(a, b) > 1e-3 {
                bail!("round {round}: GPU {name} {a} vs CPU {b} (relative gap {:.2e})", relative_gap(a, b));
            }
        }
        for (name, a, b) in [
            ("D accuracy on real", got.discriminator.accuracy_real, expected.discriminator.accuracy_real),
            ("D accuracy on fakes", got.discriminator.accuracy_fake, expected.discriminator.accuracy_fake),
        ] {
            if (a - b).abs() > 1.0 / batch as f64 + 1e-6 {
                bail!("round {round}: GPU {name} {a} vs CPU {b}");
            }
        }
    }
    h.no_gpu_errors()?;
    let steps = (gpu.discriminator_steps_done().await?, gpu.steps_done().await?);
    if steps != (Some(rounds), rounds) {
        bail!("GPU counted {steps:?} (D, VAE) steps, expected {rounds} each");
    }
    let eval = gpu.evaluate(EvalSplit::Test).await?;
    if !eval.negative_elbo().is_finite() || eval.rows != 32 {
        bail!("held-out evaluation: {eval:?}");
    }
    let samples = gpu.samples(batch).await?;
    let expected_samples = cpu.samples(batch).await?;
    for (i, (a, b)) in samples.iter().zip(&expected_samples).enumerate() {
        if (a - b).abs() > 1e-3 {
            bail!("sample pixel {i}: GPU {a} vs CPU {b}");
        }
    }
    if samples.len() != batch * dim {
        bail!("samples: {} values, expected {}", samples.len(), batch * dim);
    }
    if gpu.discriminator_layout() != cpu.discriminator_layout() || gpu.discriminator_layout().is_none() {
        bail!("D's layout: GPU {:?} vs CPU {:?}", gpu.discriminator_layout().map(|l| l.len), cpu.discriminator_layout().map(|l| l.len));
    }
    same_discriminator(&gpu.discriminator_parameters().await?, &cpu.discriminator_parameters().await?)?;
    h.no_gpu_errors()
}

/// At γ = 0 the GPU VAE-GAN's encoder and decoder follow the plain GPU VAE bit for bit (same seed,
/// data, initial parameters and knobs, dropout on), while its discriminator trains beside them.
pub async fn vae_gan_at_gamma_zero_is_the_vae(h: &Harness) -> Check {
    let (rows, dim, batch, seed) = (48usize, 12usize, 8usize, 5u32);
    let vae = VaeSpec { data_dim: dim, hidden: vec![10], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
    let arch = VaeGanSpec::new(vae, vec![6]).build()?;
    let (init, d_init) = (arch.vae.layout.init(2), arch.d_layout.init(3));
    let bytes: Vec<u8> = (0..rows * dim).map(|i| (i * 53 % 256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let knobs = Knobs { dropout: 0.3, l2: 1e-3, gamma: 0.0, ..Knobs::default() };
    let setup = ModelSetup { data: pixel_rows(bytes, dim, indices.clone(), indices[..16].to_vec()), batch, seed, knobs };
    let mut plain = GpuVae::new(&h.kernels, &setup, arch.vae.clone(), &init)?;
    let mut model = GpuVae::with_discriminator(&h.kernels, &setup, arch, &init, &d_init)?;
    plain.train(10)?;
    model.train(10)?;
    let (expected, got) = (plain.metrics().await?.vae, model.metrics().await?);
    if got.vae != expected {
        bail!("after 10 rounds at γ = 0 the VAE-GAN's VAE metrics {:?} differ from the VAE's {expected:?}", got.vae);
    }
    let (expected, got) = (plain.parameters().await?, model.parameters().await?);
    if let Some(i) = (0..expected.len()).find(|&i| expected[i].to_bits() != got.get(i).map_or(u32::MAX, |v| v.to_bits())) {
        bail!("parameter {i}: VAE-GAN at γ = 0 has {:?}, the VAE {}", got.get(i), expected[i]);
    }
    if !got.iter().any(|&p| p != 0.0) || init == got {
        bail!("the parameters did not train");
    }
    h.no_gpu_errors()
}
