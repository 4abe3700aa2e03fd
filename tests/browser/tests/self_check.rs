//! Proves the harness itself, without the app: on a tiny page written into a temp folder it checks
//! the static server (MIME types that `WebAssembly.instantiateStreaming` insists on, extra headers,
//! the request record), WebGPU in one browser and its absence in the other, console capture, clicks,
//! resizing, screenshots, and both ways a wait can fail. When an app scenario fails, this one says
//! whether to look at the app or at the machine.

use std::time::Instant;

use anyhow::{ensure, Context as _, Result};
use latent_browser_tests::paths::TempDir;
use latent_browser_tests::{Gpu, Poll, Scenario, Session, StaticServer};
use serde_json::{json, Value};

const INDEX: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>harness self-check</title>
<link rel="icon" href="data:,"><link rel="stylesheet" href="style.css"></head>
<body><h1>Harness self-check</h1><button id="poke">poke</button><p id="out">not poked</p>
<script src="app.js"></script></body></html>
"#;

const APP_JS: &str = r#"
console.error('self-check-console-error');
document.getElementById('poke').addEventListener('click', () => {
    document.getElementById('out').textContent = 'poked';
});
window.selfCheck = (async () => {
    const types = {};
    for (const file of ['data.bin', 'probe.wasm', 'data.json', 'style.css']) {
        types[file] = (await fetch(file)).headers.get('content-type');
    }
    const extraHeader = (await fetch('./')).headers.get('x-self-check');
    const wasm = await WebAssembly.instantiateStreaming(fetch('probe.wasm')).then(() => true, (e) => String(e));
    return { types, extraHeader, wasm };
})();
"#;

/// The smallest valid WebAssembly module: magic and version.
const EMPTY_WASM: &[u8] = b"\0asm\x01\0\0\0";

/// The adapter `requestAdapter()` gives: `null`, a description, or "no navigator.gpu".
const ADAPTER: &str = "navigator.gpu
    ? navigator.gpu.requestAdapter().then((a) => a && {
        vendor: a.info.vendor, architecture: a.info.architecture, fallback: a.info.isFallbackAdapter })
    : 'no navigator.gpu'";

fn write_site(dir: &TempDir) -> Result<()> {
    let files: [(&str, &[u8]); 6] = [
        ("index.html", INDEX.as_bytes()),
        ("app.js", APP_JS.as_bytes()),
        ("style.css", b"body { font: 16px sans-serif; background: #eef; }"),
        ("data.bin", &[1, 2, 3, 4]),
        ("data.json", b"{}"),
        ("probe.wasm", EMPTY_WASM),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes)?;
    }
    Ok(())
}

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Result<(u32, u32)> {
    ensure!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() >= 24, "not a PNG");
    let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Ok((word(16), word(20)))
}

fn check_page(session: &Session, server: &StaticServer) -> Result<()> {
    let report = session.eval_async("window.selfCheck")?;
    let expect_types = json!({
        "data.bin": "application/octet-stream",
        "probe.wasm": "application/wasm",
        "data.json": "application/json",
        "style.css": "text/css; charset=utf-8",
    });
    ensure!(report["types"] == expect_types, "content types: {}", report["types"]);
    ensure!(report["extraHeader"] == "yes", "extra header not seen by the page: {report}");
    ensure!(report["wasm"] == true, "instantiateStreaming failed: {}", report["wasm"]);

    session.click_css("#poke")?;
    ensure!(session.eval("document.getElementById('out').textContent")? == "poked", "click had no effect");

    let errors = session.severe_errors()?;
    ensure!(errors.iter().any(|e| e.message.contains("self-check-console-error")), "console.error not captured; log: {:?}", session.browser_log()?);

    let paths = server.requested_paths();
    for expected in ["/index.html", "/app.js", "/style.css", "/data.bin", "/probe.wasm", "/data.json", "/"] {
        ensure!(paths.iter().any(|p| p == expected), "{expected} not in request record {paths:?}");
    }
    let first = server.requests().into_iter().next().context("no request recorded")?;
    ensure!(first.path == "/index.html" && first.query.as_deref() == Some("x=1"), "first request {first:?}");
    ensure!(server.requests().iter().all(|r| r.status == 200), "failed requests: {:?}", server.requests());
    Ok(())
}

fn check_screenshots_and_waits(session: &Session) -> Result<()> {
    let desktop = std::fs::read(session.screenshot("self-check-desktop")?)?;
    let (width, _) = png_size(&desktop)?;
    ensure!(width == 1280, "desktop screenshot is {width} px wide, expected 1280 (--window-size)");

    session.set_window_size(390, 844)?;
    let inner = session.eval("window.innerWidth")?;
    ensure!(inner == 390, "innerWidth {inner} after resizing to 390");
    let (width, _) = png_size(&std::fs::read(session.screenshot("self-check-phone")?)?)?;
    ensure!(width == 390, "phone screenshot is {width} px wide");

    let timed_out = session.wait_until(Poll::within(std::time::Duration::from_secs(1)), "false");
    let message = format!("{:#}", timed_out.err().context("a false condition did not time out")?);
    ensure!(message.contains("timed out") && message.contains("readyState"), "timeout message: {message}");
    let shot = latent_browser_tests::paths::screenshot_dir()?.join("self-check-timeout.png");
    ensure!(shot.is_file(), "no {} after a timeout", shot.display());

    let failed = session.wait_until(Poll::SCENARIO, "({ fail: 'unreachable state' })");
    let message = format!("{:#}", failed.err().context("a fail value did not stop the wait")?);
    ensure!(message.contains("unreachable state"), "fail message: {message}");
    Ok(())
}

#[test]
fn harness_self_check() -> Result<()> {
    let start = Instant::now();
    let site = TempDir::new("latent-self-check")?;
    write_site(&site)?;
    let server = StaticServer::with_headers(site.path(), vec![("X-Self-Check".into(), "yes".into())])?;
    let scenario = Scenario::with_server("self-check", server, Gpu::WebGpu)?;
    scenario.open("/index.html?x=1")?;

    let adapter = scenario.session.eval_async(ADAPTER)?;
    ensure!(adapter.is_object(), "WebGPU session has no adapter: {adapter}");
    println!("WebGPU session adapter: {adapter}");

    check_page(&scenario.session, &scenario.server)?;
    check_screenshots_and_waits(&scenario.session)?;

    let plain = scenario.driver().new_session("self-check-no-webgpu", Gpu::NoWebGpu)?;
    plain.navigate(&scenario.server.url("/index.html"))?;
    let adapter = plain.eval_async(ADAPTER)?;
    ensure!(adapter == Value::Null || adapter == "no navigator.gpu", "the no-WebGPU session still gets an adapter: {adapter}");
    println!("no-WebGPU session adapter: {adapter}");
    drop(plain);

    println!("self-check took {:.1} s", start.elapsed().as_secs_f64());
    Ok(())
}
