//! The playground's whole state as one value, in its parts (data, shape, knobs, page): every
//! control and the seed. It serialises to a URL query and parses back through one validated path
//! ([`LabConfig::from_query`]): unknown keys are ignored, bad values fall back to the default and
//! out-of-range values are clamped, each with a note the page shows; hostile sizes never reach an
//! allocation. The knobs are `latent_core::Knobs`, the same value the engines take.

use latent_core::data::mnist;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::{GanSpec, Likelihood, VaeGanSpec, VaeSpec};
use latent_core::{Activation, Knobs};

use crate::lesson::LessonLink;
use crate::run::{RunOptions, RunSpec};
use crate::sweep::plan::SweepPlan;

pub mod forks;
pub mod knob;
pub mod layers;
pub mod query;

pub use knob::{round_sig, Knob, Scale};

/// Observation noise σ of the Gaussian likelihood on 2D data (inverse variance 1/σ²).
pub const POINT_SIGMA: f32 = 0.1;
/// Most hidden layers the page builds (per network).
pub const MAX_LAYERS: usize = 4;
/// Widest hidden layer the page builds.
pub const MAX_WIDTH: usize = 1024;
/// Largest latent size.
pub const MAX_LATENT: usize = 64;
/// Training-set sizes: MNIST digits (class-balanced) and 2D points.
pub const MNIST_TRAIN: (usize, usize) = (mnist::MIN_TRAIN_SUBSET, 8000);
pub const TOY_TRAIN: (usize, usize) = (16, 20_000);

/// Which model trains.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ModelKind {
    Vae,
    Gan,
    VaeGan,
}

impl ModelKind {
    pub const ALL: [ModelKind; 3] = [Self::Vae, Self::Gan, Self::VaeGan];

    /// Stable URL key; never change one, or shared links break.
    pub fn key(self) -> &'static str {
        match self {
            Self::Vae => "vae",
            Self::Gan => "gan",
            Self::VaeGan => "vae-gan",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Vae => "VAE",
            Self::Gan => "GAN",
            Self::VaeGan => "VAE-GAN",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.key() == key)
    }

    /// The VAE and the VAE-GAN have an encoder, a latent posterior and a KL term.
    pub fn has_encoder(self) -> bool {
        !matches!(self, Self::Gan)
    }

    pub fn has_discriminator(self) -> bool {
        !matches!(self, Self::Vae)
    }
}

/// Most points a user draws (each travels in the URL).
pub const MAX_DRAWN: usize = 200;

/// What the model learns from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dataset {
    Mnist,
    Toy(Toy2d),
    /// Points the user drew, each the centre of a Gaussian of the noise σ.
    Drawn,
}

impl Dataset {
    pub fn all() -> impl Iterator<Item = Dataset> {
        std::iter::once(Self::Mnist).chain(Toy2d::ALL.into_iter().map(Self::Toy)).chain([Self::Drawn])
    }

    pub fn key(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::Toy(dist) => dist.key(),
            Self::Drawn => "drawn",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "MNIST digits",
            Self::Toy(dist) => dist.name(),
            Self::Drawn => "your own points (draw them)",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::all().find(|d| d.key() == key)
    }

    pub fn is_2d(self) -> bool {
        !matches!(self, Self::Mnist)
    }

    /// Values per row.
    pub fn dim(self) -> usize {
        if self.is_2d() {
            2
        } else {
            mnist::PIXELS
        }
    }

    /// (least, most) training rows.
    pub fn train_range(self) -> (usize, usize) {
        if self.is_2d() {
            TOY_TRAIN
        } else {
            MNIST_TRAIN
        }
    }
}

/// Which engine trains: the GPU through WebGPU, or the CPU twin; `Auto` picks WebGPU on a hardware
/// adapter and the CPU engine where there is none or only a software one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EnginePref {
    Auto,
    WebGpu,
    Cpu,
}

