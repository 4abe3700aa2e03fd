//! Drawing on canvases: grids of greyscale images, scatters of 2D points coloured by class, and
//! the 2D data plane with D's heat map under real and generated points.

use std::cell::RefCell;

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

/// `rgba` (w×h pixels) as the whole of `canvas`, which is that size.
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
    CLASS_MARKS.with_borrow_mut(|kept| {
        let marks = &mut kept[usize::from(as_digits)];
        if marks.is_empty() && !points.is_empty() {
            *marks = class_marks(as_digits);
        }
        for (i, p) in points.iter().enumerate() {
            let Some(mark) = marks.get(usize::from(labels.get(i).copied().unwrap_or(0)) % marks.len().max(1)) else { break };
            stamp(&ctx, mark, MARK_SIDE, to_pixel(*p, reach, s));
        }
    });
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

/// The side of a class's mark in the scatter (canvas pixels): room for a digit in the labels' font.
const MARK_SIDE: u32 = 14;

thread_local! {
    /// The classes' marks ([`class_marks`]), made by the first scatter that needs them and kept:
    /// squares, then digits. Marks made anew for every redraw saved nothing (each new canvas
    /// resolves its font again).
    static CLASS_MARKS: RefCell<[Vec<HtmlCanvasElement>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// Each class's mark in its colour (its digit, or a small square for 2D points), drawn on a
/// canvas of its own, which the scatter stamps at every point of the class. A colour set and a
/// digit laid out for each of a thousand points made the scatter's redraw the largest share of
/// the main thread while a run trains (docs/BENCHMARKS.md).
fn class_marks(as_digits: bool) -> Vec<HtmlCanvasElement> {
    let centre = f64::from(MARK_SIDE) / 2.0;
    class_colours()
        .iter()
        .enumerate()
        .map_while(|(digit, colour)| {
            let mark = offscreen(MARK_SIDE, MARK_SIDE)?;
            let ctx = context(&mark)?;
            ctx.set_fill_style_str(colour);
            if as_digits {
                label_font(&ctx);
                ctx.set_text_align("center");
                ctx.fill_text(&digit.to_string(), centre, centre).ok()?;
            } else {
                ctx.fill_rect(centre - 1.5, centre - 1.5, 3.0, 3.0);
            }
            Some(mark)
        })
        .collect()
}

/// Draws `mark` (`side` pixels square) centred at canvas pixel (x, y), at whole pixels: a mark
/// placed between them would be resampled, blurred.
fn stamp(ctx: &CanvasRenderingContext2d, mark: &HtmlCanvasElement, side: u32, (x, y): (f64, f64)) {
    let side = f64::from(side);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(mark, (x - side / 2.0).round(), (y - side / 2.0).round(), side, side).ok();
}

/// A canvas of `w`×`h` pixels outside the page, to draw on and then copy from.
fn offscreen(w: u32, h: u32) -> Option<HtmlCanvasElement> {
    let canvas: HtmlCanvasElement = web_sys::window()?.document()?.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    Some(canvas)
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
        draw_heat(&ctx, heat, heat_side, s);
    }
    axes(&ctx, s);
    let reach = VIEW_HALF_EXTENT;
    for (points, fill, rim, r) in [(generated, palette::GENERATED_ON_PLANE, "#333333", 2.4), (real, palette::REAL_ON_PLANE, "#ffffff", 1.8)] {
        // Each kind's disc drawn once and stamped, as the scatter's marks are.
        let Some(disc) = disc_mark(r, &palette::css(fill), rim) else { return };
        for p in points.iter().filter(|p| p[0].is_finite() && p[1].is_finite()) {
            stamp(&ctx, &disc, DISC_SIDE, to_pixel(*p, reach, s));
        }
    }
}

/// The side of a point's disc on the plane (canvas pixels): room for the largest, rim and all.
const DISC_SIDE: u32 = 7;

/// A disc of radius `r` in `fill` with a thin `rim`, centred on a canvas [`DISC_SIDE`] square.
fn disc_mark(r: f64, fill: &str, rim: &str) -> Option<HtmlCanvasElement> {
    let disc = offscreen(DISC_SIDE, DISC_SIDE)?;
    let ctx = context(&disc)?;
    let centre = f64::from(DISC_SIDE) / 2.0;
    ctx.set_fill_style_str(fill);
    ctx.set_stroke_style_str(rim);
    ctx.set_line_width(0.8);
    ctx.arc(centre, centre, r, 0.0, std::f64::consts::TAU).ok()?;
    ctx.fill();
    ctx.stroke();
    Some(disc)
}

/// σ(D) over the plane, one square cell per value: the values as pixels of a canvas `side` wide
/// ([`palette::belief`]'s colours), drawn over the whole `s`-pixel plane unsmoothed: a colour
/// formatted and a rectangle filled per cell were 4,096 of each per redraw (docs/BENCHMARKS.md).
fn draw_heat(ctx: &CanvasRenderingContext2d, heat: &[f32], side: usize, s: f64) {
    let Some(cells) = offscreen(side as u32, side as u32) else { return };
    // map_grid runs row by row from the top-left corner, as the canvas does.
    let rgba: Vec<u8> = heat
        .iter()
        .flat_map(|&p| {
            let [r, g, b] = palette::belief(p);
            [r, g, b, 255]
        })
        .collect();
    put(&cells, &rgba, side, side);
    ctx.set_image_smoothing_enabled(false);
    ctx.draw_image_with_html_canvas_element_and_dw_and_dh(&cells, 0.0, 0.0, s, s).ok();
    ctx.set_image_smoothing_enabled(true);
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
