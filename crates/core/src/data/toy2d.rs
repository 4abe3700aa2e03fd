//! Seeded 2D toy distributions for the GAN/VAE playground, and the checks a user-drawn point set must pass.
//!
//! In two dimensions a student can *see* what a generative model learns: whether a GAN covers all eight
//! blobs of a ring or collapses onto a few, whether a VAE blurs two moons into one. These datasets are
//! the classic ones (GAN Lab, the unrolled-GAN and VEEGAN papers, scikit-learn's `make_moons`), drawn
//! from a seed so that a shared URL reproduces the exact same points.
//!
//! Every dataset is centred on the origin and, at noise up to about 0.2, sits inside
//! [-[`VIEW_HALF_EXTENT`], [`VIEW_HALF_EXTENT`]]² (the single Gaussian's tail aside: about one point in
//! 200 lies beyond 3σ), so one fixed view box fits them all and switching datasets never rescales the
//! plot under the student's eyes.
//!
//! [`modes_covered`] is the mode-coverage measure of those papers: it turns "did the GAN collapse?" into
//! a number a test (or the UI) can check.

use std::f64::consts::{PI, TAU};

use super::DataError;
use crate::rng::SplitMix64;

/// The most points [`sample`] draws or [`validate_user_points`] accepts: far more than a 2D toy needs,
/// small enough (800 KB of f32 pairs) that a typo in a URL cannot stall the page.
pub const MAX_POINTS: usize = 100_000;

/// The fewest points a user-drawn dataset may have: with fewer a model just memorizes them.
pub const MIN_USER_POINTS: usize = 8;

/// Largest accepted `noise` (a standard deviation in data units). At 1 the ring and grid modes, which
/// are 1 to 1.5 apart, have already merged into one blob, so larger values teach nothing new.
pub const MAX_NOISE: f32 = 1.0;

/// Default `noise` for the shaped datasets: tight blobs well apart from each other, as in GAN Lab.
///
/// The scale is the data's own: grid modes are 1 apart and ring modes about 1.53 apart
/// (chord 2·2·sin(π/8)), so 0.05 leaves about 10 standard deviations between neighbours; around 0.3
/// neighbouring grid modes start to blur together.
pub const DEFAULT_NOISE: f32 = 0.05;

/// Half the side of the view box that fits every dataset at noise ≤ 0.2 (all but the single Gaussian's
/// rare beyond-3σ points): the plot shows [-3, 3]² for all of them.
pub const VIEW_HALF_EXTENT: f32 = 3.0;

/// A user-drawn or uploaded point must have |x| and |y| at most this: beyond it the data is almost
/// certainly in the wrong units (pixels, say), and the models' initial scale would not reach it.
pub const MAX_USER_COORD: f32 = 10.0;

/// Below this variance (in both axes) a point set has no shape to learn.
const MIN_SPREAD_VARIANCE: f64 = 1e-6;

/// Radius of the circle the ring's modes sit on.
const RING_RADIUS: f64 = 2.0;
/// Number of modes on the ring.
const RING_MODES: usize = 8;
/// Grid coordinates of the 5×5 grid's modes, on both axes.
const GRID_COORDS: [f32; 5] = [-2.0, -1.0, 0.0, 1.0, 2.0];

/// `make_moons` lives in [-1, 2] × [-0.5, 1]; scaling by 4/3 around its centre (0.5, 0.25) maps it
/// onto [-2, 2] × [-1, 1].
const MOONS_SCALE: f64 = 4.0 / 3.0;
const MOONS_CENTRE: [f64; 2] = [0.5, 0.25];

/// Each spiral arm turns through this angle (1.5 turns): enough to interleave the arms, few enough that
/// a small network can separate them.
const SPIRAL_TURN: f64 = 3.0 * PI;
/// Radius where each spiral arm starts; keeping it off zero stops the two arms from meeting in a point.
const SPIRAL_INNER_RADIUS: f64 = 0.2;
/// Radius where each spiral arm ends.
const SPIRAL_OUTER_RADIUS: f64 = 2.0;

/// A built-in 2D dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Toy2d {
    /// Eight Gaussians evenly spaced on a circle of radius 2: the standard mode-collapse test.
    Ring8,
    /// 25 Gaussians on the integer grid {-2, -1, 0, 1, 2}²: a harder mode-collapse test.
    Grid5x5,
    /// Two interleaved half circles (scikit-learn's `make_moons`), spanning [-2, 2] × [-1, 1].
    TwoMoons,
    /// Two interleaved arms of an Archimedean spiral, out to radius 2.
    Spiral,
    /// One standard normal N(0, I): exactly the VAE prior, so the easiest target there is.
    Gaussian,
}

