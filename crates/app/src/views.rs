//! The page's components, named for what the user sees.

use std::rc::Rc;

use latent_gpu::{bench, Kernels, MatmulVariant};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::engine::{self, EngineStatus};

#[component]
pub fn App() -> impl IntoView {
    let status = RwSignal::new(EngineStatus::Starting);
    // GPU handles are not Send on wasm: keep them in local storage.
    let kernels = StoredValue::new_local(None::<Rc<Kernels>>);
    spawn_local(async move {
        match engine::start().await {
            Ok((ready, ready_status)) => {
                kernels.set_value(Some(ready));
                status.set(ready_status);
            }
            Err(e) => status.set(EngineStatus::Unavailable(e.to_string())),
        }
    });
    view! {
        <header>
            <h1>"Latent Lab"</h1>
            <p>"Train VAEs and GANs live on your own GPU, and watch what every knob does."</p>
        </header>
        <main>
            <EngineBanner status=status />
            <MatmulBenchmark status=status kernels=kernels />
            <section>
                <h2>"Coming next"</h2>
                <p class="hint">
                    "The models (VAE, GAN, VAE-GAN), their training views and the sliders build on the kernel set this page just compiled."
                </p>
            </section>
        </main>
    }
}

/// Which GPU the page runs on, or why it cannot.
#[component]
fn EngineBanner(status: RwSignal<EngineStatus>) -> impl IntoView {
    move || match status.get() {
        EngineStatus::Starting => view! { <section><h2>"Engine"</h2><p>"Starting WebGPU…"</p></section> }.into_any(),
        EngineStatus::Ready { adapter, software, compile_ms } => view! {
            <section>
                <h2>"Engine"</h2>
                <p class="status-ok">{format!("WebGPU ready on {adapter}")}</p>
                <p class="hint">
                    {format!("{} kernels compiled in {compile_ms:.0} ms.", latent_gpu::shaders::ALL.len())}
                    {software.then_some(" This is a software adapter (the GPU is emulated on the CPU), so expect it to be slow.")}
                </p>
            </section>
        }
        .into_any(),
        EngineStatus::Unavailable(reason) => view! {
            <section class="banner" role="alert">
                <h2>"WebGPU is not available"</h2>
                <p>{reason}</p>
                <p class="hint">"Latent Lab needs WebGPU: a recent Chrome or Edge, Safari 26, or Firefox 141 and later."</p>
            </section>
        }
        .into_any(),
    }
}

/// Times the matmul kernels on the visitor's GPU.
#[component]
fn MatmulBenchmark(status: RwSignal<EngineStatus>, kernels: StoredValue<Option<Rc<Kernels>>, LocalStorage>) -> impl IntoView {
    let running = RwSignal::new(false);
    let table = RwSignal::new(None::<String>);
    let ready = move || matches!(status.get(), EngineStatus::Ready { .. });
    let run = move |_| {
        let Some(kernels) = kernels.get_value() else { return };
        running.set(true);
        table.set(Some("Measuring… (a few seconds per product and kernel)".into()));
        spawn_local(async move {
            let result = bench::vae_step_table(&kernels, &MatmulVariant::ALL, 0.3).await;
            table.set(Some(result.unwrap_or_else(|e| format!("Benchmark failed: {e}"))));
            running.set(false);
        });
    };
    view! {
        <section>
            <h2>"Matmul speed on this GPU"</h2>
            <p class="hint">"GFLOP/s for the products of one step of a 784-400-20 VAE at batch 128, per kernel variant."</p>
            <button on:click=run disabled=move || !ready() || running.get()>"Run benchmark"</button>
            {move || table.get().map(|t| view! { <pre>{t}</pre> })}
        </section>
    }
}
