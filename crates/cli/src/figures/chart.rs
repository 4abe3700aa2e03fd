//! What every chart shares: the heading, text sizes for slides, line colours, axis ranges that
//! show what matters, and lines cut at the frame.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::{Heading, FAMILY};

pub const TITLE_SIZE: u32 = 30;
pub const SETTINGS_SIZE: u32 = 19;
pub const AXIS_SIZE: u32 = 20;
pub const TICK_SIZE: u32 = 16;
pub const LEGEND_SIZE: u32 = 17;
pub const NOTE_SIZE: u32 = 16;

/// Line colours: Paul Tol's "bright" scheme, distinct for colour-blind readers.
pub const LINES: [RGBColor; 6] = [
    RGBColor(0x44, 0x77, 0xaa),
    RGBColor(0xee, 0x66, 0x77),
    RGBColor(0x22, 0x88, 0x33),
    RGBColor(0xcc, 0xbb, 0x44),
    RGBColor(0x66, 0xcc, 0xee),
    RGBColor(0xaa, 0x33, 0x77),
];
/// Grid lines and frames.
pub const GRID: RGBColor = RGBColor(232, 232, 232);
pub const FRAME: RGBColor = RGBColor(120, 120, 120);
/// Secondary text (settings, notes).
pub const MUTED: RGBColor = RGBColor(90, 90, 90);

pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

pub fn muted(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&MUTED)
}

/// `text` broken at `separator`s into lines at most `width` pixels wide in `style` (a part wider
/// than that gets a line of its own).
pub fn wrap(text: &str, style: &TextStyle, width: u32, separator: &str) -> Vec<String> {
    let fits = |line: &str| style.font.box_size(line).map_or(true, |(w, _)| w <= width);
    let mut lines: Vec<String> = Vec::new();
    for part in text.split(separator) {
        match lines.last_mut() {
            Some(line) if fits(&format!("{line}{separator}{part}")) => {
                line.push_str(separator);
                line.push_str(part);
            }
            _ => lines.push(part.to_string()),
        }
    }
    if lines.is_empty() {
        lines.push(String::new());
    }
    lines
}

/// Height of the title strip (title and one settings line), and of each further settings line.
const TITLE_STRIP: u32 = 56;
const SETTINGS_LINE: u32 = 24;

/// The settings line broken to fit a figure `width` pixels wide.
fn settings_lines(heading: &Heading, width: u32) -> Vec<String> {
    wrap(&heading.settings, &muted(SETTINGS_SIZE), width.saturating_sub(32), " · ")
}

/// Height of `heading` on a figure `width` pixels wide.
pub fn heading_height(heading: &Heading, width: u32) -> u32 {
    TITLE_STRIP + SETTINGS_LINE * settings_lines(heading, width).len() as u32
}

/// Draws the title and the settings at the top of `root`; returns the area below them.
pub fn heading<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, heading: &Heading) -> Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let width = root.dim_in_pixel().0;
    let (top, rest) = root.split_vertically(heading_height(heading, width));
    top.draw_text(&heading.title, &(FAMILY, TITLE_SIZE, FontStyle::Bold).into_font().color(&BLACK), (16, 10))?;
    for (i, line) in settings_lines(heading, width).iter().enumerate() {
        let separator = if i > 0 { "· " } else { "" };
        top.draw_text(&format!("{separator}{line}"), &muted(SETTINGS_SIZE), (16, TITLE_STRIP as i32 - 8 + (SETTINGS_LINE * i as u32) as i32))?;
    }
    Ok(rest)
}

/// Decimals for tick labels over a range `span` wide: enough to tell neighbouring ticks apart.
pub fn decimals(span: f64) -> usize {
    match span.abs() {
        s if s >= 20.0 => 0,
        s if s >= 2.0 => 1,
        s if s >= 0.2 => 2,
        _ => 3,
    }
}

/// The y range a panel shows: every finite value after the first tenth of the steps (the first
/// steps of a fresh model are several times higher and would flatten the rest into a line), padded
/// by 8%. Lines leaving it are cut at the frame, and the panel says so.
pub fn y_range(lines: &[&[(f64, f64)]], x_span: (f64, f64)) -> (f64, f64) {
    let cutoff = x_span.0 + 0.1 * (x_span.1 - x_span.0);
    let finite = |&&(_, y): &&(f64, f64)| y.is_finite();
    let late: Vec<f64> = lines.iter().flat_map(|l| l.iter().filter(finite).filter(|(x, _)| *x >= cutoff).map(|p| p.1)).collect();
    let values = if late.is_empty() { lines.iter().flat_map(|l| l.iter().filter(finite).map(|p| p.1)).collect() } else { late };
    let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs().max(lo.abs()) * 0.01).max(1e-3);
    (lo - pad, hi + pad)
}

