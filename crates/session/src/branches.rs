//! Runs trained beside a main run, each forked from it in its exact training state (weights,
//! optimizer moments, step, data order) and then going on with its own knobs: what the page's
//! Fork button makes and a lesson's `forks=` sets up. The config's `forks` (a `Knobs` per branch)
//! says what the branches are; [`Branches::sync`] makes the runs match it, so the page's driver
//! and the lesson rehearsal keep them the same way.

use latent_core::Knobs;

use crate::run::{Engine, GanPart, Pause, Progress, Run, ViewRequest, Views};
use crate::SessionError;

/// The runs beside a main run, in the order of the config's `forks`.
#[derive(Default)]
pub struct Branches {
    runs: Vec<Run>,
}

impl Branches {
    pub fn runs(&self) -> &[Run] {
        &self.runs
    }

    pub fn len(&self) -> usize {
        self.runs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Drops every branch (their buffers go with them).
    pub fn clear(&mut self) {
        self.runs.clear();
    }

    /// Makes the branches match `forks`, where `previous` is what they were set from: a new entry
    /// is forked from `main` (built on `engine`) and takes its knobs, a changed one takes its
    /// knobs, the ones past the end go. Returns how many were forked anew (the last ones).
    pub fn sync(&mut self, main: &Run, engine: Engine, forks: &[Knobs], previous: &[Knobs]) -> Result<usize, SessionError> {
        self.runs.truncate(forks.len());
        let mut added = 0;
        for (place, knobs) in forks.iter().enumerate() {
            match self.runs.get_mut(place) {
                Some(run) if previous.get(place) != Some(knobs) => run.set_knobs(knobs)?,
                Some(_) => {}
                None => {
                    let mut run = main.fork(engine)?;
                    run.set_knobs(knobs)?;
                    self.runs.push(run);
                    added += 1;
                }
            }
        }
        Ok(added)
    }

    /// The branch at `place` (from 0) and `main` trade places.
    pub fn swap_with_main(&mut self, place: usize, main: &mut Run) {
        if let Some(run) = self.runs.get_mut(place) {
            std::mem::swap(run, main);
        }
    }

    /// Stops and drops the branch at `place` (from 0).
    pub fn remove(&mut self, place: usize) {
        if place < self.runs.len() {
            self.runs.remove(place);
        }
    }

    /// Makes the next step of the branch at `place` (from 0) report a NaN loss, as
    /// [`Run::inject_divergence`] does (the page's fault hooks).
    pub fn inject_divergence(&mut self, place: usize) {
        if let Some(run) = self.runs.get_mut(place) {
            run.inject_divergence();
        }
    }

    /// `steps` more steps on each branch `going(place)` allows (one scored at once when `single`),
    /// with `pause()` between a step and each split's score ([`Run::advance_pausing`]); each
    /// one's progress, by place.
    pub async fn advance(
        &mut self,
        steps: usize,
        single: bool,
        going: impl Fn(usize) -> bool,
        pause: Option<Pause<'_>>,
    ) -> Result<Vec<(usize, Progress)>, SessionError> {
        let mut reports = Vec::new();
        for (place, run) in self.runs.iter_mut().enumerate().filter(|(place, _)| going(*place)) {
            if single {
                run.evaluate_next();
            }
            reports.push((place, run.advance_pausing(steps, pause).await?));
        }
        Ok(reports)
    }

    /// One step of one GAN network on each branch `going(place)` allows, as on the main run; each
    /// one's progress, by place.
    pub async fn step_part(&mut self, part: GanPart, going: impl Fn(usize) -> bool) -> Result<Vec<(usize, Progress)>, SessionError> {
        let mut reports = Vec::new();
        for (place, run) in self.runs.iter_mut().enumerate().filter(|(place, _)| going(*place)) {
            reports.push((place, run.step_part(part).await?));
        }
        Ok(reports)
    }

    /// Every branch's pictures at the sizes of `request`, by place.
    pub async fn views(&self, request: &ViewRequest) -> Result<Vec<Views>, SessionError> {
        let mut all = Vec::with_capacity(self.runs.len());
        for run in &self.runs {
            all.push(run.views(request).await?);
        }
        Ok(all)
    }
}
