//! The drawing pad's strokes, and the image a VAE's encoder reads from them. The pad is 28×28 like
//! an MNIST digit, but people draw anywhere on it and at any size; MNIST's digits were fitted into a
//! 20×20 box and centred by their centre of mass in the 28×28 frame, so a drawing is made ready the
//! same way (its ink's box scaled to fit 20×20, then moved so its centre of mass is the frame's
//! centre), and drawn with a pen about as wide as MNIST's strokes are after that fitting. Without
//! it a small "1" in a corner encodes as nothing like the held-out 1s.

use latent_core::data::mnist::IMAGE_SIDE;

/// Most points the pad keeps (a long scribble stops adding ink; Clear starts again).
pub const MAX_POINTS: usize = 4096;
/// Side of the box MNIST fitted each digit's ink into.
const FIT_SIDE: f32 = 20.0;
/// Largest enlargement of a small drawing (a dot or a short dash stays small).
const MAX_SCALE: f32 = 4.0;
/// Within this distance of a stroke (pixels) the ink is full; it fades to none at [`PEN_EDGE`].
const PEN_CORE: f32 = 0.9;
const PEN_EDGE: f32 = 2.0;

/// The strokes drawn so far, in pad coordinates: x to the right and y down, both in [0, 28]
/// (pixel (i, j) covers [i, i + 1] × [j, j + 1]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DrawPad {
    strokes: Vec<Vec<[f32; 2]>>,
    points: usize,
}

impl DrawPad {
    /// Starts a stroke at `p` (clamped to the pad); false when the pad is full or `p` is not finite.
    pub fn begin(&mut self, p: [f32; 2]) -> bool {
        let Some(p) = self.admit(p) else { return false };
        self.strokes.push(vec![p]);
        true
    }

    /// Carries the latest stroke on to `p` (starting one if none was begun); false when the pad is
    /// full or `p` is not finite.
    pub fn extend(&mut self, p: [f32; 2]) -> bool {
        let Some(p) = self.admit(p) else { return false };
        match self.strokes.last_mut() {
            Some(stroke) => stroke.push(p),
            None => self.strokes.push(vec![p]),
        }
        true
    }

    fn admit(&mut self, p: [f32; 2]) -> Option<[f32; 2]> {
        if self.points >= MAX_POINTS || !p.iter().all(|v| v.is_finite()) {
            return None;
        }
        self.points += 1;
        let side = IMAGE_SIDE as f32;
        Some([p[0].clamp(0.0, side), p[1].clamp(0.0, side)])
    }

    pub fn clear(&mut self) {
        *self = Self::default();
    }

    pub fn is_empty(&self) -> bool {
        self.points == 0
    }

    /// The strokes as the pad shows them: 28×28 pixels in [0, 1], ink 1.
    pub fn pixels(&self) -> Vec<f32> {
        render(&self.strokes, |p| p)
    }

    /// The image the encoder reads, made as MNIST's digits were (see the module's note); `None`
    /// for an empty pad.
    pub fn encoder_input(&self) -> Option<Vec<f32>> {
        let all = self.strokes.iter().flatten();
        let (lo, hi) =
            all.fold(([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]), |(lo, hi), p| ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])]));
        if !lo[0].is_finite() {
            return None;
        }
        let extent = (hi[0] - lo[0]).max(hi[1] - lo[1]);
        // The pen's own width takes part of the box, as the ink did in MNIST's.
        let scale = if extent > 0.0 { ((FIT_SIDE - 2.0 * PEN_CORE) / extent).min(MAX_SCALE) } else { 1.0 };
        let middle = IMAGE_SIDE as f32 / 2.0;
        let box_centre = [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0];
        let place =
            |shift: [f32; 2]| move |p: [f32; 2]| [(p[0] - box_centre[0]) * scale + middle + shift[0], (p[1] - box_centre[1]) * scale + middle + shift[1]];
        let boxed = render(&self.strokes, place([0.0, 0.0]));
        let Some(mass) = centre_of_mass(&boxed) else { return Some(boxed) };
        Some(render(&self.strokes, place([middle - mass[0], middle - mass[1]])))
    }
}

