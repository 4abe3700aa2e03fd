//! Latent Lab's Web Worker (Trunk builds it as a `worker` target; `www/sweep-worker.js` loads it).
//! The page's main thread never trains a sweep: each worker builds its share of the members on the
//! CPU engine, trains them and reports by message. Only the browser build has a body.

#[cfg(target_arch = "wasm32")]
mod sweep_part;

fn main() {
    #[cfg(target_arch = "wasm32")]
    console_error_panic_hook::set_once();
}
