//! PNG figures a teacher can put in course notes: digit grids and 2D scatter plots.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::Context as _;

/// Writes `images` (each `side × side` values in [0, 1]) as a grid `columns` wide, 1-pixel gaps,
/// scaled up `zoom` times so the digits are readable on a slide.
pub fn digit_grid(path: &Path, images: &[&[f32]], side: usize, columns: usize, zoom: usize) -> anyhow::Result<()> {
    let columns = columns.max(1);
    let rows = images.len().div_ceil(columns);
    let cell = side * zoom + 2;
    let (width, height) = (columns * cell, rows.max(1) * cell);
    let mut pixels = vec![40u8; width * height];
    for (n, image) in images.iter().enumerate() {
        let (gx, gy) = ((n % columns) * cell + 1, (n / columns) * cell + 1);
        for y in 0..side * zoom {
            for x in 0..side * zoom {
                let v = image.get((y / zoom) * side + x / zoom).copied().unwrap_or(0.0);
                pixels[(gy + y) * width + gx + x] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
            }
        }
    }
    write_png(path, width, height, png::ColorType::Grayscale, &pixels)
}

/// Writes a scatter of point sets over the fixed view [-3, 3]², each set in its colour.
pub fn scatter(path: &Path, sets: &[(&[[f32; 2]], [u8; 3])], size: usize) -> anyhow::Result<()> {
    let mut pixels = vec![255u8; size * size * 3];
    let to_pixel = |v: f32| ((v + 3.0) / 6.0 * size as f32).floor();
    // Light axes through the origin.
    let mid = size / 2;
    for i in 0..size {
        for (x, y) in [(i, mid), (mid, i)] {
            pixels[(y * size + x) * 3..(y * size + x) * 3 + 3].copy_from_slice(&[225, 225, 225]);
        }
    }
    for (points, colour) in sets {
        for p in points.iter() {
            let (px, py) = (to_pixel(p[0]), to_pixel(-p[1]));
            for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                let (x, y) = (px as i64 + dx, py as i64 + dy);
                if (0..size as i64).contains(&x) && (0..size as i64).contains(&y) {
                    let at = (y as usize * size + x as usize) * 3;
                    pixels[at..at + 3].copy_from_slice(colour);
                }
            }
        }
    }
    write_png(path, size, size, png::ColorType::Rgb, &pixels)
}

fn write_png(path: &Path, width: usize, height: usize, colour: png::ColorType, data: &[u8]) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut encoder = png::Encoder::new(BufWriter::new(file), u32::try_from(width)?, u32::try_from(height)?);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(data)?;
    writer.finish()?;
    Ok(())
}
