//! Benchmark mode (`?bench=N`): trains the fixed reference configuration for N steps on the engine
//! the page would choose (or the one `engine=` names) and reports steps/s, dispatches per step,
//! time from page load to the first finished step, and the adapter, as JSON in the page
//! (`#bench-result`) and the console, for the harness that compares us with TensorFlow.js.
//! `?bench=matmul` instead times the WebGPU matmul kernel the adapter gets (or with `engine=cpu`
//! the CPU engine's) on every product of a reference-VAE step, by latent_gpu's timing protocol.

use latent_core::ops::{matmul as cpu_matmul, Epilogue};
use latent_core::rng::SplitMix64;
use latent_core::Matrix;
use latent_gpu::bench::{next_repeats, time_matmul, MatmulCase, VAE_STEP};
use latent_session::config::{Bench, Dataset, EnginePref, LabConfig, ModelKind};
use latent_session::{Run, Start};
use serde_json::{json, Value};

use crate::browser;
use crate::gpu::{self, EngineInfo};

/// Steps submitted per readback: the live page reads back about this often at speed.
const STEPS_PER_READBACK: usize = 10;
/// Steps trained (and not timed) after the first, so the timed steps see a warm engine.
const WARMUP_STEPS: usize = 3;

/// Seconds each matmul measurement lasts at least (repeats double until it does).
const MATMUL_MIN_SECONDS: f64 = 0.5;

/// Runs the benchmark the configuration asks for; the JSON report or the reason it failed.
pub async fn run(config: LabConfig) -> Result<String, String> {
    match config.page.bench {
        Some(Bench::Matmul) if config.engine == EnginePref::Cpu => cpu_matmul_report(),
        Some(Bench::Matmul) => matmul().await,
        Some(Bench::Train { steps }) => train(config, steps).await,
        None => train(config, 50).await,
    }
}

/// `bench=matmul`: GFLOP/s of the adapter's matmul variant on each product of a VAE step.
async fn matmul() -> Result<String, String> {
    let (kernels, info) = gpu::open(EnginePref::WebGpu).await;
    let kernels = match (kernels, info) {
        (Some(kernels), _) => kernels,
        (None, EngineInfo::Cpu { reason }) => return Err(reason.unwrap_or_else(|| "WebGPU is not available".into())),
        (None, _) => return Err("WebGPU is not available".into()),
    };
    let variant = kernels.preferred_matmul();
    let mut shapes = Vec::new();
    for case in VAE_STEP {
        let timing = time_matmul(&kernels, case, variant, MATMUL_MIN_SECONDS).await.map_err(|e| e.to_string())?;
        shapes.push(shape_json(&case, timing.repeats, timing.seconds));
    }
    Ok(matmul_json("webgpu", &kernels.context().summary().to_string(), variant.name(), shapes))
}

/// `bench=matmul&engine=cpu`: the CPU engine's matmul (register-blocked, wasm SIMD) on the same
/// products, timed the same way.
fn cpu_matmul_report() -> Result<String, String> {
    let mut rng = SplitMix64::new(7);
    let mut random = |rows, cols| Matrix::from_vec(rows, cols, rng.vec_f32(rows * cols, -1.0, 1.0));
    let mut shapes = Vec::new();
    for case in VAE_STEP {
        let ((ar, ac), (br, bc)) = case.stored_shapes();
        let (Some(a), Some(b)) = (random(ar, ac), random(br, bc)) else {
            return Err(format!("could not build the {} operands", case.what));
        };
        let mut c = Matrix::zeros(case.m, case.n);
        let mut product = || cpu_matmul(&a, &b, case.form, Epilogue::None, false, &mut c).map_err(|e| e.to_string());
        product()?;
        let mut repeats = 1;
        loop {
            let start = browser::now_ms();
            for _ in 0..repeats {
                product()?;
            }
            let seconds = (browser::now_ms() - start) / 1000.0;
            match next_repeats(repeats, seconds, MATMUL_MIN_SECONDS) {
                Some(next) => repeats = next,
                None => {
                    shapes.push(shape_json(&case, repeats, seconds));
                    break;
                }
            }
        }
    }
    Ok(matmul_json("cpu", "CPU engine (wasm, one thread)", "blocked 4×8 (wasm SIMD)", shapes))
}

