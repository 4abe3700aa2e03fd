//! The matmul benchmark inside headless Chromium's WebGPU. Not part of the test run: start it with
//! `scripts/bench browser`, which prints the table.
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
