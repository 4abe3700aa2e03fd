//! The matmul and batched-step benchmarks inside headless Chromium's WebGPU. Not part of the test run: start them with
//! `scripts/bench browser` (or `scripts/bench browser models` for the batched models alone), which
//! prints the tables.
#![cfg(target_arch = "wasm32")]

use latent_gpu::{bench, GpuContext, Kernels};
use wasm_bindgen_test::{console_log, wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn matmul_vae_step() {
    let ctx = GpuContext::new().await.unwrap_or_else(|e| panic!("{e}"));
    let kernels = Kernels::new(&ctx).await.unwrap_or_else(|e| panic!("{e}"));
    console_log!("preferred variant on this adapter: {:?}", kernels.preferred_matmul());
    let table = bench::vae_step_table(&kernels, &kernels.available_matmuls(), 0.5).await.unwrap_or_else(|e| panic!("{e}"));
    console_log!("{table}");
}

/// K = 8 models' products, one dispatch per model against one batched dispatch; then their whole
/// training steps, eight models built apart against one batched model (ring VAE, reference VAE,
/// ring GAN).
#[wasm_bindgen_test]
async fn matmul_models() {
    let ctx = GpuContext::new().await.unwrap_or_else(|e| panic!("{e}"));
    let kernels = Kernels::new(&ctx).await.unwrap_or_else(|e| panic!("{e}"));
    let table = bench::models_table(&kernels, 8, 0.5).await.unwrap_or_else(|e| panic!("{e}"));
    console_log!("{table}");
    let steps = bench::steps_table(&kernels, 8, 0.5).await.unwrap_or_else(|e| panic!("{e}"));
    console_log!("{steps}");
}
