//! The browser's block kernel with WebAssembly relaxed-SIMD fused multiply-adds, in builds made
//! with `-C target-feature=+relaxed-simd` (an experiment: see docs/BENCHMARKS.md). Engines run
//! `f32x4.relaxed_madd` as one FMA where the CPU has it, else as a multiply and an add, so results
//! may differ from the portable kernel in the last bits.

use core::arch::wasm32::{f32x4, f32x4_extract_lane, f32x4_relaxed_madd, f32x4_splat, v128};

use super::blocked::{COLS, ROWS};

/// Columns `first_col..first_col + COLS` of `out` (`rows` rows of n) = A panel · B panel, as
/// `blocked`'s kernel computes them but with one fused multiply-add per pair of lanes.
pub(super) fn column_block(a_panel: &[f32], b_panel: &[f32], k: usize, rows: usize, first_col: usize, n: usize, out: &mut [f32]) {
    let mut acc: [[v128; 2]; ROWS] = [[f32x4_splat(0.0); 2]; ROWS];
    for (a, b) in a_panel.chunks_exact(ROWS).zip(b_panel.chunks_exact(COLS)).take(k) {
        let halves = [f32x4(b[0], b[1], b[2], b[3]), f32x4(b[4], b[5], b[6], b[7])];
        for (acc_row, &a_value) in acc.iter_mut().zip(a) {
            let a_lanes = f32x4_splat(a_value);
            for (acc_half, &b_half) in acc_row.iter_mut().zip(&halves) {
                *acc_half = f32x4_relaxed_madd(a_lanes, b_half, *acc_half);
            }
        }
    }
    for (r, acc_row) in acc.iter().enumerate().take(rows) {
        let lanes = |v: v128| [f32x4_extract_lane::<0>(v), f32x4_extract_lane::<1>(v), f32x4_extract_lane::<2>(v), f32x4_extract_lane::<3>(v)];
        let row = &mut out[r * n + first_col..r * n + first_col + COLS];
        row[..4].copy_from_slice(&lanes(acc_row[0]));
        row[4..].copy_from_slice(&lanes(acc_row[1]));
    }
}