impl EnginePref {
    pub const ALL: [EnginePref; 3] = [Self::Auto, Self::WebGpu, Self::Cpu];

    pub fn key(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::WebGpu => "webgpu",
            Self::Cpu => "cpu",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.key() == key)
    }
}

/// Hidden-layer activations offered in the page.
pub const ACTIVATIONS: [Activation; 4] = [Activation::Relu, Activation::LeakyRelu, Activation::Tanh, Activation::Sigmoid];

/// What the model learns from.
#[derive(Clone, Debug, PartialEq)]
pub struct DataConfig {
    pub dataset: Dataset,
    pub train_size: usize,
    /// Noise σ of a 2D distribution.
    pub noise: f32,
    /// The user's points ([`Dataset::Drawn`]), at most [`MAX_DRAWN`], within the 2D view.
    pub drawn: Vec<[f32; 2]>,
}

/// The model's shape and everything else a change of which rebuilds it.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub model: ModelKind,
    /// Hidden widths: the VAE's encoder (the decoder mirrors them), or the GAN's generator; and
    /// every discriminator's unless `discriminator_hidden` says otherwise.
    pub hidden: Vec<usize>,
    /// The discriminator's own widths (the command line's `--d-hidden`); the page has none.
    pub discriminator_hidden: Option<Vec<usize>>,
    pub activation: Activation,
    pub latent: usize,
    pub batch: usize,
    /// Seeds the 2D data, the initial weights and every random draw of training.
    pub seed: u64,
}

/// How the page presents itself; nothing here touches the model.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PageConfig {
    /// Compact page for an iframe: no header or article text.
    pub embed: bool,
    /// Start training as soon as the model is built.
    pub autoplay: bool,
    /// Controls a lesson hides, and controls it shows but locks (by [`Knob`] key or shape key).
    pub hide: Vec<String>,
    pub lock: Vec<String>,
    /// Benchmark mode: report figures instead of showing the playground.
    pub bench: Option<Bench>,
    /// The lesson open beside the playground, and its card (`lesson=elbo-beta&card=2`).
    pub lesson: Option<LessonLink>,
}

/// Every control of the playground, in its parts: a change of `data`, `shape` or `engine` rebuilds
/// the model ([`LabConfig::rebuilds_from`]); `knobs` and `early_stopping` act on the running one.
#[derive(Clone, Debug, PartialEq)]
pub struct LabConfig {
    pub data: DataConfig,
    pub shape: Shape,
    pub knobs: Knobs,
    pub early_stopping: bool,
    pub engine: EnginePref,
    pub page: PageConfig,
    /// The branches training beside this run, by their knobs (at most [`forks::MAX_FORKS`]); they
    /// share its data and shape.
    pub forks: Vec<Knobs>,
    /// The sweep the page's Sweep panel trains (`None`: the panel is closed).
    pub sweep: Option<SweepPlan>,
}

/// What a benchmark page (`?bench=`) measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bench {
    /// `bench=N`: train the fixed reference configuration for N steps.
    Train { steps: usize },
    /// `bench=matmul`: time the matmul kernel on every product of a reference-VAE step.
    Matmul,
}

/// Most steps a benchmark runs.
pub const MAX_BENCH_STEPS: usize = 5000;

/// The VAE-GAN's discriminator width and learning rate on digits ([`LabConfig::defaults_for`]).
const VAE_GAN_D_WIDTH: usize = 128;
const VAE_GAN_D_LR: f32 = 3e-4;

/// The CPU engine's smaller defaults on MNIST ([`LabConfig::shrink_for_cpu`]).
const CPU_HIDDEN: usize = 64;
const CPU_BATCH: usize = 32;
const CPU_TRAIN: usize = 1000;

impl Default for LabConfig {
    fn default() -> Self {
        Self::defaults_for(ModelKind::Vae, Dataset::Mnist)
    }
}

