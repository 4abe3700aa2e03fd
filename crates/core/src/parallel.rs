//! Elementwise work split over the cores natively (rayon), run in order in the browser (one
//! thread). Each element's arithmetic is the same either way, so results do not depend on it.

/// Elements per task: enough work (tens of µs) to outweigh handing it to another thread.
const CHUNK: usize = 32 * 1024;

/// Calls `f` on matching chunks (at most [`CHUNK`] long) of three outputs (parameters and two
/// optimizer moments) and one input, on rayon's threads natively.
pub(crate) fn zip_chunks3<T: Send + Sync>(a: &mut [T], b: &mut [T], c: &mut [T], input: &[T], f: impl Fn(&mut [T], &mut [T], &mut [T], &[T]) + Send + Sync) {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks_mut(CHUNK)
            .zip(b.par_chunks_mut(CHUNK))
            .zip(c.par_chunks_mut(CHUNK))
            .zip(input.par_chunks(CHUNK))
            .for_each(|(((a, b), c), i)| f(a, b, c, i));
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks_mut(CHUNK).zip(b.chunks_mut(CHUNK)).zip(c.chunks_mut(CHUNK)).zip(input.chunks(CHUNK)).for_each(|(((a, b), c), i)| f(a, b, c, i));
}

/// Maps each pair of matching rows (`cols` values) of `a` and `b` to one value, in row order.
pub(crate) fn map_row_pairs<T: Send + Sync, R: Send>(a: &[T], b: &[T], cols: usize, f: impl Fn(&[T], &[T]) -> R + Send + Sync) -> Vec<R> {
    let cols = cols.max(1);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        a.par_chunks(cols).zip(b.par_chunks(cols)).map(|(a, b)| f(a, b)).collect()
    }
    #[cfg(target_arch = "wasm32")]
    a.chunks(cols).zip(b.chunks(cols)).map(|(a, b)| f(a, b)).collect()
}

/// Calls `f(first_row, rows)` on blocks of whole rows (`cols` values each) of `data`, about
/// [`CHUNK`] values per block, on rayon's threads natively.
pub(crate) fn for_row_blocks<T: Send + Sync>(data: &mut [T], cols: usize, f: impl Fn(usize, &mut [T]) + Send + Sync) {
    let rows_per_block = (CHUNK / cols.max(1)).max(1);
    let block = rows_per_block * cols.max(1);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(block).enumerate().for_each(|(i, rows)| f(i * rows_per_block, rows));
    }
    #[cfg(target_arch = "wasm32")]
    data.chunks_mut(block).enumerate().for_each(|(i, rows)| f(i * rows_per_block, rows));
}

/// Calls `f(out_row, a_row, b_row)` on matching rows (`cols` values) of `out`, `a` and `b`,
/// returning its values in row order; on rayon's threads natively.
pub(crate) fn map_rows_into<T: Send + Sync, R: Send>(
    out: &mut [T],
    a: &[T],
    b: &[T],
    cols: usize,
    f: impl Fn(&mut [T], &[T], &[T]) -> R + Send + Sync,
) -> Vec<R> {
    let cols = cols.max(1);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(cols).zip(a.par_chunks(cols)).zip(b.par_chunks(cols)).map(|((o, a), b)| f(o, a, b)).collect()
    }
    #[cfg(target_arch = "wasm32")]
    out.chunks_mut(cols).zip(a.chunks(cols)).zip(b.chunks(cols)).map(|((o, a), b)| f(o, a, b)).collect()
}

/// `out` = `src`, chunk by chunk on rayon's threads natively (a copy of megabytes is bound by
/// memory bandwidth, which one core does not saturate).
pub(crate) fn copy<T: Copy + Send + Sync>(out: &mut [T], src: &[T]) {
    let len = out.len().min(src.len());
    let (out, src) = (&mut out[..len], &src[..len]);
    #[cfg(not(target_arch = "wasm32"))]
    {
        use rayon::prelude::*;
        out.par_chunks_mut(CHUNK).zip(src.par_chunks(CHUNK)).for_each(|(o, s)| o.copy_from_slice(s));
    }
    #[cfg(target_arch = "wasm32")]
    out.copy_from_slice(src);
}
