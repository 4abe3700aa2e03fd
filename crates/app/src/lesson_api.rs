//! The lesson API: a course page that embeds Latent Lab in an iframe can drive it with
//! `postMessage`, e.g. move β at the moment its text talks about posterior collapse.
//!
//! A message is an object `{ latentLab: 1, action, query? }`:
//! - `action: "set"`, `query: "beta=4&lr=0.01"`: changes settings, through the same validated path
//!   as a link (unknown keys and bad values are noted, ranges clamped, hostile sizes cut);
//! - `"play"`, `"pause"`, `"step"`, `"reset"`: as the buttons;
//! - `action: "lesson"`, `name: "elbo-beta"`, `card: 2`: opens a built-in lesson (or a `.md` file
//!   beside the page) at a card, counted from 1; without `name`, moves the open lesson to `card`;
//!   `name: ""` closes the lesson;
//! - `"status"`: asks for a reply only.
//!
//! Every marked message gets a reply, `{ latentLabReply: 1, ok, message, query, state, step, loss,
//! kl, trainElbo, testElbo, dAccuracy, modesCovered, modesTotal, lesson, card, cardReached }` (a mark of its own, so that a reply
//! is never read as a request): `ok` false with the reason for a malformed one; `query` is the
//! page's whole state afterwards, less the user's own points (`pts`), which never leave the page.
//! The reply goes to the sender's origin only, on the `MessagePort` sent with the message if there
//! is one. Messages without the `latentLab: 1` mark (other scripts' traffic) are ignored silently.
//!
//! Only the framing page (`window.parent`) or the page itself is listened to, and only from origins
//! the host allows ([`latent_session::lesson_origins`]: the page's own origin and those listed in
//! the release page's `latent-lab-lesson-origins` meta tag); any other origin gets a refusal that
//! carries none of the page's state.

use js_sys::{JsString, Object, Reflect};
use latent_session::config::query::MAX_QUERY;
use latent_session::lesson::{LessonLink, MAX_CARDS, MAX_NAME};
use latent_session::lesson_origins::{LessonOrigins, META_NAME};
use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use crate::lesson::{self, LessonState};
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
    /// A lesson's name (`Some("")` closes it) and a card, from 0.
    Lesson {
        name: Option<String>,
        card: Option<usize>,
    },
}

/// Longest `action` read: the longest action is six characters; anything longer is refused
/// before it is copied into the module's memory.
const MAX_ACTION: u32 = 16;

/// Starts listening for the embedding page's messages (once per page).
pub fn listen(lab: Lab) {
    let Some(window) = web_sys::window() else { return };
    let origins = host_origins(&window);
    let handler = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| on_message(lab, &origins, &event));
    if window.add_event_listener_with_callback("message", handler.as_ref().unchecked_ref()).is_ok() {
        // The listener lives as long as the page.
        handler.forget();
    }
}

/// The origins the host allows, from the page's meta tag (none listed when it is missing).
fn host_origins(window: &web_sys::Window) -> LessonOrigins {
    let content = window
        .document()
        .and_then(|d| d.query_selector(&format!("meta[name=\"{META_NAME}\"]")).ok().flatten())
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    let (origins, notes) = LessonOrigins::parse(&content);
    for note in notes {
        log::warn!("lesson API: {note}");
    }
    origins
}

