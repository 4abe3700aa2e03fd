//! The engine a VAE-family run trains on: the VAE or the VAE-GAN, on the GPU or as the CPU twin.
//! The run loop and the figures ask it the same questions whatever it is; the VAE-GAN answers the
//! VAE's questions through its encoder and decoder.

use anyhow::Context as _;
use latent_core::model::vae::{eval_chunks, prior_noise, EVAL_STREAM};
use latent_core::model::{StepMetrics, VaeCpu, VaeGanCpu, VaeGanKnobs, VaeGanMetrics};
use latent_core::rng::RngStream;
use latent_core::Matrix;
use latent_gpu::{EvalSplit, GpuVae, GpuVaeGan};

use crate::train::RunData;

/// One of the four engines.
pub(crate) enum Engine {
    Gpu(Box<GpuVae>),
    Cpu(Box<VaeCpu<f32>>),
    GpuVaeGan(Box<GpuVaeGan>),
    CpuVaeGan(Box<VaeGanCpu<f32>>),
}

impl Engine {
    /// The CPU twin's VAE (the VAE-GAN's encoder and decoder), if this is a CPU engine.
    fn cpu_vae(&self) -> Option<&VaeCpu<f32>> {
        match self {
            Engine::Cpu(vae) => Some(vae),
            Engine::CpuVaeGan(model) => Some(model.vae()),
            Engine::Gpu(_) | Engine::GpuVaeGan(_) => None,
        }
    }

    /// Trains `steps` steps (VAE-GAN: rounds of one D step and one VAE step); returns the VAE
    /// terms as means over them, D's and the generator loss of the last (a plain VAE reports no
    /// discriminator and a zero generator loss), as every engine does.
    pub(crate) async fn train(&mut self, data: &RunData, steps: usize, batch: usize, knobs: VaeGanKnobs) -> anyhow::Result<VaeGanMetrics> {
        let plain = |vae| VaeGanMetrics { vae, ..VaeGanMetrics::default() };
        let mut last = VaeGanMetrics::default();
        match self {
            Engine::Gpu(vae) => {
                vae.train(steps)?;
                last = plain(vae.metrics().await?);
            }
            Engine::GpuVaeGan(model) => {
                model.train(steps)?;
                last = model.metrics().await?;
            }
            Engine::Cpu(vae) => {
                let mut each = Vec::with_capacity(steps);
                for _ in 0..steps {
                    let x = data.batch(&data.train, 0, vae.step, batch);
                    each.push(vae.train_step(&x, knobs.vae)?);
                }
                last = plain(StepMetrics::mean(&each));
            }
            Engine::CpuVaeGan(model) => {
                let mut each = Vec::with_capacity(steps);
                for _ in 0..steps {
                    let x = data.batch(&data.train, 0, model.vae().step, batch);
                    last = model.train_round(&x, knobs)?;
                    each.push(last.vae.clone());
                }
                last.vae = StepMetrics::mean(&each);
            }
        }
        Ok(last)
    }

