//! The shared test harness: one context and kernel set, comparison with stated tolerances, and
//! seeded random inputs.

use std::sync::Arc;

use anyhow::{anyhow, bail, Context as _};
use latent_core::data::{Rows, RunData};
use latent_core::rng::SplitMix64;
use latent_core::Matrix;
use latent_gpu::{readback, Dispatch, GpuContext, GpuTensor, Kernels, Schedule};

/// A GPU context with every kernel compiled.
#[derive(Debug)]
pub struct Harness {
    pub ctx: GpuContext,
    pub kernels: Kernels,
}

/// Result type of every check: the error is the whole failure report.
pub type Check = anyhow::Result<()>;

impl Harness {
    /// Opens the adapter and compiles every kernel; the error says which step failed.
    pub async fn new() -> anyhow::Result<Self> {
        let ctx = GpuContext::new().await.context("GPU tests need a WebGPU/Vulkan adapter")?;
        let kernels = Kernels::new(&ctx).await.with_context(|| format!("kernel set failed on {}", ctx.summary()))?;
        // The checks compare every matmul variant, not only the adapter's.
        kernels.prepare_all_matmuls().await.with_context(|| format!("matmul variants failed on {}", ctx.summary()))?;
        Ok(Self { ctx, kernels })
    }

    pub fn upload(&self, label: &str, m: &Matrix<f64>) -> anyhow::Result<GpuTensor> {
        Ok(self.ctx.upload_f32(label, m.rows, m.cols, &m.to_f32())?)
    }

    pub fn zeros(&self, label: &str, rows: usize, cols: usize) -> anyhow::Result<GpuTensor> {
        Ok(self.ctx.zeros(label, rows, cols)?)
    }

    pub fn counters(&self, values: &[u32]) -> anyhow::Result<GpuTensor> {
        Ok(self.ctx.upload_u32("counters", 1, values.len(), values)?)
    }

    /// Submits dispatches in order (one replay) and fails on any uncaptured GPU error so far.
    pub fn run(&self, dispatches: impl IntoIterator<Item = Result<Dispatch, latent_gpu::GpuError>>) -> Check {
        let mut schedule = Schedule::new("check");
        for dispatch in dispatches {
            schedule.push(dispatch?);
        }
        schedule.submit(&self.ctx, 1)?;
        self.no_gpu_errors()
    }

    pub fn no_gpu_errors(&self) -> Check {
        let errors = self.ctx.take_uncaptured_errors();
        if !errors.is_empty() {
            bail!("GPU reported errors: {}", errors.join("; "));
        }
        Ok(())
    }

    pub async fn read(&self, tensor: &GpuTensor) -> anyhow::Result<Vec<f32>> {
        Ok(readback::read_f32(&self.ctx, tensor).await?)
    }

    pub async fn read_matrix(&self, tensor: &GpuTensor) -> anyhow::Result<Matrix<f64>> {
        let data = self.read(tensor).await?;
        Matrix::from_f32(tensor.rows(), tensor.cols(), &data).with_context(|| format!("{} read back wrong length", tensor.describe()))
    }
}

/// A run's rows from pixel bytes (`dim` per row), training on `train` and holding out `test`.
pub fn pixel_rows(bytes: Vec<u8>, dim: usize, train: Vec<u32>, test: Vec<u32>) -> Arc<RunData> {
    Arc::new(RunData { rows: Rows::Pixels(Arc::new(bytes)), dim, labels: None, train, test })
}

/// A run's rows from flat 2D points.
pub fn point_rows(points: Vec<f32>, train: Vec<u32>, test: Vec<u32>) -> Arc<RunData> {
    Arc::new(RunData { rows: Rows::Points(points), dim: 2, labels: None, train, test })
}

/// How close a GPU value must be to its f64 reference: |gpu − ref| ≤ abs + rel·scale, where scale
/// is |ref| unless a per-element scale is given (e.g. Σ|aᵢₖbₖⱼ| for a dot product).
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    pub abs: f64,
    pub rel: f64,
}

impl Tolerance {
    /// f32 arithmetic on well-scaled values: a few ulps of the inputs' magnitude.
    pub const F32: Tolerance = Tolerance { abs: 1e-6, rel: 1e-5 };
    /// Transcendentals (exp, log, tanh, cos) whose GPU precision WGSL leaves to the platform.
    pub const TRANSCENDENTAL: Tolerance = Tolerance { abs: 1e-5, rel: 1e-4 };
    /// GPU gradient against central finite differences of the f64 forward.
    pub const FINITE_DIFF: Tolerance = Tolerance { abs: 1e-4, rel: 2e-3 };
    /// Exact equality (integer-derived results).
    pub const EXACT: Tolerance = Tolerance { abs: 0.0, rel: 0.0 };
}

