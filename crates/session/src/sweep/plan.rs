//! A sweep as the page and its links hold it: which knob, the values, the folds, how long each
//! member trains and (for benchmarks) over how many workers. The URL parser reads it through the
//! same validated path as every other key (`sweep=l2&sweep_values=0,0.001,0.01&folds=3`), so a
//! link cannot ask for more than a sweep may train; [`SweepSpec::check`] then refuses what the
//! data or memory cannot hold, naming the limit. A GAN's grid adds a second knob
//! (`across=l2d&across_values=0,0.01,0.1`).

use serde::{Deserialize, Serialize};

use super::{values_between, Axis, SweepSpec, MAX_FOLDS, MAX_VALUES, SWEEPABLE};
use crate::config::query::{clamp_note, number, shorten};
use crate::config::{round_sig, Knob, LabConfig, ModelKind, Scale};

/// Steps each member trains unless the link says otherwise, and the range a link may ask for.
pub const DEFAULT_SWEEP_STEPS: usize = 800;
pub const SWEEP_STEPS: (usize, usize) = (10, 20_000);
/// Most workers a link may ask for (the page uses the browser's cores, at least two, by default).
pub const MAX_SWEEP_WORKERS: usize = 8;
/// Folds unless the link says otherwise: 3-fold cross-validation (a GAN's sweep has one).
pub const DEFAULT_FOLDS: usize = 3;
/// Rounds each GAN member trains unless the link says otherwise: the ring GAN covers most of its
/// modes by then.
pub const DEFAULT_GAN_SWEEP_STEPS: usize = 1500;
/// The GAN grid's default values of λ_G and of λ_D: none, weak, strong (9 models).
pub const DEFAULT_GAN_GRID: [f32; 3] = [0.0, 0.01, 0.1];

#[derive(Clone, Debug, PartialEq)]
pub struct SweepPlan {
    pub knob: Knob,
    pub values: Vec<f32>,
    pub folds: usize,
    /// Steps each member trains.
    pub steps: usize,
    /// Workers to spread the members over; `None`: the browser's cores, at least two.
    pub workers: Option<usize>,
    /// The second knob of a grid (the GAN's).
    pub across: Option<Axis>,
}

impl SweepPlan {
    /// The sweep the page offers first for `model`: the VAE family's L2 at the knob's default
    /// values, 3 folds; the GAN's grid of λ_G against λ_D ([`DEFAULT_GAN_GRID`]), one fold.
    pub fn default_for(model: ModelKind) -> Option<Self> {
        if model == ModelKind::Gan {
            let across = Some(Axis { knob: Knob::L2Discriminator, values: DEFAULT_GAN_GRID.to_vec() });
            return Some(Self { knob: Knob::L2Generator, values: DEFAULT_GAN_GRID.to_vec(), folds: 1, steps: DEFAULT_GAN_SWEEP_STEPS, workers: None, across });
        }
        let knob = SWEEPABLE.into_iter().find(|k| *k == Knob::L2 && k.applies_to_model(model))?;
        Some(Self { knob, values: default_values(knob), folds: DEFAULT_FOLDS, steps: DEFAULT_SWEEP_STEPS, workers: None, across: None })
    }

    /// The members this plan trains over `config`'s run.
    pub fn spec(&self, config: &LabConfig) -> SweepSpec {
        SweepSpec { base: config.run_spec(), knob: self.knob, values: self.values.clone(), folds: self.folds, across: self.across.clone() }
    }

    /// Whether a sweep of this model may vary `knob`.
    pub fn can_sweep(knob: Knob, model: ModelKind) -> bool {
        SWEEPABLE.contains(&knob) && knob.applies_to_model(model)
    }
}

/// Values a sweep of `knob` tries when none are given: on a log scale four decades up to the
/// knob's largest value (0 first where the slider has it), else five values across its range.
pub fn default_values(knob: Knob) -> Vec<f32> {
    let spread = match knob.scale() {
        Scale::Log { min, max, zero, .. } => {
            let lo = min.max(max / 1000.0);
            let zero = zero.then_some(0.0);
            zero.into_iter().chain(values_between(lo, max, 4, true).unwrap_or_default()).collect()
        }
        Scale::Linear { min, max, .. } => values_between(min, max, 5, false).unwrap_or_default(),
        Scale::PowersOfTwo { .. } => Vec::new(),
    };
    spread.into_iter().map(|v| round_sig(v, 2)).collect()
}

