//! The page's sweeps: the plan in the config (`sweep=…` in the link) trained by Web Workers, never
//! on the main thread. Each worker (`www/worker.js` loading the `latent-worker` build) gets
//! the whole state as a link and its share of the members (`Sweep::build_part`), and reports steps
//! and scores by message; the page merges them into one [`SweepProgress`] and draws the curve.
//! Stopping terminates the workers; their last scores stay on the page. A finished sweep keeps its
//! workers, and so its models: picking a value asks the worker holding that value's first fold for
//! its pictures ([`show`]).

use js_sys::{Float32Array, Float64Array};
use latent_session::config::LabConfig;
use latent_session::config::ModelKind;
use latent_session::sweep::plan::{MemberViews, SweepJob, WorkerReport};
use latent_session::sweep::{Curve, Grid, MemberScore, SweepSpec};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser;
use crate::state::Lab;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SweepPhase {
    #[default]
    Idle,
    Running,
    Done,
    Stopped,
    Failed,
}

impl SweepPhase {
    pub fn key(self) -> &'static str {
        match self {
            Self::Idle => "idle",
            Self::Running => "running",
            Self::Done => "done",
            Self::Stopped => "stopped",
            Self::Failed => "failed",
        }
    }
}

/// One worker's share as it last reported.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartProgress {
    pub step: u64,
    pub models: usize,
    pub scores: Vec<MemberScore>,
    pub done: bool,
}

/// The sweep the page last started, as its workers reported it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SweepProgress {
    pub phase: SweepPhase,
    /// Why it failed or was refused.
    pub message: Option<String>,
    pub spec: Option<SweepSpec>,
    /// Steps each member trains.
    pub steps: usize,
    pub parts: Vec<PartProgress>,
    pub started_ms: f64,
    /// When the last part finished, or the sweep stopped.
    pub ended_ms: Option<f64>,
    /// The member whose pictures were asked for (value, fold), and its pictures once they came.
    pub showing: Option<(f32, usize)>,
    pub member: Option<MemberViews>,
    /// Why a member's pictures cannot be shown.
    pub member_note: Option<String>,
}

impl SweepProgress {
    /// Every member's latest score, in value order, the second knob's values within a value and
    /// folds within those.
    pub fn scores(&self) -> Vec<MemberScore> {
        let mut scores: Vec<MemberScore> = self.parts.iter().flat_map(|p| p.scores.iter().cloned()).collect();
        let across = |s: &MemberScore| s.across.unwrap_or(f32::NEG_INFINITY);
        scores.sort_by(|a, b| a.value.total_cmp(&b.value).then(across(a).total_cmp(&across(b))).then(a.fold.cmp(&b.fold)));
        scores
    }

    /// Whether this is a GAN's sweep, scored by modes and MMD rather than the ELBO.
    pub fn is_gan(&self) -> bool {
        self.spec.as_ref().is_some_and(|s| s.base.shape.model == ModelKind::Gan)
    }

    /// The validation curve of the latest scores (none before the first, nor for a GAN).
    pub fn curve(&self) -> Option<Curve> {
        let spec = self.spec.as_ref().filter(|_| !self.is_gan())?;
        let scores = self.scores();
        (!scores.is_empty()).then(|| Curve::new(&spec.values, &scores, spec.regularises_upward()))
    }

    /// A GAN sweep's grid of the latest scores (none before the first).
    pub fn grid(&self) -> Option<Grid> {
        let spec = self.spec.as_ref().filter(|_| self.is_gan())?;
        let scores = self.scores();
        (!scores.is_empty()).then(|| Grid::new(spec, &scores))
    }

    /// Steps taken by all members together.
    pub fn model_steps(&self) -> u64 {
        self.parts.iter().map(|p| p.step * p.models as u64).sum()
    }

    /// Least step any part has reached.
    pub fn step(&self) -> u64 {
        self.parts.iter().map(|p| p.step).min().unwrap_or(0)
    }

    /// Model-steps per second since the start.
    pub fn rate(&self) -> f64 {
        let seconds = (self.ended_ms.unwrap_or_else(browser::now_ms) - self.started_ms) / 1000.0;
        if seconds > 0.0 {
            self.model_steps() as f64 / seconds
        } else {
            0.0
        }
    }

    fn apply(&mut self, report: WorkerReport) {
        let Some(progress) = self.parts.get_mut(report.part) else { return };
        (progress.step, progress.models, progress.done) = (report.step, report.models, report.done);
        if let Some(scores) = report.scores {
            progress.scores = scores;
        }
        if self.phase == SweepPhase::Running && self.parts.iter().all(|p| p.done) {
            self.phase = SweepPhase::Done;
            self.ended_ms = Some(browser::now_ms());
        }
    }

    fn fail(&mut self, message: String) {
        self.phase = SweepPhase::Failed;
        self.message = Some(message);
        self.ended_ms = Some(browser::now_ms());
    }
}

/// The sweep's workers (running, or finished and holding their models); dropping it terminates them.
pub struct SweepWorkers {
    workers: Vec<SweepWorker>,
}

