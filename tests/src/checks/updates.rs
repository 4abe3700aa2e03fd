//! Batched parameter updates (a sweep's K models in one dispatch): each model's penalty, Adam and
//! SGD step, with its own knobs in its own block of a storage array, is bit for bit its step alone,
//! also after one model's knob changes between steps.

use anyhow::bail;
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};
use latent_core::Matrix;
use latent_gpu::ops::{AdamBuffers, ParamRange, PenaltySlots, PenaltySpec};
use latent_gpu::params::{OptimizerParams, PenaltyParams};
use latent_gpu::{GpuTensor, Schedule, Tuned};

use super::errors::expect_err;
use crate::harness::{model_block, Check, Harness, Inputs};

const K: usize = 3;
/// Each model's share of the stacked buffers; its range starts 10 in and differs in length.
const SHARE: usize = 1000;
const LENS: [usize; K] = [900, 900, 700];
/// Each model's metrics: L2 and L1 penalty values and a gap that must stay 0.
const SLOTS: usize = 3;

fn adam_of(z: usize) -> AdamConfig {
    [
        AdamConfig { lr: 0.01, ..AdamConfig::default() },
        AdamConfig { lr: 0.003, beta1: 0.8, ..AdamConfig::default() },
        AdamConfig { lr: 0.05, ..AdamConfig::default() },
    ][z]
}

fn sgd_of(z: usize) -> SgdConfig {
    [SgdConfig { lr: 0.1, momentum: 0.9 }, SgdConfig { lr: 0.02, momentum: 0.0 }, SgdConfig { lr: 0.05, momentum: 0.5 }][z]
}

fn penalty_of(z: usize, range: ParamRange) -> PenaltySpec {
    let (l1, l2) = [(0.001, 0.02), (0.003, 0.004), (0.01, 0.05)][z];
    PenaltySpec { range, l1, l2 }
}

/// One training step's updates over `models` (model index, range) in one schedule: penalty
/// gradient and values, Adam, SGD on a second copy of the weights, the step counter.
struct Updates {
    adam_w: GpuTensor,
    m: GpuTensor,
    v: GpuTensor,
    sgd_w: GpuTensor,
    velocity: GpuTensor,
    grads: GpuTensor,
    metrics: GpuTensor,
    /// The mask and the step counter: bound by the schedule, destroyed on drop.
    _held: [GpuTensor; 2],
    step: Schedule,
    adam: Tuned<OptimizerParams>,
    penalty: Tuned<PenaltyParams>,
}

impl Updates {
    fn new(h: &Harness, w0: &Matrix<f64>, mask: &[f32], models: &[(usize, ParamRange)]) -> anyhow::Result<Self> {
        let k = &h.kernels;
        let len = w0.data.len();
        let (adam_w, sgd_w) = (h.upload("w", w0)?, h.upload("w", w0)?);
        let (m, v, velocity, grads) = (h.zeros("m", 1, len)?, h.zeros("v", 1, len)?, h.zeros("velocity", 1, len)?, h.zeros("grads", 1, len)?);
        let (mask, counters, metrics) = (h.ctx.upload_f32("mask", 1, len, mask)?, h.counters(&[0])?, h.zeros("metrics", 1, SLOTS * models.len())?);
        let penalties: Vec<PenaltySpec> = models.iter().map(|&(z, range)| penalty_of(z, range)).collect();
        let adams: Vec<(ParamRange, AdamConfig)> = models.iter().map(|&(z, range)| (range, adam_of(z))).collect();
        let sgds: Vec<(ParamRange, SgdConfig)> = models.iter().map(|&(z, range)| (range, sgd_of(z))).collect();
        let mut step = Schedule::new("updates");
        let penalty = step.push_tuned(k.penalty_gradient_of_models(&adam_w, &mask, &grads, &penalties)?)?;
        let slots = PenaltySlots { out: &metrics, index: 0, accumulate: true };
        step.push(k.penalty_value_of_models(&adam_w, &mask, slots, SLOTS, &penalties)?);
        let buffers = AdamBuffers { weights: &adam_w, grads: &grads, m: &m, v: &v, counters: &counters, counter_index: 0 };
        let adam = step.push_tuned(k.adam_of_models(buffers, &adams)?)?;
        step.push(k.sgd_of_models(&sgd_w, &grads, &velocity, &sgds)?);
        step.push(k.advance_counter(&counters, 0, 1)?);
        Ok(Self { adam_w, m, v, sgd_w, velocity, grads, metrics, _held: [mask, counters], step, adam, penalty })
    }

    async fn read(&self, h: &Harness) -> anyhow::Result<[Vec<f32>; 6]> {
        Ok([
            h.read(&self.adam_w).await?,
            h.read(&self.m).await?,
            h.read(&self.v).await?,
            h.read(&self.sgd_w).await?,
            h.read(&self.velocity).await?,
            h.read(&self.metrics).await?,
        ])
    }
}

/// Model 1's learning rate and model 2's L2 strength change after the first step, as a slider on
/// one member of a sweep would.
const NEW_LR: f32 = 0.02;
const NEW_L2: f32 = 0.1;

