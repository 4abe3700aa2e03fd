//! One worker's share of a sweep: `train_sweep_part` takes a [`SweepJob`] (JSON), builds the
//! members `Sweep::build_part` gives this part, trains them in chunks and posts [`WorkerReport`]s
//! (as a `Float64Array`) after them: steps often, scores every tenth of the training and at the
//! end; a failure is posted as its message. The page stops a sweep by terminating its workers, so
//! the loop needs no stop message. A finished part stays in the worker, so `show_member` can post
//! one member's pictures (`MemberViews`, a `Float32Array`) when the student picks its value.

use std::cell::RefCell;

use js_sys::{Float32Array, Float64Array};
use latent_session::config::{Dataset, LabConfig};
use latent_session::sweep::plan::{SweepJob, WorkerReport};
use latent_session::sweep::Sweep;
use latent_session::SessionError;
use wasm_bindgen::prelude::*;
use web_sys::DedicatedWorkerGlobalScope;
use web_time::Instant;

/// Least time between progress reports (ms): the page's status line, not a flood of messages.
const PROGRESS_EVERY_MS: u128 = 200;
/// Longest chunk of steps between two looks at the clock.
const CHUNK: usize = 10;
/// Scores per member over the training (each costs two evaluations).
const SCORINGS: usize = 10;
/// Digits in a member's sample grid, and inputs with their reconstructions (the page's grids).
const MEMBER_IMAGES: usize = 16;

thread_local! {
    /// This worker's part once trained: what `show_member` draws from.
    static TRAINED: RefCell<Option<Sweep>> = const { RefCell::new(None) };
}

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
        Dataset::Mnist => Some(latent_web::fetch_mnist().await.map_err(|e| SessionError::Invalid(format!("could not load the MNIST digits: {e}")))?),
        _ => None,
    };
    let mut sweep = Sweep::build_part(plan.spec(&config), None, mnist.as_ref(), job.part, job.parts)?;
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
    TRAINED.with_borrow_mut(|trained| *trained = Some(sweep));
    Ok(())
}

/// Posts the pictures of this part's member at `value` (and `across`, NaN for a sweep of one
/// knob) on `fold` (`MemberViews` as a `Float32Array`), or a message saying why it cannot.
#[wasm_bindgen]
pub async fn show_member(value: f64, fold: usize, across: f64) {
    // Out of the cell while its views are read, so no borrow is held across an await.
    let Some(sweep) = TRAINED.with_borrow_mut(Option::take) else {
        scope().post_message(&JsValue::from_str("this worker holds no trained models to show")).ok();
        return;
    };
    let across = across.is_finite().then_some(across as f32);
    let views = sweep.member_views(value as f32, across, fold, MEMBER_IMAGES).await;
    TRAINED.with_borrow_mut(|trained| *trained = Some(sweep));
    let message = match views {
        Ok(Some(views)) => Float32Array::from(views.to_numbers().as_slice()).into(),
        Ok(None) => JsValue::from_str(&format!("no model at {value} (across {across:?}) on fold {fold} in this worker")),
        Err(e) => JsValue::from_str(&format!("could not draw that model: {e}")),
    };
    scope().post_message(&message).ok();
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn post(report: &WorkerReport) {
    // Posting numbers cannot fail while the worker lives.
    scope().post_message(&Float64Array::from(report.to_numbers().as_slice())).ok();
}
