//! Play, pause, single steps and reset; the step and epoch counters, speed, and the engine. Also
//! `#lab-status`, the machine-readable summary the browser tests read.

use latent_session::config::forks::MAX_FORKS;
use latent_session::config::ModelKind;
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

use crate::engine::EngineInfo;
use crate::state::{Command, Lab, Phase};

/// Whether the student opened the reason the CPU engine trains.
#[derive(Clone, Copy)]
struct ReasonOpen(RwSignal<bool>);

#[component]
pub fn TopBar(lab: Lab) -> impl IntoView {
    provide_context(ReasonOpen(RwSignal::new(false)));
    let is_gan = move || lab.config.with(|c| matches!(c.shape.model, ModelKind::Gan));
    let busy = move || matches!(lab.phase.get(), Phase::Starting);
    let toggle = move |_| lab.toggle_play();
    // Space plays and pauses, S steps, unless the user is typing in a field or reading a dialog
    // (an ⓘ panel: the page behind it is inert).
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        let target = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
        let typing = target.as_ref().is_some_and(|e| matches!(e.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA" | "BUTTON"));
        let in_dialog = target.is_some_and(|e| e.closest("dialog[open]").ok().flatten().is_some());
        if typing || in_dialog || ev.ctrl_key() || ev.meta_key() || ev.alt_key() {
            return;
        }
        match ev.key().as_str() {
            " " => {
                ev.prevent_default();
                lab.toggle_play();
            }
            "s" => lab.send(Command::Step),
            _ => {}
        }
    });
    on_cleanup(move || keys.remove());
    let epoch = move || {
        let c = lab.config.get();
        lab.step.get() as f64 * c.shape.batch as f64 / c.data.train_size.max(1) as f64
    };
    let latest = move || lab.latest();
    view! {
        <div class="top-bar" role="toolbar" aria-label="Training">
            <button id="play" class="primary" on:click=toggle title="Play or pause (space bar)" disabled=move || busy() || lab.phase.get() == Phase::Diverged
                aria-label=move || if lab.playing.get() { "Pause" } else { "Play" }>
                {move || if lab.playing.get() { "❚❚ Pause" } else { "▶ Play" }}
            </button>
            <button id="step" on:click=move |_| lab.send(Command::Step) disabled=busy title="Train one step (key S)">"Step"</button>
            {move || is_gan().then(|| view! {
                <button id="step-d" on:click=move |_| lab.send(Command::StepDiscriminator) title="One discriminator step only">"Step D"</button>
                <button id="step-g" on:click=move |_| lab.send(Command::StepGenerator) title="One generator step only">"Step G"</button>
            })}
            <button id="fork" on:click=move |_| lab.send(Command::Fork) disabled=move || busy() || lab.config.with(|c| c.forks.len() >= MAX_FORKS)
                title=move || if lab.config.with(|c| c.forks.len() >= MAX_FORKS) {
                    "Four runs side by side is the most: drop a branch to fork again"
                } else {
                    "Copy the model, its whole training state, into a branch that trains beside it; then change a knob on one of them"
                }>"Fork"</button>
            <button id="reset" on:click=move |_| { lab.notice.set(None); lab.send(Command::Reset); } title="New weights, same settings">"↺ Reset"</button>
            <div class="counters" aria-live="off">
                <span>"step "<b>{move || lab.step.get()}</b></span>
                {move || {
                    let [d, g] = lab.part_steps.get();
                    (is_gan() && d + g > 0).then(|| view! {
                        <span id="part-steps" title="Single D or G steps, which the step counter (rounds of D then G) leaves out">{format!("+ {d} D-only, {g} G-only")}</span>
                    })
                }}
                <span>"epoch "<b>{move || format!("{:.1}", epoch())}</b></span>
                <span><b>{move || format!("{:.1}", lab.steps_per_second.get())}</b>" steps/s"</span>
                <EngineLabel lab=lab />
            </div>
            <FallbackReason lab=lab />
            <output id="lab-status" hidden
                data-state=move || lab.phase.get().key()
                data-engine=move || lab.engine.get().key()
                data-model=move || lab.config.with(|c| c.shape.model.key())
                data-step=move || lab.step.get()
                data-loss=move || latest().map(|p| p.total.to_string()).unwrap_or_default()
                data-kl=move || latest().filter(|_| !is_gan()).map(|p| p.kl.to_string()).unwrap_or_default()
                data-test-loss=move || lab.history.with(|h| h.last_measured(|p| p.test)).map(|v| v.to_string()).unwrap_or_default()
                data-d-accuracy=move || lab.history.with(|h| h.last_measured(|p| p.d_accuracy)).map(|v| v.to_string()).unwrap_or_default()
                data-modes=move || lab.views.with(|v| v.modes.map(|(m, _)| m.to_string())).unwrap_or_default()
                data-gpu-buffers=move || lab.memory.get().gpu_buffers
                data-gpu-bytes=move || lab.memory.get().gpu_bytes
                data-wasm-bytes=move || lab.memory.get().wasm_bytes
                data-steps-per-second=move || lab.steps_per_second.get()
                data-checkpoint=move || lab.checkpoint_step.get().map(|s| s.to_string()).unwrap_or_default()
            ></output>
        </div>
    }
}

/// The engine's name; where the CPU engine trains for lack of WebGPU, marked and with a "why?" that
/// opens the reason. The reason arrives after the first paint (once the adapter request failed): a
/// banner appearing then would push every view down (Lighthouse measured a layout shift of 0.21),
/// so it opens on request, under the bar, and the name's room is kept from the start (style.css).
#[component]
fn EngineLabel(lab: Lab) -> impl IntoView {
    let ReasonOpen(open) = expect_context::<ReasonOpen>();
    let fallback = move || matches!(lab.engine.get(), EngineInfo::Cpu { reason: Some(_) });
    view! {
        <span class="engine" class:fallback=fallback title=move || lab.engine.get().label()>
            {move || lab.engine.get().label()}
        </span>
        // Always there, invisible (and out of the tab order) unless the CPU engine fell back, so
        // its room is kept from the first paint too.
        <button id="engine-why" class="link" class:invisible=move || !fallback() aria-controls="fallback-banner"
            aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>"why?"</button>
    }
}

/// Why the CPU engine trains, once asked.
#[component]
fn FallbackReason(lab: Lab) -> impl IntoView {
    let ReasonOpen(open) = expect_context::<ReasonOpen>();
    move || match lab.engine.get() {
        EngineInfo::Cpu { reason: Some(reason) } if open.get() => Some(view! {
            <div id="fallback-banner" class="banner warn" role="status">
                <strong>"Running on the CPU engine. "</strong>{reason}
                <span class="hint">" Training is slower here; the default model is smaller."</span>
                <button class="link" on:click=move |_| open.set(false)>"Close"</button>
            </div>
        }),
        _ => None,
    }
}
