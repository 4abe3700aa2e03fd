//! The one task that owns the page's [`Run`]. Each animation frame it goes through its phases:
//! commands that replace the run (reset, restore), the engine, the run itself (a new shape rebuilds
//! it), knobs, one-off commands, training as many steps as fit the frame budget, and a picture
//! refresh when one is due. Every failure leaves through one exit, [`Driver::fail`]. The run
//! decides evaluations, early stopping, divergence and checkpoints; the driver presents them. The
//! page never blocks: every readback awaits, and control returns to the browser each frame. A
//! hidden tab gets no frames, so training pauses there by itself. Both engines train in the
//! engine's worker (the page's module carries neither); for a run without branches, a frame's
//! chunk is submitted at the end of its training and concluded first thing the next frame
//! ([`InFlight`]), so the worker trains while the page waits.

use std::sync::Arc;
use std::time::Duration;

use latent_core::data::mnist::Mnist;
use latent_core::data::RunData;
use latent_session::branches::Branches;
use latent_session::config::{Dataset, EnginePref, Knob, LabConfig};
use latent_session::hosted::Host;
use latent_session::run::{load_rows, Cadence, Due, GanPart, Markers, Progress, RunEvent, Submitted, ViewRequest, INTERACTIVE_EARLY_STOP, READOUT_SHARE};
use latent_session::{Run, RunSpec, SessionError, Start};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::engine::{self, EngineInfo};
use crate::lesson::LessonState;
use crate::state::{Lab, MemoryUse, Notice, Phase, Requests};

mod branches;

/// Time a frame's training aims at (ms); the rest of the frame stays with the page.
const FRAME_BUDGET_MS: f64 = 25.0;
/// Most steps in one frame.
const MAX_STEPS_PER_FRAME: usize = 200;
/// Least time between picture refreshes while training; each also waits [`READOUT_SHARE`] times
/// what the last one cost.
const VIEWS_EVERY: Duration = Duration::from_millis(700);
/// Frames to wait for the browser to report a lost device after a GPU call failed.
const LOSS_REPORT_FRAMES: usize = 30;
/// Window over which steps/s is measured (ms): training and readouts together, as the user sees it.
const RATE_WINDOW_MS: f64 = 2000.0;

/// The sizes of the page's pictures.
pub const GRID_IMAGES: usize = 32;
pub const POINTS_2D: usize = 1024;
pub const SCATTER_POINTS: usize = 1000;
pub const MANIFOLD_SIDE: usize = 12;
pub const INTERPOLATION_STEPS: usize = 10;
pub const HISTOGRAM_BINS: usize = 40;

fn cannot_build(error: SessionError) -> SessionError {
    SessionError::Invalid(format!("This model cannot be built: {error}"))
}

pub fn start(lab: Lab) {
    spawn_local(async move { Driver::open(lab).await.drive().await });
}

/// The engine the page opened in its worker, and the preference it was opened for.
struct Engine {
    /// The worker the engine trains in (`None` where none started or answered).
    host: Option<Host>,
    /// Whether the worker opened the GPU (else the CPU twin trains there).
    gpu: bool,
    pref: EnginePref,
}

impl Engine {
    /// Where the page's runs build their models: the worker, or (where none started) the page's
    /// own module, which has no engine and says so.
    fn models(&self) -> latent_session::Engine<'_> {
        self.host.as_ref().map_or(latent_session::Engine::Cpu, latent_session::Engine::Hosted)
    }
}

/// A rebuild waiting to start from an earlier run's checkpoint (a restore after a divergence, or
/// a lost device), for the config that run had.
struct Recovery {
    config: LabConfig,
    start: Start,
    /// What the loss chart marks at the step the run resumes from.
    marker: &'static str,
    /// Whether the branches beside the run go on as they are (a restore); otherwise they are
    /// forked again from the rebuilt run (their buffers went with a lost device).
    keeps_forks: bool,
}

