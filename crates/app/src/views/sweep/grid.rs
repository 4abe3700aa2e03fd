//! A GAN sweep's grid: one cell per pair of values (the first knob's across, the second's down),
//! shaded by the squared MMD between its generated points and the real ones on a fixed log scale
//! (darker: closer; the command line's `gan_grid.png` shades alike), with its modes covered and
//! MMD² written in it and the best cell framed. A click on a cell (or its row's button) shows
//! that model's points; "Use the best pair" sets both knobs of the main run.

use latent_session::config::Knob;
use latent_session::sweep::grid::shade;
use latent_session::sweep::Grid;
use leptos::prelude::*;

use super::super::charts::format_value;
use super::super::pictures::SvgPngButton;
use super::beta::heat_colour;
use super::{picked, LEFT, RIGHT, TOP, W};
use crate::state::Lab;
use crate::sweep;

/// Height of a row of cells, and most of the grid's height.
const ROW: f64 = 54.0;
const MAX_GRID_HEIGHT: f64 = 420.0;

#[component]
pub(super) fn GridHeatMap(lab: Lab, grid: Grid, knob: Knob, across: Option<Knob>) -> impl IntoView {
    let (svg, height) = grid_svg(&grid, knob, across);
    let label = match across {
        Some(a) => format!("Grid of {} (columns) against {} (rows): modes covered and MMD² to the real points per model", knob.label(), a.label()),
        None => format!("Modes covered and MMD² to the real points against {}", knob.label()),
    };
    view! {
        <h3>"Modes covered and distance to the real points"<SvgPngButton chart="gan-grid" name="gan-grid" /></h3>
        <svg viewBox=format!("0 0 {W} {height}") class="chart sweep-curve" id="gan-grid" role="img" aria-label=label
            on:click=pick(lab, &grid) inner_html=svg />
        <p class="hint">"Each cell is one GAN trained with that pair of values: how many of the ring's modes its points cover, and the squared MMD between its points and the real ones (0 when they match; darker is closer). Framed: the most modes, then the least MMD². Click a cell to see its points."</p>
        <table id="sweep-table" class="numbers" on:click=pick(lab, &grid) inner_html=table_html(&grid, knob, across) />
    }
}

/// The grid's markup and its height.
fn grid_svg(grid: &Grid, knob: Knob, across: Option<Knob>) -> (String, f64) {
    let (columns, rows) = (grid.values.len().max(1), grid.rows.len().max(1));
    let row = (MAX_GRID_HEIGHT / rows as f64).min(ROW);
    let left = LEFT + 30.0;
    let cell_width = (RIGHT - left) / columns as f64;
    let bottom = TOP + row * rows as f64;
    let mut svg = String::new();
    for r in 0..rows {
        let y = TOP + row * r as f64;
        if let (Some(a), Some(Some(v))) = (across, grid.rows.get(r)) {
            svg +=
                &format!(r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="tick">{} {}</text>"#, left - 4.0, y + row * 0.5 + 4.0, a.symbol(), a.format(*v));
        }
        for c in 0..columns {
            let (x, index) = (left + cell_width * c as f64, r * columns + c);
            let cell = grid.cell(r, c);
            let scored = cell.filter(|s| !s.diverged);
            let (fill, ink, lines) = match (cell, scored.and_then(|s| s.mmd)) {
                (Some(s), Some(mmd)) => {
                    let t = shade(mmd);
                    let modes = s.modes.map_or_else(String::new, |(m, of)| format!("{m}/{of} modes"));
                    (heat_colour(t), if t > 0.55 { "#ffffff" } else { "#212529" }, [modes, format!("MMD² {}", format_value(mmd))])
                }
                (Some(_), None) => ("#dee2e6".to_string(), "#b00020", ["diverged".to_string(), String::new()]),
                (None, _) => ("#f8f9fa".to_string(), "#6c757d", ["not scored yet".to_string(), String::new()]),
            };
            let best = grid.best == Some(index);
            let (value, second) = grid.at(index).unwrap_or_default();
            svg += &format!(
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="{fill}" stroke="{}" stroke-width="{}" class="pick" data-show="{index}" data-value="{}" data-across="{}" data-modes="{}" data-mmd="{}"{}/>"##,
                x + 1.0,
                y + 1.0,
                cell_width - 2.0,
                row - 2.0,
                if best { "#212529" } else { "#ffffff" },
                if best { 3 } else { 1 },
                Knob::format_plain(value),
                second.map(Knob::format_plain).unwrap_or_default(),
                scored.and_then(|s| s.modes).map_or_else(String::new, |(m, _)| m.to_string()),
                scored.and_then(|s| s.mmd).map_or_else(String::new, |m| format!("{m:.5}")),
                if best { r#" data-best="1""# } else { "" }
            );
            for (i, line) in lines.iter().enumerate().filter(|(_, l)| !l.is_empty()) {
                svg += &format!(
                    r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="cell grid-cell" fill="{ink}" data-show="{index}">{line}</text>"#,
                    x + cell_width / 2.0,
                    y + row * 0.5 + if i == 0 { -2.0 } else { 10.0 }
                );
            }
        }
    }
    for (c, v) in grid.values.iter().enumerate() {
        svg += &format!(
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="tick">{} {}</text>"#,
            left + cell_width * (c as f64 + 0.5),
            bottom + 14.0,
            knob.symbol(),
            knob.format(*v)
        );
    }
    svg += r#"<text x="2" y="12" class="tick">modes covered and MMD² per model (darker: closer to the real points)</text>"#;
    (svg, bottom + 24.0)
}

/// The grid's numbers as a table a screen reader can walk, a row per model with its pictures
/// (markup text, as the map).
fn table_html(grid: &Grid, knob: Knob, across: Option<Knob>) -> String {
    let second_head = across.map_or_else(String::new, |a| format!(r#"<th scope="col">{}</th>"#, a.symbol()));
    let mut html = format!(
        r#"<thead><tr><th scope="col">{}</th>{second_head}<th scope="col">modes covered</th><th scope="col">MMD²</th><th scope="col">choice</th><th scope="col">model</th></tr></thead><tbody>"#,
        knob.symbol()
    );
    for (index, cell) in grid.cells.iter().enumerate() {
        let Some((value, second)) = grid.at(index) else { continue };
        let (modes, mmd, state) = match cell {
            Some(s) if !s.diverged => (
                s.modes.map_or_else(|| "—".into(), |(m, of)| format!("{m} of {of}")),
                s.mmd.map_or_else(|| "—".into(), format_value),
                if grid.best == Some(index) { "best" } else { "" },
            ),
            Some(_) => ("—".into(), "—".into(), "diverged"),
            None => ("—".into(), "—".into(), "not scored yet"),
        };
        let second = second.zip(across).map_or_else(String::new, |(v, a)| format!("<td>{}</td>", a.format(v)));
        html += &format!(
            r#"<tr data-value="{}"><td>{}</td>{second}<td class="modes">{modes}</td><td class="mmd">{mmd}</td><td class="choice">{state}</td><td><button type="button" class="link" data-show="{index}">pictures</button></td></tr>"#,
            Knob::format_plain(value),
            knob.format(value)
        );
    }
    html + "</tbody>"
}

/// A click on a `data-show` mark (a cell, a row's button) asks for that model's pictures.
fn pick(lab: Lab, grid: &Grid) -> impl Fn(web_sys::MouseEvent) + 'static {
    let grid = grid.clone();
    move |ev| {
        if let Some((value, across)) = picked(&ev).and_then(|i| grid.at(i)) {
            sweep::show(lab, value, across);
        }
    }
}
