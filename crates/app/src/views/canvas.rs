//! Drawing on canvases: grids of greyscale images, scatters of 2D points coloured by class, and
//! the 2D data plane with D's heat map under real and generated points.

use latent_core::data::toy2d::VIEW_HALF_EXTENT;
use latent_session::palette;
use wasm_bindgen::{Clamped, JsCast as _};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// One CSS colour per digit class ([`palette::DIGITS`], which the command line's figures use too),
/// shared by the scatter and its legend.
pub fn class_colours() -> [String; 10] {
    palette::DIGITS.map(palette::css)
}

fn context(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// Draws `images` (rows of side×side values in [0, 1], ink dark on white) in rows of `cols`, one
/// pixel between them, at one canvas pixel per image pixel (CSS scales them up, pixelated).
pub fn draw_images(canvas: &HtmlCanvasElement, images: &[f32], side: usize, cols: usize) {
    let count = images.len() / (side * side).max(1);
    let cols = cols.clamp(1, count.max(1));
    let rows = count.div_ceil(cols).max(1);
    let (w, h) = (cols * (side + 1) + 1, rows * (side + 1) + 1);
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let mut rgba = vec![255u8; w * h * 4];
    for (n, image) in images.chunks_exact(side * side).enumerate() {
        let (x0, y0) = ((n % cols) * (side + 1) + 1, (n / cols) * (side + 1) + 1);
        for (i, &v) in image.iter().enumerate() {
            let shade = if v.is_finite() { 255 - (v.clamp(0.0, 1.0) * 255.0).round() as u8 } else { 128 };
            let at = ((y0 + i / side) * w + x0 + i % side) * 4;
            rgba[at..at + 3].fill(shade);
        }
    }
    put(canvas, &rgba, w, h);
}

/// Draws held-out `inputs` and their `reconstructions` in alternating rows of `cols` (each input
/// above its reconstruction), as [`draw_images`] draws a grid.
pub fn draw_pairs(canvas: &HtmlCanvasElement, inputs: &[f32], reconstructions: &[f32], side: usize, cols: usize) {
    let row = cols * side * side;
    let mut pairs = Vec::with_capacity(inputs.len() + reconstructions.len());
    for block in 0..inputs.len().min(reconstructions.len()) / row.max(1) {
        pairs.extend_from_slice(&inputs[block * row..][..row]);
        pairs.extend_from_slice(&reconstructions[block * row..][..row]);
    }
    draw_images(canvas, &pairs, side, cols);
}

fn put(canvas: &HtmlCanvasElement, rgba: &[u8], w: usize, h: usize) {
    let Some(ctx) = context(canvas) else { return };
    if let Ok(image) = ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), w as u32, h as u32) {
        ctx.put_image_data(&image, 0.0, 0.0).ok();
    }
}

/// Maps a point of [−r, r]² (r = reach) to canvas pixels of a `size`-pixel square.
fn to_pixel(p: [f32; 2], reach: f32, size: f64) -> (f64, f64) {
    let scale = size / (2.0 * f64::from(reach));
    ((f64::from(p[0]) + f64::from(reach)) * scale, (f64::from(reach) - f64::from(p[1])) * scale)
}

/// Half-width of a view that holds every finite point (at least 3 prior σ).
pub fn reach_of(points: &[[f32; 2]]) -> f32 {
    points.iter().flatten().filter(|v| v.is_finite()).fold(3.0f32, |m, v| m.max(v.abs() * 1.05)).min(1e4)
}

/// A drawing's posterior in the scatter's two dimensions: μ and σ.
pub struct DrawnCode {
    pub mean: [f32; 2],
    pub sigma: [f32; 2],
}

