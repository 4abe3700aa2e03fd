//! `LabConfig` ↔ URL query. Parsing never fails: every problem becomes a note and a safe value.
//! Input is bounded before anything is allocated from it (a query longer than [`MAX_QUERY`] is cut,
//! lists stop at their limit), so a hostile link cannot make the page build a huge model.

use latent_core::data::toy2d;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::lesson::LessonLink;
use crate::sweep::plan::{parse_plan, plan_pairs};

use super::forks::{forks_value, parse_forks};
use super::{Bench, Dataset, EnginePref, Knob, LabConfig, ModelKind, ACTIVATIONS, MAX_BENCH_STEPS, MAX_DRAWN, MAX_LATENT, MAX_LAYERS, MAX_WIDTH};

/// Longest query read; the rest is ignored with a note.
pub const MAX_QUERY: usize = 4096;
/// Most entries in the hide and lock lists.
const MAX_CONTROL_LIST: usize = 32;
/// Shape controls a lesson may hide or lock, besides the knobs.
pub const SHAPE_CONTROLS: [&str; 9] = ["model", "data", "train", "noise", "seed", "hidden", "activation", "latent", "engine"];
/// Everything else a lesson may hide.
pub const OTHER_CONTROLS: [&str; 3] = ["early", "share", "export"];

impl LabConfig {
    /// The config a query (with or without its leading `?`) describes, and a note for everything
    /// in it that was ignored, replaced or clamped.
    pub fn from_query(query: &str) -> (LabConfig, Vec<String>) {
        let mut notes = Vec::new();
        let query = bounded(query.strip_prefix('?').unwrap_or(query), "the link", &mut notes);
        Self::parse(query, notes)
    }

    /// This config with the settings of `changes` (a query such as `beta=4&lr=0.01`) applied over
    /// it: what a lesson's `set` asks for. Only `changes` is bounded by [`MAX_QUERY`]: the
    /// current state's own query (a drawn data set alone takes up to about 2,500 characters) is
    /// ours and already bounded, and cutting the two together would silently drop the changes,
    /// which come last.
    pub fn with_changes(&self, changes: &str) -> (LabConfig, Vec<String>) {
        let mut notes = Vec::new();
        let changes = bounded(changes.strip_prefix('?').unwrap_or(changes), "the change", &mut notes);
        // A change of model or data starts from that pair's defaults, as the page's own model and
        // data menus do, keeping the seed, the engine and the page's settings: a lesson's
        // `model=gan&data=ring` gets the GAN of the ring, not the digit VAE's widths and knobs.
        let read = |key: &str| form_urlencoded::parse(changes.as_bytes()).filter(|(k, _)| k == key).last().map(|(_, v)| v.into_owned());
        let model = read("model").and_then(|v| ModelKind::from_key(&v)).unwrap_or(self.shape.model);
        let data = read("data").and_then(|v| Dataset::from_key(&v)).unwrap_or(self.data.dataset);
        let base = if (model, data) == (self.shape.model, self.data.dataset) {
            self.to_query()
        } else {
            let mut fresh = LabConfig::defaults_for(model, data);
            fresh.shape.seed = self.shape.seed;
            fresh.engine = self.engine;
            fresh.page = self.page.clone();
            fresh.check_model_fits_data();
            fresh.to_query()
        };
        // Later keys win, so the changes override the current values.
        Self::parse(&format!("{base}&{changes}"), notes)
    }

    fn parse(query: &str, mut notes: Vec<String>) -> (LabConfig, Vec<String>) {
        // `+` is a space, escapes are decoded and invalid ones stay as written, as a browser reads a query.
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let get = |key: &str| pairs.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.as_str());