/// The values field's text for `count` values from `lo` to `hi`, evenly spaced on a log scale
/// (`log`) or a linear one, each to three significant digits: what the page's range fields fill
/// in (the link's `sweep_values` then goes through the parser's checks as typed values do).
pub fn range_text(lo: f32, hi: f32, count: usize, log: bool) -> Result<String, crate::SessionError> {
    let values = values_between(lo, hi, count, log)?;
    Ok(values.into_iter().map(|v| Knob::format_plain(round_sig(v, 3))).collect::<Vec<_>>().join(","))
}

/// The sweep keys of a query, read with `number`'s and the knob ranges' checks; every problem is a
/// note, and a sweep that cannot be trained is dropped with one.
pub(crate) fn parse_plan<'q>(notes: &mut Vec<String>, get: impl Fn(&str) -> Option<&'q str>, model: ModelKind) -> Option<SweepPlan> {
    let Some(key) = get("sweep") else {
        if ["sweep_values", "folds", "sweep_steps", "sweep_workers", "across", "across_values"].iter().any(|k| get(k).is_some()) {
            notes.push("sweep settings without `sweep=KNOB`; ignored".into());
        }
        return None;
    };
    let knob = sweep_knob(notes, "sweep", key, model)?;
    let values = match get("sweep_values") {
        None => default_values(knob),
        Some(list) => parse_values(notes, knob, list),
    };
    if values.is_empty() {
        notes.push("`sweep_values` lists no usable value; the sweep was dropped".into());
        return None;
    }
    let across = match get("across") {
        None => {
            if get("across_values").is_some() {
                notes.push("`across_values` without `across=KNOB`; ignored".into());
            }
            None
        }
        Some(_) if model != ModelKind::Gan => {
            notes.push(format!("a grid over two knobs (`across`) is the GAN's; the {} sweeps one knob", model.name()));
            None
        }
        Some(key) => match sweep_knob(notes, "across", key, model) {
            Some(k) if k == knob => {
                notes.push(format!("`across` must name a second knob, not `{}` again; ignored", k.key()));
                None
            }
            Some(k) => {
                let values = get("across_values").map_or_else(|| default_values(k), |list| parse_values(notes, k, list));
                Some(Axis { knob: k, values })
            }
            None => None,
        },
    };
    if across.as_ref().is_some_and(|a| a.values.is_empty()) {
        notes.push("`across_values` lists no usable value; the sweep was dropped".into());
        return None;
    }
    let count = |notes: &mut Vec<String>, key: &str, (lo, hi): (usize, usize)| {
        number(notes, key, get(key)).map(|v| clamp_note(notes, key, v.round(), lo as f64, hi as f64) as usize)
    };
    let gan = model == ModelKind::Gan;
    let folds = count(notes, "folds", (1, MAX_FOLDS)).unwrap_or(if gan { 1 } else { DEFAULT_FOLDS });
    if gan && folds > 1 {
        notes.push("a GAN's sweep scores generated points against the real ones, on one fold; `folds` ignored".into());
    }
    let folds = if gan { 1 } else { folds };
    let steps = count(notes, "sweep_steps", SWEEP_STEPS).unwrap_or(if gan { DEFAULT_GAN_SWEEP_STEPS } else { DEFAULT_SWEEP_STEPS });
    let workers = count(notes, "sweep_workers", (1, MAX_SWEEP_WORKERS));
    Some(SweepPlan { knob, values, folds, steps, workers, across })
}

/// The knob `key` (the value of `sweep` or `across`) names, if `model` can sweep it; else a note.
fn sweep_knob(notes: &mut Vec<String>, name: &str, key: &str, model: ModelKind) -> Option<Knob> {
    match Knob::from_key(key.trim()) {
        Some(knob) if SweepPlan::can_sweep(knob, model) => Some(knob),
        _ => {
            let choices: Vec<&str> = SWEEPABLE.iter().filter(|k| SweepPlan::can_sweep(**k, model)).map(|k| k.key()).collect();
            notes.push(format!("`{name}` names no knob the {} can sweep ({}); ignored", model.name(), choices.join(", ")));
            None
        }
    }
}

