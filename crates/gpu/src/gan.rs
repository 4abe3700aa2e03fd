//! The GAN compiled for the GPU: a recorded discriminator step and a recorded generator step over
//! buffers made once, mirroring `latent_core::model::GanCpu` dispatch for dispatch.
//!
//! Noise comes from the reparameterization kernel with μ = 0, logσ² = 0 (so z = ε), keyed by the
//! D or G step counter on the GPU; a run of any D:G ratio is a replay of the two schedules.
//!
//! Two read-only schedules show what D has learnt without touching training state: D's loss and
//! accuracy over whole batches of the held-out rows (its own counter slot as the chunk cursor), and
//! σ(D(p)) over up to [`MAP_POINTS`] caller-given points (the heat map), and G over as many
//! caller-given codes (more samples than one batch), each recorded once at that size.

use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM, MAP_POINTS};
use latent_core::model::{DiscriminatorMetrics, GanArch, GanKnobs, HeldOutMetrics, Mlp, ParamLayout};
use latent_core::ops::optimizer::AdamConfig;
use latent_core::Activation;

use crate::context::GpuContext;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{optimizer::adam_params, GanLabel, GatherSpec, ParamRange, ReparamSpec};
use crate::params::PenaltyParams;
use crate::readback::read_f32;
use crate::tensor::{ElementKind, GpuTensor};
use crate::vae::GpuDataset;

/// Step counters: discriminator steps, generator steps, and the chunk cursor of an evaluation.
const D_COUNTER: u32 = 0;
const G_COUNTER: u32 = 1;
const EVAL_COUNTER: u32 = 2;

/// Metrics buffer slots (the VAE-GAN uses the D and G-loss slots too).
const LOSS_REAL: usize = 0;
const LOSS_FAKE: usize = 1;
const ACC_REAL: usize = 2;
const ACC_FAKE: usize = 3;
pub(crate) const D_PENALTY: usize = 4; // L2 at 4, L1 at 5
pub(crate) const G_LOSS: usize = 6;
const G_PENALTY: usize = 8; // L2 at 8, L1 at 9
pub(crate) const METRICS: usize = 10;
/// Held-out metrics buffer slots.
const EVAL_LOSS: usize = 0;
const EVAL_ACC: usize = 1;

/// What the last D and G steps measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct GanMetrics {
    pub discriminator: DiscriminatorMetrics,
    pub generator_loss: f64,
    pub generator_l2_term: f64,
}

/// One network's parameters, gradients and Adam moments, flat.
#[derive(Debug)]
pub(crate) struct NetParams {
    pub(crate) params: GpuTensor,
    pub(crate) grads: GpuTensor,
    m: GpuTensor,
    v: GpuTensor,
    mask: GpuTensor,
}

impl NetParams {
    pub(crate) fn new(ctx: &GpuContext, name: &str, layout: &latent_core::model::ParamLayout, init: &[f32]) -> Result<Self, GpuError> {
        let len = layout.len;
        Ok(Self {
            params: ctx.upload_f32(&format!("{name}.params"), 1, len, init)?,
            grads: ctx.zeros(&format!("{name}.grads"), 1, len)?,
            m: ctx.zeros(&format!("{name}.adam_m"), 1, len)?,
            v: ctx.zeros(&format!("{name}.adam_v"), 1, len)?,
            mask: ctx.upload_f32(&format!("{name}.penalty_mask"), 1, len, &layout.penalty_mask::<f32>())?,
        })
    }

