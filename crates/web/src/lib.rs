//! Browser glue the page and its Web Workers share: fetching the site's own files from whichever
//! global runs the code (a window or a worker), and the MNIST asset inflated by the browser's
//! `DecompressionStream` rather than by an inflater compiled into the module. The browser's zlib
//! is native code, read a piece at a time so the page's main thread never holds a long task
//! decoding 7.8 MB of digits, and neither module carries miniz_oxide.

use js_sys::Uint8Array;
use latent_core::data::mnist::{self, Mnist, PayloadCrc};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult, ReadableWritablePair, Response, Window, WorkerGlobalScope};

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

/// The MNIST digits: the asset fetched, its zlib stream inflated by the browser and checksummed
/// a piece at a time as it comes, then checked (lengths, checksum, labels) as the file itself
/// would be.
pub async fn fetch_mnist() -> Result<Mnist, String> {
    let asset = fetch_bytes(MNIST_ASSET).await?;
    let (header, payload_len) = mnist::inflated(&asset).map_err(|e| format!("{MNIST_ASSET}: {e}"))?;
    let mut payload = Vec::with_capacity(payload_len);
    let crc = inflate(&asset[mnist::HEADER_LEN..], &mut payload).await.map_err(|e| format!("{MNIST_ASSET} would not inflate: {e}"))?;
    Mnist::from_payload(&header, payload, crc).map_err(|e| e.to_string())
}

/// A message of three parts as the page and its CPU worker post them (`latent_session::hosted`'s
/// numbers, text and floats): an array of a `Float64Array`, a string and a `Float32Array`, and the
/// list of the two buffers to transfer with it (moved, not copied).
pub fn message_parts(numbers: &[f64], text: &str, floats: &[f32]) -> (js_sys::Array, js_sys::Array) {
    let numbers = js_sys::Float64Array::from(numbers);
    let floats = js_sys::Float32Array::from(floats);
    let transfer = js_sys::Array::of2(&numbers.buffer(), &floats.buffer());
    (js_sys::Array::of3(&numbers, &JsValue::from_str(text), &floats), transfer)
}

/// The three parts of a message [`message_parts`] made; `None` for anything else.
pub fn read_message_parts(data: &JsValue) -> Option<(Vec<f64>, String, Vec<f32>)> {
    let parts = data.dyn_ref::<js_sys::Array>()?;
    let numbers = parts.get(0).dyn_into::<js_sys::Float64Array>().ok()?.to_vec();
    let text = parts.get(1).as_string()?;
    let floats = parts.get(2).dyn_into::<js_sys::Float32Array>().ok()?.to_vec();
    Some((numbers, text, floats))
}

/// Resolves in a new task (a zero-delay timer), after the browser has had its turn: input,
/// rendering, whatever else is queued. Long work on a page awaits this between its parts so that
/// each is a task of its own. Outside a window (a worker) it resolves at once.
pub async fn yield_to_page() {
    let Ok(window) = js_sys::global().dyn_into::<Window>() else { return };
    let timer = js_sys::Promise::new(&mut |resolve, _| {
        window.set_timeout_with_callback(&resolve).ok();
    });
    JsFuture::from(timer).await.ok();
}

/// Work between two breaks while a page inflates (ms).
const INFLATE_SLICE_MS: f64 = 8.0;
/// Compressed bytes handed to the browser's inflater at a time.
const INFLATE_PIECE: usize = 64 * 1024;

/// A zlib stream (the Compression Streams API's "deflate") inflated by the browser onto the end
/// of `into`, up to its capacity and no further (a stream that inflates past it is refused);
/// returns the inflated bytes' CRC-32. The stream is written in pieces and inflates
/// only as it is read, so a page reads (and checksums) it a piece at a time and gives the browser
/// its turn every few milliseconds: handed over whole, then checked, it was two tasks of about
/// 20 ms each (80 ms on a phone's slower CPU). A worker has no page to keep responsive.
async fn inflate(stream: &[u8], into: &mut Vec<u8>) -> Result<u32, String> {
    // A DecompressionStream is a readable and writable pair, as pipeThrough takes.
    let decompress: ReadableWritablePair = Decompressor::new("deflate").map_err(js_text)?.unchecked_into();
    let writer = decompress.get_writable().get_writer().map_err(js_text)?;
    // Every write is queued now and held to the end: a write's promise settles only once the
    // reading below has pulled its piece through.
    let mut writes: Vec<JsFuture> = stream.chunks(INFLATE_PIECE).map(|piece| JsFuture::from(writer.write_with_chunk(&Uint8Array::from(piece)))).collect();
    writes.push(JsFuture::from(writer.close()));
    let reader: ReadableStreamDefaultReader = decompress.get_readable().get_reader().unchecked_into();
    let read = read_all(&reader, into).await;
    if read.is_err() {
        // Writes still queued settle (rejected) once the stream is cancelled, not before.
        JsFuture::from(reader.cancel()).await.ok();
    }
    // A damaged stream fails its writes too; each settles before its future is dropped. The
    // reading's own error says more than the writes' do.
    for write in writes {
        let written = write.await;
        if read.is_ok() {
            written.map_err(js_text)?;
        }
    }
    read
}

/// Reads `reader`'s byte chunks onto the end of `into`, up to its capacity (so it never grows),
/// with a break every few milliseconds on a page; returns their CRC-32.
async fn read_all(reader: &ReadableStreamDefaultReader, into: &mut Vec<u8>) -> Result<u32, String> {
    let limit = into.capacity();
    let mut crc = PayloadCrc::default();
    let mut slice_start = js_sys::Date::now();
    loop {
        let read: ReadableStreamReadResult = JsFuture::from(reader.read()).await.map_err(js_text)?.unchecked_into();
        if read.get_done().unwrap_or(true) {
            return Ok(crc.finish());
        }
        let chunk: Uint8Array = read.get_value().dyn_into().map_err(|_| "the stream gave something other than bytes".to_string())?;
        let at = into.len();
        if at + chunk.length() as usize > limit {
            return Err(format!("it inflates past the {limit} bytes its header promises"));
        }
        into.resize(at + chunk.length() as usize, 0);
        chunk.copy_to(&mut into[at..]);
        crc.update(&into[at..]);
        // In a worker `yield_to_page` resolves at once: there is no page to give a turn to.
        if js_sys::Date::now() - slice_start > INFLATE_SLICE_MS {
            yield_to_page().await;
            slice_start = js_sys::Date::now();
        }
    }
}
