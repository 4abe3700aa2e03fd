//! The GAN compiled for the GPU: a recorded discriminator step and a recorded generator step over
//! buffers made once, mirroring `latent_core::model::GanCpu` dispatch for dispatch.
//!
//! Noise comes from the reparameterization kernel with μ = 0, logσ² = 0 (so z = ε), keyed by the
//! D or G step counter on the GPU; a run of any D:G ratio is a replay of the two schedules.
//!
//! Three read-only schedules show what the model has learnt without touching training state: D's
//! loss and accuracy over whole batches of the held-out rows (its own counter slot as the chunk
//! cursor), σ(D(p)) over up to [`MAP_POINTS`] caller-given points (the heat map), and G over as
//! many caller-given codes (samples), each recorded once at that size.

mod batched;
pub(crate) mod discriminator;

pub use batched::{BatchedGan, BatchedGanMember};

use async_trait::async_trait;
use latent_core::engine::{GanMetrics, GanModel, ModelError, ModelSetup};
use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM, MAP_POINTS};
use latent_core::model::vae::prior_noise;
use latent_core::model::{GanArch, HeldOutMetrics};
use latent_core::{Activation, Knobs};

use self::discriminator::{
    discriminator_metrics, DiscriminatorPasses, Fakes, NetParams, UpdateKnobs, D_PENALTY, EVAL_ACC, EVAL_LOSS, G_LOSS, G_PENALTY, METRICS,
};
use crate::context::GpuContext;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, ReparamSpec};
use crate::readback::read_f32;
use crate::state_copy::copy_state;
use crate::tensor::{ElementKind, GpuTensor};
use crate::vae::GpuDataset;

/// Step counters: discriminator steps, generator steps, and the chunk cursor of an evaluation.
const D_COUNTER: u32 = 0;
const G_COUNTER: u32 = 1;
const EVAL_COUNTER: u32 = 2;

/// A GAN living on the GPU.
#[derive(Debug)]
pub struct GpuGan {
    arch: GanArch,
    ctx: GpuContext,
    batch: usize,
    seed: u32,
    /// D steps per round, the one knob the host applies (by how it replays the steps).
    d_steps: u32,
    generator: NetParams,
    discriminator: NetParams,
    counters: GpuTensor,
    metrics: GpuTensor,
    d_step: Schedule,
    g_step: Schedule,
    d_knobs: UpdateKnobs,
    g_knobs: UpdateKnobs,
    evaluate: Schedule,
    eval_chunks: usize,
    eval_metrics: GpuTensor,
    map: Schedule,
    map_points: GpuTensor,
    map_out: GpuTensor,
    generate: Schedule,
    generate_codes: GpuTensor,
    /// D over the heat map's points, G over a block of codes.
    view_nets: [NetBuffers; 2],
    // Held for the schedules' bind groups.
    _nets: (NetBuffers, DiscriminatorPasses),
    _buffers: Vec<GpuTensor>,
    _dataset: GpuDataset,
}

