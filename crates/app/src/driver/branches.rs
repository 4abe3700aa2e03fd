//! Forks: runs training beside the main one. The config's `forks` (the link's) names each branch's
//! knobs; the session's `Branches` keeps one run per entry, forked from the main run when the
//! entry appears (a Fork press, a link, a lesson's `set`), so it starts in exactly the main run's
//! state. The branches take the same steps as the main run in every frame (the frame budget
//! covers them all), and their pictures are read back with the main run's. A branch that diverges
//! or stops early ends alone; the others train on.

use latent_core::Knobs;
use latent_session::config::forks::{BRANCH_NAMES, MAX_FORKS};
use latent_session::run::{Progress, RunEvent, ViewRequest, Views};
use latent_session::SessionError;
use leptos::prelude::*;

use super::{Driver, GRID_IMAGES, POINTS_2D};
use crate::browser;
use crate::state::{Branch, Ended, Lab, Notice, Requests};

impl Driver {
    /// Fork, drop and make-main presses. A fork only adds an entry to the config's branches (the
    /// next [`sync_forks`](Self::sync_forks) copies the run); drop and make-main move the runs
    /// and the config's entries together, so nothing is rebuilt.
    pub(super) fn branch_commands(&mut self, requests: &Requests) {
        if requests.fork {
            if self.lab.config.with_untracked(|c| c.forks.len()) >= MAX_FORKS {
                let message = format!("{} runs side by side is the most the page compares: drop a branch to fork again.", MAX_FORKS + 1);
                self.lab.notice.set(Some(Notice::Info(message)));
            } else {
                self.lab.config.update(|c| c.forks.push(c.knobs));
            }
        }
        if let Some(place) = requests.make_main {
            self.make_main(place);
        }
        if let Some(place) = requests.drop_branch {
            self.drop_branch(place);
        }
    }

    /// Makes the branches match `forks` (the config's), where `previous` is what they were set
    /// from (`Branches::sync`), and the page's list of them with it: a branch forked anew takes
    /// the first free name and the main run's history so far, and the chart marks the fork.
    pub(super) fn sync_forks(&mut self, forks: &[Knobs], previous: &[Knobs]) -> Result<(), SessionError> {
        let Some(run) = self.run.as_ref() else { return Ok(()) };
        let added = self.forks.sync(run, self.engine.models(), forks, previous)?;
        let step = run.step();
        let history = run.history();
        let main_knobs = self.lab.config.with_untracked(|c| c.knobs);
        let lab = self.lab;
        lab.branches.update(|branches| {
            if forks.is_empty() {
                branches.clear();
                return;
            }
            if branches.is_empty() {
                branches.push(Branch { name: BRANCH_NAMES[0], knobs: main_knobs, history: Default::default(), ended: None });
            }
            branches.truncate(forks.len() + 1 - added);
            branches[0].knobs = main_knobs;
            for (branch, knobs) in branches.iter_mut().skip(1).zip(forks) {
                branch.knobs = *knobs;
            }
            for knobs in &forks[forks.len() - added..] {
                let name = BRANCH_NAMES.into_iter().find(|n| branches.iter().all(|b| b.name != *n)).unwrap_or('?');
                lab.markers.update(|m| m.event(step, format!("fork {name}")));
                branches.push(Branch { name, knobs: *knobs, history: history.clone(), ended: None });
            }
        });
        self.views_stale = true;
        Ok(())
    }

    /// The branch at `place` becomes the main run, and the main run a branch: their runs, knobs,
    /// histories and names trade places. A diverged branch cannot (it can only be dropped).
    fn make_main(&mut self, place: usize) -> bool {
        let lab = self.lab;
        let usable = place >= 1 && place <= self.forks.len() && lab.branches.with_untracked(|b| b.get(place).is_some_and(|b| b.ended != Some(Ended::Diverged)));
        let (Some(run), true) = (self.run.as_mut(), usable) else { return false };
        self.forks.swap_with_main(place - 1, run);
        let swap = |c: &mut latent_session::config::LabConfig| std::mem::swap(&mut c.knobs, &mut c.forks[place - 1]);
        lab.config.update(swap);
        if let Some(applied) = self.applied.as_mut() {
            swap(applied);
        }
        let old_history = lab.history.with_untracked(Clone::clone);
        lab.history.set(run.history().clone());
        lab.branches.update(|branches| {
            branches[0].history = old_history;
            branches.swap(0, place);
        });
        lab.step.set(run.step());
        lab.best_step.set(run.best().map(|(step, _)| step));
        lab.checkpoint_step.set(run.last_checkpoint().map(|c| c.step));
        self.views_stale = true;
        true
    }

