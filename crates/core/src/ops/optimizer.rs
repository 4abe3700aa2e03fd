//! Adam and SGD updates over a flat parameter buffer (`shaders/optimizer.wgsl`).

use crate::real::Real;

/// Hyper-parameters of one optimizer; `#[repr(C)]` mirrors live in the GPU crate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 }
    }
}

/// Settings of SGD with (heavy-ball) momentum.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig {
    pub lr: f32,
    /// μ in [0, 1); 0 is plain SGD.
    pub momentum: f32,
}

/// One bias-corrected Adam step; `t` counts from 1.
///
/// lr·m̂/(√v̂ + ε) with m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ) is computed in the equivalent form of Kingma
/// and Ba's section 2, αₜ·m/(√v + ε̂) with αₜ = lr·√(1−β₂ᵗ)/(1−β₁ᵗ) and ε̂ = ε·√(1−β₂ᵗ): one
/// division per parameter instead of three (the same value up to rounding).
pub fn adam_step<T: Real>(cfg: AdamConfig, t: u32, params: &mut [T], grads: &[T], m: &mut [T], v: &mut [T]) {
    let b1 = T::from_f64(f64::from(cfg.beta1));
    let b2 = T::from_f64(f64::from(cfg.beta2));
    let correction1 = T::one() - b1.powi(t as i32);
    let correction2 = T::one() - b2.powi(t as i32);
    let step_size = T::from_f64(f64::from(cfg.lr)) * correction2.sqrt() / correction1;
    let eps = T::from_f64(f64::from(cfg.eps)) * correction2.sqrt();
    // Chunks over the cores natively.
    crate::parallel::zip_chunks3(params, m, v, grads, |params, m, v, grads| adam_chunk(params, m, v, grads, AdamScalars { b1, b2, step_size, eps }));
}

/// The per-step constants of [`adam_step`].
#[derive(Clone, Copy)]
struct AdamScalars<T> {
    b1: T,
    b2: T,
    step_size: T,
    eps: T,
}

/// Adam on one chunk; zipped slices rather than indices, so no bounds checks and the loop
/// vectorises, natively at the CPU's widest vectors (picked at run time).
#[cfg_attr(not(target_arch = "wasm32"), multiversion::multiversion(targets = "simd"))]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn adam_chunk<T: Real>(params: &mut [T], m: &mut [T], v: &mut [T], grads: &[T], scalars: AdamScalars<T>) {
    let AdamScalars { b1, b2, step_size, eps } = scalars;
    for (((p, &g), m), v) in params.iter_mut().zip(grads).zip(m.iter_mut()).zip(v.iter_mut()) {
        *m = b1 * *m + (T::one() - b1) * g;
        *v = b2 * *v + (T::one() - b2) * g * g;
        *p -= step_size * *m / (v.sqrt() + eps);
    }
}

/// SGD with (heavy-ball) momentum: velocity = μ·velocity + g; w −= lr·velocity. μ = 0 is plain SGD.
pub fn sgd_step<T: Real>(lr: f32, momentum: f32, params: &mut [T], grads: &[T], velocity: &mut [T]) {
    if lr == 0.0 && momentum == 0.0 {
        // The idle SGD beside Adam (Knobs::updates): velocity = g and the weights move by 0·g, so
        // a copy gives the same state (a non-finite g has already made Adam's weights NaN)
        // without a pass of arithmetic over every parameter.
        crate::parallel::copy(velocity, grads);
        return;
    }
    let lr = T::from_f64(f64::from(lr));
    let mu = T::from_f64(f64::from(momentum));
    for ((p, &g), velocity) in params.iter_mut().zip(grads).zip(velocity.iter_mut()) {
        *velocity = mu * *velocity + g;
        *p -= lr * *velocity;
    }
}