/// Steps per frame, sized to the frame budget, and the window steps/s is measured over.
struct Pace {
    steps_per_frame: usize,
    window_start: (f64, u64),
}

impl Pace {
    /// The next frame's steps after `steps` took `elapsed_ms`: as many as fit the frame budget, at
    /// most twice as many as this time.
    fn paced(&mut self, steps: usize, elapsed_ms: f64) {
        let ideal = steps as f64 * FRAME_BUDGET_MS / elapsed_ms.max(0.1);
        self.steps_per_frame = (ideal.min(steps as f64 * 2.0).floor() as usize).clamp(1, MAX_STEPS_PER_FRAME);
    }
}

struct Driver {
    lab: Lab,
    engine: Engine,
    /// The MNIST digits, parsed and checked once.
    mnist: Option<Mnist>,
    /// The rows the last run was built on, and the spec it was built from.
    rows: Option<(RunSpec, Arc<RunData>)>,
    run: Option<Run>,
    /// The branches training beside it, in the order of the config's forks.
    forks: Branches,
    /// The config the run's knobs and options were last set from.
    applied: Option<LabConfig>,
    /// The config that last failed to build: not retried until the config changes.
    failed: Option<LabConfig>,
    recovery: Option<Recovery>,
    pace: Pace,
    views_due: Due,
    views_stale: bool,
    /// The interpolation's two held-out rows.
    pair: (usize, usize),
    /// Steps the CPU engine's worker trains while the page waits for its next frame.
    in_flight: Option<InFlight>,
}

/// A chunk submitted at the end of one frame's training and concluded at the start of the next,
/// before any command touches the run: where no branch trains beside the run, the engine's worker
/// then trains through the page's wait for a frame, its pictures and its drawing instead of idling
/// until the next chunk is posted.
struct InFlight {
    submitted: Submitted,
    started_ms: f64,
}

impl Driver {
    async fn open(lab: Lab) -> Self {
        let engine = open_engine(&lab).await;
        Self {
            lab,
            engine,
            mnist: None,
            rows: None,
            run: None,
            forks: Branches::default(),
            applied: None,
            failed: None,
            recovery: None,
            pace: Pace { steps_per_frame: 1, window_start: (0.0, 0) },
            views_due: Due::new(Cadence::Timed { every: VIEWS_EVERY, share: READOUT_SHARE }),
            views_stale: true,
            pair: (0, 1),
            in_flight: None,
        }
    }

    async fn drive(mut self) {
        loop {
            browser::next_frame().await;
            if let Err(error) = self.frame().await {
                self.fail(error).await;
            }
        }
    }

    /// One frame's phases.
    async fn frame(&mut self) -> Result<(), SessionError> {
        let requests = self.lab.take_requests();
        if let Some(progress) = self.conclude_in_flight().await? {
            self.present(progress, false, &self.lab.config.get_untracked());
        }
        let reset = requests.reset;
        if requests.restore && !reset {
            self.restore();
        }
        self.ensure_engine().await;
        // A lesson on its way (a link's, as the page opens) sets up the model: none is built before.
        if self.run.is_none() && self.lab.lesson.with_untracked(|l| matches!(l, LessonState::Loading(_))) {
            return Ok(());
        }
        let config = self.lab.config.get_untracked();
        self.ensure_run(&config, reset).await?;
        if self.run.is_none() {
            return Ok(());
        }
        self.branch_commands(&requests);
        let config = self.lab.config.get_untracked();
        self.apply_settings(&config)?;
        let mut progress = self.one_off_commands(&requests).await?;
        let single = requests.step;
        if let Some(trained) = self.train(single).await? {
            progress = Some(trained);
        }
        match progress {
            Some(progress) => self.present(progress, single, &config),
            None => {
                if !self.playing() && self.lab.phase.get_untracked() == Phase::Training {
                    self.lab.phase.set(Phase::Paused);
                }
            }
        }
        // The pictures are read back and drawn in a task of their own, the pad's digit in another:
        // after a frame's training, one task holding all three would block the page for 100 ms.
        if self.views_stale {
            browser::yield_to_page().await;
        }
        let refreshed = self.refresh_views().await?;
        let drawing = requests.encode_drawing || refreshed;
        if drawing {
            // The views' effects draw before the next task: their time, measured.
            let _drawn = refreshed.then(|| browser::Timed::start("latent:views-drawn"));
            browser::yield_to_page().await;
        }
        self.refresh_drawing(drawing).await
    }