impl Toy2d {
    /// Every dataset, in the order the UI lists them.
    pub const ALL: [Toy2d; 5] = [Toy2d::Ring8, Toy2d::Grid5x5, Toy2d::TwoMoons, Toy2d::Spiral, Toy2d::Gaussian];

    /// The name shown to the user.
    pub fn name(self) -> &'static str {
        match self {
            Toy2d::Ring8 => "ring of 8 Gaussians",
            Toy2d::Grid5x5 => "5×5 grid",
            Toy2d::TwoMoons => "two moons",
            Toy2d::Spiral => "spiral",
            Toy2d::Gaussian => "single Gaussian",
        }
    }

    /// A short, stable, URL-friendly identifier; never change one, or shared links break.
    pub fn key(self) -> &'static str {
        match self {
            Toy2d::Ring8 => "ring",
            Toy2d::Grid5x5 => "grid",
            Toy2d::TwoMoons => "moons",
            Toy2d::Spiral => "spiral",
            Toy2d::Gaussian => "gaussian",
        }
    }

    /// The dataset whose [`key`](Self::key) is `key` (exact match), if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|dist| dist.key() == key)
    }

    /// The mode centres of the multi-modal datasets (ring: 8, counter-clockwise from (2, 0); grid: 25,
    /// row by row from (-2, -2)); `None` for the datasets without discrete modes.
    pub fn modes(self) -> Option<Vec<[f32; 2]>> {
        match self {
            Toy2d::Ring8 => Some(
                (0..RING_MODES)
                    .map(|k| {
                        let angle = TAU * k as f64 / RING_MODES as f64;
                        [(RING_RADIUS * angle.cos()) as f32, (RING_RADIUS * angle.sin()) as f32]
                    })
                    .collect(),
            ),
            Toy2d::Grid5x5 => Some(GRID_COORDS.iter().flat_map(|&y| GRID_COORDS.iter().map(move |&x| [x, y])).collect()),
            Toy2d::TwoMoons | Toy2d::Spiral | Toy2d::Gaussian => None,
        }
    }
}

/// Draws `count` points of `dist`, the same points for the same `seed`.
///
/// `noise` is the standard deviation, in data units, of isotropic Gaussian noise added to every point,
/// in [0, [`MAX_NOISE`]]; 0 puts every point exactly on a mode or curve. What it means per dataset:
/// - ring and grid: each point picks a mode uniformly, then `noise` is that mode's standard deviation;
/// - moons: a uniform position along a uniformly chosen moon, plus noise (as `make_moons`'s `noise`,
///   but in the scaled units);
/// - spiral: a uniformly chosen arm, a position uniform in angle along it (so denser near the centre,
///   as in the classic two-spirals benchmark), plus noise;
/// - single Gaussian: `noise` is checked but ignored, since the point of this dataset is that it is
///   exactly N(0, I), the VAE prior.
///
/// Fails with [`DataError::Rejected`] if `count` is 0 or above [`MAX_POINTS`], or `noise` is not a
/// number in [0, [`MAX_NOISE`]].
pub fn sample(dist: Toy2d, count: usize, noise: f32, seed: u64) -> Result<Vec<[f32; 2]>, DataError> {
    if count == 0 || count > MAX_POINTS {
        return Err(DataError::Rejected(format!("cannot draw {count} points: the number of points must be between 1 and {MAX_POINTS}")));
    }
    // `contains` is false for NaN, so this one test also rejects it.
    if !(0.0..=MAX_NOISE).contains(&noise) {
        return Err(DataError::Rejected(format!("noise {noise} is not allowed: it is a standard deviation and must be between 0 and {MAX_NOISE}")));
    }

    let mut rng = SplitMix64::new(seed);
    let noise = f64::from(noise);
    let points = match dist {
        // `modes()` is Some for both; the empty fallback is unreachable but keeps this panic-free.
        Toy2d::Ring8 | Toy2d::Grid5x5 => {
            let modes = dist.modes().unwrap_or_default();
            sample_mixture(&modes, count, noise, &mut rng)
        }
        Toy2d::TwoMoons => (0..count)
            .map(|_| {
                let angle = rng.range(0.0, PI);
                let [x, y] = if rng.below(2) == 0 { [angle.cos(), angle.sin()] } else { [1.0 - angle.cos(), 0.5 - angle.sin()] };
                let centred = [(x - MOONS_CENTRE[0]) * MOONS_SCALE, (y - MOONS_CENTRE[1]) * MOONS_SCALE];
                add_noise(centred, noise, &mut rng)
            })
            .collect(),
        Toy2d::Spiral => (0..count)
            .map(|_| {
                let arm_offset = if rng.below(2) == 0 { 0.0 } else { PI };
                let along = rng.next_f64();
                let radius = SPIRAL_INNER_RADIUS + (SPIRAL_OUTER_RADIUS - SPIRAL_INNER_RADIUS) * along;
                let angle = SPIRAL_TURN * along + arm_offset;
                add_noise([radius * angle.cos(), radius * angle.sin()], noise, &mut rng)
            })
            .collect(),
        Toy2d::Gaussian => (0..count)
            .map(|_| {
                let [x, y] = standard_normal_pair(&mut rng);
                [x as f32, y as f32]
            })
            .collect(),
    };
    Ok(points)
}

