//! `optimizer.wgsl` and `counter.wgsl`: parameter updates and the GPU step counters they read.

use latent_core::ops::optimizer::{AdamConfig, SgdConfig};

use super::dim;
use super::vae::expect_counter;
use crate::dispatch::{linear_workgroups, Dispatch};
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

    pub(crate) fn check(self, op: &'static str, tensor: &GpuTensor) -> Result<(), GpuError> {
        let end = self.offset.checked_add(self.len);
        if self.len == 0 || end.is_none_or(|end| end > tensor.len()) || tensor.kind() != ElementKind::F32 {
            return Err(GpuError::invalid(op, format!("range {}..+{} does not fit {}", self.offset, self.len, tensor.describe())));
        }
        Ok(())
    }
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
        let AdamBuffers { weights, grads, m, v, counters, counter_index } = b;
        const OP: &str = "adam";
        range.check(OP, weights)?;
        for t in [grads, m, v] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_counter(OP, counters, counter_index)?;
        expect_distinct(OP, weights, &[grads, m, v])?;
        expect_distinct(OP, m, &[grads, v])?;
        expect_distinct(OP, v, &[grads])?;
        let mut params = OptimizerParams { offset: dim(OP, range.offset)?, len: dim(OP, range.len)?, counter_index, ..OptimizerParams::default() };
        params.set_adam(cfg);
        let buffers = [(0, weights), (1, grads), (2, m), (3, v), (4, counters)];
        self.dispatch(format!("optimizer.adam {}", weights.label()), &self.adam, &buffers, &params, 5, linear_workgroups(range.len))
    }

    /// SGD with momentum over `range` (momentum 0 is plain SGD); the velocity lives in `velocity`.
    pub fn sgd(&self, weights: &GpuTensor, grads: &GpuTensor, velocity: &GpuTensor, range: ParamRange, cfg: SgdConfig) -> Result<Dispatch, GpuError> {
        const OP: &str = "sgd";
        range.check(OP, weights)?;
        for t in [grads, velocity] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_distinct(OP, weights, &[grads, velocity])?;
        expect_distinct(OP, velocity, &[grads])?;
        let mut params = OptimizerParams { offset: dim(OP, range.offset)?, len: dim(OP, range.len)?, ..OptimizerParams::default() };
        params.set_sgd(cfg);
        let buffers = [(0, weights), (1, grads), (2, velocity)];
        self.dispatch(format!("optimizer.sgd {}", weights.label()), &self.sgd, &buffers, &params, 5, linear_workgroups(range.len))
    }

    /// counters[index] += amount; record it last in a step.
    pub fn advance_counter(&self, counters: &GpuTensor, index: u32, amount: u32) -> Result<Dispatch, GpuError> {
        const OP: &str = "advance counter";
        expect_counter(OP, counters, index)?;
        let params = CounterParams { index, amount, _pad: [0; 2] };
        self.dispatch(format!("counter.advance {}[{index}]", counters.label()), &self.counter_advance, &[(0, counters)], &params, 1, [1, 1, 1])
    }
}
