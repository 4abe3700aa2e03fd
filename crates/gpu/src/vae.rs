//! The VAE compiled for the GPU: every buffer made once for the model's shape and one recorded
//! training step that replays with no allocation, uniform write or readback.
//!
//! The step mirrors `latent_core::model::VaeCpu::train_step` dispatch for dispatch: gather the batch,
//! encoder, reparameterization, decoder, losses and their sums into a metrics buffer, backward
//! through decoder, reparameterization, KL and encoder, penalties, Adam, and finally the step counter.
//!
//! [`VaeCore`] holds the buffers and the evaluation, sample and reconstruction schedules, and records
//! the step in two halves (gradients, then update) so a model that adds terms to the VAE's
//! gradients (the VAE-GAN) records its own dispatches in between.

use latent_core::model::vae::{eval_chunks, prior_noise, DECODER_DROPOUT_STREAM, ENCODER_DROPOUT_STREAM, EVAL_STREAM, REPARAM_STREAM};
use latent_core::model::{Likelihood, StepMetrics, TrainKnobs, VaeArch};

use crate::context::GpuContext;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::layer_stream;
use crate::net::NetBuffers;
use crate::ops::{
    optimizer::{adam_params, sgd_params},
    set_dropout, DropoutSpec, GatherSpec, ParamRange, ReparamSpec,
};
use crate::params::MatmulParams;
use crate::params::{KlParams, PenaltyParams};
use crate::readback::read_f32;
use crate::tensor::{ElementKind, GpuTensor};

mod checkpoint;
mod step_metrics;
mod views;

pub use views::{LatentCodes, MAX_DECODE_ROWS};

/// Step counters: training steps, and the chunk cursor of an evaluation pass.
pub(crate) const TRAIN_COUNTER: u32 = 0;
const EVAL_COUNTER: u32 = 1;

/// Slots of the metrics buffer.
const RECONSTRUCTION: usize = 0;
const KL: usize = 1;
const PENALTY: usize = 2; // L2 at 2, L1 at 3

/// A dataset on the GPU and the order its rows are visited in.
#[derive(Debug)]
pub struct GpuDataset {
    /// rows × data_dim: u8 pixels (packed) or f32 points.
    pub data: GpuTensor,
    /// Row indices visited in order, one batch per step, wrapping around.
    pub indices: GpuTensor,
    /// Held-out rows for evaluation, reconstructions and latent views (at least one batch).
    pub test_indices: GpuTensor,
}

impl GpuDataset {
    /// Uploads byte rows (pixels, `cols` per row) with the training and held-out row lists.
    pub fn pixels(ctx: &GpuContext, cols: usize, bytes: &[u8], train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let rows = whole_rows("pixels", bytes.len(), cols)?;
        Self::with_indices(ctx, ctx.upload_u8("dataset", rows, cols, bytes)?, train, test)
    }

    /// Uploads f32 rows (2D points, `cols` per row) with the training and held-out row lists.
    pub fn points(ctx: &GpuContext, cols: usize, points: &[f32], train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let rows = whole_rows("points", points.len(), cols)?;
        Self::with_indices(ctx, ctx.upload_f32("dataset", rows, cols, points)?, train, test)
    }

    fn with_indices(ctx: &GpuContext, data: GpuTensor, train: &[u32], test: &[u32]) -> Result<Self, GpuError> {
        let list = |label: &str, rows: &[u32]| ctx.upload_u32(label, 1, rows.len(), rows);
        Ok(Self { data, indices: list("train_indices", train)?, test_indices: list("test_indices", test)? })
    }
}

fn whole_rows(what: &'static str, len: usize, cols: usize) -> Result<usize, GpuError> {
    if cols == 0 || !len.is_multiple_of(cols) {
        return Err(GpuError::invalid("dataset", format!("{len} {what} values are not whole rows of {cols}")));
    }
    Ok(len / cols)
}

/// Gathers a batch of rows picked by `indices` (bytes are scaled to [0, 1]).
pub(crate) fn gather_rows(
    k: &Kernels,
    dataset: &GpuDataset,
    indices: &GpuTensor,
    counters: &GpuTensor,
    out: &GpuTensor,
    spec: GatherSpec,
) -> Result<crate::Dispatch, GpuError> {
    match dataset.data.kind() {
        ElementKind::U8Packed => k.gather_u8(&dataset.data, indices, counters, out, spec),
        _ => k.gather_f32(&dataset.data, indices, counters, out, spec),
    }
}

