//! The one task that owns the run. Each animation frame it applies what changed (a new shape
//! rebuilds the model; a knob goes to the running model), trains as many steps as fit the frame
//! budget, reads the metrics back asynchronously, and now and then scores both splits and refreshes
//! the pictures. The page never blocks: every readback awaits, and control returns to the browser
//! each frame. A hidden tab gets no frames, so training pauses there by itself.

use std::rc::Rc;

use latent_gpu::{GpuError, Kernels};
use latent_session::config::{Dataset, EnginePref, LabConfig};
use latent_session::{RunFile, SessionError};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::gpu::{self, EngineInfo};
use crate::run::{Checkpoint, Point, Run};
use crate::state::{Command, Lab, MemoryUse, Notice, Phase};

/// Time a frame's training aims at (ms); the rest of the frame stays with the page.
const FRAME_BUDGET_MS: f64 = 25.0;
/// Most steps in one frame.
const MAX_STEPS_PER_FRAME: usize = 200;
/// Least time between scorings of the two splits, and between picture refreshes, while training
/// (ms). Each also waits [`READOUT_SHARE`] times what it last cost, so on a slow adapter (a software
/// one, or the CPU engine) readouts never take more than about a fifth of the time.
const EVAL_EVERY_MS: f64 = 1000.0;
const VIEWS_EVERY_MS: f64 = 700.0;
const READOUT_SHARE: f64 = 4.0;
/// Least time between checkpoints of the weights (ms): a diverged run is restored, and a lost
/// device rebuilt, from the last one. Also at least [`READOUT_SHARE`] times what the last one cost.
const CHECKPOINT_EVERY_MS: f64 = 5000.0;
/// Frames to wait for the browser to report a lost device after a GPU call failed.
const LOSS_REPORT_FRAMES: usize = 30;
/// Window over which steps/s is measured (ms): training and readouts together, as the user sees it.
const RATE_WINDOW_MS: f64 = 2000.0;

pub fn start(lab: Lab) {
    spawn_local(drive(lab));
}

/// The engine the page opened, and the preference it was opened for.
struct Engine {
    kernels: Option<Rc<Kernels>>,
    pref: EnginePref,
}

