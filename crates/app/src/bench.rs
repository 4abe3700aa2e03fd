//! Benchmark mode (`?bench=N`): trains the fixed reference configuration for N steps on the engine
//! the page would choose (or the one `engine=` names) and reports steps/s, dispatches per step,
//! time from page load to the first finished step, and the adapter, as JSON in the page
//! (`#bench-result`) and the console, for the harness that compares us with TensorFlow.js.

use latent_session::config::{Dataset, LabConfig};

use crate::gpu::{self, EngineInfo};
use crate::run::Run;
use crate::browser;

/// Steps submitted per readback: the live page reads back about this often at speed.
const STEPS_PER_READBACK: usize = 10;
/// Steps trained (and not timed) after the first, so the timed steps see a warm engine.
const WARMUP_STEPS: usize = 3;

/// Runs the benchmark; the JSON report or the reason it failed.
pub async fn run(config: LabConfig) -> Result<String, String> {
    let config = config.benchmark();
    let steps = config.bench.unwrap_or(50);
    let (kernels, info) = gpu::open(config.engine).await;
    let mnist = match config.dataset {
        Dataset::Mnist => Some(browser::fetch_bytes("assets/mnist-10k.bin").await?),
        _ => None,
    };
    let built_at = browser::now_ms();
    let mut run = Run::build(&config, kernels.as_ref(), mnist.as_deref(), None).map_err(|e| e.to_string())?;
    run.train(1).await.map_err(|e| e.to_string())?;
    let first_step_ms = browser::now_ms();
    run.train(WARMUP_STEPS).await.map_err(|e| e.to_string())?;
    let started = browser::now_ms();
    let mut done = 0;
    let mut last = None;
    while done < steps {
        let n = (steps - done).min(STEPS_PER_READBACK);
        last = Some(run.train(n).await.map_err(|e| e.to_string())?);
        done += n;
    }
    let seconds = (browser::now_ms() - started) / 1000.0;
    let (engine, adapter, software) = match &info {
        EngineInfo::WebGpu { adapter, software } => ("webgpu", adapter.clone(), *software),
        EngineInfo::Cpu { .. } | EngineInfo::Starting => ("cpu", "CPU engine (wasm, one thread)".to_string(), false),
    };
    let model = match run.config.model {
        latent_session::config::ModelKind::Gan => "gan 2-64-64-2 vs 2-64-64-1 (rounds of 1 D + 1 G step)".to_string(),
        _ => format!("vae 784-{}-{}", run.config.hidden.iter().map(ToString::to_string).collect::<Vec<_>>().join("-"), run.config.latent),
    };
    let dispatches = run.dispatches_per_step().map_or("null".to_string(), |d| d.to_string());
    let final_loss = last.map_or(f64::NAN, |p| p.total);
    Ok(format!(
        "{{\"benchmark\":\"latent-lab\",\"model\":\"{model}\",\"batch\":{},\"engine\":\"{engine}\",\"adapter\":\"{}\",\"software_adapter\":{software},\"steps\":{steps},\"seconds\":{seconds:.3},\"steps_per_second\":{:.3},\"dispatches_per_step\":{dispatches},\"time_to_first_step_ms\":{first_step_ms:.0},\"build_to_first_step_ms\":{:.0},\"final_loss\":{}}}",
        run.config.batch,
        adapter.replace('"', "'"),
        steps as f64 / seconds.max(1e-9),
        first_step_ms - built_at,
        if final_loss.is_finite() { final_loss.to_string() } else { "null".into() },
    ))
}
