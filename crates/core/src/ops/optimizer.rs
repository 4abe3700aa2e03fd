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
pub fn adam_step<T: Real>(cfg: AdamConfig, t: u32, params: &mut [T], grads: &[T], m: &mut [T], v: &mut [T]) {
    let b1 = T::from_f64(f64::from(cfg.beta1));
    let b2 = T::from_f64(f64::from(cfg.beta2));
    let correction1 = T::one() - b1.powi(t as i32);
    let correction2 = T::one() - b2.powi(t as i32);
    let lr = T::from_f64(f64::from(cfg.lr));
    let eps = T::from_f64(f64::from(cfg.eps));
    for i in 0..params.len() {
        let g = grads[i];
        m[i] = b1 * m[i] + (T::one() - b1) * g;
        v[i] = b2 * v[i] + (T::one() - b2) * g * g;
        let m_hat = m[i] / correction1;
        let v_hat = v[i] / correction2;
        params[i] -= lr * m_hat / (v_hat.sqrt() + eps);
    }
}

/// SGD with (heavy-ball) momentum: velocity = μ·velocity + g; w −= lr·velocity. μ = 0 is plain SGD.
pub fn sgd_step<T: Real>(lr: f32, momentum: f32, params: &mut [T], grads: &[T], velocity: &mut [T]) {
    let lr = T::from_f64(f64::from(lr));
    let mu = T::from_f64(f64::from(momentum));
    for i in 0..params.len() {
        velocity[i] = mu * velocity[i] + grads[i];
        params[i] -= lr * velocity[i];
    }
}
