//! Matmul throughput on the adapter at hand, shared by the native CLI (`latent bench matmul`), the
//! browser benchmark (`scripts/bench browser`) and the playground page.
//!
//! Timing covers submitting `repeats` replays and a 4-byte readback that waits for them, so it is
//! wall-clock GPU throughput as the app sees it; repeats double until a run lasts `min_seconds`,
//! which amortises the readback.

use std::sync::Arc;

use latent_core::data::{Rows, RunData};
use latent_core::model::{GanSpec, Likelihood, VaeSpec};
use latent_core::ops::MatmulForm;
use latent_core::rng::SplitMix64;
use latent_core::{Activation, Knobs};
use web_time::Instant;

use crate::error::GpuError;
use crate::kernels::{Kernels, MatmulVariant};
use crate::ops::MatmulSpec;
use crate::readback::read_bytes;
use crate::Schedule;

/// A product a VAE step performs, as (m, k, n) of op(A)·op(B).
#[derive(Clone, Copy, Debug)]
pub struct MatmulCase {
    pub what: &'static str,
    pub form: MatmulForm,
    pub m: usize,
    pub k: usize,
    pub n: usize,
}

/// The products of one step of the reference VAE (784-400-20, batch 128).
pub const VAE_STEP: [MatmulCase; 6] = [
    MatmulCase { what: "encoder X·W₁", form: MatmulForm::Nn, m: 128, k: 784, n: 400 },
    MatmulCase { what: "decoder H·W₄", form: MatmulForm::Nn, m: 128, k: 400, n: 784 },
    MatmulCase { what: "grad W₁ = Xᵀ·dH", form: MatmulForm::Tn, m: 784, k: 128, n: 400 },
    MatmulCase { what: "grad W₄ = Hᵀ·dY", form: MatmulForm::Tn, m: 400, k: 128, n: 784 },
    MatmulCase { what: "grad H = dY·W₄ᵀ", form: MatmulForm::Nt, m: 128, k: 784, n: 400 },
    MatmulCase { what: "encoder head H·W₂", form: MatmulForm::Nn, m: 128, k: 400, n: 40 },
];

/// One measured case.
#[derive(Clone, Debug)]
pub struct MatmulTiming {
    pub case: MatmulCase,
    pub variant: MatmulVariant,
    pub repeats: usize,
    pub seconds: f64,
}

impl MatmulTiming {
    pub fn gflops(&self) -> f64 {
        self.case.gflops(self.repeats, self.seconds)
    }
}

impl MatmulCase {
    /// The stored shapes of A and B, (rows, cols) each (a transposed operand is stored transposed).
    pub fn stored_shapes(&self) -> ((usize, usize), (usize, usize)) {
        (if self.form.trans_a() { (self.k, self.m) } else { (self.m, self.k) }, if self.form.trans_b() { (self.n, self.k) } else { (self.k, self.n) })
    }

    /// GFLOP/s of `repeats` products in `seconds`.
    pub fn gflops(&self, repeats: usize, seconds: f64) -> f64 {
        2.0 * (self.m * self.k * self.n) as f64 * repeats as f64 / seconds / 1e9
    }
}

/// The timing protocol's next step: `None` once a run of `repeats` products lasting `seconds` is
/// long enough (at least `min_seconds`, or the repeats cap), else the repeats to try next: doubled,
/// or, once a run is long enough to extrapolate from, close to the target in one jump.
pub fn next_repeats(repeats: usize, seconds: f64, min_seconds: f64) -> Option<usize> {
    if seconds >= min_seconds || repeats >= MAX_REPEATS {
        return None;
    }
    let factor = if seconds > 0.01 { (min_seconds / seconds).ceil() as usize } else { 2 };
    Some((repeats * factor.clamp(2, 64)).min(MAX_REPEATS))
}

const MAX_REPEATS: usize = 1 << 16;