        let model = match get("model") {
            None => ModelKind::Vae,
            Some(v) => ModelKind::from_key(v).unwrap_or_else(|| {
                notes.push(format!("unknown model `{}`; using the VAE", shorten(v)));
                ModelKind::Vae
            }),
        };
        let default_data = if matches!(model, ModelKind::Gan) { Dataset::Toy(toy2d::Toy2d::Ring8) } else { Dataset::Mnist };
        let dataset = match get("data") {
            None => default_data,
            Some(v) => Dataset::from_key(v).unwrap_or_else(|| {
                notes.push(format!("unknown dataset `{}`; using {}", shorten(v), default_data.name()));
                default_data
            }),
        };
        let mut c = LabConfig::defaults_for(model, dataset);
        c.notes_from_check(&mut notes);

        let (lo, hi) = c.data.dataset.train_range();
        if let Some(v) = number(&mut notes, "train", get("train")) {
            c.data.train_size = clamp_note(&mut notes, "train", v, lo as f64, hi as f64).round() as usize;
        }
        if let Some(v) = number(&mut notes, "noise", get("noise")) {
            if c.data.dataset.is_2d() {
                c.data.noise = clamp_note(&mut notes, "noise", v, 0.0, f64::from(toy2d::MAX_NOISE)) as f32;
            } else {
                notes.push(format!("`noise` applies to 2D data, not {}; ignored", c.data.dataset.name()));
            }
        }
        if let Some(v) = number(&mut notes, "seed", get("seed")) {
            c.shape.seed = clamp_note(&mut notes, "seed", v, 0.0, f64::from(u32::MAX)).round() as u64;
        }
        if let Some(v) = get("pts").filter(|_| c.data.dataset == Dataset::Drawn) {
            c.data.drawn = parse_points(&mut notes, v);
        }
        if let Some(v) = get("hidden") {
            c.shape.hidden = parse_hidden(&mut notes, v).unwrap_or(c.shape.hidden);
        }
        if let Some(v) = get("activation") {
            match ACTIVATIONS.into_iter().find(|a| a.name() == v) {
                Some(a) => c.shape.activation = a,
                None => notes.push(format!("unknown activation `{}`; using {}", shorten(v), c.shape.activation.name())),
            }
        }
        if let Some(v) = number(&mut notes, "latent", get("latent")) {
            c.shape.latent = clamp_note(&mut notes, "latent", v, 1.0, MAX_LATENT as f64).round() as usize;
        }
        for knob in Knob::ALL {
            if let Some(v) = number(&mut notes, knob.key(), get(knob.key())) {
                // A GAN link from before λ_G and λ_D: its `l2` was both (applied below).
                let shared_gan_l2 = knob == Knob::L2 && c.shape.model == ModelKind::Gan;
                if !knob.applies_to(&c) && !shared_gan_l2 {
                    notes.push(format!("`{}` does not apply to the {}; ignored", knob.key(), c.shape.model.name()));
                    continue;
                }
                knob.set(&mut c, knob_value(&mut notes, knob, v));
            }
        }
        // Links from before λ_G and λ_D carry one `l2`, which then held for D (and the GAN's G) too.
        if get("l2").is_some() {
            if c.shape.model == ModelKind::Gan {
                c.knobs.l2_g = Some(get("l2g").map_or(c.knobs.l2, |_| c.knobs.l2_generator()));
                c.knobs.l2_d = Some(get("l2d").map_or(c.knobs.l2, |_| c.knobs.l2_discriminator()));
                c.knobs.l2 = 0.0;
            } else if c.shape.model.has_discriminator() && get("l2d").is_none() {
                c.knobs.l2_d = Some(c.knobs.l2);
            }
        }
        c.early_stopping = flag(&mut notes, "early", get("early"));
        c.page.embed = flag(&mut notes, "embed", get("embed"));
        c.page.autoplay = flag(&mut notes, "autoplay", get("autoplay"));
        if let Some(v) = get("engine") {
            match EnginePref::from_key(v) {
                Some(e) => c.engine = e,
                None => notes.push(format!("unknown engine `{}`; choosing automatically", shorten(v))),
            }
        }
        match get("bench") {
            Some(v) if v.trim() == "matmul" => c.page.bench = Some(Bench::Matmul),
            v => {
                if let Some(v) = number(&mut notes, "bench", v) {
                    c.page.bench = Some(Bench::Train { steps: clamp_note(&mut notes, "bench", v.round(), 1.0, MAX_BENCH_STEPS as f64) as usize });
                }
            }
        }
        c.forks = parse_forks(&mut notes, get("forks"), &c);
        c.sweep = parse_plan(&mut notes, get, c.shape.model);
        c.page.lesson = lesson_link(&mut notes, get("lesson"), get("card"));
        c.page.hide = control_list(&mut notes, "hide", get("hide"));
        c.page.lock = control_list(&mut notes, "lock", get("lock"));