/// `count` points around the user's own points: each a drawn point chosen uniformly plus N(0, noise² I),
/// so a handful of clicks becomes a distribution with as many training and held-out rows as asked.
/// The drawn points must pass [`validate_user_points`]; `count` and `noise` are checked as in [`sample`].
pub fn sample_around(drawn: &[[f32; 2]], count: usize, noise: f32, seed: u64) -> Result<Vec<[f32; 2]>, DataError> {
    validate_user_points(drawn)?;
    if count == 0 || count > MAX_POINTS {
        return Err(DataError::Rejected(format!("cannot draw {count} points: the number of points must be between 1 and {MAX_POINTS}")));
    }
    if !(0.0..=MAX_NOISE).contains(&noise) {
        return Err(DataError::Rejected(format!("noise {noise} is not allowed: it must be between 0 and {MAX_NOISE}")));
    }
    Ok(sample_mixture(drawn, count, f64::from(noise), &mut SplitMix64::new(seed)))
}

/// Each point: a mode chosen uniformly, plus isotropic noise. Built from the f32 mode list itself so
/// that with zero noise a point equals its mode bit for bit.
fn sample_mixture(modes: &[[f32; 2]], count: usize, noise: f64, rng: &mut SplitMix64) -> Vec<[f32; 2]> {
    let mut points = Vec::with_capacity(count);
    for _ in 0..count {
        let index = rng.below(modes.len() as u64) as usize;
        if let Some(&[x, y]) = modes.get(index) {
            points.push(add_noise([f64::from(x), f64::from(y)], noise, rng));
        }
    }
    points
}

/// `centre` plus N(0, noise² I), as f32.
fn add_noise(centre: [f64; 2], noise: f64, rng: &mut SplitMix64) -> [f32; 2] {
    let [zx, zy] = standard_normal_pair(rng);
    [(centre[0] + noise * zx) as f32, (centre[1] + noise * zy) as f32]
}

/// Two independent standard normals by Box–Muller (both the cosine and the sine branch, which is
/// exactly one isotropic 2D point).
fn standard_normal_pair(rng: &mut SplitMix64) -> [f64; 2] {
    // 1 - [0, 1) is (0, 1], so the logarithm is finite.
    let u1 = 1.0 - rng.next_f64();
    let u2 = rng.next_f64();
    let radius = (-2.0 * u1.ln()).sqrt();
    let angle = TAU * u2;
    [radius * angle.cos(), radius * angle.sin()]
}