    fn playing(&self) -> bool {
        self.lab.playing.get_untracked() && self.lab.phase.get_untracked() != Phase::Diverged
    }

    /// Restore: the next build starts from the run's last good checkpoint, with the settings kept.
    fn restore(&mut self) {
        let Some(run) = self.run.take() else { return };
        if let Some(checkpoint) = run.last_checkpoint() {
            let message = format!("Restored the last good checkpoint, step {}, with your current settings. Press play to train on.", checkpoint.step);
            self.lab.notice.set(Some(Notice::UntilPlay { text: message, problem: false }));
            self.recovery = Some(Recovery { config: self.applied.clone().unwrap_or_default(), start: run.recovery(), marker: "restored", keeps_forks: true });
        } else {
            self.run = Some(run);
        }
    }

    /// Reopens the engine when the config asks for another one.
    async fn ensure_engine(&mut self) {
        if self.lab.config.with_untracked(|c| c.engine) != self.engine.pref {
            self.run = None;
            self.forks.clear();
            self.engine = open_engine(&self.lab).await;
        }
    }

    /// Builds the run when there is none, the shape changed or the user reset it; a config that
    /// failed to build is not retried until it changes (or a reset).
    async fn ensure_run(&mut self, config: &LabConfig, reset: bool) -> Result<(), SessionError> {
        let rebuild = self.applied.as_ref().is_none_or(|applied| config.rebuilds_from(applied));
        let needed = self.run.is_none() || rebuild || reset;
        if !needed || (self.failed.as_ref() == Some(config) && !reset) {
            return Ok(());
        }
        let recovery = self.recovery.take().filter(|r| !reset && !config.rebuilds_from(&r.config));
        let keeps_forks = recovery.as_ref().is_some_and(|r| r.keeps_forks);
        // The old models' buffers go before the new ones are made.
        self.run = None;
        if !keeps_forks {
            self.forks.clear();
            self.lab.branches.set(Vec::new());
        }
        let lab = self.lab;
        lab.best_step.set(None);
        lab.step.set(0);
        lab.part_steps.set([0, 0]);
        lab.phase.set(Phase::Starting);
        self.failed = Some(config.clone());
        // A run file the user opened (if it is for this shape), else a pending recovery.
        let import = lab.pending_import.try_update_value(Option::take).flatten().filter(|file| !LabConfig::from_query(&file.query).0.rebuilds_from(config));
        let (start, marker) = match (&import, recovery) {
            (Some(file), _) => (Start::from_file(file), Some("imported")),
            (None, Some(recovery)) => (recovery.start, Some(recovery.marker)),
            (None, None) => (Start::Fresh, None),
        };
        let spec = config.run_spec();
        let rows = self.rows_for(&spec).await?;
        let _timed = browser::Timed::start("latent:build");
        let run = Run::build_on(spec, rows, self.engine.models(), start).map_err(cannot_build)?;
        self.failed = None;
        lab.history.set(run.history().clone());
        lab.step.set(run.step());
        // A fresh run starts unmarked; a resumed one keeps what happened up to where it resumes.
        lab.markers.update(|markers| match marker {
            Some(text) => {
                markers.rewind(run.step());
                markers.event(run.step(), text);
            }
            None => *markers = Markers::default(),
        });
        lab.checkpoint_step.set(run.last_checkpoint().map(|c| c.step));
        if let Some(file) = import {
            let text = format!("Run restored at step {}: its settings, weights and history. Press play to train on.", file.step);
            lab.notice.set(Some(Notice::UntilPlay { text, problem: false }));
        }
        self.pair = run.class_pairs(1).first().copied().unwrap_or((0, 1));
        self.run = Some(run);
        // Kept branches already have the knobs they had; new ones are forked from the new run.
        let previous = if keeps_forks { self.applied.as_ref().map(|a| a.forks.clone()).unwrap_or_default() } else { Vec::new() };
        self.sync_forks(&config.forks, &previous)?;
        self.applied = Some(config.clone());
        lab.phase.set(if lab.playing.get_untracked() { Phase::Training } else { Phase::Ready });
        self.views_stale = true;
        self.pace.steps_per_frame = 1;
        Ok(())
    }

