//! Column sums and whole-buffer sums (`shaders/reduce.wgsl`).

use crate::matrix::Matrix;
use crate::real::Real;

/// out[j] (+)= Σᵢ x[i, j]: bias gradients.
pub fn column_sums<T: Real>(x: &Matrix<T>, out: &mut [T], accumulate: bool) {
    for (j, slot) in out.iter_mut().enumerate().take(x.cols) {
        let mut acc = T::zero();
        for i in 0..x.rows {
            acc += x.at(i, j);
        }
        super::store(slot, acc, accumulate);
    }
}

/// scale · Σ x: a loss or metric total.
pub fn sum_all<T: Real>(x: &[T], scale: T) -> T {
    let mut acc = T::zero();
    for &v in x {
        acc += v;
    }
    acc * scale
}
