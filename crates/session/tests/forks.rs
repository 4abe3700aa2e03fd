//! Forks on the CPU engine, as the page and the CLI reach them: `Run::fork` duplicates a run
//! (weights, optimizer moments, step, data order, history, checkpoints), both branches train on,
//! and with the same knobs they go on point for point alike, while a knob changed on one branch
//! moves that branch alone. The GPU engine's state copy has its own check in `latent-tests`
//! (`forks_carry_the_whole_training_state`), on lavapipe and in Chromium's WebGPU.

use latent_core::data::toy2d::Toy2d;
use latent_session::config::{Dataset, LabConfig, ModelKind};
use latent_session::run::Cadence;
use latent_session::Engine;
use latent_session::{Run, RunSpec, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");

/// The page's CPU defaults for `model` on `dataset`, scoring both splits and keeping a checkpoint
/// after every chunk (so the histories hold held-out scores to compare).
fn spec(model: ModelKind, dataset: Dataset) -> RunSpec {
    let mut config = LabConfig::defaults_for(model, dataset);
    config.shrink_for_cpu();
    let mut spec = config.run_spec();
    spec.options.evaluation = Cadence::Always;
    spec.options.checkpoints = Cadence::Always;
    spec
}

fn build(spec: &RunSpec) -> Run {
    Run::build(spec.clone(), Engine::Cpu, Some(MNIST), Start::Fresh).unwrap_or_else(|e| panic!("{e}"))
}

fn advance(run: &mut Run, steps: usize) {
    block_on(run.advance(steps)).unwrap_or_else(|e| panic!("{e}"));
}

/// Forks `model` after 30 steps and trains the source, an unchanged branch and a branch with
/// `change` applied 2 × 15 more steps each; compares them with a run trained straight.
fn fork_and_compare(model: ModelKind, dataset: Dataset, change: impl Fn(&mut latent_core::Knobs)) {
    let spec = spec(model, dataset);
    let (mut source, mut straight) = (build(&spec), build(&spec));
    advance(&mut source, 30);
    let mut same = source.fork(Engine::Cpu).unwrap_or_else(|e| panic!("{model:?}: forking: {e}"));
    let mut changed = source.fork(Engine::Cpu).unwrap_or_else(|e| panic!("{model:?}: forking: {e}"));
    assert_eq!((same.step(), same.history()), (source.step(), source.history()), "{model:?}: a fork starts at its source's step with its history");
    assert_eq!(same.last_checkpoint().map(|c| c.step), Some(30), "{model:?}: the fork keeps the source's checkpoint");
    let mut knobs = spec.knobs;
    change(&mut knobs);
    changed.set_knobs(&knobs).unwrap_or_else(|e| panic!("{model:?}: {e}"));
    for run in [&mut source, &mut same, &mut changed] {
        advance(run, 15);
        advance(run, 15);
    }
    for steps in [30, 15, 15] {
        advance(&mut straight, steps);
    }
    assert_eq!(source.history().points(), same.history().points(), "{model:?}: the unchanged branch went on exactly as its source");
    assert_eq!(source.history().points(), straight.history().points(), "{model:?}: forking disturbed the source");
    let (ours, theirs) = (source.history().points().last(), changed.history().points().last());
    assert_eq!(changed.step(), 60);
    assert!(ours != theirs, "{model:?}: the knob changed on one branch did not change its training");
    assert_eq!(source.history().points()[..1], changed.history().points()[..1], "{model:?}: the changed branch shares the source's past");
    assert_eq!(spec.knobs, source.spec().knobs, "{model:?}: the source kept its knobs");
}

/// A fork must be built on its source's engine: a CPU run forked with GPU kernels is refused, with
/// the reason, and the source trains on.
#[test]
fn a_fork_on_another_engine_is_refused() {
    let kernels = block_on(async {
        let ctx = latent_gpu::GpuContext::new().await.unwrap_or_else(|e| panic!("{e}: install a Vulkan driver (lavapipe in CI)"));
        latent_gpu::Kernels::new(&ctx).await.unwrap_or_else(|e| panic!("{e}"))
    });
    let spec = spec(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8));
    let mut source = build(&spec);
    advance(&mut source, 10);
    let refused = source.fork(Engine::Gpu(&kernels)).map(|_| ()).map_err(|e| e.to_string());
    assert!(refused.as_ref().is_err_and(|e| e.contains("different engines")), "{refused:?}");
    advance(&mut source, 10);
    assert_eq!(source.step(), 20);
}

#[test]
fn a_vae_forks_and_a_changed_beta_moves_only_its_branch() {
    fork_and_compare(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8), |k| k.beta *= 4.0);
}

#[test]
fn a_vae_gan_forks_and_a_changed_gamma_moves_only_its_branch() {
    fork_and_compare(ModelKind::VaeGan, Dataset::Mnist, |k| k.gamma += 1.0);
}

#[test]
fn a_gan_forks_and_a_changed_discriminator_penalty_moves_only_its_branch() {
    fork_and_compare(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8), |k| k.l2_d = Some(0.1));
}

/// The branches a config names, kept as the page and the lesson rehearsal keep them
/// (`Branches::sync`): a new entry is forked from the main run as it is, a changed one takes its
/// knobs where it stands, one past the end goes; a branch traded with the main run keeps its state.
#[test]
fn branches_follow_the_configs_forks() {
    use latent_session::branches::Branches;
    let spec = spec(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8));
    let mut main = build(&spec);
    advance(&mut main, 20);
    let mut beta_4 = spec.knobs;
    beta_4.beta = 4.0;
    let mut branches = Branches::default();
    let added = branches.sync(&main, Engine::Cpu, &[spec.knobs, beta_4], &[]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((added, branches.len()), (2, 2));
    assert!(branches.runs().iter().all(|b| b.step() == 20 && b.history() == main.history()), "the branches start where the main run is");

    block_on(branches.advance(10, false, |place| place == 1, None)).unwrap_or_else(|e| panic!("{e}"));
    advance(&mut main, 10);
    assert_eq!(branches.runs().iter().map(Run::step).collect::<Vec<_>>(), vec![20, 30], "only the branch let go trained");

    // The first branch takes β = 4 where it stands; the second goes.
    let added = branches.sync(&main, Engine::Cpu, &[beta_4], &[spec.knobs, beta_4]).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((added, branches.len(), branches.runs()[0].step(), branches.runs()[0].spec().knobs.beta), (0, 1, 20, 4.0));

    // Traded with the main run, each keeps its own state.
    branches.swap_with_main(0, &mut main);
    assert_eq!((main.step(), branches.runs()[0].step(), main.spec().knobs.beta), (20, 30, 4.0));
    branches.remove(0);
    assert!(branches.is_empty());
}
