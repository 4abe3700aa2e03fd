//! The Sweep panel: choose a knob's value the way the course's readings say, by cross-validation.
//! The plan (knob, values, folds, steps) lives in the config, so it is in the link and every edit
//! goes through the URL parser's checks; the members train in Web Workers ([`crate::sweep`]). The
//! validation curve (mean ± standard error over folds, and training), λ_min and λ_1se, a table of
//! the numbers, "Use this value" for the main run and the scores as CSV. A GAN's sweep crosses
//! two knobs (λ_G and λ_D) into a grid scored by modes covered and MMD² ([`grid`]).

mod beta;
mod grid;
mod member;

use latent_session::config::{Knob, ModelKind, Scale};
use latent_session::sweep::plan::values_text;
use latent_session::sweep::plan::{default_values, range_text, SweepPlan};
use latent_session::sweep::{scores_csv, Axis, Curve, CurvePoint, SWEEPABLE};
use leptos::html::{Input, Select};
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

use super::charts::{format_value, nice_ticks, padded_range, path};
use super::controls::set_param;
use super::pictures::SvgPngButton;
use crate::browser;
use crate::state::Lab;
use crate::sweep::{self, SweepPhase, SweepProgress};
use beta::{KlHeatMap, RateDistortion};
use grid::GridHeatMap;
use member::MemberPictures;

/// The curve's viewBox and plot area (the loss chart's size, so their text matches).
pub(super) const W: f64 = 600.0;
pub(super) const H: f64 = 220.0;
pub(super) const LEFT: f64 = 48.0;
pub(super) const RIGHT: f64 = W - 20.0;
pub(super) const TOP: f64 = 22.0;
pub(super) const BOTTOM: f64 = H - 26.0;
/// Okabe–Ito blue (training) and vermillion (validation), as in the loss chart.
const TRAIN_COLOUR: &str = "#0072B2";
pub(super) const VALIDATION_COLOUR: &str = "#D55E00";

/// Knob values a "Use" button sets on the main run.
type KnobValues = Vec<(Knob, f32)>;

