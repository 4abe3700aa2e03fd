//! Latent Lab's browser playground (Leptos CSR): a VAE, GAN or VAE-GAN trains live on the visitor's
//! GPU through WebGPU (or on the CPU engine where there is none), every knob acts on the running
//! model, and the whole state lives in the URL.

mod bench;
mod browser;
mod driver;
mod engine;
#[cfg(target_arch = "wasm32")]
mod engine_worker;
mod faults;
mod lesson;
mod lesson_api;
mod state;
mod svg_export;
mod sweep;
mod views;

fn main() {
    console_error_panic_hook::set_once();
    console_log::init_with_level(log::Level::Info).ok();
    // The first mount as a User Timing measure: the state, the driver and the top bar; the rest
    // of the page mounts in the tasks after it (`views::Stage`). The load benchmark,
    // `load_long_tasks_bench`, prints it beside `latent:mount-setup`.
    let _mount = browser::Timed::start("latent:mount");
    match browser::app_root() {
        // The page's plain HTML holds a loading line there until now (www/index.html).
        Some(root) => {
            root.set_text_content(None);
            leptos::mount::mount_to(root, views::App).forget();
        }
        None => leptos::mount::mount_to_body(views::App),
    }
}
