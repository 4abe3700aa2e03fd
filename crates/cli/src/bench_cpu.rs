//! `latent bench cpu`: the native CPU twin's speed in one run, side by side: the reference VAE
//! (784-400-20, batch 128, Adam) with the portable products (the browser's), with the native
//! products on one thread and on every core, and a sweep of models trained together, one per
//! task, against the same models one after another on one thread.

use std::sync::Arc;

use anyhow::Context as _;
use latent_core::data::RunData;
use latent_core::engine::cpu::CpuVae;
use latent_core::engine::{ModelSetup, VaeModel};
use latent_core::model::VaeSpec;
use latent_core::ops::matmul::set_portable;
use latent_core::Knobs;
use rayon::prelude::*;
use web_time::Instant;

use crate::train::MNIST_ASSET;

const BATCH: usize = 128;

/// What one run of the benchmark measured; `--json` prints it as one line.
#[derive(serde::Serialize)]
struct Figures {
    threads: usize,
    portable_one_thread: f64,
    native_one_thread: f64,
    native_all_threads: f64,
    sweep_models: usize,
    sweep_one_thread: f64,
    sweep_all_threads: f64,
}

struct Bench {
    mnist: Arc<RunData>,
    spec: VaeSpec,
}

impl Bench {
    fn model(&self, seed: u32) -> anyhow::Result<CpuVae> {
        let arch = self.spec.clone().build()?;
        let init = arch.layout.init(u64::from(seed));
        let setup = ModelSetup { data: Arc::clone(&self.mnist), batch: BATCH, seed, knobs: Knobs::default() };
        Ok(CpuVae::new(setup, arch, &init)?)
    }

    /// Steps per second of one model over `steps` steps (after one untimed) on `threads` threads.
    fn rate(&self, threads: usize, steps: usize) -> anyhow::Result<f64> {
        pool(threads)?.install(|| {
            let mut model = self.model(1)?;
            model.train(1)?;
            let start = Instant::now();
            model.train(steps)?;
            pollster::block_on(model.steps_done())?;
            Ok(steps as f64 / start.elapsed().as_secs_f64())
        })
    }

    /// Model-steps per second of `models` models each training `steps` steps on `threads`
    /// threads: one model per task, so a sweep spreads over the cores.
    fn sweep(&self, models: usize, threads: usize, steps: usize) -> anyhow::Result<f64> {
        let mut sweep = (1..=models as u32).map(|seed| self.model(seed)).collect::<anyhow::Result<Vec<_>>>()?;
        pool(threads)?.install(|| {
            sweep.par_iter_mut().try_for_each(|m| m.train(1))?;
            let start = Instant::now();
            sweep.par_iter_mut().try_for_each(|m| m.train(steps))?;
            Ok((models * steps) as f64 / start.elapsed().as_secs_f64())
        })
    }
}

fn pool(threads: usize) -> anyhow::Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().context("starting a thread pool")
}

/// Runs the benchmark: `steps` timed steps per figure, a sweep of `models` models.
pub fn cpu(steps: usize, models: usize, json: bool) -> anyhow::Result<()> {
    let mnist = Arc::new(RunData::mnist(MNIST_ASSET, None, latent_core::data::mnist::DEFAULT_TEST_COUNT)?);
    let bench = Bench { mnist, spec: VaeSpec::reference_mnist() };
    // Every core rayon would use (RAYON_NUM_THREADS, else the machine's).
    let threads = rayon::current_num_threads();
    set_portable(true);
    let portable_one_thread = bench.rate(1, steps);
    set_portable(false);
    let sweep_steps = steps;
    let figures = Figures {
        threads,
        portable_one_thread: portable_one_thread?,
        native_one_thread: bench.rate(1, steps)?,
        native_all_threads: bench.rate(threads, steps)?,
        sweep_models: models,
        sweep_one_thread: bench.sweep(models, 1, sweep_steps)?,
        sweep_all_threads: bench.sweep(models, threads, sweep_steps)?,
    };
    if json {
        println!("{}", serde_json::to_string(&figures)?);
        return Ok(());
    }
    let f = &figures;
    println!("reference VAE 784-400-20, batch {BATCH}, Adam, on the CPU twin ({threads} threads available)");
    println!("portable products (the browser's), 1 thread: {:.2} steps/s", f.portable_one_thread);
    println!("native products, 1 thread:                  {:.2} steps/s ({:.2}× portable)", f.native_one_thread, f.native_one_thread / f.portable_one_thread);
    println!(
        "native products, {threads} threads:                 {:.2} steps/s ({:.2}× one thread)",
        f.native_all_threads,
        f.native_all_threads / f.native_one_thread
    );
    println!(
        "sweep of {models} models, one per task: {:.2} model-steps/s on {threads} threads against {:.2} on 1 ({:.2}×)",
        f.sweep_all_threads,
        f.sweep_one_thread,
        f.sweep_all_threads / f.sweep_one_thread
    );
    Ok(())
}
