//! The `latent` command end to end on what users get wrong: a diverging run stops with a message
//! and keeps what it wrote; bad flags are refused with a message naming the flag. Natively on the
//! machine's adapter (lavapipe in CI), tiny models only.

mod common;

use common::{latent, out_dir, stderr};

/// Adam at the largest learning rate the CLI accepts drives a small MNIST VAE to NaN within a few
/// steps: the run fails with the divergence message (not some later symptom) and still leaves its
/// metrics, with the non-finite row, and the sample figures behind.
#[test]
fn a_diverging_run_is_reported_and_keeps_its_files() {
    for backend in ["gpu", "cpu"] {
        let out = out_dir(&format!("diverging-{backend}"));
        let output = latent(&[
            "train",
            "--dataset",
            "mnist",
            "--hidden",
            "32",
            "--latent",
            "2",
            "--batch",
            "50",
            "--steps",
            "100",
            "--eval-every",
            "10",
            "--lr",
            "1",
            "--backend",
            backend,
            "--out",
            out.to_str().unwrap_or("diverging"),
        ]);
        let message = stderr(&output);
        assert!(!output.status.success(), "{backend}: a diverged run must fail; stderr: {message}");
        assert!(message.contains("training diverged by step") && message.contains("lower --lr"), "{backend}: stderr: {message}");
        let metrics = std::fs::read_to_string(out.join("metrics.csv")).unwrap_or_default();
        assert!(
            metrics.lines().last().is_some_and(|row| row.contains("NaN") || row.contains("inf")),
            "{backend}: metrics.csv should end on the non-finite row:\n{metrics}"
        );
        for file in ["config.json", "loss.png", "samples.png", "reconstructions.png"] {
            assert!(out.join(file).exists(), "{backend}: {file} missing after divergence");
        }
    }
}

#[test]
fn bad_flags_get_a_message_naming_them() {
    for (args, expected) in [
        (&["train", "--dropout", "2"][..], "--dropout"),
        (&["train", "--lr", "0"], "--lr"),
        (&["train", "--beta", "NaN"], "--beta"),
        (&["train", "--batch", "0"], "--batch"),
        (&["train", "--gamma", "1"], "--gamma"),
        (&["train", "--optimizer", "sgd", "--momentum", "1"], "--momentum"),
        (&["train", "--model", "gan", "--dataset", "ring", "--optimizer", "sgd"], "--optimizer"),
        (&["train", "--model", "gan", "--dataset", "mnist"], "2D datasets"),
        (&["train", "--dataset", "galaxy"], "unknown dataset"),
        (&["train", "--hidden", "1000000000", "--steps", "1", "--backend", "cpu"], "hidden layers"),
    ] {
        let output = latent(args);
        let message = stderr(&output);
        assert!(!output.status.success() && message.contains(expected), "{args:?} should fail naming {expected:?}; stderr: {message}");
    }
}