/// Per-sample negative log-likelihood of `x` under the decoder's output.
fn reconstruction_rows(k: &Kernels, likelihood: Likelihood, out: &GpuTensor, x: &GpuTensor, per_row: &GpuTensor) -> Result<crate::Dispatch, GpuError> {
    match likelihood {
        Likelihood::Bernoulli => k.bce_forward(out, x, per_row),
        Likelihood::Gaussian { inv_var } => k.gaussian_forward(out, x, per_row, inv_var),
    }
}

/// The decoder output as data: σ(logits) for pixels, the mean itself for points.
pub(crate) fn mean_of_likelihood(k: &Kernels, likelihood: Likelihood, out: &GpuTensor, dest: &GpuTensor) -> Result<crate::Dispatch, GpuError> {
    k.activation_forward(out, dest, likelihood.mean_activation(), false)
}

/// Which rows an evaluation pass scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalSplit {
    /// The held-out rows (whole batches of them).
    Test,
    /// The training rows, as many whole batches as the held-out pass uses (at least one): the
    /// "train" line of a train-vs-test chart, scored exactly like the "test" line (no dropout,
    /// the evaluation noise stream), so the gap between them is overfitting and nothing else.
    Train,
}

/// Negative ELBO of the current parameters on one split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalMetrics {
    pub reconstruction: f64,
    pub kl: f64,
    /// Rows evaluated (whole batches of the held-out set).
    pub rows: usize,
}

impl EvalMetrics {
    /// Negative ELBO (β = 1), in nats per sample.
    pub fn negative_elbo(&self) -> f64 {
        self.reconstruction + self.kl
    }
}

/// A recorded evaluation pass over whole batches of one index list.
#[derive(Debug)]
struct Evaluation {
    schedule: Schedule,
    chunks: usize,
    /// (reconstruction, KL) means, accumulated chunk by chunk.
    metrics: GpuTensor,
}

/// The buffers one evaluation pass reads and writes (shared by every pass: passes never overlap).
struct EvalBuffers<'a> {
    counters: &'a GpuTensor,
    x: &'a GpuTensor,
    z: &'a GpuTensor,
    eps: &'a GpuTensor,
    per_row: &'a GpuTensor,
    kl_per_dim: &'a GpuTensor,
}

impl Evaluation {
    /// Scores `chunks` whole batches of `indices` (noise from the evaluation stream, no dropout).
    #[allow(clippy::too_many_arguments)]
    fn record(
        k: &Kernels,
        name: &str,
        arch: &VaeArch,
        nets: [&NetBuffers; 2],
        dataset: &GpuDataset,
        indices: &GpuTensor,
        chunks: usize,
        b: &EvalBuffers<'_>,
        seed: u32,
    ) -> Result<Self, GpuError> {
        let [enc, dec] = nets;
        let batch = b.x.rows();
        let scale = 1.0 / (chunks * batch) as f32;
        let metrics = k.context().zeros(&format!("{name}_metrics"), 1, 2)?;
        let (h, out) = (enc.output()?, dec.output()?);
        let mut e = Schedule::new(format!("{name} evaluate"));
        e.push(gather_rows(k, dataset, indices, b.counters, b.x, GatherSpec { index_base: 0, cursor_counter: Some(EVAL_COUNTER) })?);
        enc.forward(k, &arch.encoder, b.x, &mut e)?;
        e.push(k.reparam_forward(h, b.z, b.eps, b.counters, ReparamSpec { seed, stream: EVAL_STREAM, counter_index: EVAL_COUNTER, sample: true })?);
        dec.forward(k, &arch.decoder, b.z, &mut e)?;
        e.push(reconstruction_rows(k, arch.spec.likelihood, out, b.x, b.per_row)?);
        e.push(k.sum_all(b.per_row, &metrics, RECONSTRUCTION, scale, true)?);
        e.push(k.kl_forward(h, b.kl_per_dim, scale)?);
        e.push(k.sum_all(b.kl_per_dim, &metrics, KL, 1.0, true)?);
        e.push(k.advance_counter(b.counters, EVAL_COUNTER, 1)?);
        Ok(Self { schedule: e, chunks, metrics })
    }
}