/// Checks a user-drawn or uploaded point set before training on it.
///
/// Fails with [`DataError::Rejected`], with a message meant for the student, if the set is empty, has
/// fewer than [`MIN_USER_POINTS`] or more than [`MAX_POINTS`] points, has a coordinate that is not a
/// finite number or beyond ±[`MAX_USER_COORD`] (the message names the first such point, counting from
/// 0), or has no spread: variance below 1e-6 in both x and y. Points along a line are accepted; a line
/// is a perfectly learnable shape.
pub fn validate_user_points(points: &[[f32; 2]]) -> Result<(), DataError> {
    let count = points.len();
    if count == 0 {
        return Err(DataError::Rejected(format!("There are no points yet. Draw at least {MIN_USER_POINTS} points for the model to learn from.")));
    }
    if count < MIN_USER_POINTS {
        return Err(DataError::Rejected(format!(
            "Only {count} point{} so far. Draw at least {MIN_USER_POINTS} so the model has a shape to learn, \
             not just a few points to memorize.",
            if count == 1 { "" } else { "s" }
        )));
    }
    if count > MAX_POINTS {
        return Err(DataError::Rejected(format!("There are {count} points, but at most {MAX_POINTS} can be used. Use a smaller set.")));
    }
    if let Some((index, [x, y])) = points.iter().enumerate().find(|(_, p)| !(p[0].is_finite() && p[1].is_finite())) {
        return Err(DataError::Rejected(format!("Point {index} is ({x}, {y}): both coordinates must be ordinary finite numbers. Fix or remove that point.")));
    }
    if let Some((index, [x, y])) = points.iter().enumerate().find(|(_, p)| p[0].abs() > MAX_USER_COORD || p[1].abs() > MAX_USER_COORD) {
        return Err(DataError::Rejected(format!(
            "Point {index} at ({x}, {y}) is outside the allowed area: both coordinates must be between \
             -{MAX_USER_COORD} and {MAX_USER_COORD}. Check the units, or move it closer to the middle."
        )));
    }

    if points.windows(2).all(|pair| pair[0] == pair[1]) {
        return Err(DataError::Rejected(format!("All {count} points are at the same place; spread them out so there is something to learn.")));
    }
    let [var_x, var_y] = variance(points);
    if var_x < MIN_SPREAD_VARIANCE && var_y < MIN_SPREAD_VARIANCE {
        return Err(DataError::Rejected(format!("All {count} points are squeezed into one tiny spot; spread them out so there is something to learn.")));
    }
    Ok(())
}

/// Population variance of x and y, in f64 and in two passes so that data far from the origin does not
/// cancel catastrophically.
fn variance(points: &[[f32; 2]]) -> [f64; 2] {
    let n = points.len().max(1) as f64;
    let mean = |axis: usize| points.iter().map(|p| f64::from(p[axis])).sum::<f64>() / n;
    let var = |axis: usize, mean: f64| points.iter().map(|p| (f64::from(p[axis]) - mean).powi(2)).sum::<f64>() / n;
    [var(0, mean(0)), var(1, mean(1))]
}

/// The mode closest to `point` and its Euclidean distance. Ties go to the lower index. With no modes,
/// returns `(0, f32::INFINITY)`, which no radius test accepts.
pub fn nearest_mode(point: [f32; 2], modes: &[[f32; 2]]) -> (usize, f32) {
    let mut best = (0, f32::INFINITY);
    for (index, mode) in modes.iter().enumerate() {
        let distance = (point[0] - mode[0]).hypot(point[1] - mode[1]);
        if distance < best.1 {
            best = (index, distance);
        }
    }
    best
}

/// How many `modes` the `samples` cover: a mode is covered when at least `min_share` of all samples
/// (a fraction, e.g. 0.02), and at least one, lie within `radius` of it.
///
/// Each sample counts for its [`nearest_mode`] only, so with a radius above half the mode spacing one
/// sample never covers two modes. This is the measure of the unrolled-GAN and VEEGAN papers (with
/// radius 3σ): a GAN that collapses onto three blobs of the ring covers 3 of 8 however sharp they are.
/// No samples cover nothing.
pub fn modes_covered(samples: &[[f32; 2]], modes: &[[f32; 2]], radius: f32, min_share: f32) -> usize {
    if samples.is_empty() {
        return 0;
    }
    let mut hits = vec![0usize; modes.len()];
    for &sample in samples {
        let (index, distance) = nearest_mode(sample, modes);
        if distance <= radius {
            if let Some(hit) = hits.get_mut(index) {
                *hit += 1;
            }
        }
    }
    let total = samples.len() as f64;
    hits.iter().filter(|&&hit| hit > 0 && hit as f64 / total >= f64::from(min_share)).count()
}

#[cfg(test)]
mod drawn_tests {
    use super::*;

