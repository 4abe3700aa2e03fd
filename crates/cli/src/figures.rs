//! PNG figures a teacher can put in course notes: digit grids, 2D scatter plots, and the GAN
//! discriminator's heat map with the data drawn over it. 2D views all show [−3, 3]², so figures of
//! one run line up.

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

/// Half the side of every 2D view: the toy datasets' [`VIEW_HALF_EXTENT`](latent_core::data::toy2d::VIEW_HALF_EXTENT).
pub const VIEW: f32 = latent_core::data::toy2d::VIEW_HALF_EXTENT;
/// Real data in 2D figures.
const REAL: [u8; 3] = [150, 150, 150];
/// Generated points in 2D figures.
const GENERATED: [u8; 3] = [37, 76, 209];

/// Writes real points in grey under generated points in blue over the view [−3, 3]², on white
/// with light axes through the origin, `size` pixels square.
pub fn real_vs_generated(path: &Path, real: &[[f32; 2]], generated: &[[f32; 2]], size: usize) -> anyhow::Result<()> {
    let mut pixels = vec![255u8; size * size * 3];
    let mid = size / 2;
    for i in 0..size {
        for (x, y) in [(i, mid), (mid, i)] {
            pixels[(y * size + x) * 3..(y * size + x) * 3 + 3].copy_from_slice(&[225, 225, 225]);
        }
    }
    draw_real_and_generated(&mut pixels, size, real, generated);
    write_png(path, size, size, png::ColorType::Rgb, &pixels)
}

/// Writes the discriminator's heat map: `probabilities` σ(D) on a `side` × `side` grid over the view
/// (row by row from the top, as `latent_core::model::gan::map_grid` makes it), smoothly scaled to
/// `size` pixels on a diverging map: purple where D says fake (0), white at 0.5, green where it says
/// real (1), as in GAN Lab; a dark line marks D's decision boundary σ(D) = 0.5. Real points are
/// drawn over it in grey, generated ones on top in blue, outlined in white.
pub fn heat_map(path: &Path, probabilities: &[f32], side: usize, real: &[[f32; 2]], generated: &[[f32; 2]], size: usize) -> anyhow::Result<()> {
    if side < 2 || probabilities.len() != side * side {
        anyhow::bail!("heat map: {} values are not a {side}×{side} grid", probabilities.len());
    }
    let cells = side as f32;
    // Bilinear interpolation between cell centres.
    let sample = |px: usize, py: usize| {
        let at = |v: usize| ((v as f32 + 0.5) / size as f32 * cells - 0.5).clamp(0.0, cells - 1.0);
        let (fx, fy) = (at(px), at(py));
        let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(side - 1), (y0 + 1).min(side - 1));
        let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
        let p = |x: usize, y: usize| probabilities[y * side + x];
        let top = p(x0, y0) * (1.0 - tx) + p(x1, y0) * tx;
        let bottom = p(x0, y1) * (1.0 - tx) + p(x1, y1) * tx;
        top * (1.0 - ty) + bottom * ty
    };
    let field: Vec<f32> = (0..size * size).map(|i| sample(i % size, i / size)).collect();
    let mut pixels = vec![255u8; size * size * 3];
    for (i, &p) in field.iter().enumerate() {
        let right = field.get(i + 1).filter(|_| (i + 1) % size != 0);
        let below = field.get(i + size);
        let boundary = [right, below].into_iter().flatten().any(|&q| (p - 0.5) * (q - 0.5) < 0.0);
        let colour = if boundary { [70, 70, 70] } else { diverging(p) };
        pixels[i * 3..i * 3 + 3].copy_from_slice(&colour);
    }
    draw_real_and_generated(&mut pixels, size, real, generated);
    write_png(path, size, size, png::ColorType::Rgb, &pixels)
}

