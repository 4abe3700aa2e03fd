//! `rate_distortion`: a β sweep on the rate–distortion plane. Each value of β is a point, rate =
//! KL(q(z|x) ‖ p(z)) and distortion = reconstruction on the validation rows (means over the
//! folds), labelled with its β; dashed lines of slope −1 are lines of equal −ELBO (rate +
//! distortion), so a student sees β trade one for the other along the frontier while the −ELBO
//! says which trade is best.

use latent_session::sweep::Curve;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{self, decimals, font, muted, FRAME, LEGEND_SIZE, LINES, NOTE_SIZE};
use super::curve::format_value;
use super::{Figure, Heading};

const SIZE: (u32, u32) = (1200, 700);
/// Lines of equal −ELBO drawn.
const LEVELS: usize = 5;

pub struct RateDistortion {
    pub heading: Heading,
    pub curve: Curve,
}

impl Figure for RateDistortion {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + chart::heading_height(&self.heading, SIZE.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = chart::heading(root, &self.heading)?;
        let points: Vec<(f64, f64, f32)> = self.curve.points.iter().filter_map(|p| Some((p.rate?, p.distortion?, p.value))).collect();
        let span = |values: &mut dyn Iterator<Item = f64>| values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (r_lo, r_hi) = span(&mut points.iter().map(|p| p.0));
        let (d_lo, d_hi) = span(&mut points.iter().map(|p| p.1));
        let (r_lo, r_hi) = if r_lo.is_finite() { (0.0f64.min(r_lo), r_hi + 0.1 * (r_hi - r_lo).max(1.0)) } else { (0.0, 1.0) };
        let (d_lo, d_hi) = if d_lo.is_finite() { (d_lo - 0.1 * (d_hi - d_lo).max(1.0), d_hi + 0.1 * (d_hi - d_lo).max(1.0)) } else { (0.0, 1.0) };
        let mut chart = chart::single_panel(&body).build_cartesian_2d(r_lo..r_hi, d_lo..d_hi)?;
        let (x_decimals, y_decimals) = (decimals(r_hi - r_lo), decimals(d_hi - d_lo));
        chart::styled_mesh(&mut chart)
            .x_desc("rate: KL(q(z|x) ‖ p(z)), nats per example")
            .y_desc("distortion: reconstruction, nats per example")
            .x_label_formatter(&|v| format!("{v:.x_decimals$}"))
            .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
            .draw()?;
        // Lines of equal −ELBO through the frame, the lowest through the best point.
        let elbos: Vec<f64> = points.iter().map(|p| p.0 + p.1).collect();
        let (e_lo, e_hi) = span(&mut elbos.iter().copied());
        if e_lo.is_finite() {
            let step = ((e_hi - e_lo) / (LEVELS - 1) as f64).max(1.0);
            for level in (0..LEVELS).map(|i| e_lo + i as f64 * step) {
                // rate + distortion = level, cut to the frame (plotters does not clip).
                let (from, to) = ((level - d_hi).max(r_lo), (level - d_lo).min(r_hi));
                if from >= to {
                    continue;
                }
                chart.draw_series(DashedLineSeries::new([(from, level - from), (to, level - to)], 6, 6, ShapeStyle::from(&FRAME).stroke_width(1)))?;
                let label = Text::new(format!("−ELBO {level:.0}"), (to, level - to), muted(NOTE_SIZE).pos(Pos::new(HPos::Right, VPos::Bottom)));
                chart.draw_series(std::iter::once(label))?;
            }
        }
        let colour = LINES[5];
        chart.draw_series(std::iter::once(PathElement::new(points.iter().map(|p| (p.0, p.1)).collect::<Vec<_>>(), colour.stroke_width(2))))?;
        chart.draw_series(points.iter().map(|p| Circle::new((p.0, p.1), 7, colour.filled())))?;
        chart.draw_series(
            points.iter().map(|p| Text::new(format!("β = {}", format_value(p.2)), (p.0, p.1), font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Bottom)))),
        )?;
        let (w, _) = body.dim_in_pixel();
        let legend = "each point one β (means over the folds, validation rows) · dashed: equal −ELBO = rate + distortion";
        body.draw_text(legend, &muted(LEGEND_SIZE).pos(Pos::new(HPos::Right, VPos::Top)), (w as i32 - 36, 16))?;
        Ok(())
    }
}
