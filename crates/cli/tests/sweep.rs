//! `latent sweep` end to end on the CPU twin, tiny models only: a 3-value × 2-fold sweep writes
//! its per-model and per-value tables, the validation curve and its config with the choices and
//! the refit's held-out score; bad sweeps are refused with a message naming the limit.

mod common;

use common::{latent, out_dir, stderr};

#[test]
fn a_sweep_with_folds_writes_its_curve_and_refit() {
    let out = out_dir("sweep-folds");
    let output = latent(&[
        "sweep",
        "--knob",
        "l2",
        "--values",
        "0,0.01,0.1",
        "--folds",
        "2",
        "--dataset",
        "mnist",
        "--train-size",
        "100",
        "--hidden",
        "16",
        "--latent",
        "2",
        "--batch",
        "25",
        "--steps",
        "30",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap_or("sweep-folds"),
    ]);
    let message = stderr(&output);
    assert!(output.status.success(), "stderr: {message}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("λ_min") && stdout.contains("refit at l2="), "stdout: {stdout}");
    let models = std::fs::read_to_string(out.join("sweep.csv")).unwrap_or_default();
    assert_eq!(models.lines().count(), 1 + 3 * 2, "a header and a row per model:\n{models}");
    // value, fold, the four −ELBO numbers, diverged: all there (a VAE has no modes, so the GAN's
    // columns after them are empty).
    let scored = |row: &str| row.split(',').take(7).all(|c| !c.is_empty()) && row.split(',').nth(6) == Some("false");
    assert!(models.lines().skip(1).all(scored), "every model scored:\n{models}");
    let curve = std::fs::read_to_string(out.join("curve.csv")).unwrap_or_default();
    assert_eq!(curve.lines().count(), 1 + 3, "{curve}");
    assert!(curve.contains("min"), "the least mean is marked:\n{curve}");
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap_or_default()).unwrap_or_default();
    assert!(config["refit_held_out_elbo"].as_f64().is_some_and(f64::is_finite), "{config}");
    assert!(config["min"].as_f64().is_some(), "{config}");
    let png = std::fs::read(out.join("validation_curve.png")).unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "validation_curve.png: {} bytes", png.len());
}

/// A β sweep also draws the rate–distortion plane; with one fold the values are scored on the
/// held-out split, and the command says the choice saw the test set.
#[test]
fn a_beta_sweep_draws_rate_and_distortion() {
    let out = out_dir("sweep-beta");
    let output = latent(&[
        "sweep",
        "--knob",
        "beta",
        "--range",
        "0.5,4",
        "--count",
        "2",
        "--dataset",
        "mnist",
        "--train-size",
        "100",
        "--hidden",
        "16",
        "--latent",
        "2",
        "--batch",
        "25",
        "--steps",
        "20",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap_or("sweep-beta"),
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("the choice saw the test set"), "stdout: {stdout}");
    let png = std::fs::read(out.join("rate_distortion.png")).unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "rate_distortion.png: {} bytes", png.len());
    let curve = std::fs::read_to_string(out.join("curve.csv")).unwrap_or_default();
    assert!(curve.lines().nth(1).is_some_and(|row| row.starts_with("0.5,")) && curve.lines().nth(2).is_some_and(|row| row.starts_with("4,")), "{curve}");
    // Each β's rate per latent dimension: both of the 2 dimensions, non-negative, adding up to
    // no more rate at β 4 than at β 0.5.
    let kl = std::fs::read_to_string(out.join("kl_per_dim.csv")).unwrap_or_default();
    let rows: Vec<Vec<f64>> = kl.lines().skip(1).map(|row| row.split(',').skip(1).map(|v| v.parse().unwrap_or(f64::NAN)).collect()).collect();
    assert!(kl.starts_with("value,z1,z2\n") && rows.len() == 2 && rows.iter().flatten().all(|v| *v >= 0.0), "kl_per_dim.csv:\n{kl}");
    assert!(rows[1].iter().sum::<f64>() <= rows[0].iter().sum::<f64>(), "the rate rose with β:\n{kl}");
}

/// A GAN's grid over (λ_G, λ_D) on the ring: a row per pair in `sweep.csv` with its modes covered
/// and MMD², the grid as a table, `gan_grid.png`, and the best pair in `config.json`.
#[test]
fn a_gan_grid_scores_modes_and_draws_its_heat_map() {
    let out = out_dir("sweep-gan-grid");
    let output = latent(&[
        "sweep",
        "--model",
        "gan",
        "--dataset",
        "ring",
        "--knob",
        "l2g",
        "--values",
        "0,0.1",
        "--across",
        "l2d",
        "--across-values",
        "0,0.01",
        "--steps",
        "600",
        "--backend",
        "cpu",
        "--out",
        out.to_str().unwrap_or("sweep-gan-grid"),
    ]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(stdout.contains("l2d\\l2g") && stdout.contains("best: l2g="), "stdout: {stdout}");
    let models = std::fs::read_to_string(out.join("sweep.csv")).unwrap_or_default();
    let header: Vec<&str> = models.lines().next().unwrap_or_default().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    let rows: Vec<Vec<&str>> = models.lines().skip(1).map(|r| r.split(',').collect()).collect();
    assert_eq!(rows.len(), 4, "{models}");
    let pairs: Vec<(&str, &str)> = rows.iter().map(|r| (r[column("value")], r[column("across")])).collect();
    assert_eq!(pairs, [("0", "0"), ("0", "0.01"), ("0.1", "0"), ("0.1", "0.01")], "{models}");
    for r in &rows {
        let mmd: f64 = r[column("mmd2")].parse().unwrap_or(f64::NAN);
        assert!(mmd >= 0.0 && r[column("modes")] == "8" && r[column("validation_elbo")].is_empty(), "{models}");
    }
    let config: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap_or_default()).unwrap_or_default();
    assert!(config["best"]["across"].as_f64().is_some() && config["across"] == "l2d", "{config}");
    let png = std::fs::read(out.join("gan_grid.png")).unwrap_or_default();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "gan_grid.png: {} bytes", png.len());
}

#[test]
fn bad_sweeps_are_refused_naming_the_limit() {
    for (args, expected) in [
        (&["sweep", "--knob", "batch", "--values", "32,64"][..], "no knob `batch`"),
        (&["sweep", "--knob", "colour", "--values", "1"], "unknown knob `colour`"),
        (&["sweep", "--knob", "l2", "--values", "0.5"], "outside the knob's range"),
        (&["sweep", "--knob", "l2", "--values", "0.01", "--folds", "5", "--train-size", "100", "--batch", "32"], "fewer than one batch of 32"),
        (&["sweep", "--knob", "l2", "--range", "0,0.1", "--count", "4"], "a log range needs ends above 0"),
        (&["sweep", "--knob", "l2", "--values", "0.01", "--early-stopping", "3"], "--early-stopping"),
        (&["sweep", "--knob", "l2", "--values", "0.01", "--across", "l1", "--across-values", "0.01"], "the GAN's"),
        (&["sweep", "--model", "gan", "--dataset", "ring", "--knob", "l2g", "--values", "0.01", "--folds", "3"], "use one fold"),
    ] {
        let output = latent(&[args, &["--backend", "cpu", "--steps", "1", "--out", out_dir("sweep-refused").to_str().unwrap_or("refused")]].concat());
        let message = stderr(&output);
        assert!(!output.status.success() && message.contains(expected), "{args:?}: expected `{expected}` in: {message}");
    }
}