#[component]
pub fn SweepPanel(lab: Lab) -> impl IntoView {
    let model = move || lab.config.with(|c| c.shape.model);
    let plan = move || lab.config.with(|c| c.sweep.clone());
    let open = move |_| lab.config.update(|c| c.sweep = SweepPlan::default_for(c.shape.model));
    let close = move |_| lab.config.update(|c| c.sweep = None);
    // A sweep whose plan is gone (Close, another model or dataset) stops: no worker trains unseen.
    Effect::new(move |_| {
        if plan().is_none() {
            sweep::stop(lab);
        }
    });
    let running = move || lab.sweep.with(|s| s.phase == SweepPhase::Running);
    let set_knob = move |ev| {
        if let Some(knob) = Knob::from_key(&event_target_value(&ev)) {
            lab.config.update(|c| {
                if let Some(plan) = c.sweep.as_mut() {
                    (plan.knob, plan.values) = (knob, default_values(knob));
                    // A grid crosses two different knobs: picking the second one as the first
                    // leaves a sweep of one.
                    plan.across = plan.across.take().filter(|a| a.knob != knob);
                }
            });
        }
    };
    // The GAN's second knob: none, or another knob at its default values.
    let set_across = move |ev| {
        let knob = Knob::from_key(&event_target_value(&ev));
        lab.config.update(|c| {
            if let Some(plan) = c.sweep.as_mut() {
                plan.across = knob.filter(|k| *k != plan.knob).map(|knob| Axis { knob, values: default_values(knob) });
            }
        });
    };
    let range_note = RwSignal::new(None::<String>);
    let form = move || {
        let plan = plan()?;
        let knobs =
            options(SWEEPABLE.into_iter().filter(|k| SweepPlan::can_sweep(*k, model())).map(|k| (k.key().to_string(), k.label().to_string(), k == plan.knob)));
        // The usual choices, and a link's own count among them.
        let mut counts = vec![1, 3, 5, 10];
        if !counts.contains(&plan.folds) {
            counts.push(plan.folds);
            counts.sort_unstable();
        }
        let folds = options(counts.into_iter().map(|k| {
            let label = if k == 1 { "1: score on the held-out split".to_string() } else { format!("{k}-fold cross-validation") };
            (k.to_string(), label, k == plan.folds)
        }));
        let values = plan.values.iter().map(|v| Knob::format_plain(*v)).collect::<Vec<_>>().join(", ");
        let gan = model() == ModelKind::Gan;
        let across = gan.then(|| {
            let none = ("none".to_string(), "none: one knob".to_string(), plan.across.is_none());
            let seconds = SWEEPABLE.into_iter().filter(|k| *k != plan.knob && SweepPlan::can_sweep(*k, ModelKind::Gan));
            let choices = options(
                std::iter::once(none).chain(seconds.map(|k| (k.key().to_string(), k.label().to_string(), plan.across.as_ref().is_some_and(|a| a.knob == k)))),
            );
            let values = plan.across.as_ref().map(|a| values_text(&a.values).replace(',', ", ")).unwrap_or_default();
            view! {
                <label class="field">"Across (a grid)"<select id="sweep-across" on:change=set_across inner_html=choices /></label>
                <label class="field" hidden=plan.across.is_none()>"Its values"<input id="sweep-across-values" type="text" value=values
                    on:change=move |ev| set_param(lab, "across_values", &event_target_value(&ev)) /></label>
            }
        });
        // The range fields start at the values' ends (the least above 0 for a log range).
        let log = matches!(plan.knob.scale(), Scale::Log { .. });
        let from = plan.values.iter().copied().filter(|v| !log || *v > 0.0).reduce(f32::min).unwrap_or(0.0);
        let to = plan.values.iter().copied().reduce(f32::max).unwrap_or(0.0);
        let (from_field, to_field, count_field, scale_field) =
            (NodeRef::<Input>::new(), NodeRef::<Input>::new(), NodeRef::<Input>::new(), NodeRef::<Select>::new());
        let fill = move |_| {
            let number = |field: NodeRef<Input>| field.get().map_or(f32::NAN, |f| f.value().trim().parse().unwrap_or(f32::NAN));
            let count = count_field.get().and_then(|f| f.value().trim().parse().ok()).unwrap_or(0);
            let log = scale_field.get().is_some_and(|f| f.value() == "log");
            match range_text(number(from_field), number(to_field), count, log) {
                Ok(text) => {
                    range_note.set(None);
                    set_param(lab, "sweep_values", &text);
                }
                Err(e) => range_note.set(Some(format!("That range cannot fill the values: {e}."))),
            }
        };
        Some(view! {
            <div class="sweep-form">
                <label class="field">"Knob"<select id="sweep-knob" on:change=set_knob inner_html=knobs /></label>
                <label class="field">"Values"<input id="sweep-values" type="text" value=values
                    on:change=move |ev| set_param(lab, "sweep_values", &event_target_value(&ev)) /></label>
                <fieldset class="sweep-range">
                    <legend>"Or fill the values from a range"</legend>
                    <label>"from "<input id="sweep-from" type="text" size="6" node_ref=from_field value=Knob::format_plain(from) /></label>
                    <label>" to "<input id="sweep-to" type="text" size="6" node_ref=to_field value=Knob::format_plain(to) /></label>
                    <label>" in "<input id="sweep-count" type="number" min="2" max="12" node_ref=count_field value=plan.values.len().max(2) />" values"</label>
                    <label>" on a "<select id="sweep-scale" node_ref=scale_field>
                        <option value="log" selected=log>"log"</option><option value="linear" selected=!log>"linear"</option>
                    </select>" scale "</label>
                    <button id="sweep-fill" type="button" on:click=fill>"Fill"</button>
                    <p class="hint" role="alert" id="sweep-range-note">{move || range_note.get()}</p>
                </fieldset>
                {across}
                <label class="field" hidden=gan>"Folds"<select id="sweep-folds" on:change=move |ev| set_param(lab, "folds", &event_target_value(&ev)) inner_html=folds /></label>
                <label class="field">"Steps per model"<input id="sweep-steps" type="number" min="10" step="100" value=plan.steps
                    on:change=move |ev| set_param(lab, "sweep_steps", &event_target_value(&ev)) /></label>
                <p>
                    <button id="sweep-start" class="primary" on:click=move |_| if running() { sweep::stop(lab) } else { sweep::start(lab) }>
                        {move || if running() { "Stop sweep" } else { "Start sweep" }}
                    </button>
                    " "<button class="link" on:click=close>"Close"</button>
                </p>
            </div>
        })
    };
    view! {
        <section class="view" id="sweep-view" aria-labelledby="sweep-title">
            <h2><span id="sweep-title">{move || if model() == ModelKind::Gan {
                "Sweep: which λ_G and λ_D keep a GAN on all its modes"
            } else {
                "Sweep: choose a value by cross-validation"
            }}</span>{crate::views::info::info_button(Signal::derive(move || if model() == ModelKind::Gan { "sweep-gan" } else { "sweep" }))}</h2>
            <Show when=move || plan().is_some() fallback=move || view! {
                <p class="hint">{move || if model() == ModelKind::Gan {
                    "Train one GAN per pair of values of two knobs (λ_G and λ_D at first) and read which pairs cover the data's modes: a GAN has no likelihood to validate, so each is scored by its points against the real ones."
                } else {
                    "Train one model per value of a knob, on K folds of the training set, and read which value generalises best."
                }}</p>
                <button id="sweep-open" on:click=open>"Set up a sweep"</button>
            }>
                {form}
                <SweepResults lab=lab />
            </Show>
        </section>
    }
}