    /// Negative ELBO over whole batches of the held-out rows, or of as many training rows.
    pub(crate) async fn evaluate(&self, data: &RunData, split: EvalSplit, batch: usize, seed: u32) -> anyhow::Result<f64> {
        match self {
            Engine::Gpu(vae) => return Ok(vae.evaluate_split(split).await?.negative_elbo()),
            Engine::GpuVaeGan(model) => return Ok(model.evaluate_split(split).await?.negative_elbo()),
            Engine::Cpu(_) | Engine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().context("a CPU engine has a VAE")?;
        let (test_chunks, train_chunks) = eval_chunks(data.train.len(), data.test.len(), batch);
        let (rows, chunks) = match split {
            EvalSplit::Test => (&data.test, test_chunks),
            EvalSplit::Train => (&data.train, train_chunks),
        };
        let mut total = 0.0;
        for chunk in 0..chunks as u32 {
            let x = data.batch(rows, 0, chunk, batch);
            let (recon, kl) = vae.evaluate(&x, RngStream::new(seed, EVAL_STREAM), chunk)?;
            total += recon + kl;
        }
        Ok(total / chunks.max(1) as f64)
    }

    /// The GPU engines hold their knobs; the CPU twins take them with each step.
    pub(crate) fn set_knobs(&self, knobs: VaeGanKnobs) -> anyhow::Result<()> {
        match self {
            Engine::Gpu(vae) => vae.set_knobs(knobs.vae)?,
            Engine::GpuVaeGan(model) => model.set_knobs(knobs)?,
            Engine::Cpu(_) | Engine::CpuVaeGan(_) => {}
        }
        Ok(())
    }

    /// Early stopping's checkpoint of the encoder and decoder: keeps (or, with `restore`, puts
    /// back) their parameters; GPU engines keep them on the GPU, CPU twins in `saved`.
    pub(crate) fn checkpoint(&mut self, saved: &mut Option<Vec<f32>>, restore: bool) -> anyhow::Result<()> {
        let cpu_params = match self {
            Engine::Gpu(vae) if restore => return Ok(vae.restore_best()?),
            Engine::Gpu(vae) => return Ok(vae.save_best()?),
            Engine::GpuVaeGan(model) if restore => return Ok(model.restore_best()?),
            Engine::GpuVaeGan(model) => return Ok(model.save_best()?),
            Engine::Cpu(vae) => &mut vae.params,
            Engine::CpuVaeGan(model) => &mut model.vae_mut().params,
        };
        if restore {
            *cpu_params = saved.clone().context("no parameters were saved")?;
        } else {
            *saved = Some(cpu_params.clone());
        }
        Ok(())
    }

    /// Posterior means of the held-out rows (rows × latent, whole batches of them).
    pub(crate) async fn latent_means(&self, data: &RunData, batch: usize) -> anyhow::Result<Vec<f32>> {
        match self {
            Engine::Gpu(vae) => return Ok(vae.latent_codes().await?.mean),
            Engine::GpuVaeGan(model) => return Ok(model.latent_codes().await?.mean),
            Engine::Cpu(_) | Engine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().context("a CPU engine has a VAE")?;
        let x = data.batch(&data.test, 0, 0, data.test.len() / batch * batch);
        Ok(vae.encode(&x)?.0.data)
    }

    /// Decoder output as data for each row of `z` (rows × latent).
    pub(crate) async fn decode(&self, z: &[f32], latent: usize) -> anyhow::Result<Vec<f32>> {
        match self {
            Engine::Gpu(vae) => return Ok(vae.decode(z).await?),
            Engine::GpuVaeGan(model) => return Ok(model.decode(z).await?),
            Engine::Cpu(_) | Engine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().context("a CPU engine has a VAE")?;
        let z = Matrix::from_vec(z.len() / latent, latent, z.to_vec()).context("codes are not whole rows")?;
        Ok(vae.decode(&z)?.data)
    }

    /// (samples from the fixed prior noise, first held-out batch, its reconstructions through μ).
    pub(crate) async fn figures(&self, data: &RunData, batch: usize, latent: usize, seed: u32) -> anyhow::Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let inputs = data.batch(&data.test, 0, 0, batch).data;
        match self {
            Engine::Gpu(vae) => return Ok((vae.samples().await?, inputs, vae.reconstructions().await?)),
            Engine::GpuVaeGan(model) => return Ok((model.samples().await?, inputs, model.reconstructions().await?)),
            Engine::Cpu(_) | Engine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().context("a CPU engine has a VAE")?;
        let samples = vae.decode(&prior_noise(seed, batch, latent))?.data;
        let x = Matrix { rows: batch, cols: data.dim, data: inputs.clone() };
        let (mu, _) = vae.encode(&x)?;
        Ok((samples, inputs, vae.decode(&mu)?.data))
    }
}
