use latent_core::data::toy2d::Toy2d;

use super::curve::Curve;
use super::*;
use crate::config::{Dataset, LabConfig};
use pollster::block_on;

fn score(value: f32, fold: usize, validation: f64) -> MemberScore {
    MemberScore {
        value,
        fold,
        train: Some(validation - 10.0),
        validation: Some(validation),
        rate: Some(1.0),
        distortion: Some(validation - 1.0),
        diverged: false,
        kl_per_dim: vec![0.5, 0.01, validation / 100.0],
        ..MemberScore::default()
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
    let sweep = |knob, values: Vec<f32>, folds| SweepSpec { base: base.clone(), knob, values, folds, across: None };
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
    let across = |knob, values: Vec<f32>| Some(Axis { knob, values });
    refused(SweepSpec { across: across(Knob::L1, vec![0.01]), ..sweep(Knob::L2, vec![0.01], 1) }, 2000, "the GAN's");
    let gan = |knob, folds, second| SweepSpec { base: ring_gan(), knob, values: vec![0.0, 0.01], folds, across: second };
    refused(gan(Knob::L2Generator, 3, None), 2000, "use one fold");
    refused(gan(Knob::L2, 1, None), 2000, "no knob `l2`");
    refused(gan(Knob::L2Generator, 1, across(Knob::L2Generator, vec![0.1])), 2000, "not `l2g` with itself");
    refused(gan(Knob::L2Generator, 1, across(Knob::L2Discriminator, vec![0.5])), 2000, "outside the knob's range");
    assert!(gan(Knob::L2Generator, 1, across(Knob::L2Discriminator, vec![0.0, 0.1])).check(2000).is_ok());
    assert!(sweep(Knob::L2, vec![0.0, 0.01], 3).check(2000).is_ok());
}

fn ring_gan() -> RunSpec {
    LabConfig::defaults_for(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8)).run_spec()
}

/// A GAN grid over (λ_G, λ_D) trains every pair and scores each by its generated points: modes
/// covered and MMD². A strong λ_G shrinks the generator toward a constant map, so the best cell
/// is one without it and the strong λ_G's cells cover fewer modes; a part of the grid holds its
/// members' pictures (points on the plane), found by both values.
#[test]
fn a_gan_grid_scores_modes_and_mmd_per_pair() {
    let spec = SweepSpec {
        base: ring_gan(),
        knob: Knob::L2Generator,
        values: vec![0.0, 0.1],
        folds: 1,
        across: Some(Axis { knob: Knob::L2Discriminator, values: vec![0.0, 0.01] }),
    };
    let mut sweep = Sweep::build(spec.clone(), None, None).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(sweep.members().len(), 4);
    assert_eq!(
        sweep.members().iter().map(|m| (m.value, m.across)).collect::<Vec<_>>(),
        [(0.0, Some(0.0)), (0.0, Some(0.01)), (0.1, Some(0.0)), (0.1, Some(0.01))]
    );
    block_on(sweep.advance(2000)).unwrap_or_else(|e| panic!("{e}"));
    let scores = block_on(sweep.scores()).unwrap_or_else(|e| panic!("{e}"));
    let grid = Grid::new(&spec, &scores);
    for (i, cell) in grid.cells.iter().enumerate() {
        let cell = cell.as_ref().unwrap_or_else(|| panic!("cell {i} unscored"));
        println!("λ_G {} λ_D {:?}: modes {:?}, MMD² {:?}", cell.value, cell.across, cell.modes, cell.mmd);
        assert!(!cell.diverged && cell.mmd.is_some_and(|m| m >= 0.0) && cell.modes.is_some_and(|(_, of)| of == 8), "{cell:?}");
        assert!(cell.validation.is_none() && cell.kl_per_dim.is_empty(), "a GAN has no ELBO: {cell:?}");
    }
    let best = grid.best.and_then(|b| grid.at(b)).unwrap_or_else(|| panic!("no best cell: {grid:?}"));
    assert_eq!(best.0, 0.0, "the best cell has no generator penalty: {grid:?}");
    let modes = |row, column| grid.cell(row, column).and_then(|c| c.modes).map_or(0, |(m, _)| m);
    for row in 0..2 {
        assert!(modes(row, 1) < modes(row, 0), "λ_G 0.1 covers fewer modes than 0 at λ_D {:?}: {grid:?}", grid.rows[row]);
    }
    let views = block_on(sweep.member_views(0.1, Some(0.01), 0, 8)).unwrap_or_else(|e| panic!("{e}")).unwrap_or_default();
    assert_eq!((views.dim, views.across, views.samples.len()), (2, Some(0.01), 2 * 256));
    assert_eq!(block_on(sweep.member_views(0.1, None, 0, 8)).unwrap_or_else(|e| panic!("{e}")), None, "a grid's member needs both values");
}

