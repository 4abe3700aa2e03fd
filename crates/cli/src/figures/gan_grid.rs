//! `gan_grid`: a GAN sweep's grid over two knobs (λ_G across, λ_D down) as a heat map, each cell
//! shaded by its squared MMD to the real points on the page's fixed log scale (darker: closer) and
//! labelled with its modes covered and MMD², the best cell framed: where the GAN is stable and
//! covers the ring, read at a glance.

use latent_session::config::Knob;
use latent_session::sweep::grid::{shade, SHADE_RANGE};
use latent_session::sweep::Grid;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{self, font, muted, AXIS_SIZE, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE};
use super::{Figure, Heading};

/// Width, and height under the heading.
const SIZE: (u32, u32) = (1200, 640);
/// Room for the row labels (left), the column labels and key (below).
const LEFT: i32 = 190;
const RIGHT: i32 = 40;
const TOP: i32 = 20;
const BOTTOM: i32 = 110;
/// The shade's darkest colour (Okabe–Ito blue, darkened) and its lightest.
const DARK: (f64, f64, f64) = (8.0, 48.0, 107.0);
const LIGHT: (f64, f64, f64) = (247.0, 251.0, 255.0);

pub struct GanGrid {
    pub heading: Heading,
    pub knob: Knob,
    /// The second knob (`None`: one row).
    pub across: Option<Knob>,
    pub grid: Grid,
}

/// The shade's colour for MMD² `mmd`.
fn colour(mmd: f64) -> RGBColor {
    let t = shade(mmd);
    let mix = |dark: f64, light: f64| (light + (dark - light) * t).round() as u8;
    RGBColor(mix(DARK.0, LIGHT.0), mix(DARK.1, LIGHT.1), mix(DARK.2, LIGHT.2))
}

impl Figure for GanGrid {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + chart::heading_height(&self.heading, SIZE.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = chart::heading(root, &self.heading)?;
        let (w, h) = body.dim_in_pixel();
        let (columns, rows) = (self.grid.values.len().max(1) as i32, self.grid.rows.len().max(1) as i32);
        let (cell_w, cell_h) = ((w as i32 - LEFT - RIGHT) / columns, (h as i32 - TOP - BOTTOM) / rows);
        let centre = |c: i32, r: i32| (LEFT + c * cell_w + cell_w / 2, TOP + r * cell_h + cell_h / 2);
        for r in 0..rows {
            for c in 0..columns {
                let (x0, y0) = (LEFT + c * cell_w, TOP + r * cell_h);
                let cell = self.grid.cell(r as usize, c as usize);
                let (fill, lines) = match cell {
                    Some(s) if !s.diverged => {
                        let modes = s.modes.map_or_else(String::new, |(m, of)| format!("{m}/{of} modes"));
                        (colour(s.mmd.unwrap_or(f64::INFINITY)), vec![modes, format!("MMD² {:.3}", s.mmd.unwrap_or(f64::NAN))])
                    }
                    Some(_) => (RGBColor(200, 200, 200), vec!["diverged".to_string()]),
                    None => (RGBColor(235, 235, 235), vec!["not scored".to_string()]),
                };
                body.draw(&Rectangle::new([(x0 + 2, y0 + 2), (x0 + cell_w - 2, y0 + cell_h - 2)], fill.filled()))?;
                let dark = cell.and_then(|s| s.mmd).is_some_and(|m| shade(m) > 0.55);
                let text_colour = if dark { WHITE } else { BLACK };
                let (cx, cy) = centre(c, r);
                for (i, line) in lines.iter().enumerate() {
                    let y = cy + (i as i32 * 2 - lines.len() as i32 + 1) * (NOTE_SIZE as i32 + 4) / 2;
                    body.draw_text(line, &font(NOTE_SIZE + 2).color(&text_colour).pos(Pos::new(HPos::Center, VPos::Center)), (cx, y))?;
                }
                if self.grid.best == Some((r * columns + c) as usize) {
                    body.draw(&Rectangle::new([(x0 + 1, y0 + 1), (x0 + cell_w - 1, y0 + cell_h - 1)], ShapeStyle::from(&BLACK).stroke_width(5)))?;
                }
            }
        }
        for (c, value) in self.grid.values.iter().enumerate() {
            let (cx, _) = centre(c as i32, 0);
            body.draw_text(&self.knob.format(*value), &font(TICK_SIZE).pos(Pos::new(HPos::Center, VPos::Top)), (cx, TOP + rows * cell_h + 8))?;
        }
        for (r, value) in self.grid.rows.iter().enumerate() {
            let (_, cy) = centre(0, r as i32);
            let label = match (self.across, value) {
                (Some(knob), Some(v)) => format!("{} = {}", knob.symbol(), knob.format(*v)),
                _ => String::new(),
            };
            body.draw_text(&label, &font(TICK_SIZE).pos(Pos::new(HPos::Right, VPos::Center)), (LEFT - 10, cy))?;
        }
        let axis_y = TOP + rows * cell_h + 36;
        body.draw_text(self.knob.label(), &font(AXIS_SIZE).pos(Pos::new(HPos::Center, VPos::Top)), (LEFT + columns * cell_w / 2, axis_y))?;
        let key = format!(
            "shade: MMD² to the real points on a log scale (darkest ≤ {:.3}, white ≥ {}) · framed: most modes covered, then least MMD²",
            10f64.powf(SHADE_RANGE.0),
            10f64.powf(SHADE_RANGE.1)
        );
        body.draw_text(&key, &muted(LEGEND_SIZE).pos(Pos::new(HPos::Center, VPos::Top)), (w as i32 / 2, axis_y + 36))?;
        Ok(())
    }
}
