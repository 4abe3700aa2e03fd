//! The page's state: one `LabConfig` signal (every control; it is also the URL) and the signals the
//! driver fills (engine, phase, history, views). All are `Copy` handles, passed to components.

use latent_session::config::LabConfig;
use latent_session::draw_pad::DrawPad;
pub use latent_session::requests::{Command, Requests};
use latent_session::run::{Drawing, History, Markers, Point, Views};
use latent_session::RunFile;
use leptos::prelude::*;

use crate::engine::EngineInfo;
use crate::lesson::LessonState;
use crate::sweep::{SweepProgress, SweepWorkers};

/// Where the run is; the page reports it as `data-state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Starting,
    Ready,
    Training,
    Paused,
    Diverged,
    Error,
}

impl Phase {
    pub fn key(self) -> &'static str {
        match self {
            Phase::Starting => "starting",
            Phase::Ready => "ready",
            Phase::Training => "training",
            Phase::Paused => "paused",
            Phase::Diverged => "diverged",
            Phase::Error => "error",
        }
    }
}

/// What the session holds in memory, for the long-run benchmark (`#lab-status`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MemoryUse {
    /// Live GPU buffers and their bytes by the engine's ledger (zero on the CPU engine).
    pub gpu_buffers: u64,
    pub gpu_bytes: u64,
    /// The WebAssembly memory's size.
    pub wasm_bytes: u64,
}

/// One of the runs training side by side after a fork. The page's list holds the main run first
/// (its history and full pictures are [`Lab::history`] and [`Lab::views`]); an empty list is a
/// single run. A branch's pictures are in [`Lab::branch_views`]: they change at each refresh, this
/// at every step.
#[derive(Clone, Debug, PartialEq)]
pub struct Branch {
    /// Its name, which keeps its colour when it becomes the main run.
    pub name: char,
    /// Its knobs, as the legend says them against the main run's ("β 4").
    pub knobs: latent_core::Knobs,
    pub history: History,
    /// Why it stopped training while the others go on.
    pub ended: Option<Ended>,
}

/// Why a branch stopped training while the others go on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Its loss became NaN or infinite: it cannot become the main run.
    Diverged,
    /// Early stopping stopped it.
    StoppedEarly,
}

/// As the card and the chart's legend say it.
impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Diverged => "diverged",
            Self::StoppedEarly => "stopped early",
        })
    }
}

/// The branches' colours, by name: Okabe and Ito's colour-blind-safe black, blue, vermillion and
/// bluish green; the name beside each line and in the legend tells them apart without colour.
pub const BRANCH_COLOURS: [&str; 4] = ["#000000", "#0072b2", "#d55e00", "#009e73"];

impl Branch {
    pub fn colour(&self) -> &'static str {
        let place = latent_session::config::forks::BRANCH_NAMES.iter().position(|&n| n == self.name).unwrap_or(0);
        BRANCH_COLOURS[place % BRANCH_COLOURS.len()]
    }
}

/// A message shown above the views.
#[derive(Clone, Debug, PartialEq)]
pub enum Notice {
    Info(String),
    Problem(String),
    /// Why the run waits for play (a restore, early stopping, a rebuilt engine), ending in "press
    /// play to train on": shown as info or as a problem, and gone once play starts, when it no
    /// longer holds.
    UntilPlay {
        text: String,
        problem: bool,
    },
}

#[derive(Clone, Copy)]
pub struct Lab {
    pub config: RwSignal<LabConfig>,
    /// Notes from reading the URL (ignored or clamped values).
    pub url_notes: RwSignal<Vec<String>>,
    /// Which defaults the CPU engine made smaller, shown under the model controls.
    pub defaults_note: RwSignal<Option<Vec<String>>>,
    pub engine: RwSignal<EngineInfo>,
    pub phase: RwSignal<Phase>,
    pub playing: RwSignal<bool>,
    pub notice: RwSignal<Option<Notice>>,
    pub step: RwSignal<u64>,
    pub steps_per_second: RwSignal<f64>,
    /// Refreshed with steps/s.
    pub memory: RwSignal<MemoryUse>,
    /// The run's metric history, as the driver last reported it.
    pub history: RwSignal<History>,
    pub best_step: RwSignal<Option<u64>>,
    /// The GAN's single D-only and G-only steps since the model was built (not rounds, so the
    /// step counter leaves them out; the top bar shows them beside it).
    pub part_steps: RwSignal<[u64; 2]>,
    /// Knob changes, restores and rebuilds, marked on the loss chart.
    pub markers: RwSignal<Markers>,
    /// Step of the last good checkpoint the run can be restored to.
    pub checkpoint_step: RwSignal<Option<u64>>,
    pub views: RwSignal<Views>,
    pub log_scale: RwSignal<bool>,
    requests: StoredValue<Requests>,
    /// A run file read by the user, waiting for the driver to rebuild its model from it.
    pub pending_import: StoredValue<Option<RunFile>>,
    /// The sweep the Sweep panel last started, as its workers report it.
    pub sweep: RwSignal<SweepProgress>,
    /// Its workers while it runs.
    pub sweep_workers: StoredValue<Option<SweepWorkers>, LocalStorage>,
    /// The lesson beside the views, if one is open.
    pub lesson: RwSignal<LessonState>,
    /// The digit drawn on the pad, and what the VAE made of it when it was last encoded.
    pub pad: RwSignal<DrawPad>,
    pub drawing: RwSignal<Option<Drawing>>,
    /// The runs training side by side, the main run first; empty for a single run.
    pub branches: RwSignal<Vec<Branch>>,
    /// The pictures of each branch but the main run, by name, as last read back.
    pub branch_views: RwSignal<Vec<(char, Views)>>,
}

