//! Latent Lab's browser playground (Leptos CSR). For now it opens WebGPU, compiles the kernel set
//! and benchmarks it on the visitor's GPU; the training views build on this engine.

mod engine;
mod views;

fn main() {
    console_error_panic_hook::set_once();
    console_log::init_with_level(log::Level::Info).ok();
    leptos::mount::mount_to_body(views::App);
}