impl LabConfig {
    /// The starting point for a model on a dataset: small enough to train live on a laptop GPU or,
    /// at the CPU defaults, on the CPU engine.
    pub fn defaults_for(model: ModelKind, dataset: Dataset) -> Self {
        let gan_like = matches!(model, ModelKind::Gan) || dataset.is_2d();
        // The VAE-GAN on digits: D one layer of 128 whatever the VAE's widths, learning at 3·10⁻⁴
        // (a third of the VAE's rate). Measured on the CPU engine's defaults (docs/BENCHMARKS.md,
        // "VAE-GAN defaults"): D as fast as the VAE pushed the decoder to thin 1s after 20,000
        // rounds (mode collapse, a minute on the page); narrower Ds (16-64) sharpened less.
        let vae_gan_digits = model == ModelKind::VaeGan && !dataset.is_2d();
        Self {
            data: DataConfig { dataset, train_size: 2000, noise: if dataset == Dataset::Drawn { 0.15 } else { toy2d::DEFAULT_NOISE }, drawn: Vec::new() },
            shape: Shape {
                model,
                hidden: if gan_like { vec![64, 64] } else { vec![256] },
                discriminator_hidden: vae_gan_digits.then(|| vec![VAE_GAN_D_WIDTH]),
                activation: Activation::Relu,
                latent: if gan_like { 2 } else { 8 },
                batch: 64,
                seed: 1,
            },
            knobs: Knobs {
                gamma: if matches!(model, ModelKind::VaeGan) { Knobs::default().gamma } else { 0.0 },
                // The page sets the discriminator's and the GAN generator's L2 on their own sliders
                // (`l2d`, `l2g`), never through the shared `l2`.
                l2_g: matches!(model, ModelKind::Gan).then_some(0.0),
                l2_d: model.has_discriminator().then_some(0.0),
                lr_d: vae_gan_digits.then_some(VAE_GAN_D_LR),
                ..Knobs::default()
            },
            early_stopping: false,
            engine: EnginePref::Auto,
            page: PageConfig::default(),
            forks: Vec::new(),
            sweep: None,
        }
    }

    /// The fixed configuration a benchmark trains: the reference VAE (784-400-20, ReLU, Bernoulli,
    /// Adam 10⁻³, batch 128, the 8,000 training digits), or for `model=gan` GAN Lab's kind of GAN
    /// (2-64-64-2 against 2-64-64-1, batch 128, on the ring). Only the engine choice is kept.
    pub fn benchmark(&self) -> LabConfig {
        let gan = self.shape.model == ModelKind::Gan;
        let mut c = Self::defaults_for(if gan { ModelKind::Gan } else { ModelKind::Vae }, if gan { Dataset::Toy(Toy2d::Ring8) } else { Dataset::Mnist });
        if !gan {
            (c.shape.hidden, c.shape.latent, c.data.train_size) = (vec![400], 20, MNIST_TRAIN.1);
        }
        c.shape.batch = 128;
        c.engine = self.engine;
        c.page.bench = self.page.bench;
        c
    }

    /// Smaller defaults for the CPU engine on MNIST, applied when the page falls back to it: each
    /// of the hidden layers, the batch and the training-set size that is still at its default
    /// shrinks, whatever the link chose for the others (a link with only `train=100` used to keep
    /// every default large). Returns what shrank, each as a phrase for the note the page shows
    /// under the model controls ("batch 32 (not 64)"), or `None` when nothing did.
    pub fn shrink_for_cpu(&mut self) -> Option<Vec<String>> {
        if self.data.dataset.is_2d() {
            return None;
        }
        let defaults = Self::defaults_for(self.shape.model, self.data.dataset);
        let mut shrunk = Vec::new();
        if self.shape.hidden == defaults.shape.hidden {
            self.shape.hidden = vec![CPU_HIDDEN];
            shrunk.push(format!("one hidden layer of {CPU_HIDDEN} (not {})", defaults.shape.hidden[0]));
        }
        if self.shape.batch == defaults.shape.batch {
            self.shape.batch = CPU_BATCH;
            shrunk.push(format!("batch {CPU_BATCH} (not {})", defaults.shape.batch));
        }
        if self.data.train_size == defaults.data.train_size && defaults.data.train_size > CPU_TRAIN {
            self.data.train_size = CPU_TRAIN;
            shrunk.push(format!("{CPU_TRAIN} training digits (not {})", defaults.data.train_size));
        }
        (!shrunk.is_empty()).then_some(shrunk)
    }

