//! Charts drawn as plain SVG from signals: the loss chart (training terms, train vs held-out,
//! the GAN's two losses and D's accuracy, on axes with ticks, a readout at any step, the latest
//! values in the legend, and marks for the early-stopping best step, knob changes, restores and
//! rebuilds), KL per latent dimension, and a weight histogram per layer.

use latent_session::config::ModelKind;
use leptos::prelude::*;

use latent_session::run::{History, Point, COLLAPSED_KL};

use super::info::info_button;
use super::later;
use super::pictures::SvgPngButton;
use crate::driver::HISTOGRAM_BINS;
use crate::state::{Command, Lab};

const W: f64 = 600.0;
const H: f64 = 220.0;

/// The loss chart's plot area inside its viewBox: room for tick labels left, right (a second
/// axis) and below.
const PLOT_LEFT: f64 = 48.0;
const PLOT_RIGHT: f64 = W - 44.0;
const PLOT_TOP: f64 = 22.0;
const PLOT_BOTTOM: f64 = H - 22.0;
/// The first share of the history that does not set the y range: the first steps' losses are
/// many times the later ones and would flatten every curve a student reads (545 against 168-195).
const TRANSIENT_SHARE: f64 = 0.1;
/// Markers labelled on the chart (the rest keep a line and a tooltip).
const LABELLED_MARKERS: usize = 6;

/// Where a vertical marker's label starts and its `text-anchor`: beside its line, on the side with
/// room, so a label near the chart's right edge reads leftwards instead of running under the right
/// axis and off the chart.
fn label_beside(x: f64) -> (f64, &'static str) {
    if x > (PLOT_LEFT + PLOT_RIGHT) / 2.0 {
        (x - 3.0, "end")
    } else {
        (x + 3.0, "start")
    }
}

/// Which y axis a series is read on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Axis {
    /// The left axis: the model's losses (nats for the VAE family).
    Main,
    /// The right axis, 0 to 1: a probability (D's accuracy).
    Probability,
    /// The right axis, its own range: the VAE-GAN's adversarial losses, which are a few nats
    /// beside a reconstruction of hundreds.
    Adversarial,
}

/// One line of the loss chart. Colours are Okabe and Ito's colour-blind-safe set; the name in the
/// legend and the dashes (the −ELBOs and D's accuracy) tell the lines apart without colour.
struct Series {
    name: &'static str,
    colour: &'static str,
    dashed: bool,
    axis: Axis,
    value: fn(&Point) -> Option<f64>,
}

fn series_for(model: ModelKind) -> Vec<Series> {
    let s = |name, colour, dashed, axis, value| Series { name, colour, dashed, axis, value };
    match model {
        ModelKind::Gan => vec![
            s("D loss", "#d55e00", false, Axis::Main, |p| Some(p.d_loss)),
            s("G loss", "#0072b2", false, Axis::Main, |p| Some(p.g_loss)),
            s("D accuracy (held-out real)", "#009e73", true, Axis::Probability, |p| p.d_accuracy),
        ],
        ModelKind::Vae | ModelKind::VaeGan => {
            let mut v = vec![
                s("total (training)", "#000000", false, Axis::Main, |p| Some(p.total)),
                s("reconstruction", "#0072b2", false, Axis::Main, |p| Some(p.reconstruction)),
                s("KL", "#e69f00", false, Axis::Main, |p| Some(p.kl)),
                s("penalty", "#999999", false, Axis::Main, |p| Some(p.penalty)),
                s("−ELBO train", "#009e73", true, Axis::Main, |p| p.train),
                s("−ELBO held-out", "#d55e00", true, Axis::Main, |p| p.test),
            ];
            if model == ModelKind::VaeGan {
                v.push(s("D loss", "#cc79a7", false, Axis::Adversarial, |p| Some(p.d_loss)));
                v.push(s("G loss", "#56b4e9", false, Axis::Adversarial, |p| Some(p.g_loss)));
            }
            v
        }
    }
}

