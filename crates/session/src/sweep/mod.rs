//! Many runs at once, to choose a knob's value the way the course's readings say: a grid of values,
//! each trained on K folds of the training set (K-fold cross-validation) or, with one fold, scored
//! on the held-out split. Every member is an ordinary [`Run`] built from the same seed, so members
//! differ only in the knob and in the rows they train on; the validation curve ([`curve`]) sums
//! them up with its minimum and the one-standard-error choice. With folds the held-out split stays
//! untouched until the chosen value is refitted on the whole training set ([`Sweep::refit`]):
//! choosing on the test set is the mistake the lesson warns against.
//!
//! A GAN has no likelihood to validate: its sweep scores each member's generated points against
//! the real ones (modes covered, and the squared MMD the GAN's views show), on one fold, and may
//! cross a second knob (`across`) into a grid over (λ_G, λ_D), summed up by [`grid::Grid`].

// The page's sweeps train on CPU workers, so the batched GPU step is the command line's: left out
// of the wasm builds, it stays out of the page's and the worker's modules.
#[cfg(not(target_arch = "wasm32"))]
mod batched;
pub mod curve;
pub mod grid;
pub mod plan;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use latent_core::data::mnist::Mnist;
use latent_core::data::RunData;
use latent_core::engine::EvalSplit;
#[cfg(not(target_arch = "wasm32"))]
use latent_core::engine::ModelError;
#[cfg(not(target_arch = "wasm32"))]
use latent_gpu::GpuRows;
use latent_gpu::Kernels;

use crate::config::{Knob, ModelKind};
use crate::run::{digits_for, load_rows, saved_weight_count, Cadence, RunEvent, RunOptions, ViewRequest};
use crate::{Engine, Run, RunSpec, SessionError, Start};

pub use curve::{Curve, CurvePoint};
pub use grid::Grid;

/// Generated points a 2D member's pictures hold.
const MEMBER_POINTS: usize = 256;
/// Generated points a GAN member is scored on (the views' MMD then compares the first 256 with
/// as many real points; modes count all of them).
const GAN_SCORE_POINTS: usize = 512;

/// Most values a sweep tries, and most folds.
pub const MAX_VALUES: usize = 12;
pub const MAX_FOLDS: usize = 10;
/// Most models a sweep trains (a grid of two knobs included).
pub const MAX_MEMBERS: usize = MAX_VALUES * MAX_FOLDS;
/// Most weights all members hold together: each also keeps a gradient and Adam's two moments, so
/// this is about 1 GB of f32 state (about twice that for a GPU sweep: the batched step holds its
/// own copy beside each member's model).
pub const MAX_SWEEP_WEIGHTS: usize = 64_000_000;

/// The knobs a sweep may vary: the regularisers, the learning rate and the VAE-GAN's γ (the batch
/// and D's steps change the work per step, not a strength).
pub const SWEEPABLE: [Knob; 8] = [Knob::Beta, Knob::L2, Knob::L1, Knob::Dropout, Knob::Lr, Knob::Gamma, Knob::L2Generator, Knob::L2Discriminator];

/// What a sweep trains: the base run with `knob` at each of `values`, on `folds` folds.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub base: RunSpec,
    pub knob: Knob,
    pub values: Vec<f32>,
    /// 1: train on the training set, score on the held-out split; K ≥ 2: K-fold cross-validation
    /// over the training set.
    pub folds: usize,
    /// A second knob crossed with the first into a grid (the GAN's λ_G × λ_D); `None`: one knob.
    pub across: Option<Axis>,
}

/// A knob and the values a sweep tries.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub knob: Knob,
    pub values: Vec<f32>,
}

