//! A card's check: conditions on the numbers the views show (`collapsed >= 6 and kl > 2`), read
//! from a run's history and views as [`Readouts`].

use crate::run::{History, Views, COLLAPSED_KL};
use crate::sweep::Curve;

use super::{label, MAX_LABEL};

/// Most conditions joined with `and` in one check.
pub const MAX_TERMS: usize = 4;

/// A number a check can read, each shown somewhere in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// Training steps (GAN: rounds).
    Step,
    /// The latest training loss, as the loss chart draws it (penalty included).
    Loss,
    /// The latest KL term (nats).
    Kl,
    /// −ELBO on training rows and on held-out rows, at the latest evaluation.
    TrainElbo,
    TestElbo,
    /// Held-out minus training −ELBO: the generalization gap.
    Gap,
    /// Held-out −ELBO now minus its best so far: how far overfitting has taken it.
    Overfit,
    /// Latent dimensions whose KL is below 0.05 nats, and those above it.
    Collapsed,
    Active,
    /// Mean gradient energy of the sample digits (their sharpness).
    Sharpness,
    /// With branches side by side: the sharpest samples' sharpness over the blurriest's.
    SharpnessRatio,
    /// Modes of the ring or grid the generated points cover.
    Modes,
    /// Squared MMD between real and generated 2D points.
    Mmd,
    /// D's accuracy on held-out real points.
    DAccuracy,
    /// Share of weights within 10⁻³ of zero, over every weight matrix (what L1 drives up).
    NearZero,
    /// A finished sweep's choices: the value with the least validation −ELBO, and the largest
    /// within one standard error of it (the one-SE rule).
    LambdaMin,
    LambdaOneSe,
}

impl Readout {
    pub const ALL: [Readout; 17] = [
        Self::Step,
        Self::Loss,
        Self::Kl,
        Self::TrainElbo,
        Self::TestElbo,
        Self::Gap,
        Self::Overfit,
        Self::Collapsed,
        Self::Active,
        Self::Sharpness,
        Self::SharpnessRatio,
        Self::Modes,
        Self::Mmd,
        Self::DAccuracy,
        Self::NearZero,
        Self::LambdaMin,
        Self::LambdaOneSe,
    ];

    /// The name a check writes.
    pub fn key(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Loss => "loss",
            Self::Kl => "kl",
            Self::TrainElbo => "train_elbo",
            Self::TestElbo => "test_elbo",
            Self::Gap => "gap",
            Self::Overfit => "overfit",
            Self::Collapsed => "collapsed",
            Self::Active => "active",
            Self::Sharpness => "sharpness",
            Self::SharpnessRatio => "sharpness_ratio",
            Self::Modes => "modes",
            Self::Mmd => "mmd",
            Self::DAccuracy => "d_accuracy",
            Self::NearZero => "near_zero",
            Self::LambdaMin => "lambda_min",
            Self::LambdaOneSe => "lambda_1se",
        }
    }

    /// The name the page shows beside the number.
    pub fn label(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Loss => "loss",
            Self::Kl => "KL",
            Self::TrainElbo => "training −ELBO",
            Self::TestElbo => "held-out −ELBO",
            Self::Gap => "held-out − training −ELBO",
            Self::Overfit => "held-out −ELBO above its best",
            Self::Collapsed => "collapsed dimensions",
            Self::Active => "active dimensions",
            Self::Sharpness => "sharpness",
            Self::SharpnessRatio => "sharpest ÷ blurriest branch",
            Self::Modes => "modes covered",
            Self::Mmd => "MMD²",
            Self::DAccuracy => "D accuracy",
            Self::NearZero => "weights near zero",
            Self::LambdaMin => "the sweep's λ_min",
            Self::LambdaOneSe => "the sweep's one-SE choice",
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// A value as the page prints it: counts whole, shares as percentages, sharpness to 4 decimals,
    /// the rest to 3 significant digits.
    pub fn format(self, value: f64) -> String {
        match self {
            Self::Step | Self::Collapsed | Self::Active | Self::Modes => format!("{value:.0}"),
            Self::DAccuracy | Self::NearZero => format!("{:.1}%", 100.0 * value),
            // As the page prints it under the samples.
            Self::Sharpness => format!("{value:.4}"),
            _ => three_digits(value),
        }
    }
}