    /// Penalty value, penalty gradient, Adam: returns the indices of (value, gradient, adam).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_update(
        &self,
        k: &Kernels,
        s: &mut Schedule,
        metrics: &GpuTensor,
        slot: usize,
        counters: &GpuTensor,
        counter: u32,
        l2: f32,
        adam: AdamConfig,
    ) -> Result<[usize; 3], GpuError> {
        let all = ParamRange::all(&self.params);
        let value = s.len();
        s.push(k.penalty_value(&self.params, &self.mask, metrics, slot, all, 0.0, l2, false)?);
        let gradient = s.len();
        s.push(k.penalty_gradient(&self.params, &self.mask, &self.grads, all, 0.0, l2)?);
        let update = s.len();
        s.push(k.adam(&self.params, &self.grads, &self.m, &self.v, counters, counter, all, adam)?);
        Ok([value, gradient, update])
    }

    /// Writes λ₂ and Adam's settings into the dispatches [`push_update`](Self::push_update) recorded.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn set_knobs(
        &self,
        ctx: &GpuContext,
        schedule: &Schedule,
        indices: [usize; 3],
        slot: usize,
        counter: u32,
        l2: f32,
        adam: AdamConfig,
    ) -> Result<(), GpuError> {
        let len = u32::try_from(self.params.len()).unwrap_or(u32::MAX);
        let penalty = |out_index: usize| PenaltyParams { offset: 0, len, out_index: out_index as u32, accumulate: 0, l1: 0.0, l2, _pad1: [0; 2] };
        let d = schedule.dispatches();
        d[indices[0]].update_params(ctx, &penalty(slot))?;
        d[indices[1]].update_params(ctx, &penalty(0))?;
        d[indices[2]].update_params(ctx, &adam_params(ParamRange::all(&self.params), counter, adam)?)
    }
}

/// D's two passes, on the real batch and on fakes, and the per-sample rows its losses go through:
/// shared by every model whose samples D judges (the GAN's generator, the VAE-GAN's decoder).
#[derive(Debug)]
pub(crate) struct DiscriminatorPasses {
    real: NetBuffers,
    fake: NetBuffers,
    loss_rows: GpuTensor,
    correct_rows: GpuTensor,
}

impl DiscriminatorPasses {
    pub(crate) fn new(ctx: &GpuContext, layout: &ParamLayout, net: &Mlp, discriminator: &NetParams, batch: usize) -> Result<Self, GpuError> {
        Ok(Self {
            real: NetBuffers::new(ctx, layout, net, "discriminator.real", batch, &discriminator.params, &discriminator.grads)?,
            fake: NetBuffers::new(ctx, layout, net, "discriminator.fake", batch, &discriminator.params, &discriminator.grads)?,
            loss_rows: ctx.zeros("discriminator.loss_rows", batch, 1)?,
            correct_rows: ctx.zeros("discriminator.correct_rows", batch, 1)?,
        })
    }