/// Indices of the dispatches whose uniforms carry knobs.
#[derive(Debug, Default)]
pub(crate) struct KnobDispatches {
    /// Matmuls with fused dropout: (schedule index, the spec they were built with).
    dropout: Vec<(usize, DropoutSpec)>,
    kl_backward: usize,
    penalty_gradient: usize,
    penalty_value: usize,
    adam: usize,
    sgd: usize,
}

/// A VAE's buffers on the GPU and every schedule but the training step, which models record with
/// [`push_gradients`](Self::push_gradients) and [`push_update`](Self::push_update).
#[derive(Debug)]
pub(crate) struct VaeCore {
    pub(crate) arch: VaeArch,
    pub(crate) ctx: GpuContext,
    pub(crate) batch: usize,
    seed: u32,
    pub(crate) params: GpuTensor,
    pub(crate) grads: GpuTensor,
    m: GpuTensor,
    v: GpuTensor,
    /// SGD's momentum buffer.
    velocity: GpuTensor,
    mask: GpuTensor,
    pub(crate) counters: GpuTensor,
    /// This step's KL per latent dimension (scratch: the step adds it into `metrics.kl_sums`).
    kl_per_dim: GpuTensor,
    metrics: step_metrics::MetricSums,
    /// The training batch (gathered by the step).
    pub(crate) x: GpuTensor,
    z: GpuTensor,
    eps: GpuTensor,
    dz: GpuTensor,
    per_row: GpuTensor,
    pub(crate) enc: NetBuffers,
    pub(crate) dec: NetBuffers,
    eval_test: Evaluation,
    eval_train: Evaluation,
    samples: Schedule,
    samples_out: GpuTensor,
    reconstruct: Schedule,
    reconstruct_out: GpuTensor,
    views: views::ViewBuffers,
    checkpoint: checkpoint::Checkpoint,
    pub(crate) dataset: GpuDataset,
    // Held for the schedules' bind groups.
    _buffers: Vec<GpuTensor>,
}

impl VaeCore {
    /// Allocates everything for `arch` at `batch` (`name` labels the buffers) and records the
    /// evaluation, sample and reconstruction schedules.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(kernels: &Kernels, name: &str, arch: VaeArch, init: &[f32], dataset: GpuDataset, batch: usize, seed: u32) -> Result<Self, GpuError> {
        let ctx = kernels.context().clone();
        let (latent, dim) = (arch.spec.latent, arch.spec.data_dim);
        if batch == 0 || batch > 4096 {
            return Err(GpuError::invalid("vae", format!("batch size {batch} is outside 1..=4096")));
        }
        if dataset.data.cols() != dim {
            return Err(GpuError::shape("vae dataset", format!("rows of {dim} values"), dataset.data.describe()));
        }
        if dataset.test_indices.len() < batch {
            return Err(GpuError::invalid("vae", format!("{} held-out rows are fewer than one batch of {batch}", dataset.test_indices.len())));
        }
        let len = arch.layout.len;
        let label = |what: &str| format!("{name}.{what}");
        let params = ctx.upload_f32(&label("params"), 1, len, init)?;
        let grads = ctx.zeros(&label("grads"), 1, len)?;
        let (m, v) = (ctx.zeros(&label("adam_m"), 1, len)?, ctx.zeros(&label("adam_v"), 1, len)?);
        let velocity = ctx.zeros(&label("sgd_velocity"), 1, len)?;
        let mask = ctx.upload_f32(&label("penalty_mask"), 1, len, &arch.layout.penalty_mask::<f32>())?;
        let counters = ctx.upload_u32(&label("counters"), 1, 2, &[0, 0])?;
        let x = ctx.zeros(&label("batch"), batch, dim)?;
        let (z, eps, dz) = (ctx.zeros(&label("z"), batch, latent)?, ctx.zeros(&label("eps"), batch, latent)?, ctx.zeros(&label("dz"), batch, latent)?);
        let per_row = ctx.zeros(&label("loss_per_sample"), batch, 1)?;
        let kl_per_dim = ctx.zeros(&label("kl_per_dim"), 1, latent)?;
        let metrics = step_metrics::MetricSums::new(&ctx, name, latent)?;
        let enc = NetBuffers::new(&ctx, &arch.layout, &arch.encoder, "encoder", batch, &params, &grads)?;
        let dec = NetBuffers::new(&ctx, &arch.layout, &arch.decoder, "decoder", batch, &params, &grads)?;
        let k = kernels;
        let (h, out) = (enc.output()?, dec.output()?);