/// Times `case` with `variant` until one run of doubling repeats lasts at least `min_seconds`.
pub async fn time_matmul(kernels: &Kernels, case: MatmulCase, variant: MatmulVariant, min_seconds: f64) -> Result<MatmulTiming, GpuError> {
    kernels.prepare_matmul(variant).await?;
    let ctx = kernels.context();
    let mut rng = SplitMix64::new(7);
    let (a_shape, b_shape) = case.stored_shapes();
    let a = ctx.upload_f32("bench a", a_shape.0, a_shape.1, &rng.vec_f32(a_shape.0 * a_shape.1, -1.0, 1.0))?;
    let b = ctx.upload_f32("bench b", b_shape.0, b_shape.1, &rng.vec_f32(b_shape.0 * b_shape.1, -1.0, 1.0))?;
    let c = ctx.zeros("bench c", case.m, case.n)?;
    let schedule = Schedule::from(kernels.matmul(&a, &b, &c, MatmulSpec::new(case.form).variant(variant))?);
    let (repeats, seconds) = timed_replays(kernels, &schedule, c.buffer(), min_seconds).await?;
    Ok(MatmulTiming { case, variant, repeats, seconds })
}

/// Replays `schedule` with doubling repeats until one run lasts `min_seconds` (after a warm-up
/// replay: first use compiles and uploads lazily on some drivers); each run waits on a 4-byte
/// readback of `sync`. Returns the last run's repeats and seconds.
async fn timed_replays(kernels: &Kernels, schedule: &Schedule, sync: &wgpu::Buffer, min_seconds: f64) -> Result<(usize, f64), GpuError> {
    timed_runs(kernels, |repeats| schedule.submit(kernels.context(), repeats), sync, min_seconds).await
}

/// [`timed_replays`] of whatever `submit(repeats)` submits.
async fn timed_runs(
    kernels: &Kernels,
    submit: impl Fn(usize) -> Result<(), GpuError>,
    sync: &wgpu::Buffer,
    min_seconds: f64,
) -> Result<(usize, f64), GpuError> {
    let ctx = kernels.context();
    submit(1)?;
    read_bytes(ctx, sync, "bench sync", 4).await?;
    let mut repeats = 1usize;
    loop {
        let start = Instant::now();
        submit(repeats)?;
        read_bytes(ctx, sync, "bench sync", 4).await?;
        let seconds = start.elapsed().as_secs_f64();
        match next_repeats(repeats, seconds, min_seconds) {
            Some(next) => repeats = next,
            None => return Ok((repeats, seconds)),
        }
    }
}

/// A plain-text table: one row per case, one GFLOP/s column per variant.
pub fn format_table(adapter: &str, variants: &[MatmulVariant], timings: &[MatmulTiming]) -> String {
    let mut out = format!("matmul GFLOP/s on {adapter}\n");
    out.push_str(&format!("{:<20} {:<6} {:>16}", "product", "form", "m×k×n"));
    for v in variants {
        out.push_str(&format!(" {:>13}", v.name()));
    }
    out.push('\n');
    for case in VAE_STEP {
        out.push_str(&format!("{:<20} {:<6} {:>16}", case.what, case.form.name(), format!("{}×{}×{}", case.m, case.k, case.n)));
        for v in variants {
            let cell = timings.iter().find(|t| t.variant == *v && t.case.what == case.what).map_or("-".to_owned(), |t| format!("{:.2}", t.gflops()));
            out.push_str(&format!(" {cell:>13}"));
        }
        out.push('\n');
    }
    out
}

/// Runs every VAE-step case with every variant and returns the table.
pub async fn vae_step_table(kernels: &Kernels, variants: &[MatmulVariant], min_seconds: f64) -> Result<String, GpuError> {
    let mut timings = Vec::new();
    for case in VAE_STEP {
        for &variant in variants {
            timings.push(time_matmul(kernels, case, variant, min_seconds).await?);
        }
    }
    Ok(format_table(&kernels.context().summary().to_string(), variants, &timings))
}

