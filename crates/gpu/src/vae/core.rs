//! A VAE's buffers on the GPU, made once for its shape, and the two halves of its training step.
//!
//! The step mirrors `latent_core::model::VaeCpu::train_step` dispatch for dispatch: gather the batch,
//! encoder, reparameterization, decoder, losses and their sums into a metrics buffer, backward
//! through decoder, reparameterization, KL and encoder, penalties; then Adam and SGD, and finally
//! the step counter. It is recorded in two halves (gradients, then update) so that a model adding
//! terms to the VAE's gradients (the VAE-GAN) records its own dispatches in between.

use latent_core::model::vae::{eval_chunks, DECODER_DROPOUT_STREAM, ENCODER_DROPOUT_STREAM, EVAL_STREAM, REPARAM_STREAM};
use latent_core::model::{Likelihood, StepMetrics, VaeArch};
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};

use super::checkpoint::Checkpoint;
use super::dataset::GpuDataset;
use super::evaluation::{Evaluation, Evaluations, PassBuffers};
use super::knobs::{GradientKnobs, UpdateKnobs};
use super::step_metrics::MetricSums;
use super::views::ViewBuffers;
use crate::context::GpuContext;
use crate::dispatch::{Dispatch, Schedule};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{AdamBuffers, DropoutSpec, GatherSpec, ParamRange, PenaltySlots, PenaltySpec, ReparamSpec};
use crate::readback::read_f32;
use crate::tensor::GpuTensor;

/// Step counters: training steps, and the chunk cursor of a read-only pass.
pub(crate) const TRAIN_COUNTER: u32 = 0;
pub(super) const EVAL_COUNTER: u32 = 1;

/// Slots of the metrics buffers.
pub(super) const RECONSTRUCTION: usize = 0;
pub(super) const KL: usize = 1;
/// L2 at 2, L1 at 3.
pub(super) const PENALTY: usize = 2;

/// Per-sample negative log-likelihood of `x` under the decoder's output.
pub(super) fn reconstruction_rows(k: &Kernels, likelihood: Likelihood, out: &GpuTensor, x: &GpuTensor, per_row: &GpuTensor) -> Result<Dispatch, GpuError> {
    match likelihood {
        Likelihood::Bernoulli => k.bce_forward(out, x, per_row),
        Likelihood::Gaussian { inv_var } => k.gaussian_forward(out, x, per_row, inv_var),
    }
}

/// The decoder output as data: σ(logits) for pixels, the mean itself for points.
pub(crate) fn mean_of_likelihood(k: &Kernels, likelihood: Likelihood, out: &GpuTensor, dest: &GpuTensor) -> Result<Dispatch, GpuError> {
    k.activation_forward(out, dest, likelihood.mean_activation(), false)
}

/// What a VAE's buffers are for: training here, or only scoring and drawing the views of
/// parameters trained elsewhere (a sweep's members, which its batched step trains).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    Train,
    Score,
}

/// The buffers only training needs: the gradients, Adam's and SGD's moments, the penalty mask,
/// restore-best's copy and the step's scratch. A VAE that trains elsewhere holds none of them, nor
/// its networks' pre-activation gradients: six parameter-sized buffers fewer.
#[derive(Debug)]
pub(super) struct TrainingBuffers {
    grads: GpuTensor,
    m: GpuTensor,
    v: GpuTensor,
    /// SGD's momentum buffer.
    velocity: GpuTensor,
    mask: GpuTensor,
    /// This step's KL per latent dimension (scratch: the step adds it into `metrics.kl_sums`).
    kl_per_dim: GpuTensor,
    dz: GpuTensor,
    /// Early stopping's best parameters (a sweep's members never stop early).
    pub(super) checkpoint: Checkpoint,
}

