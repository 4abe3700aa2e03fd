//! Charts drawn as plain SVG from signals: the loss chart (training terms, train vs held-out,
//! the GAN's two losses and D's accuracy, a log-scale toggle, the early-stopping marker), KL per
//! latent dimension, and a weight histogram per layer.

use latent_session::config::ModelKind;
use leptos::prelude::*;

use latent_session::run::{Point, COLLAPSED_KL};

use crate::driver::HISTOGRAM_BINS;
use crate::state::Lab;

const W: f64 = 600.0;
const H: f64 = 220.0;
const PAD: f64 = 34.0;

/// One line of the loss chart. Colours are Okabe and Ito's colour-blind-safe set; the name in the
/// legend and the dashes (the −ELBOs and D's accuracy) tell the lines apart without colour.
struct Series {
    name: &'static str,
    colour: &'static str,
    dashed: bool,
    value: fn(&Point) -> Option<f64>,
}

fn series_for(model: ModelKind) -> Vec<Series> {
    let s = |name, colour, dashed, value| Series { name, colour, dashed, value };
    match model {
        ModelKind::Gan => vec![
            s("D loss", "#d55e00", false, |p| Some(p.d_loss)),
            s("G loss", "#0072b2", false, |p| Some(p.g_loss)),
            s("D accuracy (held-out real)", "#009e73", true, |p| p.d_accuracy),
        ],
        ModelKind::Vae | ModelKind::VaeGan => {
            let mut v = vec![
                s("total (training)", "#000000", false, |p| Some(p.total)),
                s("reconstruction", "#0072b2", false, |p| Some(p.reconstruction)),
                s("KL", "#e69f00", false, |p| Some(p.kl)),
                s("penalty", "#999999", false, |p| Some(p.penalty)),
                s("−ELBO train", "#009e73", true, |p| p.train),
                s("−ELBO held-out", "#d55e00", true, |p| p.test),
            ];
            if model == ModelKind::VaeGan {
                v.push(s("D loss", "#cc79a7", false, |p| Some(p.d_loss)));
                v.push(s("G loss", "#56b4e9", false, |p| Some(p.g_loss)));
            }
            v
        }
    }
}

