//! One browser session and the WebDriver commands the scenarios use: navigate, run script, find and
//! click, resize, screenshot. Waiting lives in `wait`, console capture in `log`.
//!
//! The session is deleted when dropped, on success or panic, so a failed scenario never leaves a
//! Chromium running into the next one.

use std::cell::RefCell;
use std::path::PathBuf;

use anyhow::{Context as _, Result};
use base64::Engine as _;
use serde_json::{json, Value};

use crate::log::LogEntry;
use crate::paths;
use crate::wire::Wire;

/// The W3C key under which an element reference travels.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A live browser session.
#[derive(Debug)]
pub struct Session {
    wire: Wire,
    prefix: String,
    name: String,
    /// Every console entry read so far (chromedriver hands each out once).
    pub(crate) log: RefCell<Vec<LogEntry>>,
    /// The expression whose value a timed-out wait reports (see `wait`).
    pub(crate) diagnostic: RefCell<String>,
}

/// A found element.
#[derive(Clone, Debug)]
pub struct Element {
    id: String,
}

impl Element {
    /// The element as a script argument (`arguments[i]` in the page).
    pub fn as_arg(&self) -> Value {
        json!({ ELEMENT_KEY: self.id })
    }
}

impl Session {
    pub(crate) fn new(wire: Wire, id: String, name: String) -> Self {
        Self {
            wire,
            prefix: format!("/session/{id}"),
            name,
            log: RefCell::new(Vec::new()),
            diagnostic: RefCell::new(crate::wait::DEFAULT_DIAGNOSTIC.to_string()),
        }
    }