/// Purple (p = 0) through white (0.5) to green (1), light enough for points to stand out on it. The
/// distance from 0.5 is raised to a power below 1 so that the small leanings of a D near
/// equilibrium still show.
fn diverging(p: f32) -> [u8; 3] {
    const PURPLE: [f32; 3] = [175.0, 141.0, 195.0];
    const GREEN: [f32; 3] = [127.0, 191.0, 123.0];
    let p = if p.is_finite() { p.clamp(0.0, 1.0) } else { 0.5 };
    let (end, t) = if p < 0.5 { (PURPLE, 1.0 - 2.0 * p) } else { (GREEN, 2.0 * p - 1.0) };
    let t = t.powf(0.6);
    end.map(|c| (255.0 + (c - 255.0) * t).round() as u8)
}

/// Ten distinguishable colours for digit classes (Tableau 10).
const CLASS_COLOURS: [[u8; 3]; 10] = [
    [78, 121, 167],
    [242, 142, 43],
    [225, 87, 89],
    [118, 183, 178],
    [89, 161, 79],
    [237, 201, 72],
    [176, 122, 161],
    [255, 157, 167],
    [156, 117, 95],
    [140, 130, 125],
];

/// Writes a scatter of latent codes coloured by class (classes beyond ten share the last colour),
/// scaled so the farthest point sits just inside the frame, with light axes through the origin.
pub fn class_scatter(path: &Path, points: &[[f32; 2]], labels: &[u8], size: usize) -> anyhow::Result<()> {
    let reach = points.iter().flat_map(|p| [p[0].abs(), p[1].abs()]).filter(|v| v.is_finite()).fold(1e-3f32, f32::max);
    let scale = 0.95 * VIEW / reach;
    let mut pixels = vec![255u8; size * size * 3];
    let mid = size / 2;
    for i in 0..size {
        for (x, y) in [(i, mid), (mid, i)] {
            pixels[(y * size + x) * 3..(y * size + x) * 3 + 3].copy_from_slice(&[225, 225, 225]);
        }
    }
    for (class, colour) in CLASS_COLOURS.iter().enumerate() {
        let members: Vec<[f32; 2]> = points
            .iter()
            .zip(labels)
            .filter(|(_, &l)| usize::from(l).min(CLASS_COLOURS.len() - 1) == class)
            .map(|(p, _)| [p[0] * scale, p[1] * scale])
            .collect();
        draw_points(&mut pixels, size, &members, *colour, 3, None);
    }
    write_png(path, size, size, png::ColorType::Rgb, &pixels)
}

/// Real points as small grey dots, generated ones on top as larger blue dots framed in white, so
/// that a few samples stand out among thousands of data points.
fn draw_real_and_generated(pixels: &mut [u8], size: usize, real: &[[f32; 2]], generated: &[[f32; 2]]) {
    draw_points(pixels, size, real, REAL, 2, None);
    draw_points(pixels, size, generated, GENERATED, 3, Some([255, 255, 255]));
}

/// Draws `points` as `dot`-pixel squares in `colour`, all first framed by a one-pixel `outline` if
/// given (so frames never cover a dot of the same set). Points outside the view are skipped.
fn draw_points(pixels: &mut [u8], size: usize, points: &[[f32; 2]], colour: [u8; 3], dot: i64, outline: Option<[u8; 3]>) {
    let to_pixel = |v: f32| ((v + VIEW) / (2.0 * VIEW) * size as f32).floor() as i64;
    let corners: Vec<(i64, i64)> = points.iter().filter(|p| p[0].is_finite() && p[1].is_finite()).map(|p| (to_pixel(p[0]), to_pixel(-p[1]))).collect();
    for (fill, from, to) in [(outline, -1, dot + 1), (Some(colour), 0, dot)] {
        let Some(fill) = fill else { continue };
        for &(px, py) in &corners {
            for (x, y) in (from..to).flat_map(|dy| (from..to).map(move |dx| (px + dx, py + dy))) {
                if (0..size as i64).contains(&x) && (0..size as i64).contains(&y) {
                    let at = (y as usize * size + x as usize) * 3;
                    pixels[at..at + 3].copy_from_slice(&fill);
                }
            }
        }
    }
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
