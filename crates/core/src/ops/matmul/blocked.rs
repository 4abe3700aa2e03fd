//! The product behind [`super::matmul`], register-blocked so that it vectorises (SSE natively,
//! wasm `simd128` in the browser) without changing a single bit of the result.
//!
//! Every output is still Σₚ op(A)ᵢₚ·op(B)ₚⱼ accumulated from zero for p = 0, 1, …, k−1 with one
//! rounding per multiply and one per add: exactly the naive dot loop's arithmetic. Only the order in
//! which *outputs* are visited changes: a block of `ROWS`×`COLS` accumulators stays in registers
//! while p runs, each step loading one contiguous strip of B and broadcasting `ROWS` values of A.
//! Rust never contracts `a * b + c` into a fused multiply-add, so the CPU engine's runs stay
//! reproducible across this rewrite and across targets.

use std::borrow::Cow;

use crate::matrix::Matrix;
use crate::real::Real;

use super::MatmulForm;

/// Output rows per block: the A values broadcast per step.
const ROWS: usize = 4;
/// Output columns per block: two 4-lane f32 vectors, so 8 accumulators fit the 16 vector registers.
const COLS: usize = 8;

/// op(A)·op(B) for a product of dimensions (m, k, n), as a row-major m×n buffer.
///
/// In the browser the loops need wasm SIMD to vectorise, which every browser with WebGPU has
/// (Chrome 91+, Firefox 89+, Safari 16.4+); enabling it on this one function (the helpers inline
/// into it) keeps the rest of the module, and every other crate's build flags, untouched.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub(super) fn product<T: Real>(a: &Matrix<T>, b: &Matrix<T>, form: MatmulForm, (m, k, n): (usize, usize, usize)) -> Vec<T> {
    // Rows of op(B) must be contiguous: A·Bᵀ transposes B once (k·n moves against m·k·n multiply-adds).
    let b_rows: Cow<'_, [T]> = if form.trans_b() { Cow::Owned(transposed(b)) } else { Cow::Borrowed(&b.data) };
    let mut out = vec![T::zero(); m * n];
    let mut panel = vec![T::zero(); ROWS * k];
    for first_row in (0..m).step_by(ROWS) {
        let rows = ROWS.min(m - first_row);
        pack_panel(a, form, first_row, rows, k, &mut panel);
        row_block(&panel, &b_rows, (k, n), rows, &mut out[first_row * n..(first_row + rows) * n]);
    }
    out
}

/// The rows of B as a new row-major matrix of its columns.
fn transposed<T: Real>(b: &Matrix<T>) -> Vec<T> {
    let mut out = vec![T::zero(); b.data.len()];
    for (row, values) in b.data.chunks_exact(b.cols.max(1)).enumerate() {
        for (col, &v) in values.iter().enumerate() {
            out[col * b.rows + row] = v;
        }
    }
    out
}

/// `panel[p·ROWS + r]` = op(A)[first_row + r, p], zero for the rows past the end of A, so the
/// inner loop reads the `ROWS` values it broadcasts from one place.
fn pack_panel<T: Real>(a: &Matrix<T>, form: MatmulForm, first_row: usize, rows: usize, k: usize, panel: &mut [T]) {
    panel.fill(T::zero());
    for (p, slot) in panel.chunks_exact_mut(ROWS).enumerate().take(k) {
        for (r, value) in slot.iter_mut().enumerate().take(rows) {
            let i = first_row + r;
            *value = if form.trans_a() { a.at(p, i) } else { a.at(i, p) };
        }
    }
}

/// `out` (`rows` rows of n) = panel · B, block by block of `COLS` columns, then the leftover columns.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn row_block<T: Real>(panel: &[T], b_rows: &[T], (k, n): (usize, usize), rows: usize, out: &mut [T]) {
    let blocked = n - n % COLS;
    for first_col in (0..blocked).step_by(COLS) {
        let mut acc = [[T::zero(); COLS]; ROWS];
        for (p, a) in panel.chunks_exact(ROWS).enumerate().take(k) {
            let b = &b_rows[p * n + first_col..p * n + first_col + COLS];
            for (acc_row, &a_value) in acc.iter_mut().zip(a) {
                for (acc_value, &b_value) in acc_row.iter_mut().zip(b) {
                    *acc_value += a_value * b_value;
                }
            }
        }
        for (r, acc_row) in acc.iter().enumerate().take(rows) {
            out[r * n + first_col..r * n + first_col + COLS].copy_from_slice(acc_row);
        }
    }
    for col in blocked..n {
        for r in 0..rows {
            let mut acc = T::zero();
            for (p, a) in panel.chunks_exact(ROWS).enumerate().take(k) {
                acc += a[r] * b_rows[p * n + col];
            }
            out[r * n + col] = acc;
        }
    }
}
