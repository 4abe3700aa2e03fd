//! Column sums and whole-buffer sums (`shaders/reduce.wgsl`).

use crate::matrix::Matrix;
use crate::real::Real;

/// out[j] (+)= Σᵢ x[i, j]: bias gradients. Row after row into one running sum per column: each
/// column's additions in the order of the plain column loop (the same bits), read contiguously.
pub fn column_sums<T: Real>(x: &Matrix<T>, out: &mut [T], accumulate: bool) {
    let cols = x.cols.min(out.len());
    let mut sums = vec![T::zero(); cols];
    if cols > 0 {
        for row in x.data.chunks_exact(x.cols) {
            add_row(&mut sums, &row[..cols]);
        }
    }
    for (slot, &sum) in out.iter_mut().zip(&sums) {
        super::store(slot, sum, accumulate);
    }
}

#[cfg_attr(not(target_arch = "wasm32"), multiversion::multiversion(targets = "simd"))]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn add_row<T: Real>(sums: &mut [T], row: &[T]) {
    for (sum, &v) in sums.iter_mut().zip(row) {
        *sum += v;
    }
}

/// Σ x in [`LANES`] interleaved partial sums added pairwise at the end: a loop that vectorises,
/// where one running sum must stay scalar (reordering it would change the rounding). As
/// accurate or more so; the order is fixed, so the result is the same on every run and engine.
pub fn sum_in_lanes<T: Real>(x: &[T]) -> T {
    let mut lanes = [T::zero(); LANES];
    let mut chunks = x.chunks_exact(LANES);
    for chunk in &mut chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane += v;
        }
    }
    for (lane, &v) in lanes.iter_mut().zip(chunks.remainder()) {
        *lane += v;
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        let (low, high) = lanes.split_at_mut(width);
        low.iter_mut().zip(&high[..width]).for_each(|(lane, &other)| *lane += other);
    }
    lanes[0]
}

/// Partial sums of [`sum_in_lanes`]: 16 f32 fill an AVX-512 register, two of AVX2, four of SSE or simd128.
const LANES: usize = 16;

/// scale · Σ x: a loss or metric total.
pub fn sum_all<T: Real>(x: &[T], scale: T) -> T {
    let mut acc = T::zero();
    for &v in x {
        acc += v;
    }
    acc * scale
}
