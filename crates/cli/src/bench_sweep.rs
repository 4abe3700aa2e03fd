//! `latent bench models`' last table: a GPU sweep as `latent sweep` trains it. `Sweep::advance`
//! in chunks, each ending in every member's metrics and parameters read back into its run, with
//! the members trained one by one against one batched step, for the ring's 2D VAE and the
//! reference MNIST VAE (the shapes of the whole-step table before it).

use latent_core::data::toy2d::Toy2d;
use latent_gpu::Kernels;
use latent_session::config::{Dataset, Knob, LabConfig, ModelKind};
use latent_session::sweep::{values_between, Sweep, SweepSpec, MAX_VALUES};
use web_time::Instant;

use crate::train::MNIST_ASSET;

/// Steps per advance: `latent sweep` takes 100; fewer keep the MNIST row short on a software
/// adapter, and make the per-chunk readbacks count for more than they do there.
const CHUNK: usize = 20;

/// Model-steps per second of a learning-rate sweep of `models` VAEs (2 to [`MAX_VALUES`]),
/// member by member and batched, side by side, for both shapes.
pub async fn sweep_table(kernels: &Kernels, models: usize, min_seconds: f64) -> anyhow::Result<String> {
    let models = models.clamp(2, MAX_VALUES);
    let mut out = format!(
        "a sweep of {models} VAEs (learning rates 1e-4 to 1e-2, batch 128) as `latent sweep` trains it, {CHUNK} steps per advance: model-steps/s\n{:<10} {:>12} {:>12} {:>7}\n",
        "model", "apart", "batched", "ratio"
    );
    for (name, dataset, hidden, latent) in [("ring VAE", Dataset::Toy(Toy2d::Ring8), vec![64, 64], 2), ("MNIST VAE", Dataset::Mnist, vec![400], 20)] {
        let mut base = LabConfig::defaults_for(ModelKind::Vae, dataset).run_spec();
        (base.shape.hidden, base.shape.latent, base.shape.batch) = (hidden, latent, 128);
        let spec = SweepSpec { base, knob: Knob::Lr, values: values_between(1e-4, 1e-2, models, true)?, folds: 1, across: None };
        let apart = model_steps_per_second(Sweep::build(spec.clone(), Some(kernels), Some(MNIST_ASSET))?.unbatched(), min_seconds).await?;
        let batched = Sweep::build(spec, Some(kernels), Some(MNIST_ASSET))?;
        anyhow::ensure!(batched.batched_groups() == [models], "the {name}s did not go into one batched step: {:?}", batched.batched_groups());
        let batched = model_steps_per_second(batched, min_seconds).await?;
        out.push_str(&format!("{name:<10} {apart:>12.1} {batched:>12.1} {:>6.2}×\n", batched / apart));
    }
    Ok(out)
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