    #[test]
    fn drawn_points_become_a_mixture() {
        let drawn = [[0.0, 0.0], [1.0, 1.0], [-1.0, 2.0], [2.0, -1.0], [0.5, 0.5], [-2.0, -2.0], [1.5, 0.0], [0.0, 1.5]];
        let points = sample_around(&drawn, 500, 0.0, 3).unwrap();
        assert_eq!(points.len(), 500);
        assert!(points.iter().all(|p| drawn.contains(p)), "zero noise lands exactly on drawn points");
        assert!(drawn.iter().all(|d| points.contains(d)), "every drawn point is used");
        assert!(sample_around(&drawn[..3], 10, 0.1, 1).is_err(), "too few points are refused with a message");
        assert!(sample_around(&[[1.0, 1.0]; 10], 10, 0.1, 1).is_err(), "degenerate sets are refused");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The message of a rejection; fails the test if the call was accepted or failed differently.
    fn rejection<T: std::fmt::Debug>(result: Result<T, DataError>) -> String {
        match result {
            Err(DataError::Rejected(message)) => message,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    /// The distance between two angles on the circle, in [0, π].
    fn angular_gap(a: f64, b: f64) -> f64 {
        let gap = (a - b).rem_euclid(TAU);
        gap.min(TAU - gap)
    }

    fn within_box(points: &[[f32; 2]], half_x: f32, half_y: f32) -> bool {
        points.iter().all(|p| p[0].abs() <= half_x && p[1].abs() <= half_y)
    }

    #[test]
    fn keys_round_trip_and_are_distinct() {
        for dist in Toy2d::ALL {
            assert_eq!(Toy2d::from_key(dist.key()), Some(dist));
            assert!(dist.key().chars().all(|c| c.is_ascii_lowercase()), "{} is not URL-friendly", dist.key());
            assert!(!dist.name().is_empty());
        }
        assert_eq!(Toy2d::from_key("ring"), Some(Toy2d::Ring8));
        assert_eq!(Toy2d::from_key("Ring"), None);
        assert_eq!(Toy2d::from_key("swiss-roll"), None);
        let mut keys: Vec<_> = Toy2d::ALL.iter().map(|d| d.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), Toy2d::ALL.len());
    }

    #[test]
    fn modes_are_where_documented() {
        let Some(ring) = Toy2d::Ring8.modes() else { panic!("ring has modes") };
        assert_eq!(ring.len(), 8);
        for (k, mode) in ring.iter().enumerate() {
            assert!((mode[0].hypot(mode[1]) - 2.0).abs() < 1e-6, "ring mode {k} at {mode:?}");
            let angle = f64::from(mode[1]).atan2(f64::from(mode[0]));
            assert!(angular_gap(angle, TAU * k as f64 / 8.0) < 1e-6, "ring mode {k} at {mode:?}");
        }
        let Some(grid) = Toy2d::Grid5x5.modes() else { panic!("grid has modes") };
        assert_eq!(grid.len(), 25);
        for x in [-2.0, -1.0, 0.0, 1.0, 2.0] {
            for y in [-2.0, -1.0, 0.0, 1.0, 2.0] {
                assert!(grid.contains(&[x, y]), "grid lacks ({x}, {y})");
            }
        }
        assert_eq!(Toy2d::TwoMoons.modes(), None);
        assert_eq!(Toy2d::Spiral.modes(), None);
        assert_eq!(Toy2d::Gaussian.modes(), None);
    }

    #[test]
    fn same_seed_same_points_other_seed_other_points() -> Result<(), DataError> {
        for dist in Toy2d::ALL {
            let a = sample(dist, 500, DEFAULT_NOISE, 42)?;
            let b = sample(dist, 500, DEFAULT_NOISE, 42)?;
            let c = sample(dist, 500, DEFAULT_NOISE, 43)?;
            assert_eq!(a, b, "{} is not deterministic", dist.name());
            assert_ne!(a, c, "{} ignores the seed", dist.name());
        }
        Ok(())
    }

    #[test]
    fn returns_exactly_count_points() -> Result<(), DataError> {
        for dist in Toy2d::ALL {
            for count in [1, 7, 1000, MAX_POINTS] {
                assert_eq!(sample(dist, count, DEFAULT_NOISE, 1)?.len(), count, "{}", dist.name());
            }
        }
        Ok(())
    }

    #[test]
    fn every_dataset_fits_the_view_box() -> Result<(), DataError> {
        for dist in [Toy2d::Ring8, Toy2d::Grid5x5, Toy2d::TwoMoons, Toy2d::Spiral] {
            for noise in [0.0, DEFAULT_NOISE, 0.2] {
                let points = sample(dist, 20_000, noise, 5)?;
                assert!(within_box(&points, VIEW_HALF_EXTENT, VIEW_HALF_EXTENT), "{} at noise {noise}", dist.name());
            }
        }
        // A standard normal leaves [-3, 3] about once in 200 two-dimensional draws; it must stay rare.
        let gaussian = sample(Toy2d::Gaussian, 20_000, 0.0, 5)?;
        let outside = gaussian.len() - gaussian.iter().filter(|p| p[0].abs() <= 3.0 && p[1].abs() <= 3.0).count();
        assert!(outside < 200, "{outside} of 20000 Gaussian points outside the view box");
        Ok(())
    }

    #[test]
    fn ring_is_eight_blobs_on_radius_two() -> Result<(), DataError> {
        let points = sample(Toy2d::Ring8, 10_000, DEFAULT_NOISE, 7)?;
        let Some(modes) = Toy2d::Ring8.modes() else { panic!("ring has modes") };
        // 5σ: no point of 10 000 should be that far from the circle.
        assert!(points.iter().all(|p| (p[0].hypot(p[1]) - 2.0).abs() < 5.0 * DEFAULT_NOISE));
        assert_eq!(modes_covered(&points, &modes, 0.2, 0.02), 8);
        // Each mode gets about an eighth of the points, not just "some".
        let mut per_mode = [0usize; 8];
        for &p in &points {
            per_mode[nearest_mode(p, &modes).0] += 1;
        }
        assert!(per_mode.iter().all(|&n| (1000..1500).contains(&n)), "unbalanced modes {per_mode:?}");
        Ok(())
    }

    #[test]
    fn zero_noise_puts_points_exactly_on_modes() -> Result<(), DataError> {
        for dist in [Toy2d::Ring8, Toy2d::Grid5x5] {
            let Some(modes) = dist.modes() else { panic!("{} has modes", dist.name()) };
            for p in sample(dist, 2000, 0.0, 3)? {
                assert!(modes.contains(&p), "{} point {p:?} is not on a mode", dist.name());
            }
        }
        Ok(())
    }

    #[test]
    fn noise_is_the_per_mode_standard_deviation() -> Result<(), DataError> {
        for dist in [Toy2d::Ring8, Toy2d::Grid5x5] {
            let Some(modes) = dist.modes() else { panic!("{} has modes", dist.name()) };
            for noise in [0.02_f32, 0.1] {
                let points = sample(dist, 20_000, noise, 29)?;
                // Isotropic 2D noise: the squared distance to the mode averages 2σ² (σ small enough
                // that every point's nearest mode is its own).
                let mean_sq = points.iter().map(|&p| f64::from(nearest_mode(p, &modes).1).powi(2)).sum::<f64>() / points.len() as f64;
                let std = (mean_sq / 2.0).sqrt();
                assert!((std / f64::from(noise) - 1.0).abs() < 0.03, "{} at noise {noise}: std {std}", dist.name());
            }
        }
        Ok(())
    }

    #[test]
    fn grid_covers_all_25_modes() -> Result<(), DataError> {
        let points = sample(Toy2d::Grid5x5, 10_000, DEFAULT_NOISE, 11)?;
        let Some(modes) = Toy2d::Grid5x5.modes() else { panic!("grid has modes") };
        assert_eq!(modes_covered(&points, &modes, 0.2, 0.02), 25);
        assert!(points.iter().all(|p| nearest_mode(*p, &modes).1 < 6.0 * DEFAULT_NOISE));
        Ok(())
    }

    #[test]
    fn gaussian_is_standard_normal() -> Result<(), DataError> {
        let n = 20_000;
        let points = sample(Toy2d::Gaussian, n, 0.5, 13)?;
        let mean = |axis: usize| points.iter().map(|p| f64::from(p[axis])).sum::<f64>() / n as f64;
        let (mean_x, mean_y) = (mean(0), mean(1));
        let [var_x, var_y] = variance(&points);
        let cov = points.iter().map(|p| (f64::from(p[0]) - mean_x) * (f64::from(p[1]) - mean_y)).sum::<f64>() / n as f64;
        // Standard errors at n = 20 000: about 0.007 for the means, 0.01 for the variances.
        assert!(mean_x.abs() < 0.03 && mean_y.abs() < 0.03, "mean ({mean_x}, {mean_y})");
        assert!((var_x - 1.0).abs() < 0.05 && (var_y - 1.0).abs() < 0.05, "variance ({var_x}, {var_y})");
        assert!(cov.abs() < 0.03, "covariance {cov}");
        // Noise is documented as ignored for this dataset.
        assert_eq!(points, sample(Toy2d::Gaussian, n, 0.0, 13)?);
        Ok(())
    }

    #[test]
    fn moons_are_two_interleaved_half_circles() -> Result<(), DataError> {
        let radius = 4.0 / 3.0;
        // The scaled centres of make_moons' two circles, (0, 0) and (1, 0.5).
        let upper_centre = [-2.0 / 3.0, -1.0 / 3.0];
        let lower_centre = [2.0 / 3.0, 1.0 / 3.0];
        let points = sample(Toy2d::TwoMoons, 4000, 0.0, 17)?;
        let (mut upper, mut lower) = (Vec::new(), Vec::new());
        for &p in &points {
            let on = |c: [f32; 2]| ((p[0] - c[0]).hypot(p[1] - c[1]) - radius).abs() < 1e-5;
            if on(upper_centre) && p[1] >= upper_centre[1] - 1e-5 {
                upper.push(p);
            } else if on(lower_centre) && p[1] <= lower_centre[1] + 1e-5 {
                lower.push(p);
            } else {
                panic!("{p:?} is on neither moon");
            }
        }
        assert!((1800..2200).contains(&upper.len()), "{} upper, {} lower", upper.len(), lower.len());
        assert!(within_box(&points, 2.0 + 1e-5, 1.0 + 1e-5), "moons leave [-2, 2] × [-1, 1]");
        // Interleaved: each moon's tips reach past the other's, so neither a vertical nor a horizontal
        // line separates them.
        let extreme = |moon: &[[f32; 2]], axis: usize, pick: fn(f32, f32) -> f32| moon.iter().map(|p| p[axis]).fold(moon[0][axis], pick);
        assert!(extreme(&upper, 1, f32::min) < extreme(&lower, 1, f32::max), "the moons do not interleave in y");
        assert!(extreme(&upper, 0, f32::max) > extreme(&lower, 0, f32::min), "the moons do not interleave in x");
        let mean_y = |moon: &[[f32; 2]]| moon.iter().map(|p| p[1]).sum::<f32>() / moon.len() as f32;
        assert!(mean_y(&upper) > mean_y(&lower) + 0.5, "the moons are not one above the other");

        let noisy = sample(Toy2d::TwoMoons, 4000, DEFAULT_NOISE, 17)?;
        assert!(within_box(&noisy, 2.0 + 5.0 * DEFAULT_NOISE, 1.0 + 5.0 * DEFAULT_NOISE));
        Ok(())
    }

    #[test]
    fn spiral_radius_grows_with_angle_on_two_arms() -> Result<(), DataError> {
        let points = sample(Toy2d::Spiral, 4000, 0.0, 19)?;
        let mut per_arm = [0usize; 2];
        for &p in &points {
            let r = f64::from(p[0].hypot(p[1]));
            assert!((0.2 - 1e-5..=2.0 + 1e-5).contains(&r), "{p:?} outside the spiral's radii");
            // Archimedean: the radius fixes the unwrapped angle, which must match the point's direction
            // on one of the two arms (the second turned by half a turn).
            let along = (r - 0.2) / 1.8;
            let angle = f64::from(p[1]).atan2(f64::from(p[0]));
            let arm = (0..2).find(|&arm| angular_gap(angle, 3.0 * PI * along + PI * arm as f64) < 1e-4);
            let Some(arm) = arm else { panic!("{p:?} is on neither arm") };
            per_arm[arm] += 1;
        }
        assert!(per_arm.iter().all(|&n| (1800..2200).contains(&n)), "points per arm {per_arm:?}");
        assert!(within_box(&points, 2.0 + 1e-5, 2.0 + 1e-5));
        Ok(())
    }

    #[test]
    fn sample_rejects_bad_count_and_noise() {
        let message = rejection(sample(Toy2d::Ring8, 0, DEFAULT_NOISE, 1));
        assert!(message.contains("0 points") && message.contains("between 1 and 100000"), "{message}");
        let message = rejection(sample(Toy2d::Ring8, MAX_POINTS + 1, DEFAULT_NOISE, 1));
        assert!(message.contains("100001") && message.contains("between 1 and 100000"), "{message}");
        for (noise, shown) in [(f32::NAN, "NaN"), (-0.1, "-0.1"), (1.5, "1.5"), (f32::INFINITY, "inf")] {
            let message = rejection(sample(Toy2d::Spiral, 10, noise, 1));
            assert!(message.contains(shown) && message.contains("between 0 and 1"), "{message}");
        }
        // The edges of the ranges are accepted.
        assert!(sample(Toy2d::Gaussian, 1, 0.0, 1).is_ok());
        assert!(sample(Toy2d::Gaussian, MAX_POINTS, MAX_NOISE, 1).is_ok());
    }

    /// A valid set: a small ring the student might draw.
    fn drawn(count: usize) -> Vec<[f32; 2]> {
        (0..count)
            .map(|i| {
                let angle = TAU * i as f64 / count as f64;
                [angle.cos() as f32, angle.sin() as f32]
            })
            .collect()
    }

    #[test]
    fn user_points_accept_reasonable_sets() {
        assert_eq!(validate_user_points(&drawn(MIN_USER_POINTS)), Ok(()));
        assert_eq!(validate_user_points(&drawn(500)), Ok(()));
        // A line has spread along one axis only, and that is a shape worth learning.
        let line: Vec<[f32; 2]> = (0..20).map(|i| [i as f32 * 0.1, 1.0]).collect();
        assert_eq!(validate_user_points(&line), Ok(()));
        // The edge of the box is inside it.
        let mut edge = drawn(10);
        edge[3] = [MAX_USER_COORD, -MAX_USER_COORD];
        assert_eq!(validate_user_points(&edge), Ok(()));
    }

    #[test]
    fn user_points_reject_wrong_counts() {
        let message = rejection(validate_user_points(&[]));
        assert!(message.contains("no points") && message.contains("at least 8"), "{message}");
        let message = rejection(validate_user_points(&drawn(3)));
        assert!(message.contains("Only 3 points") && message.contains("at least 8"), "{message}");
        let message = rejection(validate_user_points(&drawn(1)));
        assert!(message.contains("Only 1 point ") && message.contains("at least 8"), "{message}");
        let message = rejection(validate_user_points(&drawn(MAX_POINTS + 1)));
        assert!(message.contains("100001") && message.contains("at most 100000"), "{message}");
    }

    #[test]
    fn user_points_reject_non_finite_and_far_points_by_index() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut points = drawn(12);
            points[5] = [0.5, bad];
            let message = rejection(validate_user_points(&points));
            assert!(message.contains("Point 5") && message.contains("finite numbers"), "{message}");
        }
        let mut points = drawn(12);
        points[7] = [12.5, 0.0];
        let message = rejection(validate_user_points(&points));
        assert!(message.contains("Point 7") && message.contains("12.5") && message.contains("-10 and 10"), "{message}");
        let mut points = drawn(12);
        points[9] = [0.0, -10.5];
        let message = rejection(validate_user_points(&points));
        assert!(message.contains("Point 9") && message.contains("-10.5"), "{message}");
    }

