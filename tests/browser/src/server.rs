//! The static file server the site under test is served from: `tiny_http` underneath, with two
//! things a general server hides: a record of every request the page made (a test asserts the page
//! fetches nothing it should not) and extra response headers (the Content-Security-Policy test).
//! tiny_http reads each connection on a thread of its pool and every request is answered on a
//! thread of its own, so an idle keep-alive or a speculative preconnect from Chromium never holds up
//! another request. Nothing is cached: every response says `no-store`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::{anyhow, Context as _, Result};
use percent_encoding::percent_decode_str;
use tiny_http::{Header, Method, Request, Response, Server};

/// One request the server answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Served {
    pub method: String,
    /// The decoded path, without query or fragment (`/`, `/latent-app_bg.wasm`).
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
}

/// What every request thread needs: the folder, the extra headers and the request record.
#[derive(Debug)]
struct Site {
    root: PathBuf,
    headers: Vec<(String, String)>,
    record: Mutex<Vec<Served>>,
}

/// A running server; it stops when dropped.
pub struct StaticServer {
    addr: SocketAddr,
    site: Arc<Site>,
    server: Arc<Server>,
    accept: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for StaticServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticServer").field("addr", &self.addr).field("site", &self.site).finish()
    }
}

impl StaticServer {
    /// Serves `root` on 127.0.0.1 at a free port.
    pub fn start(root: impl Into<PathBuf>) -> Result<Self> {
        Self::with_headers(root, Vec::new())
    }

    /// Serves `root`, adding `headers` to every response (e.g. a Content-Security-Policy).
    pub fn with_headers(root: impl Into<PathBuf>, headers: Vec<(String, String)>) -> Result<Self> {
        let server = Arc::new(Server::http("127.0.0.1:0").map_err(|e| anyhow!("binding the static server to 127.0.0.1: {e}"))?);
        let addr = server.server_addr().to_ip().context("the static server has no IP address")?;
        let site = Arc::new(Site { root: root.into(), headers, record: Mutex::new(Vec::new()) });
        let accept = {
            let (site, server) = (Arc::clone(&site), Arc::clone(&server));
            std::thread::Builder::new().name("static-server".into()).spawn(move || {
                for request in server.incoming_requests() {
                    let site = Arc::clone(&site);
                    std::thread::spawn(move || serve_one(request, &site));
                }
            })?
        };
        Ok(Self { addr, site, server, accept: Some(accept) })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path_and_query` on this server (`"/?embed=1"` → `http://127.0.0.1:N/?embed=1`).
    pub fn url(&self, path_and_query: &str) -> String {
        let sep = if path_and_query.starts_with('/') { "" } else { "/" };
        format!("http://{}{sep}{path_and_query}", self.addr)
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
        self.server.unblock();
        if let Some(accept) = self.accept.take() {
            accept.join().ok();
        }
    }
}

/// Answers one request and records it. A failed response only concerns the browser that asked;
/// the record shows what was served.
fn serve_one(request: Request, site: &Site) {
    let method = request.method().clone();
    let target = request.url().split('#').next().unwrap_or("/").to_string();
    let (raw_path, query) = match target.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (target.clone(), None),
    };
    let path = percent_decode_str(&raw_path).decode_utf8().map_or_else(|_| raw_path.clone(), |p| p.into_owned());
    let (status, content_type, body) = respond(site, &method, &raw_path);
    site.record.lock().unwrap_or_else(PoisonError::into_inner).push(Served { method: method.to_string(), path, query, status });
    let headers = [("Content-Type", content_type), ("Cache-Control", "no-store")]
        .into_iter()
        .chain(site.headers.iter().map(|(name, value)| (name.as_str(), value.as_str())))
        .filter_map(|(name, value)| Header::from_bytes(name.as_bytes(), value.as_bytes()).ok());
    let length = body.len();
    let body = if method == Method::Head { Vec::new() } else { body };
    let mut response = Response::new(status.into(), Vec::new(), std::io::Cursor::new(body), Some(length), None);
    for header in headers {
        response.add_header(header);
    }
    request.respond(response).ok();
}

/// Status, content type and body for a request; only files under the root are ever read.
fn respond(site: &Site, method: &Method, raw_path: &str) -> (u16, &'static str, Vec<u8>) {
    const TEXT: &str = "text/plain; charset=utf-8";
    if *method != Method::Get && *method != Method::Head {
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

/// The file a URL path names under `root`; `None` for anything that tries to leave it (or does
/// not decode to UTF-8).
fn resolve(root: &Path, raw_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode_str(raw_path).decode_utf8().ok()?;
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

#[cfg(test)]
mod tests {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;

    use super::*;
    use crate::paths::TempDir;

    fn raw_get(server: &StaticServer, target: &str) -> anyhow::Result<String> {
        let mut stream = TcpStream::connect(server.addr())?;
        write!(stream, "GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
        stream.flush()?;
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