/// The latent scatter: `points` coloured by `labels`, the two chosen ones ringed, and a drawing's
/// posterior as a ring at μ inside its one-σ ellipse. With `as_digits` each point is its class's
/// digit, in the class's colour: a second cue beside colour, for readers who cannot tell the
/// colours apart (and for greyscale prints).
pub fn draw_scatter(
    canvas: &HtmlCanvasElement,
    points: &[[f32; 2]],
    labels: &[u8],
    as_digits: bool,
    chosen: (usize, usize),
    drawn: Option<&DrawnCode>,
    size: u32,
) {
    let Some((ctx, s)) = blank_square(canvas, size) else { return };
    axes(&ctx, s);
    let reach = reach_of(points);
    let colours = class_colours();
    if as_digits && !points.is_empty() {
        label_font(&ctx);
        ctx.set_text_align("center");
    }
    for (i, p) in points.iter().enumerate() {
        let (x, y) = to_pixel(*p, reach, s);
        let label = labels.get(i).copied().unwrap_or(0);
        ctx.set_fill_style_str(&colours[usize::from(label) % colours.len()]);
        if as_digits {
            ctx.fill_text(&label.to_string(), x, y).ok();
        } else {
            ctx.fill_rect(x - 1.5, y - 1.5, 3.0, 3.0);
        }
    }
    ctx.set_stroke_style_str("#111111");
    ctx.set_line_width(2.0);
    for i in [chosen.0, chosen.1] {
        if let Some(p) = points.get(i) {
            let (x, y) = to_pixel(*p, reach, s);
            ctx.begin_path();
            ctx.arc(x, y, 6.0, 0.0, std::f64::consts::TAU).ok();
            ctx.stroke();
        }
    }
    if let Some(code) = drawn.filter(|c| c.mean.iter().chain(&c.sigma).all(|v| v.is_finite())) {
        let (x, y) = to_pixel(code.mean, reach, s);
        let scale = s / (2.0 * f64::from(reach));
        ctx.set_fill_style_str("rgb(17 17 17 / 12%)");
        ctx.begin_path();
        ctx.ellipse(x, y, (f64::from(code.sigma[0]) * scale).max(1.0), (f64::from(code.sigma[1]) * scale).max(1.0), 0.0, 0.0, std::f64::consts::TAU).ok();
        ctx.fill();
        ctx.set_line_width(1.5);
        ctx.stroke();
        ctx.set_line_width(3.0);
        ctx.begin_path();
        ctx.arc(x, y, 5.0, 0.0, std::f64::consts::TAU).ok();
        ctx.stroke();
        // Named, so it is not taken for one of the interpolation's two ringed ends.
        ctx.set_fill_style_str("#111111");
        label_font(&ctx);
        ctx.set_text_align("left");
        ctx.fill_text("your digit", x + 9.0, y - 9.0).ok();
    }
}

/// The scatter's labels' font, set only where text is drawn: a canvas's first `font` resolves the
/// font, which was a third of a profile's 100 ms of the page's first effects at Lighthouse's 4×
/// slowdown when the empty scatter set it as the page opened (docs/BENCHMARKS.md).
fn label_font(ctx: &CanvasRenderingContext2d) {
    ctx.set_font("bold 10px sans-serif");
    ctx.set_text_baseline("middle");
}

/// The index of the point nearest canvas pixel (x, y), as [`draw_scatter`] placed them.
pub fn nearest_point(points: &[[f32; 2]], x: f64, y: f64, size: f64) -> Option<usize> {
    let reach = reach_of(points);
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (px, py) = to_pixel(*p, reach, size);
            (i, (px - x).powi(2) + (py - y).powi(2))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i)
}

/// The 2D data plane over [−3, 3]²: σ(D) as a heat map ([`palette::belief`]: green where D says
/// real, purple where it says generated) when given, generated points in orange with a dark rim,
/// and the real points last, dark with a white rim, so they stay visible under a crowd of
/// generated ones and on either end of the heat map.
pub fn draw_plane(canvas: &HtmlCanvasElement, heat: &[f32], heat_side: usize, real: &[[f32; 2]], generated: &[[f32; 2]], size: u32) {
    let Some((ctx, s)) = blank_square(canvas, size) else { return };
    if heat.len() == heat_side * heat_side && heat_side > 0 {
        let cell = s / heat_side as f64;
        // map_grid runs row by row from the top-left corner, as the canvas does.
        for (i, &p) in heat.iter().enumerate() {
            let (col, row) = (i % heat_side, i / heat_side);
            ctx.set_fill_style_str(&palette::css(palette::belief(p)));
            ctx.fill_rect(col as f64 * cell, row as f64 * cell, cell + 0.5, cell + 0.5);
        }
    }
    axes(&ctx, s);
    let reach = VIEW_HALF_EXTENT;
    let generated_fill = palette::css(palette::GENERATED_ON_PLANE);
    let real_fill = palette::css(palette::REAL_ON_PLANE);
    for (points, fill, rim, r) in [(generated, generated_fill.as_str(), "#333333", 2.4), (real, real_fill.as_str(), "#ffffff", 1.8)] {
        ctx.set_fill_style_str(fill);
        ctx.set_stroke_style_str(rim);
        ctx.set_line_width(0.8);
        for p in points.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
            let (x, y) = to_pixel(*p, reach, s);
            ctx.begin_path();
            ctx.arc(x, y, r, 0.0, std::f64::consts::TAU).ok();
            ctx.fill();
            ctx.stroke();
        }
    }
}

/// Sizes the canvas to a `size`-pixel square painted white; its context and side in pixels.
fn blank_square(canvas: &HtmlCanvasElement, size: u32) -> Option<(CanvasRenderingContext2d, f64)> {
    canvas.set_width(size);
    canvas.set_height(size);
    let ctx = context(canvas)?;
    let s = f64::from(size);
    ctx.set_fill_style_str("#ffffff");
    ctx.fill_rect(0.0, 0.0, s, s);
    Some((ctx, s))
}

fn axes(ctx: &CanvasRenderingContext2d, s: f64) {
    ctx.set_stroke_style_str("rgba(0,0,0,0.15)");
    ctx.set_line_width(1.0);
    ctx.begin_path();
    ctx.move_to(s / 2.0, 0.0);
    ctx.line_to(s / 2.0, s);
    ctx.move_to(0.0, s / 2.0);
    ctx.line_to(s, s / 2.0);
    ctx.stroke();
}
