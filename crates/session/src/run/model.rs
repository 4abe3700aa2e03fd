//! A run's model on its engine: the VAE family or the GAN, on the GPU or as the CPU twin, built
//! from the run's spec, behind the engine seam.

use std::sync::Arc;

use latent_core::data::mnist::Mnist;
use latent_core::data::RunData;
use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
use latent_core::model::ParamLayout;
use latent_core::rng::fold_seed;
use latent_core::Knobs;
use latent_gpu::Kernels;
#[cfg(not(target_arch = "wasm32"))]
use latent_gpu::{GpuRows, GpuVae};

use super::views::{histogram_frames, HistogramFrame};
use super::RunSpec;
use crate::config::{Dataset, ModelKind, Shape};
use crate::hosted::{Host, HostedGan, HostedVae};
use crate::SessionError;

/// The CPU twin's builds, in builds with the `cpu-engine` feature: the page's module leaves it
/// out (its CPU engine is the worker's), which keeps about 29 KB gzipped off it.
#[cfg(feature = "cpu-engine")]
mod cpu {
    use std::any::Any;

    use latent_core::engine::cpu::{CpuGan, CpuVae};
    use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
    use latent_core::model::{GanArch, VaeArch, VaeGanArch};

    pub(super) fn vae(setup: ModelSetup, arch: VaeArch, init: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Ok(Box::new(CpuVae::new(setup, arch, init)?))
    }

    pub(super) fn vae_gan(setup: ModelSetup, arch: VaeGanArch, init: &[f32], d_init: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Ok(Box::new(CpuVae::with_discriminator(setup, arch, init, d_init)?))
    }

    pub(super) fn gan(setup: ModelSetup, arch: GanArch, init: &[f32], d_init: &[f32]) -> Result<Box<dyn GanModel>, ModelError> {
        Ok(Box::new(CpuGan::new(setup, arch, init, d_init)?))
    }

    /// A fork's copy when both models are CPU twins of one family.
    pub(super) fn copy_state(from: &dyn Any, to: &mut dyn Any) -> Option<Result<(), ModelError>> {
        if let (Some(from), Some(to)) = (from.downcast_ref::<CpuVae>(), to.downcast_mut::<CpuVae>()) {
            return Some(from.copy_state_to(to));
        }
        if let (Some(from), Some(to)) = (from.downcast_ref::<CpuGan>(), to.downcast_mut::<CpuGan>()) {
            return Some(from.copy_state_to(to));
        }
        None
    }
}

/// Without the `cpu-engine` feature (the page's module) a run on the CPU is hosted: building the
/// twin here is refused, with the reason.
#[cfg(not(feature = "cpu-engine"))]
mod cpu {
    use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
    use latent_core::model::{GanArch, VaeArch, VaeGanArch};

    fn refused() -> ModelError {
        ModelError::Device("the page's CPU engine trains in a Web Worker, and none started in this browser".into())
    }

    pub(super) fn vae(_: ModelSetup, _: VaeArch, _: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Err(refused())
    }

    pub(super) fn vae_gan(_: ModelSetup, _: VaeGanArch, _: &[f32], _: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Err(refused())
    }

    pub(super) fn gan(_: ModelSetup, _: GanArch, _: &[f32], _: &[f32]) -> Result<Box<dyn GanModel>, ModelError> {
        Err(refused())
    }
}

/// The GPU engine's builds, in builds with the `gpu-engine` feature: the CPU engine's worker
/// leaves it out, which keeps the GPU models' builders (about 40 KB gzipped) off its module.
#[cfg(feature = "gpu-engine")]
mod gpu {
    use std::any::Any;

    use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
    use latent_core::model::{GanArch, VaeArch, VaeGanArch};
    use latent_gpu::{GpuGan, GpuVae, Kernels};

    pub(super) fn vae(kernels: &Kernels, setup: &ModelSetup, arch: VaeArch, init: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Ok(Box::new(GpuVae::new(kernels, setup, arch, init)?))
    }

    pub(super) fn vae_gan(kernels: &Kernels, setup: &ModelSetup, arch: VaeGanArch, init: &[f32], d_init: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Ok(Box::new(GpuVae::with_discriminator(kernels, setup, arch, init, d_init)?))
    }

