//! `?bench=matmul`'s timing, here where the engines train: the page's module runs no training
//! step and carries neither engine, while this worker is the engines' build (relaxed SIMD where the
//! browser has it). Each product of a reference-VAE step is repeated until the repeats last
//! `min_seconds`, by latent_gpu's timing protocol; the page writes the report.

use js_sys::{Array, Float64Array};
use latent_core::ops::{matmul, Epilogue};
use latent_core::rng::SplitMix64;
use latent_core::Matrix;
use latent_gpu::bench::{next_repeats, time_matmul, VAE_STEP};
use latent_session::config::EnginePref;
use latent_session::{open_engine, Opened};
use wasm_bindgen::prelude::*;
use web_time::Instant;

/// The WebGPU matmul variant the adapter gets, timed on each product of `VAE_STEP`: the adapter,
/// the variant's name and the timings as [`time_cpu_matmul`] gives them; where WebGPU does not
/// open, the reason.
#[wasm_bindgen]
pub async fn time_gpu_matmul(min_seconds: f64) -> Result<Array, String> {
    let (kernels, choice) = open_engine(EnginePref::WebGpu).await;
    let Some(kernels) = kernels else {
        let reason = match Opened::from(choice) {
            Opened::Cpu { reason: Some(reason) } => reason,
            _ => "WebGPU is not available".into(),
        };
        return Err(reason);
    };
    let variant = kernels.preferred_matmul();
    let mut timings = Vec::with_capacity(2 * VAE_STEP.len());
    for case in VAE_STEP {
        let timing = time_matmul(&kernels, case, variant, min_seconds).await.map_err(|e| e.to_string())?;
        timings.extend([timing.repeats as f64, timing.seconds]);
    }
    let adapter = kernels.context().summary().to_string();
    Ok(Array::of3(&adapter.into(), &variant.name().into(), &Float64Array::from(timings.as_slice())))
}

/// Repeats and seconds for each product of `latent_gpu::bench::VAE_STEP`, in its order, as
/// `[repeats, seconds, repeats, seconds, …]`; a product that cannot run throws its message.
#[wasm_bindgen]
pub fn time_cpu_matmul(min_seconds: f64) -> Result<Vec<f64>, String> {
    let mut rng = SplitMix64::new(7);
    let mut random = |rows, cols| Matrix::from_vec(rows, cols, rng.vec_f32(rows * cols, -1.0, 1.0));
    let mut timings = Vec::with_capacity(2 * VAE_STEP.len());
    for case in VAE_STEP {
        let ((ar, ac), (br, bc)) = case.stored_shapes();
        let (Some(a), Some(b)) = (random(ar, ac), random(br, bc)) else {
            return Err(format!("could not build the {} operands", case.what));
        };
        let mut c = Matrix::zeros(case.m, case.n);
        let mut product = || matmul(&a, &b, case.form, Epilogue::None, false, &mut c).map_err(|e| e.to_string());
        product()?;
        let mut repeats = 1;
        loop {
            let start = Instant::now();
            for _ in 0..repeats {
                product()?;
            }
            let seconds = start.elapsed().as_secs_f64();
            match next_repeats(repeats, seconds, min_seconds) {
                Some(next) => repeats = next,
                None => {
                    timings.extend([repeats as f64, seconds]);
                    break;
                }
            }
        }
    }
    Ok(timings)
}
