//! A GAN sweep's summary: one cell per pair of values (the first knob's across the columns, the
//! second's down the rows; one row without a second knob), each holding its member's modes covered
//! and squared MMD, and the best cell: the most modes covered, then the least MMD (the points
//! closest to the real ones among the models that found as many modes).

use super::{MemberScore, SweepSpec};

/// The colour scale's ends, log10 of MMD²: fixed, so two grids' colours compare (a GAN that
/// matches the ring scores about 0.01; one collapsed to a point about 1).
pub const SHADE_RANGE: (f64, f64) = (-2.5, 0.0);

/// How dark a cell of squared MMD `mmd` is drawn, 1 (closest to the real points) to 0, on a log
/// scale over [`SHADE_RANGE`]: the page and the command line's figure shade alike.
pub fn shade(mmd: f64) -> f64 {
    let (lo, hi) = SHADE_RANGE;
    (1.0 - (mmd.max(1e-12).log10() - lo) / (hi - lo)).clamp(0.0, 1.0)
}

/// The grid of a GAN sweep's scores.
#[derive(Clone, Debug, PartialEq)]
pub struct Grid {
    /// The first knob's values (columns) and the second's (rows; one `None` without it).
    pub values: Vec<f32>,
    pub rows: Vec<Option<f32>>,
    /// Row by row, `values.len()` cells each; `None` before the member's first score.
    pub cells: Vec<Option<MemberScore>>,
    /// Index into `cells` of the best model that scored.
    pub best: Option<usize>,
}

impl Grid {
    /// The grid of `spec`'s members from `scores` (any order; a GAN sweep has one fold).
    pub fn new(spec: &SweepSpec, scores: &[MemberScore]) -> Self {
        let rows = spec.across_values();
        let cells: Vec<Option<MemberScore>> = rows
            .iter()
            .flat_map(|&across| spec.values.iter().map(move |&value| (value, across)))
            .map(|(value, across)| scores.iter().find(|s| s.value == value && s.across == across).cloned())
            .collect();
        let best = cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let c = c.as_ref().filter(|c| !c.diverged)?;
                Some((i, c.modes.map_or(0, |(m, _)| m), c.mmd?))
            })
            .max_by(|a, b| a.1.cmp(&b.1).then(b.2.total_cmp(&a.2)))
            .map(|(i, _, _)| i);
        Self { values: spec.values.clone(), rows, cells, best }
    }

    /// The cell at `row`, `column`.
    pub fn cell(&self, row: usize, column: usize) -> Option<&MemberScore> {
        self.cells.get(row * self.values.len() + column)?.as_ref()
    }

    /// The (value, second value) of cell `index`.
    pub fn at(&self, index: usize) -> Option<(f32, Option<f32>)> {
        let columns = self.values.len().max(1);
        Some((*self.values.get(index % columns)?, *self.rows.get(index / columns)?))
    }
}
