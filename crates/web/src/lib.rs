//! Browser glue the page and its Web Workers share: fetching the site's own files from whichever
//! global runs the code (a window or a worker), and the MNIST asset inflated by the browser's
//! `DecompressionStream` rather than by an inflater compiled into the module. The browser's zlib
//! is native code and works through the stream in small tasks, so the page's main thread never
//! holds a long task decoding 7.8 MB of digits, and neither module carries miniz_oxide.

use js_sys::{Array, Uint8Array};
use latent_core::data::mnist;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, ReadableWritablePair, Response, Window, WorkerGlobalScope};

// web-sys has the Compression Streams API only behind `--cfg=web_sys_unstable_apis`; the one
// constructor this crate calls, declared here, needs no flag for the whole build.
#[wasm_bindgen]
extern "C" {
    /// The browser's `DecompressionStream` (Baseline since 2023: Chromium 80, Firefox 113, Safari 16.4).
    #[wasm_bindgen(js_name = DecompressionStream)]
    type Decompressor;
    #[wasm_bindgen(constructor, js_class = "DecompressionStream", catch)]
    fn new(format: &str) -> Result<Decompressor, JsValue>;
}

/// Where the MNIST asset sits, relative to the page (and to the workers' script beside it).
pub const MNIST_ASSET: &str = "assets/mnist-10k.bin";

/// A JavaScript error as text: its message, or the value itself.
pub fn js_text(e: JsValue) -> String {
    e.as_string().or_else(|| js_sys::Error::from(e.clone()).message().as_string()).unwrap_or_else(|| format!("{e:?}"))
}

/// The bytes of a same-origin file (relative URLs keep the site working under any path), from a
/// window or a worker.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let global = js_sys::global();
    let request = if let Some(window) = global.dyn_ref::<Window>() {
        window.fetch_with_str(url)
    } else if let Some(worker) = global.dyn_ref::<WorkerGlobalScope>() {
        worker.fetch_with_str(url)
    } else {
        return Err("this context can fetch nothing".into());
    };
    let response: Response = JsFuture::from(request).await.map_err(js_text)?.dyn_into().map_err(|_| "fetch gave no response".to_string())?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = JsFuture::from(response.array_buffer().map_err(js_text)?).await.map_err(js_text)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}

/// The MNIST asset as an inflated copy (`latent_core::data::mnist`'s `LLMNISTR`): its header, then
/// its zlib stream inflated by the browser. The copy is checked (lengths, checksum, labels) where
/// it is read, as the file itself would be.
pub async fn fetch_mnist() -> Result<Vec<u8>, String> {
    let asset = fetch_bytes(MNIST_ASSET).await?;
    let header = mnist::inflated(&asset).ok_or_else(|| format!("{MNIST_ASSET} is not a Latent Lab MNIST file"))?;
    let payload = inflate(&asset[mnist::HEADER_LEN..]).await.map_err(|e| format!("{MNIST_ASSET} would not inflate: {e}"))?;
    let mut copy = Vec::with_capacity(mnist::HEADER_LEN + payload.len());
    copy.extend_from_slice(&header);
    copy.extend_from_slice(&payload);
    Ok(copy)
}

/// A zlib stream (the Compression Streams API's "deflate") inflated by the browser.
async fn inflate(stream: &[u8]) -> Result<Vec<u8>, String> {
    let blob = Blob::new_with_u8_array_sequence(&Array::of1(&Uint8Array::from(stream))).map_err(js_text)?;
    // A DecompressionStream is a readable and writable pair, as pipeThrough takes.
    let decompress: ReadableWritablePair = Decompressor::new("deflate").map_err(js_text)?.unchecked_into();
    let response = Response::new_with_opt_readable_stream(Some(&blob.stream().pipe_through(&decompress))).map_err(js_text)?;
    let buffer = JsFuture::from(response.array_buffer().map_err(js_text)?).await.map_err(js_text)?;
    Ok(Uint8Array::new(&buffer).to_vec())
}