/// `count` values from `lo` to `hi`, evenly spaced on a log scale (`log`, both ends > 0) or a
/// linear one.
pub fn values_between(lo: f32, hi: f32, count: usize, log: bool) -> Result<Vec<f32>, SessionError> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi && (2..=MAX_VALUES).contains(&count)) {
        return Err(SessionError::Invalid(format!("a range needs finite ends lo < hi and 2..={MAX_VALUES} values; got {lo}..{hi}, {count} values")));
    }
    if log && lo <= 0.0 {
        return Err(SessionError::Invalid(format!("a log range needs ends above 0; got {lo}..{hi}")));
    }
    let at = |i: usize| {
        let t = i as f64 / (count - 1) as f64;
        let (lo, hi) = (f64::from(lo), f64::from(hi));
        (if log { (lo.ln() + t * (hi.ln() - lo.ln())).exp() } else { lo + t * (hi - lo) }) as f32
    };
    // The ends exactly as given (e^ln(hi) can miss hi by an ulp).
    Ok((0..count).map(|i| if i + 1 == count { hi } else { at(i) }).collect())
}

impl SweepSpec {
    /// Refuses a sweep this session cannot train, naming the limit: a knob the model lacks or a
    /// sweep cannot vary, values out of the knob's range, repeated or too many, folds out of range
    /// or too many for the training rows and the batch, members too large together.
    pub fn check(&self, train_rows: usize) -> Result<(), SessionError> {
        let invalid = |m: String| Err(SessionError::Invalid(m));
        let model = self.base.shape.model;
        check_axis(model, self.knob, &self.values)?;
        if let Some(across) = &self.across {
            if model != ModelKind::Gan {
                return invalid(format!("a grid over two knobs is the GAN's (scored by modes covered and MMD); a {} sweep varies one knob", model.name()));
            }
            if across.knob == self.knob {
                return invalid(format!("a grid crosses two different knobs, not `{}` with itself", self.knob.key()));
            }
            check_axis(model, across.knob, &across.values)?;
        }
        if self.folds == 0 || self.folds > MAX_FOLDS {
            return invalid(format!("folds must be 1..={MAX_FOLDS}, not {}", self.folds));
        }
        if model == ModelKind::Gan && self.folds > 1 {
            return invalid(format!("a GAN is scored by its generated points against the real ones, not on validation rows: use one fold, not {}", self.folds));
        }
        if self.members() > MAX_MEMBERS {
            return invalid(format!("{} models: a sweep trains at most {MAX_MEMBERS}", self.members()));
        }
        let batch = self.base.shape.batch;
        if self.folds > 1 {
            if self.folds > train_rows {
                return invalid(format!("{} folds of {train_rows} training rows: more folds than rows", self.folds));
            }
            let smallest = train_rows / self.folds;
            if smallest < batch {
                return invalid(format!(
                    "{} folds of {train_rows} training rows leave {smallest} validation rows in a fold, fewer than one batch of {batch}: use fewer folds or a smaller batch",
                    self.folds
                ));
            }
        }
        let weights = saved_weight_count(&self.base.shape, self.base.data.dataset)?.saturating_mul(self.members());
        if weights > MAX_SWEEP_WEIGHTS {
            return invalid(format!("{} models of this size hold {weights} weights together, more than a sweep's {MAX_SWEEP_WEIGHTS}", self.members()));
        }
        Ok(())
    }

    /// Values of the second knob, or one `None` for a sweep of one knob.
    pub fn across_values(&self) -> Vec<Option<f32>> {
        match &self.across {
            Some(axis) => axis.values.iter().copied().map(Some).collect(),
            None => vec![None],
        }
    }

    /// Models the sweep trains: every value on every fold.
    pub fn members(&self) -> usize {
        self.values.len() * self.across.as_ref().map_or(1, |a| a.values.len()) * self.folds
    }

    /// Whether a larger value regularises more (what the one-standard-error rule leans toward).
    pub fn regularises_upward(&self) -> bool {
        matches!(self.knob, Knob::Beta | Knob::L2 | Knob::L1 | Knob::Dropout | Knob::L2Generator | Knob::L2Discriminator)
    }

