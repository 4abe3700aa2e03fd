use latent_core::data::toy2d::Toy2d;

use super::curve::Curve;
use super::*;
use crate::config::{Dataset, LabConfig};
use crate::test_support::block_on;

fn score(value: f32, fold: usize, validation: f64) -> MemberScore {
    MemberScore {
        value,
        fold,
        train: Some(validation - 10.0),
        validation: Some(validation),
        rate: Some(1.0),
        distortion: Some(validation - 1.0),
        diverged: false,
    }
}

/// λ_min is the least mean; λ_1se the largest value within one standard error of it; a value
/// whose folds all diverged is never chosen, and one diverged fold leaves the others' mean.
#[test]
fn the_curve_marks_the_minimum_and_the_one_standard_error_choice() {
    let values = [0.001, 0.01, 0.1, 1.0];
    let mut scores = Vec::new();
    for (v, folds) in values.iter().zip([[110.0, 112.0, 114.0], [100.0, 102.0, 104.0], [102.0, 103.0, 104.0], [130.0, 131.0, 132.0]]) {
        scores.extend(folds.iter().enumerate().map(|(k, &e)| score(*v, k, e)));
    }
    let curve = Curve::new(&values, &scores, true);
    assert_eq!(curve.min, Some(1), "{curve:?}");
    // Mean 102 ± 2/√3·… : 103 is within one standard error (1.15) of 102.
    let se = curve.points[1].standard_error.unwrap_or(f64::NAN);
    assert!((se - (4.0f64 / 3.0).sqrt()).abs() < 1e-9, "standard error {se}");
    assert_eq!(curve.one_se, Some(2));
    assert_eq!(Curve::new(&values, &scores, false).one_se, None, "no one-SE choice for a knob that does not regularise");

    let mut broken = scores.clone();
    for s in broken.iter_mut().filter(|s| s.value == 0.01) {
        s.diverged = true;
    }
    broken[0].diverged = true;
    let curve = Curve::new(&values, &broken, true);
    assert_eq!(curve.points[1].validation, None);
    assert_eq!((curve.points[1].diverged, curve.points[0].diverged), (3, 1));
    assert_eq!(curve.points[0].validation, Some(113.0), "the two folds that scored");
    assert_eq!(curve.min, Some(2), "a value with every fold diverged is not chosen: {curve:?}");
}

fn ring_vae() -> RunSpec {
    LabConfig::defaults_for(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8)).run_spec()
}

/// Bad sweeps are refused naming the limit; nothing is trained.
#[test]
fn bad_sweeps_are_refused_naming_the_limit() {
    let base = ring_vae();
    let sweep = |knob, values: Vec<f32>, folds| SweepSpec { base: base.clone(), knob, values, folds };
    let refused = |spec: SweepSpec, rows: usize, says: &str| {
        let e = spec.check(rows).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains(says), "expected a refusal naming `{says}`, got `{e}`");
    };
    refused(sweep(Knob::L2, vec![0.1; 13], 1), 2000, "1..=12 values");
    refused(sweep(Knob::L2, vec![0.1, 0.1], 1), 2000, "repeat");
    refused(sweep(Knob::L2, vec![0.5], 1), 2000, "outside the knob's range");
    refused(sweep(Knob::Gamma, vec![1.0], 1), 2000, "no knob `gamma`");
    refused(sweep(Knob::Batch, vec![32.0], 1), 2000, "no knob `batch`");
    refused(sweep(Knob::L2, vec![0.01], 11), 2000, "folds must be 1..=10");
    refused(sweep(Knob::L2, vec![0.01], 5), 3, "more folds than rows");
    refused(sweep(Knob::L2, vec![0.01], 5), 200, "fewer than one batch of 64");
    let mut huge = sweep(Knob::L2, vec![0.01, 0.02], 10);
    huge.base.shape.hidden = vec![1024, 1024, 1024];
    refused(huge, 100_000, "weights together");
    let mut gan = sweep(Knob::L2Generator, vec![0.01], 1);
    gan.base.shape.model = ModelKind::Gan;
    refused(gan, 2000, "GAN sweep");
    assert!(sweep(Knob::L2, vec![0.0, 0.01], 3).check(2000).is_ok());
}

/// Members of one value train on disjoint validation folds that cover the training rows; members
/// of different values on the same fold start alike and differ only by the knob; a member that
/// diverges is marked while the others train on.
#[test]
fn members_train_on_their_folds_and_a_diverged_one_stops_alone() {
    let mut base = ring_vae();
    base.data.train_size = 600;
    let spec = SweepSpec { base, knob: Knob::Lr, values: vec![1e-3, 0.1], folds: 3 };
    let mut sweep = Sweep::build(spec, None, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.members().len(), 6);
    let mut seen: Vec<u32> = sweep.members()[..3].iter().flat_map(|m| m.run().data().test.clone()).collect();
    seen.sort_unstable();
    let mut train = sweep.members()[0].run().data().train.clone();
    train.extend(&sweep.members()[0].run().data().test);
    train.sort_unstable();
    assert_eq!(seen, train, "the validation folds partition the training rows");
    block_on(sweep.advance(100)).unwrap_or_else(|e| panic!("{e}"));
    // The second value's first fold breaks (as a NaN loss would).
    sweep.members[3].run.inject_divergence();
    block_on(sweep.advance(100)).unwrap_or_else(|e| panic!("{e}"));
    let scores = block_on(sweep.scores()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.members[3].diverged_at, Some(200), "the broken member is marked where it stopped");
    assert!(scores[3].diverged && scores[3].validation.is_none(), "{:?}", scores[3]);
    let others = scores.iter().enumerate().filter(|(i, _)| *i != 3);
    assert!(others.clone().all(|(_, s)| !s.diverged && s.validation.is_some_and(f64::is_finite)), "{scores:?}");
    assert!(sweep.members.iter().enumerate().all(|(i, m)| i == 3 || m.run.step() == 200), "the others trained on");
    block_on(sweep.advance(50)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((sweep.step(), sweep.members[3].run.step()), (250, 200), "a diverged member trains no more");
    let curve = block_on(sweep.curve()).unwrap_or_else(|e| panic!("{e}"));
    assert!(curve.points[0].standard_error.is_some() && curve.points[1].diverged == 1, "{curve:?}");
}

/// A log range is even in log space and ends exactly on its ends; bad ranges are refused.
#[test]
fn ranges_are_spaced_as_asked() {
    let log = values_between(1e-4, 1e-1, 4, true).unwrap_or_default();
    assert_eq!((log.first(), log.last()), (Some(&1e-4), Some(&1e-1)), "the ends exactly as given");
    let expected = [1e-4f32, 1e-3, 1e-2, 1e-1];
    assert!(log.iter().zip(expected).all(|(a, b)| (a / b - 1.0).abs() < 1e-5), "{log:?}");
    assert_eq!(values_between(0.0, 0.5, 3, false).unwrap_or_default(), vec![0.0, 0.25, 0.5]);
    for (lo, hi, count, is_log) in [(0.0, 0.1, 4, true), (0.1, 0.01, 4, true), (0.0, 1.0, 1, false), (0.0, 1.0, 13, false), (f32::NAN, 1.0, 3, false)] {
        assert!(values_between(lo, hi, count, is_log).is_err(), "{lo}..{hi} × {count} (log {is_log}) was accepted");
    }
}
