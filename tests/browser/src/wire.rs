//! The WebDriver wire: JSON over HTTP to chromedriver, every answer `{"value": ...}`, and a failure
//! an object with `error` and `message`. One place turns those into `anyhow` errors that name the
//! command, so no caller parses WebDriver errors itself.

use std::time::Duration;

use anyhow::{anyhow, bail, Context as _, Result};
use serde_json::Value;

/// Longer than any single command may legitimately take (page load, async script), so ureq never
/// cuts off a command chromedriver would still answer.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(240);

/// Screenshots arrive base64-encoded inside JSON; leave room for a large page.
const MAX_BODY: u64 = 64 << 20;

#[derive(Clone, Debug)]
pub(crate) struct Wire {
    agent: ureq::Agent,
    base: String,
}

impl Wire {
    /// A client for the chromedriver at `base` (`http://127.0.0.1:PORT`).
    pub(crate) fn new(base: String) -> Self {
        let config = ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(COMMAND_TIMEOUT)).build();
        Self { agent: config.into(), base }
    }

    pub(crate) fn get(&self, path: &str) -> Result<Value> {
        let response = self.agent.get(format!("{}{path}", self.base)).call();
        self.finish("GET", path, response)
    }

    pub(crate) fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let response = self.agent.post(format!("{}{path}", self.base)).send_json(body);
        self.finish("POST", path, response)
    }

    pub(crate) fn delete(&self, path: &str) -> Result<Value> {
        let response = self.agent.delete(format!("{}{path}", self.base)).call();
        self.finish("DELETE", path, response)
    }

    fn finish(&self, method: &str, path: &str, response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value> {
        let mut response = response.with_context(|| format!("{method} {}{path}: chromedriver unreachable", self.base))?;
        let status = response.status();
        let text =
            response.body_mut().with_config().limit(MAX_BODY).read_to_string().with_context(|| format!("{method} {path}: reading chromedriver's answer"))?;
        let json: Value = serde_json::from_str(&text).with_context(|| format!("{method} {path}: HTTP {status}, not JSON: {}", clip(&text)))?;
        let value = json.get("value").cloned().unwrap_or(Value::Null);
        if let Some(error) = value.get("error").and_then(Value::as_str) {
            let message = value.get("message").and_then(Value::as_str).unwrap_or("");
            bail!("{method} {path}: {error}: {}", clip(message));
        }
        if !status.is_success() {
            return Err(anyhow!("{method} {path}: HTTP {status}: {}", clip(&text)));
        }
        Ok(value)
    }
}

/// Chromedriver messages carry a whole native stack trace; the first lines say what happened.
fn clip(text: &str) -> String {
    let head: String = text.lines().take(6).collect::<Vec<_>>().join("\n");
    if head.len() > 2000 {
        format!("{}…", &head[..head.char_indices().nth(2000).map_or(head.len(), |(i, _)| i)])
    } else {
        head
    }
}
