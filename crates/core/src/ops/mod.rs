//! Reference ops, one per WGSL kernel concern. Each mirrors its shader's exact semantics
//! (including accumulate flags and scales) so a GPU result can be compared element for element.

pub mod dropout;
pub mod gather;
pub mod loss;
pub mod matmul;
pub mod optimizer;
pub mod penalty;
pub mod reduce;
pub mod vae;

pub use matmul::{matmul, matmul_into, Epilogue, MatmulForm};

use crate::error::CoreError;

/// Fails with both shapes named when `got` differs from `expected`.
pub(crate) fn check_shape(op: &'static str, expected: (usize, usize), got: (usize, usize)) -> Result<(), CoreError> {
    if expected == got {
        Ok(())
    } else {
        Err(CoreError::ShapeMismatch { op, expected: format!("{}×{}", expected.0, expected.1), got: format!("{}×{}", got.0, got.1) })
    }
}

/// out = value, or out += value when accumulating (the kernels' `accumulate` flag).
#[inline]
pub(crate) fn store<T: crate::Real>(out: &mut T, value: T, accumulate: bool) {
    if accumulate {
        *out += value
    } else {
        *out = value
    }
}
