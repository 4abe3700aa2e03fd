//! The GPU VAE-GAN against its CPU twin, round by round, with γ, β and D's knobs changed mid-run.

use latent_core::model::{Likelihood, TrainKnobs, VaeGanCpu, VaeGanKnobs, VaeGanSpec, VaeSpec};
use latent_core::ops::gather::gather_u8;
use latent_core::ops::optimizer::AdamConfig;
use latent_core::{Activation, Matrix};
use latent_gpu::{GpuDataset, GpuVaeGan};

use super::models::relative_gap;
use crate::harness::{Check, Harness, Inputs};

/// 30 rounds (one D step, one VAE step each) of a tiny VAE-GAN with dropout on, on both engines
/// from the same seed and initial parameters: every VAE term, D's losses and L2 term and the
/// generator loss agree within 1e-3 relative every round, D's accuracies within one sample, also
/// after γ, β, dropout, the penalties and both learning rates change at round 15 without a rebuild.
pub async fn vae_gan_matches_cpu_twin(h: &Harness) -> Check {
    let mut inputs = Inputs::new(23);
    let (rows, dim, batch, seed, rounds) = (96usize, 20usize, 16usize, 13u32, 30u32);
    let vae = VaeSpec { data_dim: dim, hidden: vec![12], latent: 3, activation: Activation::Tanh, likelihood: Likelihood::Bernoulli };
    let arch = VaeGanSpec::new(vae, vec![8]).build().map_err(|e| e.to_string())?;
    let (init, d_init) = (arch.vae.layout.init(5), arch.d_layout.init(6));
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).map(|i| (i * 37 + 11) % rows as u32).collect();
    let dataset = GpuDataset::pixels(&h.ctx, dim, &bytes, &indices, &(0..32).collect::<Vec<_>>()).map_err(|e| e.to_string())?;
    let adam = |lr| AdamConfig { lr, ..AdamConfig::default() };
    let mut knobs = VaeGanKnobs {
        vae: TrainKnobs { beta: 1.0, l1: 1e-4, l2: 1e-3, dropout: 0.2, adam: adam(3e-3), sgd: None },
        gamma: 0.5,
        l2_discriminator: 1e-3,
        adam_discriminator: AdamConfig { lr: 2e-3, beta1: 0.5, ..AdamConfig::default() },
    };
    let gpu = GpuVaeGan::new(&h.kernels, arch.clone(), &init, &d_init, dataset, batch, seed, knobs).map_err(|e| e.to_string())?;
    let mut cpu: VaeGanCpu<f32> = VaeGanCpu::new(arch, &init, &d_init, seed).map_err(|e| e.to_string())?;
    for round in 0..rounds {
        if round == 15 {
            knobs.vae = TrainKnobs { beta: 3.0, l1: 1e-3, l2: 1e-2, dropout: 0.4, adam: adam(1e-3), sgd: None };
            knobs.gamma = 2.0;
            knobs.l2_discriminator = 1e-2;
            knobs.adam_discriminator.lr = 1e-3;
            gpu.set_knobs(knobs).map_err(|e| e.to_string())?;
        }
        let x = Matrix::from_vec(batch, dim, gather_u8::<f32>(&bytes, dim, &indices, 0, round, batch)).ok_or("gathered batch has the wrong length")?;
        let expected = cpu.train_round(&x, knobs).map_err(|e| e.to_string())?;
        gpu.train(1).map_err(|e| e.to_string())?;
        let got = gpu.metrics().await.map_err(|e| e.to_string())?;
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
                return Err(format!("round {round}: GPU {name} {a} vs CPU {b} (relative gap {:.2e})", relative_gap(a, b)));
            }
        }
        for (name, a, b) in [
            ("D accuracy on real", got.discriminator.accuracy_real, expected.discriminator.accuracy_real),
            ("D accuracy on fakes", got.discriminator.accuracy_fake, expected.discriminator.accuracy_fake),
        ] {
            if (a - b).abs() > 1.0 / batch as f64 + 1e-6 {
                return Err(format!("round {round}: GPU {name} {a} vs CPU {b}"));
            }
        }
    }
    h.no_gpu_errors()?;
    let steps = gpu.steps_done().await.map_err(|e| e.to_string())?;
    if steps != (rounds, rounds) {
        return Err(format!("GPU counted {steps:?} (D, VAE) steps, expected {rounds} each"));
    }
    let eval = gpu.evaluate().await.map_err(|e| e.to_string())?;
    if !eval.negative_elbo().is_finite() || eval.rows != 32 {
        return Err(format!("held-out evaluation: {eval:?}"));
    }
    let samples = gpu.samples().await.map_err(|e| e.to_string())?;
    let expected_samples = cpu.vae().decode(&latent_core::model::vae::prior_noise(seed, batch, 3)).map_err(|e| e.to_string())?;
    for (i, (a, b)) in samples.iter().zip(&expected_samples.data).enumerate() {
        if (a - b).abs() > 1e-3 {
            return Err(format!("sample pixel {i}: GPU {a} vs CPU {b}"));
        }
    }
    if samples.len() != batch * dim {
        return Err(format!("samples: {} values, expected {}", samples.len(), batch * dim));
    }
    h.no_gpu_errors()
}

