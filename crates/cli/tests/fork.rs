//! `latent train --fork-at STEP --branch KNOB=VALUE`, end to end as a student runs it: the branch's
//! `metrics.csv` holds the run's rows up to the fork and its own after, with its knob in the `beta`
//! column; a branch with the run's own knobs goes on row for row as the run; both runs' figures and
//! `fork.png` are written; bad fork flags are refused naming what is wrong, before any training.
//! Tiny models on the CPU twin.

mod common;

use std::path::PathBuf;

use common::{latent, out_dir, stderr};

const MNIST_VAE: [&str; 16] = [
    "train",
    "--dataset",
    "mnist",
    "--train-size",
    "200",
    "--hidden",
    "32",
    "--latent",
    "4",
    "--batch",
    "50",
    "--steps",
    "60",
    "--eval-every",
    "10",
    "--backend",
];

/// Trains the tiny VAE on `backend` forked at step 30 into a branch with `branch`; returns the
/// output folder and stderr.
fn fork_vae(name: &str, backend: &str, branch: &str) -> (PathBuf, String) {
    let out = out_dir(name);
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = MNIST_VAE.to_vec();
    args.extend_from_slice(&[backend, "--format", "both", "--fork-at", "30", "--branch", branch, "--out", &out_arg]);
    let output = latent(&args);
    let message = stderr(&output);
    assert!(output.status.success(), "latent {args:?} failed: {message}");
    (out, message)
}

fn rows(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).lines().map(str::to_owned).collect()
}

#[test]
fn a_branch_shares_the_past_and_trains_on_with_its_knob() {
    let (out, message) = fork_vae("fork-beta", "cpu", "beta=4");
    let (run, branch) = (rows(&out.join("metrics.csv")), rows(&out.join("branch/metrics.csv")));
    assert_eq!((run.len(), branch.len()), (7, 7), "a header and six rows each:\n{run:?}\n{branch:?}");
    assert_eq!(run[..4], branch[..4], "up to the fork (step 30) the branch's rows are the run's");
    let beta = |row: &str| row.split(',').nth(1).map(str::to_owned).unwrap_or_default();
    for (ours, theirs) in run[4..].iter().zip(&branch[4..]) {
        assert_eq!((beta(ours).as_str(), beta(theirs).as_str()), ("1", "4"), "after the fork the branch trains at β = 4: {ours} / {theirs}");
        assert_ne!(ours, theirs);
    }
    for file in ["fork.png", "loss.png", "branch/loss.png", "branch/samples.png", "branch/kl.png", "config.json"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(message.contains("forked at step 30") && message.contains("beta=4"), "stderr: {message}");
    // The chart names both runs and the fork (plotters writes each text on lines of its own).
    let svg: String = std::fs::read_to_string(out.join("fork.svg")).unwrap_or_default().split_whitespace().collect();
    for text in [">therun</text>", ">branch:beta=4</text>", ">thefork,atstep30</text>"] {
        assert!(svg.contains(text), "fork.svg lacks {text}");
    }
    assert!(message.contains("the run held-out −ELBO") && message.contains("the branch (beta=4) held-out −ELBO"), "the closing comparison: {message}");
}

/// On both engines (the GPU one on the machine's adapter, lavapipe in CI): the fork copies the
/// GPU's buffers, the CPU twin clones itself.
#[test]
fn a_branch_with_the_runs_own_knobs_goes_on_row_for_row_as_the_run() {
    for backend in ["cpu", "gpu"] {
        let (out, message) = fork_vae(&format!("fork-same-{backend}"), backend, "beta=1");
        assert!(message.contains(if backend == "gpu" { "engine: GPU engine" } else { "engine: CPU twin" }), "{message}");
        assert_eq!(rows(&out.join("metrics.csv")), rows(&out.join("branch/metrics.csv")), "{backend}: same state, same knobs, same data order: the same rows");
    }
}

#[test]
fn a_gan_forks_too() {
    let out = out_dir("fork-gan");
    let out_arg = out.to_string_lossy().into_owned();
    let args = [
        "train",
        "--model",
        "gan",
        "--dataset",
        "ring",
        "--train-size",
        "400",
        "--hidden",
        "16",
        "--batch",
        "50",
        "--steps",
        "40",
        "--eval-every",
        "10",
        "--backend",
        "cpu",
        "--fork-at",
        "20",
        "--branch",
        "l2d=0.1,dsteps=2",
        "--out",
        &out_arg,
    ];
    let output = latent(&args);
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    let (run, branch) = (rows(&out.join("metrics.csv")), rows(&out.join("branch/metrics.csv")));
    assert_eq!(run[..3], branch[..3]);
    assert_ne!(run[4], branch[4], "λ_D and D steps changed on the branch");
    for file in ["fork.png", "branch/loss.png", "branch/samples.png", "branch/discriminator.png"] {
        assert!(out.join(file).is_file(), "{file} missing");
    }
    assert!(message.contains("the branch (l2d=0.1, dsteps=2) D loss"), "{message}");
}

/// With --min-delta 1000 no evaluation counts as better, so early stopping ends the run at its
/// second row, step 20, before the fork at 30: the run says so and makes no branch.
#[test]
fn a_run_that_stops_before_the_fork_says_so() {
    let out = out_dir("fork-early");
    let out_arg = out.to_string_lossy().into_owned();
    let mut args = MNIST_VAE.to_vec();
    args.extend_from_slice(&["cpu", "--early-stopping", "1", "--min-delta", "1000", "--fork-at", "30", "--branch", "beta=4", "--out", &out_arg]);
    let output = latent(&args);
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("the run ended at step 20 before the fork at step 30: no branch was made"), "{message}");
    assert!(!out.join("branch").exists() && !out.join("fork.png").exists());
}

#[test]
fn bad_fork_flags_are_refused_before_training() {
    for (fork_at, branch, expected) in [
        ("0", "beta=4", "--fork-at must be a step inside the run"),
        ("60", "beta=4", "--fork-at must be a step inside the run"),
        ("25", "beta=4", "multiple of --eval-every"),
        ("30", "batch=10", "unknown knob `batch`"),
        ("30", "beta", "KNOB=VALUE"),
        ("30", "beta=abc", "is not a number"),
        ("30", "beta=1000", "outside"),
        ("30", "l2g=0.1", "does not apply to the VAE"),
    ] {
        let out = out_dir("fork-bad");
        let out_arg = out.to_string_lossy().into_owned();
        let mut args = MNIST_VAE.to_vec();
        args.extend_from_slice(&["cpu", "--fork-at", fork_at, "--branch", branch, "--out", &out_arg]);
        let output = latent(&args);
        let message = stderr(&output);
        assert!(
            !output.status.success() && message.contains(expected),
            "--fork-at {fork_at} --branch {branch} should fail with {expected:?}; stderr: {message}"
        );
        assert!(!out.exists(), "--fork-at {fork_at} --branch {branch}: nothing is written before the flags are checked");
    }
    let output = latent(&["sweep", "--knob", "beta", "--values", "1,2", "--fork-at", "10", "--branch", "beta=4"]);
    assert!(!output.status.success() && stderr(&output).contains("does not apply to a sweep"), "{}", stderr(&output));
    let output = latent(&["train", "--fork-at", "10"]);
    assert!(!output.status.success() && stderr(&output).contains("--branch"), "clap asks for --branch: {}", stderr(&output));
}
