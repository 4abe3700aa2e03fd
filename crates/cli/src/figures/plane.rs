//! The 2D figures: the latent scatter coloured by digit with its legend; real against generated
//! points over the data plane [−3, 3]²; and the GAN discriminator's σ(D) as a heat map under them,
//! with its decision boundary and a colour bar.

use latent_core::data::toy2d::VIEW_HALF_EXTENT;
use latent_session::palette::{self, Rgb};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::chart::{self, font, muted, AXIS_SIZE, FRAME, GRID, LEGEND_SIZE, NOTE_SIZE, TICK_SIZE};
use super::{Figure, Heading};

/// Side of a plane's square plot area plus its axis labels, and the legend column beside it.
const PLOT: u32 = 820;
const LEGEND: u32 = 230;
const VIEW: f64 = VIEW_HALF_EXTENT as f64;

/// A chart over the plane, in data coordinates.
type PlaneChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c[0], c[1], c[2])
}

/// Every plane figure's size: the square plot and its legend column under the heading.
fn size(heading: &Heading) -> (u32, u32) {
    (PLOT + LEGEND, PLOT + chart::heading_height(heading, PLOT + LEGEND))
}

/// Splits the area under the heading into the square plot and the legend column.
fn plot_and_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    heading: &Heading,
) -> Result<[DrawingArea<DB, Shift>; 2], DrawingAreaErrorKind<DB::ErrorType>> {
    let body = chart::heading(root, heading)?;
    let (plot, legend) = body.split_horizontally(PLOT);
    Ok([plot, legend])
}

fn square<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    reach: f64,
    names: (&str, &str),
) -> Result<PlaneChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let mut chart = ChartBuilder::on(area)
        .margin_left(16)
        .margin_right(8)
        .margin_top(8)
        .margin_bottom(16)
        .x_label_area_size(54)
        .y_label_area_size(70)
        .build_cartesian_2d(-reach..reach, -reach..reach)?;
    let decimals = chart::decimals(reach);
    chart
        .configure_mesh()
        .x_desc(names.0)
        .y_desc(names.1)
        .axis_desc_style(font(AXIS_SIZE))
        .label_style(font(TICK_SIZE))
        .bold_line_style(GRID)
        .light_line_style(GRID.mix(0.4))
        .axis_style(FRAME)
        .x_labels(9)
        .y_labels(9)
        .x_label_formatter(&|v| format!("{v:.decimals$}"))
        .y_label_formatter(&|v| format!("{v:.decimals$}"))
        .draw()?;
    Ok(chart)
}

/// A legend entry in a legend column: a dot and its text, row `row`.
fn legend_entry<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    row: i32,
    colour: RGBColor,
    radius: i32,
    text: &str,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let y = 40 + row * 30;
    area.draw(&Circle::new((20, y), radius, colour.filled()))?;
    area.draw_text(text, &font(LEGEND_SIZE).pos(Pos::new(HPos::Left, VPos::Center)), (38, y))
}