    /// Stops and removes the branch at `place`; dropping the main run first makes main the next
    /// branch that has not diverged (a diverged run cannot lead: the controls would act on a dead
    /// model). The last branch left is the single run again.
    fn drop_branch(&mut self, place: usize) {
        if place == 0 {
            let heir = self.lab.branches.with_untracked(|b| b.iter().skip(1).position(|b| b.ended != Some(Ended::Diverged)));
            let Some(heir) = heir.map(|i| i + 1) else {
                let message = "Every other run has diverged, so this one stays the main run: drop the diverged ones, or reset.";
                self.lab.notice.set(Some(Notice::Info(message.to_string())));
                return;
            };
            // After the trade the old main run sits where its heir was.
            if self.make_main(heir) {
                self.drop_branch(heir);
            }
            return;
        }
        if place > self.forks.len() {
            return;
        }
        self.forks.remove(place - 1);
        self.lab.config.update(|c| {
            c.forks.remove(place - 1);
        });
        if let Some(applied) = self.applied.as_mut() {
            applied.forks.remove(place - 1);
        }
        self.lab.branches.update(|branches| {
            branches.remove(place);
            if branches.len() == 1 {
                branches.clear();
            }
        });
    }

    /// The branches' share of a frame: the steps the main run took (one, scored at once, for a
    /// single step). An ended branch waits.
    pub(super) async fn train_forks(&mut self, steps: usize, single: bool) -> Result<(), SessionError> {
        let going = going(self.lab);
        let reports = self.forks.advance(steps, single, |place| going.get(place).copied().unwrap_or(false), Some(&browser::pause)).await?;
        record_fork_steps(self.lab, reports);
        Ok(())
    }

    /// The branches' pictures, each with its branch's name (`None` without branches): as many
    /// samples as the main run's (so their sharpness compares like for like; the cards show a
    /// few), reconstructions, the KL per dimension; no latent views or histograms (the main run's
    /// large views have them).
    pub(super) async fn fork_views(&self) -> Result<Option<Vec<(char, Views)>>, SessionError> {
        if self.forks.is_empty() {
            return Ok(None);
        }
        let request = ViewRequest {
            images: GRID_IMAGES,
            points_2d: POINTS_2D / 2,
            scatter_points: None,
            manifold_side: 0,
            interpolations: Vec::new(),
            interpolation_steps: 0,
            histogram_bins: None,
        };
        let all = self.forks.views(&request).await?;
        let names: Vec<char> = self.lab.branches.with_untracked(|b| b.iter().skip(1).map(|b| b.name).collect());
        Ok(Some(names.into_iter().zip(all).collect()))
    }
}

/// Whether each branch (by its place among the forks) still trains: one that diverged or stopped
/// early waits.
pub(super) fn going(lab: Lab) -> Vec<bool> {
    lab.branches.with_untracked(|b| b.iter().skip(1).map(|b| b.ended.is_none()).collect())
}

/// Each branch's new point (by its place among the forks), and whether it ended there.
pub(super) fn record_fork_steps(lab: Lab, reports: Vec<(usize, Progress)>) {
    if reports.is_empty() {
        return;
    }
    lab.branches.update(|branches| {
        for (place, progress) in reports {
            let Some(branch) = branches.get_mut(place + 1) else { continue };
            branch.history.push(progress.point);
            branch.ended = match progress.event {
                Some(RunEvent::Diverged) => Some(Ended::Diverged),
                Some(RunEvent::EarlyStopped { .. }) => Some(Ended::StoppedEarly),
                None => branch.ended,
            };
        }
    });
}
