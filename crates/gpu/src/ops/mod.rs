//! Op builders: one method on [`Kernels`](crate::Kernels) per kernel entry point. Each checks shapes
//! (naming both sides on a mismatch), refuses aliasing of outputs and inputs, and returns a ready
//! [`Dispatch`](crate::Dispatch).

mod dropout;
mod gather;
mod loss;
mod matmul;
pub mod optimizer;
mod penalty;
mod reduce;
mod vae;

pub use dropout::{DropoutSpec, MAX_DROP_PROBABILITY};
pub use gather::{GatherSpec, IndexSlice};
pub use loss::GanLabel;
pub use matmul::{set_drop_probability, set_dropout, set_model_drop_probability, GpuEpilogue, MatmulSpec, Models};
pub use optimizer::{AdamBuffers, ParamRange};
pub use penalty::{PenaltySlots, PenaltySpec};
pub use vae::ReparamSpec;

use crate::error::GpuError;

/// A dimension as the u32 the kernels take.
pub(crate) fn dim(op: &'static str, value: usize) -> Result<u32, GpuError> {
    u32::try_from(value).map_err(|_| GpuError::invalid(op, format!("dimension {value} exceeds 2³²")))
}

pub(crate) fn flag(value: bool) -> u32 {
    u32::from(value)
}

/// How many models a batched dispatch holds, as its z workgroup count: 1 to WebGPU's
/// per-dimension limit.
pub(crate) fn model_count(op: &'static str, models: usize) -> Result<u32, GpuError> {
    let limit = crate::dispatch::MAX_WORKGROUPS_PER_DIM;
    match u32::try_from(models) {
        Ok(count @ 1..) if count <= limit => Ok(count),
        _ => Err(GpuError::invalid(op, format!("{models} models: one dispatch holds 1 to {limit}"))),
    }
}

/// The workgroups of an element-wise kernel over each of `models` blocks of `elements` values:
/// `linear_workgroups` of one block, × models in z (checked by [`rows_per_model`] or
/// [`model_count`] first).
pub(crate) fn per_model_workgroups(elements: usize, models: usize) -> [u32; 3] {
    let [x, y, _] = crate::dispatch::linear_workgroups(elements);
    [x, y, models as u32]
}

/// Whether `len` elements from `first` are a non-empty slice of `total` (no overflow): a model's
/// parameter range, a model's index list.
pub(crate) fn is_slice_of(first: usize, len: usize, total: usize) -> bool {
    len > 0 && first.checked_add(len).is_some_and(|end| end <= total)
}

/// A batched dispatch's label suffix: "×K", nothing for one model.
pub(crate) fn batch_suffix(models: usize) -> String {
    if models > 1 {
        format!("×{models}")
    } else {
        String::new()
    }
}

/// The rows of one model's block of `t`, which holds `models` models' blocks one after another (a
/// batched dispatch, one workgroup z per model, so at most WebGPU's per-dimension limit of them).
pub(crate) fn rows_per_model(op: &'static str, t: &crate::GpuTensor, models: usize) -> Result<usize, GpuError> {
    model_count(op, models)?;
    if !t.rows().is_multiple_of(models) {
        return Err(GpuError::shape(op, format!("{models} models' blocks stacked"), t.describe()));
    }
    Ok(t.rows() / models)
}
