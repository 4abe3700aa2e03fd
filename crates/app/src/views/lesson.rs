//! The lesson panel beside the views (above them on a phone): the card's text, its "try this"
//! buttons, its check with the live numbers it reads, and the way through the cards; and the
//! gallery of built-in lessons, with a teacher's own file.
//!
//! Both are written as markup (every piece of text escaped) with one delegated click handler that
//! reads the button's `data-action`, not as a tree of reactive views: the panel changes only when
//! the card or a tick changes, and a view per button and dot cost the page's module about 20 KB
//! gzipped. Only the live numbers under the check are a reactive text node.

use latent_session::lesson::{escape_html, inline_html, Block, BUILT_IN};
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

use crate::lesson::{self, LessonState, OpenLesson};
use crate::state::Lab;

#[component]
pub fn LessonPanel(lab: Lab) -> impl IntoView {
    let top = move || lab.lesson.with(top_html);
    let bottom = move || lab.lesson.with(bottom_html);
    // The numbers the open card's check reads, live, until it ticks.
    let now = move || {
        let (terms, opened_ms) = lab.lesson.with(|l| match l {
            LessonState::Open(open) if open.reached_here().is_none() => {
                open.lesson.cards[open.card].check.as_ref().map(|c| (c.terms.clone(), open.opened_ms()))
            }
            _ => None,
        })?;
        lab.views.track();
        lab.history.track();
        let readouts = lesson::readouts(lab, opened_ms);
        Some(format!("Now: {}", terms.iter().map(|t| t.describe(&readouts)).collect::<Vec<_>>().join("; ")))
    };
    let shown = move || !lab.lesson.with(|l| matches!(l, LessonState::Closed));
    view! {
        <Show when=shown>
            <aside class="lesson" id="lesson" aria-label="Lesson" data-card=move || lab.lesson.with(|l| match l {
                LessonState::Open(open) => Some(open.card.to_string()),
                _ => None,
            }) on:click=move |ev| on_click(lab, &ev)>
                <div inner_html=top />
                {move || now().map(|text| view! { <p class="hint" id="lesson-now" aria-live="off">{text}</p> })}
                <div inner_html=bottom />
            </aside>
        </Show>
    }
}

/// The panel above the live numbers: the lesson's title and Close, the progress dots, the card's
/// title, text and "try" buttons, and its check with the tick.
fn top_html(state: &LessonState) -> String {
    match state {
        LessonState::Closed => String::new(),
        LessonState::Loading(name) => format!("<p class=\"hint\" role=\"status\">Opening the lesson {}…</p>", escape_html(name)),
        LessonState::Failed(message) => {
            format!(
                "<p id=\"lesson-error\" class=\"banner warn\" role=\"alert\">{}</p><button class=\"link\" data-action=\"close\">Close</button>",
                escape_html(message)
            )
        }
        LessonState::Open(open) => open_html(open),
    }
}

fn open_html(open: &OpenLesson) -> String {
    let lesson = &open.lesson;
    let count = lesson.cards.len();
    let card = &lesson.cards[open.card];
    let mut html = format!(
        "<header><p class=\"lesson-title\">{}</p><button class=\"link\" id=\"lesson-close\" data-action=\"close\">Close</button></header><ol class=\"progress\" aria-label=\"Cards\">",
        escape_html(&lesson.title)
    );
    for (i, c) in lesson.cards.iter().enumerate() {
        let done = open.reached[i].is_some();
        let current = i == open.card;
        html += &format!(
            "<li><button class=\"dot{}{}\" data-action=\"card\" data-card=\"{i}\" aria-label=\"Card {} of {count}: {}{}\"{}>{}</button></li>",
            if current { " current" } else { "" },
            if done { " done" } else { "" },
            i + 1,
            escape_html(&c.title),
            if done { " (reached)" } else { "" },
            if current { " aria-current=\"step\"" } else { "" },
            if done { "✓".to_string() } else { (i + 1).to_string() },
        );
    }
    html += &format!("</ol><h2 id=\"lesson-card-title\" tabindex=\"-1\">{}. {}</h2><div class=\"lesson-body\">", open.card + 1, escape_html(&card.title));
    for block in &card.body {
        match block {
            Block::Paragraph(text) => html += &format!("<p>{}</p>", inline_html(text)),
            Block::List(items) => html += &format!("<ul>{}</ul>", items.iter().map(|i| format!("<li>{}</li>", inline_html(i))).collect::<String>()),
        }
    }
    html += "</div>";
    if !card.tries.is_empty() {
        html += "<div class=\"tries\" role=\"group\" aria-label=\"Try this\">";
        for (i, button) in card.tries.iter().enumerate() {
            html += &format!("<button class=\"try\" data-action=\"try\" data-try=\"{i}\">{}</button>", escape_html(&button.label));
        }
        html += "</div>";
    }
    if let Some(check) = &card.check {
        let reached = open.reached_here();
        html += &format!(
            "<div class=\"goal{}\" id=\"lesson-check\"{}><p><span class=\"tick\" aria-hidden=\"true\">{}</span> <strong>{}</strong></p>",
            if reached.is_some() { " reached" } else { "" },
            reached.map_or(String::new(), |(step, _)| format!(" data-reached=\"{}\"", step.map_or_else(|| "sweep".to_string(), |s| s.to_string()))),
            if reached.is_some() { "✓" } else { "○" },
            escape_html(&check.label),
        );
        if let Some((step, shown)) = reached {
            html += &format!(
                "<p id=\"lesson-reached\" role=\"status\">Reached {}: <span id=\"lesson-reached-readouts\">{}</span></p>",
                step.map_or_else(|| "when the sweep finished".to_string(), |step| format!("at step {step}")),
                escape_html(shown)
            );
        }
        html += "</div>";
    }
    html
}

