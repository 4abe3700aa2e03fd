//! The validation curve of a sweep: for each value the mean −ELBO over its folds on training and
//! validation rows, the validation mean's standard error, and the two choices `cv.glmnet` draws:
//! the value with the least mean validation −ELBO, and the most regularising value whose mean is
//! within one standard error of that least (the one-standard-error rule: as good within the
//! noise, and simpler).

use super::MemberScore;
use crate::run::COLLAPSED_KL;

/// One value of the sweep, summed over its folds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CurvePoint {
    pub value: f32,
    /// Means over the folds that scored (`None` when none did).
    pub train: Option<f64>,
    pub validation: Option<f64>,
    pub rate: Option<f64>,
    pub distortion: Option<f64>,
    /// Standard error of the validation mean: the folds' sample standard deviation over √folds
    /// (`None` with fewer than two folds scored).
    pub standard_error: Option<f64>,
    /// Folds whose member diverged.
    pub diverged: usize,
    /// The validation rate per latent dimension (nats), the mean over the folds that scored
    /// (empty when none did).
    pub kl_per_dim: Vec<f64>,
}

impl CurvePoint {
    /// Latent dimensions that carry information (KL at least [`COLLAPSED_KL`]); `None` before a
    /// fold scored.
    pub fn active_dims(&self) -> Option<usize> {
        (!self.kl_per_dim.is_empty()).then(|| self.kl_per_dim.iter().filter(|&&k| k >= COLLAPSED_KL).count())
    }
}

/// The curve and its two choices, as indices into `points`.
#[derive(Clone, Debug, PartialEq)]
pub struct Curve {
    pub points: Vec<CurvePoint>,
    /// The least mean validation −ELBO (λ_min).
    pub min: Option<usize>,
    /// The one-standard-error choice (λ_1se); `None` without standard errors or for a knob that
    /// does not regularise (the learning rate, γ).
    pub one_se: Option<usize>,
}

impl Curve {
    /// The curve of `scores` over `values` (a value whose every fold diverged has no means and is
    /// never chosen). `regularises_upward`: a larger value is the simpler model.
    pub fn new(values: &[f32], scores: &[MemberScore], regularises_upward: bool) -> Self {
        let points: Vec<CurvePoint> = values.iter().map(|&value| point(value, scores.iter().filter(|s| s.value == value))).collect();
        let min = points.iter().enumerate().filter_map(|(i, p)| Some((i, p.validation?))).min_by(|a, b| a.1.total_cmp(&b.1)).map(|(i, _)| i);
        let one_se = min.filter(|_| regularises_upward).and_then(|m| {
            let limit = points[m].validation? + points[m].standard_error?;
            // The largest value within one standard error of the least mean.
            points.iter().enumerate().filter(|(_, p)| p.validation.is_some_and(|v| v <= limit)).max_by(|a, b| a.1.value.total_cmp(&b.1.value)).map(|(i, _)| i)
        });
        Self { points, min, one_se }
    }
}

fn point<'a>(value: f32, folds: impl Iterator<Item = &'a MemberScore>) -> CurvePoint {
    let folds: Vec<&MemberScore> = folds.collect();
    let scored: Vec<&MemberScore> = folds.iter().copied().filter(|s| !s.diverged).collect();
    let mean = |get: fn(&MemberScore) -> Option<f64>| {
        let values: Vec<f64> = scored.iter().filter_map(|s| get(s)).collect();
        (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
    };
    let validation = mean(|s| s.validation);
    let standard_error = validation.filter(|_| scored.len() >= 2).map(|m| {
        let n = scored.len() as f64;
        let variance = scored.iter().filter_map(|s| s.validation).map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
        (variance / n).sqrt()
    });
    CurvePoint {
        value,
        train: mean(|s| s.train),
        validation,
        rate: mean(|s| s.rate),
        distortion: mean(|s| s.distortion),
        standard_error,
        diverged: folds.len() - scored.len(),
        kl_per_dim: mean_per_dim(&scored),
    }
}

/// The folds' KL per dimension, averaged dimension by dimension (folds of one sweep share the
/// latent size; a fold that reported none is left out).
fn mean_per_dim(scored: &[&MemberScore]) -> Vec<f64> {
    let reported: Vec<&[f64]> = scored.iter().map(|s| s.kl_per_dim.as_slice()).filter(|k| !k.is_empty()).collect();
    let dims = reported.first().map_or(0, |k| k.len());
    let reported: Vec<&[f64]> = reported.into_iter().filter(|k| k.len() == dims).collect();
    (0..dims).map(|d| reported.iter().map(|k| k[d]).sum::<f64>() / reported.len() as f64).collect()
}
