//! The session crate's error type: what building or driving a run can hit, each said plainly.

use latent_core::data::DataError;
use latent_core::CoreError;
use latent_gpu::GpuError;

/// Errors of a training session. The text is shown to the user as is.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum SessionError {
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error("{0}")]
    Core(String),
    #[error(transparent)]
    Data(#[from] DataError),
    /// A request the run cannot serve (a view of the wrong model, codes of the wrong width…).
    #[error("{0}")]
    Invalid(String),
}

impl From<CoreError> for SessionError {
    fn from(e: CoreError) -> Self {
        Self::Core(e.to_string())
    }
}