/// At γ = 0 the GPU VAE-GAN's encoder and decoder follow the plain GPU VAE bit for bit (same seed,
/// data, initial parameters and knobs, dropout on), while its discriminator trains beside them.
pub async fn vae_gan_at_gamma_zero_is_the_vae(h: &Harness) -> Check {
    use latent_gpu::GpuVae;

    let (rows, dim, batch, seed) = (48usize, 12usize, 8usize, 5u32);
    let vae = VaeSpec { data_dim: dim, hidden: vec![10], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
    let arch = VaeGanSpec::new(vae, vec![6]).build().map_err(|e| e.to_string())?;
    let (init, d_init) = (arch.vae.layout.init(2), arch.d_layout.init(3));
    let bytes: Vec<u8> = (0..rows * dim).map(|i| (i * 53 % 256) as u8).collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let dataset = || GpuDataset::pixels(&h.ctx, dim, &bytes, &indices, &indices[..16]).map_err(|e| e.to_string());
    let knobs = VaeGanKnobs { vae: TrainKnobs { dropout: 0.3, l2: 1e-3, ..TrainKnobs::default() }, gamma: 0.0, ..VaeGanKnobs::default() };
    let plain = GpuVae::new(&h.kernels, arch.vae.clone(), &init, dataset()?, batch, seed, knobs.vae).map_err(|e| e.to_string())?;
    let model = GpuVaeGan::new(&h.kernels, arch, &init, &d_init, dataset()?, batch, seed, knobs).map_err(|e| e.to_string())?;
    plain.train(10).map_err(|e| e.to_string())?;
    model.train(10).map_err(|e| e.to_string())?;
    let (expected, got) = (plain.metrics().await.map_err(|e| e.to_string())?, model.metrics().await.map_err(|e| e.to_string())?);
    if got.vae != expected {
        return Err(format!("after 10 rounds at γ = 0 the VAE-GAN's VAE metrics {:?} differ from the VAE's {expected:?}", got.vae));
    }
    let (expected, got) = (plain.parameters().await.map_err(|e| e.to_string())?, model.parameters().await.map_err(|e| e.to_string())?);
    if let Some(i) = (0..expected.len()).find(|&i| expected[i].to_bits() != got.get(i).map_or(u32::MAX, |v| v.to_bits())) {
        return Err(format!("parameter {i}: VAE-GAN at γ = 0 has {:?}, the VAE {}", got.get(i), expected[i]));
    }
    if !got.iter().any(|&p| p != 0.0) || init == got {
        return Err("the parameters did not train".into());
    }
    h.no_gpu_errors()
}
