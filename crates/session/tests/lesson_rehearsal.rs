//! Every built-in lesson, rehearsed natively on the CPU engine as a student takes it in the page:
//! the page's CPU defaults, each card's setup applied over the one before (a setup that changes the
//! data or the shape builds a new model, as in the page), every "try" button pressed in order, then
//! training until the card's check ticks (a check on a sweep's choices: the card's sweep trained
//! to its end, as Start in the Sweep panel trains it). A setup's `forks` trains branches beside
//! the run as the page does (the session's `Branches`, forked from the run as it is then), step
//! for step with it. Each check must tick within its budget of steps, which
//! keeps the lessons honest when a default or a metric changes; the browser scenario
//! `lessons_run_end_to_end` then times the same lessons in Chromium.
//!
//! `LATENT_LESSON=elbo-beta cargo test --release -p latent-session --test lesson_rehearsal elbo_beta -- --nocapture`
//! prints the readouts after every chunk of steps (how the thresholds were chosen).

use latent_session::branches::Branches;
use latent_session::config::{EnginePref, LabConfig};
use latent_session::lesson::{Lesson, Readout, Readouts, BUILT_IN};
use latent_session::run::ViewRequest;
use latent_session::sweep::Sweep;
use latent_session::Engine;
use latent_session::{Run, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Steps (GAN: rounds) trained between two looks at the readouts (each look scores the held-out
/// split and reads the views, about as long as the steps themselves on the VAE-GAN).
const CHUNK: usize = 100;
/// Most steps a card may take to reach its check.
const BUDGET: usize = 4000;

fn request() -> ViewRequest {
    ViewRequest {
        images: 32,
        points_2d: 1024,
        scatter_points: None,
        manifold_side: 0,
        interpolations: Vec::new(),
        interpolation_steps: 0,
        histogram_bins: Some(40),
    }
}

fn build(config: &LabConfig) -> Run {
    Run::build(config.run_spec(), Engine::Cpu, Some(MNIST), Start::Fresh).unwrap_or_else(|e| panic!("building {config:?}: {e}"))
}

/// The steps each card of `lesson` took to reach its check (`None` for a card without one).
fn rehearse(name: &str, lesson: &Lesson) -> Vec<Option<u64>> {
    let trace = std::env::var("LATENT_LESSON").is_ok_and(|l| l == name);
    let mut config = LabConfig { engine: EnginePref::Cpu, ..LabConfig::default() };
    config.shrink_for_cpu();
    let mut run = build(&config);
    let mut branches = Branches::default();
    let mut reached = Vec::new();
    for (i, card) in lesson.cards.iter().enumerate() {
        let mut next = config.clone();
        if let Some(setup) = &card.setup {
            let (with_setup, notes) = next.with_changes(setup);
            assert!(notes.is_empty(), "{name} card {}: {notes:?}", i + 1);
            next = with_setup;
            if next.rebuilds_from(&config) {
                next.shrink_for_cpu();
            }
        }
        for button in &card.tries {
            next = next.with_changes(&button.query()).0;
        }
        let previous_forks = if next.rebuilds_from(&config) {
            run = build(&next);
            branches.clear();
            Vec::new()
        } else {
            run.set_knobs(&next.knobs).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            config.forks.clone()
        };
        branches.sync(&run, Engine::Cpu, &next.forks, &previous_forks).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
        config = next;
        let Some(check) = &card.check else {
            reached.push(None);
            continue;
        };
        if let Some(plan) = config.sweep.clone().filter(|_| check.terms.iter().any(|t| matches!(t.readout, Readout::LambdaMin | Readout::LambdaOneSe))) {
            // The student presses Start in the Sweep panel: the page's workers train the plan's
            // members; here the same sweep trains in this thread.
            let mut sweep = Sweep::build(plan.spec(&config), None, Some(MNIST)).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            block_on(sweep.advance(plan.steps)).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            let curve = block_on(sweep.curve()).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            if trace {
                for p in &curve.points {
                    println!("  card {} λ {}: train {:?}, validation {:?} ± {:?}", i + 1, p.value, p.train, p.validation, p.standard_error);
                }
            }
            let views = block_on(run.views(&request())).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            let readouts = Readouts::of(run.step(), run.history(), &views, true).with_sweep(Some(&curve));
            let read = check.terms.iter().map(|t| t.describe(&readouts)).collect::<Vec<_>>().join("; ");
            assert!(check.holds(&readouts), "{name} card {} (\"{}\"): the sweep's check \"{}\" does not hold: {read}", i + 1, card.title, check.label);
            println!("  card {}: the sweep's {} models of {} steps: {read}", i + 1, plan.spec(&config).members(), plan.steps);
            reached.push(Some(plan.steps as u64));
            continue;
        }
        let start = run.step();
        let mut at = None;
        while run.step() - start < BUDGET as u64 {
            run.evaluate_next();
            block_on(run.advance(CHUNK)).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            block_on(branches.advance(CHUNK, true, |_| true, None)).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            let views = block_on(run.views(&request())).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            let branch_views = block_on(branches.views(&request())).unwrap_or_else(|e| panic!("{name} card {}: {e}", i + 1));
            let sharpness: Vec<Option<f64>> = branch_views.iter().map(|v| v.sharpness).collect();
            let readouts = Readouts::of(run.step(), run.history(), &views, config.shape.model.has_encoder()).with_branches(&sharpness);
            if trace {
                let branches = if sharpness.is_empty() { String::new() } else { format!(" (branches' sharpness {sharpness:.4?})") };
                println!(
                    "  card {} step {}: {}{branches}",
                    i + 1,
                    run.step(),
                    check.terms.iter().map(|t| t.describe(&readouts)).collect::<Vec<_>>().join("; ")
                );
            }
            if check.holds(&readouts) {
                at = Some(run.step() - start);
                break;
            }
        }
        let at = at.unwrap_or_else(|| panic!("{name} card {} (\"{}\"): the check \"{}\" was not reached in {BUDGET} steps", i + 1, card.title, check.label));
        reached.push(Some(at));
    }
    reached
}

/// Rehearses the built-in lesson `name` and prints the steps each check took.
fn rehearse_built_in(name: &str) {
    let built_in = BUILT_IN.iter().find(|b| b.name == name).unwrap_or_else(|| panic!("no built-in lesson {name}"));
    let lesson = built_in.lesson().unwrap_or_else(|e| panic!("{name}: {e}"));
    let steps = rehearse(name, &lesson);
    println!("{name}: checks reached after {} steps", steps.iter().map(|s| s.map_or("—".to_string(), |s| s.to_string())).collect::<Vec<_>>().join(" / "));
}

/// One test per lesson, so the test harness rehearses them side by side.
const REHEARSED: [&str; 7] = ["elbo-beta", "l2-overfitting", "l1-vs-l2", "vae-gan", "gan-penalties", "sample-quality", "cross-validation"];

#[test]
fn every_built_in_lesson_is_rehearsed() {
    let built_in: Vec<&str> = BUILT_IN.iter().map(|b| b.name).collect();
    assert_eq!(built_in, REHEARSED, "a built-in lesson without its rehearsal below (or one rehearsed that is gone)");
}

#[test]
fn elbo_beta_reaches_every_check() {
    rehearse_built_in("elbo-beta");
}

#[test]
fn l2_overfitting_reaches_every_check() {
    rehearse_built_in("l2-overfitting");
}

#[test]
fn l1_vs_l2_reaches_every_check() {
    rehearse_built_in("l1-vs-l2");
}

#[test]
fn vae_gan_reaches_every_check() {
    rehearse_built_in("vae-gan");
}

#[test]
fn gan_penalties_reaches_every_check() {
    rehearse_built_in("gan-penalties");
}

#[test]
fn sample_quality_reaches_every_check() {
    rehearse_built_in("sample-quality");
}

#[test]
fn cross_validation_reaches_every_check() {
    rehearse_built_in("cross-validation");
}