/// The ink's centre of mass in pad coordinates (pixel centres at i + 0.5); `None` without ink.
fn centre_of_mass(pixels: &[f32]) -> Option<[f32; 2]> {
    let (mut total, mut x, mut y) = (0.0f32, 0.0f32, 0.0f32);
    for (i, v) in pixels.iter().enumerate() {
        total += v;
        x += v * ((i % IMAGE_SIDE) as f32 + 0.5);
        y += v * ((i / IMAGE_SIDE) as f32 + 0.5);
    }
    (total > 0.0).then(|| [x / total, y / total])
}

/// Draws the strokes, each point moved by `place`, on a blank 28×28 image with the pen.
fn render(strokes: &[Vec<[f32; 2]>], place: impl Fn([f32; 2]) -> [f32; 2]) -> Vec<f32> {
    let mut pixels = vec![0.0f32; IMAGE_SIDE * IMAGE_SIDE];
    for stroke in strokes {
        let placed: Vec<[f32; 2]> = stroke.iter().map(|&p| place(p)).collect();
        // A tap is a stroke of one point: a dot.
        let segments = placed.windows(2).map(|w| (w[0], w[1])).chain(placed.first().filter(|_| placed.len() == 1).map(|&p| (p, p)));
        for (a, b) in segments {
            ink_segment(&mut pixels, a, b);
        }
    }
    pixels
}

/// Inks every pixel near the segment a–b (the darker of what is there and the pen's ink).
fn ink_segment(pixels: &mut [f32], a: [f32; 2], b: [f32; 2]) {
    let side = IMAGE_SIDE as f32;
    let range = |u: f32, v: f32| {
        let from = (u.min(v) - PEN_EDGE).floor().clamp(0.0, side) as usize;
        let to = (u.max(v) + PEN_EDGE).ceil().clamp(0.0, side) as usize;
        from..to
    };
    for row in range(a[1], b[1]) {
        for col in range(a[0], b[0]) {
            let d = distance_to_segment([col as f32 + 0.5, row as f32 + 0.5], a, b);
            let ink = ((PEN_EDGE - d) / (PEN_EDGE - PEN_CORE)).clamp(0.0, 1.0);
            let pixel = &mut pixels[row * IMAGE_SIDE + col];
            *pixel = pixel.max(ink);
        }
    }
}

fn distance_to_segment(p: [f32; 2], a: [f32; 2], b: [f32; 2]) -> f32 {
    let (ab, ap) = ([b[0] - a[0], b[1] - a[1]], [p[0] - a[0], p[1] - a[1]]);
    let length = ab[0] * ab[0] + ab[1] * ab[1];
    let t = if length > 0.0 { ((ap[0] * ab[0] + ap[1] * ab[1]) / length).clamp(0.0, 1.0) } else { 0.0 };
    (ap[0] - t * ab[0]).hypot(ap[1] - t * ab[1])
}

