//! `loss`: the run's curves against steps, one panel per scale. The VAE family: the training terms,
//! then training vs held-out −ELBO with the best step marked (the turn the overfitting lesson is
//! about), and for the VAE-GAN the adversarial losses; the GAN: D and G losses, then D's accuracy
//! on its own 0–1 axis with chance marked.

use latent_session::config::ModelKind;
use latent_session::run::{Progress, StepReport};
use plotters::coord::Shift;
use plotters::prelude::*;

use super::chart::{self, clip, decimals, font, muted, y_range, AXIS_SIZE, FRAME, GRID, LEGEND_SIZE, LINES, NOTE_SIZE, TICK_SIZE};
use super::{Figure, Heading};

/// Width, height per panel, and the legend column right of each panel's plot (legends beside
/// the plot never hide a curve).
const WIDTH: u32 = 1200;
const PANEL_HEIGHT: u32 = 380;
const LEGEND_WIDTH: u32 = 290;

/// One curve of a panel.
struct Line {
    name: String,
    colour: RGBColor,
    points: Vec<(f64, f64)>,
    /// Drawn with a dot per value: the curve has a value only at evaluations.
    dots: bool,
}

/// A point singled out on a panel: a dashed vertical line, a ringed dot and a label.
#[derive(Clone, Debug, PartialEq)]
pub struct Marked {
    pub step: u64,
    pub value: f64,
    pub label: String,
}

struct Panel {
    y_label: String,
    lines: Vec<Line>,
    /// A fixed range (accuracies), else the lines decide.
    fixed: Option<(f64, f64)>,
    /// A horizontal reference line and its label (chance for an accuracy).
    reference: Option<(f64, String)>,
    marked: Option<Marked>,
}

/// The loss figure of a run.
pub struct LossChart {
    heading: Heading,
    x_label: String,
    panels: Vec<Panel>,
}

impl LossChart {
    /// The VAE family's curves from every chunk of a run; `marked` is the step to single out on the
    /// −ELBO panel (early stopping's best), else the lowest held-out −ELBO is marked.
    pub fn vae(heading: Heading, progress: &[Progress], marked: Option<Marked>, adversarial: bool) -> Self {
        let at = |value: &dyn Fn(&Progress) -> Option<f64>| -> Vec<(f64, f64)> {
            progress.iter().filter_map(|p| value(p).map(|v| (p.point.step as f64, v))).collect()
        };
        let line = |name: &str, colour: usize, points: Vec<(f64, f64)>, dots: bool| Line { name: name.into(), colour: LINES[colour], points, dots };
        let mut terms = vec![
            line("reconstruction", 0, at(&|p| Some(p.point.reconstruction)), false),
            line("KL (unweighted)", 1, at(&|p| Some(p.point.kl)), false),
            line("total loss (recon. + β·KL + penalty)", 5, at(&|p| Some(p.point.total)), false),
        ];
        let penalty = at(&|p| Some(p.point.penalty));
        if penalty.iter().any(|&(_, v)| v != 0.0) {
            terms.insert(2, line("penalty λ₂‖W‖² + λ₁‖W‖₁", 2, penalty, false));
        }
        let train = at(&|p| p.point.train);
        let test = at(&|p| p.point.test);
        let marked = marked.or_else(|| {
            let (step, value) = test.iter().copied().filter(|v| v.1.is_finite()).min_by(|a, b| a.1.total_cmp(&b.1))?;
            Some(Marked { step: step as u64, value, label: format!("lowest held-out −ELBO {value:.2} at step {}", super::grouped(step as u64)) })
        });
        let mut panels = vec![
            Panel { y_label: "nats per example".into(), lines: terms, fixed: None, reference: None, marked: None },
            Panel {
                y_label: "−ELBO (nats per example)".into(),
                lines: vec![line("training rows", 0, train, true), line("held-out rows", 1, test, true)],
                fixed: None,
                reference: None,
                marked,
            },
        ];
        if adversarial {
            let discriminator = |p: &Progress| match &p.report {
                StepReport::Vae { metrics, .. } => Some(metrics.discriminator.loss_real + metrics.discriminator.loss_fake),
                StepReport::Gan { .. } => None,
            };
            let generator = |p: &Progress| match &p.report {
                StepReport::Vae { metrics, .. } => Some(metrics.generator_loss),
                StepReport::Gan { .. } => None,
            };
            panels.push(Panel {
                y_label: "adversarial loss".into(),
                lines: vec![line("D loss (real + fake)", 2, at(&discriminator), false), line("decoder's G loss (before γ)", 5, at(&generator), false)],
                fixed: None,
                reference: None,
                marked: None,
            });
        }
        Self { heading, x_label: "training step".into(), panels }
    }

