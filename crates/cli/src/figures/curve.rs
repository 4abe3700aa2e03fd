//! `validation_curve`: a sweep's mean held-out (validation) −ELBO against the knob's value, with
//! ± one standard error over the folds, the training −ELBO beside it, and the two choices marked
//! as `cv.glmnet` draws them: λ_min (least mean) and λ_1se (the most regularising value within
//! one standard error of it). Log-scaled knobs get a log axis, with 0 drawn one grid step left of
//! the smallest positive value and labelled "0".

use latent_session::sweep::Curve;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{self, decimals, font, muted, LEGEND_SIZE, LINES, NOTE_SIZE, TICK_SIZE};
use super::{Figure, Heading};

const SIZE: (u32, u32) = (1200, 560);
const DIVERGED: RGBColor = RGBColor(0xb0, 0x2a, 0x37);

pub struct ValidationCurve {
    pub heading: Heading,
    /// The knob's name on the x axis, e.g. "L2 strength λ₂".
    pub knob: String,
    pub curve: Curve,
    pub log: bool,
}

impl ValidationCurve {
    /// Where each value sits on the x axis.
    fn positions(&self) -> Vec<f64> {
        let values: Vec<f64> = self.curve.points.iter().map(|p| f64::from(p.value)).collect();
        if !self.log {
            return values;
        }
        let logs: Vec<f64> = values.iter().filter(|v| **v > 0.0).map(|v| v.log10()).collect();
        let least = logs.iter().copied().fold(f64::INFINITY, f64::min);
        let step = logs.windows(2).map(|w| (w[1] - w[0]).abs()).filter(|g| *g > 0.0).fold(f64::INFINITY, f64::min);
        let zero_at = least - if step.is_finite() { step } else { 1.0 };
        values.iter().map(|&v| if v > 0.0 { v.log10() } else { zero_at }).collect()
    }
}

impl Figure for ValidationCurve {
    fn size(&self) -> (u32, u32) {
        (SIZE.0, SIZE.1 + chart::heading_height(&self.heading, SIZE.0))
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = chart::heading(root, &self.heading)?;
        let xs = self.positions();
        let points = &self.curve.points;
        let (x_lo, x_hi) = xs.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| (lo.min(x), hi.max(x)));
        let pad = ((x_hi - x_lo) * 0.06).max(0.1);
        let ys: Vec<f64> = points
            .iter()
            .flat_map(|p| [p.train, p.validation.map(|v| v + p.standard_error.unwrap_or(0.0)), p.validation.map(|v| v - p.standard_error.unwrap_or(0.0))])
            .flatten()
            .filter(|v| v.is_finite())
            .collect();
        let (y_lo, y_hi) = ys.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &y| (lo.min(y), hi.max(y)));
        let (y_lo, y_hi) = if y_lo.is_finite() { (y_lo - 0.08 * (y_hi - y_lo).max(1.0), y_hi + 0.25 * (y_hi - y_lo).max(1.0)) } else { (0.0, 1.0) };
        let mut chart = chart::single_panel(&body).build_cartesian_2d((x_lo - pad)..(x_hi + pad), y_lo..y_hi)?;
        let y_decimals = decimals(y_hi - y_lo);
        chart::styled_mesh(&mut chart)
            .disable_x_mesh()
            .x_desc(format!("{}{}", self.knob, if self.log { " (log scale)" } else { "" }))
            .y_desc("−ELBO (nats per example)")
            .x_labels(0)
            .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
            .draw()?;
        // The grid's own values as the x labels: the values the sweep tried.
        let label_y = y_lo;
        chart.draw_series(
            points.iter().zip(&xs).map(|(p, &x)| Text::new(format_value(p.value), (x, label_y), font(TICK_SIZE).pos(Pos::new(HPos::Center, VPos::Top)))),
        )?;
        let (train, validation) = (LINES[0], LINES[1]);
        let line = |get: fn(&latent_session::sweep::CurvePoint) -> Option<f64>| -> Vec<(f64, f64)> {
            points.iter().zip(&xs).filter_map(|(p, &x)| Some((x, get(p)?))).collect()
        };
        let train_line = line(|p| p.train);
        let validation_line = line(|p| p.validation);
        chart.draw_series(std::iter::once(PathElement::new(train_line.clone(), train.stroke_width(3))))?;
        chart.draw_series(train_line.iter().map(|&p| Circle::new(p, 4, train.filled())))?;
        chart.draw_series(std::iter::once(PathElement::new(validation_line.clone(), validation.stroke_width(3))))?;
        chart.draw_series(validation_line.iter().map(|&p| Circle::new(p, 6, validation.filled())))?;
        // ± one standard error: a bar with a cap at each end.
        let cap = 0.12 * pad;
        chart.draw_series(points.iter().zip(&xs).filter_map(|(p, &x)| Some((x, p.validation?, p.standard_error?))).flat_map(|(x, v, se)| {
            [
                PathElement::new(vec![(x, v - se), (x, v + se)], validation.stroke_width(2)),
                PathElement::new(vec![(x - cap, v - se), (x + cap, v - se)], validation.stroke_width(2)),
                PathElement::new(vec![(x - cap, v + se), (x + cap, v + se)], validation.stroke_width(2)),
            ]
        }))?;
        chart.draw_series(points.iter().zip(&xs).filter(|(p, _)| p.diverged > 0).map(|(p, &x)| {
            Text::new(format!("× {} diverged", p.diverged), (x, y_hi), font(NOTE_SIZE).color(&DIVERGED).pos(Pos::new(HPos::Center, VPos::Top)))
        }))?;
        let mark_style = ShapeStyle::from(&BLACK).stroke_width(2);
        for (index, name) in [(self.curve.min, "λ_min"), (self.curve.one_se, "λ_1se")] {
            let Some(i) = index else { continue };
            let x = xs[i];
            chart.draw_series(DashedLineSeries::new([(x, y_lo), (x, y_hi)], 10, 6, mark_style))?;
            let below = name == "λ_1se" && self.curve.min == self.curve.one_se;
            // Under the legend line; the second label under the first when both mark one value.
            let y = y_hi - if below { 0.17 } else { 0.10 } * (y_hi - y_lo);
            chart.draw_series(std::iter::once(Text::new(
                format!("{name} = {}", format_value(points[i].value)),
                (x + 0.01 * (x_hi - x_lo + 2.0 * pad), y),
                font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Top)),
            )))?;
        }
        let (w, _) = body.dim_in_pixel();
        let legend = "blue: training −ELBO · red: validation −ELBO, ± one standard error over the folds";
        body.draw_text(legend, &muted(LEGEND_SIZE).pos(Pos::new(HPos::Right, VPos::Top)), (w as i32 - 36, 16))?;
        Ok(())
    }
}

/// A grid value as its label: 0, 1e-4, 0.03, 0.5.
pub fn format_value(v: f32) -> String {
    match v {
        0.0 => "0".into(),
        v if v.abs() < 1e-2 => format!("{v:.0e}"),
        v => format!("{}", (v * 1000.0).round() / 1000.0),
    }
}
