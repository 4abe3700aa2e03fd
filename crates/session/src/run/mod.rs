//! One training run, whatever front end drives it: its data, its model on an engine (behind the
//! `VaeModel` / `GanModel` seam), its knobs, its metric history, when it scores both splits,
//! early stopping with restore-best, β warm-up, checkpoints of good weights, and its views. The
//! page and the command line only present what a [`Run`] reports.

mod cadence;
mod drawing;
mod history;
mod markers;
pub(crate) mod model;
mod views;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use latent_core::data::RunData;
use latent_core::engine::{EvalMetrics, EvalSplit, GanMetrics};
use latent_core::model::{BetaWarmup, EarlyStopping, HeldOutMetrics, StopDecision, VaeGanMetrics};
use latent_core::Knobs;
use web_time::Instant;

pub use cadence::{Cadence, Due};
pub use drawing::Drawing;
pub use history::{History, Point, MAX_HISTORY};
pub use markers::{Marker, Markers, MAX_MARKERS};
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use model::discriminator_seed;
pub use model::{digits_for, load_data, load_rows, Engine};
pub(crate) use model::{saved_weight_count, Model};
pub use views::{Histogram, ViewRequest, Views, COLLAPSED_KL, MANIFOLD_EXTENT, MIN_MODE_RADIUS, MODE_SHARE, MODE_SIGMAS};

use crate::config::{DataConfig, Shape};
use crate::run_file::RunFile;
use crate::SessionError;

/// Increments of β's warm-up ramp (each a knob change between submissions).
pub(crate) const WARMUP_LEVELS: u32 = 20;

/// Trains `steps` steps from step `at` through `train(first step, steps)`, one call per chunk cut
/// where β's warm-up over `warmup` steps moves to its next increment (one call when no warm-up is
/// left). Every run with that warm-up cuts there, whatever its β, so a sweep's batched members
/// share the cuts.
pub(crate) fn in_warmup_chunks<E>(warmup: u32, at: u64, steps: usize, mut train: impl FnMut(u64, usize) -> Result<(), E>) -> Result<(), E> {
    let ramp = BetaWarmup { target: 0.0, steps: warmup };
    let (mut start, end) = (at, at + steps as u64);
    while start < end {
        let n = (end - start).min(ramp.chunk_from(start, WARMUP_LEVELS));
        train(start, n as usize)?;
        start += n;
    }
    Ok(())
}

/// Early stopping: stop after `patience` held-out evaluations that fail to beat the best by
/// `min_delta` nats; with `restore_best`, put the best parameters back when it stops (and, when a
/// run ends without stopping, at [`Run::finish`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EarlyStop {
    pub patience: u32,
    pub min_delta: f64,
    pub restore_best: bool,
}

/// How a run decides as it goes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOptions {
    pub early_stopping: Option<EarlyStop>,
    /// β rises linearly from 0 to the knob's β over this many steps (0: off).
    pub beta_warmup: u32,
    /// When both splits are scored after training steps.
    pub evaluation: Cadence,
    /// When the weights are kept as a [`Checkpoint`] (right after an evaluation scored them finite).
    pub checkpoints: Cadence,
    /// MNIST held-out digits scored and plotted (at most the 2,000 of the project's split).
    pub held_out_digits: usize,
}

/// Least time between scorings of the two splits while a page trains; each also waits
/// [`READOUT_SHARE`] times what it last cost, so on a slow engine readouts take at most about a
/// fifth of the time.
pub const EVALUATE_EVERY: Duration = Duration::from_millis(1000);
/// Least time between checkpoints of the weights while a page trains.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(5000);
pub const READOUT_SHARE: f64 = 4.0;
/// Held-out digits a page scores and plots (fewer than the command line's, to keep an evaluation short).
pub const INTERACTIVE_HELD_OUT_DIGITS: usize = 1000;
/// A page's early stopping: 5 evaluations without improvement, then the best is restored.
pub const INTERACTIVE_EARLY_STOP: EarlyStop = EarlyStop { patience: 5, min_delta: 0.0, restore_best: true };

