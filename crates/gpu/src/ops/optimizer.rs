//! `optimizer.wgsl` and `counter.wgsl`: parameter updates and the GPU step counters they read.

use latent_core::ops::optimizer::{AdamConfig, SgdConfig};

use super::vae::expect_counter;
use super::{batch_suffix, dim, is_slice_of, model_count, per_model_workgroups};
use crate::dispatch::Dispatch;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::{CounterParams, OptimizerParams};
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// A slice [offset, offset + len) of a flat parameter buffer: one network's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamRange {
    pub offset: usize,
    pub len: usize,
}

impl ParamRange {
    /// The whole of `tensor`.
    pub fn all(tensor: &GpuTensor) -> Self {
        Self { offset: 0, len: tensor.len() }
    }

    fn end(self) -> usize {
        self.offset + self.len
    }

    pub(crate) fn check(self, op: &'static str, tensor: &GpuTensor) -> Result<(), GpuError> {
        if !is_slice_of(self.offset, self.len, tensor.len()) || tensor.kind() != ElementKind::F32 {
            return Err(GpuError::invalid(op, format!("range {}..+{} does not fit {}", self.offset, self.len, tensor.describe())));
        }
        Ok(())
    }
}

/// Elements each invocation of a kernel over a parameter range updates (`RUN` in
/// `lib/indexing.wgsl`): a batched dispatch reads its model's block once per run, not per element.
pub(crate) const RUN: usize = 8;

/// Checks a batched dispatch's models' ranges (each in `tensor`) and that no two overlap: each
/// model's threads write its own slice, so shared elements would race. Returns the workgroups:
/// the longest range's (in runs of [`RUN`] elements), × one per model in z.
pub(crate) fn model_ranges(op: &'static str, tensor: &GpuTensor, ranges: &[ParamRange], disjoint: bool) -> Result<[u32; 3], GpuError> {
    let models = model_count(op, ranges.len())?;
    for range in ranges {
        range.check(op, tensor)?;
    }
    if disjoint {
        let mut sorted = ranges.to_vec();
        sorted.sort_by_key(|r| r.offset);
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0].end() > pair[1].offset) {
            return Err(GpuError::invalid(
                op,
                format!("models' ranges {}..{} and {}..{} overlap", pair[0].offset, pair[0].end(), pair[1].offset, pair[1].end()),
            ));
        }
    }
    let longest = ranges.iter().map(|r| r.len).max().unwrap_or(1);
    Ok(per_model_workgroups(longest.div_ceil(RUN), models as usize))
}

/// What one Adam update reads and writes: a network's parameters, gradients and moments, and the
/// step counter its bias correction reads (t = counters[counter_index] + 1).
#[derive(Clone, Copy, Debug)]
pub struct AdamBuffers<'a> {
    pub weights: &'a GpuTensor,
    pub grads: &'a GpuTensor,
    pub m: &'a GpuTensor,
    pub v: &'a GpuTensor,
    pub counters: &'a GpuTensor,
    pub counter_index: u32,
}

impl Kernels {
    /// One bias-corrected Adam step over `range` of the parameters.
    pub fn adam(&self, b: AdamBuffers<'_>, range: ParamRange, cfg: AdamConfig) -> Result<Dispatch, GpuError> {
        self.adam_of_models(b, &[(range, cfg)])
    }

    /// K models' Adam steps in one dispatch (a sweep's batched step): model z updates its own
    /// range with its own settings (a learning-rate sweep's members differ only there), each bit
    /// for bit its update alone. Ranges must not overlap; all read the one step counter.
    pub fn adam_of_models(&self, b: AdamBuffers<'_>, models: &[(ParamRange, AdamConfig)]) -> Result<Dispatch, GpuError> {
        let AdamBuffers { weights, grads, m, v, counters, counter_index } = b;
        const OP: &str = "adam";
        let ranges: Vec<ParamRange> = models.iter().map(|&(range, _)| range).collect();
        let workgroups = model_ranges(OP, weights, &ranges, true)?;
        for t in [grads, m, v] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_counter(OP, counters, counter_index)?;
        expect_distinct(OP, weights, &[grads, m, v])?;
        expect_distinct(OP, m, &[grads, v])?;
        expect_distinct(OP, v, &[grads])?;
        let blocks = models
            .iter()
            .map(|&(range, cfg)| {
                let mut params = OptimizerParams { offset: dim(OP, range.offset)?, len: dim(OP, range.len)?, counter_index, ..OptimizerParams::default() };
                params.set_adam(cfg);
                Ok(params)
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        let buffers = [(0, weights), (1, grads), (2, m), (3, v), (4, counters)];
        self.dispatch_per_model(format!("optimizer.adam{} {}", batch_suffix(models.len()), weights.label()), &self.adam, &buffers, &blocks, 5, workgroups)
    }

    /// SGD with momentum over `range` (momentum 0 is plain SGD); the velocity lives in `velocity`.
    pub fn sgd(&self, weights: &GpuTensor, grads: &GpuTensor, velocity: &GpuTensor, range: ParamRange, cfg: SgdConfig) -> Result<Dispatch, GpuError> {
        self.sgd_of_models(weights, grads, velocity, &[(range, cfg)])
    }

    /// K models' SGD steps in one dispatch, each model its own range and settings, as
    /// [`adam_of_models`](Self::adam_of_models).
    pub fn sgd_of_models(
        &self,
        weights: &GpuTensor,
        grads: &GpuTensor,
        velocity: &GpuTensor,
        models: &[(ParamRange, SgdConfig)],
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "sgd";
        let ranges: Vec<ParamRange> = models.iter().map(|&(range, _)| range).collect();
        let workgroups = model_ranges(OP, weights, &ranges, true)?;
        for t in [grads, velocity] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_distinct(OP, weights, &[grads, velocity])?;
        expect_distinct(OP, velocity, &[grads])?;
        let blocks = models
            .iter()
            .map(|&(range, cfg)| {
                let mut params = OptimizerParams { offset: dim(OP, range.offset)?, len: dim(OP, range.len)?, ..OptimizerParams::default() };
                params.set_sgd(cfg);
                Ok(params)
            })
            .collect::<Result<Vec<_>, GpuError>>()?;
        let buffers = [(0, weights), (1, grads), (2, velocity)];
        self.dispatch_per_model(format!("optimizer.sgd{} {}", batch_suffix(models.len()), weights.label()), &self.sgd, &buffers, &blocks, 5, workgroups)
    }

    /// counters[index] += amount; record it last in a step.
    pub fn advance_counter(&self, counters: &GpuTensor, index: u32, amount: u32) -> Result<Dispatch, GpuError> {
        const OP: &str = "advance counter";
        expect_counter(OP, counters, index)?;
        let params = CounterParams { index, amount, _pad: [0; 2] };
        self.dispatch(format!("counter.advance {}[{index}]", counters.label()), &self.counter_advance, &[(0, counters)], &params, 1, [1, 1, 1])
    }
}
