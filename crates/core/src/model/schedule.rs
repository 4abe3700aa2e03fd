//! What a run decides as it goes, identically on every engine and in every front end: β warm-up
//! (KL annealing, the classic cure for posterior collapse early in training) and early stopping on
//! the held-out loss with "restore best".
//!
//! Both are plain bookkeeping over step counts and evaluated losses; the engines only apply the β
//! they are given and copy parameters when told, so the CLI, the app and the tests share one rule.

/// β rising linearly from 0 to `target` over `steps` training steps (0 steps: `target` at once).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BetaWarmup {
    pub target: f32,
    pub steps: u32,
}

impl BetaWarmup {
    /// β for the step numbered `step` (0-based).
    pub fn beta_at(&self, step: u64) -> f32 {
        if self.steps == 0 || step >= u64::from(self.steps) {
            return self.target;
        }
        self.target * (step as f32 / self.steps as f32)
    }

    /// How many steps from `step` on may share one β before the next increment, so an engine that
    /// trains in chunks (one submission each) follows the ramp in `levels` increments.
    pub fn chunk_from(&self, step: u64, levels: u32) -> u64 {
        if step >= u64::from(self.steps) {
            return u64::MAX;
        }
        let width = u64::from(self.steps.div_ceil(levels.max(1))).max(1);
        width - step % width
    }

    /// β held over a chunk starting at `step` (the ramp's value at the chunk's start, rounded down
    /// to its increment, so chunked and step-by-step engines agree).
    pub fn beta_for_chunk(&self, step: u64, levels: u32) -> f32 {
        if step >= u64::from(self.steps) {
            return self.target;
        }
        let width = u64::from(self.steps.div_ceil(levels.max(1))).max(1);
        self.beta_at(step - step % width)
    }
}

/// What early stopping made of the latest held-out evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopDecision {
    /// A new best: save the parameters now (they are the ones to restore).
    Improved,
    /// No improvement yet; keep training.
    Wait,
    /// `patience` evaluations without improvement: stop (and restore the best, if asked).
    Stop,
}

/// Watches the held-out loss: stops after `patience` evaluations that fail to beat the best by at
/// least `min_delta`.
#[derive(Clone, Debug, PartialEq)]
pub struct EarlyStopping {
    pub patience: u32,
    pub min_delta: f64,
    best: Option<(u64, f64)>,
    since_best: u32,
}

impl EarlyStopping {
    pub fn new(patience: u32, min_delta: f64) -> Self {
        Self { patience: patience.max(1), min_delta: min_delta.max(0.0), best: None, since_best: 0 }
    }

    /// Records the held-out loss after `step` steps. A NaN never counts as an improvement.
    pub fn observe(&mut self, step: u64, loss: f64) -> StopDecision {
        let improved = loss.is_finite() && self.best.is_none_or(|(_, best)| loss < best - self.min_delta);
        if improved {
            self.best = Some((step, loss));
            self.since_best = 0;
            return StopDecision::Improved;
        }
        self.since_best += 1;
        if self.since_best >= self.patience {
            StopDecision::Stop
        } else {
            StopDecision::Wait
        }
    }

    /// (step, held-out loss) of the best evaluation so far: where a chart puts its marker.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.best
    }

    /// Forgets the history (a reset, or a change that makes old losses incomparable).
    pub fn reset(&mut self) {
        self.best = None;
        self.since_best = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_ramps_linearly_then_holds() {
        let w = BetaWarmup { target: 2.0, steps: 100 };
        assert_eq!(w.beta_at(0), 0.0);
        assert_eq!(w.beta_at(50), 1.0);
        assert_eq!(w.beta_at(100), 2.0);
        assert_eq!(w.beta_at(10_000), 2.0);
        assert_eq!(BetaWarmup { target: 3.0, steps: 0 }.beta_at(0), 3.0);
    }

    #[test]
    fn chunks_follow_the_ramp_in_increments() {
        let w = BetaWarmup { target: 1.0, steps: 100 };
        // 10 levels: chunks of 10 steps, β constant within each.
        assert_eq!(w.chunk_from(0, 10), 10);
        assert_eq!(w.chunk_from(13, 10), 7);
        assert_eq!(w.beta_for_chunk(13, 10), 0.1);
        assert_eq!(w.chunk_from(100, 10), u64::MAX);
        assert_eq!(w.beta_for_chunk(100, 10), 1.0);
        // Walking the chunks covers every step exactly once and ends at the target.
        let (mut step, mut seen) = (0u64, 0);
        while step < 100 {
            step += w.chunk_from(step, 10);
            seen += 1;
        }
        assert_eq!((step, seen), (100, 10));
    }

    #[test]
    fn early_stopping_waits_patience_then_stops() {
        let mut es = EarlyStopping::new(3, 0.1);
        assert_eq!(es.observe(10, 5.0), StopDecision::Improved);
        assert_eq!(es.observe(20, 4.0), StopDecision::Improved);
        assert_eq!(es.observe(30, 3.95), StopDecision::Wait, "below min_delta is no improvement");
        assert_eq!(es.observe(40, f64::NAN), StopDecision::Wait);
        assert_eq!(es.observe(50, 4.5), StopDecision::Stop);
        assert_eq!(es.best(), Some((20, 4.0)));
        es.reset();
        assert_eq!(es.best(), None);
        assert_eq!(es.observe(60, 9.0), StopDecision::Improved);
    }
}