impl Lab {
    /// The histories the loss chart and the branch cards draw, each with its branch (none for a
    /// single run): the main run's history is [`Lab::history`], each other branch's its own.
    pub fn with_histories<R>(self, f: impl FnOnce(&[(Option<&Branch>, &History)]) -> R) -> R {
        self.history.with(|main| {
            self.branches.with(|branches| {
                let list: Vec<(Option<&Branch>, &History)> = if branches.is_empty() {
                    vec![(None, main)]
                } else {
                    branches.iter().enumerate().map(|(place, b)| (Some(b), if place == 0 { main } else { &b.history })).collect()
                };
                f(&list)
            })
        })
    }

    pub fn new(config: LabConfig, url_notes: Vec<String>) -> Self {
        let playing = config.page.autoplay;
        Self {
            config: RwSignal::new(config),
            url_notes: RwSignal::new(url_notes),
            defaults_note: RwSignal::new(None),
            engine: RwSignal::new(EngineInfo::Starting),
            phase: RwSignal::new(Phase::Starting),
            playing: RwSignal::new(playing),
            notice: RwSignal::new(None),
            step: RwSignal::new(0),
            steps_per_second: RwSignal::new(0.0),
            memory: RwSignal::new(MemoryUse::default()),
            history: RwSignal::new(History::default()),
            best_step: RwSignal::new(None),
            markers: RwSignal::new(Markers::default()),
            part_steps: RwSignal::new([0, 0]),
            checkpoint_step: RwSignal::new(None),
            views: RwSignal::new(Views::default()),
            log_scale: RwSignal::new(false),
            requests: StoredValue::new(Requests::default()),
            pending_import: StoredValue::new(None),
            sweep: RwSignal::new(SweepProgress::default()),
            sweep_workers: StoredValue::new_local(None),
            lesson: RwSignal::new(LessonState::Closed),
            pad: RwSignal::new(DrawPad::default()),
            drawing: RwSignal::new(None),
            branches: RwSignal::new(Vec::new()),
            branch_views: RwSignal::new(Vec::new()),
        }
    }

    /// Play or pause (a diverged run stays paused until it is reset). A pause shows once the
    /// driver has taken it (its next frame): steps the CPU engine's worker is training then are
    /// counted first, so a paused page's step is the one it stays at.
    pub fn toggle_play(&self) {
        if self.phase.get_untracked() == Phase::Diverged {
            return;
        }
        self.playing.update(|p| *p = !*p);
        if self.playing.get_untracked() {
            self.phase.set(Phase::Training);
            if self.notice.with_untracked(|n| matches!(n, Some(Notice::UntilPlay { .. }))) {
                self.notice.set(None);
            }
        }
    }

    /// Shrinks `config`'s defaults to what the CPU engine trains live, and says under the model
    /// controls which shrank (or clears that note when none did).
    pub fn apply_cpu_defaults(&self, config: &mut LabConfig) {
        self.defaults_note.set(config.shrink_for_cpu());
    }

    pub fn send(&self, command: Command) {
        self.requests.update_value(|r| r.ask(command));
    }

    /// What was asked since the last frame; the flags are cleared.
    pub fn take_requests(&self) -> Requests {
        self.requests.try_update_value(std::mem::take).unwrap_or_default()
    }

    /// The latest history row.
    pub fn latest(&self) -> Option<Point> {
        self.history.with(|h| h.latest().cloned())
    }
}