/// `sweep_values`: numbers within the knob's range (clamped with a note), at most [`MAX_VALUES`],
/// in increasing order, each once.
fn parse_values(notes: &mut Vec<String>, knob: Knob, list: &str) -> Vec<f32> {
    let (lo, hi) = knob.scale().bounds();
    let mut values: Vec<f32> = Vec::new();
    let mut entries = list.split(',').map(str::trim).filter(|s| !s.is_empty());
    for entry in entries.by_ref().take(MAX_VALUES) {
        match entry.parse::<f32>() {
            Ok(v) if v.is_finite() => {
                let clamped = v.clamp(lo, hi);
                if clamped != v {
                    notes.push(format!("sweep value `{v}` is outside [{lo}, {hi}]; clamped to {clamped}"));
                }
                if !values.contains(&clamped) {
                    values.push(clamped);
                }
            }
            _ => notes.push(format!("sweep value `{}` is not a number; dropped", shorten(entry))),
        }
    }
    if entries.next().is_some() {
        notes.push(format!("a sweep tries at most {MAX_VALUES} values; the rest were dropped"));
    }
    values.sort_by(f32::total_cmp);
    values
}

/// The plan's keys for a link (appended after the run's own).
pub(crate) fn plan_pairs(plan: &SweepPlan) -> Vec<(&'static str, String)> {
    let mut pairs = vec![
        ("sweep", plan.knob.key().to_string()),
        ("sweep_values", values_text(&plan.values)),
        ("folds", plan.folds.to_string()),
        ("sweep_steps", plan.steps.to_string()),
    ];
    if let Some(workers) = plan.workers {
        pairs.push(("sweep_workers", workers.to_string()));
    }
    if let Some(axis) = &plan.across {
        pairs.push(("across", axis.knob.key().to_string()));
        pairs.push(("across_values", values_text(&axis.values)));
    }
    pairs
}

/// Values as a link's list holds them.
pub fn values_text(values: &[f32]) -> String {
    values.iter().map(|v| Knob::format_plain(*v)).collect::<Vec<_>>().join(",")
}

/// What the page sends each of its sweep workers: the whole page state as a link (the sweep plan
/// in it) and which share of the members this worker trains.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepJob {
    pub query: String,
    pub part: usize,
    pub parts: usize,
}

/// What a sweep worker reports after a chunk of steps: every member of its part has taken `step`
/// steps, with their scores when it scored them; `done` with the last. It travels as numbers
/// ([`to_numbers`](Self::to_numbers)), a `Float64Array` the page reads back with
/// [`from_numbers`](Self::from_numbers); a failure travels as its message, a string.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkerReport {
    pub part: usize,
    pub step: u64,
    pub models: usize,
    pub done: bool,
    pub scores: Option<Vec<super::MemberScore>>,
}

/// Numbers before the scores, and per score before its KL per dimension.
const HEAD: usize = 5;
const PER_SCORE: usize = 12;
/// Most latent dimensions a report carries per score (the latent slider's maximum is far below).
const MAX_REPORTED_DIMS: usize = 1024;

impl WorkerReport {
    /// `[part, step, models, done, scored, then per score: value, fold, train, validation, rate,
    /// distortion, diverged, across, modes covered, of modes, MMD², dims, then dims numbers of KL
    /// per dimension]`, NaN for a missing number.
    pub fn to_numbers(&self) -> Vec<f64> {
        let scores = self.scores.as_deref().unwrap_or_default();
        let mut numbers =
            vec![self.part as f64, self.step as f64, self.models as f64, f64::from(u8::from(self.done)), f64::from(u8::from(self.scores.is_some()))];
        for s in scores {
            let n = |v: Option<f64>| v.unwrap_or(f64::NAN);
            let dims = s.kl_per_dim.len().min(MAX_REPORTED_DIMS);
            numbers.extend([f64::from(s.value), s.fold as f64, n(s.train), n(s.validation), n(s.rate), n(s.distortion), f64::from(u8::from(s.diverged))]);
            let (covered, of) = s.modes.map_or((None, None), |(m, of)| (Some(m as f64), Some(of as f64)));
            numbers.extend([n(s.across.map(f64::from)), n(covered), n(of), n(s.mmd)]);
            numbers.push(dims as f64);
            numbers.extend(&s.kl_per_dim[..dims]);
        }
        numbers
    }

