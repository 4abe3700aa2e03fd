//! K GANs of one shape trained as one (a sweep's models, the (λ_G, λ_D) grid): a recorded D step
//! and G step whose dispatches each cover every model, so K models cost about the dispatches of
//! one, as [`BatchedVae`](crate::BatchedVae) does for VAEs.
//!
//! Both networks' parameters, gradients and Adam moments live in the
//! [stacked](latent_core::model::ParamLayout::stacked) layout, activations stack the K batches,
//! and each model draws the noise it draws alone. Every knob is the member's own (λ_G, λ_D, both
//! learning rates) except D steps per round, which is how the host replays the steps: one value
//! for the whole group. Each member's parameters after any number of rounds are, bit for bit,
//! what the same GAN computes alone ([`GpuGan`](super::GpuGan)); its L2 terms (metrics) are summed
//! slot by slot, so they differ from the single model's in the last bits.

use std::sync::Arc;

use latent_core::data::{Rows, RunData};
use latent_core::engine::{GanMetrics, ModelError, MAX_BATCH};
use latent_core::model::gan::{D_NOISE_STREAM, G_NOISE_STREAM};
use latent_core::model::GanArch;
use latent_core::Knobs;

use super::discriminator::{discriminator_metrics, DiscriminatorPasses, Fakes, NetParams, D_PENALTY, G_LOSS, G_PENALTY, METRICS};
use super::{submit_rounds, D_COUNTER, G_COUNTER};
use crate::context::GpuContext;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::net::NetBuffers;
use crate::ops::{GatherSpec, IndexSlice, PenaltySlots, ReparamSpec};
use crate::readback::{read_f32, read_u32};
use crate::stacked::{MemberUpdate, MemberUpdates, Stacked};
use crate::tensor::{ElementKind, GpuTensor};
use crate::vae::GpuDataset;

/// One GAN of a batched group: its knobs, its initial parameters (the arch's layouts) and the
/// training rows it visits, in order.
#[derive(Clone, Copy, Debug)]
pub struct BatchedGanMember<'a> {
    pub knobs: &'a Knobs,
    pub g_init: &'a [f32],
    pub d_init: &'a [f32],
    pub train: &'a [u32],
}

/// K GANs of one shape on the GPU, trained in one recorded D step and one recorded G step.
#[derive(Debug)]
pub struct BatchedGan {
    arch: GanArch,
    ctx: GpuContext,
    members: usize,
    /// D steps per round, the same for every member (the host's replay count).
    d_steps: u32,
    generator: NetParams,
    discriminator: NetParams,
    counters: GpuTensor,
    /// [`METRICS`] slots per member, one member after another.
    metrics: GpuTensor,
    d_step: Schedule,
    g_step: Schedule,
    d_updates: MemberUpdates,
    g_updates: MemberUpdates,
    // Held for the schedules' bind groups.
    _nets: (NetBuffers, DiscriminatorPasses),
    _buffers: Vec<GpuTensor>,
    _dataset: GpuDataset,
}