impl GpuGan {
    /// Uploads the setup's data, allocates both networks for `arch` (G from `g_init`, D from
    /// `d_init`) and records the D step, the G step, the held-out evaluation, the heat map and the
    /// generator block. The data must be f32 points.
    pub fn new(kernels: &Kernels, setup: &ModelSetup, arch: GanArch, g_init: &[f32], d_init: &[f32]) -> Result<Self, ModelError> {
        setup.check()?;
        let (batch, seed) = (setup.batch, setup.seed);
        let ctx = kernels.context().clone();
        let k = kernels;
        let (latent, dim) = (arch.spec.latent, arch.spec.data_dim);
        let dataset = GpuDataset::upload(&ctx, &setup.data)?;
        if dataset.data.kind() != ElementKind::F32 {
            // A pixel GAN needs a sigmoid generator output, which this engine does not build yet.
            return Err(GpuError::invalid("gan", format!("{} holds pixels; the GAN trains on f32 points (2D data) only", dataset.data.describe())).into());
        }
        if dataset.data.cols() != dim {
            return Err(GpuError::shape("gan dataset", format!("rows of {dim} values"), dataset.data.describe()).into());
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
        let noise = |stream, counter_index| ReparamSpec { seed, stream, counter_index, sample: true };

        // Discriminator step.
        let mut d = Schedule::new("gan discriminator step");
        d.push(k.gather_f32(&dataset.data, &dataset.indices, &counters, &x, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        d.push(k.reparam_forward(&zero_posterior, &z, &eps, &counters, noise(D_NOISE_STREAM, D_COUNTER))?);
        g_net.forward(k, &arch.generator, &z, &mut d)?;
        let fake = g_net.output()?;
        passes.push_discriminator_gradients(k, &arch.discriminator, &x, fake, &metrics, &mut d)?;
        let d_knobs = discriminator.push_update(k, &mut d, &metrics, D_PENALTY, (&counters, D_COUNTER))?;
        d.push(k.advance_counter(&counters, D_COUNTER, 1)?);

        // Generator step: fresh z, non-saturating loss, gradients through a frozen D.
        let mut g = Schedule::new("gan generator step");
        g.push(k.reparam_forward(&zero_posterior, &z, &eps, &counters, noise(G_NOISE_STREAM, G_COUNTER))?);
        g_net.forward(k, &arch.generator, &z, &mut g)?;
        let fakes = Fakes { rows: fake, grad: g_net.output_grad()? };
        passes.push_generator_signal(k, &arch.discriminator, fakes, &metrics, 1.0 / batch as f32, &mut g)?;
        g_net.backward(k, &arch.generator, &z, None, false, &mut g)?;
        let g_knobs = generator.push_update(k, &mut g, &metrics, G_PENALTY, (&counters, G_COUNTER))?;
        g.push(k.advance_counter(&counters, G_COUNTER, 1)?);

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
        let d_map = NetBuffers::forward_only(&ctx, &arch.d_layout, &arch.discriminator, "discriminator.map", MAP_POINTS, &discriminator.params)?;
        let mut map = Schedule::new("gan discriminator map");
        d_map.forward(k, &arch.discriminator, &map_points, &mut map)?;
        map.push(k.activation_forward(d_map.output()?, &map_out, Activation::Sigmoid, false)?);

        // G over a block of codes the caller fills, as many as the map has points.
        let generate_codes = ctx.zeros("gan.generate_codes", MAP_POINTS, latent)?;
        let g_block = NetBuffers::forward_only(&ctx, &arch.g_layout, &arch.generator, "generator.block", MAP_POINTS, &generator.params)?;
        let mut generate = Schedule::new("gan generate");
        g_block.forward(k, &arch.generator, &generate_codes, &mut generate)?;

        let mut gan = Self {
            arch,
            ctx,
            batch,
            seed,
            d_steps: setup.knobs.d_steps,
            generator,
            discriminator,
            counters,
            metrics,
            d_step: d,
            g_step: g,
            d_knobs,
            g_knobs,
            evaluate: e,
            eval_chunks,
            eval_metrics,
            map,
            map_points,
            map_out,
            generate,
            generate_codes,
            view_nets: [d_map, g_block],
            _nets: (g_net, passes),
            _buffers: vec![x, zero_posterior, z, eps],
            _dataset: dataset,
        };
        gan.set_knobs(&setup.knobs)?;
        Ok(gan)
    }

    /// Every buffer of the training state: G's and D's networks, the counters, the metrics.
    fn state(&self) -> Vec<&GpuTensor> {
        let mut state = self.generator.state().to_vec();
        state.extend(self.discriminator.state());
        state.extend([&self.counters, &self.metrics]);
        state
    }

    /// Makes `other`, built from the same setup and shape on the same device, this GAN's exact
    /// training state (a fork): both networks (parameters, gradients, Adam's moments), the step
    /// counters (the data cursor and both noise streams follow them) and the latest metrics,
    /// copied on the GPU in one submission; nothing is read back.
    pub fn copy_state_to(&self, other: &mut GpuGan) -> Result<(), ModelError> {
        if self.arch != other.arch || self.batch != other.batch {
            return Err(ModelError::StateMismatch("the other GPU GAN has another shape or batch".into()));
        }
        copy_state(&self.ctx, &other.ctx, "GPU GAN", &self.state(), &other.state())
    }

    /// The recorded D and G steps.
    pub fn step_schedules(&self) -> [&Schedule; 2] {
        [&self.d_step, &self.g_step]
    }

    /// Writes D's parameters (a sweep's batched step trained them elsewhere); the engine seam has
    /// only G's setter, the weights a run file holds.
    pub fn set_discriminator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        write_parameters(&self.ctx, &self.discriminator.params, parameters)
    }

    /// Dispatches per (D step, G step).
    pub fn dispatch_counts(&self) -> (usize, usize) {
        (self.d_step.len(), self.g_step.len())
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
}

#[async_trait(?Send)]
impl GanModel for GpuGan {
    fn arch(&self) -> &GanArch {
        &self.arch
    }

    fn batch(&self) -> usize {
        self.batch
    }

    fn dispatches_per_round(&self) -> Option<usize> {
        Some(self.d_step.len() + self.g_step.len())
    }

    /// λ_G, λ_D and both optimizers' settings go into the recorded steps; D steps per round is the
    /// host's replay count.
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        self.d_knobs.apply(&self.ctx, &self.d_step, knobs.l2_discriminator(), knobs.adam_discriminator())?;
        self.g_knobs.apply(&self.ctx, &self.g_step, knobs.l2_generator(), knobs.adam_generator())?;
        self.d_steps = knobs.d_steps;
        Ok(())
    }

    /// One submission of `rounds` rounds, each `d_steps` D steps then one G step.
    fn train(&mut self, rounds: usize) -> Result<(), ModelError> {
        submit_rounds(&self.ctx, [&self.d_step, &self.g_step], self.d_steps, rounds)
    }

    fn train_discriminator(&mut self, steps: usize) -> Result<(), ModelError> {
        Ok(self.d_step.submit(&self.ctx, steps)?)
    }

    fn train_generator(&mut self, steps: usize) -> Result<(), ModelError> {
        Ok(self.g_step.submit(&self.ctx, steps)?)
    }

    /// Metrics of the latest D and G steps (asynchronous readback). Fails if the GPU reported an
    /// error since the last call, so a broken step never reads as a result.
    async fn metrics(&mut self) -> Result<GanMetrics, ModelError> {
        self.ctx.check_no_uncaptured_errors("gan step")?;
        let v = read_f32(&self.ctx, &self.metrics).await?;
        let at = |i: usize| v.get(i).copied().map_or(f64::NAN, f64::from);
        Ok(GanMetrics { discriminator: discriminator_metrics(&v), generator_loss: at(G_LOSS), generator_l2_term: at(G_PENALTY) })
    }

    async fn steps_done(&self) -> Result<(u32, u32), ModelError> {
        let c = crate::readback::read_u32(&self.ctx, &self.counters).await?;
        Ok((c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)))
    }

    /// Replays its own schedule; the D and G steps, their counters and their metrics are untouched.
    async fn evaluate(&self) -> Result<HeldOutMetrics, ModelError> {
        let v = self.evaluate.sum_over_chunks(&self.ctx, self.eval_chunks, &self.eval_metrics, &self.counters, EVAL_COUNTER).await?;
        let at = |i: usize| v.get(i).copied().unwrap_or(f64::NAN);
        Ok(HeldOutMetrics { loss_real: at(EVAL_LOSS), accuracy_real: at(EVAL_ACC), rows: self.eval_chunks * self.batch })
    }

    async fn generate(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        Ok(self.replay_on_rows("gan generate", &self.generate, &self.generate_codes, self.view_nets[1].output()?, codes).await?)
    }

    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.generate(&prior_noise::<f32>(self.seed, count, self.arch.spec.latent).data).await
    }

