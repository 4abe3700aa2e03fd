//! A `Run` on the CPU twin, with no front end: 50 digits overfit within a few hundred steps, so the
//! held-out −ELBO turns; early stopping must stop the run there and put the best parameters back
//! (or, told not to, leave the last ones), exactly as the page and the command line rely on.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use latent_core::engine::EvalSplit;
use latent_core::Knobs;
use latent_session::config::{DataConfig, Dataset, ModelKind, Shape};
use latent_session::run::{Cadence, EarlyStop, Progress, RunEvent, RunOptions};
use latent_session::Engine;
use latent_session::{Run, RunSpec, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Steps between evaluations, and the most the run may take.
const EVERY: usize = 25;
const BUDGET: usize = 3000;

fn spec(restore_best: bool) -> RunSpec {
    RunSpec {
        data: DataConfig { dataset: Dataset::Mnist, train_size: 50, noise: 0.0, drawn: Vec::new() },
        shape: Shape {
            model: ModelKind::Vae,
            hidden: vec![128],
            discriminator_hidden: None,
            activation: latent_core::Activation::Relu,
            latent: 16,
            batch: 25,
            seed: 4,
        },
        knobs: Knobs { lr: 3e-3, ..Knobs::default() },
        options: RunOptions {
            early_stopping: Some(EarlyStop { patience: 4, min_delta: 0.0, restore_best }),
            beta_warmup: 0,
            evaluation: Cadence::Always,
            checkpoints: Cadence::Never,
            held_out_digits: 250,
        },
    }
}

/// Trains until early stopping fires; returns its event and the held-out −ELBO the run saw last.
fn train_until_stopped(run: &mut Run) -> (u64, f64, bool, f64) {
    train_until_stopped_by(run, |run| block_on(run.advance(EVERY)).unwrap_or_else(|e| panic!("{e}")))
}

/// As the page trains on the CPU engine: with a pause (the page's yield to the browser) before
/// each split's score; counts the pauses.
fn advance_pausing(run: &mut Run, pauses: &Cell<usize>) -> Progress {
    let pause = || -> Pin<Box<dyn Future<Output = ()>>> {
        pauses.set(pauses.get() + 1);
        Box::pin(std::future::ready(()))
    };
    block_on(run.advance_pausing(EVERY, Some(&pause))).unwrap_or_else(|e| panic!("{e}"))
}

fn train_until_stopped_by(run: &mut Run, mut advance: impl FnMut(&mut Run) -> Progress) -> (u64, f64, bool, f64) {
    while (run.step() as usize) < BUDGET {
        let progress = advance(run);
        assert!(progress.event != Some(RunEvent::Diverged), "diverged at step {}", run.step());
        if let (Some(RunEvent::EarlyStopped { best_step, best, restored }), Some(last)) = (progress.event, progress.point.test) {
            return (best_step, best, restored, last);
        }
    }
    panic!("early stopping never fired in {BUDGET} steps; history: {:?}", run.history().points().iter().map(|p| p.test).collect::<Vec<_>>());
}

#[test]
fn early_stopping_stops_at_the_turn_and_restores_the_best() {
    let mut run = Run::build(spec(true), Engine::Cpu, Some(MNIST), Start::Fresh).expect("builds");
    let (best_step, best, restored, last) = train_until_stopped(&mut run);
    let stopped_at = run.step();
    eprintln!("stopped at step {stopped_at}: best held-out −ELBO {best:.3} at step {best_step}, last {last:.3}");
    assert!(restored);
    assert!(best_step < stopped_at, "the best ({best_step}) must lie before the stop ({stopped_at})");
    assert_eq!(stopped_at - best_step, 4 * EVERY as u64, "patience is 4 evaluations of {EVERY} steps");
    assert!(last > best, "the held-out score had turned: {last} vs best {best}");
    let now = block_on(run.negative_elbo(EvalSplit::Test)).expect("scores");
    assert_eq!(now, best, "the restored parameters score exactly the best evaluation");
    assert_eq!(run.best(), None, "a stop starts a fresh watch");
    // The run's history holds every evaluation, the best among them.
    assert!(run.history().points().iter().any(|p| p.step == best_step && p.test == Some(best)));
}

/// The page scores the two splits in tasks of their own; the run decides exactly as in one go.
#[test]
fn scoring_a_split_at_a_time_decides_the_same() {
    let mut at_once = Run::build(spec(true), Engine::Cpu, Some(MNIST), Start::Fresh).expect("builds");
    let mut paused = Run::build(spec(true), Engine::Cpu, Some(MNIST), Start::Fresh).expect("builds");
    let stopped = train_until_stopped(&mut at_once);
    let pauses = Cell::new(0);
    assert_eq!(train_until_stopped_by(&mut paused, |run| advance_pausing(run, &pauses)), stopped);
    assert_eq!(paused.step(), at_once.step());
    assert_eq!(paused.history().points(), at_once.history().points(), "the same points, every score bit for bit");
    let evaluations = paused.history().points().iter().filter(|p| p.train.is_some() && p.test.is_some()).count();
    assert_eq!(evaluations, paused.history().points().len(), "every point scored both splits");
    assert_eq!(pauses.get(), 2 * evaluations, "a pause before each split's score");
}

#[test]
fn without_restore_best_the_last_parameters_stay() {
    let mut run = Run::build(spec(false), Engine::Cpu, Some(MNIST), Start::Fresh).expect("builds");
    let (_, best, restored, last) = train_until_stopped(&mut run);
    assert!(!restored);
    let now = block_on(run.negative_elbo(EvalSplit::Test)).expect("scores");
    assert_eq!(now, last, "the parameters of the stop stay");
    assert!(now > best);
}

#[test]
fn a_run_that_ends_first_restores_the_best_at_finish() {
    let mut run = Run::build(spec(true), Engine::Cpu, Some(MNIST), Start::Fresh).expect("builds");
    for _ in 0..4 {
        let progress = block_on(run.advance(EVERY)).expect("trains");
        assert_eq!(progress.event, None, "too early to stop");
    }
    let (best_step, best) = run.finish().expect("finishes").expect("early stopping watched");
    assert!(best_step <= run.step());
    assert_eq!(block_on(run.negative_elbo(EvalSplit::Test)).expect("scores"), best);
}
