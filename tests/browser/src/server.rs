//! A static file server on `std::net` for the site under test.
//!
//! Hand-written rather than borrowed because the tests need two things a general server hides: a
//! record of every request the page made (a test asserts the page fetches nothing it should not) and
//! extra response headers (a Content-Security-Policy test). One thread accepts; every connection gets
//! its own thread and is closed after one response, so an idle keep-alive or a speculative preconnect
//! from Chromium can never hold up another request. Nothing is cached: every response says `no-store`.
//!
//! Tried instead (2026-12-02): `tiny_http` 0.12 with the same record and headers. It keeps every
//! connection alive and sends large bodies chunked, with no way for a response to close its
//! connection; under chromedriver the page's wasm module then never started (a blank page after
//! the 180 s budget in 2 of 2 scenarios, `embed_mode_hides_header` and `url_state_round_trips`),
//! while this server passed both in 3.7 s. So the ~150 lines of request parsing stay.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context as _, Result};

/// One request the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// The decoded path, without query or fragment (`/`, `/latent-app_bg.wasm`).
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

/// What every connection thread needs: the folder, the extra headers and the request record.
#[derive(Debug)]
struct Site {
    root: PathBuf,
    headers: Vec<(String, String)>,
    record: Mutex<Vec<Served>>,
    /// While set, every connection is closed unanswered: the host is unreachable.
    down: AtomicBool,
}

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct StaticServer {
    addr: SocketAddr,
    site: Arc<Site>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port.
    pub fn start(root: impl Into<PathBuf>) -> Result<Self> {
        Self::with_headers(root, Vec::new())
    }

    /// Serves `root`, adding `headers` to every response (e.g. a Content-Security-Policy).
    pub fn with_headers(root: impl Into<PathBuf>, headers: Vec<(String, String)>) -> Result<Self> {
        let root = root.into();
        let listener = TcpListener::bind("127.0.0.1:0").context("binding the static server to 127.0.0.1")?;
        let addr = listener.local_addr()?;
        let site = Arc::new(Site { root, headers, record: Mutex::new(Vec::new()), down: AtomicBool::new(false) });
        let stop = Arc::new(AtomicBool::new(false));
        let accept = {
            let (site, stop) = (Arc::clone(&site), Arc::clone(&stop));
            std::thread::Builder::new().name("static-server".into()).spawn(move || accept_loop(&listener, &site, &stop))?
        };
        Ok(Self { addr, site, stop, accept: Some(accept) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path_and_query` on this server (`"/?embed=1"` → `http://127.0.0.1:N/?embed=1`).
    pub fn url(&self, path_and_query: &str) -> String {
        let sep = if path_and_query.starts_with('/') { "" } else { "/" };
        format!("http://{}{sep}{path_and_query}", self.addr)
    }

    /// Takes the host off the network (`true`: every connection is closed without an answer, as
    /// when the browser is offline or the host is down) or puts it back.
    pub fn set_down(&self, down: bool) {
        self.site.down.store(down, Ordering::SeqCst);
    }

    /// Every request answered so far, in order.
    pub fn requests(&self) -> Vec<Served> {
        self.site.record.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The distinct paths requested so far, in first-request order.
    pub fn requested_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = Vec::new();
        for served in self.requests() {
            if !paths.contains(&served.path) {
                paths.push(served.path);
            }
        }
        paths
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept so it sees the flag.
        TcpStream::connect(self.addr).ok();
        if let Some(accept) = self.accept.take() {
            accept.join().ok();
        }
    }
}

fn accept_loop(listener: &TcpListener, site: &Arc<Site>, stop: &AtomicBool) {
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let site = Arc::clone(site);
        std::thread::spawn(move || {
            // A failed connection only concerns the browser that made it; the record shows what was served.
            serve_one(stream, &site).ok();
        });
    }
}

fn serve_one(mut stream: TcpStream, site: &Site) -> std::io::Result<()> {
    if site.down.load(Ordering::SeqCst) {
        return stream.shutdown(std::net::Shutdown::Both);
    }
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line)? == 0 {
        return Ok(()); // opened and closed without a request (a preconnect, or our own wake-up)
    }
    let mut header = String::new();
    while reader.read_line(&mut header)? > 0 && header.trim_end() != "" {
        header.clear();
    }
    let mut parts = request_line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/");
    let target = target.split('#').next().unwrap_or("/");
    let (raw_path, query) = match target.split_once('?') {
        Some((path, query)) => (path, Some(query.to_string())),
        None => (target, None),
    };
    let path = percent_decode(raw_path).unwrap_or_else(|| raw_path.to_string());
    let (status, content_type, body) = respond(site, &method, raw_path);
    site.record.lock().unwrap_or_else(PoisonError::into_inner).push(Served { method: method.clone(), path, query, status });

    let mut head = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        reason(status),
        body.len()
    );
    for (name, value) in &site.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(&body)?;
    }
    stream.flush()
}

