//! The playground's whole state as one value: every control and the seed. It serialises to a URL
//! query and parses back through one validated path ([`LabConfig::from_query`]): unknown keys are
//! ignored, bad values fall back to the default and out-of-range values are clamped, each with a
//! note the page shows; hostile sizes never reach an allocation.

use latent_core::data::mnist;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::vae_gan::MAX_GAMMA;
use latent_core::model::{GanKnobs, GanSpec, Likelihood, TrainKnobs, VaeGanKnobs, VaeSpec};
use latent_core::ops::optimizer::AdamConfig;
use latent_core::Activation;

pub mod knob;
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

/// Every control of the playground. Shape fields rebuild the model when they change
/// ([`LabConfig::shape`]); the rest are knobs that act on the running model.
#[derive(Clone, Debug, PartialEq)]
pub struct LabConfig {
    pub model: ModelKind,
    pub dataset: Dataset,
    pub train_size: usize,
    /// Noise σ of a 2D distribution.
    pub noise: f32,
    pub seed: u64,
    /// The user's points ([`Dataset::Drawn`]), at most [`MAX_DRAWN`], within the 2D view.
    pub drawn: Vec<[f32; 2]>,
    /// Hidden widths: the VAE's encoder (the decoder mirrors them), or both GAN networks and the
    /// VAE-GAN's discriminator.
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub latent: usize,
    pub batch: usize,
    pub beta: f32,
    pub l2: f32,
    pub l1: f32,
    pub dropout: f32,
    pub lr: f32,
    /// D steps per G step (GAN).
    pub d_steps: usize,
    /// Adversarial weight γ (VAE-GAN).
    pub gamma: f32,
    pub early_stopping: bool,
    pub engine: EnginePref,
    /// Compact page for an iframe: no header or article text.
    pub embed: bool,
    /// Start training as soon as the model is built.
    pub autoplay: bool,
    /// Controls a lesson hides, and controls it shows but locks (by [`Knob`] key or shape key).
    pub hide: Vec<String>,
    pub lock: Vec<String>,
    /// Benchmark mode: report figures instead of showing the playground.
    pub bench: Option<Bench>,
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

/// The fields that define the model's shape and data: a change rebuilds the model.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub model: ModelKind,
    pub dataset: Dataset,
    pub train_size: usize,
    pub noise_bits: u32,
    pub seed: u64,
    pub drawn_bits: Vec<[u32; 2]>,
    pub hidden: Vec<usize>,
    pub activation: Activation,
    pub latent: usize,
    pub batch: usize,
    pub engine: EnginePref,
}

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
        Self {
            model,
            dataset,
            train_size: 2000,
            noise: if dataset == Dataset::Drawn { 0.15 } else { toy2d::DEFAULT_NOISE },
            seed: 1,
            drawn: Vec::new(),
            hidden: if gan_like { vec![64, 64] } else { vec![256] },
            activation: Activation::Relu,
            latent: if gan_like { 2 } else { 8 },
            batch: 64,
            beta: 1.0,
            l2: 0.0,
            l1: 0.0,
            dropout: 0.0,
            lr: 1e-3,
            d_steps: 1,
            gamma: if matches!(model, ModelKind::VaeGan) { VaeGanKnobs::default().gamma } else { 0.0 },
            early_stopping: false,
            engine: EnginePref::Auto,
            embed: false,
            autoplay: false,
            hide: Vec::new(),
            lock: Vec::new(),
            bench: None,
        }
    }

    /// The fixed configuration a benchmark trains: the reference VAE (784-400-20, ReLU, Bernoulli,
    /// Adam 10⁻³, batch 128, the 8,000 training digits), or for `model=gan` GAN Lab's kind of GAN
    /// (2-64-64-2 against 2-64-64-1, batch 128, on the ring). Only the engine choice is kept.
    pub fn benchmark(&self) -> LabConfig {
        let mut c = Self::defaults_for(
            if self.model == ModelKind::Gan { ModelKind::Gan } else { ModelKind::Vae },
            if self.model == ModelKind::Gan { Dataset::Toy(Toy2d::Ring8) } else { Dataset::Mnist },
        );
        if c.model == ModelKind::Vae {
            (c.hidden, c.latent, c.train_size) = (vec![400], 20, MNIST_TRAIN.1);
        }
        c.batch = 128;
        c.engine = self.engine;
        c.bench = self.bench;
        c
    }

    /// Smaller shapes for the CPU engine, applied when the page falls back to it and the URL did
    /// not choose a shape.
    pub fn shrink_for_cpu(&mut self) {
        let defaults = Self::defaults_for(self.model, self.dataset);
        let chosen = self.hidden != defaults.hidden || self.batch != defaults.batch || self.train_size != defaults.train_size;
        if !self.dataset.is_2d() && !chosen {
            self.hidden = vec![64];
            self.batch = 32;
            self.train_size = self.train_size.min(1000);
        }
    }

    pub fn shape(&self) -> Shape {
        Shape {
            model: self.model,
            dataset: self.dataset,
            train_size: self.train_size,
            noise_bits: self.noise.to_bits(),
            seed: self.seed,
            drawn_bits: self.drawn.iter().map(|p| [p[0].to_bits(), p[1].to_bits()]).collect(),
            hidden: self.hidden.clone(),
            activation: self.activation,
            latent: self.latent,
            batch: self.batch,
            engine: self.engine,
        }
    }

    /// The GAN on MNIST is not built (its generator would need a sigmoid output): such a config
    /// moves to the ring, with a note.
    pub fn check_model_fits_data(&mut self) -> Option<String> {
        if matches!(self.model, ModelKind::Gan) && !self.dataset.is_2d() {
            self.dataset = Dataset::Toy(Toy2d::Ring8);
            self.train_size = self.train_size.clamp(TOY_TRAIN.0, TOY_TRAIN.1);
            return Some("the GAN trains on 2D data; switched to the ring (use the VAE-GAN for sharper digits)".into());
        }
        None
    }

    /// The VAE's (and the VAE-GAN's encoder and decoder's) shape.
    pub fn vae_spec(&self) -> VaeSpec {
        let likelihood = if self.dataset.is_2d() { Likelihood::Gaussian { inv_var: 1.0 / (POINT_SIGMA * POINT_SIGMA) } } else { Likelihood::Bernoulli };
        VaeSpec { data_dim: self.dataset.dim(), hidden: self.hidden.clone(), latent: self.latent, activation: self.activation, likelihood }
    }

    pub fn gan_spec(&self) -> GanSpec {
        let toy = GanSpec::toy_2d();
        GanSpec {
            data_dim: self.dataset.dim(),
            latent: self.latent,
            generator_hidden: self.hidden.clone(),
            discriminator_hidden: self.hidden.clone(),
            generator_activation: self.activation,
            discriminator_activation: if self.activation == Activation::Relu { toy.discriminator_activation } else { self.activation },
        }
    }

    pub fn vae_knobs(&self) -> TrainKnobs {
        TrainKnobs { beta: self.beta, l1: self.l1, l2: self.l2, dropout: self.dropout, adam: AdamConfig { lr: self.lr, ..AdamConfig::default() }, sgd: None }
    }

    /// The VAE-GAN's knobs (a plain VAE has γ = 0, which makes it exactly the VAE).
    pub fn vae_gan_knobs(&self) -> VaeGanKnobs {
        let defaults = VaeGanKnobs::default();
        VaeGanKnobs {
            vae: self.vae_knobs(),
            gamma: if matches!(self.model, ModelKind::VaeGan) { self.gamma.clamp(0.0, MAX_GAMMA) } else { 0.0 },
            l2_discriminator: self.l2,
            adam_discriminator: AdamConfig { lr: self.lr, ..defaults.adam_discriminator },
        }
    }

    pub fn gan_knobs(&self) -> GanKnobs {
        let adam = AdamConfig { lr: self.lr, ..GanKnobs::default().adam_generator };
        GanKnobs { l2_generator: self.l2, l2_discriminator: self.l2, adam_generator: adam, adam_discriminator: adam }
    }

    /// Whether a lesson hid this control.
    pub fn hidden_control(&self, key: &str) -> bool {
        self.hide.iter().any(|k| k == key)
    }

    /// Whether a lesson locked this control.
    pub fn locked_control(&self, key: &str) -> bool {
        self.lock.iter().any(|k| k == key)
    }
}

#[cfg(test)]
mod tests;
