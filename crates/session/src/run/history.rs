//! A run's metric history: one [`Point`] per readout, bounded so that a lecture-long run keeps its
//! whole curve at a coarser grain in bounded memory.

/// One row of the metric history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    pub step: u64,
    /// VAE terms (means since the last readout).
    pub reconstruction: f64,
    pub kl: f64,
    pub penalty: f64,
    pub total: f64,
    /// Negative ELBO on training and held-out rows, at evaluations.
    pub train: Option<f64>,
    pub test: Option<f64>,
    /// GAN (and VAE-GAN) terms of the latest step.
    pub d_loss: f64,
    pub g_loss: f64,
    /// D's accuracy on held-out real rows (GAN), at evaluations.
    pub d_accuracy: Option<f64>,
}

impl Point {
    /// The row a run file stores (its columns are [`HISTORY_COLUMNS`](crate::run_file::HISTORY_COLUMNS)).
    pub fn to_row(&self) -> [f64; 10] {
        let option = |v: Option<f64>| v.unwrap_or(f64::NAN);
        [
            self.step as f64,
            self.reconstruction,
            self.kl,
            self.penalty,
            self.total,
            option(self.train),
            option(self.test),
            self.d_loss,
            self.g_loss,
            option(self.d_accuracy),
        ]
    }

    pub fn from_row(row: [f64; 10]) -> Self {
        let option = |v: f64| v.is_finite().then_some(v);
        Self {
            step: if row[0].is_finite() { row[0].max(0.0) as u64 } else { 0 },
            reconstruction: row[1],
            kl: row[2],
            penalty: row[3],
            total: row[4],
            train: option(row[5]),
            test: option(row[6]),
            d_loss: row[7],
            g_loss: row[8],
            d_accuracy: option(row[9]),
        }
    }

    pub fn is_finite(&self) -> bool {
        [self.reconstruction, self.kl, self.penalty, self.total, self.d_loss, self.g_loss].iter().all(|v| v.is_finite())
    }
}

/// Most rows kept; beyond it every other row of the older half is dropped.
pub const MAX_HISTORY: usize = 1500;

/// The metric history, at most [`MAX_HISTORY`] rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct History {
    points: Vec<Point>,
}

impl History {
    pub fn points(&self) -> &[Point] {
        &self.points
    }

    pub fn latest(&self) -> Option<&Point> {
        self.points.last()
    }

    /// The latest value of a metric measured only at evaluations (`|p| p.test`), if one was yet.
    pub fn last_measured(&self, metric: impl Fn(&Point) -> Option<f64>) -> Option<f64> {
        self.points.iter().rev().find_map(metric)
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Appends a row; a full history first drops every other row of its older half (keeping the
    /// first), so the curve keeps its whole span, coarser where it is old.
    pub fn push(&mut self, point: Point) {
        if self.points.len() >= MAX_HISTORY {
            let mut i = 0;
            self.points.retain(|_| {
                i += 1;
                i % 2 == 1 || i > MAX_HISTORY / 2
            });
        }
        self.points.push(point);
    }

    /// The rows up to and including `step` (a run resumed from a checkpoint at `step`).
    pub fn up_to(&self, step: u64) -> History {
        Self { points: self.points.iter().filter(|p| p.step <= step).cloned().collect() }
    }
}

impl FromIterator<Point> for History {
    /// Rows in order, thinned as [`push`](History::push) does.
    fn from_iter<I: IntoIterator<Item = Point>>(rows: I) -> Self {
        let mut history = History::default();
        rows.into_iter().for_each(|p| history.push(p));
        history
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_history_stays_bounded_and_keeps_its_span() {
        let history: History = (0..10_000u64).map(|step| Point { step, ..Point::default() }).collect();
        assert!(history.len() <= MAX_HISTORY, "{} rows", history.len());
        assert_eq!(history.points().first().map(|p| p.step), Some(0), "the first row stays");
        assert_eq!(history.latest().map(|p| p.step), Some(9999));
        assert!(history.points().windows(2).all(|w| w[0].step < w[1].step));
        let early = history.up_to(5000);
        assert!(!early.is_empty() && early.points().iter().all(|p| p.step <= 5000));
    }

    #[test]
    fn a_point_round_trips_through_its_row() {
        let point = Point { step: 7, reconstruction: 1.5, total: 2.0, test: Some(3.0), d_accuracy: None, ..Point::default() };
        assert_eq!(Point::from_row(point.to_row()), point);
    }
}