impl BatchedGan {
    /// Uploads `data`'s points once with every member's training list, stacks the members' initial
    /// parameters and records both steps. Refused by name: no members, a batch outside
    /// 1..=[`MAX_BATCH`], pixel data, an empty or out-of-range training list, parameters of
    /// another length, an invalid knob, members whose D steps per round differ.
    pub fn new(
        kernels: &Kernels,
        data: &Arc<RunData>,
        arch: GanArch,
        (batch, seed): (usize, u32),
        members: &[BatchedGanMember<'_>],
    ) -> Result<Self, ModelError> {
        let invalid = |message: String| ModelError::from(GpuError::invalid("batched gan", message));
        let first = members.first().ok_or_else(|| invalid("a batched GAN needs at least one member".into()))?;
        if batch == 0 || batch > MAX_BATCH {
            return Err(invalid(format!("batch size {batch} is outside 1..={MAX_BATCH}")));
        }
        let Rows::Points(points) = &data.rows else {
            return Err(invalid("the data holds pixels; the GAN trains on f32 points (2D data) only".into()));
        };
        let (latent, dim) = (arch.spec.latent, arch.spec.data_dim);
        if data.dim != dim {
            return Err(invalid(format!("the data's rows hold {} values, the GAN's {dim}", data.dim)));
        }
        let rows = points.len() / dim.max(1);
        for (z, member) in members.iter().enumerate() {
            member.knobs.validate()?;
            if member.train.is_empty() || member.train.iter().any(|&row| row as usize >= rows) {
                return Err(invalid(format!("member {z}'s training rows are empty or outside the {rows} rows")));
            }
            for (net, init, layout) in [("generator", member.g_init, &arch.g_layout), ("discriminator", member.d_init, &arch.d_layout)] {
                if init.len() != layout.len {
                    return Err(invalid(format!("member {z}'s {net} parameters: {} values, the layout holds {}", init.len(), layout.len)));
                }
            }
            if member.knobs.d_steps != first.knobs.d_steps {
                return Err(invalid(format!(
                    "member {z} takes {} D steps per round, member 0 {}: a batched group replays one count",
                    member.knobs.d_steps, first.knobs.d_steps
                )));
            }
        }
        let ctx = kernels.context().clone();
        let k = kernels;
        let count = members.len();
        let (g_stacked, d_stacked) = (arch.g_layout.stacked(count), arch.d_layout.stacked(count));
        let stack = |layout: &latent_core::model::ParamLayout, inits: Vec<&[f32]>| {
            layout.stack(&inits).ok_or_else(|| invalid("the members' parameters do not stack".into()))
        };
        let generator = NetParams::new(&ctx, "batched_gan.generator", &g_stacked, &stack(&arch.g_layout, members.iter().map(|m| m.g_init).collect())?)?;
        let discriminator = NetParams::new(&ctx, "batched_gan.discriminator", &d_stacked, &stack(&arch.d_layout, members.iter().map(|m| m.d_init).collect())?)?;
        let train: Vec<u32> = members.iter().flat_map(|m| m.train.iter().copied()).collect();
        let dataset = GpuDataset::upload_lists(&ctx, data, &train, &data.test)?;
        if dataset.data.kind() != ElementKind::F32 {
            return Err(invalid(format!("{} is not f32 points", dataset.data.describe())));
        }
        let mut slices: Vec<IndexSlice> = Vec::with_capacity(count);
        for member in members {
            let first = slices.last().map_or(0, |s| s.first + s.len);
            slices.push(IndexSlice { first, len: member.train.len() });
        }
        let counters = ctx.upload_u32("batched_gan.counters", 1, 2, &[0, 0])?;
        let metrics = ctx.zeros("batched_gan.metrics", count, METRICS)?;
        let g_net = NetBuffers::of_models(&ctx, &g_stacked, &arch.generator, "batched_gan.generator", (batch, count), &generator.params, &generator.grads)?;
        let passes = DiscriminatorPasses::of_models(&ctx, &d_stacked, &arch.discriminator, &discriminator, (batch, count))?;
        let rows = count * batch;
        let x = ctx.zeros("batched_gan.real_batch", rows, dim)?;
        let zero_posterior = ctx.zeros("batched_gan.zero_posterior", rows, 2 * latent)?;
        let (z, eps) = (ctx.zeros("batched_gan.z", rows, latent)?, ctx.zeros("batched_gan.eps", rows, latent)?);
        let noise = |stream, counter_index| ReparamSpec { seed, stream, counter_index, sample: true };
        let g_stacking = Stacked { layout: &arch.g_layout, stacked: &g_stacked, models: count };
        let d_stacking = Stacked { layout: &arch.d_layout, stacked: &d_stacked, models: count };
        let penalty_slot = |index| PenaltySlots { out: &metrics, index, accumulate: false };

        // The D step, dispatch for dispatch GpuGan's, each over every member.
        let mut d = Schedule::new(format!("batched gan discriminator step ×{count}"));
        d.push(k.gather_of_models(&dataset.data, &dataset.indices, &counters, &x, &slices, GatherSpec { index_base: 0, cursor_counter: Some(D_COUNTER) })?);
        d.push(k.reparam_forward_of_models(&zero_posterior, &z, &eps, &counters, noise(D_NOISE_STREAM, D_COUNTER), count)?);
        g_net.forward(k, &arch.generator, &z, &mut d)?;
        let fake = g_net.output()?;
        passes.push_discriminator_gradients(k, &arch.discriminator, &x, fake, &metrics, &mut d)?;
        let d_updates = d_stacking.push_update(k, &mut d, discriminator.stacked_update((&counters, D_COUNTER)), (penalty_slot(D_PENALTY), METRICS))?;
        d.push(k.advance_counter(&counters, D_COUNTER, 1)?);

        // The G step.
        let mut g = Schedule::new(format!("batched gan generator step ×{count}"));
        g.push(k.reparam_forward_of_models(&zero_posterior, &z, &eps, &counters, noise(G_NOISE_STREAM, G_COUNTER), count)?);
        g_net.forward(k, &arch.generator, &z, &mut g)?;
        let fakes = Fakes { rows: fake, grad: g_net.output_grad()? };
        passes.push_generator_signal(k, &arch.discriminator, fakes, &metrics, 1.0 / batch as f32, &mut g)?;
        g_net.backward(k, &arch.generator, &z, None, false, &mut g)?;
        let g_updates = g_stacking.push_update(k, &mut g, generator.stacked_update((&counters, G_COUNTER)), (penalty_slot(G_PENALTY), METRICS))?;
        g.push(k.advance_counter(&counters, G_COUNTER, 1)?);

        let mut gan = Self {
            arch,
            ctx,
            members: count,
            d_steps: first.knobs.d_steps,
            generator,
            discriminator,
            counters,
            metrics,
            d_step: d,
            g_step: g,
            d_updates,
            g_updates,
            _nets: (g_net, passes),
            _buffers: vec![x, zero_posterior, z, eps],
            _dataset: dataset,
        };
        for (z, member) in members.iter().enumerate() {
            gan.set_member_knobs(z, member.knobs)?;
        }
        Ok(gan)
    }

    /// How many GANs train here.
    pub fn members(&self) -> usize {
        self.members
    }

    /// The recorded D and G steps (a round replays the D step `d_steps` times, then the G step).
    pub fn step_schedules(&self) -> [&Schedule; 2] {
        [&self.d_step, &self.g_step]
    }

    /// D steps per round, every member's.
    pub fn d_steps(&self) -> u32 {
        self.d_steps
    }

    /// Member `member`'s λ_G, λ_D and learning rates: written into its blocks only; the others
    /// train on as they were. D steps per round is the group's: another count is refused.
    pub fn set_member_knobs(&mut self, member: usize, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        if member >= self.members {
            return Err(GpuError::invalid("batched gan", format!("no member {member} of {}", self.members)).into());
        }
        if knobs.d_steps != self.d_steps {
            return Err(GpuError::invalid(
                "batched gan",
                format!("{} D steps per round for member {member}: the group replays {}", knobs.d_steps, self.d_steps),
            )
            .into());
        }
        let update = |l2, adam| MemberUpdate { l1: 0.0, l2, adam, sgd: None };
        self.d_updates.apply(&self.ctx, &self.d_step, member, update(knobs.l2_discriminator(), knobs.adam_discriminator()))?;
        self.g_updates.apply(&self.ctx, &self.g_step, member, update(knobs.l2_generator(), knobs.adam_generator()))?;
        Ok(())
    }

    /// `rounds` rounds of every member (each `d_steps` D steps, then one G step), in one
    /// submission; returns without waiting.
    pub fn train(&mut self, rounds: usize) -> Result<(), ModelError> {
        submit_rounds(&self.ctx, [&self.d_step, &self.g_step], self.d_steps, rounds)
    }

    /// Each member's metrics of the latest D and G steps (one readback for all).
    pub async fn member_metrics(&self) -> Result<Vec<GanMetrics>, ModelError> {
        self.ctx.check_no_uncaptured_errors("batched gan step")?;
        let values = read_f32(&self.ctx, &self.metrics).await?;
        Ok(values
            .chunks(METRICS)
            .map(|v| {
                let at = |i: usize| v.get(i).copied().map_or(f64::NAN, f64::from);
                GanMetrics { discriminator: discriminator_metrics(v), generator_loss: at(G_LOSS), generator_l2_term: at(G_PENALTY) }
            })
            .collect())
    }

    /// Each member's (generator, discriminator) parameters, in the arch's layouts.
    pub async fn member_parameters(&self) -> Result<Vec<(Vec<f32>, Vec<f32>)>, ModelError> {
        let (g, d) = (read_f32(&self.ctx, &self.generator.params).await?, read_f32(&self.ctx, &self.discriminator.params).await?);
        let short = || ModelError::from(GpuError::invalid("batched gan", "parameters read back short"));
        (0..self.members)
            .map(|z| {
                Ok((self.arch.g_layout.unstack(&g, self.members, z).ok_or_else(short)?, self.arch.d_layout.unstack(&d, self.members, z).ok_or_else(short)?))
            })
            .collect()
    }

    /// (D steps, G steps) taken (every member takes each one).
    pub async fn steps_done(&self) -> Result<(u32, u32), ModelError> {
        let c = read_u32(&self.ctx, &self.counters).await?;
        Ok((c.first().copied().unwrap_or(0), c.get(1).copied().unwrap_or(0)))
    }
}