fn on_message(lab: Lab, origins: &LessonOrigins, event: &web_sys::MessageEvent) {
    let Some(window) = web_sys::window() else { return };
    // The framing page's window comes from another JavaScript realm (and, cross-origin, is a
    // proxy), so it is compared by identity, never cast: an `instanceof Window` check fails for it.
    let Some(source) = event.source() else { return };
    let source: &JsValue = source.as_ref();
    let from_parent = window.parent().ok().flatten().is_some_and(|parent| Object::is(&parent, source));
    if !from_parent && !Object::is(&window, source) {
        return;
    }
    let data = event.data();
    let marked = data.is_object() && Reflect::get(&data, &MARK.into()).ok().and_then(|v| v.as_f64()).is_some();
    if !marked {
        return;
    }
    let origin = event.origin();
    let own = window.location().origin().unwrap_or_default();
    let port = event.ports().get(0).dyn_into::<web_sys::MessagePort>().ok();
    match origins.allows(&origin, &own) {
        Ok(()) => match parse(&data).and_then(|request| apply(lab, request)) {
            Ok(Outcome::Done(message)) => send(&reply(lab, true, &message), port, source, &origin),
            // The reply waits until the lesson opened (its file is fetched), so it tells the
            // lesson's state, or why it could not open.
            Ok(Outcome::Opening(link)) => {
                let source = source.clone();
                leptos::task::spawn_local(async move {
                    let message = format!("opened the lesson {}", link.name);
                    let reply = match lesson::open_link(lab, link).await {
                        Ok(()) => reply(lab, true, &message),
                        Err(reason) => reply(lab, false, &reason),
                    };
                    send(&reply, port, &source, &origin);
                });
            }
            Err(reason) => send(&reply(lab, false, &reason), port, source, &origin),
        },
        Err(reason) if origin.is_empty() || origin == "null" => {
            // Nowhere to address a reply to that origin alone.
            log::warn!("lesson API: {reason}");
        }
        Err(reason) => send(&refusal(&reason), port, source, &origin),
    }
}

/// Posts `reply` on the message's port if it came with one, else to its sender at `origin`.
fn send(reply: &JsValue, port: Option<web_sys::MessagePort>, source: &JsValue, origin: &str) {
    let sent = match port {
        Some(port) => port.post_message(reply),
        // A structural call: the parent's window is a proxy from another realm, not this one's `Window`.
        None => source.unchecked_ref::<web_sys::Window>().post_message(reply, origin),
    };
    if let Err(e) = sent {
        log::warn!("lesson API: could not reply: {e:?}");
    }
}

/// A string field of the message, if it is a string of at most `max` UTF-16 units: the length is
/// read before the string is copied into the module's memory. `Err` names the field when too long.
fn short_string(data: &JsValue, name: &str, max: u32) -> Result<Option<String>, String> {
    let Some(value) = Reflect::get(data, &name.into()).ok().filter(|v| !v.is_undefined()) else { return Ok(None) };
    let Some(string) = value.dyn_ref::<JsString>() else { return Ok(None) };
    if string.length() > max {
        return Err(format!("`{name}` is {} characters; at most {max} are read", string.length()));
    }
    Ok(string.as_string())
}

/// The request a marked message asks for, or why it is malformed.
fn parse(data: &JsValue) -> Result<Request, String> {
    let version = Reflect::get(data, &MARK.into()).ok().and_then(|v| v.as_f64());
    if version != Some(VERSION) {
        return Err(format!("unsupported {MARK} version {version:?}; this page speaks version {VERSION}"));
    }
    let action = short_string(data, "action", MAX_ACTION)?.ok_or("the message has no `action` string")?;
    Ok(match action.as_str() {
        "set" => {
            let query = short_string(data, "query", MAX_QUERY as u32)?.ok_or("`set` needs a `query` string such as \"beta=4&lr=0.01\"")?;
            Request::Set(query)
        }
        "play" => Request::Play,
        "pause" => Request::Pause,
        "step" => Request::Step,
        "reset" => Request::Reset,
        "status" => Request::Status,
        "lesson" => {
            let name = short_string(data, "name", MAX_NAME as u32)?;
            if let Some(name) = name.as_deref().filter(|n| !n.is_empty()) {
                LessonLink::check_name(name)?;
            }
            let card = match Reflect::get(data, &"card".into()).ok().filter(|v| !v.is_undefined()) {
                None => None,
                Some(v) => match v.as_f64() {
                    Some(n) if n.fract() == 0.0 && (1.0..=MAX_CARDS as f64).contains(&n) => Some(n as usize - 1),
                    _ => return Err(format!("`card` is a whole number from 1 to {MAX_CARDS}")),
                },
            };
            if name.is_none() && card.is_none() {
                return Err("`lesson` needs a `name` (\"elbo-beta\", or \"\" to close it) or a `card`".into());
            }
            Request::Lesson { name, card }
        }
        other => return Err(format!("unknown action `{}`: set, play, pause, step, reset, lesson or status", other.chars().take(40).collect::<String>())),
    })
}

