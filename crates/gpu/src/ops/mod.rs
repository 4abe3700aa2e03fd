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
pub use gather::GatherSpec;
pub use loss::GanLabel;
pub use matmul::{set_drop_probability, set_dropout, GpuEpilogue, MatmulSpec, Models};
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
