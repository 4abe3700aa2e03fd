//! The lesson API: a course page that embeds Latent Lab in an iframe can drive it with
//! `postMessage`, e.g. move β at the moment its text talks about posterior collapse.
//!
//! A message is an object `{ latentLab: 1, action, query? }`:
//! - `action: "set"`, `query: "beta=4&lr=0.01"`: changes settings, through the same validated path
//!   as a link (unknown keys and bad values are noted, ranges clamped, hostile sizes cut);
//! - `"play"`, `"pause"`, `"step"`, `"reset"`: as the buttons;
//! - `"status"`: asks for a reply only.
//!
//! Every marked message gets a reply to its sender, `{ latentLabReply: 1, ok, message, query,
//! state, step, loss }` (a mark of its own, so that a reply is never read as a request): `ok` false with the reason for a malformed one; `query` is the page's whole state
//! afterwards. Messages without the `latentLab: 1` mark (other scripts' traffic) are ignored
//! silently. Only the embedding page (`window.parent`) or the page itself is listened to; the API
//! changes nothing but the playground's own settings, so any origin may embed and drive it.

use js_sys::{Object, Reflect};
use latent_session::config::{query::MAX_QUERY, LabConfig};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::state::{Command, Lab, Phase};

/// The mark and version a message must carry, and the mark of replies.
const MARK: &str = "latentLab";
const REPLY_MARK: &str = "latentLabReply";
const VERSION: f64 = 1.0;

/// A validated request.
#[derive(Debug, PartialEq)]
enum Request {
    Set(String),
    Play,
    Pause,
    Step,
    Reset,
    Status,
}

/// Starts listening for the embedding page's messages (once per page).
pub fn listen(lab: Lab) {
    let Some(window) = web_sys::window() else { return };
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| on_message(lab, &event));
    if window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).is_ok() {
        // The listener lives as long as the page.
        handler.forget();
    }
}

fn on_message(lab: Lab, event: &web_sys::MessageEvent) {
    let Some(window) = web_sys::window() else { return };
    let Some(source) = event.source().and_then(|s| s.dyn_into::<web_sys::Window>().ok()) else { return };
    let from_parent = window.parent().ok().flatten().is_some_and(|parent| Object::is(&parent, &source));
    if !from_parent && !Object::is(&window, &source) {
        return;
    }
    let data = event.data();
    let marked = data.is_object() && Reflect::get(&data, &MARK.into()).ok().and_then(|v| v.as_f64()).is_some();
    if !marked {
        return;
    }
    let (ok, message) = match parse(&data) {
        Ok(request) => (true, apply(lab, request)),
        Err(reason) => (false, reason),
    };
    let reply = reply(lab, ok, &message);
    let origin = event.origin();
    let target = if origin.is_empty() || origin == "null" { "*".to_string() } else { origin };
    if let Err(e) = source.post_message(&reply, &target) {
        log::warn!("lesson API: could not reply: {e:?}");
    }
}

/// The request a marked message asks for, or why it is malformed.
fn parse(data: &JsValue) -> Result<Request, String> {
    let version = Reflect::get(data, &MARK.into()).ok().and_then(|v| v.as_f64());
    if version != Some(VERSION) {
        return Err(format!("unsupported {MARK} version {version:?}; this page speaks version {VERSION}"));
    }
    let field = |name: &str| Reflect::get(data, &name.into()).ok().filter(|v| !v.is_undefined());
    let action = field("action").and_then(|v| v.as_string()).ok_or("the message has no `action` string")?;
    Ok(match action.as_str() {
        "set" => {
            let query = field("query").and_then(|v| v.as_string()).ok_or("`set` needs a `query` string such as \"beta=4&lr=0.01\"")?;
            if query.len() > MAX_QUERY {
                return Err(format!("the query is {} characters; at most {MAX_QUERY} are read", query.len()));
            }
            Request::Set(query)
        }
        "play" => Request::Play,
        "pause" => Request::Pause,
        "step" => Request::Step,
        "reset" => Request::Reset,
        "status" => Request::Status,
        other => return Err(format!("unknown action `{}`: set, play, pause, step, reset or status", other.chars().take(40).collect::<String>())),
    })
}

/// Carries out a request; returns what the reply says about it.
fn apply(lab: Lab, request: Request) -> String {
    match request {
        Request::Set(query) => {
            // Later keys win, so the request's values override the current state's.
            let merged = format!("{}&{}", lab.config.with_untracked(LabConfig::to_query), query.trim_start_matches('?'));
            let (config, notes) = LabConfig::from_query(&merged);
            lab.config.set(config);
            if notes.is_empty() {
                "settings applied".into()
            } else {
                format!("settings applied; adjusted: {}", notes.join("; "))
            }
        }
        Request::Play if lab.phase.get_untracked() == Phase::Diverged => "the run diverged: restore or reset it first".into(),
        Request::Play | Request::Pause => {
            let play = request == Request::Play;
            if lab.playing.get_untracked() != play {
                lab.toggle_play();
            }
            if play {
                "playing".into()
            } else {
                "paused".into()
            }
        }
        Request::Step => {
            lab.send(Command::Step);
            "one step queued".into()
        }
        Request::Reset => {
            lab.send(Command::Reset);
            "reset queued".into()
        }
        Request::Status => "status".into(),
    }
}

/// The reply object: the outcome and the page's state.
fn reply(lab: Lab, ok: bool, message: &str) -> JsValue {
    let reply = Object::new();
    let loss = lab.history.with_untracked(|h| h.latest().map(|p| p.total));
    let fields: [(&str, JsValue); 7] = [
        (REPLY_MARK, VERSION.into()),
        ("ok", ok.into()),
        ("message", message.into()),
        ("query", lab.config.with_untracked(LabConfig::to_query).into()),
        ("state", lab.phase.get_untracked().key().into()),
        ("step", (lab.step.get_untracked() as f64).into()),
        ("loss", loss.map_or(JsValue::NULL, JsValue::from)),
    ];
    for (key, value) in fields {
        Reflect::set(&reply, &key.into(), &value).ok();
    }
    reply.into()
}
