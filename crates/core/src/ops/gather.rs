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
    // The 256 possible values, divided once each instead of once per pixel (the same bits).
    let scaled: Vec<T> = (0..=255u8).map(|b| T::from_f64(f64::from(b) / 255.0)).collect();
    gather(data, cols, indices, index_base, step, rows, |b| scaled[usize::from(b)])
}

/// Gathers a batch of f32 rows.
pub fn gather_f32<T: Real>(data: &[f32], cols: usize, indices: &[u32], index_base: u32, step: u32, rows: usize) -> Vec<T> {
    gather(data, cols, indices, index_base, step, rows, |v| T::from_f64(f64::from(v)))
}

/// The batch's rows converted by `convert`; blocks of rows on the cores natively (reading rows
/// scattered over the dataset waits on memory, which two cores wait on in parallel).
fn gather<S: Copy + Sync, T: Real>(
    data: &[S],
    cols: usize,
    indices: &[u32],
    index_base: u32,
    step: u32,
    rows: usize,
    convert: impl Fn(S) -> T + Send + Sync,
) -> Vec<T> {
    let mut out = vec![T::zero(); rows * cols];
    crate::parallel::for_row_blocks(&mut out, cols, |first_row, block| {
        for (r, row) in block.chunks_exact_mut(cols.max(1)).enumerate() {
            let src = source_row(indices, index_base, step, rows as u32, (first_row + r) as u32);
            row.iter_mut().zip(&data[src * cols..(src + 1) * cols]).for_each(|(out, &v)| *out = convert(v));
        }
    });
    out
}