impl RunOptions {
    /// What a live page decides by: timed evaluations and checkpoints (see [`EVALUATE_EVERY`],
    /// [`CHECKPOINT_EVERY`]) and, when `early_stopping`, [`INTERACTIVE_EARLY_STOP`].
    pub fn interactive(early_stopping: bool) -> Self {
        Self {
            early_stopping: early_stopping.then_some(INTERACTIVE_EARLY_STOP),
            beta_warmup: 0,
            evaluation: Cadence::Timed { every: EVALUATE_EVERY, share: READOUT_SHARE },
            checkpoints: Cadence::Timed { every: CHECKPOINT_EVERY, share: READOUT_SHARE },
            held_out_digits: INTERACTIVE_HELD_OUT_DIGITS,
        }
    }
}

/// Everything a run is built from.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    pub data: DataConfig,
    pub shape: Shape,
    pub knobs: Knobs,
    pub options: RunOptions,
}

impl RunSpec {
    /// Whether `other` trains on the rows this spec does: [`load_data`] reads only these fields,
    /// so a run of a new shape may keep the last one's rows instead of loading them again.
    pub fn reads_same_rows(&self, other: &RunSpec) -> bool {
        self.data == other.data && self.shape.seed == other.shape.seed && self.options.held_out_digits == other.options.held_out_digits
    }
}

/// Weights of a run at a step where they were all finite: what a run file holds (the VAE's encoder
/// and decoder, or the GAN's generator), and what a diverged or lost run is rebuilt from.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub weights: Vec<f32>,
}

/// Where a run starts.
#[derive(Clone, Debug, Default)]
pub enum Start {
    /// Weights drawn from the seed.
    #[default]
    Fresh,
    /// An earlier run's weights at a step, with its history up to it (a checkpoint, a run file).
    /// A discriminator and the optimizer's moments start afresh.
    Resume { checkpoint: Arc<Checkpoint>, history: History },
}

impl Start {
    /// A run file's weights, step and history.
    pub fn from_file(file: &RunFile) -> Self {
        let checkpoint = Checkpoint { step: file.step, weights: file.weights.clone() };
        Start::Resume { checkpoint: Arc::new(checkpoint), history: file.history.clone() }
    }
}

/// What a run decided after some steps, beyond their metrics.
#[derive(Clone, Debug, PartialEq)]
pub enum RunEvent {
    /// A loss became NaN or infinite: the run cannot go on.
    Diverged,
    /// Early stopping ended the run: the best held-out −ELBO and its step, and whether its
    /// parameters were put back.
    EarlyStopped { best_step: u64, best: f64, restored: bool },
}

/// Everything the latest steps measured, in full (a chart point keeps the headline terms).
#[derive(Clone, Debug, PartialEq)]
pub enum StepReport {
    Vae {
        metrics: VaeGanMetrics,
        /// The β the steps trained with (below the knob's during a warm-up).
        beta: f32,
    },
    Gan {
        metrics: GanMetrics,
        /// D on held-out real rows, when the steps ended in an evaluation.
        held_out: Option<HeldOutMetrics>,
    },
}

/// What a sweep's batched step trained for a run: where it left the parameters and what it
/// measured.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) enum TrainedElsewhere<'a> {
    /// A VAE's steps (VAE-GAN: rounds), at KL weight `beta` (β's warm-up ramps it); `discriminator`
    /// is the VAE-GAN's D parameters, empty for a plain VAE.
    Vae { beta: f32, metrics: VaeGanMetrics, parameters: &'a [f32], discriminator: &'a [f32] },
    /// A GAN's rounds.
    Gan { metrics: latent_core::engine::GanMetrics, generator: &'a [f32], discriminator: &'a [f32] },
}

/// The outcome of [`Run::advance`].
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub point: Point,
    pub report: StepReport,
    pub event: Option<RunEvent>,
}

