//! Faults that must come back as values: no adapter at all, and a device lost mid-session.

use anyhow::{anyhow, bail};
use latent_core::ops::MatmulForm;
use latent_gpu::ops::MatmulSpec;
use latent_gpu::{readback, GpuContext, GpuError, Schedule};

use crate::harness::{yield_to_event_loop, Check, Harness};

/// Asking for an adapter on no backend at all gives `NoAdapter` with a readable message.
pub async fn no_adapter_is_an_error(_h: &Harness) -> Check {
    match GpuContext::with_backends(latent_gpu::wgpu::Backends::empty()).await {
        Err(GpuError::NoAdapter(message)) if !message.is_empty() => Ok(()),
        Err(other) => Err(anyhow!("expected NoAdapter, got {other}")),
        Ok(ctx) => Err(anyhow!("expected no adapter, got {}", ctx.summary())),
    }
}

/// Destroying a device (as a driver reset or a lost GPU would) is seen by the context: reads fail
/// with an error, the loss is reported, and further submissions return `DeviceLost`.
pub async fn device_loss_is_reported(h: &Harness) -> Check {
    // A device of its own: the shared harness device must survive this check.
    let ctx = GpuContext::new().await?;
    let a = ctx.zeros("a", 4, 4)?;
    let (b, c) = (ctx.zeros("b", 4, 4)?, ctx.zeros("c", 4, 4)?);
    // Pipelines come from the harness's device, so build this device's dispatch through its own kernels.
    let kernels = latent_gpu::Kernels::new(&ctx).await?;
    let schedule = Schedule::from(kernels.matmul(&a, &b, &c, MatmulSpec::new(MatmulForm::Nn))?);
    schedule.submit(&ctx, 1)?;
    ctx.device.destroy();
    let read = readback::read_f32(&ctx, &c).await;
    if read.is_ok() {
        bail!("a read on a destroyed device succeeded");
    }
    // The lost callback may arrive a turn of the event loop later.
    for _ in 0..200 {
        if ctx.check_alive().is_err() {
            break;
        }
        yield_to_event_loop(&ctx).await;
    }
    match schedule.submit(&ctx, 1) {
        Err(GpuError::DeviceLost(_)) => {}
        Err(other) => bail!("after destroy, submit gave {other}, expected DeviceLost"),
        Ok(()) => bail!("after destroy, submit succeeded; the loss went unnoticed"),
    }
    h.no_gpu_errors()
}
