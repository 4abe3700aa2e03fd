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

/// The engine a host opened, as a page reports it (the banner's words): what crosses from the
/// page's engine worker, which opens the GPU, to the page, which builds no GPU model itself.
#[derive(Clone, Debug, PartialEq)]
pub enum Opened {
    Gpu {
        adapter: String,
        software: bool,
    },
    /// The CPU twin, and why the GPU is not used (`None`: the user chose it).
    Cpu {
        reason: Option<String>,
    },
}

impl From<EngineChoice> for Opened {
    fn from(choice: EngineChoice) -> Self {
        match choice {
            EngineChoice::Gpu { adapter, software } => Self::Gpu { adapter, software },
            EngineChoice::Cpu(why) => Self::Cpu { reason: why.explained() },
        }
    }
}

impl CpuReason {
    /// What the page's banner says of it (`None` when the user chose the CPU).
    pub fn explained(&self) -> Option<String> {
        match self {
            Self::Chosen => None,
            // The adapter search's full text is for developers; the banner says what it means.
            Self::NoAdapter(GpuError::NoAdapter(_)) => Some("WebGPU is not available in this browser (or it is turned off), so the model trains on the CPU.".to_string()),
            Self::NoAdapter(other) => Some(format!("WebGPU could not start ({other}).")),
            Self::SoftwareAdapter(summary) => Some(format!(
                "The only WebGPU adapter here is a software one ({summary}), which emulates a GPU on the CPU; the CPU engine is used instead. Add engine=webgpu to the link to use it anyway."
            )),
            Self::KernelsFailed(e) => Some(format!("The GPU could not compile Latent Lab's kernels: {e}")),
        }
    }
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
