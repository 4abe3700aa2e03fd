//! burn's side: its wgpu backend pinned to Vulkan (so it runs on the same adapter as ours), with
//! burn's defaults for that backend: WGSL shaders (this build leaves out burn's `vulkan` feature,
//! the SPIR-V compiler, so both engines hand WGSL to wgpu/naga), kernel fusion and autotuning.
//! A training loop as a burn user writes one: each step builds a 128-row batch on the host and
//! uploads it as a tensor, runs forward + backward, and lets Adam update the model.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use burn::cubecl::config::cache::CacheConfig;
use burn::cubecl::config::environment::EnvironmentConfig;
use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig as _};
use burn::module::Module as _;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::tensor::wgpu::WgpuBackend;
use serde_json::json;

use crate::burn_vae::BurnVae;
use crate::protocol::{self, EngineRun, Trainer};
use crate::reference::{Reference, SEED};

/// The burn release this crate pins (Cargo.toml; its sub-crates resolve to 0.22.1 in Cargo.lock).
pub const BURN_VERSION: &str = "0.22.0";
const LEARNING_RATE: f64 = 1e-3;
/// Batches uploaded (and synced once) by the upload probe.
const UPLOAD_PROBE_BATCHES: usize = 20;

struct BurnTrainer<'a> {
    /// `None` only while the optimizer holds it (burn's optimizers take the module by value).
    model: Option<BurnVae>,
    optimizer: ModuleOptimizer,
    reference: &'a Reference,
    device: Device,
    step: u32,
    /// Host time spent gathering batches and handing them to burn, over all steps.
    batch_host_time: Duration,
}

impl BurnTrainer<'_> {
    /// The step's rows (the same ones our engine gathers), uploaded as a tensor.
    fn next_batch(&mut self) -> Tensor<2> {
        let started = Instant::now();
        let rows = self.reference.batch(self.step);
        let x = Tensor::from_data(TensorData::new(rows.data, [rows.rows, rows.cols]), &self.device);
        self.batch_host_time += started.elapsed();
        x
    }
}

impl Trainer for BurnTrainer<'_> {
    /// The loss is the mean over these steps, summed on the device (one scalar add per step) as
    /// our engine sums its metrics, so both report the same quantity; `try_into_scalar` waits.
    fn train_and_read(&mut self, steps: usize) -> anyhow::Result<f64> {
        let mut loss_sum: Option<Tensor<1>> = None;
        for _ in 0..steps {
            let x = self.next_batch();
            let model = self.model.take().ok_or_else(|| anyhow!("the model was lost in a failed step"))?;
            let loss = model.loss(x);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            self.model = Some(self.optimizer.step(LEARNING_RATE, model, grads));
            let loss = loss.detach();
            loss_sum = Some(match loss_sum {
                Some(sum) => sum + loss,
                None => loss,
            });
            self.step += 1;
        }
        let loss_sum = loss_sum.ok_or_else(|| anyhow!("no step to read a loss from"))?;
        let value: f32 = loss_sum.div_scalar(steps as f64).try_into_scalar().map_err(|e| anyhow!("reading burn's loss back: {e}"))?;
        Ok(f64::from(value))
    }
}

/// Where cubecl keeps its autotune results between processes. burn persists them by default under
/// the outermost Cargo.toml's `target/environment`, which from this checkout is the main
/// workspace's target dir; we keep them beside this crate's build instead. Returns whether a
/// previous run left results there (a warm cache skips autotuning's benchmarks).
fn configure_cubecl_cache() -> anyhow::Result<(PathBuf, bool)> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    // .../bench/burn/target/release/bench-vs-burn → .../bench/burn/target/cubecl-environment
    let target = exe.parent().and_then(Path::parent).ok_or_else(|| anyhow!("the binary {exe:?} is not inside a target dir"))?;
    let dir = target.join("cubecl-environment");
    let warm = std::fs::read_dir(&dir).map(|mut entries| entries.next().is_some()).unwrap_or(false);
    let config = CubeClRuntimeConfig {
        environment: EnvironmentConfig { path: CacheConfig::Directory(dir.clone()), ..EnvironmentConfig::default() },
        ..CubeClRuntimeConfig::default()
    };
    // CUBECL_* variables still apply, as they would to any burn program.
    if !CubeClRuntimeConfig::try_set(config.override_from_env()) {
        return Err(anyhow!("cubecl's configuration was read before the bench could set its cache dir"));
    }
    Ok((dir, warm))
}

/// Mean milliseconds to gather one batch and get it onto the device: `UPLOAD_PROBE_BATCHES`
/// uploads, then one device sync, after the timed window (so it cannot disturb it).
fn upload_probe(reference: &Reference, device: &Device) -> anyhow::Result<f64> {
    device.sync().map_err(|e| anyhow!("burn sync: {e}"))?;
    let started = Instant::now();
    let uploaded: Vec<Tensor<2>> = (0..UPLOAD_PROBE_BATCHES as u32)
        .map(|step| {
            let rows = reference.batch(step);
            Tensor::from_data(TensorData::new(rows.data, [rows.rows, rows.cols]), device)
        })
        .collect();
    device.sync().map_err(|e| anyhow!("burn sync: {e}"))?;
    let ms = started.elapsed().as_secs_f64() * 1e3 / UPLOAD_PROBE_BATCHES as f64;
    drop(uploaded);
    Ok(ms)
}

/// Opens burn's wgpu runtime on Vulkan, runs the protocol and reports.
pub fn run(reference: &Reference, steps: usize, process_start: Instant) -> anyhow::Result<EngineRun> {
    let (cache_dir, cache_warm) = configure_cubecl_cache()?;
    let device_start = Instant::now();
    let (device, setup) = Device::wgpu_options().graphics_api(WgpuBackend::Vulkan).init_with_setup().map_err(|e| anyhow!("burn could not open Vulkan: {e}"))?;
    let info = setup.adapter.get_info();
    device.seed(u64::from(SEED));
    let device = device.autodiff();
    let model = BurnVae::from_reference(reference, &device)?;
    let parameters = model.num_params();
    let optimizer = AdamConfig::new().with_beta_1(0.9).with_beta_2(0.999).with_epsilon(1e-8).init();
    let build_s = device_start.elapsed().as_secs_f64();
    let mut trainer = BurnTrainer { model: Some(model), optimizer, reference, device: device.clone(), step: 0, batch_host_time: Duration::ZERO };
    let timing = protocol::measure(&mut trainer, steps, process_start)?;
    let batch_host_ms = trainer.batch_host_time.as_secs_f64() * 1e3 / f64::from(trainer.step.max(1));
    let upload_ms = upload_probe(reference, &device)?;
    let extra = json!({
        "burn_version": BURN_VERSION,
        "backend": "wgpu, Vulkan, WGSL; fusion + autotune (burn defaults)",
        "autotune_cache": if cache_warm { "warm" } else { "cold" },
        "autotune_cache_dir": cache_dir.display().to_string(),
        "device_and_build_s": build_s,
        "data": "a 128-row batch gathered on the host and uploaded per step (Tensor::from_data)",
        "batch_host_ms_per_step": batch_host_ms,
        "batch_upload_probe_ms": upload_ms,
        "loss_readback": "mean over the steps since the previous readback (summed on the device)",
    });
    let adapter_detail = format!("{} ({:?}, {:?}, {} {})", info.name, info.backend, info.device_type, info.driver, info.driver_info);
    Ok(EngineRun { adapter: info.name, adapter_detail, parameters, timing, extra })
}
