//! `latent bench models`' last table: a GPU sweep as `latent sweep` trains it. `Sweep::advance`
//! in chunks, each ending in every member's metrics and parameters read back into its run, with
//! the members trained one by one against one batched step, for the ring's 2D VAE, the reference
//! MNIST VAE, the ring GAN's (λ_G, λ_D) grid (the shapes of the whole-step table before it) and
//! a γ sweep of the ring's VAE-GAN.

use latent_core::data::toy2d::Toy2d;
use latent_gpu::Kernels;
use latent_session::config::{Dataset, Knob, LabConfig, ModelKind};
use latent_session::sweep::{values_between, Axis, Sweep, SweepSpec, MAX_VALUES};
use web_time::Instant;

use crate::train::MNIST_ASSET;

/// Steps per advance: `latent sweep` takes 100; fewer keep the MNIST row short on a software
/// adapter, and make the per-chunk readbacks count for more than they do there.
const CHUNK: usize = 20;

/// Model-steps per second of a learning-rate sweep of `models` VAEs (2 to [`MAX_VALUES`]) for
/// both shapes, and of a GAN grid of `models` rounded up to even (λ_G from 1e-4 to 1e-1 across
/// λ_D of 0 and 0.01; a round counts as a step) and a γ sweep of `models` ring VAE-GANs (0.01 to 1),
/// member by member and batched, side by side.
pub async fn sweep_table(kernels: &Kernels, models: usize, min_seconds: f64) -> anyhow::Result<String> {
    let models = models.clamp(2, MAX_VALUES);
    let mut out = format!(
        "sweeps as `latent sweep` trains them, {CHUNK} steps (GAN: rounds) per advance: {models} VAEs (learning rates 1e-4 to 1e-2, batch 128), a GAN grid of {} (λ_G × λ_D), {models} VAE-GANs (γ 0.01 to 1): model-steps/s, and the GPU memory each sweep holds\n{:<12} {:>12} {:>12} {:>7} {:>11} {:>11} {:>7}\n",
        2 * models.div_ceil(2),
        "model", "apart", "batched", "ratio", "apart MB", "batched MB", "ratio"
    );
    for (name, dataset, hidden, latent) in [("ring VAE", Dataset::Toy(Toy2d::Ring8), vec![64, 64], 2), ("MNIST VAE", Dataset::Mnist, vec![400], 20)] {
        let mut base = LabConfig::defaults_for(ModelKind::Vae, dataset).run_spec();
        (base.shape.hidden, base.shape.latent, base.shape.batch) = (hidden, latent, 128);
        let spec = SweepSpec { base, knob: Knob::Lr, values: values_between(1e-4, 1e-2, models, true)?, folds: 1, across: None };
        out.push_str(&apart_and_batched(kernels, name, spec, min_seconds).await?);
    }
    let base = LabConfig::defaults_for(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8)).run_spec();
    let across = Some(Axis { knob: Knob::L2Discriminator, values: vec![0.0, 0.01] });
    let spec = SweepSpec { base, knob: Knob::L2Generator, values: values_between(1e-4, 1e-1, models.div_ceil(2), true)?, folds: 1, across };
    out.push_str(&apart_and_batched(kernels, "ring GAN", spec, min_seconds).await?);
    // The VAE-GAN's γ sweep: each member a VAE and its discriminator, a round as a step.
    let base = LabConfig::defaults_for(ModelKind::VaeGan, Dataset::Toy(Toy2d::Ring8)).run_spec();
    let spec = SweepSpec { base, knob: Knob::Gamma, values: values_between(0.01, 1.0, models, true)?, folds: 1, across: None };
    out.push_str(&apart_and_batched(kernels, "ring VAE-GAN", spec, min_seconds).await?);
    Ok(out)
}

/// One row: `spec`'s sweep member by member, then batched (all its members in one step): speed,
/// and the GPU memory each holds once built (its buffers, as the context's ledger counts them).
async fn apart_and_batched(kernels: &Kernels, name: &str, spec: SweepSpec, min_seconds: f64) -> anyhow::Result<String> {
    let held = |before: u64| kernels.context().allocations().1.saturating_sub(before) as f64 / 1e6;
    let before = kernels.context().allocations().1;
    let apart = Sweep::build_apart(spec.clone(), kernels, Some(MNIST_ASSET))?;
    let apart_mb = held(before);
    let apart = model_steps_per_second(apart, min_seconds).await?;
    let before = kernels.context().allocations().1;
    let batched = Sweep::build(spec.clone(), Some(kernels), Some(MNIST_ASSET))?;
    let batched_mb = held(before);
    anyhow::ensure!(batched.batched_groups() == [spec.members()], "the {name}s did not go into one batched step: {:?}", batched.batched_groups());
    let batched = model_steps_per_second(batched, min_seconds).await?;
    Ok(format!("{name:<12} {apart:>12.1} {batched:>12.1} {:>6.2}× {apart_mb:>11.1} {batched_mb:>11.1} {:>6.2}×\n", batched / apart, batched_mb / apart_mb))
}

/// Advances `sweep` one untimed chunk, then chunk by chunk for at least `min_seconds` (each
/// advance waits for its readbacks).
async fn model_steps_per_second(mut sweep: Sweep, min_seconds: f64) -> anyhow::Result<f64> {
    sweep.advance(CHUNK).await?;
    let (start, mut steps) = (Instant::now(), 0);
    while steps == 0 || start.elapsed().as_secs_f64() < min_seconds {
        sweep.advance(CHUNK).await?;
        steps += CHUNK;
    }
    Ok((sweep.members().len() * steps) as f64 / start.elapsed().as_secs_f64())
}
