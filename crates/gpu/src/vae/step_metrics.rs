//! Training metrics summed on the GPU over every step since the last read, so a chart point is
//! the mean over the steps it stands for (not one noisy minibatch), and a read resets the sums:
//! the step adds into `sums` and `kl_sums`, the host counts the steps it submits.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

use latent_core::model::StepMetrics;

use super::core::{KL, PENALTY, RECONSTRUCTION};
use crate::context::GpuContext;
use crate::error::GpuError;
use crate::readback::read_range;
use crate::tensor::GpuTensor;

/// Slots per model in [`MetricSums::sums`]: reconstruction, KL, L2 term, L1 term.
pub(super) const SLOTS: usize = 4;

/// Means of the sums and of the KL per dimension (every model's, one after another).
type Means = (Vec<f64>, Vec<f64>);

#[derive(Debug)]
pub(super) struct MetricSums {
    /// Reconstruction, KL, L2 term, L1 term: sums over the pending steps (a row per model).
    pub(super) sums: GpuTensor,
    /// KL per latent dimension, summed over the pending steps (a row per model).
    pub(super) kl_sums: GpuTensor,
    /// Steps submitted since the last read.
    pending: AtomicU32,
    /// The last read's means (sums, KL per dimension), returned again when no step ran since.
    last: Mutex<Option<Means>>,
}

impl MetricSums {
    pub(super) fn new(ctx: &GpuContext, name: &str, latent: usize) -> Result<Self, GpuError> {
        Self::of_models(ctx, name, latent, 1)
    }

    /// Sums for `models` models trained side by side, each its own row.
    pub(super) fn of_models(ctx: &GpuContext, name: &str, latent: usize, models: usize) -> Result<Self, GpuError> {
        Ok(Self {
            sums: ctx.zeros(&format!("{name}.metric_sums"), models, SLOTS)?,
            kl_sums: ctx.zeros(&format!("{name}.kl_per_dim_sums"), models, latent)?,
            pending: AtomicU32::new(0),
            last: Mutex::new(None),
        })
    }

    /// A fork's sums stand for the same steps: the pending count and the last read go across (the
    /// sums' buffers are copied with the rest of the state).
    pub(super) fn copy_host_state_to(&self, other: &MetricSums) {
        other.pending.store(self.pending.load(Ordering::Relaxed), Ordering::Relaxed);
        let last = self.last.lock().map(|m| m.clone()).unwrap_or(None);
        if let Ok(mut other_last) = other.last.lock() {
            *other_last = last;
        }
    }

    /// Counts `steps` more submitted steps.
    pub(super) fn note_steps(&self, steps: usize) {
        let steps = u32::try_from(steps).unwrap_or(u32::MAX);
        self.pending.fetch_add(steps, Ordering::Relaxed);
    }

    /// Means over the steps since the last read, then zeroes the sums. The copies are submitted
    /// before the zeroing writes and both before anything submitted later, so no step is lost or
    /// counted twice even when training goes on while the read is in flight.
    pub(super) async fn read(&self, ctx: &GpuContext) -> Result<StepMetrics, GpuError> {
        let (values, kl_per_dim) = self.means(ctx).await?;
        Ok(model_metrics(&values, kl_per_dim))
    }

    /// Every model's means, as [`read`](Self::read) reads one.
    pub(super) async fn read_models(&self, ctx: &GpuContext) -> Result<Vec<StepMetrics>, GpuError> {
        let (values, kl_per_dim) = self.means(ctx).await?;
        let latent = self.kl_sums.cols().max(1);
        Ok(values.chunks(SLOTS).zip(kl_per_dim.chunks(latent)).map(|(values, kl_per_dim)| model_metrics(values, kl_per_dim.to_vec())).collect())
    }

    /// The sums' means over the pending steps (and zeroes them), or the last means if none.
    async fn means(&self, ctx: &GpuContext) -> Result<Means, GpuError> {
        let steps = self.pending.swap(0, Ordering::Relaxed);
        if steps == 0 {
            let last = self.last.lock().map(|m| m.clone()).unwrap_or(None);
            return last.ok_or_else(|| GpuError::invalid("vae metrics", "no training step has run yet"));
        }
        let sums = read_range(ctx, self.sums.buffer(), self.sums.label(), self.sums.offset(), self.sums.bytes());
        let kl_sums = read_range(ctx, self.kl_sums.buffer(), self.kl_sums.label(), self.kl_sums.offset(), self.kl_sums.bytes());
        ctx.write_f32(&self.sums, &vec![0.0; self.sums.len()])?;
        ctx.write_f32(&self.kl_sums, &vec![0.0; self.kl_sums.len()])?;
        let per_step = 1.0 / f64::from(steps);
        let mean = |bytes: Vec<u8>| bytemuck::pod_collect_to_vec::<u8, f32>(&bytes).into_iter().map(|v| f64::from(v) * per_step).collect::<Vec<f64>>();
        let means = (mean(sums.await?), mean(kl_sums.await?));
        if let Ok(mut last) = self.last.lock() {
            *last = Some(means.clone());
        }
        Ok(means)
    }
}

/// One model's metrics from its slots of the sums' means and its KL per dimension.
fn model_metrics(values: &[f64], kl_per_dim: Vec<f64>) -> StepMetrics {
    let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
    StepMetrics { reconstruction: at(RECONSTRUCTION), kl: at(KL), kl_per_dim, l2_term: at(PENALTY), l1_term: at(PENALTY + 1) }
}
