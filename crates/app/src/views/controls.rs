//! The control panel: data, model shape, and the knob sliders. Shape edits go through the same
//! validated path as the URL (the edit is applied to the config's query and parsed back), so a
//! typed width of 10⁹ is clamped and noted exactly as a link's would be. Knobs act on the running
//! model; shape changes rebuild it. A lesson's `hide` and `lock` lists hide or disable controls.

use latent_session::config::layers::LayerEdit;
use latent_session::config::{round_sig, Dataset, EnginePref, Knob, LabConfig, ModelKind, PageConfig, ACTIVATIONS, MAX_LAYERS};
use leptos::prelude::*;

use super::info::info_button;
use crate::state::Lab;

/// Applies `key=value` to the config through the URL parser; its notes (clamps, refusals) show.
pub(super) fn set_param(lab: Lab, key: &str, value: &str) {
    let query = format!("{}&{key}={value}", lab.config.with_untracked(LabConfig::to_query));
    let (config, notes) = LabConfig::from_query(&query);
    lab.url_notes.set(notes);
    lab.notice.set(None);
    lab.config.set(config);
}

/// Switches model or dataset: that pair's defaults, keeping the seed, engine and lesson settings.
fn switch(lab: Lab, model: ModelKind, dataset: Dataset) {
    let old = lab.config.get_untracked();
    let mut config = LabConfig::defaults_for(model, dataset);
    config.shape.seed = old.shape.seed;
    config.engine = old.engine;
    config.page = PageConfig { embed: old.page.embed, hide: old.page.hide, lock: old.page.lock, lesson: old.page.lesson, ..PageConfig::default() };
    let moved = config.check_model_fits_data();
    let on_cpu = lab.engine.with_untracked(|e| matches!(e, crate::engine::EngineInfo::Cpu { reason: Some(_) }));
    if on_cpu {
        lab.apply_cpu_defaults(&mut config);
    } else {
        lab.defaults_note.set(None);
    }
    lab.url_notes.set(moved.into_iter().collect());
    lab.notice.set(None);
    lab.config.set(config);
}

