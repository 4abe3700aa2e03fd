//! The app's DOM contract, in one place: the `#lab-status` readout, the knobs, the URL state.
//!
//! Scenarios speak only through these helpers, so when the contract changes one file changes. The
//! contract: `#lab-status` carries `data-state` (starting, ready, training, paused, diverged, error),
//! `data-engine` (starting, webgpu, cpu), `data-model`, `data-step`, `data-loss`, `data-kl`,
//! `data-test-loss`, `data-d-accuracy`, `data-modes`, `data-checkpoint` (step of the last good
//! checkpoint, empty when there is none), `data-steps-per-second`, `data-gpu-buffers`,
//! `data-gpu-bytes`, `data-wasm-bytes`; knobs are `<input type=range id=knob-*>`.

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use crate::session::Session;
use crate::wait::Poll;

/// `#lab-status`'s data attributes as an object, or a string saying why there is none yet.
pub const STATUS: &str = "(() => { const s = document.querySelector('#lab-status'); \
     return s ? Object.assign({}, s.dataset) : 'no #lab-status yet (document ' + document.readyState + ')'; })()";

/// One reading of `#lab-status`. Numbers are `None` while the readout is empty.
#[derive(Clone, Debug, Default)]
pub struct LabStatus {
    pub state: String,
    pub engine: String,
    pub model: String,
    pub step: Option<u64>,
    pub loss: Option<f64>,
    pub kl: Option<f64>,
    pub test_loss: Option<f64>,
    pub d_accuracy: Option<f64>,
    pub modes: Option<u64>,
    pub checkpoint: Option<u64>,
    pub steps_per_second: Option<f64>,
    pub gpu_buffers: Option<u64>,
    pub gpu_bytes: Option<u64>,
    pub wasm_bytes: Option<u64>,
}

impl LabStatus {
    fn from_dataset(dataset: &Value) -> Result<Self> {
        if !dataset.is_object() {
            bail!("{dataset}");
        }
        let text = |key: &str| dataset.get(key).and_then(Value::as_str).unwrap_or_default().trim().to_string();
        let float = |key: &str| text(key).parse::<f64>().ok();
        // Integers may be written "150" or "150.0".
        let count = |key: &str| float(key).filter(|x| *x >= 0.0).map(|x| x as u64);
        Ok(Self {
            state: text("state"),
            engine: text("engine"),
            model: text("model"),
            step: count("step"),
            loss: float("loss"),
            kl: float("kl"),
            test_loss: float("testLoss"),
            d_accuracy: float("dAccuracy"),
            modes: count("modes"),
            checkpoint: count("checkpoint"),
            steps_per_second: float("stepsPerSecond"),
            gpu_buffers: count("gpuBuffers"),
            gpu_bytes: count("gpuBytes"),
            wasm_bytes: count("wasmBytes"),
        })
    }
}

/// Reads `#lab-status` now.
pub fn status(session: &Session) -> Result<LabStatus> {
    LabStatus::from_dataset(&session.eval(STATUS)?).context("reading #lab-status")
}

/// Makes timed-out waits report the status readout and the page's URL.
pub fn watch(session: &Session) {
    session.set_diagnostic(&format!("({{ status: {STATUS}, url: location.href }})"));
}

/// Waits until `condition` holds and returns the status then. The condition is JavaScript over `d`
/// (the readout's `dataset`) with `num(x)` (a number, `NaN` when empty). Fails at once when the app
/// reports `error` or `diverged`: no condition of a healthy run can come true after that.
pub fn wait_for(session: &Session, poll: Poll, condition: &str) -> Result<LabStatus> {
    wait_failing_on(session, poll, condition, "d.state === 'error' || d.state === 'diverged'")
}

/// As [`wait_for`], for scenarios that drive a run into divergence on purpose: fails at once only
/// when the app reports `error`.
pub fn wait_through_divergence(session: &Session, poll: Poll, condition: &str) -> Result<LabStatus> {
    wait_failing_on(session, poll, condition, "d.state === 'error'")
}

fn wait_failing_on(session: &Session, poll: Poll, condition: &str, failed: &str) -> Result<LabStatus> {
    let probe = format!(
        "(() => {{
            const s = document.querySelector('#lab-status');
            if (!s) return false;
            const d = s.dataset;
            const num = (x) => (x === undefined || x === null || String(x).trim() === '') ? NaN : Number(x);
            if ({failed}) {{
                const alert = document.querySelector('[role=alert]');
                return {{ fail: 'the app reports ' + d.state + ': ' + JSON.stringify(Object.assign({{}}, d))
                    + (alert ? ' — ' + alert.innerText : '') }};
            }}
            return !!({condition});
        }})()"
    );
    session.wait_until_as(poll, condition, &probe)?;
    status(session)
}

/// Waits until the app has mounted and is ready (or already training).
pub fn wait_ready(session: &Session) -> Result<LabStatus> {
    wait_for(session, Poll::SCENARIO, "d.state === 'ready' || d.state === 'training'")
}

/// Where to put a slider.
#[derive(Clone, Copy, Debug)]
pub enum Knob {
    Min,
    Max,
    Value(f64),
}

/// Moves slider `#id` as a user would (sets `value`, dispatches a bubbling `input`); returns the new value.
pub fn set_knob(session: &Session, id: &str, to: Knob) -> Result<String> {
    let to = match to {
        Knob::Min => json!("min"),
        Knob::Max => json!("max"),
        Knob::Value(x) => json!(x),
    };
    let moved = session.execute(
        "const [id, to] = arguments;
         const el = document.getElementById(id);
         if (!el) throw new Error('no #' + id);
         if (el.type !== 'range') throw new Error('#' + id + ' is not <input type=range>');
         el.value = String(to === 'min' ? el.min : to === 'max' ? el.max : to);
         el.dispatchEvent(new Event('input', { bubbles: true }));
         return el.value;",
        &[json!(id), to],
    )?;
    moved.as_str().map(str::to_string).with_context(|| format!("#{id} value is not a string: {moved}"))
}

/// Whether the first element matching `css` exists and is rendered visibly.
pub fn is_visible(session: &Session, css: &str) -> Result<bool> {
    let visible = session.execute(
        "const el = document.querySelector(arguments[0]);
         if (!el) return false;
         const style = getComputedStyle(el);
         return el.getClientRects().length > 0 && style.visibility !== 'hidden' && style.display !== 'none'
             && Number(style.opacity) > 0;",
        &[json!(css)],
    )?;
    Ok(visible.as_bool() == Some(true))
}

/// How long after a change the address bar is certainly rewritten: the page writes it once the
/// controls have rested for 250 ms (browsers throttle `replaceState` called on every input).
pub const ADDRESS_SETTLES: std::time::Duration = std::time::Duration::from_millis(500);

/// The page's query parameters once the address has settled (after the app canonicalised them),
/// decoded.
pub fn query_params(session: &Session) -> Result<Vec<(String, String)>> {
    std::thread::sleep(ADDRESS_SETTLES);
    let pairs = session.eval("[...new URLSearchParams(location.search).entries()]")?;
    let pairs = pairs.as_array().context("URLSearchParams entries")?;
    Ok(pairs.iter().filter_map(|pair| Some((pair.get(0)?.as_str()?.to_string(), pair.get(1)?.as_str()?.to_string()))).collect())
}
