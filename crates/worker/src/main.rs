//! Latent Lab's Web Worker (Trunk builds it as a `worker` target; `www/worker.js` loads it). The
//! page's main thread never trains: a sweep's worker builds its share of the members, trains them
//! on the CPU twin and reports by message (`sweep_part`); the engine's worker opens WebGPU (or the
//! CPU twin), holds the models of the page's run and its branches and acts on their calls
//! (`engine_host`); `?bench=matmul` times the engines' products here (`matmul_bench`). Only the
//! browser build has a body.

#[cfg(target_arch = "wasm32")]
mod engine_host;
#[cfg(target_arch = "wasm32")]
mod matmul_bench;
#[cfg(target_arch = "wasm32")]
mod sweep_part;

fn main() {
    #[cfg(target_arch = "wasm32")]
    console_error_panic_hook::set_once();
}
