//! The native CPU engine's f32 product: what native code can use and wasm cannot. ndarray's
//! `general_mat_mul` hands the product to matrixmultiply, which packs panels and runs a
//! register-blocked microkernel chosen at run time for the CPU (AVX2 with FMA, AVX-512, AVX,
//! SSE2; NEON on ARM). Large products are split over rayon's threads: in halves along the longer
//! side of the output, so each thread packs only its part of the operand it splits.
//!
//! Unlike the portable [`blocked`](super::blocked) product this one contracts multiply-adds into
//! FMAs and blocks k, so its results differ from the plain dot loop in the last bits (well inside
//! the f32 tolerance the GPU parity checks use). They do not depend on the number of threads: a
//! split of the output leaves every output's sequence of operations unchanged.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, Axis, ShapeBuilder as _};

use crate::error::CoreError;
use crate::matrix::MatRef;

use super::MatmulForm;

/// Multiply-adds below which a product runs on the calling thread: splitting a smaller one costs
/// more in hand-offs than it saves (about 50 µs of work on one core).
const PARALLEL_MIN_MACS: usize = 1 << 20;
/// Split points fall on multiples of this, so that matrixmultiply's microkernels (8 or 16 rows
/// or columns) keep working on whole tiles.
const SPLIT_ALIGN: usize = 16;

static PORTABLE: AtomicBool = AtomicBool::new(false);

/// Makes every later f32 product of this process take the portable blocked path (as in the
/// browser) instead of this one, or go back: for benchmarks that compare the two in one run.
pub fn set_portable(portable: bool) {
    PORTABLE.store(portable, Ordering::Relaxed);
}

pub(super) fn enabled() -> bool {
    !PORTABLE.load(Ordering::Relaxed)
}