    /// The GAN's curves from every chunk of a run.
    pub fn gan(heading: Heading, progress: &[Progress]) -> Self {
        let mut d_loss = Vec::new();
        let mut g_loss = Vec::new();
        let mut accuracy = [Vec::new(), Vec::new(), Vec::new()];
        for p in progress {
            if let StepReport::Gan { metrics, held_out } = &p.report {
                let (x, d) = (p.point.step as f64, &metrics.discriminator);
                d_loss.push((x, d.loss_real + d.loss_fake));
                g_loss.push((x, metrics.generator_loss));
                accuracy[0].push((x, d.accuracy_real));
                accuracy[1].push((x, d.accuracy_fake));
                if let Some(h) = held_out {
                    accuracy[2].push((x, h.accuracy_real));
                }
            }
        }
        let [real, fake, held_out] = accuracy;
        let line = |name: &str, colour: usize, points: Vec<(f64, f64)>, dots: bool| Line { name: name.into(), colour: LINES[colour], points, dots };
        let panels = vec![
            Panel {
                y_label: "loss".into(),
                lines: vec![line("D loss (real + fake)", 2, d_loss, false), line("G loss", 5, g_loss, false)],
                fixed: None,
                reference: Some((2.0 * std::f64::consts::LN_2, "D loss at equilibrium (2 ln 2)".into())),
                marked: None,
            },
            Panel {
                y_label: "D accuracy".into(),
                lines: vec![line("on real rows", 0, real, false), line("on generated rows", 1, fake, false), line("on held-out real rows", 4, held_out, true)],
                fixed: Some((0.0, 1.0)),
                reference: Some((0.5, "chance".into())),
                marked: None,
            },
        ];
        Self { heading, x_label: "round (D steps, then one G step)".into(), panels }
    }

    /// A run and its branch on one chart, a colour each, the fork marked: the VAE family's total
    /// loss and held-out −ELBO, the GAN's D and G losses. `branch` holds the chunks after the fork;
    /// its curve starts at the run's point at the fork, so the two meet there.
    pub fn fork(heading: Heading, run: (&str, &[Progress]), branch: (&str, &[Progress]), fork_step: u64, model: ModelKind) -> Self {
        let series = |progress: &mut dyn Iterator<Item = &Progress>, value: &dyn Fn(&Progress) -> Option<f64>| -> Vec<(f64, f64)> {
            progress.filter_map(|p| value(p).map(|v| (p.point.step as f64, v))).collect()
        };
        let at_fork = run.1.iter().find(|p| p.point.step == fork_step);
        let unit = if model == ModelKind::Gan { "round" } else { "step" };
        let panel = |y_label: &str, value: &dyn Fn(&Progress) -> Option<f64>, dots: bool| Panel {
            y_label: y_label.into(),
            lines: vec![
                Line { name: run.0.into(), colour: LINES[0], points: series(&mut run.1.iter(), value), dots },
                Line { name: branch.0.into(), colour: LINES[1], points: series(&mut at_fork.into_iter().chain(branch.1), value), dots },
            ],
            fixed: None,
            reference: None,
            marked: at_fork.and_then(value).map(|v| Marked { step: fork_step, value: v, label: format!("the fork, at {unit} {}", super::grouped(fork_step)) }),
        };
        let (panels, x_label) = match model {
            ModelKind::Gan => (
                vec![panel("D loss (real + fake)", &|p| Some(p.point.d_loss), false), panel("G loss", &|p| Some(p.point.g_loss), false)],
                "round (D steps, then one G step)",
            ),
            ModelKind::Vae | ModelKind::VaeGan => (
                vec![
                    panel("total loss (nats per example)", &|p| Some(p.point.total), false),
                    panel("held-out −ELBO (nats per example)", &|p| p.point.test, true),
                ],
                "training step",
            ),
        };
        Self { heading, x_label: x_label.into(), panels }
    }

    fn x_span(&self) -> (f64, f64) {
        let last = self.panels.iter().flat_map(|p| p.lines.iter().flat_map(|l| l.points.last().map(|p| p.0))).fold(1.0, f64::max);
        (0.0, last)
    }
}