/// Members of one value train on disjoint validation folds that cover the training rows; members
/// of different values on the same fold start alike and differ only by the knob; a member that
/// diverges is marked while the others train on.
#[test]
fn members_train_on_their_folds_and_a_diverged_one_stops_alone() {
    let mut base = ring_vae();
    base.data.train_size = 600;
    let spec = SweepSpec { base, knob: Knob::Lr, values: vec![1e-3, 0.1], folds: 3, across: None };
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
    // Each scored member's rate, dimension by dimension on its validation rows, adds up to the
    // rate its evaluation gave (the same rows, up to the evaluation's whole batches).
    let latent = sweep.spec().base.shape.latent;
    for (_, s) in others.clone() {
        let (total, rate) = (s.kl_per_dim.iter().sum::<f64>(), s.rate.unwrap_or(f64::NAN));
        assert!(s.kl_per_dim.len() == latent && (total - rate).abs() < 0.05 * rate.max(1.0), "KL per dimension {:?} against the rate {rate}", s.kl_per_dim);
    }
    assert!(scores[3].kl_per_dim.is_empty());
    assert!(sweep.members.iter().enumerate().all(|(i, m)| i == 3 || m.run.step() == 200), "the others trained on");
    block_on(sweep.advance(50)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((sweep.step(), sweep.members[3].run.step()), (250, 200), "a diverged member trains no more");
    let curve = block_on(sweep.curve()).unwrap_or_else(|e| panic!("{e}"));
    assert!(curve.points[0].standard_error.is_some() && curve.points[1].diverged == 1, "{curve:?}");
    // A member's pictures: 2D points for the ring, finite for a member that trained; none for a
    // value the sweep does not hold.
    let views = block_on(sweep.member_views(1e-3, None, 1, 8)).unwrap_or_else(|e| panic!("{e}")).unwrap_or_default();
    assert!(views.dim == 2 && views.samples.len() == 2 * MEMBER_POINTS && views.samples.iter().all(|v| v.is_finite()), "{views:?}");
    assert!(!views.inputs.is_empty() && views.inputs.len() == views.reconstructions.len() && views.sharpness.is_none(), "{views:?}");
    assert_eq!(block_on(sweep.member_views(0.5, None, 0, 8)).unwrap_or_else(|e| panic!("{e}")), None);
}

/// Natively the CPU members train side by side on the cores: each ends exactly where the same
/// run trained alone ends, point for point of its history.
#[test]
fn members_trained_side_by_side_match_runs_trained_alone() {
    let spec = SweepSpec { base: ring_vae(), knob: Knob::L2, values: vec![0.0, 1e-3, 1e-2], folds: 1, across: None };
    let mut sweep = Sweep::build(spec.clone(), None, None).unwrap_or_else(|e| panic!("{e}"));
    block_on(sweep.advance(60)).unwrap_or_else(|e| panic!("{e}"));
    block_on(sweep.advance(40)).unwrap_or_else(|e| panic!("{e}"));
    for member in sweep.members() {
        let mut alone = Run::build(spec.member_spec(member.value, None), crate::run::Engine::Cpu, None, Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
        block_on(alone.advance(60)).unwrap_or_else(|e| panic!("{e}"));
        block_on(alone.advance(40)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(member.run().history().points(), alone.history().points(), "λ {}", member.value);
        let (together, solo) = (block_on(member.run().score(EvalSplit::Test)), block_on(alone.score(EvalSplit::Test)));
        assert_eq!(together.map(|s| s.negative_elbo()).ok(), solo.map(|s| s.negative_elbo()).ok(), "λ {}", member.value);
    }
}

/// On the GPU the plain VAE's members train in one batched step: through β's warm-up, on two
/// folds, each member's history, step, scores, KL per dimension and pictures are exactly those of
/// the same sweep trained member by member; a member that diverges is marked where it stopped
/// and the others go on.
#[test]
fn a_gpu_sweep_trains_its_members_batched_exactly_as_apart() {
    let mut base = ring_vae();
    base.data.train_size = 300;
    base.options.beta_warmup = 50;
    batched_as_apart(SweepSpec { base, knob: Knob::Beta, values: vec![0.1, 1.0, 4.0], folds: 2, across: None }, 4);
}

/// On the GPU a γ sweep of VAE-GANs trains its members in one batched step (each with its
/// discriminator), folds and β's warm-up included: each member's history (D and G losses too),
/// scores, pictures and both networks' weights read exactly as the same sweep trained member by
/// member, a diverging member included.
#[test]
fn a_gpu_vae_gan_sweep_trains_its_members_batched_exactly_as_apart() {
    let mut base = LabConfig::defaults_for(ModelKind::VaeGan, Dataset::Toy(Toy2d::Ring8)).run_spec();
    base.data.train_size = 300;
    base.options.beta_warmup = 50;
    batched_as_apart(SweepSpec { base, knob: Knob::Gamma, values: vec![0.1, 1.0], folds: 2, across: None }, 1);
}

/// On the GPU a GAN grid's members train in one batched step (their λ_G and λ_D their own): each
/// member's history, rounds, scores (modes, MMD²) and pictures are exactly those of the same grid
/// trained member by member, a diverging member included.
#[test]
fn a_gpu_gan_grid_trains_its_members_batched_exactly_as_apart() {
    let across = Some(Axis { knob: Knob::L2Discriminator, values: vec![0.0, 0.01] });
    batched_as_apart(SweepSpec { base: ring_gan(), knob: Knob::L2Generator, values: vec![0.0, 0.1], folds: 1, across }, 2);
}

/// `spec`'s sweep on the machine's GPU trained in one batched step and member by member, 100
/// steps in three advances with member `broken` made to diverge after the first: every member
/// reads the same both ways.
fn batched_as_apart(spec: SweepSpec, broken: usize) {
    let kernels = block_on(async {
        let ctx = latent_gpu::GpuContext::new().await.unwrap_or_else(|e| panic!("{e}: install a Vulkan driver (lavapipe in CI)"));
        Kernels::new(&ctx).await.unwrap_or_else(|e| panic!("{e}"))
    });
    let build = || Sweep::build(spec.clone(), Some(&kernels), None).unwrap_or_else(|e| panic!("{e}"));
    let (mut batched, mut apart) = (build(), Sweep::build_apart(spec.clone(), &kernels, None).unwrap_or_else(|e| panic!("{e}")));
    assert_eq!((batched.batched_groups(), apart.batched_groups()), (vec![spec.members()], vec![]));
    for sweep in [&mut batched, &mut apart] {
        block_on(sweep.advance(30)).unwrap_or_else(|e| panic!("{e}"));
        sweep.members[broken].run.inject_divergence();
        block_on(sweep.advance(40)).unwrap_or_else(|e| panic!("{e}"));
        block_on(sweep.advance(30)).unwrap_or_else(|e| panic!("{e}"));
    }
    for (b, a) in batched.members().iter().zip(apart.members()) {
        let at = (b.value, b.across, b.fold);
        assert_eq!((b.run().step(), b.diverged_at), (a.run().step(), a.diverged_at), "{at:?}");
        let (b_points, a_points) = (b.run().history().points(), a.run().history().points());
        assert_eq!(b_points.len(), a_points.len(), "{at:?}: the batched history");
        for (bp, ap) in b_points.iter().zip(a_points) {
            // The L2 term is summed slot by slot in the batched step: its last bits may differ.
            let gap = (bp.penalty - ap.penalty).abs() / ap.penalty.abs().max(1e-30);
            assert!(
                gap <= 1e-5 || (bp.penalty.is_nan() && ap.penalty.is_nan()),
                "{at:?} step {}: L2 term {} batched, {} apart",
                bp.step,
                bp.penalty,
                ap.penalty
            );
            // The rest exactly, compared as printed: the broken member's last total is NaN on both.
            let exact = |p: &crate::run::Point| format!("{:?}", crate::run::Point { penalty: 0.0, ..p.clone() });
            assert_eq!(exact(bp), exact(ap), "{at:?}: the batched history");
        }
    }
    assert_eq!((batched.members[broken].diverged_at, batched.step()), (Some(70), 100), "the broken member stopped, the others went on");
    let scores = block_on(batched.scores()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(scores, block_on(apart.scores()).unwrap_or_else(|e| panic!("{e}")));
    assert!(scores.iter().enumerate().all(|(i, s)| s.diverged == (i == broken)), "{scores:?}");
    let views = |sweep: &Sweep| {
        let first = &sweep.members()[0];
        block_on(sweep.member_views(first.value, first.across, first.fold, 8)).unwrap_or_else(|e| panic!("{e}"))
    };
    assert!(views(&batched).is_some_and(|v| v.samples.iter().all(|x| x.is_finite())));
    assert_eq!(views(&batched), views(&apart));
    // Every other network too (a GAN's D draws the heat map), as weight histograms.
    let everything = ViewRequest { histogram_bins: Some(16), ..member_request(8) };
    for (i, (b, a)) in batched.members().iter().zip(apart.members()).enumerate().filter(|(i, _)| *i != broken) {
        let [b, a] = [b, a].map(|m| block_on(m.run().views(&everything)).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(b, a, "member {i}'s views");
    }
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

/// The parts of a sweep split its members between workers: together they are the whole sweep's
/// members, each once, and a member trains to the same scores in its part as in the whole sweep.
#[test]
fn parts_hold_the_whole_sweeps_members_once() {
    let mut base = ring_vae();
    base.data.train_size = 600;
    let spec = SweepSpec { base, knob: Knob::L2, values: vec![0.0, 1e-3, 1e-2], folds: 3, across: None };
    let mut whole = Sweep::build(spec.clone(), None, None).unwrap_or_else(|e| panic!("{e}"));
    let mut parts: Vec<Sweep> = (0..2).map(|p| Sweep::build_part(spec.clone(), None, None, p, 2).unwrap_or_else(|e| panic!("{e}"))).collect();
    assert_eq!(parts.iter().map(|p| p.members().len()).collect::<Vec<_>>(), [5, 4]);
    block_on(whole.advance(30)).unwrap_or_else(|e| panic!("{e}"));
    let mut from_parts = Vec::new();
    for part in &mut parts {
        block_on(part.advance(30)).unwrap_or_else(|e| panic!("{e}"));
        from_parts.extend(block_on(part.scores()).unwrap_or_else(|e| panic!("{e}")));
    }
    from_parts.sort_by(|a, b| a.value.total_cmp(&b.value).then(a.fold.cmp(&b.fold)));
    assert_eq!(from_parts, block_on(whole.scores()).unwrap_or_else(|e| panic!("{e}")), "the parts train the whole sweep's members");
    assert!(Sweep::build_part(spec, None, None, 2, 2).is_err(), "no part 2 of 2");
}

/// A sweep in a link reads back as it was written; what a link may not ask for is clamped or
/// dropped with a note, never trained.
#[test]
fn a_sweep_in_a_link_round_trips_and_is_bounded() {
    let (config, notes) = LabConfig::from_query("train=200&sweep=l2&sweep_values=0.01,0,0.001,0.01&folds=5&sweep_steps=300&sweep_workers=2");
    assert!(notes.is_empty(), "{notes:?}");
    let plan = config.sweep.clone().unwrap_or_else(|| panic!("no sweep read"));
    assert_eq!(
        plan,
        plan::SweepPlan { knob: Knob::L2, values: vec![0.0, 0.001, 0.01], folds: 5, steps: 300, workers: Some(2), across: None },
        "sorted, each once"
    );
    assert_eq!(LabConfig::from_query(&config.to_query()).0, config, "round trip");

    let read = |query: &str| LabConfig::from_query(query);
    let (c, notes) = read("sweep=l2&sweep_values=1,x,0.05&folds=99&sweep_steps=1e9&sweep_workers=0");
    let plan = c.sweep.unwrap_or_else(|| panic!("no sweep read"));
    assert_eq!((plan.values, plan.folds, plan.steps, plan.workers), (vec![0.05, 0.1], 10, plan::SWEEP_STEPS.1, Some(1)));
    assert!(notes.iter().any(|n| n.contains("clamped to 0.1")) && notes.iter().any(|n| n.contains("not a number")), "{notes:?}");
    let many: Vec<String> = (1..=20).map(|i| format!("{}", i as f32 * 1e-3)).collect();
    let (c, notes) = read(&format!("sweep=l2&sweep_values={}", many.join(",")));
    assert_eq!(c.sweep.map(|p| p.values.len()), Some(MAX_VALUES));
    assert!(notes.iter().any(|n| n.contains("at most 12 values")), "{notes:?}");
    for (query, says) in [
        ("sweep=batch", "no knob"),
        ("sweep=gamma", "no knob"),
        ("model=gan&sweep=l2", "no knob the GAN can sweep"),
        ("model=gan&across_values=0,1", "without `sweep=KNOB`"),
        ("folds=3", "without `sweep=KNOB`"),
        ("sweep=l2&sweep_values=x", "no usable value"),
    ] {
        let (c, notes) = read(query);
        assert!(c.sweep.is_none() && notes.iter().any(|n| n.contains(says)), "{query}: {notes:?}");
    }
    let (c, _) = read("sweep=beta");
    assert_eq!(c.sweep.map(|p| p.values), Some(vec![0.0, 0.1, 1.0, 10.0, 100.0]), "β's default values");
    assert_eq!(plan::SweepPlan::default_for(ModelKind::Vae).map(|p| p.values), Some(vec![0.0, 1e-4, 1e-3, 1e-2, 1e-1]));
    let gan = plan::SweepPlan::default_for(ModelKind::Gan).unwrap_or_else(|| panic!("no GAN grid"));
    assert_eq!((gan.knob, gan.across.map(|a| a.knob), gan.folds), (Knob::L2Generator, Some(Knob::L2Discriminator), 1));

    // A GAN grid in a link: the second knob and its values read back; folds stay one; a second
    // knob on a VAE, or the same knob twice, is dropped with a note.
    let (c, notes) = read("model=gan&sweep=l2g&sweep_values=0.1,0&across=l2d&across_values=0.01,0,0.01&folds=3");
    let plan = c.sweep.clone().unwrap_or_else(|| panic!("no grid read: {notes:?}"));
    assert_eq!(plan.across, Some(Axis { knob: Knob::L2Discriminator, values: vec![0.0, 0.01] }));
    assert_eq!((plan.values, plan.folds, plan.steps), (vec![0.0, 0.1], 1, plan::DEFAULT_GAN_SWEEP_STEPS));
    assert!(notes.iter().any(|n| n.contains("one fold")), "{notes:?}");
    assert_eq!(LabConfig::from_query(&c.to_query()).0, c, "a grid round-trips");
    let (c, notes) = read("sweep=l2&across=beta");
    assert!(c.sweep.is_some_and(|p| p.across.is_none()) && notes.iter().any(|n| n.contains("GAN's")), "{notes:?}");
    let (c, notes) = read("model=gan&sweep=l2g&across=l2g");
    assert!(c.sweep.is_some_and(|p| p.across.is_none()) && notes.len() == 1, "{notes:?}");
}

/// A worker's report reads back exactly from its numbers; numbers it cannot have written are refused.
#[test]
fn worker_reports_round_trip_through_numbers() {
    let report = plan::WorkerReport {
        part: 1,
        step: 420,
        models: 2,
        done: true,
        scores: Some(vec![
            score(0.001, 0, 150.25),
            MemberScore { value: 0.1, fold: 2, diverged: true, ..MemberScore::default() },
            MemberScore { value: 0.01, across: Some(0.1), modes: Some((7, 8)), mmd: Some(0.0125), ..MemberScore::default() },
        ]),
    };
    assert_eq!(plan::WorkerReport::from_numbers(&report.to_numbers()), Some(report.clone()));
    let progress = plan::WorkerReport { scores: None, done: false, ..report };
    assert_eq!(plan::WorkerReport::from_numbers(&progress.to_numbers()), Some(progress));
    // A score claiming more dimensions than follow, or a fractional count, or scores in a report
    // that says it holds none.
    let mut short = report.to_numbers();
    short.pop();
    let mut fractional = report.to_numbers();
    fractional[plan_dims_at()] = 2.5;
    let mut unscored = report.to_numbers();
    unscored[4] = 0.0;
    assert_eq!(plan::WorkerReport::from_numbers(&short), None);
    assert_eq!(plan::WorkerReport::from_numbers(&fractional), None);
    assert_eq!(plan::WorkerReport::from_numbers(&unscored), None);
    for bad in [&[][..], &[0.0, 1.0, 2.0, 0.0, 1.0, 0.5][..], &[-1.0, 1.0, 2.0, 0.0, 0.0][..], &[0.0, f64::NAN, 2.0, 0.0, 0.0][..]] {
        assert_eq!(plan::WorkerReport::from_numbers(bad), None, "{bad:?}");
    }
}

/// Where the first score's count of KL dimensions sits in a report's numbers (after the five head
/// numbers and the score's eleven).
fn plan_dims_at() -> usize {
    5 + 11
}

/// A value's KL per dimension is its folds' mean, dimension by dimension; a diverged fold is left
/// out; a dimension under the collapse threshold is not active.
#[test]
fn the_curve_averages_kl_per_dimension_over_folds() {
    let mut diverged = score(0.1, 2, 0.0);
    (diverged.diverged, diverged.kl_per_dim) = (true, Vec::new());
    let scores = [score(0.1, 0, 100.0), score(0.1, 1, 300.0), diverged];
    let curve = Curve::new(&[0.1], &scores, true);
    let point = &curve.points[0];
    assert_eq!(point.kl_per_dim, vec![0.5, 0.01, 2.0], "{point:?}");
    assert_eq!(point.active_dims(), Some(2), "0.01 nats is a collapsed dimension");
    assert_eq!(Curve::new(&[1.0], &[], true).points[0].active_dims(), None);
}

/// A member's pictures read back exactly from their numbers; numbers it cannot have written (a
/// count that does not match, sets not whole samples, no dimension) are refused.
#[test]
fn member_views_round_trip_through_numbers() {
    let views = plan::MemberViews {
        value: 0.01,
        across: Some(0.1),
        fold: 2,
        dim: 2,
        samples: vec![0.5, -1.0, 2.0, 0.25],
        inputs: vec![1.0, 1.0],
        reconstructions: vec![0.9, 1.1],
        sharpness: None,
    };
    assert_eq!(plan::MemberViews::from_numbers(&views.to_numbers()), Some(views.clone()));
    let sharp = plan::MemberViews { sharpness: Some(0.042), ..views.clone() };
    assert_eq!(plan::MemberViews::from_numbers(&sharp.to_numbers()), Some(sharp));
    let mut short = views.to_numbers();
    short.pop();
    let mut odd = views.to_numbers();
    odd[3] = 3.0;
    odd.remove(8);
    let mut no_dim = views.to_numbers();
    no_dim[2] = 0.0;
    for bad in [short, odd, no_dim, vec![0.0; 3]] {
        assert_eq!(plan::MemberViews::from_numbers(&bad), None, "{bad:?}");
    }
}

/// The page's range fields: four log-spaced values from 1e-4 to 0.1 read as typed; a linear
/// range; a bad range is refused with the reason.
#[test]
fn a_range_fills_the_values_field() {
    assert_eq!(plan::range_text(1e-4, 0.1, 4, true).ok().as_deref(), Some("0.0001,0.001,0.01,0.1"));
    assert_eq!(plan::range_text(0.0, 0.5, 3, false).ok().as_deref(), Some("0,0.25,0.5"));
    let refused = |lo: f32, hi: f32, count: usize, log: bool| plan::range_text(lo, hi, count, log).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused(0.0, 0.1, 4, true).contains("above 0"));
    assert!(refused(0.1, 0.01, 4, false).contains("lo < hi"));
    assert!(refused(f32::NAN, 1.0, 4, false).contains("finite"));
    assert!(refused(0.1, 1.0, 13, false).contains("values"));
}