        let known: Vec<&str> = KNOWN_KEYS.iter().copied().chain(Knob::ALL.iter().map(|k| k.key())).collect();
        for (k, _) in pairs.iter().filter(|(k, _)| !known.contains(&k.as_str())).take(5) {
            notes.push(format!("ignored unknown setting `{}`", shorten(k)));
        }
        (c, notes)
    }

    fn notes_from_check(&mut self, notes: &mut Vec<String>) {
        if let Some(note) = self.check_model_fits_data() {
            notes.push(note);
        }
    }

    /// The query that restores this config (no leading `?`): every control and the seed.
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(&str, String)> =
            vec![("model", self.shape.model.key().into()), ("data", self.data.dataset.key().into()), ("train", self.data.train_size.to_string())];
        if self.data.dataset.is_2d() {
            pairs.push(("noise", Knob::format_plain(self.data.noise)));
        }
        if self.data.dataset == Dataset::Drawn {
            pairs.push(("pts", self.data.drawn.iter().map(|p| format!("{}:{}", round2(p[0]), round2(p[1]))).collect::<Vec<_>>().join(",")));
        }
        pairs.extend([
            ("seed", self.shape.seed.to_string()),
            ("hidden", self.shape.hidden.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")),
            ("activation", self.shape.activation.name().into()),
            ("latent", self.shape.latent.to_string()),
        ]);
        for knob in Knob::ALL.into_iter().filter(|k| k.applies_to(self)) {
            pairs.push((knob.key(), Knob::format_plain(knob.get(self))));
        }
        if self.early_stopping {
            pairs.push(("early", "1".into()));
        }
        if self.engine != EnginePref::Auto {
            pairs.push(("engine", self.engine.key().into()));
        }
        for (key, on) in [("embed", self.page.embed), ("autoplay", self.page.autoplay)] {
            if on {
                pairs.push((key, "1".into()));
            }
        }
        match self.page.bench {
            Some(Bench::Train { steps }) => pairs.push(("bench", steps.to_string())),
            Some(Bench::Matmul) => pairs.push(("bench", "matmul".into())),
            None => {}
        }
        if let Some(forks) = forks_value(self) {
            pairs.push(("forks", forks));
        }
        if let Some(plan) = &self.sweep {
            pairs.extend(plan_pairs(plan));
        }
        if let Some(link) = &self.page.lesson {
            pairs.extend([("lesson", link.name.clone()), ("card", (link.card + 1).to_string())]);
        }
        for (key, list) in [("hide", &self.page.hide), ("lock", &self.page.lock)] {
            if !list.is_empty() {
                pairs.push((key, list.join(",")));
            }
        }
        pairs.iter().map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, VALUE))).collect::<Vec<_>>().join("&")
    }
}

impl Knob {
    /// A number as the URL holds it: the shortest text that reads back to the same f32.
    pub fn format_plain(value: f32) -> String {
        format!("{value}")
    }
}