/// With branches, each branch draws the two lines that compare runs: training and held-out
/// (the GAN: G's and D's losses), in the branch's colour, solid and dashed.
fn compare_series(model: ModelKind) -> Vec<Series> {
    let s = |name, dashed, value| Series { name, colour: "", dashed, axis: Axis::Main, value };
    match model {
        ModelKind::Gan => vec![s("G loss", false, |p: &Point| Some(p.g_loss)), s("D loss", true, |p: &Point| Some(p.d_loss))],
        ModelKind::Vae | ModelKind::VaeGan => vec![s("training", false, |p: &Point| Some(p.total)), s("held-out", true, |p: &Point| p.test)],
    }
}

/// The chart's lines: the run's every term, or with branches the comparison's two per branch.
fn chart_series(lab: Lab, model: ModelKind) -> Vec<Series> {
    if lab.branches.with(Vec::is_empty) {
        series_for(model)
    } else {
        compare_series(model)
    }
}

impl Series {
    /// The latest value of the series: measured-at-evaluation ones (dashed) keep their last one.
    fn latest(&self, history: &History) -> Option<f64> {
        if self.dashed { history.last_measured(self.value) } else { history.latest().and_then(self.value) }.filter(|v| v.is_finite())
    }
}

/// A value as the chart prints it: four significant digits, no exponent in the usual range.
pub(super) fn format_value(v: f64) -> String {
    match v.abs() {
        a if !a.is_finite() => "—".into(),
        0.0 => "0".into(),
        a if a >= 1000.0 => format!("{v:.0}"),
        a if a >= 100.0 => format!("{v:.1}"),
        a if a >= 10.0 => format!("{v:.2}"),
        a if a >= 0.01 => format!("{v:.3}"),
        _ => format!("{v:.2e}"),
    }
}

/// Round tick values covering `lo..=hi` (steps of 1, 2 or 5 times a power of ten), about
/// `count`, each labelled with as many decimals as the step needs ("100", "0.25").
pub(super) fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<(f64, String)> {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return vec![(lo, format_value(lo))];
    }
    let raw = span / count.max(1) as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = magnitude
        * match raw / magnitude {
            n if n < 1.5 => 1.0,
            n if n < 3.0 => 2.0,
            n if n < 7.0 => 5.0,
            _ => 10.0,
        };
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    (first..=last).map(|i| i as f64 * step).map(|t| (t, format!("{t:.decimals$}"))).collect()
}

/// The range of `values` with a little room, or a unit range around a lone value.
pub(super) fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    match (lo.is_finite(), hi > lo) {
        (true, true) => {
            let pad = (hi - lo) * 0.06;
            (lo - pad, hi + pad)
        }
        (true, false) => (lo - 1.0, lo + 1.0),
        _ => (0.0, 1.0),
    }
}

