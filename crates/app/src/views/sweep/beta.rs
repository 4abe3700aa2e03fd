//! A β sweep's own views, for the VAE family: each β's validation rate and distortion on the
//! rate–distortion plane beside the main run's path, and the rate per latent dimension against β
//! as a heat map, where posterior collapse sets in dimension by dimension.

use latent_session::config::Knob;
use latent_session::run::COLLAPSED_KL;
use latent_session::sweep::Curve;
use leptos::prelude::*;

use super::super::charts::{format_value, nice_ticks, padded_range, path};
use super::super::pictures::SvgPngButton;
use super::{BOTTOM, H, LEFT, RIGHT, TOP, VALIDATION_COLOUR, W};
use crate::state::Lab;

/// A β sweep on the rate–distortion plane: each value's validation rate (KL) and distortion
/// (reconstruction), means over the folds, labelled with its β; dashed lines of slope −1 are
/// lines of equal −ELBO (rate + distortion), the lowest through the best value. The main run's
/// path (its training batches, after the first tenth of its history) moves as it trains and as
/// its β slider moves.
#[component]
pub(super) fn RateDistortion(lab: Lab, curve: Curve) -> impl IntoView {
    let svg = move || {
        lab.history.with(|h| {
            let points = h.points();
            let settled = &points[points.len() / 10..];
            let every = settled.len().div_ceil(MAIN_PATH_POINTS).max(1);
            let path: Vec<(f64, f64)> =
                settled.iter().step_by(every).map(|p| (p.kl, p.reconstruction)).filter(|(r, d)| r.is_finite() && d.is_finite()).collect();
            rate_distortion_svg(&curve, &path)
        })
    };
    view! {
        <h3>"Rate and distortion"<SvgPngButton chart="rate-distortion" name="rate-distortion" /></h3>
        <svg viewBox=format!("0 0 {W} {H}") class="chart sweep-curve" id="rate-distortion" role="img"
            aria-label="Rate (KL) against distortion (reconstruction) for each β of the sweep, with lines of equal −ELBO and the main run's path" inner_html=svg />
        <p class="hint">"Raising β buys a lower rate (fewer nats in the code) with more distortion (blurrier reconstructions); along a dashed line the −ELBO is the same. Grey: the main run as it trains, on its training batches."</p>
    }
}

/// Points of the main run's path drawn at most.
const MAIN_PATH_POINTS: usize = 200;
/// Lines of equal −ELBO drawn.
const ELBO_LEVELS: usize = 4;

fn rate_distortion_svg(curve: &Curve, main_path: &[(f64, f64)]) -> String {
    let sweep: Vec<(f64, f64, f32)> = curve.points.iter().filter_map(|p| Some((p.rate?, p.distortion?, p.value))).collect();
    let all = || sweep.iter().map(|p| (p.0, p.1)).chain(main_path.iter().copied());
    let (r_lo, r_hi) = padded_range(all().map(|p| p.0).chain([0.0]));
    let (d_lo, d_hi) = padded_range(all().map(|p| p.1));
    let x = |r: f64| LEFT + (RIGHT - LEFT) * (r - r_lo) / (r_hi - r_lo);
    let y = |d: f64| BOTTOM - (BOTTOM - TOP) * (d - d_lo) / (d_hi - d_lo);
    let mut svg = String::new();
    for (v, label) in nice_ticks(d_lo, d_hi, 4) {
        svg += &format!(
            r#"<line x1="{}" x2="{LEFT}" y1="{y:.1}" y2="{y:.1}" class="axis-line"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{label}</text>"#,
            LEFT - 4.0,
            LEFT - 6.0,
            y(v) + 3.0,
            y = y(v)
        );
    }
    for (v, label) in nice_ticks(r_lo, r_hi, 6) {
        svg += &format!(r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{label}</text>"#, x(v), BOTTOM + 14.0);
    }
    svg += &format!(
        r#"<line x1="{LEFT}" x2="{RIGHT}" y1="{BOTTOM}" y2="{BOTTOM}" class="axis-line"/><text x="2" y="12" class="tick">distortion (nats)</text><text x="{RIGHT}" y="{}" text-anchor="end" class="tick">rate: KL (nats)</text>"#,
        H - 2.0
    );
    // rate + distortion = level, cut to the frame.
    let elbos = sweep.iter().map(|p| p.0 + p.1);
    let (e_lo, e_hi) = elbos.clone().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), e| (lo.min(e), hi.max(e)));
    if e_lo.is_finite() {
        let step = ((e_hi - e_lo) / (ELBO_LEVELS - 1) as f64).max(1.0);
        for level in (0..ELBO_LEVELS).map(|i| e_lo + i as f64 * step) {
            let (from, to) = ((level - d_hi).max(r_lo), (level - d_lo).min(r_hi));
            if from < to {
                svg += &format!(
                    r##"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="#9aa0a6" stroke-dasharray="5 4"/><text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">−ELBO {level:.0}</text>"##,
                    x(from),
                    x(to),
                    y(level - from),
                    y(level - to),
                    x(to) - 2.0,
                    y(level - to) - 3.0
                );
            }
        }
    }
    let trail = path(&main_path.iter().map(|&(r, d)| Some((x(r), y(d)))).collect::<Vec<_>>());
    svg += &format!(r##"<path d="{trail}" fill="none" stroke="#6c757d" stroke-width="1.5"/>"##);
    for &(r, d, beta) in &sweep {
        svg += &format!(
            r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{VALIDATION_COLOUR}"/><text x="{:.1}" y="{:.1}" class="tick">β {}</text>"#,
            x(r),
            y(d),
            x(r) + 6.0,
            y(d) - 5.0,
            Knob::Beta.format(beta)
        );
    }
    svg
}

