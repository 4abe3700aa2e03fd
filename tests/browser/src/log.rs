//! The page's console, read through chromedriver's legacy log endpoint (`POST /se/log`, type
//! `browser`), which the `goog:loggingPrefs` capability turns on. Verified on chromedriver 156:
//! `console.error` arrives as level `SEVERE` with source `console-api`, a failed load as `SEVERE` with
//! source `network`. Chromedriver hands out each entry once, so the session keeps everything it read.

use anyhow::Result;
use serde_json::{json, Value};

use crate::session::Session;

/// One console or network message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// `SEVERE`, `WARNING`, `INFO`, `DEBUG`.
    pub level: String,
    /// `console-api`, `network`, `javascript`, ...
    pub source: String,
    pub message: String,
}

impl LogEntry {
    pub fn is_severe(&self) -> bool {
        self.level == "SEVERE"
    }
}

impl std::fmt::Display for LogEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} {}] {}", self.level, self.source, self.message)
    }
}

impl Session {
    /// Every console entry of this session so far (reads the new ones from the browser first).
    pub fn browser_log(&self) -> Result<Vec<LogEntry>> {
        let value = self.post("/se/log", &json!({ "type": "browser" }))?;
        let fresh = value.as_array().map(Vec::as_slice).unwrap_or_default().iter().map(|entry| {
            let field = |key: &str| entry.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
            LogEntry { level: field("level"), source: field("source"), message: field("message") }
        });
        let mut log = self.log.borrow_mut();
        log.extend(fresh);
        Ok(log.clone())
    }

    /// The `SEVERE` entries so far, except a missing favicon (the browser asks for one by itself).
    pub fn severe_errors(&self) -> Result<Vec<LogEntry>> {
        Ok(self.browser_log()?.into_iter().filter(|entry| entry.is_severe() && !entry.message.contains("favicon.ico")).collect())
    }
}