    /// The rows `spec` trains on: the last build's when it read the same ones (a new shape keeps
    /// its data), else loaded in a task of their own. Parsing and checking MNIST's 7.8 MB takes
    /// about 30 ms, which with the model's build made one long task as the page opened; now the
    /// digits are checked as they inflate, once, and the rows cut from them in a task of their own.
    async fn rows_for(&mut self, spec: &RunSpec) -> Result<Arc<RunData>, SessionError> {
        if let Some((loaded_for, rows)) = &self.rows {
            if loaded_for.reads_same_rows(spec) {
                return Ok(Arc::clone(rows));
            }
        }
        // The old rows go before new ones are loaded.
        self.rows = None;
        if matches!(spec.data.dataset, Dataset::Mnist) && self.mnist.is_none() {
            let cannot_load = |e: String| SessionError::Invalid(format!("Could not load the MNIST digits ({e}). Try a 2D dataset, or reload the page."));
            self.mnist = Some(latent_web::fetch_mnist().await.map_err(cannot_load)?);
        }
        browser::yield_to_page().await;
        let rows = {
            let _timed = browser::Timed::start("latent:data");
            Arc::new(load_rows(spec, self.mnist.as_ref()).map_err(cannot_build)?)
        };
        self.rows = Some((spec.clone(), Arc::clone(&rows)));
        browser::yield_to_page().await;
        Ok(rows)
    }

    /// Knobs and early stopping act on the running model.
    fn apply_settings(&mut self, config: &LabConfig) -> Result<(), SessionError> {
        let Some(applied) = self.applied.as_ref().filter(|applied| *applied != config) else { return Ok(()) };
        // A lesson's `set` may change the branches too (a Fork press changes them in place).
        if applied.forks != config.forks {
            let previous = applied.forks.clone();
            self.sync_forks(&config.forks, &previous)?;
        }
        let (Some(run), Some(applied)) = (self.run.as_mut(), self.applied.as_ref()) else { return Ok(()) };
        if applied.knobs != config.knobs {
            run.set_knobs(&config.knobs)?;
            let changed = Knob::ALL.into_iter().filter(|k| k.applies_to(config) && k.get(config) != k.get(applied));
            let step = run.step();
            self.lab.markers.update(|markers| changed.for_each(|k| markers.knob_changed(step, k, k.get(config))));
        }
        run.set_early_stopping(config.early_stopping.then_some(INTERACTIVE_EARLY_STOP));
        self.applied = Some(config.clone());
        self.views_stale |= !self.lab.playing.get_untracked();
        Ok(())
    }

    /// Single D or G steps, the interpolation's ends, an export.
    async fn one_off_commands(&mut self, requests: &Requests) -> Result<Option<Progress>, SessionError> {
        let Some(run) = self.run.as_mut() else { return Ok(None) };
        let mut progress = None;
        for (index, asked, part) in [(0, requests.step_discriminator, GanPart::Discriminator), (1, requests.step_generator, GanPart::Generator)] {
            if asked {
                progress = Some(run.step_part(part).await?);
                let going = branches::going(self.lab);
                let reports = self.forks.step_part(part, |place| going.get(place).copied().unwrap_or(false)).await?;
                branches::record_fork_steps(self.lab, reports);
                self.lab.part_steps.update(|counts| counts[index] += 1);
                self.views_stale = true;
            }
        }
        if let Some(pair) = requests.pair {
            self.pair = pair;
            self.views_stale = true;
        }
        if requests.rescale_histograms {
            run.rescale_histograms().await?;
            self.views_stale = true;
        }
        if requests.export {
            let query = self.lab.config.with_untracked(LabConfig::to_query);
            match run.export(query).await {
                Ok(file) => {
                    if let Err(e) = browser::download("latent-lab-run.json", "application/json", file.to_json().as_bytes()) {
                        self.lab.notice.set(Some(Notice::Problem(format!("The export could not be saved: {e}"))));
                    }
                }
                Err(e) => self.lab.notice.set(Some(Notice::Problem(format!("The export failed: {e}")))),
            }
        }
        Ok(progress)
    }

