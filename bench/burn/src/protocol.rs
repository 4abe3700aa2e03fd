//! The timing protocol, written once for both engines so they are measured the same way: the
//! same schedule as the app's `?bench=N` page and the TF.js harness (first step, 3 untimed
//! warm-up steps, then N timed steps with the loss read back every 10 steps and at the end).
//! A loss readback is what forces completion: neither engine's work is "done" before the host
//! holds a number computed from it.

use std::time::Instant;

/// Steps submitted per loss readback, as the app's page does at speed.
pub const STEPS_PER_READBACK: usize = 10;
/// Untimed steps after the first, so shader compilation, allocation and autotuning are behind us.
pub const WARMUP_STEPS: usize = 3;

/// An engine training the reference VAE.
pub trait Trainer {
    /// Trains `steps` more steps, then reads the loss back to the host, which waits for the
    /// device. The loss is the last readback's (see each engine for what it averages over).
    fn train_and_read(&mut self, steps: usize) -> anyhow::Result<f64>;
}

/// What the protocol measured.
#[derive(Debug)]
pub struct Timing {
    /// Seconds from `start` to the first step's loss on the host.
    pub first_step_s: f64,
    /// Seconds of the timed steps.
    pub timed_s: f64,
    pub steps: usize,
    pub first_loss: f64,
    pub last_loss: f64,
}

impl Timing {
    pub fn steps_per_s(&self) -> f64 {
        self.steps as f64 / self.timed_s.max(1e-12)
    }
}

/// Runs the protocol on `trainer`; `start` is when the process (or the device) started.
pub fn measure(trainer: &mut dyn Trainer, steps: usize, start: Instant) -> anyhow::Result<Timing> {
    let first_loss = trainer.train_and_read(1)?;
    let first_step_s = start.elapsed().as_secs_f64();
    trainer.train_and_read(WARMUP_STEPS)?;
    let timed = Instant::now();
    let mut done = 0;
    let mut last_loss = f64::NAN;
    while done < steps {
        let n = (steps - done).min(STEPS_PER_READBACK);
        last_loss = trainer.train_and_read(n)?;
        done += n;
    }
    let timed_s = timed.elapsed().as_secs_f64();
    anyhow::ensure!(first_loss.is_finite() && last_loss.is_finite(), "the loss diverged: first {first_loss}, last {last_loss}");
    Ok(Timing { first_step_s, timed_s, steps, first_loss, last_loss })
}

/// One engine's run: the protocol's timing plus what the engine says about itself.
pub struct EngineRun {
    /// The adapter's name, which the driver compares across engines.
    pub adapter: String,
    /// Name, backend, device type and driver.
    pub adapter_detail: String,
    /// Trainable parameters as the engine counts them.
    pub parameters: usize,
    pub timing: Timing,
    /// Engine-specific fields, merged into the JSON line.
    pub extra: serde_json::Value,
}

impl EngineRun {
    /// The JSON line the driver parses.
    pub fn to_json(&self, engine: &str) -> serde_json::Value {
        let t = &self.timing;
        let mut line = serde_json::json!({
            "engine": engine,
            "adapter": self.adapter,
            "adapter_detail": self.adapter_detail,
            "parameters": self.parameters,
            "batch": crate::reference::BATCH,
            "warmup_steps": WARMUP_STEPS,
            "steps": t.steps,
            "seconds": t.timed_s,
            "steps_per_s": t.steps_per_s(),
            "time_to_first_step_s": t.first_step_s,
            "first_loss": t.first_loss,
            "last_loss": t.last_loss,
        });
        if let (Some(line), Some(extra)) = (line.as_object_mut(), self.extra.as_object()) {
            line.extend(extra.clone());
        }
        line
    }
}