    /// The scenario name given at creation.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn get(&self, path: &str) -> Result<Value> {
        self.wire.get(&format!("{}{path}", self.prefix))
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.wire.post(&format!("{}{path}", self.prefix), body)
    }

    /// Loads `url` and returns once the page's `load` event fired.
    pub fn navigate(&self, url: &str) -> Result<()> {
        self.post("/url", &json!({ "url": url })).with_context(|| format!("opening {url}"))?;
        Ok(())
    }

    /// Runs `body` as a function body in the page (`return` gives the result; `arguments` holds `args`).
    pub fn execute(&self, body: &str, args: &[Value]) -> Result<Value> {
        self.post("/execute/sync", &json!({ "script": body, "args": args })).with_context(|| format!("running script: {}", one_line(body)))
    }

    /// The value of a JavaScript expression.
    pub fn eval(&self, expr: &str) -> Result<Value> {
        self.execute(&format!("return ({expr});"), &[])
    }

    /// Runs `body` as an async WebDriver script: it must call `arguments[arguments.length - 1](result)`.
    pub fn execute_async(&self, body: &str, args: &[Value]) -> Result<Value> {
        self.post("/execute/async", &json!({ "script": body, "args": args })).with_context(|| format!("running async script: {}", one_line(body)))
    }

    /// Awaits a JavaScript expression that may be a promise; a rejection becomes an error.
    pub fn eval_async(&self, expr: &str) -> Result<Value> {
        let body = format!(
            "const done = arguments[arguments.length - 1];
             Promise.resolve().then(() => ({expr})).then(
                 (value) => done({{ ok: value === undefined ? null : value }}),
                 (error) => done({{ err: String(error && error.stack || error) }}));"
        );
        let outcome = self.execute_async(&body, &[])?;
        if let Some(err) = outcome.get("err") {
            anyhow::bail!("{} rejected: {}", one_line(expr), err.as_str().unwrap_or_default());
        }
        Ok(outcome.get("ok").cloned().unwrap_or(Value::Null))
    }

    /// Runs `source` in every document this session opens from now on, before the page's own
    /// scripts (DevTools' `Page.addScriptToEvaluateOnNewDocument`, which a page's CSP does not
    /// govern): how a scenario stands in for a browser that lacks a feature.
    pub fn before_every_page(&self, source: &str) -> Result<()> {
        self.devtools("Page.addScriptToEvaluateOnNewDocument", json!({ "source": source })).context("adding a script to every new document")?;
        Ok(())
    }

    /// Takes this browser off the network or puts it back (DevTools' network emulation, which
    /// also governs the page's service worker).
    pub fn set_offline(&self, offline: bool) -> Result<()> {
        self.devtools("Network.enable", json!({}))?;
        let conditions = json!({ "offline": offline, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 });
        self.devtools("Network.emulateNetworkConditions", conditions).with_context(|| format!("setting the browser offline = {offline}"))?;
        Ok(())
    }

    /// One Chrome DevTools Protocol command, through chromedriver.
    fn devtools(&self, command: &str, params: Value) -> Result<Value> {
        self.post("/goog/cdp/execute", &json!({ "cmd": command, "params": params })).with_context(|| format!("DevTools {command}"))
    }

    /// Makes later commands act inside the `<iframe>` `frame` (the WebDriver way into a frame
    /// from another origin, which the outer page's scripts cannot read).
    pub fn enter_frame(&self, frame: &Element) -> Result<()> {
        self.post("/frame", &json!({ "id": frame.as_arg() })).context("entering a frame")?;
        Ok(())
    }

    /// Makes later commands act on the top-level page again.
    pub fn leave_frames(&self) -> Result<()> {
        self.post("/frame", &json!({ "id": Value::Null })).context("leaving the frames")?;
        Ok(())
    }

    /// The first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Result<Element> {
        let value = self.post("/element", &json!({ "using": "css selector", "value": css })).with_context(|| format!("finding {css}"))?;
        let id = value.get(ELEMENT_KEY).and_then(Value::as_str).with_context(|| format!("finding {css}: {value}"))?;
        Ok(Element { id: id.to_string() })
    }

    /// A real (trusted) click, as a user would make it.
    pub fn click(&self, element: &Element) -> Result<()> {
        self.post(&format!("/element/{}/click", element.id), &json!({}))?;
        Ok(())
    }

    /// Finds and clicks in one go.
    pub fn click_css(&self, css: &str) -> Result<()> {
        let element = self.find(css)?;
        self.click(&element).with_context(|| format!("clicking {css}"))
    }

    /// A real drag, as a user's mouse makes it: the button pressed at the first point of `path`,
    /// moved through the others, released at the last. Points are CSS pixels from the element's
    /// centre (WebDriver's pointer actions, which the browser delivers as trusted pointer events).
    pub fn drag(&self, element: &Element, path: &[(i32, i32)]) -> Result<()> {
        let at = |&(x, y): &(i32, i32)| json!({ "type": "pointerMove", "duration": 16, "origin": element.as_arg(), "x": x, "y": y });
        let mut steps: Vec<Value> = path.first().map(at).into_iter().collect();
        steps.push(json!({ "type": "pointerDown", "button": 0 }));
        steps.extend(path.iter().skip(1).map(at));
        steps.push(json!({ "type": "pointerUp", "button": 0 }));
        let actions = json!({ "actions": [{ "type": "pointer", "id": "mouse", "parameters": { "pointerType": "mouse" }, "actions": steps }] });
        self.post("/actions", &actions).context("dragging the mouse")?;
        Ok(())
    }

    /// Types `text` into an element; on an `<input type=file>` the text is a file's path, which
    /// chooses that file as a user would (WebDriver's file upload).
    pub fn send_keys(&self, element: &Element, text: &str) -> Result<()> {
        self.post(&format!("/element/{}/value", element.id), &json!({ "text": text }))?;
        Ok(())
    }

    /// Resizes the browser window (headless: the viewport) to `width`×`height` CSS pixels.
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.post("/window/rect", &json!({ "width": width, "height": height })).with_context(|| format!("resizing the window to {width}x{height}"))?;
        Ok(())
    }

    /// Saves the viewport as `target/app-screenshots/<name>.png` and returns the path.
    pub fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let value = self.get("/screenshot").context("taking a screenshot")?;
        let encoded = value.as_str().context("screenshot answer is not a string")?;
        let png = base64::engine::general_purpose::STANDARD.decode(encoded).context("screenshot is not base64")?;
        let path = paths::screenshot_dir()?.join(format!("{name}.png"));
        std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.wire.delete(&self.prefix).ok();
    }
}

/// A script shortened for an error message.
pub(crate) fn one_line(script: &str) -> String {
    let flat = script.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}
