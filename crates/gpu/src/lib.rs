//! Latent Lab's GPU engine room: the hand-written WGSL kernel set driven through `wgpu`.
//!
//! - [`GpuContext`] finds an adapter (WebGPU in the browser, Vulkan/Metal/DX12 natively) and watches
//!   for device loss and uncaptured errors.
//! - [`Kernels`] compiles every shader of [`shaders::ALL`] into pipelines once.
//! - Each op builder on [`Kernels`] (see [`ops`]) checks shapes and returns a [`Dispatch`]: pipeline,
//!   bind group, uniform block and workgroup counts, all made up front.
//! - A [`Schedule`] is a fixed list of dispatches; replaying it only records commands, so a training
//!   step creates no buffer, bind group or uniform write, and reads nothing back.
//! - [`readback`] brings results home asynchronously (map_async; the browser resolves it when
//!   control returns to the event loop).

pub mod bench;
#[cfg(target_arch = "wasm32")]
mod browser_subgroups;
pub mod context;
pub mod dispatch;
pub mod error;
pub mod gan;
pub mod kernels;
mod matmul_pipelines;
mod net;
pub mod ops;
pub mod params;
pub mod readback;
pub mod shaders;
pub mod tensor;
pub mod vae;
pub mod vae_gan;

pub use context::{AdapterSummary, GpuContext};
pub use dispatch::{Dispatch, Schedule};
pub use error::GpuError;
pub use gan::{GanMetrics, GpuGan};
pub use kernels::{Kernels, MatmulVariant};
pub use tensor::{ElementKind, GpuTensor};
pub use vae::{EvalMetrics, EvalSplit, GpuDataset, GpuVae, LatentCodes, MAX_DECODE_ROWS};
pub use vae_gan::GpuVaeGan;
pub use wgpu;