        // Held-out and training negative ELBO: whole batches, noise from the evaluation stream.
        let (eval_chunks, train_chunks) = eval_chunks(dataset.indices.len(), dataset.test_indices.len(), batch);
        let eval_kl = ctx.zeros(&label("eval_kl_per_dim"), 1, latent)?;
        let eval_buffers = EvalBuffers { counters: &counters, x: &x, z: &z, eps: &eps, per_row: &per_row, kl_per_dim: &eval_kl };
        let eval_test = Evaluation::record(k, &label("test"), &arch, [&enc, &dec], &dataset, &dataset.test_indices, eval_chunks, &eval_buffers, seed)?;
        let eval_train = Evaluation::record(k, &label("train"), &arch, [&enc, &dec], &dataset, &dataset.indices, train_chunks, &eval_buffers, seed)?;
        let views = views::ViewBuffers::new(k, &label("views"), &arch, [&enc, &dec], &dataset, &counters, &x, eval_chunks)?;
        let checkpoint = checkpoint::Checkpoint::new(&ctx, &label("best_params"), &params)?;

        // Samples: the decoder on fixed prior noise, so a change of knobs shows as a change of images.
        let prior = prior_noise::<f32>(seed, batch, latent);
        let z_prior = ctx.upload_f32(&label("z_prior"), batch, latent, &prior.data)?;
        let samples_out = ctx.zeros(&label("samples"), batch, dim)?;
        let mut sm = Schedule::new(format!("{name} samples"));
        dec.forward(k, &arch.decoder, &z_prior, &mut sm)?;
        sm.push(mean_of_likelihood(k, arch.spec.likelihood, out, &samples_out)?);

