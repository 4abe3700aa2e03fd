//! Forks on the GPU: a model's whole training state (the buffers its steps read and write from one
//! step to the next) copied into a twin built from the same setup, buffer to buffer in one
//! submission. Nothing is read back, and the source's queued work runs first, so the source trains
//! on undisturbed and the twin starts exactly where the source stood.

use latent_core::engine::ModelError;

use crate::context::GpuContext;
use crate::tensor::GpuTensor;

/// Copies each of `from` into the tensor at the same place in `to` (same device, same sizes).
pub(crate) fn copy_state(from_ctx: &GpuContext, to_ctx: &GpuContext, what: &str, from: &[&GpuTensor], to: &[&GpuTensor]) -> Result<(), ModelError> {
    if from_ctx.device != to_ctx.device {
        return Err(ModelError::StateMismatch(format!("the other {what} lives on another GPU device")));
    }
    if from.len() != to.len() {
        return Err(ModelError::StateMismatch(format!("the other {what} holds {} state buffers, this one {}", to.len(), from.len())));
    }
    if let Some((a, b)) = from.iter().zip(to).find(|(a, b)| a.len() != b.len() || a.kind() != b.kind()) {
        return Err(ModelError::StateMismatch(format!("{} does not fit {} (another shape)", a.describe(), b.describe())));
    }
    from_ctx.check_alive()?;
    let mut encoder = from_ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("fork: copy the training state") });
    for (a, b) in from.iter().zip(to) {
        a.record_copy(&mut encoder, b, 0)?;
    }
    from_ctx.queue.submit([encoder.finish()]);
    Ok(())
}