/// The products of one step of a small 2D VAE (2-64-64 encoder, latent 2, batch 128), the size a
/// sweep on the ring trains: so small that launching a dispatch costs more than its arithmetic.
pub const RING_VAE_STEP: [MatmulCase; 5] = [
    MatmulCase { what: "encoder X·W₁", form: MatmulForm::Nn, m: 128, k: 2, n: 64 },
    MatmulCase { what: "hidden H₁·W₂", form: MatmulForm::Nn, m: 128, k: 64, n: 64 },
    MatmulCase { what: "head H₂·W₃", form: MatmulForm::Nn, m: 128, k: 64, n: 4 },
    MatmulCase { what: "grad W₂ = H₁ᵀ·dH₂", form: MatmulForm::Tn, m: 64, k: 128, n: 64 },
    MatmulCase { what: "grad H₁ = dH₂·W₂ᵀ", form: MatmulForm::Nt, m: 128, k: 64, n: 64 },
];

/// One product for `models` models, timed both ways: one dispatch per model, as models trained
/// apart record it, and one batched dispatch for all of them.
#[derive(Clone, Debug)]
pub struct ModelsTiming {
    pub case: MatmulCase,
    pub models: usize,
    /// Model-products per second, one dispatch per model.
    pub apart: f64,
    /// Model-products per second, one batched dispatch.
    pub batched: f64,
}

/// Model-products per second of `schedule`, which computes `products` model-products per replay.
async fn products_per_second(kernels: &Kernels, schedule: &Schedule, sync: &wgpu::Buffer, products: usize, min_seconds: f64) -> Result<f64, GpuError> {
    let (repeats, seconds) = timed_replays(kernels, schedule, sync, min_seconds).await?;
    Ok((products * repeats) as f64 / seconds)
}

/// Times `case` for `models` models both ways with the adapter's preferred variant.
pub async fn time_models(kernels: &Kernels, case: MatmulCase, models: usize, min_seconds: f64) -> Result<ModelsTiming, GpuError> {
    use crate::ops::Models;

    let ctx = kernels.context();
    let mut rng = SplitMix64::new(11);
    let (a_shape, b_shape) = case.stored_shapes();
    let a = ctx.upload_f32("bench a", models * a_shape.0, a_shape.1, &rng.vec_f32(models * a_shape.0 * a_shape.1, -1.0, 1.0))?;
    let b = ctx.upload_f32("bench b", models * b_shape.0, b_shape.1, &rng.vec_f32(models * b_shape.0 * b_shape.1, -1.0, 1.0))?;
    let c = ctx.zeros("bench c", models * case.m, case.n)?;
    let batched = Schedule::from(kernels.matmul(&a, &b, &c, MatmulSpec::new(case.form).models(Models::each_own(models)))?);
    // Apart: each model's own tensors, as K models built separately hold them.
    let mut apart = Schedule::new("bench apart");
    let mut held = Vec::with_capacity(models);
    for _ in 0..models {
        let a = ctx.upload_f32("bench a", a_shape.0, a_shape.1, &rng.vec_f32(a_shape.0 * a_shape.1, -1.0, 1.0))?;
        let b = ctx.upload_f32("bench b", b_shape.0, b_shape.1, &rng.vec_f32(b_shape.0 * b_shape.1, -1.0, 1.0))?;
        let c = ctx.zeros("bench c", case.m, case.n)?;
        apart.push(kernels.matmul(&a, &b, &c, MatmulSpec::new(case.form))?);
        held.push((a, b, c));
    }
    let Some((_, _, last)) = held.last() else {
        return Err(GpuError::invalid("bench", "no models to time"));
    };
    let apart = products_per_second(kernels, &apart, last.buffer(), models, min_seconds).await?;
    let batched = products_per_second(kernels, &batched, c.buffer(), models, min_seconds).await?;
    Ok(ModelsTiming { case, models, apart, batched })
}

