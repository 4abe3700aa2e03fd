//! GPU-vs-CPU kernel checks shared by the native test binary (wgpu over Vulkan, lavapipe in CI) and
//! the browser test binary (WebGPU in headless Chromium).
//!
//! Every check is an `async fn(&Harness) -> Result<(), String>`: the native binary drives it with
//! pollster, the browser binary awaits it inside wasm-bindgen-test. One list, two platforms.

pub mod checks;
pub mod harness;

pub use harness::Harness;
