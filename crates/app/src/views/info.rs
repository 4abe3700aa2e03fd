//! The ⓘ beside every view and knob, and the one dialog they open: the formula, what the number
//! on screen includes, and the kernel lines that compute it (`latent_session::explain`).
//!
//! Kept small on purpose (each Leptos view costs kilobytes of module): the dialog is static
//! markup in `www/index.html` (its Close is a `method="dialog"` form, so it needs no handler), the
//! buttons are plain markup naming their topic (`data-info`), and one click listener on the window
//! fills and opens the dialog for whichever was pressed. The dialog is modal (`showModal`: focus
//! moves in, Escape closes, the page behind is inert) and gives focus back to its button when it
//! closes, however it closes.

use latent_session::explain::topic;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlDialogElement, HtmlElement};

use crate::engine::EngineInfo;
use crate::state::Lab;

/// The dialog and the element its panel is written into, in `www/index.html`.
const DIALOG: &str = "info-dialog";
const CONTENT: &str = "info-content";

/// The ⓘ for topic `key` (see `latent_session::explain::TOPICS`). Not generic over the key's
/// source, so the page holds one instantiation of it.
pub(super) fn info_button(key: Signal<&'static str>) -> impl IntoView {
    let label = move || format!("About {}: formula and kernel", topic(key.get()).map_or("this view", |t| t.title));
    view! { <button type="button" class="info" data-info=key aria-label=label aria-haspopup="dialog">"i"</button> }
}

/// Opens the dialog on any ⓘ click, for as long as the page lives.
pub(super) fn listen(lab: Lab) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    let (Some(dialog), Some(content)) =
        (document.get_element_by_id(DIALOG).and_then(|d| d.dyn_into::<HtmlDialogElement>().ok()), document.get_element_by_id(CONTENT))
    else {
        log::warn!("the page has no #{DIALOG}: the ⓘ buttons do nothing");
        return;
    };
    let opener = StoredValue::new_local(None::<HtmlElement>);
    let on_close = Closure::<dyn Fn()>::new(move || {
        if let Some(button) = opener.get_value() {
            let _ = button.focus();
        }
    });
    if dialog.add_event_listener_with_callback("close", on_close.as_ref().unchecked_ref()).is_ok() {
        on_close.forget();
    }
    let clicks = window_event_listener(leptos::ev::click, move |ev| {
        let Some(target) = ev.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        // A click on the dialog itself (not its content) is a click on the backdrop.
        if target.id() == DIALOG {
            dialog.close();
            return;
        }
        let Some(button) = target.closest("button[data-info]").ok().flatten() else { return };
        let Some(topic) = button.get_attribute("data-info").as_deref().and_then(topic) else { return };
        let on_gpu = lab.engine.with_untracked(|e| matches!(e, EngineInfo::WebGpu { .. }));
        content.set_inner_html(&topic.to_html(on_gpu));
        opener.set_value(button.dyn_into::<HtmlElement>().ok());
        if !dialog.open() {
            if let Err(e) = dialog.show_modal() {
                log::warn!("the ⓘ dialog did not open: {e:?}");
            }
        }
    });
    // The listener lives as long as the page.
    std::mem::forget(clicks);
}
