//! `latent bench train`: training speed of the reference models on both engines, through the
//! same seam the runs use: the reference VAE (784-400-20, batch 128) on MNIST, the VAE-GAN (that
//! VAE with a 784-400-1 discriminator), and GAN Lab's kind of GAN (2-64-64-2 against 2-64-64-1) on
//! the ring. The GPU engine is timed over `steps` steps after a warm-up, the CPU twin over fewer.

use std::sync::Arc;

use anyhow::Context as _;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::data::RunData;
use latent_core::engine::cpu::{CpuGan, CpuVae};
use latent_core::engine::{GanModel, ModelSetup, VaeModel};
use latent_core::model::gan::{map_grid, MAP_SIDE};
use latent_core::model::{GanSpec, VaeGanSpec, VaeSpec};
use latent_core::Knobs;
use latent_gpu::{GpuContext, GpuGan, GpuVae, Kernels};
use web_time::Instant;

use crate::train::MNIST_ASSET;

const BATCH: usize = 128;

/// Steps per second of `steps` steps of `model`, after `warmup` untimed ones (waiting for the GPU
/// to finish both).
async fn vae_rate(model: &mut dyn VaeModel, warmup: usize, steps: usize) -> anyhow::Result<f64> {
    model.train(warmup)?;
    model.steps_done().await?;
    let start = Instant::now();
    model.train(steps)?;
    model.steps_done().await?;
    Ok(steps as f64 / start.elapsed().as_secs_f64())
}

async fn gan_rate(model: &mut dyn GanModel, warmup: usize, rounds: usize) -> anyhow::Result<f64> {
    model.train(warmup)?;
    model.steps_done().await?;
    let start = Instant::now();
    model.train(rounds)?;
    model.steps_done().await?;
    Ok(rounds as f64 / start.elapsed().as_secs_f64())
}

/// Milliseconds `f` takes.
async fn timed_ms<T>(f: impl std::future::Future<Output = T>) -> f64 {
    let start = Instant::now();
    f.await;
    start.elapsed().as_secs_f64() * 1e3
}

/// Prints steps/s of the reference VAE, rounds/s of the VAE-GAN and of the 2D GAN, GPU engine and
/// CPU twin.
pub async fn train(steps: usize) -> anyhow::Result<()> {
    let ctx = GpuContext::new().await.context("no GPU adapter")?;
    let kernels = Kernels::new(&ctx).await?;
    let mnist = Arc::new(RunData::mnist(MNIST_ASSET, None, latent_core::data::mnist::DEFAULT_TEST_COUNT)?);
    let setup = |data: &Arc<RunData>| ModelSetup { data: Arc::clone(data), batch: BATCH, seed: 1, knobs: Knobs::default() };

    let arch = VaeSpec::reference_mnist().build()?;
    let init = arch.layout.init(1);
    let mut gpu = GpuVae::new(&kernels, &setup(&mnist), arch.clone(), &init)?;
    let rate = vae_rate(&mut gpu, 5, steps).await?;
    println!("reference VAE 784-400-20, batch {BATCH}, {} dispatches per step", gpu.dispatches_per_step().unwrap_or(0));
    println!("GPU engine on {}: {rate:.2} steps/s", ctx.summary());
    let mut cpu = CpuVae::new(setup(&mnist), arch, &init)?;
    println!("CPU twin (f32, one thread): {:.2} steps/s", vae_rate(&mut cpu, 0, steps.clamp(1, 10)).await?);

    let arch = VaeGanSpec::new(VaeSpec::reference_mnist(), vec![400]).build()?;
    let (vae_init, d_init) = (arch.vae.layout.init(1), arch.d_layout.init(2));
    let mut gpu = GpuVae::with_discriminator(&kernels, &setup(&mnist), arch.clone(), &vae_init, &d_init)?;
    let rate = vae_rate(&mut gpu, 3, steps).await?;
    let [d_step, vae_step] = [0, 1].map(|i| gpu.step_schedules().get(i).map_or(0, |s| s.len()));
    println!("VAE-GAN (reference VAE + D 784-400-1), batch {BATCH}: {d_step} + {vae_step} dispatches per round (D step + VAE step)");
    println!("GPU engine: {rate:.2} rounds/s");
    let mut cpu = CpuVae::with_discriminator(setup(&mnist), arch, &vae_init, &d_init)?;
    println!("CPU twin (f32, one thread): {:.2} rounds/s", vae_rate(&mut cpu, 0, steps.clamp(1, 5)).await?);

    gan(&kernels, steps, setup).await
}

/// GAN Lab's kind of GAN on 4,096 points of the ring (every point both trains and is held out),
/// and the GPU's view calls.
async fn gan(kernels: &Kernels, rounds: usize, setup: impl Fn(&Arc<RunData>) -> ModelSetup) -> anyhow::Result<()> {
    let rows = 4096;
    let points = toy2d::sample(Toy2d::Ring8, rows, toy2d::DEFAULT_NOISE, 1)?;
    let mut ring = RunData::from_points(&points, rows)?;
    ring.test.clone_from(&ring.train);
    let ring = Arc::new(ring);
    let arch = GanSpec::toy_2d().build()?;
    let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
    let mut gpu = GpuGan::new(kernels, &setup(&ring), arch.clone(), &g, &d)?;
    let rate = gan_rate(&mut gpu, 5, rounds).await?;
    let (d_step, g_step) = gpu.dispatch_counts();
    println!("GAN 2-64-64 vs 64-64-1, batch {BATCH}: {d_step} + {g_step} dispatches per round (D step + G step)");
    println!("GPU engine: {rate:.2} rounds/s");
    let grid: Vec<f32> = map_grid(MAP_SIDE, toy2d::VIEW_HALF_EXTENT).concat();
    let evaluate_ms = timed_ms(gpu.evaluate()).await;
    let map_ms = timed_ms(gpu.discriminator_map(&grid)).await;
    let generate_ms = timed_ms(gpu.generate(&grid[..2 * 1024])).await;
    println!(
        "GPU views: held-out D over {rows} rows {evaluate_ms:.1} ms, σ(D) heat map over {} points {map_ms:.1} ms, G on 1024 codes {generate_ms:.1} ms",
        grid.len() / 2
    );
    let mut cpu = CpuGan::new(setup(&ring), arch, &g, &d)?;
    println!("CPU twin (f32, one thread): {:.2} rounds/s", gan_rate(&mut cpu, 0, rounds).await?);
    Ok(())
}