    /// The base run with the knob at `value` (and the second knob at `across`), trained without
    /// evaluations or checkpoints along the way (a sweep scores its members when asked) and
    /// without early stopping (every member trains the same number of steps).
    fn member_spec(&self, value: f32, across: Option<f32>) -> RunSpec {
        let mut spec = self.base.clone();
        self.knob.set_on(&mut spec.knobs, &mut spec.shape, value);
        if let (Some(axis), Some(v)) = (&self.across, across) {
            axis.knob.set_on(&mut spec.knobs, &mut spec.shape, v);
        }
        spec.options = RunOptions { early_stopping: None, evaluation: Cadence::Never, checkpoints: Cadence::Never, ..spec.options };
        spec
    }
}

/// Refuses a knob `model` lacks or a sweep cannot vary, and values out of its range, repeated
/// or too many.
fn check_axis(model: ModelKind, knob: Knob, values: &[f32]) -> Result<(), SessionError> {
    let invalid = |m: String| Err(SessionError::Invalid(m));
    if !SWEEPABLE.contains(&knob) || !knob.applies_to_model(model) {
        return invalid(format!("the {} has no knob `{}` a sweep can vary", model.name(), knob.key()));
    }
    if values.is_empty() || values.len() > MAX_VALUES {
        return invalid(format!("a sweep tries 1..={MAX_VALUES} values of a knob, not {}", values.len()));
    }
    let (lo, hi) = knob.scale().bounds();
    if let Some(v) = values.iter().find(|v| !(lo..=hi).contains(*v)) {
        return invalid(format!("`{}={v}` is outside the knob's range [{lo}, {hi}]", knob.key()));
    }
    if (1..values.len()).any(|i| values[..i].contains(&values[i])) {
        return invalid(format!("the values of `{}` repeat: {values:?}", knob.key()));
    }
    Ok(())
}

/// One model of a sweep: a value (of each knob) trained on a fold.
pub struct Member {
    pub value: f32,
    /// The second knob's value in a grid.
    pub across: Option<f32>,
    pub fold: usize,
    run: Run,
    /// The step at which its loss stopped being finite, if it did.
    pub diverged_at: Option<u64>,
}

impl Member {
    /// `steps` more steps; a divergence marks the member where it stopped.
    async fn advance(&mut self, steps: usize) -> Result<(), SessionError> {
        let progress = self.run.advance(steps).await?;
        if progress.event == Some(RunEvent::Diverged) {
            self.diverged_at = Some(self.run.step());
        }
        Ok(())
    }

    pub fn run(&self) -> &Run {
        &self.run
    }
}

/// How a member scored. The VAE family: −ELBO on the rows it trained on and on its validation
/// rows (its fold's, or the held-out split with one fold), and the validation −ELBO's two terms,
/// rate (KL) and distortion (reconstruction). A GAN: modes covered and the squared MMD between
/// its generated points and the real ones. `None` for what a member does not have, or when it
/// diverged.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemberScore {
    pub value: f32,
    /// The second knob's value in a grid.
    #[serde(default)]
    pub across: Option<f32>,
    pub fold: usize,
    pub train: Option<f64>,
    pub validation: Option<f64>,
    pub rate: Option<f64>,
    pub distortion: Option<f64>,
    /// Its loss stopped being finite while training, or its scores are not finite.
    pub diverged: bool,
    /// The validation rate per latent dimension (nats; empty for a member that diverged): where
    /// posterior collapse sets in, dimension by dimension.
    #[serde(default)]
    pub kl_per_dim: Vec<f64>,
    /// GAN: modes of the data covered by its generated points, of how many.
    #[serde(default)]
    pub modes: Option<(usize, usize)>,
    /// GAN: the squared MMD between its generated points and the real ones (0 when they match).
    #[serde(default)]
    pub mmd: Option<f64>,
}