        // Reconstructions of the first held-out batch through z = μ.
        let reconstruct_out = ctx.zeros(&label("reconstructions"), batch, dim)?;
        let mut r = Schedule::new(format!("{name} reconstruct"));
        r.push(gather_rows(k, &dataset, &dataset.test_indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: None })?);
        enc.forward(k, &arch.encoder, &x, &mut r)?;
        r.push(k.reparam_forward(h, &z, &eps, &counters, ReparamSpec { seed, stream: EVAL_STREAM, counter_index: EVAL_COUNTER, sample: false })?);
        dec.forward(k, &arch.decoder, &z, &mut r)?;
        r.push(mean_of_likelihood(k, arch.spec.likelihood, out, &reconstruct_out)?);

        Ok(Self {
            arch,
            ctx,
            batch,
            seed,
            params,
            grads,
            m,
            v,
            velocity,
            mask,
            counters,
            metrics,
            kl_per_dim,
            x,
            z,
            eps,
            dz,
            per_row,
            enc,
            dec,
            eval_test,
            eval_train,
            samples: sm,
            samples_out,
            reconstruct: r,
            reconstruct_out,
            views,
            checkpoint,
            dataset,
            _buffers: vec![eval_kl, z_prior],
        })
    }

    /// The first half of a training step: gather the batch, forward, losses and their sums,
    /// backward, penalty gradient. Leaves ∂loss/∂params in the gradient buffer.
    pub(crate) fn push_gradients(&self, k: &Kernels, s: &mut Schedule, knobs: TrainKnobs) -> Result<KnobDispatches, GpuError> {
        let (arch, dataset, counters, x) = (&self.arch, &self.dataset, &self.counters, &self.x);
        let (enc, dec, z, eps, dz, per_row, metrics) = (&self.enc, &self.dec, &self.z, &self.eps, &self.dz, &self.per_row, &self.metrics);
        let scale = 1.0 / self.batch as f32;
        let gather = GatherSpec { index_base: 0, cursor_counter: Some(TRAIN_COUNTER) };
        s.push(gather_rows(k, dataset, &dataset.indices, counters, x, gather)?);
        let dropout_at = |stream| DropoutSpec { p: knobs.dropout, seed: self.seed, stream, counter_index: TRAIN_COUNTER };
        let (enc_drop, dec_drop) = (dropout_at(ENCODER_DROPOUT_STREAM), dropout_at(DECODER_DROPOUT_STREAM));
        let mut dropout_dispatches = Vec::new();
        let mut remember = |indices: Vec<usize>, base: DropoutSpec, forward: bool, layers: usize| {
            // Forward carries layers 0.., backward carries them in reverse from the top hidden layer.
            for (n, index) in indices.into_iter().enumerate() {
                let layer = if forward { n } else { layers.saturating_sub(2).saturating_sub(n) };
                dropout_dispatches.push((index, layer_stream(base, layer)));
            }
        };
        remember(enc.forward_with_dropout(k, &arch.encoder, x, Some((enc_drop, counters)), s)?, enc_drop, true, arch.encoder.layers.len());
        let h = enc.output()?;
        let dh = enc.output_grad()?;
        s.push(k.reparam_forward(h, z, eps, counters, ReparamSpec { seed: self.seed, stream: REPARAM_STREAM, counter_index: TRAIN_COUNTER, sample: true })?);
        remember(dec.forward_with_dropout(k, &arch.decoder, z, Some((dec_drop, counters)), s)?, dec_drop, true, arch.decoder.layers.len());
        let out = dec.output()?;
        let d_out = dec.output_grad()?;
        s.push(reconstruction_rows(k, arch.spec.likelihood, out, x, per_row)?);
        s.push(k.sum_all(per_row, &metrics.sums, RECONSTRUCTION, scale, true)?);
        s.push(match arch.spec.likelihood {
            Likelihood::Bernoulli => k.bce_backward(out, x, d_out, scale, false)?,
            Likelihood::Gaussian { inv_var } => k.gaussian_backward(out, x, d_out, inv_var, scale, false)?,
        });
        s.push(k.kl_forward(h, &self.kl_per_dim, scale)?);
        s.push(k.sum_all(&self.kl_per_dim, &metrics.sums, KL, 1.0, true)?);
        s.push(k.column_sums(&self.kl_per_dim, &metrics.kl_sums, 1.0, true)?);
        let all = ParamRange::all(&self.params);
        let mut knob_dispatches = KnobDispatches { penalty_value: s.len(), ..KnobDispatches::default() };
        s.push(k.penalty_value(&self.params, &self.mask, &metrics.sums, PENALTY, all, knobs.l1, knobs.l2, true)?);
        remember(dec.backward_with_dropout(k, &arch.decoder, z, Some(dz), (dec_drop, counters), s)?, dec_drop, false, arch.decoder.layers.len());
        s.push(k.reparam_backward(h, eps, dz, dh, false)?);
        knob_dispatches.kl_backward = s.len();
        s.push(k.kl_backward(h, dh, knobs.beta * scale, true)?);
        remember(enc.backward_with_dropout(k, &arch.encoder, x, None, (enc_drop, counters), s)?, enc_drop, false, arch.encoder.layers.len());
        knob_dispatches.dropout = dropout_dispatches;
        knob_dispatches.penalty_gradient = s.len();
        s.push(k.penalty_gradient(&self.params, &self.mask, &self.grads, all, knobs.l1, knobs.l2)?);
        Ok(knob_dispatches)
    }

    /// The second half of a training step: Adam and SGD with the gradient buffer (one of them at
    /// learning rate 0, see [`TrainKnobs::updates`]), then the step counter.
    pub(crate) fn push_update(&self, k: &Kernels, s: &mut Schedule, knobs: TrainKnobs, knob_dispatches: &mut KnobDispatches) -> Result<(), GpuError> {
        let (adam, sgd) = knobs.updates();
        let all = ParamRange::all(&self.params);
        knob_dispatches.adam = s.len();
        s.push(k.adam(&self.params, &self.grads, &self.m, &self.v, &self.counters, TRAIN_COUNTER, all, adam)?);
        knob_dispatches.sgd = s.len();
        s.push(k.sgd(&self.params, &self.grads, &self.velocity, all, sgd.lr, sgd.momentum)?);
        s.push(k.advance_counter(&self.counters, TRAIN_COUNTER, 1)?);
        Ok(())
    }

    /// Writes β, L1, L2, dropout and the optimizers' settings into the dispatches of `step` that
    /// carry them.
    pub(crate) fn set_knobs(&self, step: &Schedule, knob_dispatches: &KnobDispatches, knobs: TrainKnobs) -> Result<(), GpuError> {
        let d = step.dispatches();
        for (index, spec) in &knob_dispatches.dropout {
            let dispatch = &d[*index];
            let mut params: MatmulParams = dispatch.params().ok_or_else(|| GpuError::invalid("vae", "a dropout dispatch lost its parameters"))?;
            set_dropout(&mut params, &DropoutSpec { p: knobs.dropout, ..*spec })?;
            dispatch.update_params(&self.ctx, &params)?;
        }
        let scale = 1.0 / self.batch as f32;
        let latent = u32::try_from(self.arch.spec.latent).unwrap_or(u32::MAX);
        let rows = u32::try_from(self.batch).unwrap_or(u32::MAX);
        d[knob_dispatches.kl_backward]
            .update_params(&self.ctx, &KlParams { rows, latent, accumulate: 1, _pad0: 0, scale: knobs.beta * scale, _pad1: [0; 3] })?;
        let len = u32::try_from(self.arch.layout.len).unwrap_or(u32::MAX);
        let penalty = |out_index, accumulate| PenaltyParams { offset: 0, len, out_index, accumulate, l1: knobs.l1, l2: knobs.l2, _pad1: [0; 2] };
        d[knob_dispatches.penalty_gradient].update_params(&self.ctx, &penalty(0, 0))?;
        d[knob_dispatches.penalty_value].update_params(&self.ctx, &penalty(PENALTY as u32, 1))?;
        let (adam, sgd) = knobs.updates();
        let all = ParamRange::all(&self.params);
        d[knob_dispatches.adam].update_params(&self.ctx, &adam_params(all, TRAIN_COUNTER, adam)?)?;
        d[knob_dispatches.sgd].update_params(&self.ctx, &sgd_params(all, sgd.lr, sgd.momentum)?)
    }

    /// Training metrics, each the mean over the steps since the last call (asynchronous readback;
    /// with no step since, the last result again). Fails if the GPU reported an error since the
    /// last call, so a broken submission never reads as a result.
    pub(crate) async fn metrics(&self, context: &str) -> Result<StepMetrics, GpuError> {
        self.ctx.check_no_uncaptured_errors(context)?;
        self.metrics.read(&self.ctx).await
    }

    /// Counts steps a model submitted, for the means of [`metrics`](Self::metrics).
    pub(crate) fn note_steps(&self, steps: usize) {
        self.metrics.note_steps(steps);
    }

    /// Negative ELBO on the held-out rows (whole batches), one sample of z per row.
    pub(crate) async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, GpuError> {
        let pass = match split {
            EvalSplit::Test => &self.eval_test,
            EvalSplit::Train => &self.eval_train,
        };
        let values = pass.schedule.sum_over_chunks(&self.ctx, pass.chunks, &pass.metrics, &self.counters, EVAL_COUNTER).await?;
        let at = |i: usize| values.get(i).copied().unwrap_or(f64::NAN);
        Ok(EvalMetrics { reconstruction: at(RECONSTRUCTION), kl: at(KL), rows: pass.chunks * self.batch })
    }

    /// One decoded output per row of the fixed prior noise (batch × data_dim; pixels in [0, 1]).
    pub(crate) async fn samples(&self) -> Result<Vec<f32>, GpuError> {
        self.samples.submit(&self.ctx, 1)?;
        read_f32(&self.ctx, &self.samples_out).await
    }

    /// The first held-out batch decoded through z = μ (batch × data_dim).
    pub(crate) async fn reconstructions(&self) -> Result<Vec<f32>, GpuError> {
        self.reconstruct.submit(&self.ctx, 1)?;
        read_f32(&self.ctx, &self.reconstruct_out).await
    }

    /// VAE steps completed, as the GPU counts them.
    pub(crate) async fn steps_done(&self) -> Result<u32, GpuError> {
        let counts = crate::readback::read_u32(&self.ctx, &self.counters).await?;
        counts.first().copied().ok_or_else(|| GpuError::invalid("vae", "step counter is empty"))
    }
}