#[component]
pub fn Controls(lab: Lab) -> impl IntoView {
    let shown = move |key: &'static str| move || !lab.config.with(|c| c.hidden_control(key));
    let locked = move |key: &'static str| move || lab.config.with(|c| c.locked_control(key));
    let is_2d = move || lab.config.with(|c| c.data.dataset.is_2d());
    view! {
        <section class="controls" aria-label="Settings">
            <fieldset>
                <legend>"Data"</legend>
                <Show when=shown("data")>
                    <label class="field">"Dataset"
                        <select id="data" disabled=locked("data") on:change=move |ev| {
                            if let Some(d) = Dataset::from_key(&event_target_value(&ev)) {
                                let model = lab.config.with_untracked(|c| c.shape.model);
                                switch(lab, model, d);
                            }
                        }>
                            {Dataset::all().map(|d| view! {
                                <option value=d.key() selected=move || lab.config.with(|c| c.data.dataset == d)>{d.name()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=shown("train")>
                    <NumberField lab=lab key="train" label="Training examples" locked=locked("train") value=move || lab.config.with(|c| c.data.train_size.to_string()) />
                </Show>
                <Show when=move || is_2d() && shown("noise")()>
                    <label class="field">{move || format!("Noise σ {}", lab.config.with(|c| round_sig(c.data.noise, 2)))}
                        <input type="range" id="noise" min="0" max="50" step="1" disabled=locked("noise")
                            aria-valuetext=move || format!("Noise σ {}", lab.config.with(|c| round_sig(c.data.noise, 2)))
                            prop:value=move || lab.config.with(|c| (c.data.noise * 100.0).round().to_string())
                            on:change=move |ev| set_param(lab, "noise", &(event_target_value(&ev).parse::<f32>().unwrap_or(5.0) / 100.0).to_string()) />
                    </label>
                </Show>
                <Show when=shown("seed")>
                    <NumberField lab=lab key="seed" label="Seed" locked=locked("seed") value=move || lab.config.with(|c| c.shape.seed.to_string()) />
                </Show>
            </fieldset>
            <fieldset>
                <legend>"Model"</legend>
                <Show when=shown("model")>
                    <div class="segmented" role="radiogroup" aria-label="Model">
                        {ModelKind::ALL.into_iter().map(|m| view! {
                            <button id=format!("model-{}", m.key()) role="radio" disabled=locked("model")
                                aria-checked=move || lab.config.with(|c| (c.shape.model == m).to_string())
                                class:active=move || lab.config.with(|c| c.shape.model == m)
                                on:click=move |_| {
                                    let dataset = lab.config.with_untracked(|c| c.data.dataset);
                                    switch(lab, m, dataset);
                                }>{m.name()}</button>
                        }).collect_view()}
                    </div>
                </Show>
                <Show when=shown("hidden")>
                    <HiddenLayers lab=lab locked=locked("hidden") />
                </Show>
                <Show when=shown("activation")>
                    <label class="field">
                        <span class="field-head">"Activation"{info_button(Signal::stored("activation"))}</span>
                        <select id="activation" disabled=locked("activation") on:change=move |ev| set_param(lab, "activation", &event_target_value(&ev))>
                            {ACTIVATIONS.into_iter().map(|a| view! {
                                <option value=a.name() selected=move || lab.config.with(|c| c.shape.activation == a)>{a.name()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=shown("latent")>
                    <NumberField lab=lab key="latent" label="Latent size" locked=locked("latent") value=move || lab.config.with(|c| c.shape.latent.to_string()) />
                </Show>
                // What shrank as a list: a line each reads faster than one long sentence.
                {move || lab.defaults_note.get().map(|changes| view! {
                    <div class="hint" id="defaults-note">
                        <p>"On the CPU engine the defaults are smaller, so training stays live:"</p>
                        <ul>{changes.into_iter().map(|change| view! { <li>{change}</li> }).collect_view()}</ul>
                        <p>"Change any of them here."</p>
                    </div>
                })}
            </fieldset>
            <fieldset>
                <legend>"Training"</legend>
                {Knob::ALL.into_iter().map(|knob| view! { <KnobSlider lab=lab knob=knob /> }).collect_view()}
                <Show when=move || shown("early")() && lab.config.with(|c| c.shape.model.has_encoder())>
                    <div class="check">
                        <input type="checkbox" id="early" disabled=locked("early") prop:checked=move || lab.config.with(|c| c.early_stopping)
                            aria-describedby="early-note"
                            on:change=move |ev| { let on = event_target_checked(&ev); lab.config.update(|c| c.early_stopping = on); } />
                        <label for="early">"Early stopping"</label>{info_button(Signal::stored("early"))}
                        <small id="early-note">"stops when the held-out loss has not improved for 5 evaluations, and restores the best weights."</small>
                    </div>
                </Show>
                <Show when=shown("engine")>
                    <label class="field">"Engine"
                        <select id="engine" disabled=locked("engine") on:change=move |ev| set_param(lab, "engine", &event_target_value(&ev))>
                            {EnginePref::ALL.into_iter().map(|e| view! {
                                <option value=e.key() selected=move || lab.config.with(|c| c.engine == e)>{match e {
                                    EnginePref::Auto => "automatic",
                                    EnginePref::WebGpu => "WebGPU",
                                    EnginePref::Cpu => "CPU",
                                }}</option>
                            }).collect_view()}
                        </select>
                    </label>
                </Show>
            </fieldset>
        </section>
    }
}

/// A number input whose edits go through the validated path on change.
#[component]
fn NumberField(
    lab: Lab,
    key: &'static str,
    label: &'static str,
    locked: impl Fn() -> bool + Send + Sync + 'static,
    value: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <label class="field">{label}
            <input type="number" id=key inputmode="numeric" disabled=locked prop:value=value
                on:change=move |ev| set_param(lab, key, &event_target_value(&ev)) />
        </label>
    }
}

/// Hidden layers: one width per layer, add and remove. Each control names its layer by position;
/// [`LayerEdit`] drops an edit whose layer is gone by the time it fires.
#[component]
fn HiddenLayers(lab: Lab, locked: impl Fn() -> bool + Send + Sync + Copy + 'static) -> impl IntoView {
    let edit = move |edit: LayerEdit| {
        if let Some(widths) = edit.apply(&lab.config.with_untracked(|c| c.shape.hidden.clone())) {
            set_param(lab, "hidden", &widths.iter().map(ToString::to_string).collect::<Vec<_>>().join(","));
        }
    };
    let layers = move || lab.config.with(|c| c.shape.hidden.clone());
    let full = move || locked() || layers().len() >= MAX_LAYERS;
    view! {
        <div class="field layers">
            <span>"Hidden layers"</span>
            {move || layers().into_iter().enumerate().map(|(index, w)| view! {
                <span class="layer">
                    <input type="number" min="1" max="1024" aria-label=format!("width of hidden layer {}", index + 1) disabled=locked
                        prop:value=w.to_string()
                        on:change=move |ev| {
                            let width = event_target_value(&ev).trim().parse::<f64>().map_or(w, |v| v.clamp(1.0, 1e9) as usize);
                            edit(LayerEdit::Width { index, width });
                        } />
                    <button class="icon" aria-label=format!("remove hidden layer {}", index + 1) disabled=move || locked() || layers().len() <= 1
                        on:click=move |_| edit(LayerEdit::Remove { index })>"×"</button>
                </span>
            }).collect_view()}
            <button class="icon" id="add-layer" aria-label="add a hidden layer" disabled=full
                on:click=move |_| edit(LayerEdit::Add)>"+ layer"</button>
        </div>
    }
}

/// One knob: label, value, ⓘ, slider (log scales keep 0 at the left end) and its formula. The ⓘ
/// sits outside the `<label>`, which would otherwise read it into the slider's name.
#[component]
fn KnobSlider(lab: Lab, knob: Knob) -> impl IntoView {
    let scale = knob.scale();
    let visible = move || lab.config.with(|c| knob.applies_to(c) && !c.hidden_control(knob.key()));
    let locked = move || lab.config.with(|c| c.locked_control(knob.key()));
    let value = move || lab.config.with(|c| knob.get(c));
    let id = format!("knob-{}", knob.key());
    let note = format!("knob-{}-note", knob.key());
    view! {
        <Show when=visible>
            <div class="knob" class:locked=locked>
                <span class="knob-head">
                    <label for=id.clone()>{knob.label()}</label>
                    <output for=id.clone()>{move || knob.format(value())}</output>
                    {info_button(Signal::stored(knob.key()))}
                </span>
                <input type="range" id=id.clone() aria-describedby=note.clone() min="0" max=scale.positions().to_string() step="1"
                    disabled=locked aria-valuetext=move || format!("{} {}", knob.label(), knob.format(value()))
                    prop:value=move || scale.position_of(value()).to_string()
                    on:input=move |ev| {
                        let position = event_target_value(&ev).parse::<u32>().unwrap_or(0);
                        let v = round_sig(scale.value_at(position), 3);
                        lab.config.update(|c| knob.set(c, v));
                    } />
                <small id=note.clone()>{move || knob.explanation(lab.config.with(|c| c.shape.model))}</small>
            </div>
        </Show>
    }
}