/// An SVG path through `points` (already in chart coordinates), broken at gaps.
fn path(points: &[Option<(f64, f64)>]) -> String {
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

#[component]
pub fn LossChart(lab: Lab) -> impl IntoView {
    let model = move || lab.config.with(|c| c.shape.model);
    let chart = move || {
        let log = lab.log_scale.get();
        let series = series_for(model());
        lab.history.with(|history| {
            let history = history.points();
            let transform = |v: f64| if log { (v > 0.0).then(|| v.log10()) } else { Some(v) };
            let values: Vec<f64> =
                series.iter().flat_map(|s| history.iter().filter_map(|p| (s.value)(p)).filter(|v| v.is_finite()).filter_map(transform)).collect();
            let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
            let (lo, hi) = if lo.is_finite() && hi > lo {
                (lo, hi)
            } else if lo.is_finite() {
                (lo - 1.0, lo + 1.0)
            } else {
                (0.0, 1.0)
            };
            let last_step = history.last().map_or(1, |p| p.step).max(1) as f64;
            let x = |step: u64| PAD + (W - PAD - 8.0) * step as f64 / last_step;
            let y = |v: f64| H - PAD + 10.0 - (H - PAD) * (v - lo) / (hi - lo);
            let lines = series
                .iter()
                .map(|s| {
                    let points: Vec<Option<(f64, f64)>> = history
                        .iter()
                        .filter(|p| (s.value)(p).is_some() || !s.dashed)
                        .map(|p| (s.value)(p).filter(|v| v.is_finite()).and_then(transform).map(|v| (x(p.step), y(v))))
                        .collect();
                    view! { <path d=path(&points) stroke=s.colour fill="none" stroke-width="1.6" stroke-dasharray=if s.dashed { "5 3" } else { "" } /> }
                })
                .collect_view();
            let label = |v: f64| if log { format!("{:.3}", 10f64.powf(v)) } else { format!("{v:.3}") };
            let best = lab.best_step.get().map(|step| {
                view! {
                    <line x1=x(step) x2=x(step) y1="10" y2=H - PAD + 10.0 stroke="#2b8a3e" stroke-width="1" stroke-dasharray="2 2" />
                    <text x=x(step) + 3.0 y="20" class="axis">{format!("best @ {step}")}</text>
                }
            });
            view! {
                <svg viewBox=format!("0 0 {W} {}", H + 14.0) class="chart" role="img" aria-label="Loss over training steps">
                    <line x1=PAD x2=W - 8.0 y1=H - PAD + 10.0 y2=H - PAD + 10.0 class="axis-line" />
                    <text x="2" y="16" class="axis">{label(hi)}</text>
                    <text x="2" y=H - PAD + 10.0 class="axis">{label(lo)}</text>
                    <text x=W - 8.0 y=H + 8.0 class="axis" text-anchor="end">{format!("step {}", last_step as u64)}</text>
                    {lines}
                    {best}
                </svg>
            }
        })
    };
    let legend = move || {
        series_for(model())
            .into_iter()
            .map(|s| {
                view! {
                    <span class="legend-item"><i style:background=s.colour class:dashed=s.dashed></i>{s.name}</span>
                }
            })
            .collect_view()
    };
    let explanation = move || {
        match model() {
        ModelKind::Gan => "D and G play against each other: the losses need not fall. D accuracy near 0.5 on held-out real points means D can no longer tell; near 1 it wins.",
        _ => "Training loss falls as the model fits. Watch the held-out −ELBO (dashed red): when it turns up while training keeps falling, the model overfits. Try L2, dropout or more data.",
    }
    };
    view! {
        <section class="view" id="loss-view">
            <h2>"Loss"
                <label class="toggle"><input type="checkbox" id="log-scale" prop:checked=move || lab.log_scale.get()
                    on:change=move |ev| lab.log_scale.set(event_target_checked(&ev)) />"log scale"</label>
            </h2>
            {chart}
            <div class="legend">{legend}</div>
            <p class="hint">{explanation}</p>
        </section>
    }
}

/// KL per latent dimension: collapsed dimensions (KL ≈ 0) carry no information.
/// The KL bars' fixed scale: log₁₀ nats from 0.01 to 100, the same for every run, so two
/// screenshots at different β compare bar for bar (a rescaling axis made β = 0 and β = 1 look alike).
const KL_DECADES: (f64, f64) = (-2.0, 2.0);
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
                <h2>"KL per latent dimension"</h2>
                <svg viewBox=format!("0 0 {W} 112") class="chart bars" role="img" aria-label="KL divergence per latent dimension, in nats on a log scale from 0.01 to 100">
                    {axis.clone()}
                    {bars}
                </svg>
                <p class="hint">"Total KL "<b id="kl-total">{move || format_nats(total())}</b>{summary}". Bars in nats on a fixed log scale (0.01 to 100), so runs compare bar for bar. Raise β and watch dimensions collapse to the prior: the posterior of a collapsed dimension ignores the input."</p>
            </section>
        </Show>
    }
}

/// Nats as the KL view prints them: three significant digits, no exponent for the usual range.
fn format_nats(nats: f64) -> String {
    match nats {
        n if !n.is_finite() => "—".into(),
        n if n.abs() >= 100.0 => format!("{n:.0}"),
        n if n.abs() >= 10.0 => format!("{n:.1}"),
        n if n.abs() >= 0.01 => format!("{n:.2}"),
        n => format!("{n:.0e}"),
    }
}

/// A histogram of each weight matrix: L2 narrows them, L1 piles weights at zero.
#[component]
pub fn WeightHistograms(lab: Lab) -> impl IntoView {
    let histograms = move || {
        lab.views.with(|v| {
            v.weights
                .iter()
                .map(|h| {
                    let most = h.counts.iter().copied().max().unwrap_or(1).max(1) as f64;
                    let width = 200.0 / HISTOGRAM_BINS as f64;
                    let bars = h
                        .counts
                        .iter()
                        .enumerate()
                        .map(|(i, &c)| {
                            let height = c as f64 / most * 60.0;
                            view! { <rect x=i as f64 * width y=62.0 - height width=width - 0.5 height=height /> }
                        })
                        .collect_view();
                    view! {
                        <figure class="histogram">
                            <svg viewBox="0 0 200 64" role="img" aria-label=format!("weights of {}", h.name)>{bars}</svg>
                            <figcaption>{format!("{} · ±{:.2} · {:.0}% near 0", h.name, h.reach, h.near_zero * 100.0)}</figcaption>
                        </figure>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="view" id="weights-view">
            <h2>"Weights per layer"</h2>
            <div class="histograms">{histograms}</div>
            <p class="hint">"L2 shrinks every weight toward 0 (the histogram narrows); L1 sets many exactly to 0 (a spike in the middle)."</p>
        </section>
    }
}
