//! What happened during a run, for the loss chart to mark at its step: knob changes ("β → 4"),
//! restores and rebuilds. A student reading a curve that jumps sees why.

use crate::config::Knob;

/// Most markers kept (the oldest go first): a lecture-long run of slider play stays readable and
/// bounded.
pub const MAX_MARKERS: usize = 64;
/// A change of the same knob within this many steps of its last marker updates that marker: a
/// slider drag while training is one change, not one per input event.
const SAME_CHANGE_STEPS: u64 = 100;

/// One event at a step.
#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub step: u64,
    pub text: String,
    knob: Option<Knob>,
}

/// The run's markers, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Markers {
    list: Vec<Marker>,
}

impl Markers {
    pub fn list(&self) -> &[Marker] {
        &self.list
    }

    /// `knob` was set to `value` at `step`.
    pub fn knob_changed(&mut self, step: u64, knob: Knob, value: f32) {
        let text = format!("{} → {}", knob.symbol(), knob.format(value));
        match self.list.last_mut() {
            Some(last) if last.knob == Some(knob) && step.saturating_sub(last.step) <= SAME_CHANGE_STEPS => last.text = text,
            _ => self.push(Marker { step, text, knob: Some(knob) }),
        }
    }

    /// Anything else worth a mark: a restore, a rebuild after a lost device, an imported run.
    pub fn event(&mut self, step: u64, text: impl Into<String>) {
        self.push(Marker { step, text: text.into(), knob: None });
    }

    /// Back to `step` (a restored checkpoint): what was marked after it did not happen to this run.
    pub fn rewind(&mut self, step: u64) {
        self.list.retain(|m| m.step <= step);
    }

    fn push(&mut self, marker: Marker) {
        if self.list.len() >= MAX_MARKERS {
            self.list.remove(0);
        }
        self.list.push(marker);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_is_one_marker_and_the_list_is_bounded() {
        let mut markers = Markers::default();
        for (i, beta) in [1.5f32, 2.0, 3.0, 4.0].into_iter().enumerate() {
            markers.knob_changed(200 + i as u64 * 10, Knob::Beta, beta);
        }
        markers.knob_changed(240, Knob::L2, 0.01);
        assert_eq!(markers.list().iter().map(|m| (m.step, m.text.as_str())).collect::<Vec<_>>(), vec![(200, "β → 4"), (240, "λ₂ → 0.01")]);
        markers.knob_changed(1000, Knob::L2, 0.1);
        assert_eq!(markers.list().len(), 3, "a later change of the same knob is a new marker");
        markers.rewind(240);
        markers.event(240, "restored");
        assert_eq!(markers.list().last().map(|m| m.text.as_str()), Some("restored"));
        for step in 0..1000 {
            markers.event(step, "rebuilt");
        }
        assert_eq!(markers.list().len(), MAX_MARKERS);
    }
}
