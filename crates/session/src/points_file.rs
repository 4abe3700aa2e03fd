//! Points uploaded as a text file (CSV, TSV or space-separated `x y` lines) become the drawn
//! dataset. Files come from anywhere, in any units, so this reads them leniently and says what it
//! did: a header line is skipped, lines that are not two numbers are counted and skipped, the cloud
//! is centred and scaled to fit the plane, and a large file is thinned evenly to what a link holds.
//! What cannot be learned from (nothing, a handful of points, all points in one spot) is refused
//! with the reason, by the same check as drawn points.

use latent_core::data::toy2d::{self, VIEW_HALF_EXTENT};

use crate::config::query::round2;
use crate::config::MAX_DRAWN;
use crate::SessionError;

/// Largest file read (bytes): a few hundred thousand points, far more than is kept.
pub const MAX_BYTES: usize = 4 << 20;
/// The uploaded cloud fills this share of the plane's half-width.
const FILL: f32 = 0.85;

/// The drawn points a file describes, and notes on what was adjusted.
pub fn points_from_text(text: &str) -> Result<(Vec<[f32; 2]>, Vec<String>), SessionError> {
    if text.len() > MAX_BYTES {
        return Err(SessionError::Invalid(format!("the file is {:.1} MB; at most {} MB are read", text.len() as f64 / 1e6, MAX_BYTES >> 20)));
    }
    let mut notes = Vec::new();
    let mut points = Vec::new();
    let mut skipped = 0usize;
    let mut first = true;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let mut fields = line.split(|c: char| c == ',' || c == ';' || c.is_whitespace()).filter(|f| !f.is_empty());
        let parsed = fields.next().zip(fields.next()).and_then(|(x, y)| Some([x.parse::<f32>().ok()?, y.parse::<f32>().ok()?]));
        match parsed {
            Some(p) if p[0].is_finite() && p[1].is_finite() => points.push(p),
            // A first line of words is a header.
            None if first => {}
            _ => skipped += 1,
        }
        first = false;
    }
    if skipped > 0 {
        notes.push(format!("{skipped} line(s) were not two finite numbers and were skipped"));
    }
    if points.is_empty() {
        return Err(SessionError::Invalid("no points found: each line should hold two numbers, x and y (e.g. `0.5,-1.2`)".into()));
    }
    if points.len() > MAX_DRAWN {
        notes.push(format!(
            "{} points were read; the drawn set holds at most {MAX_DRAWN} (they travel in the link), so {MAX_DRAWN} were kept, evenly through the file",
            points.len()
        ));
        points = (0..MAX_DRAWN).map(|i| points[i * points.len() / MAX_DRAWN]).collect();
    }
    fit_to_plane(&mut points, &mut notes);
    toy2d::validate_user_points(&points)?;
    Ok((points, notes))
}

/// Centres the cloud and scales it (keeping its aspect) to fill the plane, rounded as links hold it.
/// The arithmetic is f64 and the result clamped to the plane: a cloud only a few f32 steps wide far
/// from the origin (near-duplicate points) would otherwise have its centre rounded to one of its
/// points and the magnified rounding would put the rest outside the plane, where the next parse of
/// the link drops them.
fn fit_to_plane(points: &mut [[f32; 2]], notes: &mut Vec<String>) {
    let (lo, hi) = points.iter().fold(([f32::MAX; 2], [f32::MIN; 2]), |(lo, hi), p| ([lo[0].min(p[0]), lo[1].min(p[1])], [hi[0].max(p[0]), hi[1].max(p[1])]));
    let centre = [(f64::from(lo[0]) + f64::from(hi[0])) / 2.0, (f64::from(lo[1]) + f64::from(hi[1])) / 2.0];
    let half = ((f64::from(hi[0]) - f64::from(lo[0])).max(f64::from(hi[1]) - f64::from(lo[1])) / 2.0).max(f64::from(f32::MIN_POSITIVE));
    let reach = f64::from(VIEW_HALF_EXTENT);
    let scale = f64::from(FILL) * reach / half;
    let already_fits = points.iter().all(|p| p[0].abs() <= VIEW_HALF_EXTENT && p[1].abs() <= VIEW_HALF_EXTENT);
    if already_fits && (0.25..=1.0).contains(&(1.0 / scale)) {
        // Data already in the plane's units stays where the user put it.
        points.iter_mut().for_each(|p| *p = [round2(p[0]), round2(p[1])]);
        return;
    }
    notes.push(format!("the points were centred and scaled by {} to fit the plane", significant(scale as f32)));
    let fit = |v: f32, c: f64| round2(((f64::from(v) - c) * scale).clamp(-reach, reach) as f32);
    for p in points.iter_mut() {
        *p = [fit(p[0], centre[0]), fit(p[1], centre[1])];
    }
}

