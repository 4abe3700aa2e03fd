//! Many runs at once, to choose a knob's value the way the course's readings say: a grid of values,
//! each trained on K folds of the training set (K-fold cross-validation) or, with one fold, scored
//! on the held-out split. Every member is an ordinary [`Run`] built from the same seed, so members
//! differ only in the knob and in the rows they train on; the validation curve ([`curve`]) sums
//! them up with its minimum and the one-standard-error choice. With folds the held-out split stays
//! untouched until the chosen value is refitted on the whole training set ([`Sweep::refit`]):
//! choosing on the test set is the mistake the lesson warns against.

pub mod curve;
pub mod plan;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use latent_core::data::RunData;
use latent_core::engine::EvalSplit;
use latent_gpu::Kernels;

use crate::config::{Knob, ModelKind};
use crate::run::{load_data, saved_weight_count, Cadence, RunEvent, RunOptions, ViewRequest};
use crate::{Run, RunSpec, SessionError, Start};

pub use curve::{Curve, CurvePoint};

/// Generated points a 2D member's pictures hold.
const MEMBER_POINTS: usize = 256;

/// Most values a sweep tries, and most folds.
pub const MAX_VALUES: usize = 12;
pub const MAX_FOLDS: usize = 10;
/// Most weights all members hold together: each also keeps a gradient and Adam's two moments, so
/// this is about 1 GB of f32 state.
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
        if model == ModelKind::Gan {
            return invalid("a GAN sweep would score modes covered, which is not built yet; sweep the VAE or the VAE-GAN".into());
        }
        if !SWEEPABLE.contains(&self.knob) || !self.knob.applies_to_model(model) {
            return invalid(format!("the {} has no knob `{}` a sweep can vary", model.name(), self.knob.key()));
        }
        if self.values.is_empty() || self.values.len() > MAX_VALUES {
            return invalid(format!("a sweep tries 1..={MAX_VALUES} values, not {}", self.values.len()));
        }
        let (lo, hi) = self.knob.scale().bounds();
        if let Some(v) = self.values.iter().find(|v| !(lo..=hi).contains(*v)) {
            return invalid(format!("`{}={v}` is outside the knob's range [{lo}, {hi}]", self.knob.key()));
        }
        if (1..self.values.len()).any(|i| self.values[..i].contains(&self.values[i])) {
            return invalid(format!("the values of `{}` repeat: {:?}", self.knob.key(), self.values));
        }
        if self.folds == 0 || self.folds > MAX_FOLDS {
            return invalid(format!("folds must be 1..={MAX_FOLDS}, not {}", self.folds));
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

    /// Models the sweep trains: every value on every fold.
    pub fn members(&self) -> usize {
        self.values.len() * self.folds
    }

    /// Whether a larger value regularises more (what the one-standard-error rule leans toward).
    pub fn regularises_upward(&self) -> bool {
        matches!(self.knob, Knob::Beta | Knob::L2 | Knob::L1 | Knob::Dropout | Knob::L2Generator | Knob::L2Discriminator)
    }

    /// The base run with the knob at `value`, trained without evaluations or checkpoints along
    /// the way (a sweep scores its members when asked) and without early stopping (every member
    /// trains the same number of steps).
    fn member_spec(&self, value: f32) -> RunSpec {
        let mut spec = self.base.clone();
        self.knob.set_on(&mut spec.knobs, &mut spec.shape, value);
        spec.options = RunOptions { early_stopping: None, evaluation: Cadence::Never, checkpoints: Cadence::Never, ..spec.options };
        spec
    }
}

/// One model of a sweep: a value trained on a fold.
pub struct Member {
    pub value: f32,
    pub fold: usize,
    run: Run,
    /// The step at which its loss stopped being finite, if it did.
    pub diverged_at: Option<u64>,
}

impl Member {
    pub fn run(&self) -> &Run {
        &self.run
    }
}

/// How a member scored: −ELBO on the rows it trained on and on its validation rows (its fold's, or
/// the held-out split with one fold), and the validation −ELBO's two terms, rate (KL) and
/// distortion (reconstruction). `None` for a member that diverged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberScore {
    pub value: f32,
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
}

/// The models of a sweep, trained together.
pub struct Sweep {
    spec: SweepSpec,
    /// The base rows, with the training and held-out lists of the base run.
    data: Arc<RunData>,
    members: Vec<Member>,
}