    #[test]
    fn user_points_reject_sets_without_spread() {
        let message = rejection(validate_user_points(&[[1.5, -0.5]; 12]));
        assert_eq!(message, "All 12 points are at the same place; spread them out so there is something to learn.");
        // Not identical, but within a thousandth of each other: still nothing to learn.
        let tiny: Vec<[f32; 2]> = (0..10).map(|i| [1.0 + i as f32 * 1e-4, 2.0 - i as f32 * 1e-4]).collect();
        let message = rejection(validate_user_points(&tiny));
        assert!(message.contains("All 10 points") && message.contains("spread them out"), "{message}");
    }

    #[test]
    fn nearest_mode_finds_the_closest() {
        let modes = [[0.0, 0.0], [2.0, 0.0], [0.0, 2.0]];
        assert_eq!(nearest_mode([1.8, 0.1], &modes).0, 1);
        let (index, distance) = nearest_mode([0.0, 3.0], &modes);
        assert_eq!(index, 2);
        assert!((distance - 1.0).abs() < 1e-6);
        assert_eq!(nearest_mode([1.0, 1.0], &[]), (0, f32::INFINITY));
    }

    #[test]
    fn modes_covered_detects_collapse() -> Result<(), DataError> {
        let Some(modes) = Toy2d::Ring8.modes() else { panic!("ring has modes") };
        // A collapsed generator: every sample on mode 0 or mode 3.
        let collapsed: Vec<[f32; 2]> = (0..1000).map(|i| modes[if i % 2 == 0 { 0 } else { 3 }]).collect();
        assert_eq!(modes_covered(&collapsed, &modes, 0.2, 0.02), 2);
        // A mode with 1% of the samples is below a 2% share.
        let mut sparse = collapsed.clone();
        sparse[..10].fill(modes[5]);
        assert_eq!(modes_covered(&sparse, &modes, 0.2, 0.02), 2);
        assert_eq!(modes_covered(&sparse, &modes, 0.2, 0.005), 3);
        // Samples far from every mode (a blurry generator) cover nothing.
        let centre = vec![[0.0, 0.0]; 1000];
        assert_eq!(modes_covered(&centre, &modes, 0.2, 0.02), 0);
        assert_eq!(modes_covered(&[], &modes, 0.2, 0.0), 0);
        // A real ring sample covers all eight even at the paper's 3σ radius.
        let ring = sample(Toy2d::Ring8, 5000, DEFAULT_NOISE, 23)?;
        assert_eq!(modes_covered(&ring, &modes, 3.0 * DEFAULT_NOISE, 0.02), 8);
        Ok(())
    }
}
