//! `latent train`: one model, every knob a flag, figures and metrics in an output folder.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use latent_core::data::mnist::{self, Mnist};
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::{Likelihood, StepMetrics, TrainKnobs, VaeCpu, VaeSpec};
use latent_core::ops::gather::{gather_f32, gather_u8};
use latent_core::ops::optimizer::AdamConfig;
use latent_core::rng::{fold_seed, RngStream};
use latent_core::{Activation, Matrix};
use latent_gpu::{GpuDataset, GpuVae, Kernels};

use crate::figures;

/// The 10,000 MNIST digits shipped with the project (see www/assets/README.md).
const MNIST_ASSET: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Observation noise σ of the Gaussian likelihood on 2D data (inverse variance 1/σ²).
const POINT_SIGMA: f32 = 0.1;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ModelArg {
    Vae,
    Gan,
    VaeGan,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum BackendArg {
    Gpu,
    Cpu,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ActivationArg {
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
    model: ModelArg,
    /// mnist, or a 2D distribution: ring, grid, moons, spiral, gaussian.
    #[arg(long, default_value = "mnist")]
    dataset: String,
    /// Training-set size (MNIST: 10..=8000, class-balanced; 2D: points drawn).
    #[arg(long)]
    train_size: Option<usize>,
    /// Noise (standard deviation) of a 2D distribution.
    #[arg(long, default_value_t = toy2d::DEFAULT_NOISE)]
    noise: f32,
    /// KL weight β (0 allowed).
    #[arg(long, default_value_t = 1.0)]
    beta: f32,
    /// L1 weight penalty λ₁ (weights only).
    #[arg(long, default_value_t = 0.0)]
    l1: f32,
    /// L2 weight penalty λ₂ (weights only).
    #[arg(long, default_value_t = 0.0)]
    l2: f32,
    /// Dropout probability on every hidden layer while training (0 to 0.9).
    #[arg(long, default_value_t = 0.0)]
    dropout: f32,
    /// Hidden widths of the encoder, comma-separated (the decoder mirrors them).
    #[arg(long, value_delimiter = ',', default_value = "400")]
    hidden: Vec<usize>,
    #[arg(long, default_value_t = 20)]
    latent: usize,
    #[arg(long, value_enum, default_value = "relu")]
    activation: ActivationArg,
    #[arg(long, default_value_t = 1e-3)]
    lr: f32,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Training steps (default: one epoch).
    #[arg(long, conflicts_with = "epochs")]
    steps: Option<usize>,
    /// Epochs over the training set.
    #[arg(long)]
    epochs: Option<f64>,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Steps between metric rows (and held-out evaluations).
    #[arg(long, default_value_t = 50)]
    eval_every: usize,
    #[arg(long, value_enum, default_value = "gpu")]
    backend: BackendArg,
    /// Output folder (created if missing).
    #[arg(long, default_value = "latent-run")]
    out: PathBuf,
}

/// The data of a run: all rows, which are for training and which are held out.
struct RunData {
    /// Pixels (u8) or points (f32), one row per example.
    bytes: Option<Vec<u8>>,
    points: Option<Vec<f32>>,
    dim: usize,
    train: Vec<u32>,
    test: Vec<u32>,
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

impl RunData {
    fn load(args: &TrainArgs) -> anyhow::Result<Self> {
        if args.dataset == "mnist" {
            let (data, train, test) = mnist_split(args.train_size)?;
            return Ok(Self { bytes: Some(data.pixels().to_vec()), points: None, dim: mnist::PIXELS, train, test });
        }
        let Some(dist) = Toy2d::from_key(&args.dataset) else {
            bail!("unknown dataset `{}`: use mnist, ring, grid, moons, spiral or gaussian", args.dataset);
        };
        let n_train = args.train_size.unwrap_or(2000);
        let n_test = 1000;
        let points = toy2d::sample(dist, n_train + n_test, args.noise, args.seed)?;
        let flat = points.iter().flat_map(|p| *p).collect();
        let total = u32::try_from(n_train + n_test)?;
        Ok(Self { bytes: None, points: Some(flat), dim: 2, train: (0..n_train as u32).collect(), test: (n_train as u32..total).collect() })
    }

    /// `rows` rows by the gather kernels' rule, as f32 (pixels scaled to [0, 1]).
    fn batch(&self, indices: &[u32], base: u32, step: u32, rows: usize) -> Matrix<f32> {
        let data = match (&self.bytes, &self.points) {
            (Some(bytes), _) => gather_u8(bytes, self.dim, indices, base, step, rows),
            (_, Some(points)) => gather_f32(points, self.dim, indices, base, step, rows),
            _ => vec![0.0; rows * self.dim],
        };
        Matrix { rows, cols: self.dim, data }
    }
}

/// The engine a run trains on.
enum Engine {
    Gpu(Box<GpuVae>),
    Cpu(Box<VaeCpu<f32>>),
}

async fn build_engine(args: &TrainArgs, spec: &VaeSpec, data: &RunData, knobs: TrainKnobs) -> anyhow::Result<Engine> {
    let arch = spec.build()?;
    let init = arch.layout.init(args.seed);
    let seed = fold_seed(args.seed);
    if args.backend == BackendArg::Cpu {
        return Ok(Engine::Cpu(Box::new(VaeCpu::new(arch, &init, seed)?)));
    }
    let ctx = latent_gpu::GpuContext::new().await.context("no GPU adapter (try --backend cpu, or install a Vulkan driver such as lavapipe)")?;
    eprintln!("engine: {}", ctx.summary());
    let kernels = Kernels::new(&ctx).await?;
    let dataset = match (&data.bytes, &data.points) {
        (Some(bytes), _) => GpuDataset::pixels(&ctx, data.dim, bytes, &data.train, &data.test)?,
        (_, Some(points)) => GpuDataset::points(&ctx, data.dim, points, &data.train, &data.test)?,
        _ => bail!("the run has no data"),
    };
    Ok(Engine::Gpu(Box::new(GpuVae::new(&kernels, arch, &init, dataset, args.batch, seed, knobs)?)))
}

impl Engine {
    /// Trains `steps` steps; returns the last step's metrics.
    async fn train(&mut self, data: &RunData, steps: usize, batch: usize, knobs: TrainKnobs) -> anyhow::Result<StepMetrics> {
        match self {
            Engine::Gpu(vae) => {
                vae.train(steps)?;
                Ok(vae.metrics().await?)
            }
            Engine::Cpu(vae) => {
                let mut last = StepMetrics::default();
                for _ in 0..steps {
                    let x = data.batch(&data.train, 0, vae.step, batch);
                    last = vae.train_step(&x, knobs)?;
                }
                Ok(last)
            }
        }
    }

    /// Held-out negative ELBO over whole batches of the test rows.
    async fn evaluate(&self, data: &RunData, batch: usize, seed: u32) -> anyhow::Result<f64> {
        match self {
            Engine::Gpu(vae) => Ok(vae.evaluate().await?.negative_elbo()),
            Engine::Cpu(vae) => {
                let chunks = data.test.len() / batch;
                let mut total = 0.0;
                for chunk in 0..chunks as u32 {
                    let x = data.batch(&data.test, 0, chunk, batch);
                    let (recon, kl) = vae.evaluate(&x, RngStream::new(seed, latent_core::model::vae::EVAL_STREAM), chunk)?;
                    total += recon + kl;
                }
                Ok(total / chunks.max(1) as f64)
            }
        }
    }

    /// (samples from the fixed prior noise, first held-out batch, its reconstructions).
    async fn figures(&self, data: &RunData, batch: usize, latent: usize, seed: u32) -> anyhow::Result<(Vec<f32>, Vec<f32>, Vec<f32>)> {
        let inputs = data.batch(&data.test, 0, 0, batch).data;
        match self {
            Engine::Gpu(vae) => Ok((vae.samples().await?, inputs, vae.reconstructions().await?)),
            Engine::Cpu(vae) => {
                let prior = latent_core::model::vae::prior_noise(seed, batch, latent);
                let samples = vae.decode(&prior)?.data;
                let x = Matrix { rows: batch, cols: data.dim, data: inputs.clone() };
                let enc = vae.arch.encoder.forward(&vae.arch.layout, &vae.params, &x)?;
                let h = enc.last().context("encoder has no layers")?;
                let mu = Matrix { rows: batch, cols: latent, data: (0..batch).flat_map(|i| (0..latent).map(move |d| (i, d))).map(|(i, d)| h.at(i, d)).collect() };
                Ok((samples, inputs, vae.decode(&mu)?.data))
            }
        }
    }
}

fn check_args(args: &TrainArgs) -> anyhow::Result<()> {
    if !matches!(args.model, ModelArg::Vae) {
        bail!("--model {:?} is not built yet; only the VAE trains so far", args.model);
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
    if args.batch == 0 || args.batch > 4096 {
        bail!("--batch must be in 1..=4096, got {}", args.batch);
    }
    if args.eval_every == 0 {
        bail!("--eval-every must be at least 1");
    }
    Ok(())
}

pub async fn run(args: TrainArgs) -> anyhow::Result<()> {
    check_args(&args)?;
    let data = RunData::load(&args)?;
    if data.test.len() < args.batch {
        bail!("the held-out set ({} rows) is smaller than one batch ({})", data.test.len(), args.batch);
    }
    let likelihood = if data.dim == 2 { Likelihood::Gaussian { inv_var: 1.0 / (POINT_SIGMA * POINT_SIGMA) } } else { Likelihood::Bernoulli };
    let spec = VaeSpec { data_dim: data.dim, hidden: args.hidden.clone(), latent: args.latent, activation: args.activation.into(), likelihood };
    let knobs = TrainKnobs { beta: args.beta, l1: args.l1, l2: args.l2, dropout: args.dropout, adam: AdamConfig { lr: args.lr, ..AdamConfig::default() } };
    let steps_per_epoch = data.train.len().div_ceil(args.batch);
    let steps = match (args.steps, args.epochs) {
        (Some(s), _) => s,
        (None, Some(e)) if e.is_finite() && e > 0.0 => (e * steps_per_epoch as f64).ceil() as usize,
        (None, Some(e)) => bail!("--epochs must be > 0, got {e}"),
        (None, None) => steps_per_epoch,
    };
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    std::fs::write(args.out.join("config.json"), config_json(&args, &spec, steps, data.train.len()))?;

    let mut engine = build_engine(&args, &spec, &data, knobs).await?;
    let seed = fold_seed(args.seed);
    let progress = ProgressBar::new(steps as u64);
    progress.set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {msg}  ({elapsed}, eta {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()));
    // Rows go to disk as they come, so a long run that is interrupted keeps its history.
    let mut csv = std::io::BufWriter::new(std::fs::File::create(args.out.join("metrics.csv"))?);
    writeln!(csv, "step,reconstruction,kl,l2_term,l1_term,total,test_negative_elbo")?;
    let mut done = 0;
    let mut failure = None;
    while done < steps {
        let chunk = args.eval_every.min(steps - done);
        let m = engine.train(&data, chunk, args.batch, knobs).await?;
        done += chunk;
        let test = engine.evaluate(&data, args.batch, seed).await?;
        writeln!(csv, "{done},{},{},{},{},{},{test}", m.reconstruction, m.kl, m.l2_term, m.l1_term, m.total(args.beta))?;
        csv.flush()?;
        progress.set_position(done as u64);
        progress.set_message(format!("loss {:.2}  test −ELBO {test:.2}", m.total(args.beta)));
        if !m.is_finite() || !test.is_finite() {
            failure = Some(format!("training diverged by step {done} (the loss became NaN or infinite); lower --lr (now {})", args.lr));
            break;
        }
    }
    progress.finish();
    drop(csv);
    write_figures(&engine, &data, &args, seed).await?;
    eprintln!("wrote {}", args.out.display());
    match failure {
        Some(message) => bail!(message),
        None => Ok(()),
    }
}

async fn write_figures(engine: &Engine, data: &RunData, args: &TrainArgs, seed: u32) -> anyhow::Result<()> {
    let (samples, inputs, recons) = engine.figures(data, args.batch, args.latent, seed).await?;
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
        let as_points = |v: &[f32]| v.chunks(2).map(|p| [p[0], p.get(1).copied().unwrap_or(0.0)]).collect::<Vec<_>>();
        let real = data.points.as_deref().map(as_points).unwrap_or_default();
        let generated = as_points(&samples);
        figures::scatter(&args.out.join("samples.png"), &[(&real, [170, 170, 170]), (&generated, [59, 91, 219])], 512)?;
    }
    Ok(())
}

fn config_json(args: &TrainArgs, spec: &VaeSpec, steps: usize, train_rows: usize) -> String {
    let hidden: Vec<String> = spec.hidden.iter().map(ToString::to_string).collect();
    format!(
        "{{\n  \"model\": \"vae\",\n  \"dataset\": \"{}\",\n  \"train_rows\": {train_rows},\n  \"noise\": {},\n  \"beta\": {},\n  \"l1\": {},\n  \"l2\": {},\n  \"dropout\": {},\n  \"hidden\": [{}],\n  \"latent\": {},\n  \"activation\": \"{}\",\n  \"lr\": {},\n  \"batch\": {},\n  \"steps\": {steps},\n  \"seed\": {},\n  \"backend\": \"{:?}\"\n}}\n",
        args.dataset.escape_default(),
        args.noise,
        args.beta,
        args.l1,
        args.l2,
        args.dropout,
        hidden.join(", "),
        spec.latent,
        spec.activation.name(),
        args.lr,
        args.batch,
        args.seed,
        args.backend
    )
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

    let run = RunData { bytes: Some(data.pixels().to_vec()), points: None, dim: mnist::PIXELS, train, test };
    let mut cpu: VaeCpu<f32> = VaeCpu::new(arch, &init, 1)?;
    let cpu_steps = steps.clamp(1, 10);
    let start = web_time::Instant::now();
    for _ in 0..cpu_steps {
        let x = run.batch(&run.train, 0, cpu.step, 128);
        cpu.train_step(&x, knobs)?;
    }
    println!("CPU twin (f32, one thread): {:.2} steps/s", cpu_steps as f64 / start.elapsed().as_secs_f64());
    bench_gan(&kernels, steps).await
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