/// Parameters of the ring VAE (2-64-64-(2+2) encoder, 2-64-64-2 decoder) and of the reference
/// VAE (784-400-(20+20) encoder, 20-400-784 decoder): what one Adam update covers.
pub const RING_VAE_PARAMETERS: usize = (2 * 64 + 64) + (64 * 64 + 64) + (64 * 4 + 4) + (2 * 64 + 64) + (64 * 64 + 64) + (64 * 2 + 2);
pub const REFERENCE_VAE_PARAMETERS: usize = (784 * 400 + 400) + (400 * 40 + 40) + (20 * 400 + 400) + (400 * 784 + 784);

/// Model-updates per second of one Adam step over `parameters` parameters for `models` models,
/// (apart, batched): one dispatch per model on its own buffers, and one batched dispatch over the
/// stacked buffers with one block of settings per model.
pub async fn time_updates(kernels: &Kernels, parameters: usize, models: usize, min_seconds: f64) -> Result<(f64, f64), GpuError> {
    use crate::ops::{AdamBuffers, ParamRange};
    use latent_core::ops::optimizer::AdamConfig;

    let ctx = kernels.context();
    let buffers = |len: usize| -> Result<[crate::GpuTensor; 5], GpuError> {
        Ok([
            ctx.zeros("bench w", 1, len)?,
            ctx.zeros("bench g", 1, len)?,
            ctx.zeros("bench m", 1, len)?,
            ctx.zeros("bench v", 1, len)?,
            ctx.upload_u32("bench t", 1, 1, &[0])?,
        ])
    };
    fn adam([w, g, m, v, t]: &[crate::GpuTensor; 5]) -> AdamBuffers<'_> {
        AdamBuffers { weights: w, grads: g, m, v, counters: t, counter_index: 0 }
    }
    // Learning rates differ per model, as in a learning-rate sweep.
    let cfg = |z: usize| AdamConfig { lr: 1e-3 * (z + 1) as f32, ..AdamConfig::default() };
    let stacked = buffers(models * parameters)?;
    let ranges: Vec<_> = (0..models).map(|z| (ParamRange { offset: z * parameters, len: parameters }, cfg(z))).collect();
    let batched = Schedule::from(kernels.adam_of_models(adam(&stacked), &ranges)?);
    let mut apart = Schedule::new("bench apart");
    let held = (0..models).map(|_| buffers(parameters)).collect::<Result<Vec<_>, _>>()?;
    for (z, own) in held.iter().enumerate() {
        apart.push(kernels.adam(adam(own), ParamRange::all(&own[0]), cfg(z))?);
    }
    let Some(last) = held.last() else {
        return Err(GpuError::invalid("bench", "no models to time"));
    };
    let apart = products_per_second(kernels, &apart, last[0].buffer(), models, min_seconds).await?;
    let batched = products_per_second(kernels, &batched, stacked[0].buffer(), models, min_seconds).await?;
    Ok((apart, batched))
}

/// A plain-text table of the ring VAE's and the reference VAE's products and Adam updates for
/// `models` models: model-products (or model-updates) per second apart and batched, and their ratio.
pub async fn models_table(kernels: &Kernels, models: usize, min_seconds: f64) -> Result<String, GpuError> {
    let mut out = format!("{models} models' products on {} ({:?}): model-products/s\n", kernels.context().summary(), kernels.preferred_matmul());
    out.push_str(&format!("{:<10} {:<20} {:<5} {:>13} {:>12} {:>12} {:>7}\n", "model", "product", "form", "m×k×n", "apart", "batched", "ratio"));
    for (model, cases, parameters) in [("ring VAE", &RING_VAE_STEP[..], RING_VAE_PARAMETERS), ("MNIST VAE", &VAE_STEP[..], REFERENCE_VAE_PARAMETERS)] {
        for &case in cases {
            let t = time_models(kernels, case, models, min_seconds).await?;
            let shape = format!("{}×{}×{}", case.m, case.k, case.n);
            out.push_str(&format!(
                "{model:<10} {:<20} {:<5} {shape:>13} {:>12.0} {:>12.0} {:>6.2}×\n",
                case.what,
                case.form.name(),
                t.apart,
                t.batched,
                t.batched / t.apart
            ));
        }
        let (apart, batched) = time_updates(kernels, parameters, models, min_seconds).await?;
        let shape = format!("{parameters} params");
        out.push_str(&format!("{model:<10} {:<20} {:<5} {shape:>13} {apart:>12.0} {batched:>12.0} {:>6.2}×\n", "Adam update", "-", batched / apart));
    }
    Ok(out)
}