    /// While playing, as many steps as fit the frame budget (one when the user asked for a step,
    /// scored at once); the run decides the rest.
    async fn train(&mut self, single: bool) -> Result<Option<Progress>, SessionError> {
        let playing = self.playing();
        let Some(run) = self.run.as_mut().filter(|_| playing || single) else { return Ok(None) };
        match crate::faults::take_divergence() {
            Some(0) => run.inject_divergence(),
            Some(branch) => self.forks.inject_divergence(branch - 1),
            None => {}
        }
        if single {
            run.evaluate_next();
        }
        // A frame that scores the splits trains one step, and scores each split in a task of its
        // own: the step and the two scores together were a task of 55 ms at the CPU defaults.
        let paced = !single && !run.evaluates_next();
        let steps = if paced { self.pace.steps_per_frame } else { 1 };
        if paced && self.engine.host.is_some() && self.forks.is_empty() {
            self.in_flight = Some(InFlight { submitted: run.submit(steps)?, started_ms: browser::now_ms() });
            return Ok(None);
        }
        let _timed = browser::Timed::start("latent:train");
        let started = browser::now_ms();
        let progress = run.advance_pausing(steps, Some(&browser::pause)).await?;
        self.train_forks(steps, single).await?;
        if paced {
            self.pace.paced(steps, browser::now_ms() - started);
        }
        Ok(Some(progress))
    }

    /// The chunk the worker trained while the page waited for this frame, and what the run decided
    /// after it. Its time, submission to answer, paces the next: when the worker finished early it
    /// is about a frame, which grows the chunks until one fills [`FRAME_BUDGET_MS`].
    async fn conclude_in_flight(&mut self) -> Result<Option<Progress>, SessionError> {
        let (Some(flight), Some(run)) = (self.in_flight.take(), self.run.as_mut()) else { return Ok(None) };
        let _timed = browser::Timed::start("latent:train");
        let steps = flight.submitted.steps;
        let progress = run.conclude_submitted(flight.submitted, Some(&browser::pause)).await?;
        self.pace.paced(steps, browser::now_ms() - flight.started_ms);
        Ok(Some(progress))
    }

    /// Shows what the latest steps measured and what the run decided.
    fn present(&mut self, progress: Progress, single: bool, config: &LabConfig) {
        let lab = self.lab;
        let Some(run) = self.run.as_ref() else { return };
        match &progress.event {
            Some(RunEvent::Diverged) => {
                diverged(&lab, config, run);
                self.views_stale = true;
            }
            Some(RunEvent::EarlyStopped { best_step, best, .. }) => {
                lab.playing.set(false);
                lab.phase.set(Phase::Paused);
                let text = format!(
                    "Early stopping: the held-out loss has not improved for {} evaluations. The best model (step {best_step}, held-out −ELBO {best:.1}) is restored; press play to train on.",
                    INTERACTIVE_EARLY_STOP.patience
                );
                lab.notice.set(Some(Notice::UntilPlay { text, problem: false }));
                self.views_stale = true;
            }
            None => self.views_stale |= single || self.views_due.is_due(),
        }
        lab.history.update(|h| h.push(progress.point));
        lab.best_step.set(run.best().map(|(step, _)| step));
        lab.checkpoint_step.set(run.last_checkpoint().map(|c| c.step));
        lab.step.set(run.step());
        self.report_rate(run.step());
        if self.playing() {
            lab.phase.set(Phase::Training);
        }
    }