/// What a request came to: done (the reply says what), or a lesson to open first.
enum Outcome {
    Done(String),
    Opening(LessonLink),
}

/// Carries out a request; returns what the reply says about it, or why it was refused.
fn apply(lab: Lab, request: Request) -> Result<Outcome, String> {
    Ok(Outcome::Done(match request {
        Request::Set(query) => {
            let (mut config, notes) = lab.config.with_untracked(|c| c.with_changes(&query));
            // Lessons open through the `lesson` action, which loads them; a `lesson=` here is ignored.
            config.page.lesson = lab.config.with_untracked(|c| c.page.lesson.clone());
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
        Request::Lesson { name: Some(name), .. } if name.is_empty() => {
            lesson::close(lab);
            "lesson closed".into()
        }
        Request::Lesson { name: Some(name), card } => return Ok(Outcome::Opening(LessonLink { name, card: card.unwrap_or(0) })),
        Request::Lesson { name: None, card } => {
            if !lab.lesson.with_untracked(|l| matches!(l, LessonState::Open(_))) {
                return Err("no lesson is open: send a `name`".into());
            }
            let card = card.unwrap_or(0);
            lesson::go_to(lab, card);
            format!("moved to card {}", card + 1)
        }
    }))
}

/// The reply object: the outcome, the page's state and the numbers a lesson reads.
fn reply(lab: Lab, ok: bool, message: &str) -> JsValue {
    let (latest, train, test, d_accuracy) =
        lab.history.with_untracked(|h| (h.latest().cloned(), h.last_measured(|p| p.train), h.last_measured(|p| p.test), h.last_measured(|p| p.d_accuracy)));
    let vae_family = lab.config.with_untracked(|c| c.shape.model.has_encoder());
    let modes = lab.views.with_untracked(|v| v.modes);
    let number = |v: Option<f64>| v.filter(|x| x.is_finite()).map_or(JsValue::NULL, JsValue::from);
    let (lesson_name, card, reached) = lab.lesson.with_untracked(|l| match l {
        LessonState::Open(open) => (JsValue::from(open.name.as_str()), JsValue::from(open.card as f64 + 1.0), JsValue::from(open.reached_here().is_some())),
        _ => (JsValue::NULL, JsValue::NULL, JsValue::NULL),
    });
    let fields: [(&str, JsValue); 16] = [
        (REPLY_MARK, VERSION.into()),
        ("ok", ok.into()),
        ("message", message.into()),
        ("query", lab.config.with_untracked(|c| without_points(&c.to_query())).into()),
        ("state", lab.phase.get_untracked().key().into()),
        ("step", (lab.step.get_untracked() as f64).into()),
        ("loss", number(latest.as_ref().map(|p| p.total))),
        ("kl", number(latest.as_ref().filter(|_| vae_family).map(|p| p.kl))),
        ("trainElbo", number(train)),
        ("testElbo", number(test)),
        ("dAccuracy", number(d_accuracy)),
        ("modesCovered", number(modes.map(|(covered, _)| covered as f64))),
        ("modesTotal", number(modes.map(|(_, total)| total as f64))),
        ("lesson", lesson_name),
        ("card", card),
        ("cardReached", reached),
    ];
    object(&fields)
}

/// The reply to an origin the host does not allow: the reason, and nothing of the page's state.
fn refusal(reason: &str) -> JsValue {
    object(&[(REPLY_MARK, VERSION.into()), ("ok", false.into()), ("message", reason.into())])
}

fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let reply = Object::new();
    for (key, value) in fields {
        Reflect::set(&reply, &(*key).into(), value).ok();
    }
    reply.into()
}

/// The query less the user's drawn or uploaded points: those stay in the page.
fn without_points(query: &str) -> String {
    query.split('&').filter(|pair| !pair.starts_with("pts=")).collect::<Vec<_>>().join("&")
}
