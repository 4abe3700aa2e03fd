//! The engine a VAE-family run trains on: the VAE or the VAE-GAN, on the GPU or as the CPU twin.
//! The run loop and the figures ask it the same questions whatever it is; the VAE-GAN answers the
//! VAE's questions through its encoder and decoder.

use latent_core::model::vae::{eval_chunks, prior_noise, EVAL_STREAM};
use latent_core::model::{ParamLayout, StepMetrics, VaeArch, VaeCpu, VaeGanCpu, VaeGanKnobs, VaeGanMetrics, VaeGanSpec, VaeSpec};
use latent_core::rng::fold_seed;
use latent_core::rng::RngStream;
use latent_core::Matrix;
use latent_gpu::{EvalSplit, GpuVae, GpuVaeGan, Kernels};

use crate::{RunData, SessionError};

/// One of the four engines.
pub enum VaeEngine {
    Gpu(Box<GpuVae>),
    Cpu(Box<VaeCpu<f32>>),
    GpuVaeGan(Box<GpuVaeGan>),
    CpuVaeGan(Box<VaeGanCpu<f32>>),
}

impl VaeEngine {
    /// A VAE of `spec`, or with `discriminator_hidden` a VAE-GAN whose D has those widths,
    /// initialised from `seed` (or the encoder and decoder from `weights`, e.g. a saved run's); on
    /// the GPU when `kernels` are given, else as the CPU twin.
    #[allow(clippy::too_many_arguments)]
    pub fn build(
        kernels: Option<&Kernels>,
        spec: &VaeSpec,
        discriminator_hidden: Option<Vec<usize>>,
        data: &RunData,
        batch: usize,
        seed: u64,
        knobs: VaeGanKnobs,
        weights: Option<&[f32]>,
    ) -> Result<Self, SessionError> {
        let rng_seed = fold_seed(seed);
        let Some(d_hidden) = discriminator_hidden else {
            let arch = spec.build()?;
            let init = initial(&arch.layout, seed, weights)?;
            return Ok(match kernels {
                None => Self::Cpu(Box::new(VaeCpu::new(arch, &init, rng_seed)?)),
                Some(kernels) => Self::Gpu(Box::new(GpuVae::new(kernels, arch, &init, data.upload(kernels.context())?, batch, rng_seed, knobs.vae)?)),
            });
        };
        let arch = VaeGanSpec::new(spec.clone(), d_hidden).build()?;
        let (vae_init, d_init) = (initial(&arch.vae.layout, seed, weights)?, arch.d_layout.init(seed.wrapping_add(1)));
        Ok(match kernels {
            None => Self::CpuVaeGan(Box::new(VaeGanCpu::new(arch, &vae_init, &d_init, rng_seed)?)),
            Some(kernels) => {
                Self::GpuVaeGan(Box::new(GpuVaeGan::new(kernels, arch, &vae_init, &d_init, data.upload(kernels.context())?, batch, rng_seed, knobs)?))
            }
        })
    }

    /// Compute passes one training step (VAE-GAN: one round) records, on the GPU engine.
    pub fn dispatches_per_step(&self) -> Option<usize> {
        match self {
            Self::Gpu(vae) => Some(vae.step_schedule().len()),
            Self::GpuVaeGan(model) => Some(model.dispatch_counts().0 + model.dispatch_counts().1),
            Self::Cpu(_) | Self::CpuVaeGan(_) => None,
        }
    }

    /// The encoder and decoder's shape and parameter layout.
    pub fn arch(&self) -> &VaeArch {
        match self {
            Self::Gpu(vae) => vae.arch(),
            Self::GpuVaeGan(model) => &model.arch().vae,
            Self::Cpu(vae) => &vae.arch,
            Self::CpuVaeGan(model) => &model.vae().arch,
        }
    }

    /// The encoder's and decoder's parameters (laid out by [`Self::arch`]).
    pub async fn parameters(&self) -> Result<Vec<f32>, SessionError> {
        Ok(match self {
            Self::Gpu(vae) => vae.parameters().await?,
            Self::GpuVaeGan(model) => model.parameters().await?,
            Self::Cpu(vae) => vae.params.clone(),
            Self::CpuVaeGan(model) => model.vae().params.clone(),
        })
    }

    /// The CPU twin's VAE (the VAE-GAN's encoder and decoder), if this is a CPU engine.
    fn cpu_vae(&self) -> Option<&VaeCpu<f32>> {
        match self {
            VaeEngine::Cpu(vae) => Some(vae),
            VaeEngine::CpuVaeGan(model) => Some(model.vae()),
            VaeEngine::Gpu(_) | VaeEngine::GpuVaeGan(_) => None,
        }
    }