/// Every member's scores as CSV, a row per model: the command line's `sweep.csv` and the page's
/// download. Empty cells for what a member has not (a GAN's −ELBO, a VAE's modes).
pub fn scores_csv(scores: &[MemberScore]) -> String {
    let cell = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut csv = String::from("value,fold,train_elbo,validation_elbo,rate,distortion,diverged,across,modes_covered,modes,mmd2\n");
    for s in scores {
        let (covered, modes) = s.modes.map_or((None, None), |(m, of)| (Some(m as f64), Some(of as f64)));
        csv += &format!(
            "{},{},{},{},{},{},{},{},{},{},{}\n",
            s.value,
            s.fold,
            cell(s.train),
            cell(s.validation),
            cell(s.rate),
            cell(s.distortion),
            s.diverged,
            s.across.map(|v| v.to_string()).unwrap_or_default(),
            cell(covered),
            cell(modes),
            cell(s.mmd)
        );
    }
    csv
}

/// The models of a sweep, trained together.
pub struct Sweep {
    spec: SweepSpec,
    /// The base rows, with the training and held-out lists of the base run.
    data: Arc<RunData>,
    members: Vec<Member>,
    /// On the GPU, the members trained as one ([`batched`]); `None`: each trains its own steps
    /// (the CPU twin, or [`unbatched`](Self::unbatched)).
    #[cfg(not(target_arch = "wasm32"))]
    batched: Option<batched::BatchedMembers>,
}

impl Sweep {
    /// Loads the base run's rows once, splits the training rows into the folds (row i of the
    /// training list in fold i mod K, so every fold has every class of the class-balanced subset)
    /// and builds every member on the GPU (`kernels`) or as the CPU twin; on the GPU the members
    /// then train in batched steps ([`batched`]), and each member's own model only scores and
    /// draws what the batched step trains ([`Engine::GpuScoring`]: no training buffers of its own,
    /// and one copy of the rows for all of them; a GAN grid's members are still whole models).
    pub fn build(spec: SweepSpec, kernels: Option<&Kernels>, mnist: Option<&[u8]>) -> Result<Self, SessionError> {
        let data = Arc::new(load_rows(&spec.base, digits_for(&spec.base, mnist)?.as_ref())?);
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(kernels) = kernels {
            // A GAN grid's members are whole models (no scoring form yet) over rows of their own,
            // so only the VAE family's members share one upload.
            let mut sweep = if spec.base.shape.model == ModelKind::Gan {
                Self::build_members(spec, data, Engine::Gpu(kernels), (0, 1))?
            } else {
                let rows = GpuRows::upload(kernels.context(), &data).map_err(ModelError::from)?;
                Self::build_members(spec, data, Engine::GpuScoring(kernels, &rows), (0, 1))?
            };
            sweep.batched = batched::BatchedMembers::build(kernels, &sweep.spec, &sweep.data, &sweep.members)?;
            return Ok(sweep);
        }
        Self::build_members(spec, data, kernels.into(), (0, 1))
    }

