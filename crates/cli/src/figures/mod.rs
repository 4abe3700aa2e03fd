//! Figures a teacher can put in lecture notes: charts with axes, tick labels, a title naming the
//! model and its key knobs, and a legend (`loss`, `kl`, `latent`, the 2D planes), drawn with
//! `plotters` as PNG or SVG; and image grids (ink dark on light, as the page draws them) with a
//! caption strip, always PNG since they are pixels. Text uses DejaVu Sans compiled into the binary,
//! so a machine without fonts draws the same figures.

mod chart;
pub mod curve;
mod gan_grid;
mod grid;
mod kl;
mod loss;
mod plane;
mod rate_distortion;

use std::path::Path;
use std::sync::OnceLock;

use anyhow::{anyhow, Context as _};
use plotters::backend::RGBPixel;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

pub use curve::{format_value as curve_value, ValidationCurve};
pub use gan_grid::GanGrid;
pub use grid::{digit_grid, Grid};
pub use kl::KlBars;
pub use loss::{LossChart, Marked};
pub use plane::{ClassScatter, HeatMap, RealVsGenerated};
pub use rate_distortion::RateDistortion;

/// The font family name the figures ask for; [`register_fonts`] binds it to the embedded font.
const FAMILY: &str = "sans-serif";

/// Which files a chart is written as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Png,
    Svg,
    Both,
}

impl Format {
    fn png(self) -> bool {
        matches!(self, Format::Png | Format::Both)
    }

    fn svg(self) -> bool {
        matches!(self, Format::Svg | Format::Both)
    }
}

/// What a figure says about itself: a title (what it shows, at which step) and a line of the run's
/// settings (model, data, key knobs), so a figure pasted on a slide still says where it came from.
#[derive(Clone, Debug)]
pub struct Heading {
    pub title: String,
    pub settings: String,
}

/// A chart, drawn the same way on any plotters backend.
pub trait Figure {
    /// Width and height in pixels (SVG: user units).
    fn size(&self) -> (u32, u32);
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>>;
}

/// Writes `figure` as `out/name.png` and/or `out/name.svg`.
pub fn save(figure: &impl Figure, out: &Path, name: &str, format: Format) -> anyhow::Result<()> {
    register_fonts()?;
    let (width, height) = figure.size();
    if format.png() {
        let mut pixels = vec![255u8; width as usize * height as usize * 3];
        {
            let backend = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (width, height)).map_err(|e| anyhow!("{name}.png: {e}"))?;
            let root = backend.into_drawing_area();
            figure.draw(&root).map_err(|e| anyhow!("drawing {name}.png: {e}"))?;
            root.present().map_err(|e| anyhow!("drawing {name}.png: {e}"))?;
        }
        write_png(&out.join(format!("{name}.png")), width, height, &pixels)?;
    }
    if format.svg() {
        let path = out.join(format!("{name}.svg"));
        let root = SVGBackend::new(&path, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("drawing {name}.svg: {e}"))?;
        figure.draw(&root).map_err(|e| anyhow!("drawing {name}.svg: {e}"))?;
        root.present().map_err(|e| anyhow!("writing {}: {e}", path.display()))?;
    }
    Ok(())
}

/// Binds [`FAMILY`] to DejaVu Sans (regular and bold) once per process.
fn register_fonts() -> anyhow::Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font(FAMILY, FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(anyhow!("the embedded DejaVu Sans font did not load"))
    }
}

/// Writes 8-bit RGB `pixels` as a PNG.
fn write_png(path: &Path, width: u32, height: u32, pixels: &[u8]) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(pixels)?;
    writer.finish()?;
    Ok(())
}

/// `n` with thousands separators: 8,000 training digits, step 12,500.
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(8000), "8,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