    /// Trains `steps` steps (VAE-GAN: rounds of one D step and one VAE step); returns the VAE
    /// terms as means over them, D's and the generator loss of the last (a plain VAE reports no
    /// discriminator and a zero generator loss), as every engine does.
    pub async fn train(&mut self, data: &RunData, steps: usize, batch: usize, knobs: VaeGanKnobs) -> Result<VaeGanMetrics, SessionError> {
        let plain = |vae| VaeGanMetrics { vae, ..VaeGanMetrics::default() };
        let mut last = VaeGanMetrics::default();
        match self {
            VaeEngine::Gpu(vae) => {
                vae.train(steps)?;
                last = plain(vae.metrics().await?);
            }
            VaeEngine::GpuVaeGan(model) => {
                model.train(steps)?;
                last = model.metrics().await?;
            }
            VaeEngine::Cpu(vae) => {
                let mut each = Vec::with_capacity(steps);
                for _ in 0..steps {
                    let x = data.batch(&data.train, 0, vae.step, batch);
                    each.push(vae.train_step(&x, knobs.vae)?);
                }
                last = plain(StepMetrics::mean(&each));
            }
            VaeEngine::CpuVaeGan(model) => {
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
    pub async fn evaluate(&self, data: &RunData, split: EvalSplit, batch: usize, seed: u32) -> Result<f64, SessionError> {
        match self {
            VaeEngine::Gpu(vae) => return Ok(vae.evaluate_split(split).await?.negative_elbo()),
            VaeEngine::GpuVaeGan(model) => return Ok(model.evaluate_split(split).await?.negative_elbo()),
            VaeEngine::Cpu(_) | VaeEngine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().ok_or_else(no_vae)?;
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
    pub fn set_knobs(&self, knobs: VaeGanKnobs) -> Result<(), SessionError> {
        match self {
            VaeEngine::Gpu(vae) => vae.set_knobs(knobs.vae)?,
            VaeEngine::GpuVaeGan(model) => model.set_knobs(knobs)?,
            VaeEngine::Cpu(_) | VaeEngine::CpuVaeGan(_) => {}
        }
        Ok(())
    }

    /// Early stopping's checkpoint of the encoder and decoder: keeps (or, with `restore`, puts
    /// back) their parameters; GPU engines keep them on the GPU, CPU twins in `saved`.
    pub fn checkpoint(&mut self, saved: &mut Option<Vec<f32>>, restore: bool) -> Result<(), SessionError> {
        let cpu_params = match self {
            VaeEngine::Gpu(vae) if restore => return Ok(vae.restore_best()?),
            VaeEngine::Gpu(vae) => return Ok(vae.save_best()?),
            VaeEngine::GpuVaeGan(model) if restore => return Ok(model.restore_best()?),
            VaeEngine::GpuVaeGan(model) => return Ok(model.save_best()?),
            VaeEngine::Cpu(vae) => &mut vae.params,
            VaeEngine::CpuVaeGan(model) => &mut model.vae_mut().params,
        };
        if restore {
            *cpu_params = saved.clone().ok_or_else(|| SessionError::Invalid("no parameters were saved".into()))?;
        } else {
            *saved = Some(cpu_params.clone());
        }
        Ok(())
    }

    /// Posterior means of the held-out rows (rows × latent, whole batches of them).
    pub async fn latent_means(&self, data: &RunData, batch: usize) -> Result<Vec<f32>, SessionError> {
        match self {
            VaeEngine::Gpu(vae) => return Ok(vae.latent_codes().await?.mean),
            VaeEngine::GpuVaeGan(model) => return Ok(model.latent_codes().await?.mean),
            VaeEngine::Cpu(_) | VaeEngine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().ok_or_else(no_vae)?;
        let x = data.batch(&data.test, 0, 0, data.test.len() / batch * batch);
        Ok(vae.encode(&x)?.0.data)
    }

    /// Decoder output as data for each row of `z` (rows × latent).
    pub async fn decode(&self, z: &[f32], latent: usize) -> Result<Vec<f32>, SessionError> {
        match self {
            VaeEngine::Gpu(vae) => return Ok(vae.decode(z).await?),
            VaeEngine::GpuVaeGan(model) => return Ok(model.decode(z).await?),
            VaeEngine::Cpu(_) | VaeEngine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().ok_or_else(no_vae)?;
        let z = Matrix::from_vec(z.len() / latent, latent, z.to_vec()).ok_or_else(|| SessionError::Invalid("codes are not whole rows".into()))?;
        Ok(vae.decode(&z)?.data)
    }

    /// (samples from the fixed prior noise, first held-out batch, its reconstructions through μ).
    pub async fn figures(&self, data: &RunData, batch: usize, latent: usize, seed: u32) -> Result<(Vec<f32>, Vec<f32>, Vec<f32>), SessionError> {
        let inputs = data.batch(&data.test, 0, 0, batch).data;
        match self {
            VaeEngine::Gpu(vae) => return Ok((vae.samples().await?, inputs, vae.reconstructions().await?)),
            VaeEngine::GpuVaeGan(model) => return Ok((model.samples().await?, inputs, model.reconstructions().await?)),
            VaeEngine::Cpu(_) | VaeEngine::CpuVaeGan(_) => {}
        }
        let vae = self.cpu_vae().ok_or_else(no_vae)?;
        let samples = vae.decode(&prior_noise(seed, batch, latent))?.data;
        let x = Matrix { rows: batch, cols: data.dim, data: inputs.clone() };
        let (mu, _) = vae.encode(&x)?;
        Ok((samples, inputs, vae.decode(&mu)?.data))
    }
}

/// The starting weights: `weights` when given (they must fit `layout`), else drawn from `seed`.
pub(crate) fn initial(layout: &ParamLayout, seed: u64, weights: Option<&[f32]>) -> Result<Vec<f32>, SessionError> {
    match weights {
        None => Ok(layout.init(seed)),
        Some(w) if w.len() == layout.len => Ok(w.to_vec()),
        Some(w) => Err(SessionError::Invalid(format!("the saved weights ({} values) do not fit this model ({} parameters)", w.len(), layout.len))),
    }
}

fn no_vae() -> SessionError {
    SessionError::Invalid("a CPU engine has a VAE".into())
}
