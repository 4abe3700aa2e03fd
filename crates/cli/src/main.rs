//! `latent`: Latent Lab's native command line: training runs with figures, adapter info, benchmarks.

mod args;
mod bench;
mod bench_cpu;
mod bench_sweep;
mod figures;
mod fork;
mod run_figures;
mod run_output;
mod sweep;
mod train;

use anyhow::{bail, Context as _};
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};

use latent_gpu::{GpuContext, Kernels, MatmulVariant};

#[derive(Parser)]
#[command(name = "latent", version, about = "Latent Lab on the command line (native wgpu: Vulkan/Metal/DX12)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the GPU adapter wgpu picks and whether every kernel compiles on it.
    Info,
    /// Train a model and write metrics.csv, config.json and PNG figures to an output folder
    /// (with --fork-at and --branch, a branch of the run beside it).
    Train(Box<args::TrainArgs>),
    /// Train a knob's grid of values side by side (K-fold cross-validation with --folds) and write
    /// sweep.csv, curve.csv, kl_per_dim.csv and validation_curve.png.
    Sweep(Box<args::SweepArgs>),
    /// Dataset helpers.
    #[command(subcommand)]
    Data(Data),
    /// Benchmarks that print figures.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Subcommand)]
enum Bench {
    /// Matmul GFLOP/s for the products of one reference-VAE step, per kernel variant.
    Matmul {
        /// Variants to time (default: every one this adapter runs).
        #[arg(long, value_enum, value_delimiter = ',')]
        variants: Vec<Variant>,
        /// Minimum seconds per measurement.
        #[arg(long, default_value_t = 0.5)]
        min_seconds: f64,
    },
    /// K models' products (a sweep's): one dispatch per model against one batched dispatch, for
    /// the products of a ring 2D VAE step and of a reference VAE step; then K models' whole
    /// training steps (ring VAE, reference VAE, ring GAN), built apart against one batched model;
    /// then a sweep of K VAEs (at most 12) as `latent sweep` trains it, member by member against
    /// batched.
    Models {
        /// Models per product.
        #[arg(long, default_value_t = 8)]
        models: usize,
        /// Minimum seconds per measurement.
        #[arg(long, default_value_t = 0.5)]
        min_seconds: f64,
    },
    /// The native CPU twin: the reference VAE with the browser's portable products and with the
    /// native ones on one thread and on every core, and a sweep of models trained side by side.
    Cpu {
        /// Steps timed per figure (and per model of the sweep).
        #[arg(long, default_value_t = 40)]
        steps: usize,
        /// Models in the sweep.
        #[arg(long, default_value_t = 8)]
        models: usize,
        /// Print the figures as one JSON line (for scripts/bench-vs-jax).
        #[arg(long)]
        json: bool,
    },
    /// Training speed of the reference VAE (784-400-20, batch 128) on MNIST and of the 2D GAN, GPU engine
    /// and CPU twin.
    Train {
        /// Steps timed per engine (after 5 warm-up steps).
        #[arg(long, default_value_t = 50)]
        steps: usize,
    },
}

#[derive(Subcommand)]
enum Data {
    /// Print the MNIST split as JSON: `train` in the order `latent train` visits it, and `test`.
    /// The reference scripts (scripts/reference/) read it so both frameworks see the same data.
    MnistSplit {
        /// Training-set size (class-balanced subset of the 8,000).
        #[arg(long, default_value_t = 8000)]
        train_size: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum Variant {
    Blocked,
    Tiled,
    Subgroup,
    Naive,
}

impl From<Variant> for MatmulVariant {
    fn from(v: Variant) -> Self {
        match v {
            Variant::Blocked => MatmulVariant::Blocked,
            Variant::Tiled => MatmulVariant::Tiled,
            Variant::Subgroup => MatmulVariant::Subgroup,
            Variant::Naive => MatmulVariant::Naive,
        }
    }
}

async fn kernels() -> anyhow::Result<Kernels> {
    let ctx = GpuContext::new().await.context("opening a GPU adapter (install a Vulkan driver; lavapipe works without a GPU)")?;
    Kernels::new(&ctx).await.with_context(|| format!("compiling kernels on {}", ctx.summary()))
}

/// A benchmark's --min-seconds: a measurement long enough to mean something, short enough to finish.
fn check_min_seconds(min_seconds: f64) -> anyhow::Result<()> {
    if !(min_seconds > 0.0 && min_seconds <= 60.0) {
        bail!("--min-seconds must be in (0, 60], got {min_seconds}");
    }
    Ok(())
}

/// Runs the command; `matches` tells which flags were given on the command line.
async fn run(cli: Cli, matches: &ArgMatches) -> anyhow::Result<()> {
    match cli.command {
        Command::Info => {
            let kernels = kernels().await?;
            println!("adapter: {}", kernels.context().summary());
            match kernels.context().subgroup_size() {
                Some(size) => println!("subgroups: {size} invocations"),
                None => println!("subgroups: none usable"),
            }
            println!("kernels: {} shaders compiled; matmul variant {:?}", latent_gpu::shaders::ALL.len(), kernels.preferred_matmul());
        }
        Command::Train(args) => train::run(*args, matches.subcommand_matches("train").unwrap_or(matches)).await?,
        Command::Sweep(args) => sweep::run(*args, matches.subcommand_matches("sweep").unwrap_or(matches)).await?,
        Command::Data(Data::MnistSplit { train_size }) => println!("{}", train::mnist_split_json(train_size)?),
        Command::Bench(Bench::Train { steps }) => bench::train(steps.clamp(1, 100_000)).await?,
        Command::Bench(Bench::Cpu { steps, models, json }) => bench_cpu::cpu(steps.clamp(1, 100_000), models.clamp(1, 64), json)?,
        Command::Bench(Bench::Models { models, min_seconds }) => {
            check_min_seconds(min_seconds)?;
            if !(1..=64).contains(&models) {
                bail!("--models must be 1 to 64, got {models}");
            }
            let kernels = kernels().await?;
            print!("{}", latent_gpu::bench::models_table(&kernels, models, min_seconds).await?);
            print!("{}", latent_gpu::bench::steps_table(&kernels, models, min_seconds).await?);
            print!("{}", bench_sweep::sweep_table(&kernels, models, min_seconds).await?);
        }
        Command::Bench(Bench::Matmul { variants, min_seconds }) => {
            check_min_seconds(min_seconds)?;
            let kernels = kernels().await?;
            let variants: Vec<MatmulVariant> = if variants.is_empty() { kernels.available_matmuls() } else { variants.into_iter().map(Into::into).collect() };
            println!("preferred variant on this adapter: {:?}", kernels.preferred_matmul());
            print!("{}", latent_gpu::bench::vae_step_table(&kernels, &variants, min_seconds).await?);
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    pollster::block_on(run(cli, &matches))
}