    pub(super) fn gan(kernels: &Kernels, setup: &ModelSetup, arch: GanArch, init: &[f32], d_init: &[f32]) -> Result<Box<dyn GanModel>, ModelError> {
        Ok(Box::new(GpuGan::new(kernels, setup, arch, init, d_init)?))
    }

    /// A fork's copy when both models are the GPU engine's, of one family.
    pub(super) fn copy_state(from: &dyn Any, to: &mut dyn Any) -> Option<Result<(), ModelError>> {
        if let (Some(from), Some(to)) = (from.downcast_ref::<GpuVae>(), to.downcast_mut::<GpuVae>()) {
            return Some(from.copy_state_to(to));
        }
        if let (Some(from), Some(to)) = (from.downcast_ref::<GpuGan>(), to.downcast_mut::<GpuGan>()) {
            return Some(from.copy_state_to(to));
        }
        None
    }
}

/// Without the `gpu-engine` feature (the CPU engine's worker) a model on the GPU is refused, with
/// the reason; nothing there asks for one.
#[cfg(not(feature = "gpu-engine"))]
mod gpu {
    use latent_core::engine::{GanModel, ModelError, ModelSetup, VaeModel};
    use latent_core::model::{GanArch, VaeArch, VaeGanArch};
    use latent_gpu::Kernels;

    fn refused() -> ModelError {
        ModelError::Device("this build has no GPU engine".into())
    }

    pub(super) fn vae(_: &Kernels, _: &ModelSetup, _: VaeArch, _: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Err(refused())
    }

    pub(super) fn vae_gan(_: &Kernels, _: &ModelSetup, _: VaeGanArch, _: &[f32], _: &[f32]) -> Result<Box<dyn VaeModel>, ModelError> {
        Err(refused())
    }

    pub(super) fn gan(_: &Kernels, _: &ModelSetup, _: GanArch, _: &[f32], _: &[f32]) -> Result<Box<dyn GanModel>, ModelError> {
        Err(refused())
    }
}

/// Where a run's models are built and trained: the CPU twin in this thread, the GPU engine's
/// kernels, or a host elsewhere (the page's worker, which trains the CPU twin there).
#[derive(Clone, Copy)]
pub enum Engine<'a> {
    Cpu,
    Gpu(&'a Kernels),
    /// The GPU engine's models for parameters that train elsewhere: a sweep's members, which its
    /// batched step trains and which only score and draw views here, so they hold no training
    /// buffers and read one copy of the rows ([`GpuVae::trained_elsewhere`]: the rows must be
    /// those of the run's data). A GAN member has no such form yet: its model is the one
    /// [`Engine::Gpu`] builds (its views' forward-only buffers are most of it). Native only, as
    /// the batched step is: the page's module carries neither.
    #[cfg(not(target_arch = "wasm32"))]
    GpuScoring(&'a Kernels, &'a GpuRows),
    Hosted(&'a Host),
}

impl<'a> From<Option<&'a Kernels>> for Engine<'a> {
    /// The GPU engine's kernels where there are some, else the CPU twin.
    fn from(kernels: Option<&'a Kernels>) -> Self {
        kernels.map_or(Engine::Cpu, Engine::Gpu)
    }
}

/// A run's model: the engine is chosen at run time, so it lives behind the seam's trait objects.
pub(crate) enum Model {
    Vae(Box<dyn VaeModel>),
    Gan(Box<dyn GanModel>),
}

