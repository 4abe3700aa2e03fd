//! The few browser services the page needs, as small async-friendly functions: animation frames,
//! the URL, the clipboard and downloads (fetching lives in `latent-web`, shared with the workers).
//! Failures come back as text to show.

use js_sys::{Promise, Uint8Array};
use latent_session::lesson::bytes_text;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

fn window() -> Result<web_sys::Window, String> {
    web_sys::window().ok_or_else(|| "no browser window".to_string())
}

fn document() -> Option<web_sys::Document> {
    web_sys::window()?.document()
}

pub use latent_web::js_text;

/// Resolves at the next animation frame. A hidden tab gets none, so a loop awaiting this pauses
/// by itself there and resumes when the tab is shown again.
pub async fn next_frame() {
    let Ok(window) = window() else { return };
    let frame = Promise::new(&mut |resolve, _reject| {
        window.request_animation_frame(&resolve).ok();
    });
    JsFuture::from(frame).await.ok();
}

/// The driver yields here between a frame's training and its pictures (and between the other
/// parts it names), so each is a task of its own instead of one long one that holds the page.
pub use latent_web::yield_to_page;

/// [`yield_to_page`] as the session's runs take a pause between the parts of a step.
pub fn pause() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>> {
    Box::pin(yield_to_page())
}

/// The element the app mounts into (`#app` in www/index.html), if the page has one.
pub fn app_root() -> Option<web_sys::HtmlElement> {
    document()?.get_element_by_id("app")?.dyn_into().ok()
}

/// Removes the page's plain-HTML header: an embedded playground shows none (the lesson around it
/// has its own title).
pub fn remove_site_header() {
    if let Some(header) = document().and_then(|d| d.get_element_by_id("site-header")) {
        header.remove();
    }
}

/// The page's query string (with its `?`).
pub fn query() -> String {
    window().ok().and_then(|w| w.location().search().ok()).unwrap_or_default()
}

/// Replaces the query without a reload or a history entry, so the address bar holds a link to the
/// current state (callers debounce it: browsers throttle `replaceState` called on every input).
pub fn replace_query(query: &str) {
    let Ok(window) = window() else { return };
    let path = window.location().pathname().unwrap_or_default();
    window.history().ok().map(|h| h.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}?{query}"))));
}

/// This page's address with `query` as its state. Links are built from the state itself, never
/// read back from the address bar, which is rewritten only a moment after the last change.
pub fn link_to(query: &str) -> String {
    let Ok(window) = window() else { return String::new() };
    let location = window.location();
    format!("{}{}?{query}", location.origin().unwrap_or_default(), location.pathname().unwrap_or_default())
}

/// Copies text to the clipboard (it may be refused, e.g. in an iframe without permission).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let clipboard = window()?.navigator().clipboard();
    JsFuture::from(clipboard.write_text(text)).await.map(|_| ()).map_err(js_text)
}

/// Offers `bytes` as a file download named `name`; nothing leaves the browser.
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let url = object_url(bytes, mime)?;
    save_url(name, &url);
    web_sys::Url::revoke_object_url(&url).ok();
    Ok(())
}

/// A `blob:` URL for `bytes` of type `mime` (the caller revokes it).
pub fn object_url(bytes: &[u8], mime: &str) -> Result<String, String> {
    let array = Uint8Array::from(bytes);
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_text)?;
    web_sys::Url::create_object_url_with_blob(&blob).map_err(js_text)
}

/// Offers a canvas's picture as a PNG download.
pub fn download_canvas(name: &str, canvas: &web_sys::HtmlCanvasElement) -> Result<(), String> {
    let url = canvas.to_data_url_with_type("image/png").map_err(js_text)?;
    save_url(name, &url);
    Ok(())
}

fn save_url(name: &str, url: &str) {
    let Some(document) = document() else { return };
    let Ok(anchor) = document.create_element("a") else { return };
    let Ok(anchor) = anchor.dyn_into::<web_sys::HtmlAnchorElement>() else { return };
    anchor.set_href(url);
    anchor.set_download(name);
    anchor.click();
}

/// The workers' loader script, beside the page.
const WORKER_SCRIPT: &str = "./worker.js";
/// The build this page's workers run, as start.js picked it for this browser before the app
/// started (`<html data-worker-build>`): "relaxed-simd" where the browser runs relaxed SIMD, else
/// "portable" (also where nothing picked: `scripts/serve`, the copy with fault hooks). A worker's
/// name picks its build in `worker.js`.
pub fn worker_build() -> &'static str {
    let picked = document().and_then(|d| d.document_element()).and_then(|html| html.get_attribute("data-worker-build"));
    if picked.as_deref() == Some("relaxed-simd") {
        "relaxed-simd"
    } else {
        "portable"
    }
}

/// A Web Worker running the `latent-worker` build (a sweep's share, or the CPU engine).
pub fn spawn_worker() -> Result<web_sys::Worker, String> {
    let options = web_sys::WorkerOptions::new();
    options.set_name(worker_build());
    web_sys::Worker::new_with_options(WORKER_SCRIPT, &options).map_err(js_text)
}

/// Logical cores the browser reports (1 where it does not say).
pub fn cores() -> usize {
    window().map_or(1, |w| w.navigator().hardware_concurrency() as usize).max(1)
}

/// Milliseconds since the page started (monotonic).
pub fn now_ms() -> f64 {
    performance().map_or(0.0, |p| p.now())
}

/// A phase of the page's work as a User Timing measure (named `latent:<phase>`), from its making
/// to its drop: the browser's performance tools show it beside the tasks, and the load and
/// training benchmarks (a `PerformanceObserver`) read which phase a long task was. The buffer
/// keeps only the latest of each name, so a lecture-long session does not fill it.
pub struct Timed(&'static str);

impl Timed {
    /// `name` is the measure's whole name, `latent:` and all (its start mark has the same name).
    pub fn start(name: &'static str) -> Self {
        performance().map(|p| p.mark(name));
        Self(name)
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        let Some(performance) = performance() else { return };
        performance.clear_measures_with_measure_name(self.0);
        performance.measure_with_start_mark(self.0, self.0).ok();
        performance.clear_marks_with_mark_name(self.0);
    }
}

fn performance() -> Option<web_sys::Performance> {
    window().ok()?.performance()
}

/// Bytes of this module's WebAssembly memory (it only grows: a leak shows as steady growth).
pub fn wasm_memory_bytes() -> u64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .ok()
        .and_then(|memory| memory.buffer().dyn_into::<js_sys::ArrayBuffer>().ok())
        .map_or(0, |buffer| u64::from(buffer.byte_length()))
}

/// The text of a file the user chose, refused with a message above `max_bytes`.
pub async fn read_text_file(file: &web_sys::File, max_bytes: usize) -> Result<String, String> {
    if file.size() > max_bytes as f64 {
        return Err(format!("This file is {}; at most {} are read.", bytes_text(file.size() as usize), bytes_text(max_bytes)));
    }
    match JsFuture::from(file.text()).await {
        Ok(text) => Ok(text.as_string().unwrap_or_default()),
        Err(_) => Err("The file could not be read.".into()),
    }
}

/// The file chosen in the `<input type=file>` an event came from.
pub fn chosen_file(ev: &web_sys::Event) -> Option<web_sys::File> {
    ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?.files()?.get(0)
}
