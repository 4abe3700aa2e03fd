//! `kl`: KL per latent dimension as labelled bars, collapsed dimensions (KL below
//! [`COLLAPSED_KL`]) in grey: what β does, dimension by dimension, on an axis with numbers, so two
//! runs' figures compare.

use latent_session::run::COLLAPSED_KL;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{self, decimals, font, muted, LEGEND_SIZE, LINES, NOTE_SIZE};
use super::{Figure, Heading};

/// Width, and height under the heading.
const SIZE: (u32, u32) = (1200, 520);
const COLLAPSED: RGBColor = RGBColor(190, 190, 190);

pub struct KlBars {
    pub heading: Heading,
    /// Mean KL of each latent dimension, nats per example.
    pub kl: Vec<f64>,
}

impl KlBars {
    /// How many dimensions are collapsed.
    pub fn collapsed(kl: &[f64]) -> usize {
        kl.iter().filter(|&&k| k < COLLAPSED_KL).count()
    }
}

impl Figure for KlBars {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + chart::heading_height(&self.heading, SIZE.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = chart::heading(root, &self.heading)?;
        // plotters' integer ranges include their end: 0..dims − 1 is one segment per dimension.
        let dims = self.kl.len().max(1) as u32;
        let most = self.kl.iter().copied().filter(|v| v.is_finite()).fold(0.1, f64::max);
        let top = most * 1.15;
        let mut chart = chart::single_panel(&body).build_cartesian_2d((0..dims - 1).into_segmented(), 0.0..top)?;
        let y_decimals = decimals(top);
        // Label every dimension while they fit, else every other one.
        let step = if dims > 40 { 2 } else { 1 };
        chart::styled_mesh(&mut chart)
            .disable_x_mesh()
            .x_desc("latent dimension")
            .y_desc("KL (nats per example)")
            .x_labels(dims as usize)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) if i % step == 0 => format!("z{i}"),
                _ => String::new(),
            })
            .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
            .draw()?;
        let active = LINES[0];
        chart.draw_series(self.kl.iter().enumerate().map(|(i, &k)| {
            let colour = if k < COLLAPSED_KL { COLLAPSED } else { active };
            let value = if k.is_finite() { k.clamp(0.0, top) } else { 0.0 };
            let mut bar = Rectangle::new([(SegmentValue::Exact(i as u32), 0.0), (SegmentValue::Exact(i as u32 + 1), value)], colour.filled());
            bar.set_margin(0, 0, 4, 4);
            bar
        }))?;
        // Values over the bars, smaller when many bars share the width.
        let value_size = if dims > 24 { NOTE_SIZE - 4 } else { NOTE_SIZE };
        let value_decimals = if most >= 10.0 { 1 } else { 2 };
        chart.draw_series(self.kl.iter().enumerate().filter(|_| dims <= 64).map(|(i, &k)| {
            let text = if k.is_finite() { format!("{k:.value_decimals$}") } else { "NaN".into() };
            let y = if k.is_finite() { k.clamp(0.0, top) } else { 0.0 };
            Text::new(text, (SegmentValue::CenterOf(i as u32), y + 0.01 * top), font(value_size).pos(Pos::new(HPos::Center, VPos::Bottom)))
        }))?;
        let (w, _) = body.dim_in_pixel();
        let collapsed = KlBars::collapsed(&self.kl);
        let total: f64 = self.kl.iter().filter(|v| v.is_finite()).sum();
        let legend = format!("blue: active; grey: collapsed (KL < {COLLAPSED_KL} nats), {collapsed} of {} · total KL {total:.2} nats", self.kl.len());
        body.draw_text(&legend, &muted(LEGEND_SIZE).pos(Pos::new(HPos::Right, VPos::Top)), (w as i32 - 36, 16))?;
        Ok(())
    }
}