impl Figure for LossChart {
    fn size(&self) -> (u32, u32) {
        (WIDTH, chart::heading_height(&self.heading, WIDTH) + PANEL_HEIGHT * self.panels.len().max(1) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let body = chart::heading(root, &self.heading)?;
        let areas = body.split_evenly((self.panels.len().max(1), 1));
        let x_span = self.x_span();
        for (panel, area) in self.panels.iter().zip(&areas) {
            draw_panel(panel, area, x_span, &self.x_label)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(
    panel: &Panel,
    area: &DrawingArea<DB, Shift>,
    x_span: (f64, f64),
    x_label: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0.saturating_sub(LEGEND_WIDTH));
    let points: Vec<&[(f64, f64)]> = panel.lines.iter().map(|l| l.points.as_slice()).collect();
    let (lo, hi) = panel.fixed.unwrap_or_else(|| {
        let (lo, hi) = y_range(&points, x_span);
        match &panel.reference {
            // Keep an equilibrium line in view when it is near the curves.
            Some((r, _)) if *r > lo - (hi - lo) && *r < hi + (hi - lo) => (lo.min(*r - 0.05 * (hi - lo)), hi.max(*r + 0.05 * (hi - lo))),
            _ => (lo, hi),
        }
    });
    let mut chart = ChartBuilder::on(&plot)
        .margin_left(16)
        .margin_right(16)
        .margin_top(12)
        .margin_bottom(6)
        .x_label_area_size(54)
        .y_label_area_size(86)
        .build_cartesian_2d(x_span.0..x_span.1, lo..hi)?;
    let y_decimals = decimals(hi - lo);
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(panel.y_label.as_str())
        .axis_desc_style(font(AXIS_SIZE))
        .label_style(font(TICK_SIZE))
        .light_line_style(GRID.mix(0.6))
        .bold_line_style(GRID)
        .axis_style(FRAME)
        .x_labels(8)
        .y_labels(8)
        .x_label_formatter(&|v| super::grouped(v.max(0.0).round() as u64))
        .y_label_formatter(&|v| format!("{v:.y_decimals$}"))
        .draw()?;
    let reference_style = ShapeStyle::from(&FRAME).stroke_width(2);
    if let Some((y, _)) = &panel.reference {
        if *y >= lo && *y <= hi {
            chart.draw_series(DashedLineSeries::new([(x_span.0, *y), (x_span.1, *y)], 8, 6, reference_style))?;
        }
    }
    let mut cut = false;
    for line in &panel.lines {
        let style = line.colour.stroke_width(3);
        let (runs, was_cut) = clip(&line.points, (lo, hi));
        cut |= was_cut;
        chart.draw_series(runs.into_iter().map(move |run| PathElement::new(run, style)))?;
        if line.dots {
            let inside = line.points.iter().copied().filter(|&(_, y)| y >= lo && y <= hi);
            chart.draw_series(inside.map(|p| Circle::new(p, 4, line.colour.filled())))?;
        }
    }
    let mark_style = ShapeStyle::from(&BLACK).stroke_width(2);
    if let Some(marked) = &panel.marked {
        let x = marked.step as f64;
        chart.draw_series(DashedLineSeries::new([(x, lo), (x, hi)], 10, 6, mark_style))?;
        if marked.value >= lo && marked.value <= hi {
            chart.draw_series(std::iter::once(Circle::new((x, marked.value), 8, BLACK.stroke_width(3))))?;
        }
    }

    // The legend column: a sample of each line, then the reference, the mark and notes, wrapped.
    let legend = &legend;
    let text_width = LEGEND_WIDTH - 52;
    let mut y = 24;
    let mut entry = |sample: &dyn Fn(i32) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>, text: &str, style: TextStyle| {
        sample(y + 10)?;
        for line in chart::wrap(text, &style, text_width, " ") {
            legend.draw_text(&line, &style, (46, y))?;
            y += LEGEND_SIZE as i32 + 5;
        }
        y += 8;
        Ok(())
    };
    for line in &panel.lines {
        let colour = line.colour;
        let sample = |at: i32| {
            legend.draw(&PathElement::new(vec![(8, at), (36, at)], colour.stroke_width(3)))?;
            if line.dots {
                legend.draw(&Circle::new((22, at), 4, colour.filled()))?;
            }
            Ok(())
        };
        entry(&sample, &line.name, font(LEGEND_SIZE))?;
    }
    let dashed = |style: ShapeStyle| {
        move |at: i32| legend.draw(&PathElement::new(vec![(8, at), (16, at)], style)).and(legend.draw(&PathElement::new(vec![(24, at), (32, at)], style)))
    };
    if let Some((_, label)) = &panel.reference {
        entry(&dashed(reference_style), label, font(LEGEND_SIZE))?;
    }
    if let Some(marked) = &panel.marked {
        entry(&dashed(mark_style), &marked.label, font(LEGEND_SIZE))?;
    }
    if cut {
        entry(&|_| Ok(()), "The first steps lie above the frame: the axis fits the last 90% of the run.", muted(NOTE_SIZE))?;
    }
    Ok(())
}