impl Model {
    pub(crate) fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        match self {
            Model::Vae(vae) => vae.set_knobs(knobs),
            Model::Gan(gan) => gan.set_knobs(knobs),
        }
    }

    /// Makes `other`, built from the same spec on the same engine, this model's training state:
    /// the engine's own `copy_state_to`, found behind the trait objects (a fork).
    pub(crate) fn copy_state_to(&self, other: &mut Model) -> Result<(), ModelError> {
        let (from, to) = match (self, other) {
            (Model::Vae(from), Model::Vae(to)) => (from.as_any(), to.as_any_mut()),
            (Model::Gan(from), Model::Gan(to)) => (from.as_any(), to.as_any_mut()),
            _ => return Err(ModelError::StateMismatch("one model is of the VAE family, the other a GAN".into())),
        };
        #[cfg(feature = "cpu-engine")]
        if let Some(copied) = cpu::copy_state(from, to) {
            return copied;
        }
        #[cfg(feature = "gpu-engine")]
        if let Some(copied) = gpu::copy_state(from, to) {
            return copied;
        }
        if let (Some(from), Some(to)) = (from.downcast_ref::<HostedVae>(), to.downcast_ref::<HostedVae>()) {
            return from.link.copy_state_to(&to.link);
        }
        if let (Some(from), Some(to)) = (from.downcast_ref::<HostedGan>(), to.downcast_ref::<HostedGan>()) {
            return from.link.copy_state_to(&to.link);
        }
        Err(ModelError::StateMismatch("the two models are on different engines".into()))
    }

    /// What a checkpoint and a run file keep: the VAE's encoder and decoder, or the GAN's generator
    /// (a discriminator is retrained from scratch when the run is rebuilt).
    pub(crate) async fn saved_parameters(&self) -> Result<Vec<f32>, ModelError> {
        match self {
            Model::Vae(vae) => vae.parameters().await,
            Model::Gan(gan) => gan.generator_parameters().await,
        }
    }

    /// Every network's layout with its parameters now: the VAE's encoder and decoder (or the GAN's
    /// generator), then the discriminator where there is one (what the weight histograms show).
    pub(crate) async fn networks(&self) -> Result<Vec<(&ParamLayout, Vec<f32>)>, ModelError> {
        Ok(match self {
            Model::Vae(vae) => {
                let mut nets = vec![(&vae.arch().layout, vae.parameters().await?)];
                if let Some(d_layout) = vae.discriminator_layout() {
                    nets.push((d_layout, vae.discriminator_parameters().await?));
                }
                nets
            }
            Model::Gan(gan) => {
                vec![(&gan.arch().g_layout, gan.generator_parameters().await?), (&gan.arch().d_layout, gan.discriminator_parameters().await?)]
            }
        })
    }
}

/// The rows the spec trains on: MNIST (from the `mnist` asset) or 2D points, with a held-out set
/// of at least one batch.
pub fn load_data(spec: &RunSpec, mnist: Option<&[u8]>) -> Result<RunData, SessionError> {
    load_rows(spec, digits_for(spec, mnist)?.as_ref())
}

/// The MNIST digits in `mnist` (the asset's bytes), parsed and checked, when `spec` trains on them.
pub fn digits_for(spec: &RunSpec, mnist: Option<&[u8]>) -> Result<Option<Mnist>, SessionError> {
    Ok(match (spec.data.dataset, mnist) {
        (Dataset::Mnist, Some(asset)) => Some(Mnist::parse(asset)?),
        _ => None,
    })
}

/// The same from MNIST digits parsed already ([`Mnist::parse`]).
pub fn load_rows(spec: &RunSpec, mnist: Option<&Mnist>) -> Result<RunData, SessionError> {
    let (data, seed) = (&spec.data, spec.shape.seed);
    let rows = match data.dataset {
        Dataset::Mnist => {
            let digits = mnist.ok_or_else(|| SessionError::Invalid("the MNIST digits are not loaded".into()))?;
            RunData::from_mnist(digits, Some(data.train_size), spec.options.held_out_digits)?
        }
        Dataset::Toy(dist) => RunData::toy(dist, data.train_size, data.noise, seed)?,
        Dataset::Drawn => RunData::drawn(&data.drawn, data.train_size, data.noise, seed)?,
    };
    rows.check_batch(spec.shape.batch)?;
    Ok(rows)
}