/// Back and Next under the live numbers.
fn bottom_html(state: &LessonState) -> String {
    let LessonState::Open(open) = state else { return String::new() };
    let count = open.lesson.cards.len();
    let disabled = |off: bool| if off { " disabled" } else { "" };
    format!(
        "<nav class=\"lesson-nav\" aria-label=\"Lesson cards\"><button id=\"lesson-back\" data-action=\"card\" data-card=\"{}\"{}>Back</button><span class=\"hint\">Card {} of {count}</span><button id=\"lesson-next\" data-action=\"card\" data-card=\"{}\"{}>Next</button></nav>",
        open.card.saturating_sub(1),
        disabled(open.card == 0),
        open.card + 1,
        open.card + 1,
        disabled(open.card + 1 == count),
    )
}

/// The button with a `data-action` that a click landed in (or on).
fn clicked_button(ev: &web_sys::MouseEvent) -> Option<web_sys::Element> {
    ev.target()?.dyn_into::<web_sys::Element>().ok()?.closest("button[data-action]").ok().flatten()
}

fn on_click(lab: Lab, ev: &web_sys::MouseEvent) {
    let Some(button) = clicked_button(ev) else { return };
    let number = |name: &str| button.get_attribute(name).and_then(|v| v.parse::<usize>().ok());
    match button.get_attribute("data-action").as_deref() {
        Some("close") => lesson::close(lab),
        Some("card") => {
            if let Some(card) = number("data-card") {
                lesson::go_to(lab, card);
                // The panel was redrawn under the pressed button: keyboard focus moves to the new
                // card's title, which a screen reader then reads.
                leptos::task::spawn_local(async {
                    crate::browser::next_frame().await;
                    let title = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("lesson-card-title"));
                    if let Some(title) = title.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) {
                        title.focus().ok();
                    }
                });
            }
        }
        Some("try") => {
            let button = number("data-try").and_then(|i| {
                lab.lesson.with_untracked(|l| match l {
                    LessonState::Open(open) => open.lesson.cards[open.card].tries.get(i).cloned(),
                    _ => None,
                })
            });
            if let Some(button) = button {
                lesson::press(lab, &button);
            }
        }
        Some("open") => {
            if let Some(name) = button.get_attribute("data-lesson") {
                lesson::open_built_in(lab, &name);
            }
        }
        _ => {}
    }
}

/// The built-in lessons, and a teacher's own file.
#[component]
pub fn LessonGallery(lab: Lab) -> impl IntoView {
    let list: String = BUILT_IN
        .iter()
        .map(|b| {
            format!(
                "<li><button class=\"link\" data-action=\"open\" data-lesson=\"{}\">{}</button> <span class=\"hint\">{}</span></li>",
                b.name,
                escape_html(b.title),
                inline_html(b.summary)
            )
        })
        .collect();
    view! {
        <section class="view" id="lesson-gallery" aria-labelledby="lesson-gallery-title">
            <h2 id="lesson-gallery-title">"Lessons"</h2>
            <ul class="gallery" inner_html=list on:click=move |ev| on_click(lab, &ev) />
            <label class="button-like">"Open a lesson file…"
                <input type="file" id="lesson-file" accept=".md,text/markdown,text/plain" class="visually-hidden"
                    on:change=move |ev| {
                        if let Some(file) = crate::browser::chosen_file(&ev) {
                            lesson::open_file(lab, file);
                        }
                    } />
            </label>
            <p class="hint">"A lesson is a short Markdown file of cards (see the README). Host one beside the page and link to it with "<code>"?lesson=my-lesson.md"</code>"; a file opened here is read in this tab only."</p>
        </section>
    }
}