/// What a page awaits between the parts of a step that evaluates ([`Run::advance_pausing`]): a
/// yield to the browser. One boxed future per pause, so the run's code is not compiled again for
/// every caller's future.
pub type Pause<'a> = &'a dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>;

/// Steps a run handed to its model and counted, whose metrics it has not read ([`Run::submit`]).
#[derive(Debug)]
#[must_use = "submitted steps are concluded before the run is touched again"]
pub struct Submitted {
    /// The KL weight the steps trained with (β warm-up changes it).
    beta: f32,
    pub steps: usize,
}

/// One network of a GAN, for single steps (GAN Lab's "train D" and "train G").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GanPart {
    Discriminator,
    Generator,
}

/// A model being trained, with its data and everything decided about it so far.
pub struct Run {
    spec: RunSpec,
    data: Arc<RunData>,
    model: Model,
    step: u64,
    history: History,
    stopping: Option<EarlyStopping>,
    evaluation: Due,
    evaluate_next: bool,
    checkpoints: Due,
    last_checkpoint: Option<Arc<Checkpoint>>,
    /// KL per latent dimension, means over the latest readout's steps.
    kl_per_dim: Vec<f64>,
    /// Fault injection: the next steps report a NaN loss.
    poisoned: bool,
    /// Each weight histogram's fixed range and starting outline.
    histogram_frames: Vec<views::HistogramFrame>,
}

impl Run {
    /// Loads the data (`mnist` is the digits asset, when the spec trains on MNIST) and builds the
    /// model on `engine`, from `start`.
    pub fn build(spec: RunSpec, engine: Engine, mnist: Option<&[u8]>, start: Start) -> Result<Self, SessionError> {
        let data = Arc::new(load_data(&spec, mnist)?);
        Self::build_on(spec, data, engine, start)
    }

    /// The same on rows already loaded (a sweep's folds share one load: each fold is the same
    /// rows with its own training and held-out lists). `data` must suit the spec's batch.
    pub fn build_on(spec: RunSpec, data: Arc<RunData>, engine: Engine, start: Start) -> Result<Self, SessionError> {
        data.check_batch(spec.shape.batch)?;
        let (history, checkpoint) = match start {
            Start::Fresh => (History::default(), None),
            Start::Resume { checkpoint, history } => (history.up_to(checkpoint.step), Some(checkpoint)),
        };
        let (model, histogram_frames) = model::build(&spec, Arc::clone(&data), engine, checkpoint.as_deref().map(|c| c.weights.as_slice()))?;
        Ok(Self {
            stopping: None,
            evaluation: Due::new(spec.options.evaluation),
            evaluate_next: false,
            checkpoints: Due::new(spec.options.checkpoints),
            step: checkpoint.as_ref().map_or(0, |c| c.step),
            last_checkpoint: checkpoint,
            spec,
            data,
            model,
            history,
            kl_per_dim: Vec::new(),
            poisoned: false,
            histogram_frames,
        })
    }

    /// A second run in exactly this one's state: the model's parameters, optimizer moments and
    /// step counters (so the branch sees the same data order and noise), the history, checkpoints,
    /// early stopping's watch and the cadences. `engine` must be the one this run was built on. The two then train independently: a knob changed on one branch
    /// shows against the other, and with no change they go on step for step alike.
    pub fn fork(&self, engine: Engine) -> Result<Self, SessionError> {
        let (mut model, _) = model::build(&self.spec, Arc::clone(&self.data), engine, None)?;
        self.model.copy_state_to(&mut model)?;
        Ok(Self {
            spec: self.spec.clone(),
            data: Arc::clone(&self.data),
            model,
            step: self.step,
            history: self.history.clone(),
            stopping: self.stopping.clone(),
            evaluation: self.evaluation.clone(),
            evaluate_next: self.evaluate_next,
            checkpoints: self.checkpoints.clone(),
            last_checkpoint: self.last_checkpoint.clone(),
            kl_per_dim: self.kl_per_dim.clone(),
            poisoned: self.poisoned,
            histogram_frames: self.histogram_frames.clone(),
        })
    }