#[component]
fn SweepResults(lab: Lab) -> impl IntoView {
    let progress = move || lab.sweep.get();
    let curve = Memo::new(move |_| lab.sweep.with(SweepProgress::curve));
    let status = move || {
        let p = progress();
        let spec = p.spec.as_ref()?;
        let grid = spec.across.as_ref().map_or_else(String::new, |a| format!(" × {} values of {}", a.values.len(), a.knob.symbol()));
        let shape = format!("{} models ({} values{grid} × {} fold{})", spec.members(), spec.values.len(), spec.folds, if spec.folds == 1 { "" } else { "s" });
        let text = match p.phase {
            SweepPhase::Failed => p.message.clone().unwrap_or_default(),
            phase => format!(
                "{} {shape} in {} worker{}: step {} of {} · {:.0} model-steps/s",
                match phase {
                    SweepPhase::Running => "Training",
                    SweepPhase::Stopped => "Stopped:",
                    _ => "Trained",
                },
                p.parts.len(),
                if p.parts.len() == 1 { "" } else { "s" },
                p.step(),
                p.steps,
                p.rate()
            ),
        };
        Some(text)
    };
    let knob = move || lab.sweep.with(|s| s.spec.as_ref().map(|s| s.knob));
    let grid = Memo::new(move |_| lab.sweep.with(SweepProgress::grid));
    let across = move || lab.sweep.with(|s| s.spec.as_ref().and_then(|s| s.across.as_ref().map(|a| a.knob)));
    // "Use" buttons: the curve's two choices, or the grid's best value (pair); each sets the knob
    // values it names on the main run.
    let choices = move || {
        let knob = knob()?;
        let mut uses: Vec<(&'static str, String, KnobValues)> = Vec::new();
        if let Some(curve) = curve.get() {
            for (id, rule, index) in [("sweep-use-1se", "the one-SE choice", curve.one_se), ("sweep-use-min", "the minimum", curve.min)] {
                if let Some(value) = index.map(|i| curve.points[i].value) {
                    uses.push((id, format!("Use {rule} {} = {}", knob.symbol(), knob.format(value)), vec![(knob, value)]));
                }
            }
        }
        if let Some((value, second)) = grid.get().and_then(|g| g.at(g.best?)) {
            let mut sets = vec![(knob, value)];
            sets.extend(across().zip(second));
            let named = sets.iter().map(|(k, v)| format!("{} = {}", k.symbol(), k.format(*v))).collect::<Vec<_>>().join(", ");
            uses.push(("sweep-use-best", format!("Use the best {}: {named}", if sets.len() > 1 { "pair" } else { "value" }), sets));
        }
        Some(view! {
            <p class="sweep-choices">
                {uses.into_iter().map(|(id, label, sets)| view! {
                    <button id=id on:click=move |_| lab.config.update(|c| sets.iter().for_each(|(k, v)| k.set(c, *v)))>{label}</button>" "
                }).collect_view()}
                <button id="sweep-csv" class="link" on:click=move |_| download_csv(lab)>"Download the scores (CSV)"</button>
            </p>
        })
    };
    let note = move || {
        if lab.sweep.with(SweepProgress::is_gan) {
            return Some("A GAN has no likelihood to validate: each model is scored by 512 of its points against the real ones. Modes covered counts the data's modes holding at least 2% of the points; MMD² is 0 when the two clouds match. Both come from the training distribution, so there is no test set to keep apart.");
        }
        let folds = lab.sweep.with(|s| s.spec.as_ref().map(|s| s.folds))?;
        Some(if folds == 1 {
            "One fold: every member was scored on the held-out split, so the choice has seen the test rows. Use folds to keep them for the end."
        } else {
            "Validation rows come from the training set; the held-out split stays untouched. Use a value and train: the main run learns from all the training rows, and its held-out −ELBO (the loss chart's dashed line) is the chosen value's test score, which no member saw."
        })
    };
    view! {
        <p id="sweep-status" role="status" data-state=move || lab.sweep.with(|s| s.phase.key())>{status}</p>
        {move || curve.get().zip(knob()).map(|(curve, knob)| view! {
            <CurveChart lab=lab curve=curve.clone() knob=knob />
            {(knob == Knob::Beta).then(|| view! { <RateDistortion lab=lab curve=curve.clone() /><KlHeatMap curve=curve.clone() /> })}
            <CurveTable lab=lab curve=curve knob=knob />
        })}
        {move || grid.get().zip(knob()).map(|(grid, knob)| view! { <GridHeatMap lab=lab grid=grid knob=knob across=across() /> })}
        {move || knob().map(|knob| view! { <MemberPictures lab=lab knob=knob across=across() /> })}
        {choices}
        <p class="hint">{note}</p>
    }
}

/// Validation −ELBO (mean ± one standard error over the folds) and training −ELBO at each value,
/// the values evenly spaced (a log-spaced grid reads as on a log axis); λ_min and λ_1se marked.
/// Drawn as markup text (numbers and our own labels only, never user text): a Leptos view per
/// mark cost about ten times the bytes in the page's module.
#[component]
fn CurveChart(lab: Lab, curve: Curve, knob: Knob) -> impl IntoView {
    let label = format!("Validation curve: −ELBO against {}; validation mean ± one standard error, and training", knob.label());
    view! {
        <svg viewBox=format!("0 0 {W} {H}") class="chart sweep-curve" id="sweep-curve" role="img" aria-label=label
            on:click=pick(lab, &curve) inner_html=curve_svg(&curve, knob) />
        <div class="legend">
            <span class="legend-item"><i style:background=TRAIN_COLOUR></i>"training −ELBO"</span>
            <span class="legend-item"><i style:background=VALIDATION_COLOUR class="dashed"></i>"validation −ELBO ± 1 SE"</span>
            <SvgPngButton chart="sweep-curve" name="validation-curve" />
        </div>
    }
}

fn curve_svg(curve: &Curve, knob: Knob) -> String {
    let n = curve.points.len();
    let x = |i: usize| if n <= 1 { (LEFT + RIGHT) / 2.0 } else { LEFT + 10.0 + (RIGHT - LEFT - 20.0) * i as f64 / (n - 1) as f64 };
    let spread = curve.points.iter().flat_map(|p| {
        let se = p.standard_error.unwrap_or(0.0);
        [p.train, p.validation.map(|v| v - se), p.validation.map(|v| v + se)]
    });
    let range = padded_range(spread.flatten());
    let y = |v: f64| BOTTOM - (BOTTOM - TOP) * (v - range.0) / (range.1 - range.0);
    let mut svg = String::new();
    for (v, label) in nice_ticks(range.0, range.1, 4) {
        let (l, yv) = (LEFT - 4.0, y(v));
        svg += &format!(
            r#"<line x1="{l}" x2="{LEFT}" y1="{yv:.1}" y2="{yv:.1}" class="axis-line"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{label}</text>"#,
            LEFT - 6.0,
            yv + 3.0
        );
    }
    svg += &format!(
        r#"<line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" class="axis-line"/><text x="2" y="12" class="tick">−ELBO (nats)</text><text x="{RIGHT}" y="{}" text-anchor="end" class="tick">{}</text>"#,
        H - 2.0,
        knob.symbol()
    );
    for (index, label, row) in [(curve.min, "min", 10.0), (curve.one_se, "1 SE", 22.0)] {
        if let Some(i) = index {
            let xi = x(i);
            svg += &format!(
                r##"<line x1="{xi:.1}" x2="{xi:.1}" y1="{TOP}" y2="{BOTTOM}" stroke="#6c757d" stroke-dasharray="4 3"/><text x="{:.1}" y="{}" class="tick">{label}</text>"##,
                xi + 3.0,
                TOP + row
            );
        }
    }
    let line = |value: fn(&CurvePoint) -> Option<f64>| path(&curve.points.iter().enumerate().map(|(i, p)| value(p).map(|v| (x(i), y(v)))).collect::<Vec<_>>());
    svg += &format!(r#"<path d="{}" fill="none" stroke="{TRAIN_COLOUR}" stroke-width="1.5"/>"#, line(|p| p.train));
    svg += &format!(r#"<path d="{}" fill="none" stroke="{VALIDATION_COLOUR}" stroke-width="1.5" stroke-dasharray="5 3"/>"#, line(|p| p.validation));
    for (i, p) in curve.points.iter().enumerate() {
        let xi = x(i);
        if let (Some(v), se) = (p.validation, p.standard_error) {
            if let Some(se) = se {
                svg += &format!(
                    r#"<line x1="{xi:.1}" x2="{xi:.1}" y1="{:.1}" y2="{:.1}" stroke="{VALIDATION_COLOUR}" stroke-width="1.5"/>"#,
                    y(v - se),
                    y(v + se)
                );
            }
            svg += &format!(r#"<circle cx="{xi:.1}" cy="{:.1}" r="4" fill="{VALIDATION_COLOUR}" class="pick" data-show="{i}"/>"#, y(v));
        }
        if p.diverged > 0 {
            svg += &format!(r#"<text x="{xi:.1}" y="{}" text-anchor="middle" class="tick diverged">×{}</text>"#, TOP + 8.0, p.diverged);
        }
        svg += &format!(r#"<text x="{xi:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#, BOTTOM + 14.0, knob.format(p.value));
    }
    svg
}

/// The curve's numbers, as a student reads them (markup text, as the chart).
#[component]
fn CurveTable(lab: Lab, curve: Curve, knob: Knob) -> impl IntoView {
    let on_click = pick(lab, &curve);
    let cell = |v: Option<f64>| v.map_or_else(|| "—".to_string(), format_value);
    let mut rows = String::new();
    for (i, p) in curve.points.iter().enumerate() {
        let validation = match (p.validation, p.standard_error) {
            (Some(v), Some(se)) => format!("{} ± {}", format_value(v), format_value(se)),
            (v, _) => cell(v),
        };
        let choice = [(curve.min, "λ_min"), (curve.one_se, "λ_1se")].iter().filter(|(c, _)| *c == Some(i)).map(|(_, l)| *l).collect::<Vec<_>>().join(", ");
        rows += &format!(
            r#"<tr data-value="{}"><td>{}</td><td>{}</td><td class="validation">{validation}</td><td>{}</td><td>{}</td><td class="active-dims">{}</td><td>{}</td><td class="choice">{choice}</td><td><button type="button" class="link" data-show="{i}">pictures</button></td></tr>"#,
            Knob::format_plain(p.value),
            knob.format(p.value),
            cell(p.train),
            cell(p.rate),
            cell(p.distortion),
            p.active_dims().map_or_else(|| "—".to_string(), |a| a.to_string()),
            p.diverged
        );
    }
    view! {
        <table id="sweep-table" class="numbers" on:click=on_click>
            <thead><tr>
                <th scope="col">{knob.symbol()}</th><th scope="col">"training −ELBO"</th><th scope="col">"validation −ELBO ± SE"</th>
                <th scope="col">"rate (KL)"</th><th scope="col">"distortion"</th><th scope="col">"active dims"</th><th scope="col">"diverged"</th><th scope="col">"choice"</th><th scope="col">"model"</th>
            </tr></thead>
            <tbody inner_html=rows />
        </table>
    }
}

/// A click on a `data-show` mark (a curve point, a row's button) asks for the pictures of that
/// value's model; the marks are markup text, so one handler on their chart or table reads them.
fn pick(lab: Lab, curve: &Curve) -> impl Fn(web_sys::MouseEvent) + 'static {
    let values: Vec<f32> = curve.points.iter().map(|p| p.value).collect();
    move |ev| {
        if let Some(&value) = picked(&ev).and_then(|i| values.get(i)) {
            sweep::show(lab, value, None);
        }
    }
}

/// `<option>`s (value, label, selected) as markup, our own labels only: a Leptos view per option
/// costs bytes in the page's module that a string does not.
fn options(items: impl Iterator<Item = (String, String, bool)>) -> String {
    items.map(|(value, label, selected)| format!(r#"<option value="{value}"{}>{label}</option>"#, if selected { " selected" } else { "" })).collect()
}

/// The index in the `data-show` mark (or inside one) that `ev` clicked.
pub(super) fn picked(ev: &web_sys::MouseEvent) -> Option<usize> {
    let mark = ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok())?.closest("[data-show]").ok().flatten()?;
    mark.get_attribute("data-show")?.parse().ok()
}

/// Every member's scores as CSV, the command line's `sweep.csv`.
fn download_csv(lab: Lab) {
    let csv = scores_csv(&lab.sweep.with_untracked(SweepProgress::scores));
    if let Err(e) = browser::download("sweep.csv", "text/csv", csv.as_bytes()) {
        lab.sweep.update(|s| s.message = Some(e));
    }
}