fn finite(p: &&[f32; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite()
}

fn point(p: &[f32; 2]) -> (f64, f64) {
    (f64::from(p[0]), f64::from(p[1]))
}

/// Posterior means of held-out rows in two latent dimensions, coloured by class.
pub struct ClassScatter {
    pub heading: Heading,
    pub points: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
    /// The latent dimensions shown (x, y).
    pub dims: (usize, usize),
    /// Class names for the legend (the ten digits); none for unlabelled data.
    pub classes: Option<Vec<String>>,
}

impl Figure for ClassScatter {
    fn size(&self) -> (u32, u32) {
        size(&self.heading)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let [plot, legend] = plot_and_legend(root, &self.heading)?;
        let reach = self.points.iter().filter(finite).flat_map(|p| [p[0].abs(), p[1].abs()]).fold(0.5f32, f32::max);
        let reach = f64::from(reach) * 1.06;
        let names = (format!("z{} (posterior mean)", self.dims.0), format!("z{} (posterior mean)", self.dims.1));
        let mut chart = square(&plot, reach, (&names.0, &names.1))?;
        let coloured = self.points.iter().zip(self.labels.iter().chain(std::iter::repeat(&0))).filter(|(p, _)| finite(p));
        chart.draw_series(coloured.map(|(p, &label)| Circle::new(point(p), 3, rgb(palette::digit(label)).filled())))?;
        if let Some(classes) = &self.classes {
            legend.draw_text("digit", &font(LEGEND_SIZE), (12, 8))?;
            for (row, name) in classes.iter().enumerate() {
                legend_entry(&legend, row as i32 + 1, rgb(palette::digit(row as u8)), 7, name)?;
            }
        }
        let note = format!("{} held-out rows", super::grouped(self.points.iter().filter(finite).count() as u64));
        legend.draw_text(&note, &muted(NOTE_SIZE), (12, 40 + 12 * 30))?;
        legend.draw_text("axes: the two most", &muted(NOTE_SIZE), (12, 40 + 13 * 30))?;
        legend.draw_text("varied dimensions", &muted(NOTE_SIZE), (12, 40 + 13 * 30 + 20))
    }
}

/// Draws real points small and grey, generated ones on top larger, in blue with a white rim, so
/// a few samples stand out among thousands of data points.
fn real_and_generated<DB: DrawingBackend>(
    chart: &mut PlaneChart<'_, DB>,
    real: &[[f32; 2]],
    generated: &[[f32; 2]],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let inside = |p: &&[f32; 2]| finite(p) && p[0].abs() <= VIEW_HALF_EXTENT && p[1].abs() <= VIEW_HALF_EXTENT;
    chart.draw_series(real.iter().filter(inside).map(|p| Circle::new(point(p), 2, rgb(palette::REAL).filled())))?;
    chart.draw_series(generated.iter().filter(inside).map(|p| Circle::new(point(p), 5, WHITE.filled())))?;
    chart.draw_series(generated.iter().filter(inside).map(|p| Circle::new(point(p), 3, rgb(palette::GENERATED).filled())))?;
    Ok(())
}

fn real_and_generated_legend<DB: DrawingBackend>(
    legend: &DrawingArea<DB, Shift>,
    real: usize,
    generated: usize,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    legend_entry(legend, 0, rgb(palette::REAL), 4, &format!("{} training points", super::grouped(real as u64)))?;
    legend_entry(legend, 1, rgb(palette::GENERATED), 5, &format!("{} generated", super::grouped(generated as u64)))?;
    legend.draw_text("(from fixed noise,", &muted(NOTE_SIZE), (38, 40 + 2 * 30 - 8))?;
    legend.draw_text("so runs compare)", &muted(NOTE_SIZE), (38, 40 + 2 * 30 + 12))
}

/// Real against generated points over the data plane.
pub struct RealVsGenerated {
    pub heading: Heading,
    pub real: Vec<[f32; 2]>,
    pub generated: Vec<[f32; 2]>,
}

impl Figure for RealVsGenerated {
    fn size(&self) -> (u32, u32) {
        size(&self.heading)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let [plot, legend] = plot_and_legend(root, &self.heading)?;
        let mut chart = square(&plot, VIEW, ("x₁", "x₂"))?;
        real_and_generated(&mut chart, &self.real, &self.generated)?;
        real_and_generated_legend(&legend, self.real.len(), self.generated.len())
    }
}

/// σ(D) over the plane under real and generated points.
pub struct HeatMap {
    pub heading: Heading,
    /// σ(D) on a `side` × `side` grid of cell centres over the view, row by row from the top (as
    /// `latent_core::model::gan::map_grid` makes it).
    pub probabilities: Vec<f32>,
    pub side: usize,
    pub real: Vec<[f32; 2]>,
    pub generated: Vec<[f32; 2]>,
}

impl HeatMap {
    /// Centre of cell (column, row).
    fn centre(&self, column: usize, row: usize) -> (f64, f64) {
        let cell = 2.0 * VIEW / self.side as f64;
        (-VIEW + (column as f64 + 0.5) * cell, VIEW - (row as f64 + 0.5) * cell)
    }

    /// The decision boundary σ(D) = 0.5 as segments (marching squares between cell centres).
    fn boundary(&self) -> Vec<[(f64, f64); 2]> {
        let side = self.side;
        let p = |c: usize, r: usize| f64::from(self.probabilities[r * side + c]) - 0.5;
        let mut segments = Vec::new();
        for r in 0..side.saturating_sub(1) {
            for c in 0..side.saturating_sub(1) {
                // Corners clockwise from the top left, and the edges between them.
                let corners = [(c, r), (c + 1, r), (c + 1, r + 1), (c, r + 1)];
                let mut crossings = Vec::new();
                for k in 0..4 {
                    let (a, b) = (corners[k], corners[(k + 1) % 4]);
                    let (va, vb) = (p(a.0, a.1), p(b.0, b.1));
                    if va.is_finite() && vb.is_finite() && (va < 0.0) != (vb < 0.0) {
                        let t = va / (va - vb);
                        let (pa, pb) = (self.centre(a.0, a.1), self.centre(b.0, b.1));
                        crossings.push((pa.0 + (pb.0 - pa.0) * t, pa.1 + (pb.1 - pa.1) * t));
                    }
                }
                for pair in crossings.chunks_exact(2) {
                    segments.push([pair[0], pair[1]]);
                }
            }
        }
        segments
    }
}

/// Purple (σ(D) = 0, "fake") through white (0.5) to green (1, "real"): the page's colours
/// ([`palette::belief`]), so a figure and a screenshot read alike.
fn diverging(p: f32) -> RGBColor {
    rgb(palette::belief(p))
}

impl Figure for HeatMap {
    fn size(&self) -> (u32, u32) {
        size(&self.heading)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let [plot, legend] = plot_and_legend(root, &self.heading)?;
        let mut chart = square(&plot, VIEW, ("x₁", "x₂"))?;
        let half = VIEW / self.side as f64;
        chart.draw_series(self.probabilities.iter().enumerate().map(|(i, &p)| {
            let (x, y) = self.centre(i % self.side, i / self.side);
            Rectangle::new([(x - half, y + half), (x + half, y - half)], diverging(p).filled())
        }))?;
        let line = RGBColor(70, 70, 70).stroke_width(2);
        chart.draw_series(self.boundary().into_iter().map(|s| PathElement::new(s.to_vec(), line)))?;
        real_and_generated(&mut chart, &self.real, &self.generated)?;
        real_and_generated_legend(&legend, self.real.len(), self.generated.len())?;
        // The colour bar: σ(D) from 1 (real) at the top to 0 (fake) at the bottom.
        let (top, height, x) = (190, 360, 24);
        legend.draw_text("σ(D): D's belief", &font(LEGEND_SIZE), (12, top - 50))?;
        legend.draw_text("that a point is real", &font(LEGEND_SIZE), (12, top - 28))?;
        let steps = 60;
        for k in 0..steps {
            let p = 1.0 - k as f32 / (steps - 1) as f32;
            let y = top + height * k / steps;
            legend.draw(&Rectangle::new([(x, y), (x + 28, y + height / steps + 1)], diverging(p).filled()))?;
        }
        legend.draw(&Rectangle::new([(x, top), (x + 28, top + height)], FRAME.stroke_width(1)))?;
        let label = |text: &str, y: i32| legend.draw_text(text, &font(TICK_SIZE).pos(Pos::new(HPos::Left, VPos::Center)), (x + 38, y));
        label("1  real", top)?;
        label("0.5", top + height / 2)?;
        label("0  fake", top + height)?;
        legend.draw(&PathElement::new(vec![(x - 4, top + height / 2), (x + 32, top + height / 2)], RGBColor(70, 70, 70).stroke_width(2)))?;
        legend.draw_text("line: the decision", &muted(NOTE_SIZE), (12, top + height + 30))?;
        legend.draw_text("boundary σ(D) = 0.5", &muted(NOTE_SIZE), (12, top + height + 50))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heading() -> Heading {
        Heading { title: String::new(), settings: String::new() }
    }

    /// D says "real" on the right half of the plane: the boundary is the vertical line x = 0.
    #[test]
    fn the_boundary_follows_one_half() {
        let side = 8;
        let probabilities = (0..side * side).map(|i| if i % side < side / 2 { 0.2 } else { 0.8 }).collect();
        let map = HeatMap { heading: heading(), probabilities, side, real: vec![], generated: vec![] };
        let segments = map.boundary();
        assert_eq!(segments.len(), side - 1);
        assert!(segments.iter().flatten().all(|&(x, _)| x.abs() < 1e-6), "{segments:?}");
    }
}
