//! Fault injection for the browser tests: the failures a lecture-long session can meet (a lost GPU
//! device, a run whose loss turns NaN, a crashed CPU worker), made to happen on demand so that the recovery paths run in
//! a real browser. Only in builds with the `fault-hooks` feature (the test command builds such a
//! copy of the site for the scenarios that need it, `scripts/build-site-with-fault-hooks`): the
//! shipped page exports nothing a visitor's console, or a page that frames it, could call to break
//! a run. There, Trunk's start script puts the exports on `window.wasmBindings`, so WebDriver calls
//! `wasmBindings.simulateDivergence()`, or (in `engine_worker`, whose worker holds the engine)
//! `simulateDeviceLoss()`, `simulateWorkerCrash()` and `simulateSilentWorker(ms)`.
//!
//! Without the feature the hook the driver calls does nothing.

#[cfg(feature = "fault-hooks")]
pub use hooks::take_divergence;

/// Which run's next step is to diverge (0 the main run, n the n-th branch), if any.
#[cfg(not(feature = "fault-hooks"))]
pub fn take_divergence() -> Option<usize> {
    None
}

#[cfg(feature = "fault-hooks")]
mod hooks {
    use std::cell::Cell;

    use wasm_bindgen::prelude::wasm_bindgen;

    thread_local! {
        /// The run (0 the main one, n the n-th branch) whose next step's loss is to be NaN.
        static DIVERGE_NEXT: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// Makes the next training step of run `run` (none or 0: the main run; n: the n-th branch)
    /// report a NaN loss, as a too-high learning rate does on a fresh model, so the
    /// pause-and-restore path can be driven at a chosen moment (a warmed-up model rarely diverges
    /// on cue: Adam's bounded steps ride out even the maximum learning rate).
    #[wasm_bindgen(js_name = simulateDivergence)]
    pub fn simulate_divergence(run: Option<u32>) {
        DIVERGE_NEXT.with(|next| next.set(Some(run.unwrap_or(0) as usize)));
    }

    /// The run a divergence was asked for since the last call.
    pub fn take_divergence() -> Option<usize> {
        DIVERGE_NEXT.with(|next| next.take())
    }
}