    /// D on `x` (real) and `fake`: losses and accuracies (means, `scale` = 1/batch) into the D slots
    /// of `metrics`, then D's parameter gradients, real written and fake accumulated.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_discriminator_gradients(
        &self,
        k: &Kernels,
        net: &Mlp,
        x: &GpuTensor,
        fake: &GpuTensor,
        metrics: &GpuTensor,
        scale: f32,
        s: &mut Schedule,
    ) -> Result<(), GpuError> {
        self.real.forward(k, net, x, s)?;
        self.fake.forward(k, net, fake, s)?;
        for (pass, label, loss_slot, acc_slot) in [(&self.real, GanLabel::Real, LOSS_REAL, ACC_REAL), (&self.fake, GanLabel::Fake, LOSS_FAKE, ACC_FAKE)] {
            s.push(k.gan_forward(pass.output()?, label, &self.loss_rows, &self.correct_rows)?);
            s.push(k.sum_all(&self.loss_rows, metrics, loss_slot, scale, false)?);
            s.push(k.sum_all(&self.correct_rows, metrics, acc_slot, scale, false)?);
        }
        s.push(k.gan_backward(self.real.output()?, GanLabel::Real, self.real.output_grad()?, scale, false)?);
        self.real.backward(k, net, x, None, false, s)?;
        s.push(k.gan_backward(self.fake.output()?, GanLabel::Fake, self.fake.output_grad()?, scale, false)?);
        self.fake.backward(k, net, fake, None, true, s)
    }

    /// D on held-out real rows `x`: loss and accuracy means (`scale` = 1/rows evaluated) added to
    /// slots EVAL_LOSS and EVAL_ACC of `sums`, chunk after chunk; no gradient.
    pub(crate) fn push_held_out(&self, k: &Kernels, net: &Mlp, x: &GpuTensor, sums: &GpuTensor, scale: f32, s: &mut Schedule) -> Result<(), GpuError> {
        self.real.forward(k, net, x, s)?;
        s.push(k.gan_forward(self.real.output()?, GanLabel::Real, &self.loss_rows, &self.correct_rows)?);
        s.push(k.sum_all(&self.loss_rows, sums, EVAL_LOSS, scale, true)?);
        s.push(k.sum_all(&self.correct_rows, sums, EVAL_ACC, scale, true)?);
        Ok(())
    }

    /// The non-saturating generator loss −log σ(D(fake)) through a frozen D: its mean into
    /// metrics[G_LOSS] and `grad_scale` · ∂loss/∂fake into `fake_grad`. Returns the index of the
    /// dispatch that carries `grad_scale`, for knob changes.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push_generator_signal(
        &self,
        k: &Kernels,
        net: &Mlp,
        fake: &GpuTensor,
        fake_grad: &GpuTensor,
        metrics: &GpuTensor,
        scale: f32,
        grad_scale: f32,
        s: &mut Schedule,
    ) -> Result<usize, GpuError> {
        self.fake.forward(k, net, fake, s)?;
        s.push(k.gan_forward(self.fake.output()?, GanLabel::Real, &self.loss_rows, &self.correct_rows)?);
        s.push(k.sum_all(&self.loss_rows, metrics, G_LOSS, scale, false)?);
        let carrying = s.len();
        s.push(k.gan_backward(self.fake.output()?, GanLabel::Real, self.fake.output_grad()?, grad_scale, false)?);
        self.fake.backward_input_only(k, net, fake, fake_grad, s)?;
        Ok(carrying)
    }
}

/// The D slots of a metrics buffer read back.
pub(crate) fn discriminator_metrics(values: &[f32]) -> DiscriminatorMetrics {
    let at = |i: usize| values.get(i).copied().map_or(f64::NAN, f64::from);
    DiscriminatorMetrics {
        loss_real: at(LOSS_REAL),
        loss_fake: at(LOSS_FAKE),
        accuracy_real: at(ACC_REAL),
        accuracy_fake: at(ACC_FAKE),
        l2_term: at(D_PENALTY),
    }
}

/// A GAN living on the GPU.
#[derive(Debug)]
pub struct GpuGan {
    arch: GanArch,
    ctx: GpuContext,
    batch: usize,
    generator: NetParams,
    discriminator: NetParams,
    counters: GpuTensor,
    metrics: GpuTensor,
    d_step: Schedule,
    g_step: Schedule,
    d_knobs: [usize; 3],
    g_knobs: [usize; 3],
    samples: Schedule,
    samples_out_index: usize,
    evaluate: Schedule,
    eval_chunks: usize,
    eval_metrics: GpuTensor,
    map: Schedule,
    map_points: GpuTensor,
    map_out: GpuTensor,
    generate: Schedule,
    generate_codes: GpuTensor,
    g_net: NetBuffers,
    /// D over the heat map's points, G over a block of codes.
    view_nets: [NetBuffers; 2],
    _passes: DiscriminatorPasses,
    _buffers: Vec<GpuTensor>,
    _dataset: GpuDataset,
}