    /// The report `to_numbers` wrote; `None` for numbers it cannot have written.
    pub fn from_numbers(numbers: &[f64]) -> Option<Self> {
        let (head, mut rest) = (numbers.get(..HEAD)?, &numbers[HEAD..]);
        let count = |v: f64| (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v < 1e15).then_some(v as u64);
        let some = |v: f64| v.is_finite().then_some(v);
        let mut scores = Vec::new();
        while !rest.is_empty() {
            let r = rest.get(..PER_SCORE)?;
            let dims = count(r[11]).filter(|&d| d as usize <= MAX_REPORTED_DIMS)? as usize;
            let modes = match (r[8].is_nan(), r[9].is_nan()) {
                (true, true) => None,
                _ => Some((count(r[8])? as usize, count(r[9])? as usize)),
            };
            let kl_per_dim = rest.get(PER_SCORE..PER_SCORE + dims)?.to_vec();
            scores.push(super::MemberScore {
                value: r[0] as f32,
                fold: count(r[1])? as usize,
                train: some(r[2]),
                validation: some(r[3]),
                rate: some(r[4]),
                distortion: some(r[5]),
                diverged: r[6] != 0.0,
                kl_per_dim,
                across: some(r[7]).map(|v| v as f32),
                modes,
                mmd: some(r[10]),
            });
            rest = &rest[PER_SCORE + dims..];
        }
        let scored = head[4] != 0.0;
        if !scored && !scores.is_empty() {
            return None;
        }
        Some(Self {
            part: count(head[0])? as usize,
            step: count(head[1])?,
            models: count(head[2])? as usize,
            done: head[3] != 0.0,
            scores: scored.then_some(scores),
        })
    }
}

/// One member's pictures, for the page to show when a student picks a value: decoded prior
/// samples (images, or 2D points), held-out inputs and their reconstructions, and the samples'
/// sharpness (gradient energy; images only). It travels as a `Float32Array`
/// ([`to_numbers`](Self::to_numbers)), so the page tells it from a report (`Float64Array`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberViews {
    pub value: f32,
    /// The second knob's value in a grid.
    pub across: Option<f32>,
    pub fold: usize,
    /// Numbers per sample (784 for a digit, 2 for a point).
    pub dim: usize,
    pub samples: Vec<f32>,
    pub inputs: Vec<f32>,
    pub reconstructions: Vec<f32>,
    pub sharpness: Option<f32>,
}

/// Numbers before the pictures.
const VIEWS_HEAD: usize = 8;
/// Most numbers a view message may hold (64 digits in each of the three sets).
const MAX_VIEW_NUMBERS: usize = 3 * 64 * 784;

impl MemberViews {
    /// `[value, fold, dim, samples, inputs, reconstructions, sharpness, across]` (the three counts
    /// in numbers, sharpness and across NaN when none), then the three sets one after the other.
    pub fn to_numbers(&self) -> Vec<f32> {
        let mut numbers = vec![
            self.value,
            self.fold as f32,
            self.dim as f32,
            self.samples.len() as f32,
            self.inputs.len() as f32,
            self.reconstructions.len() as f32,
            self.sharpness.unwrap_or(f32::NAN),
            self.across.unwrap_or(f32::NAN),
        ];
        numbers.extend(self.samples.iter().chain(&self.inputs).chain(&self.reconstructions));
        numbers
    }

    /// The views `to_numbers` wrote; `None` for numbers it cannot have written.
    pub fn from_numbers(numbers: &[f32]) -> Option<Self> {
        let head = numbers.get(..VIEWS_HEAD)?;
        let count = |v: f32| (v.is_finite() && v >= 0.0 && v.fract() == 0.0 && (v as usize) <= MAX_VIEW_NUMBERS).then_some(v as usize);
        let (dim, samples, inputs, reconstructions) = (count(head[2])?, count(head[3])?, count(head[4])?, count(head[5])?);
        let rest = &numbers[VIEWS_HEAD..];
        if dim == 0 || rest.len() != samples + inputs + reconstructions || [samples, inputs, reconstructions].iter().any(|n| n % dim != 0) {
            return None;
        }
        let (s, rest) = rest.split_at(samples);
        let (i, r) = rest.split_at(inputs);
        Some(Self {
            value: head[0],
            fold: count(head[1])?,
            dim,
            samples: s.to_vec(),
            inputs: i.to_vec(),
            reconstructions: r.to_vec(),
            sharpness: head[6].is_finite().then_some(head[6]),
            across: head[7].is_finite().then_some(head[7]),
        })
    }
}
