//! When a run scores both splits, keeps a checkpoint or refreshes its pictures: the page does each
//! at most every so often and never for more than a share of its time, so that on a slow engine (a
//! software adapter, the CPU engine) readouts never crowd out training.

use std::time::Duration;

use web_time::Instant;

/// How often something recurring is done.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cadence {
    /// At every opportunity (the command line scores every chunk of `--eval-every` steps).
    Always,
    /// At most every `every`, and waiting `share` times what the last one cost, so it takes at
    /// most about 1/(1 + `share`) of the time.
    Timed { every: Duration, share: f64 },
    /// Never (a benchmark times training alone).
    Never,
}

/// A recurring task's clock: whether it is due, and when it is due next.
#[derive(Clone, Debug)]
pub struct Due {
    cadence: Cadence,
    next: Option<Instant>,
}

impl Due {
    /// Due at once (unless never).
    pub fn new(cadence: Cadence) -> Self {
        Self { cadence, next: None }
    }

    pub fn is_due(&self) -> bool {
        match self.cadence {
            Cadence::Always => true,
            Cadence::Never => false,
            Cadence::Timed { .. } => self.next.is_none_or(|next| Instant::now() >= next),
        }
    }

    /// Records that the task ran from `started` to now.
    pub fn done(&mut self, started: Instant) {
        if let Cadence::Timed { every, share } = self.cadence {
            let cost = started.elapsed();
            self.next = Some(Instant::now() + every.max(cost.mul_f64(share)));
        }
    }

    /// Makes the task due at once again.
    pub fn reset(&mut self) {
        self.next = None;
    }
}
