//! The GPU crate's error type: every way a user, a shape or a GPU can make an operation fail.

/// Errors of the GPU engine. Each names what it concerns so the UI can show it as is.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum GpuError {
    #[error("no GPU adapter is available ({0}); WebGPU may be disabled or unsupported here")]
    NoAdapter(String),
    #[error("the GPU refused to create a device: {0}")]
    RequestDevice(String),
    #[error("the GPU device was lost ({0}); the model must be rebuilt")]
    DeviceLost(String),
    #[error("{op}: shape mismatch: expected {expected}, got {got}")]
    ShapeMismatch { op: &'static str, expected: String, got: String },
    #[error("{op}: {message}")]
    InvalidArgument { op: &'static str, message: String },
    #[error("buffer `{label}` needs {bytes} bytes but this device allows at most {limit}")]
    BufferTooLarge { label: String, bytes: u64, limit: u64 },
    #[error("shader `{kernel}` failed to compile: {message}")]
    ShaderCompilation { kernel: &'static str, message: String },
    #[error("GPU validation error in {context}: {message}")]
    Validation { context: String, message: String },
    #[error("reading back `{label}` failed: {message}")]
    Readback { label: String, message: String },
}

/// The reference math's argument and shape errors, raised while building or configuring a model.
impl From<latent_core::CoreError> for GpuError {
    fn from(e: latent_core::CoreError) -> Self {
        match e {
            latent_core::CoreError::ShapeMismatch { op, expected, got } => Self::ShapeMismatch { op, expected, got },
            latent_core::CoreError::InvalidArgument { op, message } => Self::InvalidArgument { op, message },
        }
    }
}

impl GpuError {
    pub(crate) fn shape(op: &'static str, expected: impl Into<String>, got: impl Into<String>) -> Self {
        Self::ShapeMismatch { op, expected: expected.into(), got: got.into() }
    }

    pub(crate) fn invalid(op: &'static str, message: impl Into<String>) -> Self {
        Self::InvalidArgument { op, message: message.into() }
    }
}

/// What the engine seam reports of a GPU failure: a lost device as such (the front end rebuilds),
/// anything else with its message.
impl From<GpuError> for latent_core::engine::ModelError {
    fn from(e: GpuError) -> Self {
        match e {
            GpuError::DeviceLost(reason) => Self::DeviceLost(reason),
            GpuError::ShapeMismatch { op, expected, got } => latent_core::CoreError::ShapeMismatch { op, expected, got }.into(),
            GpuError::InvalidArgument { op, message } => latent_core::CoreError::InvalidArgument { op, message }.into(),
            other => Self::Device(other.to_string()),
        }
    }
}