pub async fn updates_of_models_match_alone(h: &Harness) -> Check {
    let mut inputs = Inputs::new(43);
    // Away from 0 so that sign(w) in the L1 gradient never flips between runs.
    let w0 = inputs.matrix_away_from_zero(K, SHARE, 1.0, 1e-3);
    let grads: Vec<Matrix<f64>> = (0..3).map(|_| inputs.matrix(K, SHARE, -1.0, 1.0)).collect();
    let mask: Vec<f32> = (0..K * SHARE).map(|i| if i % 3 == 2 { 0.0 } else { 1.0 }).collect();
    let range = |z: usize, first: usize| ParamRange { offset: first + 10, len: LENS[z] };

    let stacked: Vec<(usize, ParamRange)> = (0..K).map(|z| (z, range(z, z * SHARE))).collect();
    let batched = Updates::new(h, &w0, &mask, &stacked)?;
    let alone: Vec<Updates> =
        (0..K).map(|z| Updates::new(h, &model_block(&w0, K, z)?, &mask[z * SHARE..(z + 1) * SHARE], &[(z, range(z, 0))])).collect::<anyhow::Result<_>>()?;
    for (s, g) in grads.iter().enumerate() {
        h.ctx.write_f32(&batched.grads, &g.to_f32())?;
        batched.step.submit(&h.ctx, 1)?;
        for (z, run) in alone.iter().enumerate() {
            h.ctx.write_f32(&run.grads, &model_block(g, K, z)?.to_f32())?;
            run.step.submit(&h.ctx, 1)?;
        }
        if s == 0 {
            batched.step.retune_model(&h.ctx, batched.adam, 1, |block| {
                block.lr = NEW_LR;
                Ok(())
            })?;
            alone[1].step.retune(&h.ctx, alone[1].adam, |block| {
                block.lr = NEW_LR;
                Ok(())
            })?;
            batched.step.retune_model(&h.ctx, batched.penalty, 2, |block| {
                block.l2 = NEW_L2;
                Ok(())
            })?;
            alone[2].step.retune(&h.ctx, alone[2].penalty, |block| {
                block.l2 = NEW_L2;
                Ok(())
            })?;
        }
    }
    h.no_gpu_errors()?;
    let names = ["Adam weights", "Adam first moment", "Adam second moment", "SGD weights", "SGD velocity"];
    let batched_values = batched.read(h).await?;
    for (z, run) in alone.iter().enumerate() {
        let alone_values = run.read(h).await?;
        for (name, (all, one)) in names.iter().zip(batched_values.iter().zip(&alone_values)) {
            if let Some(i) = (0..SHARE).find(|&i| all[z * SHARE + i].to_bits() != one[i].to_bits()) {
                bail!("model {z} of {K}: {name}[{i}] is {} batched, {} alone", all[z * SHARE + i], one[i]);
            }
        }
        let (all, one) = (&batched_values[5][z * SLOTS..(z + 1) * SLOTS], &alone_values[5][..SLOTS]);
        if all.iter().zip(one).any(|(a, b)| a.to_bits() != b.to_bits()) || one[..2].contains(&0.0) || one[2] != 0.0 {
            bail!("model {z} of {K}: penalty values {all:?} batched, {one:?} alone");
        }
    }
    refusals(h, &batched).await
}

/// Overlapping ranges (the models' threads would race), no models, overlapping value slots, a
/// knob change for a model the dispatch does not hold, and one model's NaN learning rate.
async fn refusals(h: &Harness, run: &Updates) -> Check {
    let k = &h.kernels;
    let counters = h.counters(&[0])?;
    let buffers = AdamBuffers { weights: &run.adam_w, grads: &run.grads, m: &run.m, v: &run.v, counters: &counters, counter_index: 0 };
    let (a, b) = (ParamRange { offset: 0, len: 600 }, ParamRange { offset: 500, len: 600 });
    expect_err("overlapping Adam ranges", k.adam_of_models(buffers, &[(a, adam_of(0)), (b, adam_of(1))]), &["overlap", "0..600", "500..1100"])?;
    expect_err("overlapping SGD ranges", k.sgd_of_models(&run.sgd_w, &run.grads, &run.velocity, &[(b, sgd_of(0)), (a, sgd_of(1))]), &["overlap"])?;
    expect_err("no models", k.adam_of_models(buffers, &[]), &["0 models"])?;
    let mask = h.zeros("mask", 1, run.adam_w.len())?;
    let slots = PenaltySlots { out: &run.metrics, index: 0, accumulate: false };
    let specs = [penalty_of(0, a), penalty_of(1, b)];
    expect_err("overlapping value slots", k.penalty_value_of_models(&run.adam_w, &mask, slots, 1, &specs), &["overlap"])?;
    expect_err("value slots past the end", k.penalty_value_of_models(&run.adam_w, &mask, slots, 3 * K, &specs), &["outside"])?;
    expect_err(
        "a fourth model's knob",
        run.step.retune_model(&h.ctx, run.adam, K, |block| {
            block.lr = 0.1;
            Ok(())
        }),
        &["3 models", "model 3"],
    )?;
    let nan = AdamConfig { lr: f32::NAN, ..AdamConfig::default() };
    let (c, d) = (ParamRange { offset: 0, len: 500 }, ParamRange { offset: 500, len: 500 });
    expect_err("one model's NaN learning rate", k.adam_of_models(buffers, &[(c, adam_of(0)), (d, nan)]), &["learning rate"])?;
    expect_err(
        "one model's NaN on a knob change",
        run.step.retune_model(&h.ctx, run.adam, 2, |block| {
            block.lr = f32::NAN;
            Ok(())
        }),
        &["learning rate"],
    )?;
    h.no_gpu_errors()
}
