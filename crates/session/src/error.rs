//! The session crate's error type: what building or driving a run can hit, each said plainly.

use latent_core::data::DataError;
use latent_core::engine::ModelError;
use latent_core::CoreError;
use latent_gpu::GpuError;

/// Errors of a training session. The text is shown to the user as is.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum SessionError {
    /// The model refused a call, or its engine failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error(transparent)]
    Data(#[from] DataError),
    /// Opening the GPU failed.
    #[error(transparent)]
    Gpu(#[from] GpuError),
    /// A run file that cannot be used, and why.
    #[error("This run file cannot be used: {0}")]
    RunFile(#[from] crate::run_file::RunFileError),
    /// A request the run cannot serve (a file that does not fit the model, a view of another model…).
    #[error("{0}")]
    Invalid(String),
}

impl From<CoreError> for SessionError {
    fn from(e: CoreError) -> Self {
        Self::Model(e.into())
    }
}

impl SessionError {
    /// The reason the device was lost, when this is a lost GPU device (or a stopped CPU worker).
    pub fn device_lost(&self) -> Option<&str> {
        match self {
            Self::Model(ModelError::DeviceLost(reason)) | Self::Gpu(GpuError::DeviceLost(reason)) => Some(reason),
            _ => None,
        }
    }

    /// Whether the GPU reported this (a lost device may show first as another device error).
    pub fn is_device_error(&self) -> bool {
        matches!(self, Self::Model(ModelError::DeviceLost(_) | ModelError::Device(_)) | Self::Gpu(_))
    }
}
