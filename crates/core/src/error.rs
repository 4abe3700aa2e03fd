//! The core crate's error type.

use crate::knobs::KnobError;

/// What can go wrong in the reference math: inconsistent shapes and bad arguments, named in full.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CoreError {
    #[error("{op}: shape mismatch: {expected} vs {got}")]
    ShapeMismatch { op: &'static str, expected: String, got: String },
    #[error("{op}: invalid argument: {message}")]
    InvalidArgument { op: &'static str, message: String },
}

/// A knob out of range, met by a model step that was handed it directly.
impl From<KnobError> for CoreError {
    fn from(e: KnobError) -> Self {
        Self::InvalidArgument { op: "knobs", message: e.to_string() }
    }
}
