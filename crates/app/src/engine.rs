//! The engine the page trains on, as the page reports it: its worker opens WebGPU (or not) and
//! says why (`latent_session::hosted::Host::open`); this phrases it for the banner.

use latent_session::config::EnginePref;
use latent_session::hosted::Host;
use latent_session::Opened;

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

impl From<Opened> for EngineInfo {
    fn from(opened: Opened) -> Self {
        match opened {
            Opened::Gpu { adapter, software } => Self::WebGpu { adapter, software },
            Opened::Cpu { reason } => Self::Cpu { reason },
        }
    }
}

/// Starts the engine's worker and opens there the engine `pref` asks for: the worker, and what it
/// opened. Where no worker starts or it does not answer, there is no engine, and the reason.
pub async fn open(pref: EnginePref) -> (Option<Host>, EngineInfo) {
    let Some(host) = crate::driver::engine_worker() else {
        return (None, EngineInfo::Cpu { reason: Some("The engine's worker did not start, so nothing can train here; reload the page.".into()) });
    };
    match host.open(pref).await {
        Ok(opened) => (Some(host), opened.into()),
        Err(e) => (None, EngineInfo::Cpu { reason: Some(format!("The engine's worker did not start ({e}); reload the page.")) }),
    }
}