/// `line` split into the runs that lie within `[lo, hi]`, each run ending exactly on the frame
/// where it leaves it (plotters does not clip), with non-finite values breaking the line. The
/// flag says whether anything was cut.
pub fn clip(line: &[(f64, f64)], (lo, hi): (f64, f64)) -> (Vec<Vec<(f64, f64)>>, bool) {
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    let mut cut = false;
    let inside = |y: f64| y >= lo && y <= hi;
    let edge = |y: f64| if y > hi { hi } else { lo };
    let mut previous: Option<(f64, f64)> = None;
    for &(x, y) in line {
        if !y.is_finite() {
            runs.push(std::mem::take(&mut current));
            previous = None;
            continue;
        }
        if let Some((px, py)) = previous {
            match (inside(py), inside(y)) {
                (true, false) => {
                    let e = edge(y);
                    current.push((px + (x - px) * (e - py) / (y - py), e));
                    runs.push(std::mem::take(&mut current));
                }
                (false, true) => {
                    let e = edge(py);
                    current.push((px + (x - px) * (e - py) / (y - py), e));
                }
                _ => {}
            }
        }
        if inside(y) {
            current.push((x, y));
        } else {
            cut = true;
        }
        previous = Some((x, y));
    }
    runs.push(current);
    runs.retain(|r| !r.is_empty());
    (runs, cut)
}

/// A single-panel chart's frame on `area`: the margins and label areas the `kl` and
/// `validation_curve` figures share (room for tick labels at slide sizes).
pub fn single_panel<'a, 'b, DB: DrawingBackend>(area: &'a DrawingArea<DB, Shift>) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(area);
    builder.margin_left(16).margin_right(28).margin_top(12).x_label_area_size(54).y_label_area_size(86);
    builder
}

/// A single-panel chart's mesh in the figures' shared style (axis titles and tick labels at slide
/// sizes, light grid lines, a grey frame); each figure adds its own descriptions and labels.
pub fn styled_mesh<'a, 'b, DB, XT, YT, X, Y>(chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>) -> MeshStyle<'a, 'b, X, Y, DB>
where
    DB: DrawingBackend,
    X: Ranged<ValueType = XT> + ValueFormatter<XT>,
    Y: Ranged<ValueType = YT> + ValueFormatter<YT>,
{
    let mut mesh = chart.configure_mesh();
    mesh.axis_desc_style(font(AXIS_SIZE)).label_style(font(TICK_SIZE)).bold_line_style(GRID).light_line_style(GRID.mix(0.5)).axis_style(FRAME);
    mesh
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_leaves_out_the_first_steps() {
        let line: Vec<(f64, f64)> = (0..100).map(|i| (f64::from(i), if i < 5 { 500.0 } else { 100.0 + f64::from(i) * 0.1 })).collect();
        let (lo, hi) = y_range(&[&line], (0.0, 99.0));
        assert!(lo < 101.0 && lo > 90.0 && hi > 109.0 && hi < 120.0, "{lo}..{hi}");
    }

    #[test]
    fn long_settings_wrap_at_separators() {
        super::super::register_fonts().unwrap_or_else(|e| panic!("{e}"));
        let text = "GAN G 2-64-64-2, D 2-64-64-1 on ring · λ_G = 0 · λ_D = 0.001 · 1 D step per round · Adam lr 0.001 · batch 128 · seed 1";
        let style = muted(SETTINGS_SIZE);
        let lines = wrap(text, &style, 400, " · ");
        assert!(lines.len() > 2, "{lines:?}");
        assert_eq!(lines.join(" · "), text, "nothing lost or reordered");
        assert!(lines.iter().all(|l| style.font.box_size(l).is_ok_and(|(w, _)| w <= 400) || !l.contains(" · ")), "{lines:?}");
        assert_eq!(wrap(text, &style, 5000, " · "), vec![text.to_string()]);
    }

    #[test]
    fn lines_are_cut_at_the_frame() {
        let line = [(0.0, 10.0), (1.0, 0.0), (2.0, 0.5), (3.0, f64::NAN), (4.0, 0.5)];
        let (runs, cut) = clip(&line, (0.0, 1.0));
        assert!(cut);
        assert_eq!(runs, vec![vec![(0.9, 1.0), (1.0, 0.0), (2.0, 0.5)], vec![(4.0, 0.5)]]);
        let (runs, cut) = clip(&[(0.0, 0.2), (1.0, 0.4)], (0.0, 1.0));
        assert!(!cut && runs.len() == 1);
    }
}
