//! The lesson beside the playground: which lesson is open and on which card, what each card's
//! setup and "try" buttons do to the config, and when a card's check ticks.
//!
//! A check ticks only on what the student trained for on that card: it arms once the run has
//! trained past the step at which the card opened (or, when the card's setup built a new model,
//! past that model's first step), and it reads the views refreshed after that; a sweep's choices
//! count only from a sweep started after the card opened. So a card cannot tick on the numbers of
//! the card before it.

use std::sync::Arc;

use latent_session::config::LabConfig;
use latent_session::lesson::{Lesson, LessonLink, Readout, Readouts, Try, BUILT_IN};
use leptos::prelude::*;

use crate::state::Lab;
use crate::sweep::SweepPhase;

/// Where the lesson panel is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum LessonState {
    #[default]
    Closed,
    /// A lesson (a built-in one, or a file beside the page) is on its way.
    Loading(String),
    /// It could not be opened; the message says why.
    Failed(String),
    Open(OpenLesson),
}

/// An open lesson and the student's progress through it.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenLesson {
    /// The built-in lesson's name, the file's address beside the page, or the name of a file the
    /// user opened (which a link cannot reopen).
    pub name: String,
    /// Whether a link can name it (a user's own file is not on the host).
    pub linkable: bool,
    pub lesson: Arc<Lesson>,
    pub card: usize,
    /// Per card: the step at which its check ticked (`None`: on a sweep's choices, whatever the
    /// main run's step) and the readouts it ticked with.
    pub reached: Vec<Option<(Option<u64>, String)>>,
    /// The step the card opened at; its check arms once the run trains past it.
    baseline: u64,
    /// When the card opened (ms): only a sweep started after that is the card's own.
    opened_ms: f64,
    last_step: u64,
    armed: bool,
}

impl OpenLesson {
    pub fn reached_here(&self) -> Option<&(Option<u64>, String)> {
        self.reached.get(self.card).and_then(Option::as_ref)
    }

    pub fn opened_ms(&self) -> f64 {
        self.opened_ms
    }
}

/// Opens the lesson of the page's link, if it names one, and starts watching the checks.
pub fn start(lab: Lab) {
    if let Some(link) = lab.config.with_untracked(|c| c.page.lesson.clone()) {
        follow_link(lab, link);
    }
    watch_checks(lab);
}

/// Opens the lesson the link names in the background (see [`open_link`]).
pub fn follow_link(lab: Lab, link: LessonLink) {
    leptos::task::spawn_local(async move {
        open_link(lab, link).await.ok();
    });
}

/// Fetches the lesson the link names, a built-in one (from `lessons/`) or a file beside the page,
/// and opens it at the link's card; or shows, and returns, why it could not.
pub async fn open_link(lab: Lab, link: LessonLink) -> Result<(), String> {
    let path = link.built_in().map_or_else(|| link.name.clone(), |built_in| built_in.path());
    lab.lesson.set(LessonState::Loading(link.name.clone()));
    let opened = latent_web::fetch_bytes(&path).await.and_then(|bytes| Lesson::from_bytes(&bytes).map_err(|e| e.to_string()));
    match opened {
        Ok(lesson) => {
            open(lab, link.name, true, lesson, link.card);
            Ok(())
        }
        Err(e) => {
            let message = format!("The lesson {} could not be opened: {e}", link.name);
            fail(lab, message.clone());
            Err(message)
        }
    }
}

/// A lesson file the user chose: read in the page, validated, never sent anywhere.
pub fn open_file(lab: Lab, file: web_sys::File) {
    let name = file.name();
    leptos::task::spawn_local(async move {
        let opened =
            crate::browser::read_text_file(&file, latent_session::lesson::MAX_BYTES).await.and_then(|text| Lesson::parse(&text).map_err(|e| e.to_string()));
        match opened {
            Ok(lesson) => open(lab, name, false, lesson, 0),
            Err(e) => fail(lab, format!("The lesson file {name} could not be opened: {e}")),
        }
    });
}

/// Opens a built-in lesson by name from the gallery.
pub fn open_built_in(lab: Lab, name: &str) {
    if let Some(built_in) = BUILT_IN.iter().find(|b| b.name == name) {
        follow_link(lab, LessonLink { name: built_in.name.to_string(), card: 0 });
    }
}

fn fail(lab: Lab, message: String) {
    lab.lesson.set(LessonState::Failed(message));
    lab.config.update(|c| c.page.lesson = None);
}

/// Opens `lesson` at `card` (clamped to its cards) with every setup up to it applied, so that a
/// link into the middle of a lesson starts where that card expects.
fn open(lab: Lab, name: String, linkable: bool, lesson: Lesson, card: usize) {
    let card = card.min(lesson.cards.len() - 1);
    let (config, notes) = lab.config.with_untracked(|c| lesson.config_at(card, c));
    let reached = vec![None; lesson.cards.len()];
    let step = lab.step.get_untracked();
    let opened_ms = crate::browser::now_ms();
    lab.lesson.set(LessonState::Open(OpenLesson {
        name,
        linkable,
        lesson: Arc::new(lesson),
        card,
        reached,
        baseline: step,
        opened_ms,
        last_step: step,
        armed: false,
    }));
    apply(lab, config, notes, card);
}

