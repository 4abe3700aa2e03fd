//! `latent train`'s flags and the run they describe. The knobs are `latent_core::Knobs` itself
//! (flattened into the flags), validated by its own `validate`; a flag that means nothing for the
//! chosen model is refused by name rather than silently ignored.

use std::path::PathBuf;

use anyhow::bail;
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, ValueEnum};
use latent_core::data::mnist;
use latent_core::data::toy2d;
use latent_core::engine::MAX_BATCH;
use latent_core::{Activation, Knobs};
use latent_session::config::{DataConfig, Dataset, EnginePref, ModelKind, Shape};
use latent_session::run::{Cadence, EarlyStop, RunOptions};
use latent_session::RunSpec;

use crate::figures::Format;

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum ModelArg {
    Vae,
    Gan,
    VaeGan,
}

impl From<ModelArg> for ModelKind {
    fn from(m: ModelArg) -> Self {
        match m {
            ModelArg::Vae => ModelKind::Vae,
            ModelArg::Gan => ModelKind::Gan,
            ModelArg::VaeGan => ModelKind::VaeGan,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum BackendArg {
    /// The GPU engine on a hardware adapter; the CPU twin where the only adapter is a software
    /// one (lavapipe emulates a GPU on the CPU, slower than the twin) or there is none.
    Auto,
    /// The GPU engine on whatever adapter wgpu finds, software ones included.
    Gpu,
    /// The CPU twin.
    Cpu,
}

impl From<BackendArg> for EnginePref {
    fn from(b: BackendArg) -> Self {
        match b {
            BackendArg::Auto => EnginePref::Auto,
            BackendArg::Gpu => EnginePref::WebGpu,
            BackendArg::Cpu => EnginePref::Cpu,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum FormatArg {
    Png,
    Svg,
    Both,
}

impl From<FormatArg> for Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Png => Format::Png,
            FormatArg::Svg => Format::Svg,
            FormatArg::Both => Format::Both,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ActivationArg {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
}

impl From<ActivationArg> for Activation {
    fn from(a: ActivationArg) -> Self {
        match a {
            ActivationArg::Relu => Activation::Relu,
            ActivationArg::LeakyRelu => Activation::LeakyRelu,
            ActivationArg::Tanh => Activation::Tanh,
            ActivationArg::Sigmoid => Activation::Sigmoid,
        }
    }
}

/// Rounds when neither --steps nor --epochs is given to the GAN: what the default GAN needs to
/// cover the ring.
const DEFAULT_GAN_ROUNDS: usize = 2000;
/// Training points of a 2D dataset when --train-size is not given.
const DEFAULT_TOY_TRAIN: usize = 2000;

/// Every flag of a training run.
#[derive(Args, Clone, Debug)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value = "vae")]
    pub(crate) model: ModelArg,
    /// mnist, or a 2D distribution: ring, grid, moons, spiral, gaussian.
    #[arg(long, default_value = "mnist")]
    pub(crate) dataset: String,
    /// Training-set size (MNIST: 10..=8000, class-balanced, default all; 2D: points drawn, default 2000).
    #[arg(long)]
    pub(crate) train_size: Option<usize>,
    /// Noise (standard deviation) of a 2D distribution.
    #[arg(long, default_value_t = toy2d::DEFAULT_NOISE)]
    pub(crate) noise: f32,
    /// Hidden widths, comma-separated: the VAE's encoder (the decoder mirrors them; default 400),
    /// or the GAN's generator (default 64,64); every discriminator's too unless --d-hidden.
    #[arg(long, value_delimiter = ',')]
    pub(crate) hidden: Option<Vec<usize>>,
    /// The generator's hidden widths (GAN; default: --hidden, else 64,64).
    #[arg(long, value_delimiter = ',')]
    pub(crate) g_hidden: Option<Vec<usize>>,
    /// The discriminator's hidden widths (GAN, VAE-GAN; default: --hidden).
    #[arg(long, value_delimiter = ',')]
    pub(crate) d_hidden: Option<Vec<usize>>,
    /// Latent size (default: VAE 20, GAN 2).
    #[arg(long)]
    pub(crate) latent: Option<usize>,
    /// Hidden-layer activation (the GAN's discriminator pairs ReLU with LeakyReLU).
    #[arg(long, value_enum, default_value = "relu")]
    pub(crate) activation: ActivationArg,
    #[arg(long, default_value_t = 128)]
    pub(crate) batch: usize,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) knobs: Knobs,
    /// Training steps (default: one epoch); for the GAN, rounds of --d-steps D steps and one G
    /// step (default 2000).
    #[arg(long, conflicts_with = "epochs")]
    pub(crate) steps: Option<usize>,
    /// Epochs over the training set.
    #[arg(long)]
    pub(crate) epochs: Option<f64>,
    /// Steps between metric rows (and held-out evaluations).
    #[arg(long, default_value_t = 50)]
    pub(crate) eval_every: usize,
    /// β warm-up: β rises linearly from 0 to --beta over this many steps (0 = off).
    #[arg(long, default_value_t = 0)]
    pub(crate) beta_warmup: u32,
    /// Early stopping: stop after this many held-out evaluations without improvement (0 = off).
    #[arg(long, default_value_t = 0)]
    pub(crate) early_stopping: u32,
    /// Smallest fall of the held-out −ELBO (nats) that early stopping counts as an improvement.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) min_delta: f64,
    /// With early stopping, keep the last parameters instead of restoring the best ones.
    #[arg(long)]
    pub(crate) no_restore_best: bool,
    /// The engine: auto picks the faster of the GPU engine and the CPU twin, and says which.
    #[arg(long, value_enum, default_value = "auto")]
    pub(crate) backend: BackendArg,
    /// Chart files (loss, kl, latent, the 2D planes): png, svg (scales on slides) or both. Image
    /// grids are always PNG.
    #[arg(long, value_enum, default_value = "png")]
    pub(crate) format: FormatArg,
    /// Output folder (created if missing).
    #[arg(long, default_value = "latent-run")]
    pub(crate) out: PathBuf,
    /// Fork the run after this many steps (a multiple of --eval-every): a branch goes on from the
    /// same weights, optimizer state and data order with the --branch knobs, and both train to
    /// the end (the branch's files in OUT/branch, both curves in OUT/fork.png).
    #[arg(long, requires = "branch")]
    pub(crate) fork_at: Option<usize>,
    /// The branch's knobs, KNOB=VALUE comma-separated: beta, l2, l1, dropout, lr, gamma, l2d, l2g
    /// or dsteps (as the page's sliders allow them).
    #[arg(long, value_delimiter = ',', requires = "fork_at")]
    pub(crate) branch: Vec<String>,
}

/// Which models each model-specific flag means something for (the rest apply to all).
const MODEL_FLAGS: [(&str, &[ModelArg]); 15] = [
    ("beta", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("l1", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("dropout", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("optimizer", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("momentum", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("beta_warmup", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("early_stopping", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("min_delta", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("no_restore_best", &[ModelArg::Vae, ModelArg::VaeGan]),
    ("gamma", &[ModelArg::VaeGan]),
    ("l2_g", &[ModelArg::Gan]),
    ("g_hidden", &[ModelArg::Gan]),
    ("d_steps", &[ModelArg::Gan]),
    ("l2_d", &[ModelArg::Gan, ModelArg::VaeGan]),
    ("lr_d", &[ModelArg::Gan, ModelArg::VaeGan]),
];

fn model_names(models: &[ModelArg]) -> String {
    let names: Vec<&str> = models.iter().map(|&m| ModelKind::from(m).name()).collect();
    format!("the {}", names.join(" and the "))
}

impl TrainArgs {
    /// Fails on a flag given on the command line (`matches`) that the chosen model does not use.
    pub(crate) fn check_flags_apply(&self, matches: &ArgMatches) -> anyhow::Result<()> {
        for (id, models) in MODEL_FLAGS {
            let given = matches.value_source(id) == Some(ValueSource::CommandLine);
            if given && !models.contains(&self.model) {
                let flag = id.replace('_', "-");
                bail!("--{flag} applies to {}, not the {}", model_names(models), ModelKind::from(self.model).name());
            }
        }
        Ok(())
    }

    /// The dataset named by --dataset.
    pub(crate) fn dataset(&self) -> anyhow::Result<Dataset> {
        let dataset = match Dataset::from_key(&self.dataset) {
            Some(dataset @ (Dataset::Mnist | Dataset::Toy(_))) => dataset,
            _ => bail!("unknown dataset `{}`: use mnist, ring, grid, moons, spiral or gaussian", self.dataset),
        };
        if self.model == ModelArg::Gan && !dataset.is_2d() {
            bail!(
                "--model gan trains on the 2D datasets (ring, grid, moons, spiral, gaussian), not `{}`; for MNIST use --model vae or --model vae-gan",
                self.dataset
            );
        }
        Ok(dataset)
    }

    /// The run the flags describe, every default resolved and every value checked (a bad one is
    /// refused naming its flag).
    pub(crate) fn run_spec(&self) -> anyhow::Result<RunSpec> {
        if let Err(e) = self.knobs.validate() {
            bail!("--{e}");
        }
        if self.batch == 0 || self.batch > MAX_BATCH {
            bail!("--batch must be in 1..={MAX_BATCH}, got {}", self.batch);
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            bail!("--noise must be a finite number ≥ 0, got {}", self.noise);
        }
        if self.eval_every == 0 {
            bail!("--eval-every must be at least 1");
        }
        let dataset = self.dataset()?;
        let gan = self.model == ModelArg::Gan;
        let toy = latent_core::model::GanSpec::toy_2d();
        let shape = Shape {
            model: self.model.into(),
            hidden: self.g_hidden.clone().or_else(|| self.hidden.clone()).unwrap_or_else(|| if gan { toy.generator_hidden } else { vec![400] }),
            discriminator_hidden: self.d_hidden.clone(),
            activation: self.activation.into(),
            latent: self.latent.unwrap_or(if gan { toy.latent } else { 20 }),
            batch: self.batch,
            seed: self.seed,
        };
        let train_size = match dataset {
            Dataset::Mnist => self.train_size.unwrap_or(latent_session::config::MNIST_TRAIN.1),
            _ => self.train_size.unwrap_or(DEFAULT_TOY_TRAIN),
        };
        let early_stopping =
            (self.early_stopping > 0).then_some(EarlyStop { patience: self.early_stopping, min_delta: self.min_delta, restore_best: !self.no_restore_best });
        Ok(RunSpec {
            data: DataConfig { dataset, train_size, noise: self.noise, drawn: Vec::new() },
            shape,
            knobs: self.knobs,
            options: RunOptions {
                early_stopping,
                beta_warmup: self.beta_warmup,
                evaluation: Cadence::Always,
                checkpoints: Cadence::Never,
                held_out_digits: mnist::DEFAULT_TEST_COUNT,
            },
        })
    }

    /// The run's length: --steps, else --epochs of the training set, else one epoch (the GAN:
    /// [`DEFAULT_GAN_ROUNDS`]). An epoch of the GAN is every training row seen once by D.
    pub(crate) fn steps(&self, train_rows: usize) -> anyhow::Result<usize> {
        let per_epoch =
            if self.model == ModelArg::Gan { train_rows.div_ceil(self.batch * self.knobs.d_steps as usize) } else { train_rows.div_ceil(self.batch) };
        let default = if self.model == ModelArg::Gan { DEFAULT_GAN_ROUNDS } else { per_epoch };
        Ok(match (self.steps, self.epochs) {
            (Some(s), _) => s,
            (None, Some(e)) if e.is_finite() && e > 0.0 => (e * per_epoch as f64).ceil() as usize,
            (None, Some(e)) => bail!("--epochs must be > 0, got {e}"),
            (None, None) => default,
        })
    }
}

/// Every flag of a sweep: the base run's (as `latent train`'s), the knob and its values, the folds.
#[derive(Args, Debug)]
pub struct SweepArgs {
    #[command(flatten)]
    pub(crate) run: TrainArgs,
    /// The knob to vary: beta, l2, l1, dropout, lr, gamma (VAE-GAN), l2d (the discriminator's L2)
    /// or l2g (the GAN's generator's).
    #[arg(long)]
    pub(crate) knob: String,
    /// The values to try, comma-separated (at most 12).
    #[arg(long, value_delimiter = ',', conflicts_with = "range", required_unless_present = "range")]
    pub(crate) values: Option<Vec<f32>>,
    /// `lo,hi`: --count values from lo to hi, evenly spaced on a log scale (--linear: a linear one).
    #[arg(long, value_delimiter = ',', num_args = 1, requires = "count")]
    pub(crate) range: Option<Vec<f32>>,
    /// How many values --range gives (2..=12).
    #[arg(long, requires = "range")]
    pub(crate) count: Option<usize>,
    /// --range on a linear scale.
    #[arg(long, requires = "range")]
    pub(crate) linear: bool,
    /// 1: score each value on the held-out split; K ≥ 2: K-fold cross-validation over the
    /// training set (the held-out split is then scored only by the refit at the chosen value).
    #[arg(long, default_value_t = 1)]
    pub(crate) folds: usize,
    /// A GAN's second knob, crossed with --knob into a grid (l2d against --knob l2g), scored by
    /// modes covered and MMD² to the real points.
    #[arg(long, requires = "across_values")]
    pub(crate) across: Option<String>,
    /// The second knob's values, comma-separated (at most 12).
    #[arg(long, value_delimiter = ',', requires = "across")]
    pub(crate) across_values: Option<Vec<f32>>,
}
