//! L2 and L1 weight penalties (`shaders/penalty.wgsl`).
//!
//! Penalty = λ₂·Σ m·w² + λ₁·Σ m·|w| where the mask m is 1 on weights and 0 on biases, so a single
//! dispatch covers a network's whole parameter buffer.

use crate::real::Real;

/// (λ₂·Σ m·w², λ₁·Σ m·|w|). With both strengths 0 (the default) the sums are not taken: both
/// terms are 0 for any finite weights, and a step of the reference VAE saves two passes over its
/// 650,000 parameters.
pub fn values<T: Real>(params: &[T], mask: &[T], l1: T, l2: T) -> (T, T) {
    if l1 == T::zero() && l2 == T::zero() {
        return (T::zero(), T::zero());
    }
    let (mut sq, mut abs) = (T::zero(), T::zero());
    for (&w, &m) in params.iter().zip(mask) {
        sq += m * w * w;
        abs += m * w.abs();
    }
    (l2 * sq, l1 * abs)
}

/// grad += m·(2λ₂·w + λ₁·sign(w)); nothing to add with both strengths 0.
pub fn add_gradient<T: Real>(params: &[T], mask: &[T], l1: T, l2: T, grads: &mut [T]) {
    if l1 == T::zero() && l2 == T::zero() {
        return;
    }
    let two = T::from_f64(2.0);
    for ((g, &w), &m) in grads.iter_mut().zip(params).zip(mask) {
        *g += m * (two * l2 * w + l1 * w.signum_or_zero());
    }
}
