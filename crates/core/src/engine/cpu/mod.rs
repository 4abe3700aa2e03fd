//! The CPU twin as an engine: stateful runners that own what the GPU engine keeps on the device
//! (knobs, the minibatch cursor, metric sums, the best parameters), so that they answer the
//! [`VaeModel`](super::VaeModel) and [`GanModel`](super::GanModel) calls with the same arguments.
//! The math is `crate::model`'s, in f32; batches follow the gather kernels' rule, so the CPU sees
//! exactly the rows the GPU sees.

mod gan;
mod vae;

pub use gan::CpuGan;
pub use vae::CpuVae;

use crate::error::CoreError;
use crate::matrix::Matrix;

/// `values` as whole rows of `cols`, at most `max_rows` of them, all finite: what a view call
/// takes from its caller.
fn caller_rows(op: &'static str, values: &[f32], cols: usize, max_rows: usize) -> Result<Matrix<f32>, CoreError> {
    let rows = values.len() / cols.max(1);
    if values.is_empty() || rows * cols != values.len() || rows > max_rows {
        return Err(CoreError::InvalidArgument { op, message: format!("{} values are not 1..={max_rows} rows of {cols}", values.len()) });
    }
    if !values.iter().all(|v| v.is_finite()) {
        return Err(CoreError::InvalidArgument { op, message: "the values must be finite".into() });
    }
    Ok(Matrix { rows, cols, data: values.to_vec() })
}
