//! Waiting for the page: poll a JavaScript expression until it holds.
//!
//! Training on a software adapter takes minutes, so a scenario mostly waits; when a wait times out the
//! message must say where the page got to. Each session carries a diagnostic expression (the app's
//! status readout, in the app scenarios) whose last value, a screenshot `<scenario>-timeout.png` and
//! the console errors so far go into the failure.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use serde_json::Value;

use crate::session::{one_line, Session};

/// Reported by a timed-out wait unless the scenario sets its own (`Session::set_diagnostic`).
pub(crate) const DEFAULT_DIAGNOSTIC: &str = "({ url: location.href, readyState: document.readyState, \
     body: (document.body && document.body.innerText || '').slice(0, 300) })";

/// How long to wait and how often to look.
#[derive(Clone, Copy, Debug)]
pub struct Poll {
    pub timeout: Duration,
    pub every: Duration,
}

impl Poll {
    /// The budget of one app scenario's wait: SwiftShader trains at about 1 GFLOP/s.
    pub const SCENARIO: Poll = Poll { timeout: Duration::from_secs(180), every: Duration::from_millis(500) };

    pub fn within(timeout: Duration) -> Self {
        Self { timeout, every: Duration::from_millis(200) }
    }
}

impl Session {
    /// Sets the expression whose value a timed-out wait reports.
    pub fn set_diagnostic(&self, expr: &str) {
        *self.diagnostic.borrow_mut() = expr.to_string();
    }

    /// Polls `condition` (a JavaScript expression) until it is truthy and returns its value.
    ///
    /// A value of the form `{ fail: ... }` stops the wait at once with an error (the page reached a
    /// state from which the condition cannot come true). A throwing expression counts as not yet.
    pub fn wait_until(&self, poll: Poll, condition: &str) -> Result<Value> {
        self.wait_until_as(poll, condition, condition)
    }

    /// As `wait_until`, naming the condition `label` in failures (when `condition` is generated code).
    pub fn wait_until_as(&self, poll: Poll, label: &str, condition: &str) -> Result<Value> {
        let probe = format!(
            "try {{ const value = ({condition}); return {{ value: value === undefined ? null : value }}; }}
             catch (error) {{ return {{ thrown: String(error) }}; }}"
        );
        let start = Instant::now();
        let mut last: Value;
        loop {
            last = match self.execute(&probe, &[]) {
                Ok(outcome) => outcome,
                // Mid-navigation the page can refuse scripts; that is "not yet", like a throw.
                Err(error) => serde_json::json!({ "thrown": format!("{error:#}") }),
            };
            if let Some(value) = last.get("value") {
                if let Some(fail) = value.get("fail") {
                    bail!("gave up waiting for `{}`: {fail}{}", one_line(label), self.failure_context("fail"));
                }
                if truthy(value) {
                    return Ok(value.clone());
                }
            }
            if start.elapsed() >= poll.timeout {
                break;
            }
            std::thread::sleep(poll.every);
        }
        bail!("timed out after {:?} waiting for `{}`\n  last condition value: {last}{}", poll.timeout, one_line(label), self.failure_context("timeout"))
    }

    /// The diagnostic value, a screenshot and the console errors, for a failure message.
    fn failure_context(&self, suffix: &str) -> String {
        let diagnostic = self.diagnostic.borrow().clone();
        let state = match self.eval(&diagnostic) {
            Ok(value) => value.to_string(),
            Err(error) => format!("(unreadable: {error:#})"),
        };
        let shot = match self.screenshot(&format!("{}-{suffix}", self.name())) {
            Ok(path) => path.display().to_string(),
            Err(error) => format!("(no screenshot: {error:#})"),
        };
        let errors = match self.severe_errors() {
            Ok(errors) if errors.is_empty() => "none".to_string(),
            Ok(errors) => errors.iter().map(|e| format!("\n    {e}")).collect(),
            Err(error) => format!("(unreadable: {error:#})"),
        };
        format!("\n  page state: {state}\n  screenshot: {shot}\n  console errors: {errors}")
    }
}

/// JavaScript truthiness of a JSON value.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0 && !x.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}
