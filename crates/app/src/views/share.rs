//! Sharing and teaching: the link to this exact state, an iframe snippet for lesson pages (with
//! the controls the lesson hides or locks), and the run's export as a file.

use latent_session::config::{Knob, LabConfig};
use latent_session::lesson::escape_html;
use latent_session::{run_file, RunFile};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::browser;
use crate::state::{Command, Lab, Notice};

#[component]
pub fn Share(lab: Lab) -> impl IntoView {
    let copied = RwSignal::new(None::<String>);
    let copy = move |_| {
        let url = browser::link_to(&lab.config.with_untracked(LabConfig::to_query));
        spawn_local(async move {
            copied.set(Some(match browser::copy_text(&url).await {
                Ok(()) => "Link copied.".into(),
                Err(_) => format!("Copy this link: {url}"),
            }));
        });
    };
    let snippet = move || {
        let mut config = lab.config.get();
        config.page.embed = true;
        format!(
            "<iframe src=\"{}\" width=\"100%\" height=\"720\" style=\"border:0\" title=\"Latent Lab\" loading=\"lazy\"></iframe>",
            escape_html(&browser::link_to(&config.to_query()))
        )
    };
    let toggle = move |list: fn(&mut LabConfig) -> &mut Vec<String>, key: &'static str, on: bool| {
        lab.config.update(|c| {
            let l = list(c);
            l.retain(|k| k != key);
            if on {
                l.push(key.to_string());
            }
        });
    };
    let lesson_rows = move || {
        Knob::ALL
            .iter()
            .map(|k| k.key())
            .chain(["model", "data", "hidden", "latent", "seed"])
            .map(|key| {
                view! {
                    <tr>
                        <td>{key}</td>
                        <td><input type="checkbox" aria-label=format!("hide {key}") prop:checked=move || lab.config.with(|c| c.hidden_control(key))
                            on:change=move |ev| toggle(|c| &mut c.page.hide, key, event_target_checked(&ev)) /></td>
                        <td><input type="checkbox" aria-label=format!("lock {key}") prop:checked=move || lab.config.with(|c| c.locked_control(key))
                            on:change=move |ev| toggle(|c| &mut c.page.lock, key, event_target_checked(&ev)) /></td>
                    </tr>
                }
            })
            .collect_view()
    };
    // The snippet and its table of controls (two checkboxes and their effects per control) are
    // built when "Embed in a lesson" first opens, not with the page: they were a third of the
    // task that mounts the page's later panels (docs/BENCHMARKS.md). Once built they stay.
    let embed_opened = RwSignal::new(false);
    view! {
        <Show when=move || !lab.config.with(|c| c.hidden_control("share"))>
            <section class="view" id="share-view">
                <h2>"Share and embed"</h2>
                <p>
                    <button id="copy-link" on:click=copy>"Copy link"</button>" "
                    <button id="export-run" on:click=move |_| lab.send(Command::Export)>"Export run"</button>" "
                    <label class="button-like">"Import run…"
                        <input type="file" id="import-run" accept=".json,application/json" class="visually-hidden"
                            on:change=move |ev| {
                                if let Some(file) = browser::chosen_file(&ev) {
                                    spawn_local(import(lab, file));
                                }
                            } />
                    </label>
                    " "<span class="hint" role="status">{move || copied.get()}</span>
                </p>
                <p class="hint">"The link holds every setting and the seed: whoever opens it gets this experiment. The export is a JSON file with the settings, the metric history and the weights (the VAE's encoder and decoder, or the GAN's generator); importing it rebuilds that model and carries on. Nothing is uploaded."</p>
                // `toggle` fires on each change of `open`, and the first is the opening.
                <details id="embed-details" on:toggle=move |_| embed_opened.set(true)>
                    <summary>"Embed in a lesson"</summary>
                    <Show when=move || embed_opened.get()>
                        <p class="hint">"Paste this into your course page. Tick controls to hide or lock for the lesson; the snippet follows."</p>
                        <textarea id="embed-snippet" readonly rows="4">{snippet}</textarea>
                        <table class="lesson">
                            <thead><tr><th>"control"</th><th>"hide"</th><th>"lock"</th></tr></thead>
                            <tbody>{lesson_rows}</tbody>
                        </table>
                    </Show>
                </details>
            </section>
        </Show>
    }
}

/// Reads a run file the user chose; its settings go through the URL's validated path.
async fn import(lab: Lab, file: web_sys::File) {
    let text = match browser::read_text_file(&file, run_file::MAX_BYTES).await {
        Ok(text) => text,
        Err(e) => {
            lab.notice.set(Some(Notice::Problem(e)));
            return;
        }
    };
    match RunFile::parse(&text) {
        Ok((run, config, notes)) => {
            lab.url_notes.set(notes);
            lab.playing.set(false);
            lab.pending_import.set_value(Some(run));
            lab.config.set(config);
            lab.send(Command::Reset);
        }
        Err(e) => lab.notice.set(Some(Notice::Problem(e.to_string()))),
    }
}