/// Compares element-wise; the error names the worst element and how many failed.
pub fn compare(what: &str, gpu: &[f32], reference: &[f64], scale: Option<&[f64]>, tol: Tolerance) -> Check {
    if gpu.len() != reference.len() {
        bail!("{what}: GPU gave {} values, reference {}", gpu.len(), reference.len());
    }
    let mut failures = 0usize;
    let mut worst: Option<(usize, f64, f64)> = None;
    for (i, (&g, &r)) in gpu.iter().zip(reference).enumerate() {
        let g = f64::from(g);
        let s = scale.map_or(r.abs(), |s| s[i]);
        let allowed = tol.abs + tol.rel * s;
        let err = (g - r).abs();
        // NaN fails: it is never within tolerance.
        if err.is_nan() || err > allowed {
            failures += 1;
            let excess = if allowed > 0.0 { err / allowed } else { f64::INFINITY };
            if worst.is_none_or(|(_, _, w)| excess > w) {
                worst = Some((i, err, excess));
            }
        }
    }
    match worst {
        None => Ok(()),
        Some((i, err, _)) => Err(anyhow!(
            "{what}: {failures}/{} elements outside tolerance {tol:?}; worst at {i}: GPU {} vs reference {} (error {err:.3e})",
            gpu.len(),
            gpu[i],
            reference[i]
        )),
    }
}

/// Gradient check: the GPU gradient against finite differences, scaled by the gradient's largest
/// magnitude (so tiny components are judged against the whole vector, as in burn's gradient tests).
pub fn compare_gradient(what: &str, gpu: &[f32], finite_diff: &[f64]) -> Check {
    let norm = finite_diff.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-3);
    let scale = vec![norm; finite_diff.len()];
    compare(what, gpu, finite_diff, Some(&scale), Tolerance::FINITE_DIFF)
}

/// Lets callbacks run: natively by polling the device, in the browser by returning to the event
/// loop once (a zero-delay timer), which is where WebGPU delivers its promises.
pub async fn yield_to_event_loop(ctx: &GpuContext) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        ctx.device.poll(latent_gpu::wgpu::PollType::Poll).ok();
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    #[cfg(target_arch = "wasm32")]
    {
        let _ = ctx;
        let promise = js_sys::Promise::new(&mut |resolve, _reject| {
            let global = js_sys::global();
            if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
                let set_timeout: js_sys::Function = set_timeout.into();
                set_timeout.call2(&global, &resolve, &0.into()).ok();
            }
        });
        wasm_bindgen_futures::JsFuture::from(promise).await.ok();
    }
}

/// Seeded random inputs.
pub struct Inputs(pub SplitMix64);

impl Inputs {
    pub fn new(seed: u64) -> Self {
        Self(SplitMix64::new(seed))
    }

    /// Uniform in [lo, hi), rounded to f32 so the reference sees exactly what the GPU sees.
    pub fn matrix(&mut self, rows: usize, cols: usize, lo: f64, hi: f64) -> Matrix<f64> {
        let data = (0..rows * cols).map(|_| f64::from(self.0.range(lo, hi) as f32)).collect();
        Matrix { rows, cols, data }
    }

    /// Like `matrix` but keeping |x| ≥ gap, away from activation kinks.
    pub fn matrix_away_from_zero(&mut self, rows: usize, cols: usize, span: f64, gap: f64) -> Matrix<f64> {
        let data = (0..rows * cols)
            .map(|_| {
                let magnitude = self.0.range(gap, span);
                let sign = if self.0.next_u64() & 1 == 0 { 1.0 } else { -1.0 };
                f64::from((sign * magnitude) as f32)
            })
            .collect();
        Matrix { rows, cols, data }
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.below(n)
    }
}

/// Σ upstream ⊙ values: turns a vector-valued forward into the scalar finite differences need.
pub fn dot(upstream: &[f64], values: &[f64]) -> f64 {
    upstream.iter().zip(values).map(|(u, v)| u * v).sum()
}

/// Model `z`'s rows of a matrix holding `models` models' matrices one after another.
pub fn model_block(stacked: &Matrix<f64>, models: usize, z: usize) -> anyhow::Result<Matrix<f64>> {
    let rows = stacked.rows / models;
    let len = rows * stacked.cols;
    Matrix::from_vec(rows, stacked.cols, stacked.data[z * len..(z + 1) * len].to_vec()).ok_or_else(|| anyhow::anyhow!("model block {z}"))
}