impl GpuGan {
    /// Allocates both networks for `arch` at `batch` and records the D step, the G step, the
    /// samples, the held-out evaluation and the heat map. The dataset must hold f32 points; its
    /// held-out list at least one batch.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kernels: &Kernels,
        arch: GanArch,
        g_init: &[f32],
        d_init: &[f32],
        dataset: GpuDataset,
        batch: usize,
        seed: u32,
        knobs: GanKnobs,
    ) -> Result<Self, GpuError> {
        let ctx = kernels.context().clone();
        let k = kernels;
        let (latent, dim) = (arch.spec.latent, arch.spec.data_dim);
        if batch == 0 || batch > 4096 {
            return Err(GpuError::invalid("gan", format!("batch size {batch} is outside 1..=4096")));
        }
        if dataset.data.kind() != ElementKind::F32 {
            // A pixel GAN needs a sigmoid generator output, which this engine does not build yet.
            return Err(GpuError::invalid("gan", format!("{} holds pixels; the GAN trains on f32 points (2D data) only", dataset.data.describe())));
        }
        if dataset.data.cols() != dim {
            return Err(GpuError::shape("gan dataset", format!("rows of {dim} values"), dataset.data.describe()));
        }
        if dataset.test_indices.len() < batch {
            return Err(GpuError::invalid("gan", format!("{} held-out rows are fewer than one batch of {batch}", dataset.test_indices.len())));
        }
        let generator = NetParams::new(&ctx, "generator", &arch.g_layout, g_init)?;
        let discriminator = NetParams::new(&ctx, "discriminator", &arch.d_layout, d_init)?;
        let counters = ctx.upload_u32("gan.counters", 1, 3, &[0, 0, 0])?;
        let metrics = ctx.zeros("gan.metrics", 1, METRICS)?;
        let g_net = NetBuffers::new(&ctx, &arch.g_layout, &arch.generator, "generator", batch, &generator.params, &generator.grads)?;
        let passes = DiscriminatorPasses::new(&ctx, &arch.d_layout, &arch.discriminator, &discriminator, batch)?;
        let x = ctx.zeros("gan.real_batch", batch, dim)?;
        let zero_posterior = ctx.zeros("gan.zero_posterior", batch, 2 * latent)?;
        let (z, eps) = (ctx.zeros("gan.z", batch, latent)?, ctx.zeros("gan.eps", batch, latent)?);
        let scale = 1.0 / batch as f32;
        let noise = |stream, counter_index| ReparamSpec { seed, stream, counter_index, sample: true };

        // Discriminator step.
        let mut d = Schedule::new("gan discriminator step");
        d.push(k.gather_f32(&dataset.data, &dataset.indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        d.push(k.reparam_forward(&zero_posterior, &z, &eps, &counters, noise(D_NOISE_STREAM, D_COUNTER))?);
        g_net.forward(k, &arch.generator, &z, &mut d)?;
        let fake = g_net.output()?;
        passes.push_discriminator_gradients(k, &arch.discriminator, &x, fake, &metrics, scale, &mut d)?;
        let d_knobs = discriminator.push_update(k, &mut d, &metrics, D_PENALTY, &counters, D_COUNTER, knobs.l2_discriminator, knobs.adam_discriminator)?;
        d.push(k.advance_counter(&counters, D_COUNTER, 1)?);

        // Generator step: fresh z, non-saturating loss, gradients through a frozen D.
        let mut g = Schedule::new("gan generator step");
        g.push(k.reparam_forward(&zero_posterior, &z, &eps, &counters, noise(G_NOISE_STREAM, G_COUNTER))?);
        g_net.forward(k, &arch.generator, &z, &mut g)?;
        passes.push_generator_signal(k, &arch.discriminator, fake, g_net.output_grad()?, &metrics, scale, scale, &mut g)?;
        g_net.backward(k, &arch.generator, &z, None, false, &mut g)?;
        let g_knobs = generator.push_update(k, &mut g, &metrics, G_PENALTY, &counters, G_COUNTER, knobs.l2_generator, knobs.adam_generator)?;
        g.push(k.advance_counter(&counters, G_COUNTER, 1)?);

        // Samples from fixed prior noise.
        let prior = latent_core::model::vae::prior_noise::<f32>(seed, batch, latent);
        let z_prior = ctx.upload_f32("gan.z_prior", batch, latent, &prior.data)?;
        let mut samples = Schedule::new("gan samples");
        g_net.forward(k, &arch.generator, &z_prior, &mut samples)?;
        let samples_out_index = arch.generator.layers.len().saturating_sub(1);

        // Held-out real rows through D, whole batches, summed in a fixed order.
        let eval_chunks = dataset.test_indices.len() / batch;
        let eval_scale = 1.0 / (eval_chunks * batch) as f32;
        let eval_metrics = ctx.zeros("gan.eval_metrics", 1, 2)?;
        let mut e = Schedule::new("gan evaluate");
        e.push(k.gather_f32(&dataset.data, &dataset.test_indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: Some(EVAL_COUNTER) })?);
        passes.push_held_out(k, &arch.discriminator, &x, &eval_metrics, eval_scale, &mut e)?;
        e.push(k.advance_counter(&counters, EVAL_COUNTER, 1)?);

        // Heat map: σ(D) over a fixed-size block of points the caller fills.
        let map_points = ctx.zeros("gan.map_points", MAP_POINTS, dim)?;
        let map_out = ctx.zeros("gan.map_probabilities", MAP_POINTS, 1)?;
        let d_map = NetBuffers::new(&ctx, &arch.d_layout, &arch.discriminator, "discriminator.map", MAP_POINTS, &discriminator.params, &discriminator.grads)?;
        let mut map = Schedule::new("gan discriminator map");
        d_map.forward(k, &arch.discriminator, &map_points, &mut map)?;
        map.push(k.activation_forward(d_map.output()?, &map_out, Activation::Sigmoid, false)?);

        // G over a block of codes the caller fills, as many as the map has points.
        let generate_codes = ctx.zeros("gan.generate_codes", MAP_POINTS, latent)?;
        let g_block = NetBuffers::new(&ctx, &arch.g_layout, &arch.generator, "generator.block", MAP_POINTS, &generator.params, &generator.grads)?;
        let mut generate = Schedule::new("gan generate");
        g_block.forward(k, &arch.generator, &generate_codes, &mut generate)?;

        Ok(Self {
            arch,
            ctx,
            batch,
            generator,
            discriminator,
            counters,
            metrics,
            d_step: d,
            g_step: g,
            d_knobs,
            g_knobs,
            samples,
            samples_out_index,
            evaluate: e,
            eval_chunks,
            eval_metrics,
            map,
            map_points,
            map_out,
            generate,
            generate_codes,
            g_net,
            view_nets: [d_map, g_block],
            _passes: passes,
            _buffers: vec![x, zero_posterior, z, eps, z_prior],
            _dataset: dataset,
        })
    }

    pub fn arch(&self) -> &GanArch {
        &self.arch
    }

    /// Dispatches per (D step, G step).
    pub fn dispatch_counts(&self) -> (usize, usize) {
        (self.d_step.len(), self.g_step.len())
    }

    /// `rounds` rounds of `d_steps` discriminator steps then one generator step, one submission.
    pub fn train(&self, rounds: usize, d_steps: usize) -> Result<(), GpuError> {
        self.ctx.check_alive()?;
        let mut encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("gan rounds") });
        for _ in 0..rounds {
            self.d_step.record(&mut encoder, d_steps);
            self.g_step.record(&mut encoder, 1);
        }
        self.ctx.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// Only discriminator steps (GAN Lab's "train D" button).
    pub fn train_discriminator(&self, steps: usize) -> Result<(), GpuError> {
        self.d_step.submit(&self.ctx, steps)
    }

    /// Only generator steps.
    pub fn train_generator(&self, steps: usize) -> Result<(), GpuError> {
        self.g_step.submit(&self.ctx, steps)
    }

    /// Changes λ_G, λ_D and both optimizers' settings for the following steps.
    pub fn set_knobs(&self, knobs: GanKnobs) -> Result<(), GpuError> {
        for (net, indices, slot, counter, l2, adam, schedule) in [
            (&self.discriminator, self.d_knobs, D_PENALTY, D_COUNTER, knobs.l2_discriminator, knobs.adam_discriminator, &self.d_step),
            (&self.generator, self.g_knobs, G_PENALTY, G_COUNTER, knobs.l2_generator, knobs.adam_generator, &self.g_step),
        ] {
            net.set_knobs(&self.ctx, schedule, indices, slot, counter, l2, adam)?;
        }
        Ok(())
    }

    /// Metrics of the latest D and G steps (asynchronous readback). Fails if the GPU reported an
    /// error since the last call, as [`GpuVae::metrics`](crate::GpuVae::metrics) does.
    pub async fn metrics(&self) -> Result<GanMetrics, GpuError> {
        self.ctx.check_no_uncaptured_errors("gan step")?;
        let v = read_f32(&self.ctx, &self.metrics).await?;
        let at = |i: usize| v.get(i).copied().map_or(f64::NAN, f64::from);
        Ok(GanMetrics { discriminator: discriminator_metrics(&v), generator_loss: at(G_LOSS), generator_l2_term: at(G_PENALTY) })
    }

    /// G on the fixed prior noise: batch × data_dim.
    pub async fn samples(&self) -> Result<Vec<f32>, GpuError> {
        self.samples.submit(&self.ctx, 1)?;
        let out = self.g_net.outputs_at(self.samples_out_index)?;
        read_f32(&self.ctx, out).await
    }

    /// D's loss and accuracy on the held-out rows (whole batches; the rest are left out). Replays
    /// its own schedule; the D and G steps, their counters and their metrics are untouched.
    pub async fn evaluate(&self) -> Result<HeldOutMetrics, GpuError> {
        let v = self.evaluate.sum_over_chunks(&self.ctx, self.eval_chunks, &self.eval_metrics, &self.counters, EVAL_COUNTER).await?;
        let at = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        Ok(HeldOutMetrics { loss_real: at(EVAL_LOSS), accuracy_real: at(EVAL_ACC), rows: self.eval_chunks * self.batch })
    }

    /// σ(D(p)) for each point `p` of `points` (rows of data_dim values, at most [`MAP_POINTS`] rows):
    /// D's belief that a point is real, for the heat map. Fills the recorded block, replays D on it.
    pub async fn discriminator_map(&self, points: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.replay_on_rows("gan map", &self.map, &self.map_points, &self.map_out, points).await
    }

    /// G(z) for each code `z` of `codes` (rows of `latent` values, at most [`MAP_POINTS`] rows):
    /// more samples than [`samples`](Self::samples)' one batch, or G over a grid of codes.
    pub async fn generate(&self, codes: &[f32]) -> Result<Vec<f32>, GpuError> {
        self.replay_on_rows("gan generate", &self.generate, &self.generate_codes, self.view_nets[1].output()?, codes).await
    }

    /// Writes `values` (whole rows of `input`) to the start of `input`, replays `schedule`, and reads
    /// the same rows of `output`: one fixed-size recording serves any number of rows up to its size.
    async fn replay_on_rows(&self, op: &'static str, schedule: &Schedule, input: &GpuTensor, output: &GpuTensor, values: &[f32]) -> Result<Vec<f32>, GpuError> {
        let cols = input.cols();
        let rows = values.len() / cols.max(1);
        if values.is_empty() || rows * cols != values.len() || rows > input.rows() {
            return Err(GpuError::invalid(op, format!("{} values are not 1..={} rows of {cols}", values.len(), input.rows())));
        }
        self.ctx.write_f32(&input.view(format!("{}.used", input.label()), 0, rows, cols)?, values)?;
        schedule.submit(&self.ctx, 1)?;
        read_f32(&self.ctx, &output.view(format!("{}.used", output.label()), 0, rows, output.cols())?).await
    }

    /// The generator's parameters (flat, in `arch.g_layout`'s order), for weight views.
    pub async fn generator_parameters(&self) -> Result<Vec<f32>, GpuError> {
        read_f32(&self.ctx, &self.generator.params).await
    }

    /// (D steps, G steps) done, as the GPU counts them.
    pub async fn steps_done(&self) -> Result<(u32, u32), GpuError> {
        let c = crate::readback::read_u32(&self.ctx, &self.counters).await?;
        Ok((c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)))
    }

    pub fn batch(&self) -> usize {
        self.batch
    }
}
