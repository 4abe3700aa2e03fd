//! Image grids (samples, reconstructions, the manifold, interpolations) in the page's convention,
//! ink dark on light, each with a caption strip under it saying what it shows, at which step, and
//! the run's settings. Always PNG: they are pixels.

use std::path::Path;

use anyhow::anyhow;
use plotters::backend::RGBPixel;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::chart::MUTED;
use super::{register_fonts, write_png, FAMILY};

/// Light grey between images, so neighbouring white backgrounds stay apart.
const GAP: u8 = 200;
/// Space around the grid, and the caption strip's text sizes and height.
const MARGIN: usize = 12;
const CAPTION_SIZE: u32 = 18;
const SETTINGS_SIZE: u32 = 14;
const STRIP: usize = 58;

/// A grid of greyscale images.
pub struct Grid<'a> {
    /// Each `side × side` values in [0, 1] (1 = ink).
    pub images: Vec<&'a [f32]>,
    pub side: usize,
    pub columns: usize,
    /// Pixels per image pixel, so digits read on a slide.
    pub zoom: usize,
    /// What the grid shows and at which step.
    pub caption: String,
    /// The run's settings line.
    pub settings: String,
}

/// Writes `grid` as a PNG at `path`.
pub fn digit_grid(path: &Path, grid: &Grid) -> anyhow::Result<()> {
    register_fonts()?;
    let caption_font = (FAMILY, CAPTION_SIZE, FontStyle::Bold).into_font();
    let settings_font = (FAMILY, SETTINGS_SIZE).into_font();
    let text_width = |font: &FontDesc, text: &str| font.box_size(text).map(|(w, _)| w as usize).unwrap_or(0);
    let columns = grid.columns.max(1);
    let rows = grid.images.len().div_ceil(columns).max(1);
    let cell = grid.side * grid.zoom + 2;
    let (grid_width, grid_height) = (columns * cell, rows * cell);
    let width = (grid_width + 2 * MARGIN).max(text_width(&caption_font, &grid.caption).max(text_width(&settings_font, &grid.settings)) + 2 * MARGIN);
    let height = grid_height + 2 * MARGIN + STRIP;
    let mut pixels = vec![255u8; width * height * 3];
    let left = (width - grid_width) / 2;
    for y in MARGIN..MARGIN + grid_height {
        pixels[(y * width + left) * 3..(y * width + left + grid_width) * 3].fill(GAP);
    }
    for (n, image) in grid.images.iter().enumerate() {
        let (x0, y0) = (left + (n % columns) * cell + 1, MARGIN + (n / columns) * cell + 1);
        for y in 0..grid.side * grid.zoom {
            for x in 0..grid.side * grid.zoom {
                let v = image.get((y / grid.zoom) * grid.side + x / grid.zoom).copied().unwrap_or(0.0);
                let shade = if v.is_finite() { 255 - (v.clamp(0.0, 1.0) * 255.0).round() as u8 } else { 128 };
                let at = ((y0 + y) * width + x0 + x) * 3;
                pixels[at..at + 3].fill(shade);
            }
        }
    }
    let (w, h) = (u32::try_from(width)?, u32::try_from(height)?);
    {
        let root = BitMapBackend::<RGBPixel>::with_buffer_and_format(&mut pixels, (w, h)).map_err(|e| anyhow!("{}: {e}", path.display()))?.into_drawing_area();
        let top = (MARGIN + grid_height + 10) as i32;
        let draw = || -> Result<(), DrawingAreaErrorKind<_>> {
            root.draw_text(&grid.caption, &caption_font.color(&BLACK), (MARGIN as i32, top))?;
            root.draw_text(&grid.settings, &settings_font.color(&MUTED), (MARGIN as i32, top + CAPTION_SIZE as i32 + 8))?;
            root.present()
        };
        draw().map_err(|e| anyhow!("{}: {e}", path.display()))?;
    }
    write_png(path, w, h, &pixels)
}
