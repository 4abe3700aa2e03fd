//! Choosing the engine a run trains on: the GPU engine on a hardware adapter, the CPU twin where
//! there is none or only a software one (which emulates a GPU on the CPU, slower than the twin), or
//! whichever the user insists on. The front ends phrase the reasons.

use latent_gpu::{GpuContext, GpuError, Kernels};

use crate::config::EnginePref;

/// Why a run trains on the CPU twin.
#[derive(Clone, Debug, PartialEq)]
pub enum CpuReason {
    /// The user chose the CPU engine.
    Chosen,
    /// No adapter was found (no WebGPU in this browser, no Vulkan/Metal/DX12 driver natively).
    NoAdapter(GpuError),
    /// The only adapter is a software one, described here; the automatic choice passes it over.
    SoftwareAdapter(String),
    /// The adapter could not compile the kernel set.
    KernelsFailed(GpuError),
}

/// The engine a run trains on, as a front end reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineChoice {
    Gpu { adapter: String, software: bool },
    Cpu(CpuReason),
}

/// Opens the GPU and compiles the kernel set when `pref` allows and it pays; otherwise says why the
/// CPU twin trains instead.
pub async fn open_engine(pref: EnginePref) -> (Option<Kernels>, EngineChoice) {
    if pref == EnginePref::Cpu {
        return (None, EngineChoice::Cpu(CpuReason::Chosen));
    }
    let ctx = match GpuContext::new().await {
        Ok(ctx) => ctx,
        Err(e) => return (None, EngineChoice::Cpu(CpuReason::NoAdapter(e))),
    };
    let summary = ctx.summary().clone();
    if summary.is_software && pref == EnginePref::Auto {
        return (None, EngineChoice::Cpu(CpuReason::SoftwareAdapter(summary.to_string())));
    }
    match Kernels::new(&ctx).await {
        Ok(kernels) => (Some(kernels), EngineChoice::Gpu { adapter: summary.to_string(), software: summary.is_software }),
        Err(e) => (None, EngineChoice::Cpu(CpuReason::KernelsFailed(e))),
    }
}