/// Three significant digits, never in exponent form (a student reads 0.0148, not 1.48e-2).
pub fn three_digits(value: f64) -> String {
    let decimals = if value == 0.0 || !value.is_finite() { 0 } else { (2.0 - value.abs().log10().floor()).clamp(0.0, 9.0) as usize };
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Every readout of a run at one moment; `None` where the run has no such number (yet).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readouts {
    values: [Option<f64>; Readout::ALL.len()],
}

impl Readouts {
    /// The readouts of a run at `step`, from its history and its latest views.
    pub fn of(step: u64, history: &History, views: &Views, has_encoder: bool) -> Readouts {
        let latest = history.latest();
        let train = history.last_measured(|p| p.train);
        let test = history.last_measured(|p| p.test);
        let best_test = history.points().iter().filter_map(|p| p.test).filter(|v| v.is_finite()).reduce(f64::min);
        let kl = &views.kl_per_dim;
        let collapsed = (has_encoder && !kl.is_empty()).then(|| kl.iter().filter(|&&k| k < COLLAPSED_KL).count() as f64);
        let weights: Vec<f32> = views.weights.iter().map(|h| h.near_zero).collect();
        let mut readouts = Readouts::default();
        for readout in Readout::ALL {
            let value = match readout {
                Readout::Step => Some(step as f64),
                Readout::Loss => latest.map(|p| p.total),
                Readout::Kl => latest.filter(|_| has_encoder).map(|p| p.kl),
                Readout::TrainElbo => train,
                Readout::TestElbo => test,
                Readout::Gap => test.zip(train).map(|(test, train)| test - train),
                Readout::Overfit => test.zip(best_test).map(|(test, best)| test - best),
                Readout::Collapsed => collapsed,
                Readout::Active => collapsed.map(|c| kl.len() as f64 - c),
                Readout::Sharpness => views.sharpness,
                Readout::Modes => views.modes.map(|(covered, _)| covered as f64),
                Readout::Mmd => views.mmd,
                Readout::DAccuracy => history.last_measured(|p| p.d_accuracy),
                Readout::NearZero => (!weights.is_empty()).then(|| weights.iter().map(|&w| f64::from(w)).sum::<f64>() / weights.len() as f64),
                // A sweep's or the branches', not the run's: see `with_sweep` and `with_branches`.
                Readout::LambdaMin | Readout::LambdaOneSe | Readout::SharpnessRatio => None,
            };
            readouts.set(readout, value);
        }
        readouts
    }

    /// The same with a finished sweep's choices (its validation curve's λ_min and λ_1se).
    pub fn with_sweep(mut self, curve: Option<&Curve>) -> Readouts {
        // The value as the sweep's list writes it (0.01, not the f32's 0.009999999776…), so a
        // check's `lambda_min < 0.01` means what it says.
        let value = |index: Option<usize>| curve.and_then(|c| c.points.get(index?)?.value.to_string().parse::<f64>().ok());
        self.set(Readout::LambdaMin, value(curve.and_then(|c| c.min)));
        self.set(Readout::LambdaOneSe, value(curve.and_then(|c| c.one_se)));
        self
    }

    /// The same with the sharpness of each branch beside the run (as their cards print it): the
    /// sharpest samples' over the blurriest's, among the run and its branches.
    pub fn with_branches(mut self, sharpness: &[Option<f64>]) -> Readouts {
        let all: Vec<f64> = std::iter::once(self.get(Readout::Sharpness)).chain(sharpness.iter().copied()).flatten().filter(|s| *s > 0.0).collect();
        let ratio = (all.len() >= 2).then(|| all.iter().copied().fold(f64::MIN, f64::max) / all.iter().copied().fold(f64::MAX, f64::min));
        self.set(Readout::SharpnessRatio, ratio);
        self
    }

    pub fn get(&self, readout: Readout) -> Option<f64> {
        self.values[Readout::ALL.iter().position(|&r| r == readout).unwrap_or(0)]
    }

    pub fn set(&mut self, readout: Readout, value: Option<f64>) {
        if let Some(i) = Readout::ALL.iter().position(|&r| r == readout) {
            self.values[i] = value.filter(|v| v.is_finite());
        }
    }
}

/// How a readout is compared with a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    AtLeast,
    AtMost,
    Above,
    Below,
}

