//! Latent Lab's GPU engine room: the hand-written WGSL kernel set driven through `wgpu`.
//!
//! - [`GpuContext`] finds an adapter (WebGPU in the browser, Vulkan/Metal/DX12 natively) and watches
//!   for device loss and uncaptured errors.
//! - [`Kernels`] compiles every shader of [`shaders::ALL`] into pipelines once.
//! - Each op builder on [`Kernels`] (see [`ops`]) checks shapes and returns a [`Dispatch`]: pipeline,
//!   bind group, uniform block and workgroup counts, all made up front.
//! - A [`Schedule`] is a fixed list of dispatches; replaying it only records commands, so a training
//!   step creates no buffer, bind group or uniform write, and reads nothing back.
//! - [`GpuVae`] (with or without a discriminator) and [`GpuGan`] are the models compiled into such
//!   schedules; they implement `latent_core::engine`'s `VaeModel` and `GanModel`, as the CPU twin does.
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
mod pipeline;
pub mod readback;
pub mod shader_marks;
pub mod shaders;
mod stacked;
mod state_copy;
pub mod tensor;
pub mod vae;

pub use context::{AdapterSummary, GpuContext};
pub use dispatch::{Dispatch, Schedule, Tuned};
pub use error::GpuError;
pub use gan::{BatchedGan, BatchedGanMember, GpuGan};
pub use kernels::{Kernels, MatmulVariant};
pub use tensor::{ElementKind, GpuTensor};
pub use vae::{BatchedMember, BatchedVae, GpuDataset, GpuRows, GpuVae};
pub use wgpu;
