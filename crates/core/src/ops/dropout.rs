//! Inverted dropout (`shaders/dropout.wgsl`): kept elements are scaled by 1/(1 − p) so that the
//! expected activation is unchanged and evaluation needs no rescaling.

use crate::real::Real;
use crate::rng::RngStream;

/// The mask (0 or 1/(1 − p)) for `len` elements at `step`.
pub fn mask<T: Real>(rng: RngStream, len: usize, p: f32, step: u32) -> Vec<T> {
    let keep_scale = T::from_f64(1.0 / (1.0 - f64::from(p)));
    (0..len).map(|e| if rng.keep(e as u32, step, p) { keep_scale } else { T::zero() }).collect()
}

/// y = x ⊙ mask (forward) or dx = dy ⊙ mask (backward): the same product.
pub fn apply_mask<T: Real>(x: &[T], mask: &[T]) -> Vec<T> {
    x.iter().zip(mask).map(|(&v, &m)| v * m).collect()
}