/// How the held-out digits nearest a code vote: each digit's count among the `k` nearest codes
/// (Euclidean distance over every latent dimension), most votes first (ties: the smaller digit).
pub fn nearest_labels(codes: &[f32], latent: usize, labels: &[u8], code: &[f32], k: usize) -> Vec<(u8, usize)> {
    if latent == 0 || code.len() != latent {
        return Vec::new();
    }
    // The k nearest so far, nearest first: k is small, so insertion beats sorting every code (and
    // keeps a sort's code out of the page's module).
    let mut nearest: Vec<(f32, u8)> = Vec::with_capacity(k + 1);
    for (c, &label) in codes.chunks_exact(latent).zip(labels) {
        let d: f32 = c.iter().zip(code).map(|(a, b)| (a - b) * (a - b)).sum();
        if !d.is_finite() || (nearest.len() == k && nearest.last().is_some_and(|last| d >= last.0)) {
            continue;
        }
        let at = nearest.iter().position(|n| d < n.0).unwrap_or(nearest.len());
        nearest.insert(at, (d, label));
        nearest.truncate(k);
    }
    let mut counts = [0usize; 256];
    for (_, label) in &nearest {
        counts[usize::from(*label)] += 1;
    }
    let mut votes = Vec::new();
    while let Some((label, &n)) = counts.iter().enumerate().filter(|(_, n)| **n > 0).max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0))) {
        votes.push((label as u8, n));
        counts[label] = 0;
    }
    votes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vertical_stroke(x: f32, top: f32, bottom: f32) -> DrawPad {
        let mut pad = DrawPad::default();
        pad.begin([x, top]);
        for i in 1..=10 {
            pad.extend([x, top + (bottom - top) * i as f32 / 10.0]);
        }
        pad
    }

    fn ink_box(pixels: &[f32]) -> (usize, usize, usize, usize) {
        let inked: Vec<usize> = (0..pixels.len()).filter(|&i| pixels[i] > 0.5).collect();
        let cols = inked.iter().map(|i| i % IMAGE_SIDE);
        let rows = inked.iter().map(|i| i / IMAGE_SIDE);
        (cols.clone().min().unwrap(), cols.max().unwrap(), rows.clone().min().unwrap(), rows.max().unwrap())
    }

    /// A short stroke in a corner comes out as MNIST's digits are: about 20 pixels tall, its centre
    /// of mass in the middle, ink in [0, 1].
    #[test]
    fn a_small_drawing_in_a_corner_is_fitted_and_centred() {
        let pad = vertical_stroke(4.0, 2.0, 8.0);
        let raw = pad.pixels();
        let (_, right, _, bottom) = ink_box(&raw);
        assert!(right < 7 && bottom < 11, "the pad shows the stroke where it was drawn");
        let input = pad.encoder_input().unwrap();
        assert!(input.iter().all(|v| (0.0..=1.0).contains(v)));
        let (left, right, top, bottom) = ink_box(&input);
        assert!((18..=21).contains(&(bottom - top + 1)), "fitted height {}", bottom - top + 1);
        assert!(right - left <= 3, "a thin stroke stays thin: {left}..{right}");
        let mass = centre_of_mass(&input).unwrap();
        assert!((mass[0] - 14.0).abs() < 0.05 && (mass[1] - 14.0).abs() < 0.05, "centre of mass {mass:?}");
    }

    /// A tap is a dot; an empty pad has no input; points off the pad are clamped onto it, points
    /// that are not numbers refused, and a full pad takes no more.
    #[test]
    fn taps_edges_and_limits() {
        let mut pad = DrawPad::default();
        assert_eq!(pad.encoder_input(), None);
        assert!(pad.is_empty() && pad.pixels().iter().all(|&v| v == 0.0));
        assert!(pad.begin([14.0, 14.0]));
        let dot = pad.encoder_input().unwrap();
        assert!(dot.iter().filter(|&&v| v > 0.5).count() >= 4, "a tap leaves a dot");
        assert!(!pad.extend([f32::NAN, 3.0]) && !pad.begin([1.0, f32::INFINITY]));
        assert!(pad.extend([-50.0, 99.0]));
        assert_eq!(pad.strokes[0][1], [0.0, 28.0]);
        while pad.extend([3.0, 3.0]) {}
        assert_eq!(pad.points, MAX_POINTS);
        assert!(!pad.begin([1.0, 1.0]));
        pad.clear();
        assert!(pad.is_empty() && pad.begin([1.0, 1.0]));
    }

    #[test]
    fn nearest_labels_count_the_closest_codes() {
        let codes = [0.0, 0.0, 0.1, 0.0, 5.0, 5.0, 0.0, 0.2, 9.0, 9.0];
        let labels = [1, 1, 7, 1, 3];
        assert_eq!(nearest_labels(&codes, 2, &labels, &[0.0, 0.05], 3), vec![(1, 3)]);
        assert_eq!(nearest_labels(&codes, 2, &labels, &[4.0, 4.0], 2), vec![(1, 1), (7, 1)]);
        assert!(nearest_labels(&codes, 2, &labels, &[0.0], 3).is_empty());
    }
}
