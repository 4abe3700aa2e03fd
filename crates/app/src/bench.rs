//! Benchmark mode (`?bench=N`): trains the fixed reference configuration for N steps on the engine
//! the page would choose (or the one `engine=` names) and reports steps/s, dispatches per step,
//! time from page load to the first finished step, and the adapter, as JSON in the page
//! (`#bench-result`) and the console, for the harness that compares us with TensorFlow.js.
//! `?bench=matmul` instead times the WebGPU matmul kernel the adapter gets (or with `engine=cpu`
//! the CPU engine's) on every product of a reference-VAE step, by latent_gpu's timing protocol, in
//! a worker of the build the page's engines train in (the page's module carries neither).

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::Float64Array;
use latent_gpu::bench::{MatmulCase, VAE_STEP};
use latent_session::config::{Bench, Dataset, EnginePref, LabConfig, ModelKind};
use latent_session::{Run, Start};
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent};

use crate::browser;
use crate::engine::{self, EngineInfo};

/// Steps submitted per readback: the live page reads back about this often at speed.
const STEPS_PER_READBACK: usize = 10;
/// Steps trained (and not timed) after the first, so the timed steps see a warm engine.
const WARMUP_STEPS: usize = 3;

/// Seconds each matmul measurement lasts at least (repeats double until it does).
const MATMUL_MIN_SECONDS: f64 = 0.5;

/// Runs the benchmark the configuration asks for; the JSON report or the reason it failed.
pub async fn run(config: LabConfig) -> Result<String, String> {
    match config.page.bench {
        Some(Bench::Matmul) if config.engine == EnginePref::Cpu => cpu_matmul().await,
        Some(Bench::Matmul) => gpu_matmul().await,
        Some(Bench::Train { steps }) => train(config, steps).await,
        None => train(config, 50).await,
    }
}

/// `bench=matmul`: GFLOP/s of the adapter's matmul variant on each product of a VAE step, timed
/// in a worker (WebGPU is there as in the page).
async fn gpu_matmul() -> Result<String, String> {
    let answer = ask_worker("timeGpuMatmul").await?;
    let parts = answer.dyn_ref::<js_sys::Array>().ok_or("the worker answered something else")?;
    let (adapter, kernel) = (parts.get(0).as_string().unwrap_or_default(), parts.get(1).as_string().unwrap_or_default());
    let timings = parts.get(2).dyn_ref::<Float64Array>().map(Float64Array::to_vec).ok_or("the worker sent no timings")?;
    Ok(matmul_json("webgpu", &adapter, &kernel, timed_shapes(&timings)?))
}

/// `bench=matmul&engine=cpu`: the CPU engine's matmul (register-blocked) on the same products,
/// timed the same way in a worker of the build the page's CPU engine trains in (the page's own
/// module is built for size, not for the engine's loops).
async fn cpu_matmul() -> Result<String, String> {
    let answer = ask_worker("timeCpuMatmul").await?;
    let timings = answer.dyn_ref::<Float64Array>().map(Float64Array::to_vec).ok_or("the worker answered something else")?;
    let kernel = format!("blocked 4×8 ({} build)", browser::worker_build());
    Ok(matmul_json("cpu", "CPU engine (wasm worker, one thread)", &kernel, timed_shapes(&timings)?))
}

/// `[repeats, seconds, …]` for each product of `VAE_STEP`, as the report's shapes.
fn timed_shapes(timings: &[f64]) -> Result<Vec<Value>, String> {
    if timings.len() != 2 * VAE_STEP.len() {
        return Err(format!("the worker timed {} numbers for {} products", timings.len(), VAE_STEP.len()));
    }
    Ok(VAE_STEP.iter().zip(timings.chunks_exact(2)).map(|(case, t)| shape_json(case, t[0] as usize, t[1])).collect())
}

/// Asks a new worker for the timing `request` names (`{ request: MATMUL_MIN_SECONDS }`): its
/// answer, or its words where it could not time.
async fn ask_worker(request: &str) -> Result<JsValue, String> {
    let worker = browser::spawn_worker()?;
    let (sender, receiver) = oneshot::channel::<Result<JsValue, String>>();
    let sender = Rc::new(RefCell::new(Some(sender)));
    let answer = Rc::clone(&sender);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let data = event.data();
        let answered = match data.as_string() {
            Some(failure) => Err(failure),
            None => Ok(data),
        };
        if let Some(sender) = answer.borrow_mut().take() {
            sender.send(answered).ok();
        }
    });
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
        if let Some(sender) = sender.borrow_mut().take() {
            sender.send(Err(format!("the worker stopped: {}", event.message()))).ok();
        }
    });
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let message = js_sys::Object::new();
    js_sys::Reflect::set(&message, &JsValue::from_str(request), &JsValue::from_f64(MATMUL_MIN_SECONDS)).map_err(browser::js_text)?;
    worker.post_message(&message).map_err(browser::js_text)?;
    let answer = receiver.await.unwrap_or_else(|_| Err("the worker never answered".into()));
    worker.terminate();
    answer
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
    let (host, info) = engine::open(config.engine).await;
    let host = host.ok_or_else(|| match &info {
        EngineInfo::Cpu { reason: Some(reason) } => reason.clone(),
        _ => "the engine's worker did not start".into(),
    })?;
    let mnist = match config.data.dataset {
        Dataset::Mnist => Some(latent_web::fetch_mnist().await?),
        _ => None,
    };
    let built_at = browser::now_ms();
    let spec = config.run_spec();
    let rows = latent_session::run::load_rows(&spec, mnist.as_ref()).map_err(|e| e.to_string())?;
    // As on the page: the engine opened in its worker.
    let mut run = Run::build_on(spec, std::sync::Arc::new(rows), latent_session::Engine::Hosted(&host), Start::Fresh).map_err(|e| e.to_string())?;
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