/// An SVG path through `points` (already in chart coordinates), broken at gaps.
pub(super) fn path(points: &[Option<(f64, f64)>]) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for p in points {
        match p {
            Some((x, y)) => {
                d.push_str(&format!("{}{x:.1},{y:.1}", if pen_down { "L" } else { "M" }));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

/// The mapping from values to the plot: x by step, y per axis (log₁₀ of the value on a log main
/// axis).
#[derive(Clone, Copy, PartialEq)]
struct Scales {
    last_step: f64,
    log: bool,
    main: (f64, f64),
    right: Option<(f64, f64)>,
}

impl Scales {
    /// Scales over every history drawn (one, or a branch's each).
    fn new(histories: &[&[Point]], series: &[Series], log: bool) -> Self {
        // The first steps' transient does not set the range once there is a curve to read.
        let settled: Vec<&[Point]> = histories.iter().map(|&h| if h.len() >= 20 { &h[(h.len() as f64 * TRANSIENT_SHARE) as usize..] } else { h }).collect();
        let values = |axis: fn(Axis) -> bool| {
            let settled = &settled;
            series.iter().filter(move |s| axis(s.axis)).flat_map(move |s| settled.iter().flat_map(move |h| h.iter().filter_map(s.value)))
        };
        let main = padded_range(values(|a| a == Axis::Main).filter_map(|v| if log { (v > 0.0).then(|| v.log10()) } else { Some(v) }));
        let right = match series.iter().find(|s| s.axis != Axis::Main).map(|s| s.axis) {
            Some(Axis::Probability) => Some((0.0, 1.0)),
            Some(_) => Some(padded_range(values(|a| a == Axis::Adversarial))),
            None => None,
        };
        let last_step = histories.iter().filter_map(|h| h.last()).map(|p| p.step).max().unwrap_or(1).max(1);
        Self { last_step: last_step as f64, log, main, right }
    }

    fn x(&self, step: u64) -> f64 {
        PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * step as f64 / self.last_step
    }

    fn y_in(range: (f64, f64), v: f64) -> f64 {
        PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * (v - range.0) / (range.1 - range.0)
    }

    /// Where `v` of a series on `axis` is drawn, if it can be (not on a log axis at or below 0).
    fn y(&self, axis: Axis, v: f64) -> Option<f64> {
        if !v.is_finite() {
            return None;
        }
        match (axis, self.right) {
            (Axis::Main, _) | (_, None) if self.log => (v > 0.0).then(|| Self::y_in(self.main, v.log10())),
            (Axis::Main, _) | (_, None) => Some(Self::y_in(self.main, v)),
            (_, Some(right)) => Some(Self::y_in(right, v)),
        }
    }

    /// The step nearest to the chart's x coordinate `x`.
    fn step_at(&self, x: f64) -> u64 {
        (((x - PLOT_LEFT) / (PLOT_RIGHT - PLOT_LEFT)).clamp(0.0, 1.0) * self.last_step).round() as u64
    }
}

/// The history's point nearest to `step`.
fn nearest(history: &[Point], step: u64) -> Option<usize> {
    let after = history.partition_point(|p| p.step < step);
    [after.checked_sub(1), (after < history.len()).then_some(after)].into_iter().flatten().min_by_key(|&i| history[i].step.abs_diff(step))
}

#[component]
pub fn LossChart(lab: Lab) -> impl IntoView {
    let model = move || lab.config.with(|c| c.shape.model);
    // The step the readout shows (pointer over the chart, or arrow keys on it); None: the latest.
    let cursor = RwSignal::new(None::<u64>);
    // One pass over the history per change, shared by the drawing and the pointer handler (which
    // would otherwise rescan the whole history on every pointer move).
    let scales = Memo::new(move |_| {
        let series = chart_series(lab, model());
        lab.with_histories(|histories| Scales::new(&histories.iter().map(|(_, h)| h.points()).collect::<Vec<_>>(), &series, lab.log_scale.get()))
    });
    let chart = move || {
        let series = chart_series(lab, model());
        let scales = scales.get();
        // Each branch's lines in its colour, its name at their ends.
        let lines = lab.with_histories(|histories| {
            histories
                .iter()
                .map(|(branch, history)| {
                    let points = history.points();
                    let colour = branch.map(|b| b.colour());
                    let lines = series
                        .iter()
                        .map(|s| {
                            let line: Vec<Option<(f64, f64)>> = points
                                .iter()
                                .filter(|p| (s.value)(p).is_some() || !s.dashed)
                                .map(|p| (s.value)(p).and_then(|v| scales.y(s.axis, v)).map(|y| (scales.x(p.step), y)))
                                .collect();
                            view! { <path d=path(&line) stroke=colour.unwrap_or(s.colour) fill="none" stroke-width="1.6" stroke-dasharray=if s.dashed { "5 3" } else { "" } /> }
                        })
                        .collect_view();
                    let end = branch.zip(points.last()).and_then(|(b, p)| {
                        let y = scales.y(Axis::Main, (series[0].value)(p)?)?;
                        Some(view! { <text x=scales.x(p.step) - 2.0 y=y - 4.0 text-anchor="end" class="tick branch-name" fill=b.colour()>{b.name.to_string()}</text> })
                    });
                    view! { {lines}{end} }
                })
                .collect_view()
        });
        lab.history.with(|history| {
            let points = history.points();
            let main_ticks = if scales.log {
                let (lo, hi) = scales.main;
                let decades: Vec<f64> = (lo.ceil() as i32..=hi.floor() as i32).map(f64::from).collect();
                if decades.len() >= 2 {
                    decades.into_iter().map(|d| (d, format_value(10f64.powf(d)))).collect()
                } else {
                    nice_ticks(10f64.powf(lo), 10f64.powf(hi), 4).into_iter().filter(|(v, _)| *v > 0.0).map(|(v, label)| (v.log10(), label)).collect()
                }
            } else {
                nice_ticks(scales.main.0, scales.main.1, 5)
            };
            let main_axis = main_ticks
                .into_iter()
                .map(|(t, label)| {
                    let y = Scales::y_in(scales.main, t);
                    view! {
                        <line x1=PLOT_LEFT x2=PLOT_RIGHT y1=y y2=y class="grid" />
                        <text x=PLOT_LEFT - 4.0 y=y + 4.0 text-anchor="end" class="tick">{label}</text>
                    }
                })
                .collect_view();
            let right_axis = scales.right.map(|range| {
                nice_ticks(range.0, range.1, 4)
                    .into_iter()
                    .map(|(t, label)| {
                        let y = Scales::y_in(range, t);
                        view! { <text x=PLOT_RIGHT + 4.0 y=y + 4.0 class="tick right">{label}</text> }
                    })
                    .collect_view()
            });
            let step_axis = nice_ticks(0.0, scales.last_step, 6)
                .into_iter()
                .filter(|(t, _)| t.fract() == 0.0)
                .map(|(t, label)| {
                    let x = scales.x(t as u64);
                    view! {
                        <line x1=x x2=x y1=PLOT_BOTTOM y2=PLOT_BOTTOM + 4.0 class="axis-line" />
                        <text x=x y=PLOT_BOTTOM + 15.0 text-anchor="middle" class="tick">{label}</text>
                    }
                })
                .collect_view();
            let unit = if model() == ModelKind::Gan { "loss" } else { "nats" };
            let right_unit = match series.iter().find(|s| s.axis != Axis::Main).map(|s| s.axis) {
                Some(Axis::Probability) => Some("accuracy"),
                Some(_) => Some("D, G loss"),
                None => None,
            };
            let best = lab.best_step.get().map(|step| {
                let x = scales.x(step);
                let (label_x, anchor) = label_beside(x);
                view! {
                    <g class="marker best" data-step=step>
                        <line x1=x x2=x y1=PLOT_TOP y2=PLOT_BOTTOM stroke="#2b8a3e" stroke-width="1.2" stroke-dasharray="2 2" />
                        <text x=label_x y=PLOT_BOTTOM - 4.0 text-anchor=anchor class="tick">{format!("best @ {step}")}</text>
                        <title>{format!("early stopping's best step: {step}")}</title>
                    </g>
                }
            });
            let markers = lab.markers.with(|m| {
                let list = m.list();
                let labelled_from = list.len().saturating_sub(LABELLED_MARKERS);
                list.iter()
                    .enumerate()
                    .map(|(i, marker)| {
                        let x = scales.x(marker.step);
                        let label = (i >= labelled_from).then(|| {
                            let y = PLOT_TOP + 10.0 + ((i - labelled_from) % 3) as f64 * 11.0;
                            let (label_x, anchor) = label_beside(x);
                            view! { <text x=label_x y=y text-anchor=anchor class="tick marker-label">{marker.text.clone()}</text> }
                        });
                        view! {
                            <g class="marker" data-step=marker.step>
                                <line x1=x x2=x y1=PLOT_TOP y2=PLOT_BOTTOM stroke="#6c757d" stroke-width="1" />
                                {label}
                                <title>{format!("step {}: {}", marker.step, marker.text)}</title>
                            </g>
                        }
                    })
                    .collect_view()
            });
            let cursor_line = cursor.get().and_then(|step| nearest(points, step)).map(|i| {
                let x = scales.x(points[i].step);
                view! { <line x1=x x2=x y1=PLOT_TOP y2=PLOT_BOTTOM class="cursor" /> }
            });
            view! {
                <defs><clipPath id="loss-plot"><rect x=PLOT_LEFT y=PLOT_TOP - 2.0 width=PLOT_RIGHT - PLOT_LEFT height=PLOT_BOTTOM - PLOT_TOP + 4.0 /></clipPath></defs>
                {main_axis}
                {right_axis}
                <line x1=PLOT_LEFT x2=PLOT_RIGHT y1=PLOT_BOTTOM y2=PLOT_BOTTOM class="axis-line" />
                {step_axis}
                <text x="2" y="12" class="tick">{unit}{if scales.log { " (log)" } else { "" }}</text>
                {right_unit.map(|u| view! { <text x=W - 2.0 y="12" text-anchor="end" class="tick">{u}</text> })}
                <text x=PLOT_RIGHT + 6.0 y=PLOT_BOTTOM + 15.0 class="tick">"step"</text>
                <g clip-path="url(#loss-plot)">{lines}</g>
                {markers}
                {best}
                {cursor_line}
            }
        })
    };
    // The values at the cursor's step (or the latest), as text: what a student reads aloud.
    let readout = move || {
        let series = chart_series(lab, model());
        let step = cursor.get();
        lab.with_histories(|histories| {
            let parts: Vec<String> = histories
                .iter()
                .filter_map(|(branch, history)| {
                    let points = history.points();
                    let point = &points[step.and_then(|step| nearest(points, step)).or(points.len().checked_sub(1))?];
                    let values: Vec<String> =
                        series.iter().filter_map(|s| (s.value)(point).filter(|v| v.is_finite()).map(|v| format!("{} {}", s.name, format_value(v)))).collect();
                    Some(match branch {
                        Some(b) => format!("{} at step {}: {}", b.name, point.step, values.join(", ")),
                        None => format!("step {}: {}", point.step, values.join(" · ")),
                    })
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join("; "))
        })
    };
    let pointer = move |ev: web_sys::PointerEvent| {
        let Some(svg) = ev.current_target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok()) else { return };
        let width = f64::from(svg.client_width().max(1));
        cursor.set(Some(scales.get_untracked().step_at(f64::from(ev.offset_x()) / width * W)));
    };
    // Arrow keys walk the history's points; Home and End jump to its ends; Escape leaves.
    let key = move |ev: web_sys::KeyboardEvent| {
        let moved = lab.history.with_untracked(|h| {
            let points = h.points();
            let last = points.len().checked_sub(1)?;
            let at = cursor.get_untracked().and_then(|step| nearest(points, step)).unwrap_or(last);
            let to = match ev.key().as_str() {
                "ArrowLeft" => at.saturating_sub(1),
                "ArrowRight" => (at + 1).min(last),
                "Home" => 0,
                "End" => last,
                _ => return None,
            };
            Some(points[to].step)
        });
        if let Some(step) = moved {
            ev.prevent_default();
            cursor.set(Some(step));
        } else if ev.key() == "Escape" {
            cursor.set(None);
        }
    };
    let legend = move || {
        if !lab.branches.with(Vec::is_empty) {
            return branch_legend(lab, model()).into_any();
        }
        let series = series_for(model());
        lab.history.with(|history| {
            series
                .into_iter()
                .map(|s| {
                    let latest = s.latest(history).map(format_value).unwrap_or_else(|| "—".into());
                    view! {
                        <span class="legend-item" data-series=s.name><i style:background=s.colour class:dashed=s.dashed></i>{s.name}" "<b class="legend-value">{latest}</b></span>
                    }
                })
                .collect_view()
        })
        .into_any()
    };
    let explanation = move || {
        match model() {
        ModelKind::Gan => "D and G play against each other: the losses need not fall. D accuracy (right axis) near 0.5 on held-out real points means D can no longer tell; near 1 it wins.",
        ModelKind::VaeGan => "The VAE's terms in nats (left axis); D's and G's losses on their own scale (right axis). Grey lines mark knob changes; the first steps run off the top so later changes stay readable.",
        ModelKind::Vae => "Training loss falls as the model fits. Watch the held-out −ELBO (dashed red): when it turns up while training keeps falling, the model overfits. Try L2, dropout or more data. Grey lines mark knob changes; the first steps run off the top so later changes stay readable.",
    }
    };
    view! {
        <section class="view" id="loss-view">
            <h2>"Loss"{info_button(Signal::derive(move || if lab.config.with(|c| c.shape.model == ModelKind::Gan) { "loss-gan" } else { "loss" }))}
                <label class="toggle"><input type="checkbox" id="log-scale" prop:checked=move || lab.log_scale.get()
                    on:change=move |ev| lab.log_scale.set(event_target_checked(&ev)) />"log scale"</label>
                <SvgPngButton chart="loss-chart" name="loss" />
            </h2>
            <svg viewBox=format!("0 0 {W} {H}") class="chart loss" id="loss-chart" role="img" tabindex="0"
                aria-label="Loss over training steps; arrow keys move the readout below from step to step"
                on:pointermove=pointer on:pointerleave=move |_| cursor.set(None) on:keydown=key on:blur=move |_| cursor.set(None)>
                {chart}
            </svg>
            // Announced only while the reader moves the cursor; the latest values change every frame.
            <p class="readout" id="loss-readout" aria-live=move || if cursor.get().is_some() { "polite" } else { "off" }>{readout}</p>
            <div class="legend">{legend}</div>
            <p class="hint">{explanation}</p>
        </section>
    }
}

/// The legend with branches: each branch's colour, name, knobs against the main run's and the
/// latest values of its solid and dashed lines (training and held-out; the GAN: G and D losses),
/// and what those lines are.
fn branch_legend(lab: Lab, model: ModelKind) -> impl IntoView {
    let series = compare_series(model);
    let config = lab.config.get();
    let items = lab.with_histories(|histories| {
        histories
            .iter()
            .enumerate()
            .filter_map(|(place, (branch, history))| {
                let b = (*branch)?;
                let knobs = if place == 0 { "main".to_string() } else { latent_session::config::forks::describe(&config, &b.knobs) };
                let latest: Vec<String> = series.iter().map(|s| s.latest(history).map(format_value).unwrap_or_else(|| "—".into())).collect();
                let ended = b.ended.map(|e| format!(" ({e})")).unwrap_or_default();
                Some(view! {
                    <span class="legend-item" data-branch=b.name.to_string() data-latest=latest[1].clone()>
                        <i style:background=b.colour()></i><b>{b.name.to_string()}</b>" "{knobs}{ended}": "
                        <b class="legend-value">{latest[0].clone()}</b>" / "<b class="legend-value">{latest[1].clone()}</b>
                    </span>
                })
            })
            .collect_view()
    });
    let [solid, dashed] = [&series[0], &series[1]].map(|s| s.name);
    view! {
        {items}
        <span class="legend-item"><i class="line"></i>{solid}" / "</span>
        <span class="legend-item"><i class="line dashed"></i>{dashed}</span>
    }
}

/// KL per latent dimension: collapsed dimensions (KL ≈ 0) carry no information.
/// The KL bars' fixed scale: log₁₀ nats from 0.01 to 100, the same for every run, so two
/// screenshots at different β compare bar for bar (a rescaling axis made β = 0 and β = 1 look alike).
pub(super) const KL_DECADES: (f64, f64) = (-2.0, 2.0);
/// Left margin for the axis labels, and the bars' top and bottom in the 112-unit-high chart.
const KL_LEFT: f64 = 44.0;
const KL_TOP: f64 = 16.0;
const KL_BOTTOM: f64 = 104.0;
/// Up to this many dimensions each bar carries its value; above, its tooltip does.
const KL_LABELLED_DIMS: usize = 16;

/// Height of the y coordinate for `nats` on the fixed log scale.
fn kl_y(nats: f64) -> f64 {
    let (lo, hi) = KL_DECADES;
    let decade = if nats.is_finite() && nats > 0.0 { nats.log10().clamp(lo, hi) } else { lo };
    KL_BOTTOM - (decade - lo) / (hi - lo) * (KL_BOTTOM - KL_TOP)
}

#[component]
pub fn KlBars(lab: Lab) -> impl IntoView {
    let axis = (KL_DECADES.0 as i32..=KL_DECADES.1 as i32)
        .map(|decade| {
            let nats = 10f64.powi(decade);
            let y = kl_y(nats);
            let label = if decade < 0 { format!("{nats}") } else { format!("{}", nats as u32) };
            view! {
                <line x1=KL_LEFT x2=W y1=y y2=y class="grid" />
                <text x=KL_LEFT - 4.0 y=y + 4.0 text-anchor="end" class="tick">{label}</text>
            }
        })
        .collect_view();
    let bars = move || {
        lab.views.with(|v| {
            let kl = &v.kl_per_dim;
            let width = (W - KL_LEFT) / kl.len().max(1) as f64;
            let labelled = kl.len() <= KL_LABELLED_DIMS;
            kl.iter()
                .enumerate()
                .map(|(i, &k)| {
                    let top = kl_y(k);
                    let x = KL_LEFT + i as f64 * width + 1.0;
                    let collapsed = k < COLLAPSED_KL;
                    let value = labelled.then(|| {
                        view! { <text x=x + (width - 2.0) / 2.0 y=top - 2.0 text-anchor="middle" class="value">{format_nats(k)}</text> }
                    });
                    view! {
                        <rect x=x y=top width=(width - 2.0).max(1.0) height=(KL_BOTTOM - top).max(0.5) class:collapsed=collapsed>
                            <title>{format!("z{i}: {k:.3} nats")}</title>
                        </rect>
                        {value}
                    }
                })
                .collect_view()
        })
    };
    // The drawing's KL per dimension: a tick across each bar, all in one path (empty without one).
    let drawn = move || {
        lab.drawing.with(|d| {
            let kl = d.as_ref().map_or(&[][..], |d| &d.kl_per_dim[..]);
            let width = (W - KL_LEFT) / kl.len().max(1) as f64;
            kl.iter().enumerate().map(|(i, &k)| format!("M{:.1} {:.1}h{width:.1}", KL_LEFT + i as f64 * width, kl_y(k))).collect::<String>()
        })
    };
    let total = move || lab.views.with(|v| v.kl_per_dim.iter().copied().filter(|k| k.is_finite()).sum::<f64>());
    let summary = move || {
        lab.views.with(|v| {
            let collapsed = v.kl_per_dim.iter().filter(|&&k| k < COLLAPSED_KL).count();
            format!(" nats in all; {collapsed} of {} dimensions collapsed (KL < {COLLAPSED_KL} nats)", v.kl_per_dim.len())
        })
    };
    view! {
        <Show when=move || lab.config.with(|c| c.shape.model.has_encoder())>
            <section class="view" id="kl-view">
                <h2>"KL per latent dimension"{info_button(Signal::stored("kl-bars"))}<SvgPngButton chart="kl-chart" name="kl" /></h2>
                <svg viewBox=format!("0 0 {W} 112") class="chart bars" id="kl-chart" role="img" aria-label="KL divergence per latent dimension, in nats on a log scale from 0.01 to 100">
                    {axis.clone()}
                    {bars}
                    <path d=drawn class="drawn" />
                </svg>
                <p class="hint">"Total KL "<b id="kl-total">{move || format_nats(total())}</b>{summary}". Bars in nats on a fixed log scale (0.01 to 100), so runs compare bar for bar. Raise β and watch dimensions collapse to the prior: the posterior of a collapsed dimension ignores the input. With a digit drawn on the pad, black ticks mark its own KL."</p>
            </section>
        </Show>
    }
}

/// Nats as the KL view prints them: three significant digits, no exponent for the usual range.
fn format_nats(nats: f64) -> String {
    match nats {
        n if !n.is_finite() => "—".into(),
        // Before the first step the total is −0.0, which `{:e}` writes "-0e0".
        n if n.abs() < 1e-9 => "0".into(),
        n if n.abs() >= 100.0 => format!("{n:.0}"),
        n if n.abs() >= 10.0 => format!("{n:.1}"),
        n if n.abs() >= 0.01 => format!("{n:.2}"),
        n => format!("{n:.0e}"),
    }
}

/// A histogram of each weight matrix on its layer's fixed range: L2 draws the bars in, L1 piles
/// weights at zero; the starting weights stay as a faint outline to compare with.
#[component]
pub fn WeightHistograms(lab: Lab) -> impl IntoView {
    // The histogram's viewBox.
    const WIDE: f64 = 200.0;
    const TALL: f64 = 64.0;
    let redraw = later::redraw_trigger(move || lab.views.track());
    let histograms = move || {
        redraw.track();
        lab.views.with_untracked(|v| {
            v.weights
                .iter()
                .map(|h| {
                    let most = h.counts.iter().chain(&h.initial).copied().max().unwrap_or(1).max(1);
                    let width = WIDE / HISTOGRAM_BINS as f64;
                    let height = |c: u32| f64::from(c) / f64::from(most) * (TALL - 6.0);
                    // The bars as one path, not a `<rect>` each: forty elements per layer were
                    // 160 of the default page's 547, each rebuilt at every refresh.
                    let bars: String = h
                        .counts
                        .iter()
                        .enumerate()
                        .filter(|&(_, &c)| c > 0)
                        .map(|(i, &c)| format!("M{:.1},{:.1}h{w:.1}V{:.1}h-{w:.1}z", i as f64 * width, TALL - 2.0 - height(c), TALL - 2.0, w = width - 0.5))
                        .collect();
                    // The starting weights' outline, a step line over the same bins.
                    let outline: String = h
                        .initial
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| {
                            let (x, y) = (i as f64 * width, TALL - 2.0 - height(c));
                            format!("{}{x:.1},{y:.1}H{:.1}", if i == 0 { "M" } else { "L" }, x + width)
                        })
                        .collect();
                    // Weights beyond the range, each side: an arrow and a share at that edge.
                    let beyond = |share: f32, left: bool| {
                        (share >= 0.005).then(|| {
                            let text = if left { format!("◀ {:.0}%", share * 100.0) } else { format!("{:.0}% ▶", share * 100.0) };
                            // Above the bars: the left one under the count, the right one in its corner.
                            view! { <text x=if left { 2.0 } else { WIDE - 2.0 } y=if left { 18.0 } else { 9.0 } text-anchor=if left { "start" } else { "end" } class="beyond">{text}</text> }
                        })
                    };
                    let outside = h.beyond[0] + h.beyond[1];
                    let outside = (outside >= 0.005).then(|| format!(" · {:.0}% beyond the range", outside * 100.0));
                    view! {
                        <figure class="histogram" data-layer=h.name.clone() data-reach=h.reach>
                            <svg viewBox=format!("0 0 {WIDE} {TALL}") role="img" aria-label=format!("weights of {}: a histogram from −{r:.2} to {r:.2}", h.name, r = h.reach)>
                                <path d=bars class="bars" />
                                <path d=outline class="start" />
                                <text x="2" y="9" class="count">{format!("{most}")}</text>
                                {beyond(h.beyond[0], true)}
                                {beyond(h.beyond[1], false)}
                            </svg>
                            <div class="range"><span>{format!("−{:.2}", h.reach)}</span><span>"0"</span><span>{format!("{:.2}", h.reach)}</span></div>
                            <figcaption>{format!("{} · {:.0}% near 0", h.name, h.near_zero * 100.0)}{outside}</figcaption>
                        </figure>
                    }
                })
                .collect_view()
        })
    };
    // A tenth of some layer's weights beyond its range: the histogram no longer shows them.
    let outgrown = move || lab.views.with(|v| v.weights.iter().any(|h| h.beyond[0] + h.beyond[1] > 0.1));
    let hint = move || match lab.config.with(|c| c.shape.model) {
        ModelKind::Vae => "L2 shrinks every weight toward 0 (the bars draw in); L1 sets many exactly to 0 (a spike in the middle).",
        ModelKind::Gan => "G's layers, then D's: λ_G draws G's bars in (far enough, every z lands on one point), λ_D draws D's in. The GAN has no L1.",
        ModelKind::VaeGan => "The encoder's and decoder's layers (λ₂ draws them in, λ₁ piles them at 0), then D's, which only λ_D shrinks.",
    };
    view! {
        <section class="view" id="weights-view">
            <h2>"Weights per layer"{info_button(Signal::stored("weights"))}
                <button class="link" id="rescale-weights" class:suggested=outgrown on:click=move |_| lab.send(Command::RescaleHistograms)
                    title="Fit each histogram's range to the weights now (the range stays fixed while training)">
                    {move || if outgrown() { "Rescale: weights outgrew a range" } else { "Rescale" }}
                </button>
            </h2>
            <div class="histograms">{histograms}</div>
            <p class="hint">"Each layer keeps its range while training, so the bars move, not the axis; the outline is where the weights started, the number top left the tallest bar's count. "{hint}</p>
        </section>
    }
}