fn shape_json(case: &MatmulCase, repeats: usize, seconds: f64) -> Value {
    json!({
        "what": case.what,
        "form": case.form.name(),
        "m": case.m,
        "k": case.k,
        "n": case.n,
        "repeats": repeats,
        "seconds": seconds,
        "gflops": case.gflops(repeats, seconds),
    })
}

fn matmul_json(engine: &str, adapter: &str, kernel: &str, shapes: Vec<Value>) -> String {
    json!({
        "benchmark": "latent-lab-matmul",
        "engine": engine,
        "adapter": adapter,
        "kernel": kernel,
        "min_seconds": MATMUL_MIN_SECONDS,
        "shapes": shapes,
    })
    .to_string()
}

/// `bench=N`: the reference model trained for `steps` steps after a first one and a warm-up,
/// reading the metrics back every [`STEPS_PER_READBACK`] steps as the live page does.
async fn train(config: LabConfig, steps: usize) -> Result<String, String> {
    let config = config.benchmark();
    let (kernels, info) = gpu::open(config.engine).await;
    let mnist = match config.data.dataset {
        Dataset::Mnist => Some(latent_web::fetch_mnist().await?),
        _ => None,
    };
    let built_at = browser::now_ms();
    let spec = config.run_spec();
    let rows = latent_session::run::load_rows(&spec, mnist.as_ref()).map_err(|e| e.to_string())?;
    // As on the page: the GPU's kernels, else the CPU engine in its worker.
    let host = if kernels.is_none() { crate::driver::cpu_worker() } else { None };
    let engine = match (kernels.as_deref(), host.as_ref()) {
        (Some(kernels), _) => latent_session::Engine::Gpu(kernels),
        (None, Some(host)) => latent_session::Engine::Hosted(host),
        (None, None) => return Err("the CPU engine's worker did not start".into()),
    };
    let mut run = Run::build_on(spec, std::sync::Arc::new(rows), engine, Start::Fresh).map_err(|e| e.to_string())?;
    run.train(1).await.map_err(|e| e.to_string())?;
    let first_step_ms = browser::now_ms();
    run.train(WARMUP_STEPS).await.map_err(|e| e.to_string())?;
    let started = browser::now_ms();
    let mut done = 0;
    let mut final_loss = f64::NAN;
    while done < steps {
        let n = (steps - done).min(STEPS_PER_READBACK);
        final_loss = run.train(n).await.map_err(|e| e.to_string())?.0.total;
        done += n;
    }
    let seconds = (browser::now_ms() - started) / 1000.0;
    let (engine, adapter, software) = match &info {
        EngineInfo::WebGpu { adapter, software } => ("webgpu", adapter.clone(), *software),
        EngineInfo::Cpu { .. } | EngineInfo::Starting => ("cpu", "CPU engine (wasm, in a Web Worker)".to_string(), false),
    };
    let shape = &config.shape;
    let model = match shape.model {
        ModelKind::Gan => "gan 2-64-64-2 vs 2-64-64-1 (rounds of 1 D + 1 G step)".to_string(),
        _ => format!("vae 784-{}-{}", shape.hidden.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"), shape.latent),
    };
    Ok(json!({
        "benchmark": "latent-lab",
        "model": model,
        "batch": shape.batch,
        "engine": engine,
        "adapter": adapter,
        "software_adapter": software,
        "steps": steps,
        "seconds": seconds,
        "steps_per_second": steps as f64 / seconds.max(1e-9),
        "dispatches_per_step": run.dispatches_per_step(),
        "time_to_first_step_ms": first_step_ms,
        "build_to_first_step_ms": first_step_ms - built_at,
        "final_loss": final_loss.is_finite().then_some(final_loss),
    })
    .to_string())
}