    /// Steps/s over the rate window, and memory in use, for the top bar and `#lab-status`.
    fn report_rate(&mut self, step: u64) {
        let now = browser::now_ms();
        let (since, from_step) = self.pace.window_start;
        if step < from_step || now - since > 2.0 * RATE_WINDOW_MS {
            self.pace.window_start = (now, step);
        } else if now - since >= RATE_WINDOW_MS {
            self.lab.steps_per_second.set((step - from_step) as f64 * 1000.0 / (now - since));
            self.pace.window_start = (now, step);
            self.report_memory();
        }
    }

    /// The worker's GPU buffers (asked in a task of its own: the answer comes after the chunk
    /// training now) and the page's WebAssembly memory.
    fn report_memory(&self) {
        let lab = self.lab;
        let wasm_bytes = browser::wasm_memory_bytes();
        match self.engine.host.as_ref().filter(|_| self.engine.gpu) {
            Some(host) => {
                let device = host.device();
                spawn_local(async move {
                    if let Ok(status) = device.await {
                        lab.memory.set(MemoryUse { gpu_buffers: status.buffers, gpu_bytes: status.bytes, wasm_bytes });
                    }
                });
            }
            None => lab.memory.set(MemoryUse { gpu_buffers: 0, gpu_bytes: 0, wasm_bytes }),
        }
    }

    /// Reads back the pictures when they are stale; true when it did.
    async fn refresh_views(&mut self) -> Result<bool, SessionError> {
        let Some(run) = self.run.as_ref().filter(|_| self.views_stale) else { return Ok(false) };
        let request = ViewRequest {
            images: GRID_IMAGES,
            points_2d: POINTS_2D,
            scatter_points: Some(SCATTER_POINTS),
            manifold_side: MANIFOLD_SIDE,
            interpolations: vec![self.pair],
            interpolation_steps: INTERPOLATION_STEPS,
            histogram_bins: Some(HISTOGRAM_BINS),
        };
        let started = web_time::Instant::now();
        let timed = browser::Timed::start("latent:views");
        let views = run.views(&request).await?;
        let fork_views = self.fork_views().await?;
        self.views_due.done(started);
        drop(timed);
        // The views draw in a task of their own: with the readback they made one of 30 ms.
        browser::yield_to_page().await;
        if let Some(fork_views) = fork_views {
            self.lab.branch_views.set(fork_views);
        }
        self.lab.views.set(views);
        self.views_stale = false;
        Ok(true)
    }

    /// Encodes the pad's digit when it changed or the pictures were refreshed (the model moved on
    /// under it); nothing to show for an empty pad, or a model without an encoder for digits.
    async fn refresh_drawing(&mut self, due: bool) -> Result<(), SessionError> {
        let Some(run) = self.run.as_ref().filter(|_| due) else { return Ok(()) };
        let reads_digits = self.lab.config.with_untracked(|c| c.shape.model.has_encoder() && c.data.dataset == Dataset::Mnist);
        let input = self.lab.pad.with_untracked(|pad| pad.encoder_input()).filter(|_| reads_digits);
        match input {
            Some(input) => self.lab.drawing.set(Some(run.encode_drawing(&input).await?)),
            // Every refresh passes here: an empty pad that stays empty wakes no view.
            None if self.lab.drawing.with_untracked(Option::is_some) => self.lab.drawing.set(None),
            None => {}
        }
        Ok(())
    }