/// A VAE's buffers on the GPU and every schedule but the training step, which models record with
/// [`push_gradients`](Self::push_gradients) and [`push_update`](Self::push_update).
#[derive(Debug)]
pub(crate) struct VaeCore {
    pub(crate) arch: VaeArch,
    pub(crate) ctx: GpuContext,
    pub(crate) batch: usize,
    pub(crate) seed: u32,
    pub(crate) params: GpuTensor,
    /// `None` where the parameters train elsewhere ([`Purpose::Score`]).
    training: Option<TrainingBuffers>,
    pub(crate) counters: GpuTensor,
    metrics: MetricSums,
    /// The training batch (gathered by the step), and each read-only pass's.
    pub(crate) x: GpuTensor,
    z: GpuTensor,
    eps: GpuTensor,
    per_row: GpuTensor,
    pub(crate) enc: NetBuffers,
    pub(crate) dec: NetBuffers,
    pub(super) evaluations: Evaluations,
    reconstruct: Schedule,
    reconstruct_out: GpuTensor,
    pub(super) views: ViewBuffers,
    pub(crate) dataset: GpuDataset,
    /// The evaluation's KL scratch, held for the schedules' bind groups.
    _eval_kl: GpuTensor,
}

impl VaeCore {
    /// Allocates everything for `arch` at `batch` (`name` labels the buffers) and records the
    /// evaluation, view and reconstruction schedules; the training buffers only for
    /// [`Purpose::Train`].
    pub(crate) fn new(
        kernels: &Kernels,
        name: &str,
        (arch, init): (VaeArch, &[f32]),
        dataset: GpuDataset,
        (batch, seed): (usize, u32),
        purpose: Purpose,
    ) -> Result<Self, GpuError> {
        let ctx = kernels.context().clone();
        let (latent, dim) = (arch.spec.latent, arch.spec.data_dim);
        if dataset.data.cols() != dim {
            return Err(GpuError::shape("vae dataset", format!("rows of {dim} values"), dataset.data.describe()));
        }
        let len = arch.layout.len;
        let label = |what: &str| format!("{name}.{what}");
        let params = ctx.upload_f32(&label("params"), 1, len, init)?;
        let training = match purpose {
            Purpose::Train => Some(TrainingBuffers {
                grads: ctx.zeros(&label("grads"), 1, len)?,
                m: ctx.zeros(&label("adam_m"), 1, len)?,
                v: ctx.zeros(&label("adam_v"), 1, len)?,
                velocity: ctx.zeros(&label("sgd_velocity"), 1, len)?,
                mask: ctx.upload_f32(&label("penalty_mask"), 1, len, &arch.layout.penalty_mask::<f32>())?,
                kl_per_dim: ctx.zeros(&label("kl_per_dim"), 1, latent)?,
                dz: ctx.zeros(&label("dz"), batch, latent)?,
                checkpoint: Checkpoint::new(&ctx, &label("best_params"), &params)?,
            }),
            Purpose::Score => None,
        };
        let counters = ctx.upload_u32(&label("counters"), 1, 2, &[0, 0])?;
        let x = ctx.zeros(&label("batch"), batch, dim)?;
        let (z, eps) = (ctx.zeros(&label("z"), batch, latent)?, ctx.zeros(&label("eps"), batch, latent)?);
        let per_row = ctx.zeros(&label("loss_per_sample"), batch, 1)?;
        let metrics = MetricSums::new(&ctx, name, latent)?;
        let grads = training.as_ref().map(|t| &t.grads);
        let enc = NetBuffers::build(&ctx, &arch.layout, &arch.encoder, "encoder", (batch, 1), &params, grads)?;
        let dec = NetBuffers::build(&ctx, &arch.layout, &arch.decoder, "decoder", (batch, 1), &params, grads)?;
        let k = kernels;

        // Held-out and training negative ELBO (whole batches, noise from the evaluation stream),
        // and the latent views, over one set of scratch buffers.
        let (test_chunks, train_chunks) = eval_chunks(dataset.indices.len(), dataset.test_indices.len(), batch);
        let eval_kl = ctx.zeros(&label("eval_kl_per_dim"), 1, latent)?;
        let pass = PassBuffers {
            arch: &arch,
            encoder: &enc,
            decoder: &dec,
            dataset: &dataset,
            counters: &counters,
            x: &x,
            z: &z,
            eps: &eps,
            per_row: &per_row,
            kl_per_dim: &eval_kl,
            seed,
        };
        let evaluations = Evaluations {
            test: Evaluation::record(k, &label("test"), &pass, &dataset.test_indices, test_chunks)?,
            train: Evaluation::record(k, &label("train"), &pass, &dataset.indices, train_chunks)?,
        };
        let views = ViewBuffers::new(k, &label("views"), &pass, test_chunks)?;

        // Reconstructions of the first held-out batch through z = μ.
        let (h, out) = (enc.output()?, dec.output()?);
        let reconstruct_out = ctx.zeros(&label("reconstructions"), batch, dim)?;
        let mut r = Schedule::new(format!("{name} reconstruct"));
        r.push(dataset.gather(k, &dataset.test_indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: None })?);
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
            training,
            counters,
            metrics,
            x,
            z,
            eps,
            per_row,
            enc,
            dec,
            evaluations,
            reconstruct: r,
            reconstruct_out,
            views,
            dataset,
            _eval_kl: eval_kl,
        })
    }

    /// The first half of a training step: gather the batch, forward, losses and their sums,
    /// backward, penalty gradient. Leaves ∂loss/∂params in the gradient buffer. Every dispatch that
    /// carries a knob is recorded neutral (β, penalties and dropout at 0) and returned, for
    /// [`VaeKnobDispatches::apply`](super::knobs::VaeKnobDispatches::apply) to write.
    pub(crate) fn push_gradients(&self, k: &Kernels, s: &mut Schedule) -> Result<GradientKnobs, GpuError> {
        let t = self.training()?;
        let (arch, dataset, counters, x) = (&self.arch, &self.dataset, &self.counters, &self.x);
        let (enc, dec, z, eps, dz, per_row, metrics) = (&self.enc, &self.dec, &self.z, &self.eps, &t.dz, &self.per_row, &self.metrics);
        let scale = 1.0 / self.batch as f32;
        s.push(dataset.gather(k, &dataset.indices, counters, x, GatherSpec { index_base: 0, cursor_counter: Some(TRAIN_COUNTER) })?);
        let dropout_at = |stream| (DropoutSpec { p: 0.0, seed: self.seed, stream, counter_index: TRAIN_COUNTER }, counters);
        let (enc_drop, dec_drop) = (dropout_at(ENCODER_DROPOUT_STREAM), dropout_at(DECODER_DROPOUT_STREAM));
        let mut dropout = enc.forward_with_dropout(k, &arch.encoder, x, Some(enc_drop), s)?;
        let (h, dh) = (enc.output()?, enc.output_grad()?);
        s.push(k.reparam_forward(h, z, eps, counters, ReparamSpec { seed: self.seed, stream: REPARAM_STREAM, counter_index: TRAIN_COUNTER, sample: true })?);
        dropout.extend(dec.forward_with_dropout(k, &arch.decoder, z, Some(dec_drop), s)?);
        let (out, d_out) = (dec.output()?, dec.output_grad()?);
        s.push(reconstruction_rows(k, arch.spec.likelihood, out, x, per_row)?);
        s.push(k.sum_all(per_row, &metrics.sums, RECONSTRUCTION, scale, true)?);
        s.push(match arch.spec.likelihood {
            Likelihood::Bernoulli => k.bce_backward(out, x, d_out, scale, false)?,
            Likelihood::Gaussian { inv_var } => k.gaussian_backward(out, x, d_out, inv_var, scale, false)?,
        });
        s.push(k.kl_forward(h, &t.kl_per_dim, scale)?);
        s.push(k.sum_all(&t.kl_per_dim, &metrics.sums, KL, 1.0, true)?);
        s.push(k.column_sums(&t.kl_per_dim, &metrics.kl_sums, 1.0, true)?);
        let neutral = PenaltySpec { range: ParamRange::all(&self.params), l1: 0.0, l2: 0.0 };
        let slots = PenaltySlots { out: &metrics.sums, index: PENALTY, accumulate: true };
        let penalty_value = s.push_tuned(k.penalty_value(&self.params, &t.mask, slots, neutral)?)?;
        dropout.extend(dec.backward_with_dropout(k, &arch.decoder, z, Some(dz), dec_drop, s)?);
        s.push(k.reparam_backward(h, eps, dz, dh, false)?);
        let kl_backward = s.push_tuned(k.kl_backward(h, dh, 0.0, true)?)?;
        dropout.extend(enc.backward_with_dropout(k, &arch.encoder, x, None, enc_drop, s)?);
        let penalty_gradient = s.push_tuned(k.penalty_gradient(&self.params, &t.mask, &t.grads, neutral)?)?;
        Ok(GradientKnobs { dropout, kl_backward, penalties: [penalty_value, penalty_gradient] })
    }

    /// The second half of a training step: Adam and SGD with the gradient buffer (both recorded
    /// at learning rate 0; the knobs make one of them live, see `Knobs::updates`), then the step
    /// counter.
    pub(crate) fn push_update(&self, k: &Kernels, s: &mut Schedule) -> Result<UpdateKnobs, GpuError> {
        let (t, all) = (self.training()?, ParamRange::all(&self.params));
        let buffers = AdamBuffers { weights: &self.params, grads: &t.grads, m: &t.m, v: &t.v, counters: &self.counters, counter_index: TRAIN_COUNTER };
        let adam = s.push_tuned(k.adam(buffers, all, AdamConfig { lr: 0.0, ..AdamConfig::default() })?)?;
        let sgd = s.push_tuned(k.sgd(&self.params, &t.grads, &t.velocity, all, SgdConfig { lr: 0.0, momentum: 0.0 })?)?;
        s.push(k.advance_counter(&self.counters, TRAIN_COUNTER, 1)?);
        Ok(UpdateKnobs { adam, sgd })
    }

    /// The gradient buffer (the VAE-GAN's generator term adds into it); refused where the
    /// parameters train elsewhere.
    pub(crate) fn grads(&self) -> Result<&GpuTensor, GpuError> {
        Ok(&self.training()?.grads)
    }

    pub(super) fn training(&self) -> Result<&TrainingBuffers, GpuError> {
        self.training.as_ref().ok_or_else(no_training_buffers)
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

    /// The current parameters (flat, in the layout's order).
    pub(crate) async fn parameters(&self) -> Result<Vec<f32>, GpuError> {
        read_f32(&self.ctx, &self.params).await
    }

    /// The buffers one step hands to the next, what a fork copies: parameters, gradients, Adam's
    /// and SGD's moments, the step counters (the data cursor and every noise stream follow them),
    /// the metric sums since the last read and restore-best's copy.
    /// Refused where the parameters train elsewhere: such a model has no training state to fork.
    pub(super) fn state(&self) -> Result<Vec<&GpuTensor>, GpuError> {
        let (t, sums) = (self.training()?, &self.metrics);
        Ok(vec![&self.params, &t.grads, &t.m, &t.v, &t.velocity, &self.counters, &sums.sums, &sums.kl_sums, t.checkpoint.saved()])
    }

    /// The host's share of that state: the steps not read yet, the last read, and whether
    /// restore-best holds a copy.
    pub(super) fn copy_host_state_to(&self, other: &VaeCore) {
        self.metrics.copy_host_state_to(&other.metrics);
        if let (Some(from), Some(to)) = (&self.training, &other.training) {
            from.checkpoint.copy_filled_to(&to.checkpoint);
        }
    }

    /// Replaces the parameters (a queue write: it lands before the next submission).
    pub(crate) fn set_parameters(&self, parameters: &[f32]) -> Result<(), GpuError> {
        if parameters.len() != self.params.len() {
            return Err(GpuError::shape("vae parameters", format!("{} values", self.params.len()), format!("{} values", parameters.len())));
        }
        self.ctx.check_alive()?;
        self.ctx.write_f32(&self.params, parameters)
    }
}

/// Out of line and cold: every training path checks for the buffers, and only a sweep's member
/// lacks them.
#[cold]
#[inline(never)]
fn no_training_buffers() -> GpuError {
    GpuError::invalid("vae", "this VAE scores parameters trained elsewhere (a sweep's batched step); it holds no training buffers")
}