/// Every key a link may hold besides the knobs' own.
pub const KNOWN_KEYS: [&str; 26] = [
    "model",
    "data",
    "train",
    "noise",
    "seed",
    "pts",
    "hidden",
    "activation",
    "latent",
    "early",
    "embed",
    "autoplay",
    "engine",
    "hide",
    "lock",
    "bench",
    "sweep",
    "sweep_values",
    "folds",
    "sweep_steps",
    "sweep_workers",
    "across",
    "across_values",
    "lesson",
    "card",
    "forks",
];

/// A drawn coordinate as the URL holds it: two decimals (a hundredth of the view's unit).
pub fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// Drawn points `x:y,x:y,…`: at most [`MAX_DRAWN`], each within the 2D view; bad ones are dropped.
/// `query` cut at [`MAX_QUERY`] (on a character boundary) with a note naming `what` was cut.
fn bounded<'q>(query: &'q str, what: &str, notes: &mut Vec<String>) -> &'q str {
    if query.len() <= MAX_QUERY {
        return query;
    }
    let cut = (0..=MAX_QUERY).rev().find(|&i| query.is_char_boundary(i)).unwrap_or(0);
    notes.push(format!("{what} is longer than {MAX_QUERY} characters; the rest was ignored"));
    &query[..cut]
}

fn parse_points(notes: &mut Vec<String>, value: &str) -> Vec<[f32; 2]> {
    let reach = toy2d::VIEW_HALF_EXTENT;
    let mut points = Vec::new();
    let mut dropped = 0usize;
    let mut entries = value.split(',').filter(|s| !s.is_empty());
    for entry in entries.by_ref().take(MAX_DRAWN) {
        let parsed = entry.split_once(':').and_then(|(x, y)| Some([x.trim().parse::<f32>().ok()?, y.trim().parse::<f32>().ok()?]));
        match parsed {
            Some([x, y]) if x.is_finite() && y.is_finite() && x.abs() <= reach && y.abs() <= reach => points.push([round2(x), round2(y)]),
            _ => dropped += 1,
        }
    }
    if entries.next().is_some() {
        notes.push(format!("at most {MAX_DRAWN} drawn points; the rest were dropped"));
    }
    if dropped > 0 {
        notes.push(format!("{dropped} drawn point(s) were not `x:y` within ±{reach}; dropped"));
    }
    points
}

/// A number, or a note and `None`.
pub(crate) fn number(notes: &mut Vec<String>, key: &str, value: Option<&str>) -> Option<f64> {
    let v = value?;
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() => Some(x),
        _ => {
            notes.push(format!("`{key}={}` is not a number; ignored", shorten(v)));
            None
        }
    }
}

/// A knob's value from a link, clamped to its range with a note. Compared as f32, the knob's own
/// type: `l1=0.01` is exactly the f32 maximum.
pub(crate) fn knob_value(notes: &mut Vec<String>, knob: Knob, v: f64) -> f32 {
    let (lo, hi) = knob.scale().bounds();
    let v = v as f32;
    let clamped = if v.is_finite() { v.clamp(lo, hi) } else { hi };
    if clamped != v {
        notes.push(format!("`{}={v}` is outside [{lo}, {hi}]; clamped to {clamped}", knob.key()));
    }
    clamped
}

pub(crate) fn clamp_note(notes: &mut Vec<String>, key: &str, v: f64, lo: f64, hi: f64) -> f64 {
    let clamped = v.clamp(lo, hi);
    if clamped != v {
        notes.push(format!("`{key}={v}` is outside [{lo}, {hi}]; clamped to {clamped}"));
    }
    clamped
}

fn flag(notes: &mut Vec<String>, key: &str, value: Option<&str>) -> bool {
    match value {
        None | Some("0" | "false" | "off") => false,
        Some("" | "1" | "true" | "on") => true,
        Some(v) => {
            notes.push(format!("`{key}={}` is not 0 or 1; ignored", shorten(v)));
            false
        }
    }
}