/// Status, content type and body for a request; only files under the root are ever read.
fn respond(site: &Site, method: &str, raw_path: &str) -> (u16, &'static str, Vec<u8>) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if method != "GET" && method != "HEAD" {
        return (405, TEXT, b"method not allowed\n".to_vec());
    }
    let Some(file) = resolve(&site.root, raw_path) else {
        return (403, TEXT, b"forbidden\n".to_vec());
    };
    match std::fs::read(&file) {
        Ok(body) => (200, content_type(&file), body),
        Err(_) => (404, TEXT, b"not found\n".to_vec()),
    }
}

/// The file a URL path names under `root`; `None` for anything that tries to leave it.
fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(raw_path)?;
    let mut file = root.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains('\\') || s.contains('\0') => return None,
            s => file.push(s),
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    Some(file)
}

/// The MIME type the browser must see; `.wasm` must be `application/wasm` for streaming compilation.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        Some("svg") => "image/svg+xml",
        Some("ico") => "image/x-icon",
        Some("json" | "map") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "",
    }
}

/// Decodes `%XX` escapes; `None` for malformed escapes or non-UTF-8 results.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;
    use crate::paths::TempDir;

    fn raw_get(server: &StaticServer, target: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(server.addr())?;
        write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\n\r\n")?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        Ok(response)
    }

    #[test]
    fn mime_types() {
        assert_eq!(content_type(Path::new("a/latent_bg.wasm")), "application/wasm");
        assert_eq!(content_type(Path::new("app.js")), "text/javascript; charset=utf-8");
        assert_eq!(content_type(Path::new("index.html")), "text/html; charset=utf-8");
        assert_eq!(content_type(Path::new("style.CSS")), "text/css; charset=utf-8");
        assert_eq!(content_type(Path::new("x.png")), "image/png");
        assert_eq!(content_type(Path::new("assets/mnist-10k.bin")), "application/octet-stream");
        assert_eq!(content_type(Path::new("m.json")), "application/json");
    }

    #[test]
    fn serves_files_headers_and_records_requests() -> anyhow::Result<()> {
        let dir = TempDir::new("latent-server-test")?;
        std::fs::write(dir.path().join("index.html"), "<p>hi</p>")?;
        std::fs::create_dir(dir.path().join("sub"))?;
        std::fs::write(dir.path().join("sub/a b.wasm"), [0u8, 97, 115, 109])?;
        let server = StaticServer::with_headers(dir.path(), vec![("X-Test".into(), "yes".into())])?;

        let index = raw_get(&server, "/?q=1#frag")?;
        assert!(index.starts_with("HTTP/1.1 200"), "{index}");
        assert!(index.contains("Content-Type: text/html; charset=utf-8\r\n"), "{index}");
        assert!(index.contains("X-Test: yes\r\n") && index.ends_with("<p>hi</p>"), "{index}");
        let wasm = raw_get(&server, "/sub/a%20b.wasm")?;
        assert!(wasm.contains("Content-Type: application/wasm\r\n"), "{wasm}");
        assert!(raw_get(&server, "/missing.js")?.starts_with("HTTP/1.1 404"));
        assert!(raw_get(&server, "/../Cargo.toml")?.starts_with("HTTP/1.1 403"));
        assert!(raw_get(&server, "/sub/%2e%2e/%2e%2e/x")?.starts_with("HTTP/1.1 403"));

        let record = server.requests();
        assert_eq!(record[0], Served { method: "GET".into(), path: "/".into(), query: Some("q=1".into()), status: 200 });
        assert_eq!(server.requested_paths()[..3], ["/", "/sub/a b.wasm", "/missing.js"]);
        Ok(())
    }
}