    pub fn spec(&self) -> &RunSpec {
        &self.spec
    }

    /// Training steps taken (GAN: rounds).
    pub fn step(&self) -> u64 {
        self.step
    }

    pub fn data(&self) -> &RunData {
        &self.data
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    /// (step, held-out −ELBO) of early stopping's best so far: where a chart marks it.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.stopping.as_ref().and_then(EarlyStopping::best)
    }

    /// The last good weights kept, if any.
    pub fn last_checkpoint(&self) -> Option<&Arc<Checkpoint>> {
        self.last_checkpoint.as_ref()
    }

    /// Where a rebuild of this run starts: its last checkpoint with the history up to it, or
    /// fresh weights when it has none.
    pub fn recovery(&self) -> Start {
        match &self.last_checkpoint {
            Some(checkpoint) => Start::Resume { checkpoint: Arc::clone(checkpoint), history: self.history.clone() },
            None => Start::Fresh,
        }
    }

    /// Compute passes per training step (GAN: per round), on the GPU engine.
    pub fn dispatches_per_step(&self) -> Option<usize> {
        match &self.model {
            Model::Vae(vae) => vae.dispatches_per_step(),
            Model::Gan(gan) => gan.dispatches_per_round(),
        }
    }

    /// The knobs of the following steps (validated by the engine, as at build).
    pub fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), SessionError> {
        self.model.set_knobs(knobs)?;
        self.spec.knobs = *knobs;
        Ok(())
    }

    /// Turns early stopping on (a fresh watch) or off.
    pub fn set_early_stopping(&mut self, early_stopping: Option<EarlyStop>) {
        if early_stopping != self.spec.options.early_stopping {
            self.stopping = None;
        }
        self.spec.options.early_stopping = early_stopping;
    }

    /// Makes the next [`advance`](Self::advance) score both splits whatever the cadence (a single
    /// step the user asked for).
    pub fn evaluate_next(&mut self) {
        self.evaluate_next = true;
    }

    /// Whether the next [`advance`](Self::advance) scores both splits (the evaluation is due, or
    /// was asked for): the page trains a single step in that frame, so the scoring does not make
    /// it a long task.
    pub fn evaluates_next(&self) -> bool {
        self.evaluate_next || self.evaluation.is_due()
    }

    /// Fault injection, for tests and demonstrations: the next steps report a NaN loss, as a
    /// too-high learning rate does on a fresh model.
    pub fn inject_divergence(&mut self) {
        self.poisoned = true;
    }

    /// `steps` training steps (GAN: rounds) and their metrics, nothing else: no evaluation, no
    /// checkpoint, no history (a benchmark times this).
    pub async fn train(&mut self, steps: usize) -> Result<(Point, StepReport), SessionError> {
        let submitted = self.submit(steps)?;
        self.read_metrics(submitted.beta).await
    }

    /// The first half of [`advance_pausing`](Self::advance_pausing): `steps` training steps handed
    /// to the model (a GPU or a worker trains them while the caller goes on) and counted. The run
    /// must be [`conclude_submitted`](Self::conclude_submitted) before anything else touches it,
    /// so its decisions (an evaluation, a checkpoint, a fork) see the model at the step it counts.
    pub fn submit(&mut self, steps: usize) -> Result<Submitted, SessionError> {
        let beta = self.train_steps(steps)?;
        self.step += steps as u64;
        Ok(Submitted { beta, steps })
    }

    /// The second half: the submitted steps' metrics, then what the run decides, as
    /// [`advance_pausing`](Self::advance_pausing) does.
    pub async fn conclude_submitted(&mut self, submitted: Submitted, pause: Option<Pause<'_>>) -> Result<Progress, SessionError> {
        let (point, report) = self.read_metrics(submitted.beta).await?;
        self.conclude(point, report, pause).await
    }

    /// `steps` training steps (GAN: rounds), then what the run decides: a divergence (a loss or a
    /// score that is NaN or infinite) stops it; when the evaluation is due both splits are scored
    /// (and early stopping watches the held-out score), and after a finite score a due checkpoint
    /// is kept. The point joins the history.
    pub async fn advance(&mut self, steps: usize) -> Result<Progress, SessionError> {
        self.advance_pausing(steps, None).await
    }

    /// As [`advance`](Self::advance), awaiting `pause()` before each split's score when the
    /// evaluation is due: a page yields to the browser there, so the training and the two scores
    /// are tasks of their own (on the CPU engine at the page's defaults the three together took
    /// 55 ms). The result is the same, bit for bit.
    pub async fn advance_pausing(&mut self, steps: usize, pause: Option<Pause<'_>>) -> Result<Progress, SessionError> {
        let submitted = self.submit(steps)?;
        self.conclude_submitted(submitted, pause).await
    }

    /// One step of one GAN network, then as [`advance`](Self::advance) (the step count stays:
    /// it counts rounds). Not for the VAE family.
    pub async fn step_part(&mut self, part: GanPart) -> Result<Progress, SessionError> {
        let Model::Gan(gan) = &mut self.model else {
            return Err(SessionError::Invalid("only the GAN steps one network at a time".into()));
        };
        match part {
            GanPart::Discriminator => gan.train_discriminator(1)?,
            GanPart::Generator => gan.train_generator(1)?,
        }
        let metrics = gan.metrics().await?;
        let d_loss = metrics.discriminator.loss_real + metrics.discriminator.loss_fake;
        let mut point = Point { step: self.step, ..Point::default() };
        match part {
            GanPart::Discriminator => point.d_loss = d_loss,
            GanPart::Generator => point.g_loss = metrics.generator_loss,
        }
        point.total = point.d_loss + point.g_loss;
        self.conclude(point, StepReport::Gan { metrics, held_out: None }, None).await
    }

    /// The end of a run that did not stop early: with early stopping's restore-best, the best
    /// parameters go back. Returns early stopping's best (step, held-out −ELBO), if it watched.
    pub fn finish(&mut self) -> Result<Option<(u64, f64)>, SessionError> {
        let best = self.best();
        let restore = self.spec.options.early_stopping.is_some_and(|e| e.restore_best);
        if let (Some(_), true, Model::Vae(vae)) = (best, restore, &mut self.model) {
            vae.restore_best()?;
        }
        Ok(best)
    }

    /// The VAE family's negative ELBO on `split` now, recorded nowhere (a validation score).
    pub async fn negative_elbo(&self, split: EvalSplit) -> Result<f64, SessionError> {
        Ok(self.score(split).await?.negative_elbo())
    }

    /// The VAE family's reconstruction (distortion) and KL (rate) on `split` now, recorded nowhere.
    pub async fn score(&self, split: EvalSplit) -> Result<EvalMetrics, SessionError> {
        match &self.model {
            Model::Vae(vae) => Ok(vae.evaluate(split).await?),
            Model::Gan(_) => Err(SessionError::Invalid("a GAN has no ELBO".into())),
        }
    }

    /// The VAE family's KL per latent dimension on the held-out rows now (nats; see
    /// [`LatentCodes::kl_per_dim`](latent_core::engine::LatentCodes::kl_per_dim)), recorded nowhere.
    pub async fn held_out_kl_per_dim(&self) -> Result<Vec<f64>, SessionError> {
        match &self.model {
            Model::Vae(vae) => Ok(vae.latent_codes().await?.kl_per_dim()),
            Model::Gan(_) => Err(SessionError::Invalid("a GAN has no posterior".into())),
        }
    }

    /// The run as a file: `query` (the settings, as a link holds them), the step, the history
    /// and the weights.
    pub async fn export(&self, query: String) -> Result<RunFile, SessionError> {
        let weights = self.model.saved_parameters().await?;
        Ok(RunFile::new(query, self.step, self.history.clone(), weights))
    }

    /// Submits `steps` steps, through the β warm-up's increments when one runs; returns the β the
    /// last of them trained with.
    fn train_steps(&mut self, steps: usize) -> Result<f32, SessionError> {
        let knobs = self.spec.knobs;
        let warmup = BetaWarmup { target: knobs.beta, steps: self.spec.options.beta_warmup };
        match &mut self.model {
            Model::Gan(gan) => gan.train(steps)?,
            Model::Vae(vae) if warmup.steps == 0 => vae.train(steps)?,
            Model::Vae(vae) => {
                let mut beta = knobs.beta;
                in_warmup_chunks(warmup.steps, self.step, steps, |start, n| {
                    beta = warmup.beta_for_chunk(start, WARMUP_LEVELS);
                    vae.set_knobs(&Knobs { beta, ..knobs })?;
                    vae.train(n)
                })?;
                return Ok(beta);
            }
        }
        Ok(knobs.beta)
    }

    /// The metrics of the steps just submitted, as a chart point and in full.
    async fn read_metrics(&mut self, beta: f32) -> Result<(Point, StepReport), SessionError> {
        let report = match &mut self.model {
            Model::Vae(vae) => StepReport::Vae { metrics: vae.metrics().await?, beta },
            Model::Gan(gan) => StepReport::Gan { metrics: gan.metrics().await?, held_out: None },
        };
        Ok(self.point_of(report))
    }

    /// Steps (GAN: rounds) trained outside this run's model, by a sweep's batched step: the
    /// parameters where the steps left them go into the model, the steps are counted and their
    /// metrics read as [`advance`](Self::advance) reads its own, then the run decides as it does.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) async fn conclude_trained_elsewhere(&mut self, steps: usize, trained: TrainedElsewhere<'_>) -> Result<Progress, SessionError> {
        let report = match (&mut self.model, trained) {
            (Model::Vae(vae), TrainedElsewhere::Vae { beta, metrics, parameters, discriminator }) => {
                vae.set_parameters(parameters)?;
                if !discriminator.is_empty() {
                    // As for the GAN's D below: no setter in the engine seam; its model is a GPU VAE-GAN.
                    let gpu = vae.as_any_mut().downcast_mut::<latent_gpu::GpuVae>();
                    gpu.ok_or_else(|| SessionError::Invalid("a VAE-GAN trained by a batched step must be a GPU VAE-GAN".into()))?
                        .set_discriminator_parameters(discriminator)?;
                }
                StepReport::Vae { metrics, beta }
            }
            (Model::Gan(gan), TrainedElsewhere::Gan { metrics, generator, discriminator }) => {
                gan.set_generator_parameters(generator)?;
                // D's weights have no setter in the engine seam (only a GPU sweep's batched step
                // needs one, and the page's module would carry it); its model is a GPU GAN.
                let gpu = gan.as_any_mut().downcast_mut::<latent_gpu::GpuGan>();
                gpu.ok_or_else(|| SessionError::Invalid("a GAN trained by a batched step must be a GPU GAN".into()))?
                    .set_discriminator_parameters(discriminator)?;
                StepReport::Gan { metrics, held_out: None }
            }
            _ => return Err(SessionError::Invalid("a batched step trained another kind of model than this run's".into())),
        };
        self.step += steps as u64;
        let (point, report) = self.point_of(report);
        self.conclude(point, report, None).await
    }

    /// The chart point of the latest steps' report, at the step the run counts.
    fn point_of(&mut self, report: StepReport) -> (Point, StepReport) {
        let step = self.step;
        let mut point = match &report {
            StepReport::Vae { metrics, beta } => {
                let (v, d) = (&metrics.vae, &metrics.discriminator);
                self.kl_per_dim = v.kl_per_dim.clone();
                let knobs = Knobs { beta: *beta, ..self.spec.knobs };
                Point {
                    step,
                    reconstruction: v.reconstruction,
                    kl: v.kl,
                    penalty: v.l2_term + v.l1_term,
                    total: metrics.total(&knobs),
                    d_loss: d.loss_real + d.loss_fake,
                    g_loss: metrics.generator_loss,
                    ..Point::default()
                }
            }
            StepReport::Gan { metrics, .. } => {
                let d = &metrics.discriminator;
                let d_loss = d.loss_real + d.loss_fake;
                Point {
                    step,
                    penalty: d.l2_term + metrics.generator_l2_term,
                    total: d_loss + metrics.generator_loss,
                    d_loss,
                    g_loss: metrics.generator_loss,
                    ..Point::default()
                }
            }
        };
        if std::mem::take(&mut self.poisoned) {
            point.total = f64::NAN;
        }
        (point, report)
    }

    /// What the run decides after a point: divergence, evaluation (with `pause()` before each
    /// split's score), early stopping, checkpoint.
    async fn conclude(&mut self, mut point: Point, mut report: StepReport, pause: Option<Pause<'_>>) -> Result<Progress, SessionError> {
        if !point.is_finite() {
            self.history.push(point.clone());
            return Ok(Progress { point, report, event: Some(RunEvent::Diverged) });
        }
        let mut event = None;
        if std::mem::take(&mut self.evaluate_next) || self.evaluation.is_due() {
            let started = Instant::now();
            event = self.evaluate(&mut point, &mut report, pause).await?;
            self.evaluation.done(started);
            // Weights that score NaN are finite but already ruined.
            if ![point.train, point.test, point.d_accuracy].iter().flatten().all(|v| v.is_finite()) {
                self.history.push(point.clone());
                return Ok(Progress { point, report, event: Some(RunEvent::Diverged) });
            }
            if self.checkpoints.is_due() {
                let started = Instant::now();
                self.keep_checkpoint().await?;
                self.checkpoints.done(started);
            }
        }
        self.history.push(point.clone());
        Ok(Progress { point, report, event })
    }

    /// Scores both splits into `point` (VAE family: negative ELBO, each after `pause()`; GAN: D on
    /// held-out real rows) and lets early stopping watch the held-out score.
    async fn evaluate(&mut self, point: &mut Point, report: &mut StepReport, pause: Option<Pause<'_>>) -> Result<Option<RunEvent>, SessionError> {
        let vae = match &mut self.model {
            Model::Gan(gan) => {
                let held_out = gan.evaluate().await?;
                point.d_accuracy = Some(held_out.accuracy_real);
                if let StepReport::Gan { held_out: slot, .. } = report {
                    *slot = Some(held_out);
                }
                return Ok(None);
            }
            Model::Vae(vae) => vae,
        };
        if let Some(pause) = pause {
            pause().await;
        }
        let train = vae.evaluate(EvalSplit::Train).await?.negative_elbo();
        if let Some(pause) = pause {
            pause().await;
        }
        let test = vae.evaluate(EvalSplit::Test).await?.negative_elbo();
        (point.train, point.test) = (Some(train), Some(test));
        let Some(options) = self.spec.options.early_stopping.filter(|_| test.is_finite()) else { return Ok(None) };
        let stopping = self.stopping.get_or_insert_with(|| EarlyStopping::new(options.patience, options.min_delta));
        match stopping.observe(self.step, test) {
            StopDecision::Improved => vae.save_best()?,
            StopDecision::Wait => {}
            StopDecision::Stop => {
                let (best_step, best) = stopping.best().unwrap_or((self.step, test));
                stopping.reset();
                if options.restore_best {
                    vae.restore_best()?;
                }
                return Ok(Some(RunEvent::EarlyStopped { best_step, best, restored: options.restore_best }));
            }
        }
        Ok(None)
    }

    /// Keeps the weights as they are now if every one is finite (a step can report a finite loss
    /// and still leave a NaN in the weights).
    async fn keep_checkpoint(&mut self) -> Result<(), SessionError> {
        let weights = self.model.saved_parameters().await?;
        if weights.iter().all(|w| w.is_finite()) {
            self.last_checkpoint = Some(Arc::new(Checkpoint { step: self.step, weights }));
        }
        Ok(())
    }
}