async fn drive(lab: Lab) {
    let mut engine = open_engine(&lab).await;
    let mut mnist: Option<Vec<u8>> = None;
    let mut run: Option<Run> = None;
    // The shape that last failed to build: not retried until the config changes.
    let mut failed: Option<LabConfig> = None;
    let mut steps_per_frame = 1usize;
    // When the next scoring and picture refresh are due (ms), and where the rate window started.
    let (mut next_eval, mut next_views) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    let mut rate_from = (0.0, 0u64);
    let mut views_stale = true;
    let mut saved = Saved::default();
    loop {
        browser::next_frame().await;
        let config = lab.config.get_untracked();
        let commands = lab.take_commands();
        let reset = commands.contains(&Command::Reset);
        if commands.contains(&Command::Restore) && !reset {
            if let Some(last) = saved.last.clone() {
                lab.notice.set(Some(Notice::Info(format!(
                    "Restored the last good checkpoint, step {}, with your current settings. Press play to train on.",
                    last.step
                ))));
                saved.resume = Some(last);
                run = None;
            }
        }
        if config.engine != engine.pref {
            run = None;
            engine = open_engine(&lab).await;
        }
        let shape_changed = run.as_ref().is_none_or(|r| r.config.shape() != config.shape());
        if (shape_changed || reset) && (failed.as_ref() != Some(&config) || reset) {
            run = None; // the old model's buffers go before the new ones are made
            let resume = saved.resume.take().filter(|_| !reset && !shape_changed_since_checkpoint(&saved, &config));
            if resume.is_none() {
                saved = Saved::default();
                lab.checkpoint_step.set(None);
                lab.history.set(Vec::new());
            }
            lab.best_step.set(None);
            lab.step.set(0);
            lab.phase.set(Phase::Starting);
            if matches!(config.dataset, Dataset::Mnist) && mnist.is_none() {
                match browser::fetch_bytes("assets/mnist-10k.bin").await {
                    Ok(bytes) => mnist = Some(bytes),
                    Err(e) => {
                        fail(&lab, &format!("Could not load the MNIST digits ({e}). Try a 2D dataset, or reload the page."));
                        failed = Some(config);
                        continue;
                    }
                }
            }
            // A run file the user opened: its weights, if it is for this shape.
            let import = lab.pending_import.try_update_value(Option::take).flatten();
            let import = import.filter(|file| LabConfig::from_query(&file.query).0.shape() == config.shape());
            let imported = import.as_ref().map(RunFile::weights);
            let weights = imported.as_deref().or(resume.as_ref().map(|r| r.weights.as_slice()));
            match Run::build(&config, engine.kernels.as_ref(), mnist.as_deref(), weights) {
                Ok(mut built) => {
                    saved.shape = Some(config.clone());
                    if let Some(resume) = resume.filter(|_| import.is_none()) {
                        built.step = resume.step;
                        lab.history.update(|h| h.retain(|p| p.step <= resume.step));
                        lab.step.set(resume.step);
                    }
                    if let Some(file) = import {
                        built.step = file.step;
                        lab.history.set(file.history_rows().map(Point::from_row).collect());
                        lab.step.set(file.step);
                        lab.notice
                            .set(Some(Notice::Info(format!("Run restored at step {}: its settings, weights and history. Press play to train on.", file.step))));
                    }
                    run = Some(built);
                    failed = None;
                    lab.phase.set(if lab.playing.get_untracked() { Phase::Training } else { Phase::Ready });
                    views_stale = true;
                    steps_per_frame = 1;
                }
                Err(e) => {
                    fail(&lab, &format!("This model cannot be built: {e}"));
                    failed = Some(config);
                    continue;
                }
            }
        }
        let Some(current) = run.as_mut() else { continue };
        if current.config != config {
            if let Err(e) = current.set_knobs(&config) {
                handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                continue;
            }
            views_stale |= !lab.playing.get_untracked();
        }
        let mut trained = None;
        for command in &commands {
            let part = match command {
                Command::StepDiscriminator => Some(true),
                Command::StepGenerator => Some(false),
                Command::Pair(a, b) => {
                    current.set_pair((*a, *b));
                    views_stale = true;
                    None
                }
                Command::Export => {
                    match current.export(&lab.history.get_untracked()).await {
                        Ok(file) => {
                            if let Err(e) = browser::download("latent-lab-run.json", "application/json", file.to_json().as_bytes()) {
                                lab.notice.set(Some(Notice::Problem(format!("The export could not be saved: {e}"))));
                            }
                        }
                        Err(e) => lab.notice.set(Some(Notice::Problem(format!("The export failed: {e}")))),
                    }
                    None
                }
                Command::Step | Command::Reset | Command::Restore => None,
            };
            if let Some(discriminator) = part {
                match current.step_gan_part(discriminator).await {
                    Ok(point) => {
                        trained = point;
                        views_stale = true;
                    }
                    Err(e) => {
                        handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                        break;
                    }
                }
            }
        }
        let Some(current) = run.as_mut() else { continue };
        let single = commands.contains(&Command::Step);
        let playing = lab.playing.get_untracked() && lab.phase.get_untracked() != Phase::Diverged;
        if playing || single {
            let steps = if single { 1 } else { steps_per_frame };
            let started = browser::now_ms();
            match current.train(steps).await {
                Ok(point) => {
                    let elapsed = (browser::now_ms() - started).max(0.1);
                    if !single {
                        let ideal = steps as f64 * FRAME_BUDGET_MS / elapsed;
                        steps_per_frame = (ideal.min(steps as f64 * 2.0).floor() as usize).clamp(1, MAX_STEPS_PER_FRAME);
                    }
                    trained = Some(point);
                }
                Err(e) => {
                    handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                    continue;
                }
            }
        }
        let Some(current) = run.as_mut() else { continue };
        if let Some(mut point) = trained {
            let now = browser::now_ms();
            if crate::faults::take_divergence() {
                point.total = f64::NAN;
            }
            if !point.is_finite() {
                diverged(&lab, &config, &saved);
                lab.push_history(point);
                views_stale = true;
            } else {
                if single || now >= next_eval || lab.history.with_untracked(Vec::is_empty) {
                    let result = current.evaluate(&mut point).await;
                    let done = browser::now_ms();
                    next_eval = done + EVAL_EVERY_MS.max(READOUT_SHARE * (done - now));
                    match result {
                        Ok(Some(stopped)) => {
                            lab.playing.set(false);
                            lab.phase.set(Phase::Paused);
                            lab.notice.set(Some(Notice::Info(stopped)));
                            views_stale = true;
                        }
                        Ok(None) => {}
                        Err(e) => {
                            handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                            continue;
                        }
                    }
                    lab.best_step.set(current.best_step());
                    // Weights that score NaN on either split are finite but already ruined.
                    let scored = [point.train, point.test].iter().flatten().all(|v| v.is_finite());
                    if scored && browser::now_ms() >= saved.next_due {
                        let started = browser::now_ms();
                        match current.checkpoint().await {
                            Ok(Some(checkpoint)) => {
                                lab.checkpoint_step.set(Some(checkpoint.step));
                                saved.last = Some(checkpoint);
                            }
                            Ok(None) => {}
                            Err(e) => {
                                handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                                continue;
                            }
                        }
                        let done = browser::now_ms();
                        saved.next_due = done + CHECKPOINT_EVERY_MS.max(READOUT_SHARE * (done - started));
                    }
                }
                lab.push_history(point);
                views_stale |= single || now >= next_views;
            }
            lab.step.set(current.step);
            let now = browser::now_ms();
            if current.step < rate_from.1 || now - rate_from.0 > 2.0 * RATE_WINDOW_MS {
                rate_from = (now, current.step);
            } else if now - rate_from.0 >= RATE_WINDOW_MS {
                lab.steps_per_second.set((current.step - rate_from.1) as f64 * 1000.0 / (now - rate_from.0));
                rate_from = (now, current.step);
                let (gpu_buffers, gpu_bytes) = engine.kernels.as_ref().map_or((0, 0), |k| k.context().allocations());
                lab.memory.set(MemoryUse { gpu_buffers, gpu_bytes, wasm_bytes: browser::wasm_memory_bytes() });
            }
            if playing && lab.phase.get_untracked() != Phase::Diverged && lab.playing.get_untracked() {
                lab.phase.set(Phase::Training);
            }
        } else if !playing && lab.phase.get_untracked() == Phase::Training {
            lab.phase.set(Phase::Paused);
        }
        if views_stale {
            let Some(current) = run.as_ref() else { continue };
            let started = browser::now_ms();
            let result = current.views().await;
            let done = browser::now_ms();
            next_views = done + VIEWS_EVERY_MS.max(READOUT_SHARE * (done - started));
            match result {
                Ok(views) => lab.views.set(views),
                Err(e) => {
                    handle_error(&lab, &mut run, &mut engine, &mut saved, e).await;
                    continue;
                }
            }
            views_stale = false;
        }
    }
}

