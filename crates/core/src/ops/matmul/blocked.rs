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

use crate::matrix::MatRef;
use crate::real::Real;

use super::MatmulForm;

/// Output rows per block: the A values broadcast per step.
pub(super) const ROWS: usize = 4;
/// Output columns per block: two 4-lane f32 vectors, so 8 accumulators fit the 16 vector registers.
pub(super) const COLS: usize = 8;

/// Overwrites `out` (m×n, row-major) with op(A)·op(B) for a product of dimensions (m, k, n).
///
/// Both operands are packed first: A into panels of `ROWS` rows (`panel[p·ROWS + r]`), B into
/// panels of `COLS` columns (`k` strips of `COLS` values, one after another). Then each B panel
/// (k·COLS values: 25 KB for k = 784, within L1) is used by every row block before the next is
/// touched, instead of every row block streaming all of B (1.25 MB for 784×400) from further out.
///
/// In the browser the loops need wasm SIMD to vectorise, which every browser with WebGPU has
/// (Chrome 91+, Firefox 89+, Safari 16.4+); enabling it on this one function (the helpers inline
/// into it) keeps the rest of the module, and every other crate's build flags, untouched.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub(super) fn product_into<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, form: MatmulForm, dims: (usize, usize, usize), out: &mut [T]) {
    // A closure: `#[target_feature]` functions are not `Fn`; this one inherits `product_into`'s features.
    product_with(a, b, form, dims, out, |a, b, k, rows, first_col, n, out| column_block(a, b, k, rows, first_col, n, out));
}

/// [`product_into`] as a new buffer, for tests.
#[cfg(test)]
pub(super) fn product<T: Real>(a: MatRef<'_, T>, b: MatRef<'_, T>, form: MatmulForm, dims: (usize, usize, usize)) -> Vec<T> {
    let mut out = vec![T::zero(); dims.0 * dims.2];
    product_into(a, b, form, dims, &mut out);
    out
}

/// [`product_into`] with another kernel for the `ROWS`×`COLS` blocks (the relaxed-SIMD build's).
/// Every output is written: the column blocks cover the first n − n mod `COLS` columns, the
/// leftover loop the rest.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub(super) fn product_with<T: Real>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    form: MatmulForm,
    (m, k, n): (usize, usize, usize),
    out: &mut [T],
    column_block: impl Fn(&[T], &[T], usize, usize, usize, usize, &mut [T]),
) {
    if m == 0 || k == 0 || n == 0 {
        out.fill(T::zero());
        return;
    }
    // Rows of op(B) must be contiguous: A·Bᵀ transposes B once (k·n moves against m·k·n multiply-adds).
    let b_rows: Cow<'_, [T]> = if form.trans_b() { Cow::Owned(transposed(b)) } else { Cow::Borrowed(b.data) };
    let mut a_panels = vec![T::zero(); m.div_ceil(ROWS) * ROWS * k];
    for (block, panel) in a_panels.chunks_exact_mut(ROWS * k).enumerate() {
        let first_row = block * ROWS;
        pack_panel(a, form, first_row, ROWS.min(m - first_row), k, panel);
    }
    // Row block by row block: its A panel and its rows of the output (the last block may be short).
    let blocked = n - n % COLS;
    let mut b_panel = vec![T::zero(); k * COLS];
    for first_col in (0..blocked).step_by(COLS) {
        for (p, strip) in b_panel.chunks_exact_mut(COLS).enumerate() {
            strip.copy_from_slice(&b_rows[p * n + first_col..p * n + first_col + COLS]);
        }
        for (panel, out_rows) in a_panels.chunks_exact(ROWS * k).zip(out.chunks_mut(ROWS * n)) {
            column_block(panel, &b_panel, k, out_rows.len() / n, first_col, n, out_rows);
        }
    }
    for (panel, out_rows) in a_panels.chunks_exact(ROWS * k).zip(out.chunks_mut(ROWS * n)) {
        leftover_columns(panel, &b_rows, (k, n), out_rows.len() / n, blocked, out_rows);
    }
}

/// The rows of B as a new row-major matrix of its columns.
fn transposed<T: Real>(b: MatRef<'_, T>) -> Vec<T> {
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
fn pack_panel<T: Real>(a: MatRef<'_, T>, form: MatmulForm, first_row: usize, rows: usize, k: usize, panel: &mut [T]) {
    panel.fill(T::zero());
    for (p, slot) in panel.chunks_exact_mut(ROWS).enumerate().take(k) {
        for (r, value) in slot.iter_mut().enumerate().take(rows) {
            let i = first_row + r;
            *value = if form.trans_a() { a.at(p, i) } else { a.at(i, p) };
        }
    }
}

/// Columns `first_col..first_col + COLS` of `out` (`rows` rows of n) = A panel · B panel: the
/// `ROWS`×`COLS` accumulators stay in registers while p runs.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn column_block<T: Real>(a_panel: &[T], b_panel: &[T], k: usize, rows: usize, first_col: usize, n: usize, out: &mut [T]) {
    let mut acc = [[T::zero(); COLS]; ROWS];
    for (a, b) in a_panel.chunks_exact(ROWS).zip(b_panel.chunks_exact(COLS)).take(k) {
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

/// Columns `blocked..n` of `out` (fewer than `COLS`), one dot product at a time.
fn leftover_columns<T: Real>(a_panel: &[T], b_rows: &[T], (k, n): (usize, usize), rows: usize, blocked: usize, out: &mut [T]) {
    for col in blocked..n {
        for r in 0..rows {
            let mut acc = T::zero();
            for (p, a) in a_panel.chunks_exact(ROWS).enumerate().take(k) {
                acc += a[r] * b_rows[p * n + col];
            }
            out[r * n + col] = acc;
        }
    }
}