/// The spec's model on `engine`, from `weights` (a checkpoint's: the VAE's
/// encoder and decoder, or the GAN's generator) or from the seed; a discriminator always from the
/// seed.
///
/// Also returns the weight histograms' frames, drawn from the starting weights of every network.
pub(crate) fn build(spec: &RunSpec, data: Arc<RunData>, engine: Engine, weights: Option<&[f32]>) -> Result<(Model, Vec<HistogramFrame>), SessionError> {
    let (shape, dataset, seed) = (&spec.shape, spec.data.dataset, spec.shape.seed);
    let setup = ModelSetup { data, batch: shape.batch, seed: fold_seed(seed), knobs: spec.knobs };
    let d_seed = discriminator_seed(seed);
    Ok(match shape.model {
        ModelKind::Vae => {
            let arch = shape.vae_spec(dataset).build()?;
            let init = initial(&arch.layout, seed, weights)?;
            let frames = histogram_frames(&[(&arch.layout, &init)]);
            let model = Model::Vae(match engine {
                Engine::Gpu(kernels) => gpu::vae(kernels, &setup, arch, &init)?,
                #[cfg(not(target_arch = "wasm32"))]
                Engine::GpuScoring(kernels, rows) => Box::new(GpuVae::trained_elsewhere(kernels, &setup, (arch, &init), None, rows)?),
                Engine::Cpu => cpu::vae(setup, arch, &init)?,
                Engine::Hosted(host) => host.vae(spec, arch, None, weights),
            });
            (model, frames)
        }
        ModelKind::VaeGan => {
            let arch = shape.vae_gan_spec(dataset).build()?;
            let (init, d_init) = (initial(&arch.vae.layout, seed, weights)?, arch.d_layout.init(d_seed));
            let frames = histogram_frames(&[(&arch.vae.layout, &init), (&arch.d_layout, &d_init)]);
            let model = Model::Vae(match engine {
                Engine::Gpu(kernels) => gpu::vae_gan(kernels, &setup, arch, &init, &d_init)?,
                #[cfg(not(target_arch = "wasm32"))]
                Engine::GpuScoring(kernels, rows) => {
                    Box::new(GpuVae::trained_elsewhere(kernels, &setup, (arch.vae, &init), Some((&arch.d_layout, &d_init)), rows)?)
                }
                Engine::Cpu => cpu::vae_gan(setup, arch, &init, &d_init)?,
                Engine::Hosted(host) => host.vae(spec, arch.vae, Some(arch.d_layout), weights),
            });
            (model, frames)
        }
        ModelKind::Gan => {
            let arch = shape.gan_spec(dataset).build()?;
            let (init, d_init) = (initial(&arch.g_layout, seed, weights)?, arch.d_layout.init(d_seed));
            let frames = histogram_frames(&[(&arch.g_layout, &init), (&arch.d_layout, &d_init)]);
            let model = Model::Gan(match engine {
                Engine::Gpu(kernels) => gpu::gan(kernels, &setup, arch, &init, &d_init)?,
                #[cfg(not(target_arch = "wasm32"))]
                Engine::GpuScoring(kernels, _) => gpu::gan(kernels, &setup, arch, &init, &d_init)?,
                Engine::Cpu => cpu::gan(setup, arch, &init, &d_init)?,
                Engine::Hosted(host) => host.gan(spec, arch, weights),
            });
            (model, frames)
        }
    })
}

/// The seed of a fresh run's discriminator (the VAE-GAN's and the GAN's): the run's seed draws the
/// weights a run file holds, the next one D's.
pub(crate) fn discriminator_seed(seed: u64) -> u64 {
    seed.wrapping_add(1)
}

/// How many weights [`Model::saved_parameters`] returns for `shape` on `dataset` (what a run file
/// holds and [`build`] takes): the VAE's (or VAE-GAN's) encoder and decoder, or the GAN's generator.
pub(crate) fn saved_weight_count(shape: &Shape, dataset: Dataset) -> Result<usize, SessionError> {
    Ok(match shape.model {
        ModelKind::Vae => shape.vae_spec(dataset).build()?.layout.len,
        ModelKind::VaeGan => shape.vae_gan_spec(dataset).build()?.vae.layout.len,
        ModelKind::Gan => shape.gan_spec(dataset).build()?.g_layout.len,
    })
}

/// The starting weights: `weights` when given (they must fit `layout`), else drawn from `seed`.
fn initial(layout: &ParamLayout, seed: u64, weights: Option<&[f32]>) -> Result<Vec<f32>, SessionError> {
    match weights {
        None => Ok(layout.init(seed)),
        Some(w) if w.len() == layout.len => Ok(w.to_vec()),
        Some(w) => Err(SessionError::Invalid(format!("the saved weights ({} values) do not fit this model ({} parameters)", w.len(), layout.len))),
    }
}