    /// Whether `self` needs a new model where `other` was built: its data, shape or engine differ.
    pub fn rebuilds_from(&self, other: &LabConfig) -> bool {
        self.data != other.data || self.shape != other.shape || self.engine != other.engine
    }

    /// The GAN on MNIST is not built (its generator would need a sigmoid output): such a config
    /// moves to the ring, with a note.
    pub fn check_model_fits_data(&mut self) -> Option<String> {
        if matches!(self.shape.model, ModelKind::Gan) && !self.data.dataset.is_2d() {
            self.data.dataset = Dataset::Toy(Toy2d::Ring8);
            self.data.train_size = self.data.train_size.clamp(TOY_TRAIN.0, TOY_TRAIN.1);
            return Some("the GAN trains on 2D data; switched to the ring (use the VAE-GAN for sharper digits)".into());
        }
        None
    }

    /// The run this config describes, decided as a live page decides: scores at most every second,
    /// checkpoints at most every five, early stopping (when on) after 5 evaluations without
    /// improvement, restoring the best.
    pub fn run_spec(&self) -> RunSpec {
        RunSpec { data: self.data.clone(), shape: self.shape.clone(), knobs: self.knobs, options: RunOptions::interactive(self.early_stopping) }
    }

    /// Whether a lesson hid this control.
    pub fn hidden_control(&self, key: &str) -> bool {
        self.page.hide.iter().any(|k| k == key)
    }

    /// Whether a lesson locked this control.
    pub fn locked_control(&self, key: &str) -> bool {
        self.page.lock.iter().any(|k| k == key)
    }
}

impl Shape {
    /// The VAE's (and the VAE-GAN's encoder and decoder's) shape on `dataset`: pixels are Bernoulli,
    /// 2D points Gaussian with σ = [`POINT_SIGMA`].
    pub fn vae_spec(&self, dataset: Dataset) -> VaeSpec {
        let likelihood = if dataset.is_2d() { Likelihood::Gaussian { inv_var: 1.0 / (POINT_SIGMA * POINT_SIGMA) } } else { Likelihood::Bernoulli };
        VaeSpec { data_dim: dataset.dim(), hidden: self.hidden.clone(), latent: self.latent, activation: self.activation, likelihood }
    }

    /// The VAE-GAN: the VAE of [`vae_spec`](Self::vae_spec) and a discriminator of the
    /// discriminator widths.
    pub fn vae_gan_spec(&self, dataset: Dataset) -> VaeGanSpec {
        VaeGanSpec::new(self.vae_spec(dataset), self.discriminator_widths().to_vec())
    }

    /// The GAN: the generator of the hidden widths and activation; the discriminator of its own
    /// widths, with LeakyReLU where the generator has ReLU (GAN Lab's pairing).
    pub fn gan_spec(&self, dataset: Dataset) -> GanSpec {
        let toy = GanSpec::toy_2d();
        GanSpec {
            data_dim: dataset.dim(),
            latent: self.latent,
            generator_hidden: self.hidden.clone(),
            discriminator_hidden: self.discriminator_widths().to_vec(),
            generator_activation: self.activation,
            discriminator_activation: if self.activation == Activation::Relu { toy.discriminator_activation } else { self.activation },
        }
    }

    fn discriminator_widths(&self) -> &[usize] {
        self.discriminator_hidden.as_deref().unwrap_or(&self.hidden)
    }
}

#[cfg(test)]
mod tests;