/// A VAE living on the GPU.
#[derive(Debug)]
pub struct GpuVae {
    core: VaeCore,
    step: Schedule,
    knob_dispatches: KnobDispatches,
}

impl GpuVae {
    /// Allocates everything for `arch` at `batch` and records the training step.
    pub fn new(kernels: &Kernels, arch: VaeArch, init: &[f32], dataset: GpuDataset, batch: usize, seed: u32, knobs: TrainKnobs) -> Result<Self, GpuError> {
        let core = VaeCore::new(kernels, "vae", arch, init, dataset, batch, seed)?;
        let mut step = Schedule::new("vae step");
        let mut knob_dispatches = core.push_gradients(kernels, &mut step, knobs)?;
        core.push_update(kernels, &mut step, knobs, &mut knob_dispatches)?;
        Ok(Self { core, step, knob_dispatches })
    }

    pub fn arch(&self) -> &VaeArch {
        &self.core.arch
    }

    pub fn batch(&self) -> usize {
        self.core.batch
    }

    /// The recorded training step (its length is the dispatch count per step).
    pub fn step_schedule(&self) -> &Schedule {
        &self.step
    }

    /// Submits `steps` training steps as one command buffer; returns without waiting.
    pub fn train(&self, steps: usize) -> Result<(), GpuError> {
        self.step.submit(&self.core.ctx, steps)?;
        self.core.note_steps(steps);
        Ok(())
    }