    /// The one error exit. A lost GPU (reported by the error itself, or by the browser within a
    /// few frames of a failed GPU call) is reopened and the model rebuilt from the last good
    /// checkpoint with the settings kept; anything else pauses with the message.
    async fn fail(&mut self, error: SessionError) {
        let run = self.run.take();
        self.lab.playing.set(false);
        let lost = match error.device_lost() {
            Some(reason) => Some(reason.to_string()),
            None if error.is_device_error() => device_lost(&self.engine).await,
            None => None,
        };
        let Some(reason) = lost else {
            log::error!("{error}");
            self.lab.phase.set(Phase::Error);
            self.lab.notice.set(Some(Notice::Problem(error.to_string())));
            return;
        };
        log::warn!("engine lost: {reason}; {error}");
        // A worker that still answers lost its device; one that does not stopped.
        let answers = match &self.engine.host {
            Some(host) => host.device().await.is_ok(),
            None => false,
        };
        let (lost, marker) = match (self.engine.gpu, answers) {
            (true, true) => ("The GPU device was lost", "rebuilt (device lost)"),
            (true, false) => ("The GPU engine's worker stopped", "rebuilt (worker lost)"),
            (false, _) => ("The CPU engine's worker stopped", "rebuilt (worker lost)"),
        };
        self.engine = open_engine(&self.lab).await;
        let (start, from) = match run.as_ref().map(Run::recovery) {
            Some(Start::Resume { checkpoint, history }) => {
                let from = format!("from step {} (its last checkpoint)", checkpoint.step);
                (Start::Resume { checkpoint, history }, from)
            }
            _ => (Start::Fresh, "from new weights".to_string()),
        };
        let config = self.applied.clone().unwrap_or_else(|| self.lab.config.get_untracked());
        self.recovery = Some(Recovery { config, start, marker, keeps_forks: false });
        let text = format!("{lost} ({reason}). Latent Lab reopened it and rebuilt the model {from}, with your settings kept; press play to train on.");
        self.lab.notice.set(Some(Notice::UntilPlay { text, problem: true }));
    }
}

/// Opens the engine the config asks for, reporting it; on the CPU fallback the default shapes
/// shrink to what a CPU trains live.
async fn open_engine(lab: &Lab) -> Engine {
    lab.engine.set(EngineInfo::Starting);
    let pref = lab.config.get_untracked().engine;
    let (host, info) = engine::open(pref).await;
    if matches!(info, EngineInfo::Cpu { reason: Some(_) }) {
        lab.config.update(|config| lab.apply_cpu_defaults(config));
    }
    let gpu = matches!(info, EngineInfo::WebGpu { .. });
    lab.engine.set(info);
    Engine { host, gpu, pref }
}

/// Both engines train in a worker, so the page's main thread never runs a step (the page's module
/// has neither engine of its own: where no worker starts, a build says why).
#[cfg(target_arch = "wasm32")]
pub(crate) fn engine_worker() -> Option<Host> {
    crate::engine_worker::open().map_err(|e| log::error!("the engine's worker did not start: {e}")).ok()
}

/// Workers exist only in a browser (the app builds natively for its unit tests).
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn engine_worker() -> Option<Host> {
    None
}

fn diverged(lab: &Lab, config: &LabConfig, run: &Run) {
    lab.playing.set(false);
    lab.phase.set(Phase::Diverged);
    let way_back = match run.last_checkpoint() {
        Some(last) => format!("then press Restore to go back to step {} (the last good checkpoint), or Reset to start again", last.step),
        None => "then press Reset".to_string(),
    };
    lab.notice.set(Some(Notice::Problem(format!(
        "Training diverged: a loss became NaN or infinite (learning rate η = {}). Training is paused and your settings are kept: lower the learning rate, {way_back}.",
        config.knobs.lr
    ))));
}

/// The reason the engine's device was lost (or its worker stopped), if the worker reports it
/// within a few frames.
async fn device_lost(engine: &Engine) -> Option<String> {
    let host = engine.host.as_ref().filter(|_| engine.gpu)?;
    for _ in 0..LOSS_REPORT_FRAMES {
        match host.device().await {
            Ok(status) if status.lost.is_some() => return status.lost,
            Ok(_) => {}
            Err(e) => return Some(e.to_string()),
        }
        browser::next_frame().await;
    }
    None
}