fn significant(v: f32) -> String {
    format!("{}", crate::config::round_sig(v, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(n: usize, radius: f32, centre: [f32; 2]) -> String {
        (0..n)
            .map(|i| {
                let a = i as f32 / n as f32 * std::f32::consts::TAU;
                format!("{},{}\n", centre[0] + radius * a.cos(), centre[1] + radius * a.sin())
            })
            .collect()
    }

    #[test]
    fn reads_csv_with_a_header_and_keeps_points_in_plane_units() {
        let text = format!("x,y\n{}", ring(40, 2.0, [0.0, 0.0]));
        let (points, notes) = points_from_text(&text).expect("a ring of 40 is valid");
        assert_eq!(points.len(), 40);
        assert!(notes.is_empty(), "{notes:?}");
        assert!((points[0][0] - 2.0).abs() < 0.01 && points[0][1].abs() < 0.01, "{:?}", points[0]);
    }

    #[test]
    fn other_units_are_centred_and_scaled_to_the_plane() {
        let (points, notes) = points_from_text(&ring(30, 500.0, [1000.0, -40.0]).replace(',', "\t")).expect("valid");
        assert!(notes.iter().any(|n| n.contains("scaled")), "{notes:?}");
        let reach = points.iter().fold(0f32, |m, p| m.max(p[0].abs()).max(p[1].abs()));
        assert!(reach <= VIEW_HALF_EXTENT && reach > 0.8 * VIEW_HALF_EXTENT, "reach {reach}");
    }

    #[test]
    fn large_files_are_thinned_and_bad_lines_counted() {
        let text = format!("{}not a point\n1,nan\n# comment\n", ring(5000, 1.0, [0.0, 0.0]));
        let (points, notes) = points_from_text(&text).expect("valid");
        assert_eq!(points.len(), MAX_DRAWN);
        assert!(notes.iter().any(|n| n.contains("5000 points")), "{notes:?}");
        assert!(notes.iter().any(|n| n.starts_with("2 line(s)")), "{notes:?}");
    }

    /// Two clusters one f32 step apart, far from the origin: the extent is a few ulps, so scaling it
    /// to the plane magnifies rounding; every point must still land inside (and survive a link).
    #[test]
    fn near_duplicate_clusters_stay_inside_the_plane() {
        let x = 1000.0f32;
        let next = f32::from_bits(x.to_bits() + 1);
        let text: String = (0..40).map(|i| format!("{},{}\n", if i % 2 == 0 { x } else { next }, if i % 3 == 0 { x } else { next })).collect();
        let (points, _) = points_from_text(&text).expect("two clusters are learnable");
        assert!(points.iter().flatten().all(|v| v.abs() <= VIEW_HALF_EXTENT), "{points:?}");
        let query = format!("data=drawn&pts={}", points.iter().map(|p| format!("{}:{}", p[0], p[1])).collect::<Vec<_>>().join(","));
        assert_eq!(crate::config::LabConfig::from_query(&query).0.data.drawn, points);
    }

    #[test]
    fn unlearnable_files_are_refused_with_the_reason() {
        let refused = |text: &str| points_from_text(text).expect_err("must be refused").to_string();
        assert!(refused("").contains("no points"));
        assert!(refused("x,y\nhello,world\n").contains("no points"));
        assert!(refused("1,1\n2,2\n").contains("at least"));
        assert!(refused(&"0.5,0.5\n".repeat(50)).contains("same place"));
        assert!(refused(&" ".repeat(MAX_BYTES + 1)).contains("MB"));
    }
}
