//! Minibatch gather by index (`shaders/gather.wgsl`).

use crate::real::Real;

/// Where row `r` of the batch comes from: positions advance by `rows` per step through `indices`.
pub fn source_row(indices: &[u32], index_base: u32, step: u32, rows: u32, r: u32) -> usize {
    let len = indices.len() as u64;
    let pos = (u64::from(index_base) + u64::from(step) * u64::from(rows) + u64::from(r)) % len;
    indices[pos as usize] as usize
}

/// Gathers a batch of u8 rows scaled to [0, 1].
pub fn gather_u8<T: Real>(data: &[u8], cols: usize, indices: &[u32], index_base: u32, step: u32, rows: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let src = source_row(indices, index_base, step, rows as u32, r as u32);
        out.extend(data[src * cols..(src + 1) * cols].iter().map(|&b| T::from_f64(f64::from(b) / 255.0)));
    }
    out
}

/// Gathers a batch of f32 rows.
pub fn gather_f32<T: Real>(data: &[f32], cols: usize, indices: &[u32], index_base: u32, step: u32, rows: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        let src = source_row(indices, index_base, step, rows as u32, r as u32);
        out.extend(data[src * cols..(src + 1) * cols].iter().map(|&v| T::from_f64(f64::from(v))));
    }
    out
}