/// Model-steps per second of a sweep's training step for `models` VAEs of `spec` at `batch`
/// (apart, batched): each model built alone ([`GpuVae`](crate::GpuVae)), their steps recorded one
/// model after another into one submission, against one [`BatchedVae`](crate::BatchedVae).
/// Members differ in learning rate (a learning-rate sweep); the rows are random.
pub async fn time_vae_steps(kernels: &Kernels, spec: &VaeSpec, batch: usize, models: usize, min_seconds: f64) -> Result<(f64, f64), GpuError> {
    use crate::{BatchedMember, BatchedVae, GpuVae};
    use latent_core::engine::ModelSetup;

    let as_gpu = |e: latent_core::engine::ModelError| GpuError::invalid("bench", e.to_string());
    let arch = spec.build().map_err(|e| GpuError::invalid("bench", e.to_string()))?;
    let mut rng = SplitMix64::new(13);
    let rows = 4 * batch;
    let values = rng.vec_f32(rows * spec.data_dim, 0.0, 1.0);
    let data = Arc::new(RunData {
        rows: match spec.likelihood {
            Likelihood::Bernoulli => Rows::Pixels(Arc::new(values.iter().map(|v| (v * 255.0) as u8).collect())),
            Likelihood::Gaussian { .. } => Rows::Points(values),
        },
        dim: spec.data_dim,
        labels: None,
        train: (0..3 * batch as u32).collect(),
        test: (3 * batch as u32..rows as u32).collect(),
    });
    let knobs: Vec<Knobs> = (0..models).map(|z| Knobs { lr: 1e-4 * (z + 1) as f32, ..Knobs::default() }).collect();
    let init = arch.layout.init(3);
    let apart = knobs
        .iter()
        .map(|&knobs| GpuVae::new(kernels, &ModelSetup { data: data.clone(), batch, seed: 1, knobs }, arch.clone(), &init).map_err(as_gpu))
        .collect::<Result<Vec<_>, _>>()?;
    let members: Vec<BatchedMember<'_>> = knobs.iter().map(|knobs| BatchedMember { knobs, init: &init, train: &data.train }).collect();
    let batched = BatchedVae::new(kernels, &data, arch, (batch, 1), &members).map_err(as_gpu)?;
    let schedules: Vec<&Schedule> = apart.iter().flat_map(|model| model.step_schedules()).collect();
    apart_and_batched(kernels, &schedules, &[batched.step_schedule()], models, min_seconds).await
}

