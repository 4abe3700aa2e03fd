//! Redrawing a view in a task of its own. A fresh set of views (`Lab::views`) redraws the latent
//! scatter, the digit pictures and the weight histograms; run by the effects that read the views,
//! they were one task of 100-130 ms at Lighthouse's 4× slowdown, which blocks input while a run
//! trains (`scripts/profile-load --by-component`; docs/BENCHMARKS.md). Each of those views redraws
//! instead when a [`redraw_trigger`] fires, a task after its sources change.

use std::cell::Cell;
use std::rc::Rc;

use leptos::prelude::*;

use crate::browser;

/// A trigger that fires in a task of its own after `sources` (a closure that reads the signals
/// to follow) change: a view that tracks it, and reads those signals untracked, redraws then.
/// Changes before it fires fire it once.
pub fn redraw_trigger(sources: impl Fn() + 'static) -> Trigger {
    let trigger = Trigger::new();
    let pending = Rc::new(Cell::new(false));
    Effect::new(move |first: Option<()>| {
        sources();
        // The views draw as they mount; the trigger is for what changes after.
        if first.is_some() && !pending.replace(true) {
            let pending = Rc::clone(&pending);
            leptos::task::spawn_local(async move {
                browser::yield_to_page().await;
                pending.set(false);
                // A view unmounted meanwhile disposed its trigger; notifying it does nothing.
                trigger.notify();
            });
        }
    });
    trigger
}
