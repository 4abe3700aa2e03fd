//! The engine the page trains on, as the page reports it: the session opens WebGPU (or not) and
//! says why; this phrases it for the banner and hands the kernels to the fault hooks.

use std::rc::Rc;

use latent_gpu::{GpuError, Kernels};
use latent_session::config::EnginePref;
use latent_session::{open_engine, CpuReason, EngineChoice};

/// Which engine trains, and why; the page shows this.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineInfo {
    Starting,
    WebGpu {
        adapter: String,
        software: bool,
    },
    /// The CPU engine, and the reason the GPU is not used (`None`: the user chose it).
    Cpu {
        reason: Option<String>,
    },
}

impl EngineInfo {
    /// The `data-engine` value the page reports.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Starting => "starting",
            Self::WebGpu { .. } => "webgpu",
            Self::Cpu { .. } => "cpu",
        }
    }

    pub fn label(&self) -> String {
        match self {
            Self::Starting => "starting…".into(),
            Self::WebGpu { adapter, .. } => format!("WebGPU · {adapter}"),
            // The worker's relaxed-SIMD build (start.js picks it where the browser runs it).
            Self::Cpu { .. } if crate::browser::worker_build() == "relaxed-simd" => "CPU engine · relaxed SIMD".into(),
            Self::Cpu { .. } => "CPU engine".into(),
        }
    }
}

/// The banner's words for why the CPU engine trains.
fn reason(reason: CpuReason) -> Option<String> {
    match reason {
        CpuReason::Chosen => None,
        CpuReason::NoAdapter(e) => {
            // The adapter search's full text is for developers; the banner says what it means.
            log::info!("no WebGPU: {e}");
            Some(match e {
                GpuError::NoAdapter(_) => "WebGPU is not available in this browser (or it is turned off), so the model trains on the CPU.".to_string(),
                other => format!("WebGPU could not start ({other})."),
            })
        }
        CpuReason::SoftwareAdapter(summary) => Some(format!(
            "The only WebGPU adapter here is a software one ({summary}), which emulates a GPU on the CPU; the CPU engine is used instead. Add engine=webgpu to the link to use it anyway."
        )),
        CpuReason::KernelsFailed(e) => Some(format!("The GPU could not compile Latent Lab's kernels: {e}")),
    }
}

/// Opens the engine `pref` asks for; the kernels are watched by the fault hooks (in test builds).
pub async fn open(pref: EnginePref) -> (Option<Rc<Kernels>>, EngineInfo) {
    let (kernels, choice) = open_engine(pref).await;
    let kernels = kernels.map(Rc::new);
    if let Some(kernels) = &kernels {
        crate::faults::watch_kernels(kernels);
    }
    let info = match choice {
        EngineChoice::Gpu { adapter, software } => EngineInfo::WebGpu { adapter, software },
        EngineChoice::Cpu(why) => EngineInfo::Cpu { reason: reason(why) },
    };
    (kernels, info)
}
