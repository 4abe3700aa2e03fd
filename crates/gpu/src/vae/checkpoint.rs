//! "Restore best" for early stopping: a copy of the parameters kept on the GPU, saved and restored
//! with buffer copies, so neither direction reads anything back or stalls training.

use std::sync::atomic::{AtomicBool, Ordering};

use super::core::VaeCore;
use crate::context::GpuContext;
use crate::error::GpuError;
use crate::tensor::GpuTensor;

/// The saved parameters, and whether anything was saved yet.
#[derive(Debug)]
pub(super) struct Checkpoint {
    saved: GpuTensor,
    filled: AtomicBool,
}

impl Checkpoint {
    pub(super) fn new(ctx: &GpuContext, label: &str, params: &GpuTensor) -> Result<Self, GpuError> {
        Ok(Self { saved: ctx.zeros(label, params.rows(), params.cols())?, filled: AtomicBool::new(false) })
    }

    /// The saved parameters' buffer (a fork copies it).
    pub(super) fn saved(&self) -> &GpuTensor {
        &self.saved
    }

    /// A fork's copy holds something exactly when this one does.
    pub(super) fn copy_filled_to(&self, other: &Checkpoint) {
        other.filled.store(self.filled.load(Ordering::Relaxed), Ordering::Relaxed);
    }
}

fn copy(ctx: &GpuContext, label: &str, from: &GpuTensor, to: &GpuTensor) -> Result<(), GpuError> {
    ctx.check_alive()?;
    let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(label) });
    from.record_copy(&mut encoder, to, 0)?;
    ctx.queue.submit([encoder.finish()]);
    Ok(())
}

impl VaeCore {
    /// Keeps a copy of the current parameters (early stopping saw a new best held-out loss).
    /// Refused where the parameters train elsewhere (a model that never trains never stops early).
    pub(crate) fn save_best(&self) -> Result<(), GpuError> {
        let checkpoint = &self.training()?.checkpoint;
        copy(&self.ctx, "vae save best", &self.params, &checkpoint.saved)?;
        checkpoint.filled.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Puts the parameters of the last [`save_best`](Self::save_best) back; the optimizer state and
    /// step counter carry on. Fails if nothing was saved.
    pub(crate) fn restore_best(&self) -> Result<(), GpuError> {
        let checkpoint = &self.training()?.checkpoint;
        if !checkpoint.filled.load(Ordering::Relaxed) {
            return Err(GpuError::invalid("vae restore best", "no parameters were saved yet"));
        }
        copy(&self.ctx, "vae restore best", &checkpoint.saved, &self.params)
    }
}