/// Moves to `card` (clamped), applying its own setup over the current config.
pub fn go_to(lab: Lab, card: usize) {
    let Some(lesson) = lab.lesson.with_untracked(|s| match s {
        LessonState::Open(open) => Some(open.lesson.clone()),
        _ => None,
    }) else {
        return;
    };
    let card = card.min(lesson.cards.len() - 1);
    let (config, notes) = match &lesson.cards[card].setup {
        Some(setup) => lab.config.with_untracked(|c| c.with_changes(setup)),
        None => (lab.config.get_untracked(), Vec::new()),
    };
    let step = lab.step.get_untracked();
    lab.lesson.update(|s| {
        if let LessonState::Open(open) = s {
            (open.card, open.baseline, open.last_step, open.armed) = (card, step, step, false);
            open.opened_ms = crate::browser::now_ms();
        }
    });
    apply(lab, config, notes, card);
}

/// Sets the config a card asks for, with the lesson's place in it (so the address bar links
/// back to this card), and shows what was adjusted.
fn apply(lab: Lab, mut config: LabConfig, notes: Vec<String>, card: usize) {
    let link = lab.lesson.with_untracked(|s| match s {
        LessonState::Open(open) if open.linkable => Some(LessonLink { name: open.name.clone(), card }),
        _ => None,
    });
    config.page.lesson = link;
    if lab.config.with_untracked(|old| config.rebuilds_from(old))
        && lab.engine.with_untracked(|e| matches!(e, crate::engine::EngineInfo::Cpu { reason: Some(_) }))
    {
        lab.apply_cpu_defaults(&mut config);
    }
    if !notes.is_empty() {
        lab.url_notes.set(notes);
    }
    lab.config.set(config);
}

/// A card's "try this" button.
pub fn press(lab: Lab, button: &Try) {
    let (config, notes) = lab.config.with_untracked(|c| c.with_changes(&button.query()));
    if !notes.is_empty() {
        lab.url_notes.set(notes);
    }
    lab.config.set(config);
}

pub fn close(lab: Lab) {
    lab.lesson.set(LessonState::Closed);
    lab.config.update(|c| c.page.lesson = None);
}

/// The run's readouts now, as a check reads them, with the choices of a sweep that finished
/// after the card opened (`since_ms`) and the sharpness of the branches beside the run.
pub fn readouts(lab: Lab, since_ms: f64) -> Readouts {
    let has_encoder = lab.config.with_untracked(|c| c.shape.model.has_encoder());
    let curve = lab.sweep.with(|s| s.curve().filter(|_| s.phase == SweepPhase::Done && s.started_ms >= since_ms));
    let branches: Vec<Option<f64>> = lab.branch_views.with(|b| b.iter().map(|(_, v)| v.sharpness).collect());
    lab.history
        .with(|history| lab.views.with(|views| Readouts::of(lab.step.get_untracked(), history, views, has_encoder)))
        .with_sweep(curve.as_ref())
        .with_branches(&branches)
}

/// Arms the open card's check once the run trains past the card's first step, and ticks it
/// when views refreshed after that meet it.
fn watch_checks(lab: Lab) {
    Effect::new(move |_| {
        let step = lab.step.get();
        // Untracked: the panel shows none of this, and a step changes every frame.
        lab.lesson.update_untracked(|s| {
            if let LessonState::Open(open) = s {
                // A step count that went back is a new model (a rebuild, a reset): the card's
                // check counts from there.
                if step < open.last_step {
                    open.baseline = step;
                }
                open.last_step = step;
            }
        });
    });
    Effect::new(move |_| {
        lab.views.track();
        lab.sweep.track();
        let step = lab.step.get_untracked();
        let due = lab.lesson.with_untracked(|s| match s {
            LessonState::Open(open) if open.reached_here().is_none() => Some((open.armed, open.opened_ms, open.lesson.cards[open.card].check.clone())),
            _ => None,
        });
        let Some((armed, opened_ms, Some(check))) = due else { return };
        let readouts = readouts(lab, opened_ms);
        // A sweep's choices are the card's own (its sweep started after the card opened), trained
        // or not by the main run.
        let swept = readouts.get(Readout::LambdaMin).is_some();
        if !armed && !swept {
            // Views that arrive after the run trained past the card's first step are the card's own.
            lab.lesson.update_untracked(|s| {
                if let LessonState::Open(open) = s {
                    open.armed = step > open.baseline;
                }
            });
            return;
        }
        if check.holds(&readouts) {
            let shown = check.terms.iter().map(|t| t.describe(&readouts)).collect::<Vec<_>>().join("; ");
            lab.lesson.update(|s| {
                if let LessonState::Open(open) = s {
                    let card = open.card;
                    open.reached[card] = Some(((!swept).then_some(step), shown));
                }
            });
        }
    });
}
