//! Opening WebGPU and choosing the engine: the GPU through WebGPU on a hardware adapter, the CPU
//! engine where there is no adapter or only a software one (unless the URL insists).

use std::rc::Rc;

use latent_gpu::{GpuContext, GpuError, Kernels};
use latent_session::config::EnginePref;

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
            Self::Cpu { .. } => "CPU engine".into(),
        }
    }
}

/// Opens WebGPU and compiles every kernel when `pref` allows; otherwise (or on failure) says why
/// the CPU engine runs instead.
pub async fn open(pref: EnginePref) -> (Option<Rc<Kernels>>, EngineInfo) {
    if pref == EnginePref::Cpu {
        return (None, EngineInfo::Cpu { reason: None });
    }
    let ctx = match GpuContext::new().await {
        Ok(ctx) => ctx,
        Err(e) => {
            // The adapter search's full text is for developers; the banner says what it means.
            log::info!("no WebGPU: {e}");
            let reason = match e {
                GpuError::NoAdapter(_) => "WebGPU is not available in this browser (or it is turned off), so the model trains on the CPU.".to_string(),
                other => format!("WebGPU could not start ({other})."),
            };
            return (None, EngineInfo::Cpu { reason: Some(reason) });
        }
    };
    let summary = ctx.summary().clone();
    if summary.is_software && pref == EnginePref::Auto {
        return (None, EngineInfo::Cpu { reason: Some(format!("The only WebGPU adapter here is a software one ({summary}), which emulates a GPU on the CPU; the CPU engine is used instead. Add engine=webgpu to the link to use it anyway.")) });
    }
    match Kernels::new(&ctx).await {
        Ok(kernels) => {
            let kernels = Rc::new(kernels);
            crate::faults::watch_kernels(&kernels);
            (Some(kernels), EngineInfo::WebGpu { adapter: summary.to_string(), software: summary.is_software })
        }
        Err(e) => (None, EngineInfo::Cpu { reason: Some(format!("The GPU could not compile Latent Lab's kernels: {e}")) }),
    }
}