    async fn discriminator_map(&self, points: &[f32]) -> Result<Vec<f32>, ModelError> {
        Ok(self.replay_on_rows("gan map", &self.map, &self.map_points, &self.map_out, points).await?)
    }

    async fn generator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(read_f32(&self.ctx, &self.generator.params).await?)
    }

    fn set_generator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        write_parameters(&self.ctx, &self.generator.params, parameters)
    }

    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        Ok(read_f32(&self.ctx, &self.discriminator.params).await?)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// Writes `parameters` over a network's `params`, refused where the lengths differ.
pub(crate) fn write_parameters(ctx: &GpuContext, params: &GpuTensor, parameters: &[f32]) -> Result<(), ModelError> {
    if parameters.len() != params.len() {
        return Err(GpuError::shape("gan parameters", format!("{} values", params.len()), format!("{} values", parameters.len())).into());
    }
    ctx.check_alive()?;
    Ok(ctx.write_f32(params, parameters)?)
}

/// One submission of `rounds` rounds of a GAN's recorded D and G steps: each `d_steps`
/// D steps, then one G step. The VAE-GAN's rounds too (one D step, then the VAE step), single
/// or batched.
pub(crate) fn submit_rounds(ctx: &GpuContext, [d_step, g_step]: [&Schedule; 2], d_steps: u32, rounds: usize) -> Result<(), ModelError> {
    ctx.check_alive()?;
    let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("adversarial rounds") });
    for _ in 0..rounds {
        d_step.record(&mut encoder, d_steps as usize);
        g_step.record(&mut encoder, 1);
    }
    ctx.queue.submit([encoder.finish()]);
    Ok(())
}
