//! Starting the GPU engine in the page: adapter, device, every kernel compiled.

use std::rc::Rc;

use latent_gpu::{GpuContext, GpuError, Kernels};
use web_time::Instant;

/// What the page knows about its GPU engine.
#[derive(Clone, Debug, PartialEq)]
pub enum EngineStatus {
    Starting,
    Ready { adapter: String, software: bool, compile_ms: f64 },
    Unavailable(String),
}

/// Opens WebGPU and compiles every kernel. The error text is shown to the user as is.
pub async fn start() -> Result<(Rc<Kernels>, EngineStatus), GpuError> {
    let started = Instant::now();
    let ctx = GpuContext::new().await?;
    let kernels = Kernels::new(&ctx).await?;
    let status = EngineStatus::Ready {
        adapter: ctx.summary().to_string(),
        software: ctx.summary().is_software,
        compile_ms: started.elapsed().as_secs_f64() * 1000.0,
    };
    Ok((Rc::new(kernels), status))
}