impl Sweep {
    /// Loads the base run's rows once, splits the training rows into the folds (row i of the
    /// training list in fold i mod K, so every fold has every class of the class-balanced subset)
    /// and builds every member on the GPU (`kernels`) or as the CPU twin.
    pub fn build(spec: SweepSpec, kernels: Option<&Kernels>, mnist: Option<&[u8]>) -> Result<Self, SessionError> {
        Self::build_part(spec, kernels, mnist, 0, 1)
    }

    /// The share `part` of `parts` of the sweep's members (members in value order, folds within a
    /// value, member i in part i mod `parts`): what one of the page's workers trains. Every part
    /// checks the whole sweep, and its members are the very models [`build`](Self::build) makes.
    pub fn build_part(spec: SweepSpec, kernels: Option<&Kernels>, mnist: Option<&[u8]>, part: usize, parts: usize) -> Result<Self, SessionError> {
        if parts == 0 || part >= parts {
            return Err(SessionError::Invalid(format!("no part {part} of {parts}")));
        }
        let data = Arc::new(load_data(&spec.base, mnist)?);
        spec.check(data.train.len())?;
        let folds: Vec<Arc<RunData>> =
            if spec.folds == 1 { vec![Arc::clone(&data)] } else { (0..spec.folds).map(|k| Arc::new(fold(&data, k, spec.folds))).collect() };
        let mut members = Vec::with_capacity(spec.members().div_ceil(parts));
        let grid = spec.values.iter().flat_map(|&value| folds.iter().enumerate().map(move |(k, rows)| (value, k, rows)));
        for (value, k, rows) in grid.skip(part).step_by(parts) {
            let run = Run::build_on(spec.member_spec(value), Arc::clone(rows), kernels, Start::Fresh)?;
            members.push(Member { value, fold: k, run, diverged_at: None });
        }
        Ok(Self { spec, data, members })
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

    /// `steps` more steps for every member still training; one that diverges is marked and left
    /// where it stopped, the rest go on.
    pub async fn advance(&mut self, steps: usize) -> Result<(), SessionError> {
        for member in self.members.iter_mut().filter(|m| m.diverged_at.is_none()) {
            let progress = member.run.advance(steps).await?;
            if progress.event == Some(RunEvent::Diverged) {
                member.diverged_at = Some(member.run.step());
            }
        }
        Ok(())
    }

    /// Every member's scores now (members in value order, folds within a value).
    pub async fn scores(&self) -> Result<Vec<MemberScore>, SessionError> {
        let mut scores = Vec::with_capacity(self.members.len());
        for m in &self.members {
            let mut score = MemberScore {
                value: m.value,
                fold: m.fold,
                train: None,
                validation: None,
                rate: None,
                distortion: None,
                diverged: true,
                kl_per_dim: Vec::new(),
            };
            if m.diverged_at.is_none() {
                let (train, validation) = (m.run.score(EvalSplit::Train).await?, m.run.score(EvalSplit::Test).await?);
                let finite = train.negative_elbo().is_finite() && validation.negative_elbo().is_finite();
                if finite {
                    score = MemberScore {
                        train: Some(train.negative_elbo()),
                        validation: Some(validation.negative_elbo()),
                        rate: Some(validation.kl),
                        distortion: Some(validation.reconstruction),
                        diverged: false,
                        kl_per_dim: m.run.held_out_kl_per_dim().await?,
                        ..score
                    };
                }
            }
            scores.push(score);
        }
        Ok(scores)
    }

    /// The pictures of the member at `value` on `fold`: `images` decoded prior samples (points
    /// for 2D data), as many held-out inputs with their reconstructions, and the samples'
    /// sharpness. `None` when this sweep (or this part of it) holds no such member.
    pub async fn member_views(&self, value: f32, fold: usize, images: usize) -> Result<Option<plan::MemberViews>, SessionError> {
        let Some(member) = self.members.iter().find(|m| m.value == value && m.fold == fold) else { return Ok(None) };
        let request = ViewRequest {
            images,
            points_2d: MEMBER_POINTS,
            scatter_points: None,
            manifold_side: 0,
            interpolations: Vec::new(),
            interpolation_steps: 0,
            histogram_bins: None,
        };
        let views = member.run.views(&request).await?;
        Ok(Some(plan::MemberViews {
            value,
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
        let mut run = Run::build_on(self.spec.member_spec(value), Arc::clone(&self.data), kernels, Start::Fresh)?;
        let progress = run.advance(steps).await?;
        if progress.event == Some(RunEvent::Diverged) {
            return Err(SessionError::Invalid(format!("the refit at `{}={value}` diverged by step {}", self.spec.knob.key(), run.step())));
        }
        run.negative_elbo(EvalSplit::Test).await
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