    /// The sweep with each member training its own steps instead of batched ones: what the
    /// batched step is compared with (every member a whole model, which trains).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn build_apart(spec: SweepSpec, kernels: &Kernels, mnist: Option<&[u8]>) -> Result<Self, SessionError> {
        let digits = digits_for(&spec.base, mnist)?;
        Self::build_part(spec, Some(kernels), digits.as_ref(), 0, 1)
    }

    /// The share `part` of `parts` of the sweep's members (members in value order, folds within a
    /// value, member i in part i mod `parts`): what one of the page's workers trains. Every part
    /// checks the whole sweep, and its members are the very models [`build`](Self::build) makes.
    /// `mnist`: the digits, parsed already (a worker checks them as it inflates them). A part's
    /// members each train their own steps (a worker's are CPU twins), which keeps the batched
    /// step out of the worker's module.
    pub fn build_part(spec: SweepSpec, kernels: Option<&Kernels>, mnist: Option<&Mnist>, part: usize, parts: usize) -> Result<Self, SessionError> {
        if parts == 0 || part >= parts {
            return Err(SessionError::Invalid(format!("no part {part} of {parts}")));
        }
        let data = Arc::new(load_rows(&spec.base, mnist)?);
        Self::build_members(spec, data, kernels.into(), (part, parts))
    }

    /// The members of part `part` of `parts` on `data` (the base run's rows), each a run on
    /// `engine`.
    fn build_members(spec: SweepSpec, data: Arc<RunData>, engine: Engine, (part, parts): (usize, usize)) -> Result<Self, SessionError> {
        spec.check(data.train.len())?;
        let folds: Vec<Arc<RunData>> =
            if spec.folds == 1 { vec![Arc::clone(&data)] } else { (0..spec.folds).map(|k| Arc::new(fold(&data, k, spec.folds))).collect() };
        let mut members = Vec::with_capacity(spec.members().div_ceil(parts));
        let across = spec.across_values();
        let grid = spec
            .values
            .iter()
            .flat_map(|&value| across.iter().map(move |&a| (value, a)))
            .flat_map(|(value, a)| folds.iter().enumerate().map(move |(k, rows)| (value, a, k, rows)));
        for (value, across, k, rows) in grid.skip(part).step_by(parts) {
            let run = Run::build_on(spec.member_spec(value, across), Arc::clone(rows), engine, Start::Fresh)?;
            members.push(Member { value, across, fold: k, run, diverged_at: None });
        }
        Ok(Self {
            spec,
            data,
            members,
            #[cfg(not(target_arch = "wasm32"))]
            batched: None,
        })
    }

    pub fn spec(&self) -> &SweepSpec {
        &self.spec
    }

    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// Rows of the base run's training set, which the folds split.
    pub fn training_rows(&self) -> usize {
        self.data.train.len()
    }

    /// Steps every member has taken (the ones that diverged stopped there).
    pub fn step(&self) -> u64 {
        self.members.iter().filter(|m| m.diverged_at.is_none()).map(|m| m.run.step()).max().unwrap_or(0)
    }

    /// Members per batched step: empty where each member trains its own steps (the CPU twin,
    /// the VAE-GAN, the GAN).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn batched_groups(&self) -> Vec<usize> {
        self.batched.as_ref().map_or_else(Vec::new, batched::BatchedMembers::group_sizes)
    }

    /// `steps` more steps for every member still training; one that diverges is marked and left
    /// where it stopped, the rest go on. GPU members train in batched steps; natively, CPU
    /// members train side by side on every core (each member's steps are its own, so the result
    /// is the same as one after another); unbatched GPU members and the browser's take turns.
    pub async fn advance(&mut self, steps: usize) -> Result<(), SessionError> {
        #[cfg(not(target_arch = "wasm32"))]
        if let Some(batched) = &mut self.batched {
            return batched.advance(&mut self.members, steps).await;
        }
        let training: Vec<&mut Member> = self.members.iter_mut().filter(|m| m.diverged_at.is_none()).collect();
        #[cfg(not(target_arch = "wasm32"))]
        if training.iter().all(|m| m.run.dispatches_per_step().is_none()) {
            use rayon::prelude::*;
            return training.into_par_iter().try_for_each(|member| pollster::block_on(member.advance(steps)));
        }
        for member in training {
            member.advance(steps).await?;
        }
        Ok(())
    }

    /// Every member's scores now (members in value order, the second knob's values within a
    /// value, folds within those).
    pub async fn scores(&self) -> Result<Vec<MemberScore>, SessionError> {
        let mut scores = Vec::with_capacity(self.members.len());
        for m in &self.members {
            let diverged = MemberScore { value: m.value, across: m.across, fold: m.fold, diverged: true, ..MemberScore::default() };
            let score = match (m.diverged_at, m.run.spec().shape.model) {
                (Some(_), _) => diverged,
                (None, ModelKind::Gan) => {
                    let request = ViewRequest { points_2d: GAN_SCORE_POINTS, ..member_request(0) };
                    let views = m.run.views(&request).await?;
                    match views.mmd {
                        Some(mmd) => MemberScore { modes: views.modes, mmd: Some(mmd), diverged: false, ..diverged },
                        None => diverged,
                    }
                }
                (None, _) => {
                    let (train, validation) = (m.run.score(EvalSplit::Train).await?, m.run.score(EvalSplit::Test).await?);
                    if train.negative_elbo().is_finite() && validation.negative_elbo().is_finite() {
                        MemberScore {
                            train: Some(train.negative_elbo()),
                            validation: Some(validation.negative_elbo()),
                            rate: Some(validation.kl),
                            distortion: Some(validation.reconstruction),
                            diverged: false,
                            kl_per_dim: m.run.held_out_kl_per_dim().await?,
                            ..diverged
                        }
                    } else {
                        diverged
                    }
                }
            };
            scores.push(score);
        }
        Ok(scores)
    }

    /// The pictures of the member at `value` (and `across`) on `fold`: `images` decoded prior
    /// samples (points for 2D data), as many held-out inputs with their reconstructions, and the
    /// samples' sharpness. `None` when this sweep (or this part of it) holds no such member.
    pub async fn member_views(&self, value: f32, across: Option<f32>, fold: usize, images: usize) -> Result<Option<plan::MemberViews>, SessionError> {
        let Some(member) = self.members.iter().find(|m| m.value == value && m.across == across && m.fold == fold) else { return Ok(None) };
        let views = member.run.views(&member_request(images)).await?;
        Ok(Some(plan::MemberViews {
            value,
            across,
            fold,
            dim: views.dim,
            samples: views.samples,
            inputs: views.inputs,
            reconstructions: views.reconstructions,
            sharpness: views.sharpness.map(|s| s as f32),
        }))
    }

    /// The validation curve of the scores now.
    pub async fn curve(&self) -> Result<Curve, SessionError> {
        Ok(Curve::new(&self.spec.values, &self.scores().await?, self.spec.regularises_upward()))
    }

    /// The base run with the knob at `value` trained for `steps` steps on the whole training set,
    /// and its −ELBO on the held-out split, which no member has seen (with one fold the members
    /// were scored on it: the number is then the member's own, and the choice saw the test set).
    pub async fn refit(&self, value: f32, steps: usize, kernels: Option<&Kernels>) -> Result<f64, SessionError> {
        let mut run = Run::build_on(self.spec.member_spec(value, None), Arc::clone(&self.data), kernels.into(), Start::Fresh)?;
        let progress = run.advance(steps).await?;
        if progress.event == Some(RunEvent::Diverged) {
            return Err(SessionError::Invalid(format!("the refit at `{}={value}` diverged by step {}", self.spec.knob.key(), run.step())));
        }
        run.negative_elbo(EvalSplit::Test).await
    }
}

/// A member's pictures: `images` digits (or [`MEMBER_POINTS`] points on the plane), nothing else.
fn member_request(images: usize) -> ViewRequest {
    ViewRequest {
        images,
        points_2d: MEMBER_POINTS,
        scatter_points: None,
        manifold_side: 0,
        interpolations: Vec::new(),
        interpolation_steps: 0,
        histogram_bins: None,
    }
}

/// Fold `k` of `folds`: the base rows, training on every training row outside the fold and
/// validating on the ones inside it.
fn fold(data: &RunData, k: usize, folds: usize) -> RunData {
    let (mut train, mut validation) = (Vec::new(), Vec::new());
    for (i, &row) in data.train.iter().enumerate() {
        if i % folds == k {
            validation.push(row)
        } else {
            train.push(row)
        }
    }
    RunData { rows: data.rows.clone(), dim: data.dim, labels: data.labels.clone(), train, test: validation }
}