/// Height of one latent dimension's row in the heat map, and the least and most it shrinks to.
const ROW: f64 = 16.0;
const MIN_ROW: f64 = 6.0;
const HEAT_HEIGHT: f64 = 300.0;
/// Least cell width that prints the cell's number.
const NUMBER_WIDTH: f64 = 34.0;

/// The validation rate of each latent dimension (rows, the most informative at the top) at each
/// β (columns), means over the folds: a light cell carries little, a hatched one is collapsed
/// (KL under [`COLLAPSED_KL`]). Under each column, how many dimensions are still active.
#[component]
pub(super) fn KlHeatMap(curve: Curve) -> impl IntoView {
    let dims = curve.points.iter().map(|p| p.kl_per_dim.len()).max().unwrap_or(0);
    (dims > 0).then(|| {
        let (svg, height) = kl_heat_svg(&curve, dims);
        view! {
            <h3>"Rate per latent dimension"<SvgPngButton chart="kl-heatmap" name="kl-heatmap" /></h3>
            <svg viewBox=format!("0 0 {W} {height}") class="chart sweep-curve" id="kl-heatmap" role="img"
                aria-label="KL per latent dimension (rows) against β (columns): posterior collapse sets in dimension by dimension" inner_html=svg />
            <p class="hint">{format!(
                "Each cell is one latent dimension's KL on the validation rows at that β (nats; darker carries more). Hatched: collapsed (under {COLLAPSED_KL} nats), the posterior ignores the input there. As β grows, dimensions collapse one by one."
            )}</p>
        }
    })
}

/// The heat map's markup and its height.
fn kl_heat_svg(curve: &Curve, dims: usize) -> (String, f64) {
    let n = curve.points.len().max(1);
    let row = (HEAT_HEIGHT / dims as f64).clamp(MIN_ROW, ROW);
    let (top, left) = (TOP, LEFT);
    let bottom = top + row * dims as f64;
    let height = bottom + 36.0;
    let cell_width = (RIGHT - left) / n as f64;
    let kl = |p: usize, d: usize| curve.points[p].kl_per_dim.get(d).copied().filter(|k| k.is_finite());
    let highest = (0..n).flat_map(|p| (0..dims).filter_map(move |d| kl(p, d))).fold(0.0f64, f64::max).max(COLLAPSED_KL);
    // The most informative dimensions first (by their rate summed over the values), so collapse
    // reads as a staircase from the bottom up.
    let mut order: Vec<usize> = (0..dims).collect();
    let total = |d: usize| (0..n).filter_map(|p| kl(p, d)).sum::<f64>();
    order.sort_by(|&a, &b| total(b).total_cmp(&total(a)).then(a.cmp(&b)));
    let mut svg = String::from(
        r##"<defs><pattern id="collapsed-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f3f5"/><line x1="0" y1="0" x2="0" y2="6" stroke="#adb5bd" stroke-width="2"/></pattern></defs>"##,
    );
    let show_numbers = cell_width >= NUMBER_WIDTH && row >= 12.0;
    for (r, &d) in order.iter().enumerate() {
        let y = top + row * r as f64;
        if row >= 9.0 {
            svg += &format!(r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">z{}</text>"#, left - 4.0, y + row * 0.5 + 4.0, d + 1);
        }
        for (p, point) in curve.points.iter().enumerate() {
            let x = left + cell_width * p as f64;
            let value = kl(p, d);
            let fill = match value {
                Some(k) if k < COLLAPSED_KL => "url(#collapsed-hatch)".to_string(),
                Some(k) => heat_colour(k / highest),
                None => "#ffffff".to_string(),
            };
            let title = value.map_or_else(|| "not scored".to_string(), |k| format!("{} nats", format_value(k)));
            svg += &format!(
                r##"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="#ffffff" data-dim="{}" data-value="{}" data-kl="{}"><title>z{} at β {}: {title}</title></rect>"##,
                cell_width,
                row,
                d + 1,
                Knob::format_plain(point.value),
                value.map_or_else(String::new, |k| format!("{k:.4}")),
                d + 1,
                Knob::Beta.format(point.value)
            );
            if let Some(k) = value.filter(|_| show_numbers) {
                let ink = if k / highest > 0.55 { "#ffffff" } else { "#212529" };
                svg += &format!(
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="cell" fill="{ink}">{}</text>"#,
                    x + cell_width / 2.0,
                    y + row * 0.5 + 3.5,
                    format_value(k)
                );
            }
        }
    }
    for (p, point) in curve.points.iter().enumerate() {
        let x = left + cell_width * (p as f64 + 0.5);
        let active = point.active_dims().map_or_else(|| "—".to_string(), |a| format!("{a} of {dims}"));
        svg += &format!(r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="tick">β {}</text>"#, bottom + 13.0, Knob::Beta.format(point.value));
        svg += &format!(r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle" class="tick active-dims">{active}</text>"#, bottom + 26.0);
    }
    svg += r#"<text x="2" y="12" class="tick">KL per dimension (nats), active dimensions under each β</text>"#;
    (svg, height)
}

/// A light-to-dark blue for a share in [0, 1] of the map's highest rate: one hue, so it reads
/// the same to colour-blind eyes and in greyscale.
pub(super) fn heat_colour(share: f64) -> String {
    let t = share.clamp(0.0, 1.0);
    let mix = |light: f64, dark: f64| (light + (dark - light) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(239.0, 8.0), mix(243.0, 48.0), mix(255.0, 107.0))
}
