//! Scoring a VAE on either split without touching training state: a pass per split, recorded once,
//! that replays batch by batch with its own chunk cursor and sums the negative ELBO's two terms in
//! a fixed order.

use latent_core::engine::{EvalMetrics, EvalSplit};
use latent_core::model::vae::EVAL_STREAM;
use latent_core::model::VaeArch;

use super::core::{reconstruction_rows, VaeCore, EVAL_COUNTER, KL, RECONSTRUCTION};
use super::dataset::GpuDataset;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, ReparamSpec};
use crate::tensor::GpuTensor;

/// What the read-only passes over held-out or training rows share (evaluations and the latent
/// views): the networks, the data and the scratch buffers of one batch. Passes never overlap, so
/// one set of scratch buffers serves them all.
pub(super) struct PassBuffers<'a> {
    pub(super) arch: &'a VaeArch,
    pub(super) encoder: &'a NetBuffers,
    pub(super) decoder: &'a NetBuffers,
    pub(super) dataset: &'a GpuDataset,
    pub(super) counters: &'a GpuTensor,
    pub(super) x: &'a GpuTensor,
    pub(super) z: &'a GpuTensor,
    pub(super) eps: &'a GpuTensor,
    pub(super) per_row: &'a GpuTensor,
    pub(super) kl_per_dim: &'a GpuTensor,
    pub(super) seed: u32,
}

/// A recorded evaluation pass over whole batches of one index list.
#[derive(Debug)]
pub(super) struct Evaluation {
    schedule: Schedule,
    chunks: usize,
    /// (reconstruction, KL) means, accumulated chunk by chunk.
    metrics: GpuTensor,
}

impl Evaluation {
    /// Scores `chunks` whole batches of `indices` (noise from the evaluation stream, no dropout).
    pub(super) fn record(k: &Kernels, name: &str, b: &PassBuffers<'_>, indices: &GpuTensor, chunks: usize) -> Result<Self, GpuError> {
        let (arch, enc, dec) = (b.arch, b.encoder, b.decoder);
        let batch = b.x.rows();
        let scale = 1.0 / (chunks * batch) as f32;
        let metrics = k.context().zeros(&format!("{name}_metrics"), 1, 2)?;
        let (h, out) = (enc.output()?, dec.output()?);
        let mut e = Schedule::new(format!("{name} evaluate"));
        e.push(b.dataset.gather(k, indices, b.counters, b.x, GatherSpec { index_base: 0, cursor_counter: Some(EVAL_COUNTER) })?);
        enc.forward(k, &arch.encoder, b.x, &mut e)?;
        e.push(k.reparam_forward(h, b.z, b.eps, b.counters, ReparamSpec { seed: b.seed, stream: EVAL_STREAM, counter_index: EVAL_COUNTER, sample: true })?);
        dec.forward(k, &arch.decoder, b.z, &mut e)?;
        e.push(reconstruction_rows(k, arch.spec.likelihood, out, b.x, b.per_row)?);
        e.push(k.sum_all(b.per_row, &metrics, RECONSTRUCTION, scale, true)?);
        e.push(k.kl_forward(h, b.kl_per_dim, scale)?);
        e.push(k.sum_all(b.kl_per_dim, &metrics, KL, 1.0, true)?);
        e.push(k.advance_counter(b.counters, EVAL_COUNTER, 1)?);
        Ok(Self { schedule: e, chunks, metrics })
    }
}

/// The two passes of a model: held-out rows and as many batches of training rows.
#[derive(Debug)]
pub(super) struct Evaluations {
    pub(super) test: Evaluation,
    pub(super) train: Evaluation,
}

impl VaeCore {
    /// Negative ELBO on `split` (whole batches), one sample of z per row.
    pub(crate) async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, GpuError> {
        let pass = match split {
            EvalSplit::Test => &self.evaluations.test,
            EvalSplit::Train => &self.evaluations.train,
        };
        let values = pass.schedule.sum_over_chunks(&self.ctx, pass.chunks, &pass.metrics, &self.counters, EVAL_COUNTER).await?;
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        Ok(EvalMetrics { reconstruction: at(RECONSTRUCTION), kl: at(KL), rows: pass.chunks * self.batch })
    }
}