/// Hidden widths: at most [`MAX_LAYERS`] numbers in 1..=[`MAX_WIDTH`]; `None` when nothing usable.
fn parse_hidden(notes: &mut Vec<String>, value: &str) -> Option<Vec<usize>> {
    let mut widths = Vec::new();
    let mut parts = value.split(',').filter(|s| !s.trim().is_empty());
    for part in parts.by_ref().take(MAX_LAYERS) {
        match part.trim().parse::<f64>() {
            Ok(w) if w.is_finite() => widths.push(clamp_note(notes, "hidden", w.round(), 1.0, MAX_WIDTH as f64) as usize),
            _ => {
                notes.push(format!("hidden width `{}` is not a number; using the default layers", shorten(part)));
                return None;
            }
        }
    }
    if parts.next().is_some() {
        notes.push(format!("at most {MAX_LAYERS} hidden layers; the rest were dropped"));
    }
    if widths.is_empty() {
        notes.push("`hidden` lists no layer; using the default layers".into());
        return None;
    }
    Some(widths)
}

/// The lesson a link opens and its card (counted from 1 in the link, clamped to
/// [`MAX_CARDS`](crate::lesson::MAX_CARDS); the page clamps it again to the lesson's own count).
fn lesson_link(notes: &mut Vec<String>, name: Option<&str>, card: Option<&str>) -> Option<LessonLink> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        if card.is_some() {
            notes.push("`card` without a `lesson`; ignored".into());
        }
        return None;
    };
    if let Err(reason) = LessonLink::check_name(name) {
        notes.push(reason);
        return None;
    }
    let card = number(notes, "card", card).map_or(1.0, |n| clamp_note(notes, "card", n.round(), 1.0, crate::lesson::MAX_CARDS as f64));
    Some(LessonLink { name: name.to_string(), card: card as usize - 1 })
}

/// The hide or lock list: known control keys only.
fn control_list(notes: &mut Vec<String>, key: &str, value: Option<&str>) -> Vec<String> {
    let Some(value) = value else { return Vec::new() };
    let mut list: Vec<String> = Vec::new();
    for name in value.split(',').filter(|s| !s.is_empty()).take(MAX_CONTROL_LIST) {
        let known = Knob::ALL.iter().any(|k| k.key() == name) || SHAPE_CONTROLS.contains(&name) || OTHER_CONTROLS.contains(&name);
        if !known {
            notes.push(format!("`{key}` names no control `{}`; ignored", shorten(name)));
        } else if !list.iter().any(|n| n == name) {
            list.push(name.to_string());
        }
    }
    list
}

/// At most 40 characters of user text in a note.
/// How a value from the link is quoted back in a note. A link can come from anyone, and the notes
/// banner should not become a billboard for its text: only short plain values (letters, digits and
/// `.,:+-_`) are echoed, cut at [`ECHOED`] characters; anything else is described, not shown.
pub(crate) fn shorten(s: &str) -> String {
    if !s.chars().all(|c| c.is_ascii_alphanumeric() || ".,:+-_".contains(c)) {
        return format!("[{} characters, not shown]", s.chars().count());
    }
    let mut out: String = s.chars().take(ECHOED).collect();
    if s.chars().nth(ECHOED).is_some() {
        out.push('…');
    }
    out
}

/// Longest value quoted back in a note.
const ECHOED: usize = 24;
/// Most notes the page's banner shows: it says what a link changed, not every detail of a hostile one.
pub const MAX_NOTES: usize = 3;

/// The notes as the page shows them: at most [`MAX_NOTES`], the last one counting what was left out.
pub fn a_few_notes(notes: &[String]) -> Vec<String> {
    if notes.len() <= MAX_NOTES {
        return notes.to_vec();
    }
    let shown = MAX_NOTES - 1;
    notes[..shown].iter().cloned().chain([format!("and {} more adjustments", notes.len() - shown)]).collect()
}

/// What a value escapes: everything but unreserved characters and the comma (lists stay readable).
const VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b',');