/// Opens the engine the config asks for, reporting it; on the CPU fallback the default shapes
/// shrink to what a CPU trains live.
async fn open_engine(lab: &Lab) -> Engine {
    lab.engine.set(EngineInfo::Starting);
    let pref = lab.config.get_untracked().engine;
    let (kernels, info) = gpu::open(pref).await;
    if matches!(info, EngineInfo::Cpu { reason: Some(_) }) {
        lab.config.update(LabConfig::shrink_for_cpu);
    }
    lab.engine.set(info);
    Engine { kernels, pref }
}

fn fail(lab: &Lab, message: &str) {
    lab.playing.set(false);
    lab.phase.set(Phase::Error);
    lab.notice.set(Some(Notice::Problem(message.to_string())));
}

fn diverged(lab: &Lab, config: &LabConfig, saved: &Saved) {
    lab.playing.set(false);
    lab.phase.set(Phase::Diverged);
    let way_back = match &saved.last {
        Some(last) => format!("then press Restore to go back to step {} (the last good checkpoint), or Reset to start again", last.step),
        None => "then press Reset".to_string(),
    };
    lab.notice.set(Some(Notice::Problem(format!(
        "Training diverged: a loss became NaN or infinite (learning rate η = {}). Training is paused and your settings are kept: lower the learning rate, {way_back}.",
        config.lr
    ))));
}

/// Checkpoints of the current run, kept by the driver in page memory.
#[derive(Default)]
struct Saved {
    /// The last checkpoint whose weights were all finite.
    last: Option<Checkpoint>,
    /// A checkpoint the next rebuild starts from (a restore, or recovery from a lost device).
    resume: Option<Checkpoint>,
    /// When the next checkpoint is due (ms).
    next_due: f64,
    /// The config the checkpoints' model was built for.
    shape: Option<LabConfig>,
}

/// Whether `config` asks for a model the saved checkpoints no longer fit.
fn shape_changed_since_checkpoint(saved: &Saved, config: &LabConfig) -> bool {
    saved.shape.as_ref().is_none_or(|shape| shape.shape() != config.shape())
}

/// A failed engine call. A lost GPU (reported by the error itself, or by the browser within a few
/// frames of a failed call) is reopened and the model rebuilt from the last good checkpoint with
/// the settings kept; anything else pauses with the message.
async fn handle_error(lab: &Lab, run: &mut Option<Run>, engine: &mut Engine, saved: &mut Saved, error: SessionError) {
    *run = None;
    lab.playing.set(false);
    let lost = match &error {
        SessionError::Gpu(GpuError::DeviceLost(reason)) => Some(reason.clone()),
        SessionError::Gpu(_) => device_lost(engine).await,
        _ => None,
    };
    if let Some(reason) = lost {
        log::warn!("GPU device lost: {reason}; {error}");
        *engine = open_engine(lab).await;
        saved.resume = saved.last.clone();
        let from = match &saved.resume {
            Some(last) => format!("from step {} (its last checkpoint)", last.step),
            None => "from new weights".to_string(),
        };
        lab.notice.set(Some(Notice::Problem(format!(
            "The GPU device was lost ({reason}). Latent Lab reopened it and rebuilt the model {from}, with your settings kept; press play to train on."
        ))));
        return;
    }
    log::error!("{error}");
    fail(lab, &error.to_string());
}

/// The reason the engine's device was lost, if the browser reports a loss within a few frames.
async fn device_lost(engine: &Engine) -> Option<String> {
    let kernels = engine.kernels.as_ref()?;
    for _ in 0..LOSS_REPORT_FRAMES {
        if let Err(GpuError::DeviceLost(reason)) = kernels.context().check_alive() {
            return Some(reason);
        }
        browser::next_frame().await;
    }
    None
}
