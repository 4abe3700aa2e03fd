//! One worker's share of a sweep: `train_sweep_part` takes a [`SweepJob`] (JSON), builds the
//! members `Sweep::build_part` gives this part, trains them in chunks and posts [`WorkerReport`]s
//! (as a `Float64Array`) after them: steps often, scores every tenth of the training and at the
//! end; a failure is posted as its message. The page stops a sweep by terminating its workers, so
//! the loop needs no stop message.

use js_sys::{Float64Array, Uint8Array};
use latent_session::config::{Dataset, LabConfig};
use latent_session::sweep::plan::{SweepJob, WorkerReport};
use latent_session::sweep::Sweep;
use latent_session::SessionError;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::DedicatedWorkerGlobalScope;
use web_time::Instant;

/// Least time between progress reports (ms): the page's status line, not a flood of messages.
const PROGRESS_EVERY_MS: u128 = 200;
/// Longest chunk of steps between two looks at the clock.
const CHUNK: usize = 10;
/// Scores per member over the training (each costs two evaluations).
const SCORINGS: usize = 10;

/// Trains this worker's part of the sweep in `job` (a [`SweepJob`] as JSON) to the end; every
/// outcome, a failure too, is a report.
#[wasm_bindgen]
pub async fn train_sweep_part(job: String) {
    if let Err(e) = train(&job).await {
        scope().post_message(&JsValue::from_str(&e.to_string())).ok();
    }
}

async fn train(job: &str) -> Result<(), SessionError> {
    let job: SweepJob = serde_json::from_str(job).map_err(|e| SessionError::Invalid(format!("the sweep worker got a bad job: {e}")))?;
    let (config, _notes) = LabConfig::from_query(&job.query);
    let plan = config.sweep.clone().ok_or_else(|| SessionError::Invalid("the job's link holds no sweep".into()))?;
    let mnist = match config.data.dataset {
        Dataset::Mnist => Some(fetch_bytes("assets/mnist-10k.bin").await.map_err(|e| SessionError::Invalid(format!("could not load the MNIST digits: {e}")))?),
        _ => None,
    };
    let mut sweep = Sweep::build_part(plan.spec(&config), None, mnist.as_deref(), job.part, job.parts)?;
    let (part, models) = (job.part, sweep.members().len());
    let score_every = plan.steps.div_ceil(SCORINGS).max(1);
    let mut last_progress = Instant::now();
    let mut step = 0;
    while step < plan.steps {
        let chunk = CHUNK.min(plan.steps - step).min(score_every - step % score_every);
        sweep.advance(chunk).await?;
        step += chunk;
        let report = WorkerReport { part, step: step as u64, models, done: step == plan.steps, scores: None };
        if step % score_every == 0 || report.done {
            post(&WorkerReport { scores: Some(sweep.scores().await?), ..report });
        } else if last_progress.elapsed().as_millis() >= PROGRESS_EVERY_MS {
            post(&report);
            last_progress = Instant::now();
        }
    }
    Ok(())
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(report: &WorkerReport) {
    // Posting numbers cannot fail while the worker lives.
    scope().post_message(&Float64Array::from(report.to_numbers().as_slice())).ok();
}

/// The bytes at `url` (relative to the worker's script, which sits beside the page).
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let text = |e: JsValue| e.as_string().unwrap_or_else(|| format!("{e:?}"));
    let response = JsFuture::from(scope().fetch_with_str(url)).await.map_err(text)?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "fetch gave no response".to_string())?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(text)?).await.map_err(text)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