impl Comparison {
    const ALL: [(&'static str, Comparison); 4] = [(">=", Self::AtLeast), ("<=", Self::AtMost), (">", Self::Above), ("<", Self::Below)];

    pub fn symbol(self) -> &'static str {
        match self {
            Self::AtLeast => "≥",
            Self::AtMost => "≤",
            Self::Above => ">",
            Self::Below => "<",
        }
    }

    fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::AtLeast => value >= threshold,
            Self::AtMost => value <= threshold,
            Self::Above => value > threshold,
            Self::Below => value < threshold,
        }
    }
}

/// One condition: `collapsed >= 6`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Term {
    pub readout: Readout,
    pub comparison: Comparison,
    pub threshold: f64,
}

impl Term {
    /// Whether the readouts meet it; `None` while the run has no such number.
    pub fn holds(&self, readouts: &Readouts) -> Option<bool> {
        readouts.get(self.readout).map(|v| self.comparison.holds(v, self.threshold))
    }

    /// "collapsed dimensions 3 (goal ≥ 6)".
    pub fn describe(&self, readouts: &Readouts) -> String {
        let now = readouts.get(self.readout).map_or("not measured yet".to_string(), |v| self.readout.format(v));
        format!("{} {now} (goal {} {})", self.readout.label(), self.comparison.symbol(), self.readout.format(self.threshold))
    }
}

/// A card's check: every term holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub terms: Vec<Term>,
    /// What the student is to reach, in words.
    pub label: String,
}

impl Check {
    /// `collapsed >= 6 and kl < 3 | Six dimensions collapse`.
    pub fn parse(text: &str) -> Result<Check, String> {
        let (conditions, words) = text.split_once('|').ok_or("`check:` is `readout >= number [and …] | what the student reaches`")?;
        let mut terms = Vec::new();
        for condition in conditions.split(" and ") {
            if terms.len() == MAX_TERMS {
                return Err(format!("at most {MAX_TERMS} conditions in a check"));
            }
            terms.push(term(condition.trim())?);
        }
        Ok(Check { terms, label: label(words, "the check's label")? })
    }

    /// Whether the readouts meet every term; `false` while any is unmeasured.
    pub fn holds(&self, readouts: &Readouts) -> bool {
        self.terms.iter().all(|t| t.holds(readouts) == Some(true))
    }
}

fn term(condition: &str) -> Result<Term, String> {
    let (at, symbol, comparison) = Comparison::ALL
        .into_iter()
        .filter_map(|(symbol, comparison)| condition.find(symbol).map(|at| (at, symbol, comparison)))
        .min_by_key(|&(at, symbol, _)| (at, std::cmp::Reverse(symbol.len())))
        .ok_or_else(|| format!("`{}` compares nothing: use >=, <=, > or <", shorten(condition)))?;
    let key = condition[..at].trim();
    let readout = Readout::from_key(key)
        .ok_or_else(|| format!("no readout `{}`; a check reads {}", shorten(key), Readout::ALL.iter().map(|r| r.key()).collect::<Vec<_>>().join(", ")))?;
    let number = condition[at + symbol.len()..].trim();
    let threshold: f64 = number.parse().ok().filter(|v: &f64| v.is_finite()).ok_or_else(|| format!("`{}` is not a number", shorten(number)))?;
    Ok(Term { readout, comparison, threshold })
}

/// Author text quoted in an error, cut to the label limit.
fn shorten(text: &str) -> String {
    text.chars().take(MAX_LABEL / 3).collect()
}