    /// Changes β, L1, L2, dropout and the optimizer (Adam or SGD, and their settings) for the
    /// following steps (small uniform writes).
    pub fn set_knobs(&self, knobs: TrainKnobs) -> Result<(), GpuError> {
        self.core.set_knobs(&self.step, &self.knob_dispatches, knobs)
    }

    /// Reconstruction, KL (total and per dimension) and penalty terms, each the mean over the
    /// steps trained since the previous call (summed on the GPU; read back asynchronously). Fails
    /// if the GPU reported an error since the last call, so a broken step never reads as a result.
    pub async fn metrics(&self) -> Result<StepMetrics, GpuError> {
        self.core.metrics("vae step").await
    }

    /// Negative ELBO on the held-out rows (whole batches), one sample of z per row.
    pub async fn evaluate(&self) -> Result<EvalMetrics, GpuError> {
        self.core.evaluate(EvalSplit::Test).await
    }

    /// Negative ELBO on `split`, scored the same way for both splits (see [`EvalSplit`]).
    pub async fn evaluate_split(&self, split: EvalSplit) -> Result<EvalMetrics, GpuError> {
        self.core.evaluate(split).await
    }

    /// The posterior (μ, logσ²) of every held-out row in whole batches (see [`LatentCodes`]).
    pub async fn latent_codes(&self) -> Result<LatentCodes, GpuError> {
        self.core.latent_codes().await
    }

    /// The decoder's output as data for each row of `z` (see [`MAX_DECODE_ROWS`]).
    pub async fn decode(&self, z: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.core.decode(z).await
    }

    /// Keeps a copy of the current parameters on the GPU (early stopping saw a new best).
    pub fn save_best(&self) -> Result<(), GpuError> {
        self.core.save_best()
    }

    /// Puts the parameters of the last [`save_best`](Self::save_best) back; fails if none was made.
    pub fn restore_best(&self) -> Result<(), GpuError> {
        self.core.restore_best()
    }

    /// One decoded output per row of the fixed prior noise (batch × data_dim; pixels in [0, 1]).
    pub async fn samples(&self) -> Result<Vec<f32>, GpuError> {
        self.core.samples().await
    }

    /// The first held-out batch decoded through z = μ (batch × data_dim).
    pub async fn reconstructions(&self) -> Result<Vec<f32>, GpuError> {
        self.core.reconstructions().await
    }

    /// The current parameters (flat, in the layout's order).
    pub async fn parameters(&self) -> Result<Vec<f32>, GpuError> {
        read_f32(&self.core.ctx, &self.core.params).await
    }

    /// Steps completed, as the GPU counts them.
    pub async fn steps_done(&self) -> Result<u32, GpuError> {
        self.core.steps_done().await
    }
}