/// A matrix as op(M): its stored rows × cols, read transposed when `transposed`.
fn view(m: MatRef<'_, f32>, transposed: bool) -> Result<ArrayView2<'_, f32>, CoreError> {
    let stored = ArrayView2::from_shape((m.rows, m.cols).strides((m.cols, 1)), m.data).map_err(|e| CoreError::ShapeMismatch {
        op: "matmul",
        expected: format!("{} values", m.rows * m.cols),
        got: format!("{} ({e})", m.data.len()),
    })?;
    Ok(if transposed { stored.reversed_axes() } else { stored })
}

/// c = a·b, split into `pieces` products on rayon's threads when it is large enough to pay: in
/// halves along the longer side of c (rows of a, or columns of b), recursively.
fn multiply(a: ArrayView2<'_, f32>, b: ArrayView2<'_, f32>, mut c: ArrayViewMut2<'_, f32>, pieces: usize) {
    let ((m, k), n) = (a.dim(), b.dim().1);
    let half = |len: usize| (len / 2).next_multiple_of(SPLIT_ALIGN);
    let splits = |len: usize| half(len) < len;
    if pieces <= 1 || m * k * n < PARALLEL_MIN_MACS || !(splits(m) || splits(n)) {
        general_mat_mul(1.0, &a, &b, 0.0, &mut c);
        return;
    }
    let (first, rest) = (pieces / 2, pieces - pieces / 2);
    if m >= n && splits(m) || !splits(n) {
        let (a_top, a_bottom) = a.split_at(Axis(0), half(m));
        let (c_top, c_bottom) = c.split_at(Axis(0), half(m));
        rayon::join(|| multiply(a_top, b, c_top, first), || multiply(a_bottom, b, c_bottom, rest));
    } else {
        let (b_left, b_right) = b.split_at(Axis(1), half(n));
        let (c_left, c_right) = c.split_at(Axis(1), half(n));
        rayon::join(|| multiply(a, b_left, c_left, first), || multiply(a, b_right, c_right, rest));
    }
}

/// Overwrites `c` (m×n, row-major) with op(A)·op(B) for a product of dimensions (m, k, n).
pub(super) fn product_into(a: MatRef<'_, f32>, b: MatRef<'_, f32>, form: MatmulForm, (m, k, n): (usize, usize, usize), c: &mut [f32]) -> Result<(), CoreError> {
    if m == 0 || k == 0 || n == 0 {
        c.fill(0.0);
        return Ok(());
    }
    let c =
        ArrayViewMut2::from_shape((m, n), c)
            .map_err(|e| CoreError::ShapeMismatch { op: "matmul", expected: format!("{m}×{n} output"), got: e.to_string() })?;
    let (a, b) = (view(a, form.trans_a())?, view(b, form.trans_b())?);
    multiply(a, b, c, rayon::current_num_threads());
    Ok(())
}

/// op(A)·op(B) as a new row-major m×n buffer.
#[cfg(test)]
fn product(a: MatRef<'_, f32>, b: MatRef<'_, f32>, form: MatmulForm, dims: (usize, usize, usize)) -> Result<Vec<f32>, CoreError> {
    let mut out = vec![0.0f32; dims.0 * dims.2];
    product_into(a, b, form, dims, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Matrix;
    use crate::rng::SplitMix64;

    fn operands(rng: &mut SplitMix64, form: MatmulForm, (m, k, n): (usize, usize, usize)) -> (Matrix<f32>, Matrix<f32>) {
        let a_shape = if form.trans_a() { (k, m) } else { (m, k) };
        let b_shape = if form.trans_b() { (n, k) } else { (k, n) };
        let a = Matrix::from_vec(a_shape.0, a_shape.1, rng.vec_f32(m * k, -2.0, 2.0)).expect("sized");
        let b = Matrix::from_vec(b_shape.0, b_shape.1, rng.vec_f32(k * n, -2.0, 2.0)).expect("sized");
        (a, b)
    }

    /// Ragged shapes (around microkernel and packing sizes), empty ones and the reference VAE's,
    /// every transpose form: within f32 rounding of the f64 oracle, error bounded per output by
    /// k·ε·Σ|aᵢₚ·bₚⱼ|.
    #[test]
    fn the_native_product_matches_the_f64_oracle() {
        let mut rng = SplitMix64::new(11);
        let shapes = [(1, 1, 1), (3, 5, 7), (8, 8, 8), (9, 17, 33), (17, 300, 5), (0, 3, 4), (4, 0, 8), (6, 3, 0), (128, 784, 40), (130, 257, 19)];
        for form in MatmulForm::ALL {
            for &dims in &shapes {
                let (a, b) = operands(&mut rng, form, dims);
                let got = product(a.view(), b.view(), form, dims).expect("shapes agree");
                let wide = |m: &Matrix<f32>| Matrix { rows: m.rows, cols: m.cols, data: m.data.iter().map(|&v| f64::from(v)).collect() };
                let (a64, b64) = (wide(&a), wide(&b));
                let exact = super::super::blocked::product(a64.view(), b64.view(), form, dims);
                let scale = super::super::abs_product_scale(&a64, &b64, form).expect("shapes agree");
                for ((g, e), s) in got.iter().zip(&exact).zip(&scale.data) {
                    let bound = (dims.1 as f64 + 2.0) * f64::from(f32::EPSILON) * s + 1e-30;
                    assert!((f64::from(*g) - e).abs() <= bound, "{} {dims:?}: {g} vs {e} (bound {bound:e})", form.name());
                }
            }
        }
    }

    /// The reference VAE's largest products on one thread and on four give the same bits.
    #[test]
    fn the_result_does_not_depend_on_the_thread_count() {
        let mut rng = SplitMix64::new(5);
        for (form, dims) in [(MatmulForm::Nn, (128, 784, 400)), (MatmulForm::Tn, (784, 128, 400)), (MatmulForm::Nt, (128, 400, 784))] {
            let (a, b) = operands(&mut rng, form, dims);
            let on = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a thread pool");
                pool.install(|| product(a.view(), b.view(), form, dims).expect("shapes agree"))
            };
            let (one, four) = (on(1), on(4));
            assert!(one.iter().zip(&four).all(|(x, y)| x.to_bits() == y.to_bits()), "{} {dims:?}", form.name());
        }
    }
}
