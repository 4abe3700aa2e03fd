//! Asynchronous readback: copy into a staging buffer, `map_async`, and await the callback.
//!
//! Nothing here blocks in the browser: the map resolves when control returns to the event loop, so
//! `await` simply yields. Natively wgpu needs the device polled for callbacks to fire; the future
//! does that while it waits (wgpu's native `poll` waits for the GPU, not a spin loop).

use std::future::Future;

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::tensor::{ElementKind, GpuTensor};

/// Reads an f32 tensor back.
pub async fn read_f32(ctx: &GpuContext, tensor: &GpuTensor) -> Result<Vec<f32>, GpuError> {
    if tensor.kind() != ElementKind::F32 {
        return Err(GpuError::invalid("read_f32", format!("{} is not f32", tensor.describe())));
    }
    let bytes = read_range(ctx, tensor.buffer(), tensor.label(), tensor.offset(), tensor.bytes()).await?;
    Ok(bytemuck::pod_collect_to_vec(&bytes))
}

/// Reads a u32 tensor back.
pub async fn read_u32(ctx: &GpuContext, tensor: &GpuTensor) -> Result<Vec<u32>, GpuError> {
    if tensor.kind() != ElementKind::U32 {
        return Err(GpuError::invalid("read_u32", format!("{} is not u32", tensor.describe())));
    }
    let bytes = read_range(ctx, tensor.buffer(), tensor.label(), tensor.offset(), tensor.bytes()).await?;
    Ok(bytemuck::pod_collect_to_vec(&bytes))
}

/// Starts a readback of the first `size` bytes of `buffer` and returns the future of its contents.
/// The copy is submitted immediately, after all work submitted before it.
pub fn read_bytes(ctx: &GpuContext, buffer: &wgpu::Buffer, label: &str, size: u64) -> impl Future<Output = Result<Vec<u8>, GpuError>> {
    read_range(ctx, buffer, label, 0, size)
}

/// Like [`read_bytes`], from byte `offset` of `buffer`.
pub fn read_range(ctx: &GpuContext, buffer: &wgpu::Buffer, label: &str, offset: u64, size: u64) -> impl Future<Output = Result<Vec<u8>, GpuError>> {
    let started = start(ctx, buffer, label, offset, size);
    let ctx = ctx.clone();
    let label = label.to_owned();
    async move {
        let (staging, receiver) = started?;
        #[cfg(not(target_arch = "wasm32"))]
        ctx.device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| GpuError::Readback { label: label.clone(), message: e.to_string() })?;
        let mapped = receiver.await;
        let result = match mapped {
            Ok(Ok(())) => match staging.get_mapped_range(..) {
                Ok(view) => Ok(view.to_vec()),
                Err(e) => Err(GpuError::Readback { label: label.clone(), message: e.to_string() }),
            },
            Ok(Err(e)) => Err(GpuError::Readback { label: label.clone(), message: e.to_string() }),
            Err(_) => Err(GpuError::Readback { label: label.clone(), message: "the map callback was dropped".into() }),
        };
        staging.unmap();
        staging.destroy();
        // A lost device fails maps with an unhelpful message; report the loss itself.
        ctx.check_alive()?;
        result
    }
}

type MapReceiver = futures_channel::oneshot::Receiver<Result<(), wgpu::BufferAsyncError>>;

fn start(ctx: &GpuContext, buffer: &wgpu::Buffer, label: &str, offset: u64, size: u64) -> Result<(wgpu::Buffer, MapReceiver), GpuError> {
    ctx.check_alive()?;
    if size == 0 || offset.saturating_add(size) > buffer.size() || !size.is_multiple_of(4) || !offset.is_multiple_of(4) {
        return Err(GpuError::Readback { label: label.to_owned(), message: format!("bad size {size} for a {}-byte buffer", buffer.size()) });
    }
    let staging = ctx.device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(&format!("readback {label}")),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
    encoder.copy_buffer_to_buffer(buffer, offset, &staging, 0, size);
    ctx.queue.submit([encoder.finish()]);
    let (sender, receiver) = futures_channel::oneshot::channel();
    staging.map_async(wgpu::MapMode::Read, .., move |result| {
        // The receiver may be gone if the caller dropped the future; nothing to do then.
        sender.send(result).ok();
    });
    Ok((staging, receiver))
}