/// One worker and the handlers it calls (they must live as long as it does).
struct SweepWorker {
    worker: Worker,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for SweepWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// Starts the config's sweep over fresh workers (stopping one that runs); a sweep the data or
/// memory cannot hold is refused with the limit it passes.
pub fn start(lab: Lab) {
    stop(lab);
    let config = lab.config.get_untracked();
    let Some(plan) = config.sweep.clone() else { return };
    let spec = plan.spec(&config);
    let mut progress = SweepProgress { spec: Some(spec.clone()), steps: plan.steps, started_ms: browser::now_ms(), ..SweepProgress::default() };
    if let Err(e) = spec.check(config.data.train_size) {
        progress.fail(format!("This sweep cannot be trained: {e}."));
        lab.sweep.set(progress);
        return;
    }
    let parts = plan.workers.unwrap_or_else(|| browser::cores().max(2)).clamp(1, spec.members());
    progress.phase = SweepPhase::Running;
    progress.parts = vec![PartProgress::default(); parts];
    lab.sweep.set(progress);
    match spawn(lab, &config, parts) {
        Ok(workers) => lab.sweep_workers.set_value(Some(workers)),
        Err(e) => lab.sweep.update(|p| p.fail(format!("Could not start the sweep's workers: {e}."))),
    }
}

/// Asks for the pictures of the finished sweep's model at `value` (and `across` in a grid) on its
/// first fold, from the worker that trained it (member i is in part i mod the parts); they arrive
/// as a message.
pub fn show(lab: Lab, value: f32, across: Option<f32>) {
    let (index, done) = lab.sweep.with_untracked(|p| {
        let index = p.spec.as_ref().and_then(|spec| {
            let column = spec.values.iter().position(|v| *v == value)?;
            let seconds = spec.across_values();
            let row = seconds.iter().position(|a| *a == across)?;
            Some((column * seconds.len() + row) * spec.folds)
        });
        (index, p.phase == SweepPhase::Done)
    });
    let Some(index) = index.filter(|_| done) else {
        lab.sweep.update(|p| p.member_note = Some("Only a finished sweep keeps its models: train it to the end to see their pictures.".into()));
        return;
    };
    let posted = lab.sweep_workers.with_value(|workers| {
        let workers = &workers.as_ref()?.workers;
        let worker = &workers[index % workers.len()].worker;
        let request = [f64::from(value), 0.0, across.map_or(f64::NAN, f64::from)];
        Some(worker.post_message(&Float64Array::from(&request[..])).is_ok())
    });
    lab.sweep.update(|p| {
        (p.showing, p.member_note) = (Some((value, 0)), None);
        if posted != Some(true) {
            p.member_note = Some("The sweep's models are gone (it was stopped or closed): train it again to see their pictures.".into());
        }
    });
}

/// Stops the running sweep; the scores so far stay.
pub fn stop(lab: Lab) {
    lab.sweep_workers.set_value(None);
    lab.sweep.update(|p| {
        if p.phase == SweepPhase::Running {
            p.phase = SweepPhase::Stopped;
            p.ended_ms = Some(browser::now_ms());
        }
    });
}

fn spawn(lab: Lab, config: &LabConfig, parts: usize) -> Result<SweepWorkers, String> {
    let query = config.to_query();
    let mut workers = Vec::with_capacity(parts);
    for part in 0..parts {
        let worker = browser::spawn_worker()?;
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            // f64 numbers are a report, f32 numbers a member's pictures, a string a message: a
            // failure while training, after it why a member cannot be shown.
            let data = event.data();
            if let Some(numbers) = data.dyn_ref::<Float32Array>() {
                let views = MemberViews::from_numbers(&numbers.to_vec());
                lab.sweep.update(|p| match views {
                    Some(views) => (p.member, p.member_note) = (Some(views), None),
                    None => p.member_note = Some("A sweep worker sent pictures the page cannot read.".into()),
                });
                return;
            }
            let report = data.dyn_ref::<Float64Array>().and_then(|numbers| WorkerReport::from_numbers(&numbers.to_vec()));
            let running = lab.sweep.with_untracked(|p| p.phase == SweepPhase::Running);
            match (report, data.as_string()) {
                (Some(report), _) => lab.sweep.update(|p| p.apply(report)),
                (None, Some(message)) if running => lab.sweep.update(|p| p.fail(format!("The sweep stopped: {message}."))),
                (None, Some(message)) => lab.sweep.update(|p| p.member_note = Some(format!("Cannot show that model: {message}."))),
                (None, None) => lab.sweep.update(|p| p.fail("A sweep worker sent a message the page cannot read.".into())),
            }
            // A finished sweep's workers stay, holding the models to show; a failed one's go.
            if lab.sweep.with_untracked(|p| p.phase == SweepPhase::Failed) {
                lab.sweep_workers.set_value(None);
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| {
            lab.sweep.update(|p| p.fail(format!("A sweep worker stopped: {}", event.message())));
            lab.sweep_workers.set_value(None);
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let job = serde_json::to_string(&SweepJob { query: query.clone(), part, parts }).map_err(|e| e.to_string())?;
        worker.post_message(&JsValue::from_str(&job)).map_err(browser::js_text)?;
        workers.push(SweepWorker { worker, _on_message: on_message, _on_error: on_error });
    }
    Ok(SweepWorkers { workers })
}