/// Model-steps per second of `models` GANs of `spec` on random 2D points at `batch`, one D step
/// per round (a round counts as a model-step), apart ([`GpuGan`](crate::GpuGan)) and batched
/// ([`BatchedGan`](crate::BatchedGan)). Members differ in λ_G and λ_D (the GAN grid).
pub async fn time_gan_rounds(kernels: &Kernels, spec: &GanSpec, batch: usize, models: usize, min_seconds: f64) -> Result<(f64, f64), GpuError> {
    use crate::{BatchedGan, BatchedGanMember, GpuGan};
    use latent_core::engine::ModelSetup;

    let as_gpu = |e: latent_core::engine::ModelError| GpuError::invalid("bench", e.to_string());
    let arch = spec.build().map_err(|e| GpuError::invalid("bench", e.to_string()))?;
    let rows = 4 * batch;
    let data = Arc::new(RunData {
        rows: Rows::Points(SplitMix64::new(17).vec_f32(rows * spec.data_dim, -1.0, 1.0)),
        dim: spec.data_dim,
        labels: None,
        train: (0..3 * batch as u32).collect(),
        test: (3 * batch as u32..rows as u32).collect(),
    });
    let knobs: Vec<Knobs> = (0..models).map(|z| Knobs { l2_g: Some(1e-4 * (z % 4) as f32), l2_d: Some(1e-4 * (z / 4) as f32), ..Knobs::default() }).collect();
    let (g_init, d_init) = (arch.g_layout.init(3), arch.d_layout.init(4));
    let apart = knobs
        .iter()
        .map(|&knobs| GpuGan::new(kernels, &ModelSetup { data: data.clone(), batch, seed: 1, knobs }, arch.clone(), &g_init, &d_init).map_err(as_gpu))
        .collect::<Result<Vec<_>, _>>()?;
    let members: Vec<BatchedGanMember<'_>> =
        knobs.iter().map(|knobs| BatchedGanMember { knobs, g_init: &g_init, d_init: &d_init, train: &data.train }).collect();
    let batched = BatchedGan::new(kernels, &data, arch, (batch, 1), &members).map_err(as_gpu)?;
    let schedules: Vec<&Schedule> = apart.iter().flat_map(|model| model.step_schedules()).collect();
    apart_and_batched(kernels, &schedules, &batched.step_schedules(), models, min_seconds).await
}

/// Model-steps per second of `models` models apart (every model's step `schedules`, one model
/// after another, in one submission, as a sweep's frame submits them) and batched (the group's
/// schedules); a run records each schedule `repeats` times in turn, the same dispatches as
/// `repeats` steps.
async fn apart_and_batched(kernels: &Kernels, apart: &[&Schedule], batched: &[&Schedule], models: usize, min_seconds: f64) -> Result<(f64, f64), GpuError> {
    let ctx = kernels.context();
    let steps = |schedules: &[&Schedule], repeats: usize| -> Result<(), GpuError> {
        ctx.check_alive()?;
        let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("bench steps") });
        for schedule in schedules {
            schedule.record(&mut encoder, repeats);
        }
        ctx.queue.submit([encoder.finish()]);
        Ok(())
    };
    // A readback waits for every earlier submission: any small buffer syncs.
    let sync = ctx.zeros("bench sync", 1, 1)?;
    let mut rates = [0.0; 2];
    for (rate, schedules) in rates.iter_mut().zip([apart, batched]) {
        let (repeats, seconds) = timed_runs(kernels, |repeats| steps(schedules, repeats), sync.buffer(), min_seconds).await?;
        *rate = (models * repeats) as f64 / seconds;
    }
    Ok((rates[0], rates[1]))
}

/// The whole training step of `models` ring 2D VAEs (2-64-64-2, batch 128), of `models`
/// reference VAEs (784-400-20, batch 128) and of `models` ring GANs (the page's, batch 128), apart
/// and batched: model-steps per second and ratio.
pub async fn steps_table(kernels: &Kernels, models: usize, min_seconds: f64) -> Result<String, GpuError> {
    let ring = VaeSpec { data_dim: 2, hidden: vec![64, 64], latent: 2, activation: Activation::Relu, likelihood: Likelihood::Gaussian { inv_var: 25.0 } };
    let mut out = format!("{models} models' training steps: model-steps/s\n{:<10} {:>12} {:>12} {:>7}\n", "model", "apart", "batched", "ratio");
    for (model, spec) in [("ring VAE", ring), ("MNIST VAE", VaeSpec::reference_mnist())] {
        let (apart, batched) = time_vae_steps(kernels, &spec, 128, models, min_seconds).await?;
        out.push_str(&format!("{model:<10} {apart:>12.1} {batched:>12.1} {:>6.2}×\n", batched / apart));
    }
    let (apart, batched) = time_gan_rounds(kernels, &GanSpec::toy_2d(), 128, models, min_seconds).await?;
    out.push_str(&format!("{:<10} {apart:>12.1} {batched:>12.1} {:>6.2}×  (a D step and a G step)\n", "ring GAN", batched / apart));
    Ok(out)
}
