//! The core crate's error type.

/// What can go wrong in the reference math: only inconsistent shapes, named in full.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CoreError {
    #[error("{op}: shape mismatch: {expected} vs {got}")]
    ShapeMismatch { op: &'static str, expected: String, got: String },
    #[error("{op}: invalid argument: {message}")]
    InvalidArgument { op: &'static str, message: String },
}
