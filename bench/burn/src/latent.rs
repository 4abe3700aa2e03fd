//! Our side: the reference VAE on Latent Lab's GPU engine (`latent_gpu::GpuVae`), exactly as
//! `latent bench` and the app build it. The whole MNIST split lives on the GPU and the step's
//! gather kernel picks each batch there, so there is no per-step upload to time.

use std::time::Instant;

use anyhow::Context as _;
use latent_core::engine::{ModelSetup, VaeModel as _};
use latent_core::knobs::{Knobs, Optimizer};
use latent_gpu::wgpu::Backends;
use latent_gpu::{GpuContext, GpuVae, Kernels};
use serde_json::json;

use crate::protocol::{self, EngineRun, Trainer};
use crate::reference::{Reference, BATCH, SEED};

/// β = 1, Adam lr 1e-3 (β₁ .9, β₂ .999, ε 1e-8: `AdamConfig::default()`), no penalties or dropout:
/// spelled out rather than taken from `Knobs::default()`, so a change of defaults cannot change
/// the benchmark.
fn knobs() -> Knobs {
    Knobs { beta: 1.0, l1: 0.0, l2: 0.0, dropout: 0.0, lr: 1e-3, optimizer: Optimizer::Adam, ..Knobs::default() }
}

struct LatentTrainer {
    vae: GpuVae,
    beta: f32,
}

impl Trainer for LatentTrainer {
    /// The loss is our engine's step metrics: reconstruction + β·KL, the mean over the steps
    /// since the previous readback (the GPU sums them; reading resets the sums).
    fn train_and_read(&mut self, steps: usize) -> anyhow::Result<f64> {
        self.vae.train(steps)?;
        let metrics = pollster::block_on(self.vae.metrics())?;
        Ok(metrics.vae.total(self.beta))
    }
}

/// Builds the engine on Vulkan, runs the protocol and reports.
pub fn run(reference: &Reference, steps: usize, process_start: Instant) -> anyhow::Result<EngineRun> {
    let device_start = Instant::now();
    let ctx = pollster::block_on(GpuContext::with_backends(Backends::VULKAN)).context("no Vulkan adapter for our engine")?;
    let kernels = pollster::block_on(Kernels::new(&ctx))?;
    let knobs = knobs();
    let setup = ModelSetup { data: std::sync::Arc::clone(&reference.data), batch: BATCH, seed: SEED, knobs };
    let vae = GpuVae::new(&kernels, &setup, reference.arch.clone(), &reference.init)?;
    let build_s = device_start.elapsed().as_secs_f64();
    let dispatches = vae.dispatches_per_step();
    let mut trainer = LatentTrainer { vae, beta: knobs.beta };
    let timing = protocol::measure(&mut trainer, steps, process_start)?;
    ctx.check_no_uncaptured_errors("bench")?;
    let summary = ctx.summary();
    Ok(EngineRun {
        adapter: summary.name.clone(),
        adapter_detail: summary.to_string(),
        parameters: reference.arch.layout.parameter_count(),
        timing,
        extra: json!({
            "device_and_build_s": build_s,
            "dispatches_per_step": dispatches,
            "data": "the whole MNIST split uploaded once; each step's gather kernel picks its batch on the GPU",
            "loss_readback": "mean over the steps since the previous readback (GPU-side sums)",
        }),
    })
}
