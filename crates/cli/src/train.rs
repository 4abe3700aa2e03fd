//! `latent train`: one model, every knob a flag, figures and metrics in an output folder.

use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use latent_core::data::mnist::{self, Mnist};
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::{
    latent_views, BetaWarmup, EarlyStopping, Likelihood, StopDecision, TrainKnobs, VaeCpu, VaeGanCpu, VaeGanKnobs, VaeGanMetrics, VaeGanSpec, VaeSpec,
};
use latent_core::ops::gather::gather_f32;
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};
use latent_core::rng::fold_seed;
use latent_core::{Activation, Matrix};
use latent_gpu::{EvalSplit, GpuDataset, GpuVae, GpuVaeGan, Kernels};
use latent_session::{RunData, VaeEngine};

use crate::figures;
use crate::gan_run::{self, GanArgs};
use crate::run_output::{self, json_list, json_object, json_string, Row};

/// The 10,000 MNIST digits shipped with the project (see www/assets/README.md).
const MNIST_ASSET: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Increments of β's warm-up ramp (each a knob change between submissions).
const WARMUP_LEVELS: u32 = 20;
/// Observation noise σ of the Gaussian likelihood on 2D data (inverse variance 1/σ²).
const POINT_SIGMA: f32 = 0.1;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum ModelArg {
    Vae,
    Gan,
    VaeGan,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum BackendArg {
    Gpu,
    Cpu,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub(crate) enum OptimizerArg {
    Adam,
    Sgd,
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

/// Every knob of a training run.
#[derive(Args, Debug)]
pub struct TrainArgs {
    #[arg(long, value_enum, default_value = "vae")]
    pub(crate) model: ModelArg,
    /// mnist, or a 2D distribution: ring, grid, moons, spiral, gaussian.
    #[arg(long, default_value = "mnist")]
    pub(crate) dataset: String,
    /// Training-set size (MNIST: 10..=8000, class-balanced; 2D: points drawn).
    #[arg(long)]
    pub(crate) train_size: Option<usize>,
    /// Noise (standard deviation) of a 2D distribution.
    #[arg(long, default_value_t = toy2d::DEFAULT_NOISE)]
    pub(crate) noise: f32,
    /// KL weight β (0 allowed).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) beta: f32,
    /// L1 weight penalty λ₁ (weights only).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) l1: f32,
    /// L2 weight penalty λ₂ (weights only).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) l2: f32,
    /// Dropout probability on every hidden layer while training (0 to 0.9).
    #[arg(long, default_value_t = 0.0)]
    pub(crate) dropout: f32,
    /// Hidden widths, comma-separated: the VAE's encoder (the decoder mirrors them; default 400),
    /// or both GAN networks (default 64,64; see --g-hidden, --d-hidden).
    #[arg(long, value_delimiter = ',')]
    pub(crate) hidden: Option<Vec<usize>>,
    /// Latent size (default: VAE 20, GAN 2).
    #[arg(long)]
    pub(crate) latent: Option<usize>,
    /// Hidden-layer activation (default: VAE relu; GAN relu in G, leaky-relu in D).
    #[arg(long, value_enum)]
    pub(crate) activation: Option<ActivationArg>,
    /// Adam learning rate (GAN: G's, and D's unless --lr-d).
    #[arg(long, default_value_t = 1e-3)]
    pub(crate) lr: f32,
    /// VAE and VAE-GAN: the encoder's and decoder's optimizer (the GAN uses Adam).
    #[arg(long, value_enum, default_value = "adam")]
    pub(crate) optimizer: OptimizerArg,
    /// SGD's momentum μ in [0, 1) (0 = plain SGD).
    #[arg(long, default_value_t = 0.9)]
    pub(crate) momentum: f32,
    #[arg(long, default_value_t = 128)]
    pub(crate) batch: usize,
    /// Training steps (default: one epoch); for the GAN, rounds of --d-steps D steps and one G
    /// step (default 2000).
    #[arg(long, conflicts_with = "epochs")]
    pub(crate) steps: Option<usize>,
    /// Epochs over the training set.
    #[arg(long)]
    pub(crate) epochs: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Steps between metric rows (and held-out evaluations).
    #[arg(long, default_value_t = 50)]
    pub(crate) eval_every: usize,
    /// VAE β warm-up: β rises linearly from 0 to --beta over this many steps (0 = off).
    #[arg(long, default_value_t = 0)]
    pub(crate) beta_warmup: u32,
    /// VAE early stopping: stop after this many held-out evaluations without improvement (0 = off).
    #[arg(long, default_value_t = 0)]
    pub(crate) early_stopping: u32,
    /// Smallest fall of the held-out −ELBO (nats) that early stopping counts as an improvement.
    #[arg(long, default_value_t = 0.0)]
    pub(crate) min_delta: f64,
    /// With early stopping, keep the last parameters instead of restoring the best ones.
    #[arg(long)]
    pub(crate) no_restore_best: bool,
    /// VAE-GAN: weight γ of the adversarial loss on the decoder (default 1; 0 = the plain VAE).
    /// The discriminator takes --d-hidden (default: --hidden), --lr-d and --l2-d.
    #[arg(long)]
    pub(crate) gamma: Option<f32>,
    #[arg(long, value_enum, default_value = "gpu")]
    pub(crate) backend: BackendArg,
    /// Output folder (created if missing).
    #[arg(long, default_value = "latent-run")]
    pub(crate) out: PathBuf,
    #[command(flatten)]
    pub(crate) gan: GanArgs,
}

/// The project's MNIST split: (all digits, training indices in visiting order, test indices).
fn mnist_split(train_size: Option<usize>) -> anyhow::Result<(Mnist, Vec<u32>, Vec<u32>)> {
    let data = Mnist::parse(MNIST_ASSET)?;
    let split = data.split(mnist::DEFAULT_TEST_COUNT, mnist::DEFAULT_SPLIT_SEED)?;
    let train = split.train_subset(train_size.unwrap_or(split.train.len()), data.labels())?;
    Ok((data, train, split.test))
}

/// `{"train": [...], "test": [...]}` for the reference scripts.
pub fn mnist_split_json(train_size: usize) -> anyhow::Result<String> {
    let (_, train, test) = mnist_split(Some(train_size))?;
    let list = |v: &[u32]| v.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    Ok(format!("{{\"train\": [{}], \"test\": [{}]}}", list(&train), list(&test)))
}

/// The run's rows: MNIST (the shipped asset) or a 2D distribution.
fn load_run_data(args: &TrainArgs) -> anyhow::Result<RunData> {
    if args.dataset == "mnist" {
        return Ok(RunData::mnist(MNIST_ASSET, args.train_size, mnist::DEFAULT_TEST_COUNT)?);
    }
    let Some(dist) = Toy2d::from_key(&args.dataset) else {
        bail!("unknown dataset `{}`: use mnist, ring, grid, moons, spiral or gaussian", args.dataset);
    };
    Ok(RunData::toy(dist, args.train_size.unwrap_or(2000), args.noise, args.seed)?)
}

/// Opens the GPU and compiles every kernel, saying which adapter the run trains on.
pub(crate) async fn open_gpu() -> anyhow::Result<Kernels> {
    let ctx = latent_gpu::GpuContext::new().await.context("no GPU adapter (try --backend cpu, or install a Vulkan driver such as lavapipe)")?;
    eprintln!("engine: {}", ctx.summary());
    Ok(Kernels::new(&ctx).await?)
}

/// The VAE-GAN's extra knobs from the flags: γ, and D's L2 and Adam (D's learning rate defaults
/// to --lr, with the GAN's β₁ = 0.5).
fn vae_gan_knobs(args: &TrainArgs, vae: TrainKnobs) -> VaeGanKnobs {
    let defaults = VaeGanKnobs::default();
    VaeGanKnobs {
        vae,
        gamma: args.gamma.unwrap_or(if matches!(args.model, ModelArg::VaeGan) { defaults.gamma } else { 0.0 }),
        l2_discriminator: args.gan.l2_d.unwrap_or(args.l2),
        adam_discriminator: AdamConfig { lr: args.gan.lr_d.unwrap_or(args.lr), ..defaults.adam_discriminator },
    }
}

async fn build_engine(args: &TrainArgs, spec: &VaeSpec, data: &RunData, knobs: VaeGanKnobs) -> anyhow::Result<VaeEngine> {
    let d_hidden = matches!(args.model, ModelArg::VaeGan).then(|| args.gan.d_hidden.clone().unwrap_or_else(|| spec.hidden.clone()));
    let kernels = match args.backend {
        BackendArg::Cpu => None,
        BackendArg::Gpu => Some(open_gpu().await?),
    };
    Ok(VaeEngine::build(kernels.as_ref(), spec, d_hidden, data, args.batch, args.seed, knobs, None)?)
}

fn check_args(args: &TrainArgs) -> anyhow::Result<()> {
    if let Some(gamma) = args.gamma.filter(|g| !(0.0..=latent_core::model::vae_gan::MAX_GAMMA).contains(g)) {
        bail!("--gamma must be in [0, {}], got {gamma}", latent_core::model::vae_gan::MAX_GAMMA);
    }
    if args.gamma.is_some() && !matches!(args.model, ModelArg::VaeGan) {
        bail!("--gamma is the VAE-GAN's adversarial weight; add --model vae-gan");
    }
    for (name, v) in [("--beta", args.beta), ("--l1", args.l1), ("--l2", args.l2), ("--noise", args.noise)] {
        if !(v.is_finite() && v >= 0.0) {
            bail!("{name} must be a finite number ≥ 0, got {v}");
        }
    }
    if !(0.0..=latent_core::model::vae::MAX_DROPOUT).contains(&args.dropout) {
        bail!("--dropout must be in [0, {}], got {}", latent_core::model::vae::MAX_DROPOUT, args.dropout);
    }
    if !(args.lr.is_finite() && args.lr > 0.0 && args.lr <= 1.0) {
        bail!("--lr must be in (0, 1], got {}", args.lr);
    }
    if !(0.0..1.0).contains(&args.momentum) {
        bail!("--momentum must be in [0, 1), got {}", args.momentum);
    }
    if args.batch == 0 || args.batch > 4096 {
        bail!("--batch must be in 1..=4096, got {}", args.batch);
    }
    if args.eval_every == 0 {
        bail!("--eval-every must be at least 1");
    }
    Ok(())
}

/// The run's length: `--steps`, else `--epochs` of `steps_per_epoch`, else `default`.
pub(crate) fn resolve_steps(args: &TrainArgs, steps_per_epoch: usize, default: usize) -> anyhow::Result<usize> {
    Ok(match (args.steps, args.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) if e.is_finite() && e > 0.0 => (e * steps_per_epoch as f64).ceil() as usize,
        (None, Some(e)) => bail!("--epochs must be > 0, got {e}"),
        (None, None) => default,
    })
}

/// Loads the run's data and checks that the held-out set has a whole batch.
pub(crate) fn load_data(args: &TrainArgs) -> anyhow::Result<RunData> {
    let data = load_run_data(args)?;
    if data.test.len() < args.batch {
        bail!("the held-out set ({} rows) is smaller than one batch ({})", data.test.len(), args.batch);
    }
    Ok(data)
}

/// Says where the run went, and fails with advice if it diverged.
pub(crate) fn finish(out: &std::path::Path, diverged: Option<usize>, advice: &str) -> anyhow::Result<()> {
    eprintln!("wrote {}", out.display());
    match diverged {
        Some(step) => bail!("training diverged by step {step} (a loss became NaN or infinite); {advice}"),
        None => Ok(()),
    }
}

pub async fn run(args: TrainArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    if matches!(args.model, ModelArg::Gan) {
        return gan_run::run(&args).await;
    }
    let data = load_data(&args)?;
    let likelihood = if data.dim == 2 { Likelihood::Gaussian { inv_var: 1.0 / (POINT_SIGMA * POINT_SIGMA) } } else { Likelihood::Bernoulli };
    let hidden = args.hidden.clone().unwrap_or_else(|| vec![400]);
    let spec = VaeSpec {
        data_dim: data.dim,
        hidden,
        latent: args.latent.unwrap_or(20),
        activation: args.activation.unwrap_or(ActivationArg::Relu).into(),
        likelihood,
    };
    let sgd = (args.optimizer == OptimizerArg::Sgd).then_some(SgdConfig { lr: args.lr, momentum: args.momentum });
    let knobs = vae_gan_knobs(
        &args,
        TrainKnobs { beta: args.beta, l1: args.l1, l2: args.l2, dropout: args.dropout, adam: AdamConfig { lr: args.lr, ..AdamConfig::default() }, sgd },
    );
    let steps_per_epoch = data.train.len().div_ceil(args.batch);
    let steps = resolve_steps(&args, steps_per_epoch, steps_per_epoch)?;
    run_output::prepare(&args.out, &config_json(&args, &spec, steps, data.train.len()))?;

    let mut engine = build_engine(&args, &spec, &data, knobs).await?;
    let seed = fold_seed(args.seed);
    let adversarial = matches!(args.model, ModelArg::VaeGan);
    let mut header = String::from("step,beta,reconstruction,kl,l2_term,l1_term,total,train_negative_elbo,test_negative_elbo");
    if adversarial {
        header.push_str(",generator_loss,d_loss_real,d_loss_fake,d_acc_real,d_acc_fake");
    }
    let warmup = BetaWarmup { target: args.beta, steps: args.beta_warmup };
    let mut stopping = (args.early_stopping > 0).then(|| EarlyStopping::new(args.early_stopping, args.min_delta));
    let mut saved = None;
    let mut last_step = 0;
    let diverged = run_output::drive(&args.out, &header, steps, args.eval_every, async |done, chunk| {
        // β is held per submission; during warm-up a chunk is split at each of the ramp's increments.
        let (mut at, mut m, mut now) = (done - chunk, VaeGanMetrics::default(), knobs);
        while at < done {
            let n = (done - at).min(usize::try_from(warmup.chunk_from(at as u64, WARMUP_LEVELS)).unwrap_or(usize::MAX));
            now.vae.beta = warmup.beta_for_chunk(at as u64, WARMUP_LEVELS);
            engine.set_knobs(now)?;
            m = engine.train(&data, n, args.batch, now).await?;
            at += n;
        }
        last_step = done;
        let train = engine.evaluate(&data, EvalSplit::Train, args.batch, seed).await?;
        let test = engine.evaluate(&data, EvalSplit::Test, args.batch, seed).await?;
        let finite = m.is_finite() && test.is_finite();
        let stop = match stopping.as_mut().filter(|_| finite).map(|s| s.observe(done as u64, test)) {
            Some(StopDecision::Improved) => {
                engine.checkpoint(&mut saved, false)?;
                false
            }
            Some(StopDecision::Stop) => true,
            Some(StopDecision::Wait) | None => false,
        };
        let v = &m.vae;
        let mut csv = format!("{done},{},{},{},{},{},{},{train},{test}", now.vae.beta, v.reconstruction, v.kl, v.l2_term, v.l1_term, m.total(now));
        if adversarial {
            let d = &m.discriminator;
            csv.push_str(&format!(",{},{},{},{},{}", m.generator_loss, d.loss_real, d.loss_fake, d.accuracy_real, d.accuracy_fake));
        }
        Ok(Row { csv, message: format!("loss {:.2}  −ELBO train {train:.2} test {test:.2}", m.total(now)), finite, stop })
    })
    .await?;
    if let Some((best_step, best)) = stopping.as_ref().and_then(EarlyStopping::best) {
        let restore = !args.no_restore_best;
        if restore {
            engine.checkpoint(&mut saved, true)?;
        }
        let verb = if last_step < steps { "stopped early" } else { "finished" };
        eprintln!("{verb} at step {last_step}; best held-out −ELBO {best:.2} at step {best_step}{}", if restore { " (its parameters restored)" } else { "" });
    }
    write_figures(&engine, &data, &args, seed, diverged.is_none()).await?;
    finish(&args.out, diverged, &format!("lower --lr (now {})", args.lr))
}

/// Side of the decoded manifold grid and the extent of the codes it covers (±2.5 σ of the prior).
const MANIFOLD_SIDE: usize = 16;
const MANIFOLD_EXTENT: f32 = 2.5;
/// Interpolation strips: pairs of held-out digits and steps between them.
const INTERPOLATION_PAIRS: usize = 5;
const INTERPOLATION_STEPS: usize = 10;

/// The latent space: codes of held-out rows coloured by class (`latent.png`), and for images the
/// decoder over a grid in the two most-varied dimensions (`manifold.png`) and along lines between
/// digits of neighbouring classes (`interpolation.png`).
async fn write_latent_figures(engine: &VaeEngine, data: &RunData, args: &TrainArgs, latent: usize) -> anyhow::Result<()> {
    let means = engine.latent_means(data, args.batch).await?;
    let dims = latent_views::most_varied_dims(&means, latent);
    let points: Vec<[f32; 2]> = means.chunks_exact(latent).map(|m| [m[dims.0], m[dims.1]]).collect();
    let labels = data.test_labels(points.len());
    figures::class_scatter(&args.out.join("latent.png"), &points, &labels, 512)?;
    if data.dim != mnist::PIXELS {
        return Ok(());
    }
    let grid = engine.decode(&latent_views::manifold_grid(latent, dims, MANIFOLD_SIDE, MANIFOLD_EXTENT), latent).await?;
    let images: Vec<&[f32]> = grid.chunks_exact(data.dim).collect();
    figures::digit_grid(&args.out.join("manifold.png"), &images, mnist::IMAGE_SIDE, MANIFOLD_SIDE, 2)?;
    let mut codes = Vec::new();
    for (a, b) in latent_views::class_pairs(&labels, INTERPOLATION_PAIRS) {
        codes.extend(latent_views::interpolate(&means[a * latent..][..latent], &means[b * latent..][..latent], INTERPOLATION_STEPS));
    }
    if !codes.is_empty() {
        let strip = engine.decode(&codes, latent).await?;
        let images: Vec<&[f32]> = strip.chunks_exact(data.dim).collect();
        figures::digit_grid(&args.out.join("interpolation.png"), &images, mnist::IMAGE_SIDE, INTERPOLATION_STEPS, 3)?;
    }
    Ok(())
}

/// The run's PNGs. After a divergence the latent codes are not finite: only the sample and
/// reconstruction figures are written then, showing what the model had become.
async fn write_figures(engine: &VaeEngine, data: &RunData, args: &TrainArgs, seed: u32, finite: bool) -> anyhow::Result<()> {
    let latent = args.latent.unwrap_or(20);
    if finite {
        write_latent_figures(engine, data, args, latent).await?;
    }
    let (samples, inputs, recons) = engine.figures(data, args.batch, latent, seed).await?;
    let rows_of = |v: &[f32]| v.chunks(data.dim).map(<[f32]>::to_vec).collect::<Vec<_>>();
    if data.dim == mnist::PIXELS {
        let samples = rows_of(&samples);
        let grid: Vec<&[f32]> = samples.iter().take(64).map(Vec::as_slice).collect();
        figures::digit_grid(&args.out.join("samples.png"), &grid, mnist::IMAGE_SIDE, 8, 3)?;
        // Inputs and reconstructions in alternating rows of 8.
        let (inputs, recons) = (rows_of(&inputs), rows_of(&recons));
        let mut pairs: Vec<&[f32]> = Vec::new();
        for block in 0..4 {
            pairs.extend(inputs.iter().skip(block * 8).take(8).map(Vec::as_slice));
            pairs.extend(recons.iter().skip(block * 8).take(8).map(Vec::as_slice));
        }
        figures::digit_grid(&args.out.join("reconstructions.png"), &pairs, mnist::IMAGE_SIDE, 8, 3)?;
    } else {
        figures::real_vs_generated(&args.out.join("samples.png"), &data.points_2d(), &latent_session::as_points(&samples), 512)?;
    }
    Ok(())
}

/// The config fields every model's run shares.
pub(crate) fn common_config(args: &TrainArgs, model: &str, steps: usize, train_rows: usize) -> Vec<(&'static str, String)> {
    vec![
        ("model", json_string(model)),
        ("dataset", json_string(&args.dataset)),
        ("train_rows", train_rows.to_string()),
        ("noise", args.noise.to_string()),
        ("lr", args.lr.to_string()),
        ("batch", args.batch.to_string()),
        ("steps", steps.to_string()),
        ("seed", args.seed.to_string()),
        ("backend", json_string(&format!("{:?}", args.backend))),
    ]
}

fn config_json(args: &TrainArgs, spec: &VaeSpec, steps: usize, train_rows: usize) -> String {
    let model = if matches!(args.model, ModelArg::VaeGan) { "vae-gan" } else { "vae" };
    let mut fields = common_config(args, model, steps, train_rows);
    fields.extend([
        ("beta", args.beta.to_string()),
        ("beta_warmup_steps", args.beta_warmup.to_string()),
        ("early_stopping_patience", args.early_stopping.to_string()),
        ("early_stopping_min_delta", args.min_delta.to_string()),
        ("restore_best", (args.early_stopping > 0 && !args.no_restore_best).to_string()),
        ("l1", args.l1.to_string()),
        ("l2", args.l2.to_string()),
        ("dropout", args.dropout.to_string()),
        ("optimizer", json_string(if args.optimizer == OptimizerArg::Sgd { "sgd" } else { "adam" })),
        ("momentum", args.momentum.to_string()),
        ("hidden", json_list(&spec.hidden)),
        ("latent", spec.latent.to_string()),
        ("activation", json_string(spec.activation.name())),
    ]);
    if matches!(args.model, ModelArg::VaeGan) {
        let knobs = vae_gan_knobs(args, TrainKnobs::default());
        fields.extend([
            ("gamma", knobs.gamma.to_string()),
            ("d_hidden", json_list(args.gan.d_hidden.as_ref().unwrap_or(&spec.hidden))),
            ("lr_d", knobs.adam_discriminator.lr.to_string()),
            ("l2_d", knobs.l2_discriminator.to_string()),
        ]);
    }
    json_object(&fields)
}

/// Prints steps/s of the reference VAE and rounds/s of the 2D GAN, GPU engine and CPU twin.
pub async fn bench(steps: usize) -> anyhow::Result<()> {
    let (data, train, test) = mnist_split(None)?;
    let spec = VaeSpec::reference_mnist();
    let arch = spec.build()?;
    let init = arch.layout.init(1);
    let knobs = TrainKnobs::default();
    let ctx = latent_gpu::GpuContext::new().await.context("no GPU adapter")?;
    let kernels = Kernels::new(&ctx).await?;
    let dataset = GpuDataset::pixels(&ctx, mnist::PIXELS, data.pixels(), &train, &test)?;
    let gpu = GpuVae::new(&kernels, arch.clone(), &init, dataset, 128, 1, knobs)?;
    gpu.train(5)?;
    gpu.steps_done().await?;
    let start = web_time::Instant::now();
    gpu.train(steps)?;
    gpu.steps_done().await?;
    let gpu_rate = steps as f64 / start.elapsed().as_secs_f64();
    println!("reference VAE 784-400-20, batch 128, {} dispatches per step", gpu.step_schedule().len());
    println!("GPU engine on {}: {gpu_rate:.2} steps/s", ctx.summary());

    let run = RunData { bytes: Some(data.pixels().to_vec()), points: None, dim: mnist::PIXELS, labels: None, train, test };
    let mut cpu: VaeCpu<f32> = VaeCpu::new(arch, &init, 1)?;
    let cpu_steps = steps.clamp(1, 10);
    let start = web_time::Instant::now();
    for _ in 0..cpu_steps {
        let x = run.batch(&run.train, 0, cpu.step, 128);
        cpu.train_step(&x, knobs)?;
    }
    println!("CPU twin (f32, one thread): {:.2} steps/s", cpu_steps as f64 / start.elapsed().as_secs_f64());
    bench_vae_gan(&kernels, &run, steps).await?;
    bench_gan(&kernels, steps).await
}

/// Prints rounds/s (one D step + one VAE step with the adversarial term) of the reference VAE with
/// a 784-400-1 discriminator, batch 128, GPU engine and CPU twin.
async fn bench_vae_gan(kernels: &Kernels, run: &RunData, rounds: usize) -> anyhow::Result<()> {
    let arch = VaeGanSpec::new(VaeSpec::reference_mnist(), vec![400]).build()?;
    let (vae_init, d_init) = (arch.vae.layout.init(1), arch.d_layout.init(2));
    let knobs = VaeGanKnobs::default();
    let dataset = run.upload(kernels.context())?;
    let gpu = GpuVaeGan::new(kernels, arch.clone(), &vae_init, &d_init, dataset, 128, 1, knobs)?;
    gpu.train(3)?;
    gpu.steps_done().await?;
    let start = web_time::Instant::now();
    gpu.train(rounds)?;
    gpu.steps_done().await?;
    let (d_dispatches, vae_dispatches) = gpu.dispatch_counts();
    println!("VAE-GAN (reference VAE + D 784-400-1), batch 128: {d_dispatches} + {vae_dispatches} dispatches per round (D step + VAE step)");
    println!("GPU engine: {:.2} rounds/s", rounds as f64 / start.elapsed().as_secs_f64());
    let mut cpu: VaeGanCpu<f32> = VaeGanCpu::new(arch, &vae_init, &d_init, 1)?;
    let cpu_rounds = rounds.clamp(1, 5);
    let start = web_time::Instant::now();
    for _ in 0..cpu_rounds {
        let x = run.batch(&run.train, 0, cpu.vae().step, 128);
        cpu.train_round(&x, knobs)?;
    }
    println!("CPU twin (f32, one thread): {:.2} rounds/s", cpu_rounds as f64 / start.elapsed().as_secs_f64());
    Ok(())
}

/// Prints rounds/s (one D step + one G step) of GAN Lab's kind of GAN (2-64-64-2 against
/// 2-64-64-1, batch 128) on the ring, GPU engine and CPU twin.
async fn bench_gan(kernels: &Kernels, rounds: usize) -> anyhow::Result<()> {
    use latent_core::model::{GanCpu, GanKnobs, GanSpec};
    let ctx = kernels.context();
    let rows = 4096;
    let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows, toy2d::DEFAULT_NOISE, 1)?.into_iter().flatten().collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let arch = GanSpec::toy_2d().build()?;
    let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
    let dataset = GpuDataset::points(ctx, 2, &points, &indices, &indices)?;
    let gan = latent_gpu::GpuGan::new(kernels, arch.clone(), &g, &d, dataset, 128, 1, GanKnobs::default())?;
    gan.train(5, 1)?;
    gan.steps_done().await?;
    let start = web_time::Instant::now();
    gan.train(rounds, 1)?;
    gan.steps_done().await?;
    let (d_dispatches, g_dispatches) = gan.dispatch_counts();
    println!("GAN 2-64-64 vs 64-64-1, batch 128: {d_dispatches} + {g_dispatches} dispatches per round (D step + G step)");
    println!("GPU engine: {:.2} rounds/s", rounds as f64 / start.elapsed().as_secs_f64());
    let grid: Vec<f32> = latent_core::model::gan::map_grid(latent_core::model::gan::MAP_SIDE, figures::VIEW).into_iter().flatten().collect();
    let timed = |start: web_time::Instant| start.elapsed().as_secs_f64() * 1e3;
    let start = web_time::Instant::now();
    let held_out = gan.evaluate().await?;
    let evaluate_ms = timed(start);
    let start = web_time::Instant::now();
    gan.discriminator_map(&grid).await?;
    let map_ms = timed(start);
    let start = web_time::Instant::now();
    gan.generate(&grid[..2 * 1024]).await?;
    let generate_ms = timed(start);
    println!(
        "GPU views: held-out D over {} rows {evaluate_ms:.1} ms, σ(D) heat map over {} points {map_ms:.1} ms, G on 1024 codes {generate_ms:.1} ms",
        held_out.rows,
        grid.len() / 2
    );
    let mut cpu: GanCpu<f32> = GanCpu::new(arch, &g, &d, 1)?;
    let start = web_time::Instant::now();
    for round in 0..rounds as u32 {
        let x = Matrix { rows: 128, cols: 2, data: gather_f32(&points, 2, &indices, 0, round, 128) };
        cpu.discriminator_step(&x, GanKnobs::default())?;
        cpu.generator_step(128, GanKnobs::default())?;
    }
    println!("CPU twin (f32, one thread): {:.2} rounds/s", rounds as f64 / start.elapsed().as_secs_f64());
    Ok(())
}
