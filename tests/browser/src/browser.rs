//! The chromedriver process and the Chromium each session starts: which flags, and why.
//!
//! WebGPU: Chromium on Linux refuses its only adapter here (SwiftShader, a CPU in disguise) unless
//! `--enable-unsafe-webgpu` is given, so a WebGPU session passes it. A session without WebGPU omits it
//! and also passes `--disable-features=WebGPU --disable-gpu`, meant to keep a machine with a real,
//! allow-listed GPU from giving an adapter either (only SwiftShader was at hand to try). Verified on
//! Chromium 156 with SwiftShader: without the unsafe flag `navigator.gpu.requestAdapter()` resolves to
//! `null`, and so it does with either extra flag alone; `navigator.gpu` itself stays defined on a secure
//! origin whatever the flags (`--disable-blink-features=WebGPU` does not remove it either). The
//! self-check test asserts both outcomes on every run.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use crate::paths;
use crate::session::Session;
use crate::wire::Wire;

/// Whether a session's Chromium may hand out a WebGPU adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gpu {
    WebGpu,
    NoWebGpu,
}

/// Flags every session gets: headless, no sandbox (tests run as root in containers), and nothing that
/// talks to the network behind the test's back.
pub const COMMON_ARGS: &[&str] = &[
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu-sandbox",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--window-size=1280,900",
];

/// A chromedriver on a free local port; shut down (with any browser it still runs) when dropped.
#[derive(Debug)]
pub struct Chromedriver {
    child: Child,
    wire: Wire,
    chrome: PathBuf,
}

impl Chromedriver {
    /// Starts `$CHROMEDRIVER` (else `chromedriver` on PATH) for `$CHROME` (else `chromium` on PATH).
    pub fn start() -> Result<Self> {
        let driver = paths::program("CHROMEDRIVER", &["chromedriver"])?;
        let chrome = paths::program("CHROME", &["chromium", "chromium-browser", "google-chrome"])?;
        let port = free_port()?;
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver.display()))?;
        let mut this = Self { child, wire: Wire::new(format!("http://127.0.0.1:{port}")), chrome };
        this.wait_ready(Duration::from_secs(20))?;
        Ok(this)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let start = Instant::now();
        loop {
            if let Ok(status) = self.wire.get("/status") {
                if status.get("ready").and_then(Value::as_bool) == Some(true) {
                    return Ok(());
                }
            }
            if let Some(exit) = self.child.try_wait()? {
                bail!("chromedriver exited at start ({exit})");
            }
            if start.elapsed() > timeout {
                bail!("chromedriver did not answer /status within {timeout:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Opens a browser. `name` names the scenario: screenshots taken on a timeout are `<name>-timeout.png`.
    pub fn new_session(&self, name: &str, gpu: Gpu) -> Result<Session> {
        let value = self.wire.post("/session", &capabilities(&self.chrome, gpu)).with_context(|| format!("starting {} ({gpu:?})", self.chrome.display()))?;
        let id = value.get("sessionId").and_then(Value::as_str).with_context(|| format!("new session answer has no sessionId: {value}"))?;
        Ok(Session::new(self.wire.clone(), id.to_string(), name.to_string()))
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // `/shutdown` lets chromedriver close its browsers; a kill would orphan them.
        self.wire.get("/shutdown").ok();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// The W3C capabilities for one session: browser binary, flags, console capture, generous timeouts.
pub fn capabilities(chrome: &std::path::Path, gpu: Gpu) -> Value {
    let mut args: Vec<&str> = COMMON_ARGS.to_vec();
    match gpu {
        Gpu::WebGpu => args.push("--enable-unsafe-webgpu"),
        Gpu::NoWebGpu => args.extend(["--disable-features=WebGPU", "--disable-gpu"]),
    }
    json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                // Console messages come back through chromedriver's `/se/log` (see `log`).
                "goog:loggingPrefs": { "browser": "ALL" },
                "timeouts": { "script": 120_000, "pageLoad": 120_000, "implicit": 0 },
                "goog:chromeOptions": { "binary": chrome.to_string_lossy(), "args": args },
            }
        }
    })
}

/// A port nobody holds right now (the OS picks it; the listener is dropped before chromedriver binds).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}
