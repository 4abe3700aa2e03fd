//! `optimizer.wgsl` and `counter.wgsl`: parameter updates and the GPU step counters they read.

use latent_core::ops::optimizer::AdamConfig;

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

fn check_hyper(op: &'static str, values: &[(&str, f32)]) -> Result<(), GpuError> {
    match values.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
        Some((name, v)) => Err(GpuError::invalid(op, format!("{name} must be finite and ≥ 0, got {v}"))),
        None => Ok(()),
    }
}

/// The uniform block of an Adam update (also used to change the learning rate on a built dispatch).
pub fn adam_params(range: ParamRange, counter_index: u32, cfg: AdamConfig) -> Result<OptimizerParams, GpuError> {
    const OP: &str = "adam";
    check_hyper(OP, &[("learning rate", cfg.lr), ("β₁", cfg.beta1), ("β₂", cfg.beta2), ("ε", cfg.eps)])?;
    if cfg.beta1 >= 1.0 || cfg.beta2 >= 1.0 {
        return Err(GpuError::invalid(OP, format!("β₁ and β₂ must be < 1 (got {}, {})", cfg.beta1, cfg.beta2)));
    }
    Ok(OptimizerParams {
        offset: dim(OP, range.offset)?,
        len: dim(OP, range.len)?,
        counter_index,
        lr: cfg.lr,
        beta1: cfg.beta1,
        beta2: cfg.beta2,
        eps: cfg.eps,
        ..OptimizerParams::default()
    })
}

/// The uniform block of an SGD update (also used to change its settings on a built dispatch).
pub fn sgd_params(range: ParamRange, lr: f32, momentum: f32) -> Result<OptimizerParams, GpuError> {
    const OP: &str = "sgd";
    check_hyper(OP, &[("learning rate", lr), ("momentum", momentum)])?;
    if momentum >= 1.0 {
        return Err(GpuError::invalid(OP, format!("momentum must be < 1, got {momentum}")));
    }
    Ok(OptimizerParams { offset: dim(OP, range.offset)?, len: dim(OP, range.len)?, lr, momentum, ..OptimizerParams::default() })
}

impl Kernels {
    /// One bias-corrected Adam step over `range`; t = counters[counter_index] + 1.
    #[allow(clippy::too_many_arguments)]
    pub fn adam(
        &self,
        weights: &GpuTensor,
        grads: &GpuTensor,
        m: &GpuTensor,
        v: &GpuTensor,
        counters: &GpuTensor,
        counter_index: u32,
        range: ParamRange,
        cfg: AdamConfig,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "adam";
        range.check(OP, weights)?;
        for t in [grads, m, v] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_counter(OP, counters, counter_index)?;
        expect_distinct(OP, weights, &[grads, m, v])?;
        expect_distinct(OP, m, &[grads, v])?;
        expect_distinct(OP, v, &[grads])?;
        let params = adam_params(range, counter_index, cfg)?;
        let buffers = [(0, weights), (1, grads), (2, m), (3, v), (4, counters)];
        Ok(self.dispatch(format!("optimizer.adam {}", weights.label()), &self.adam, &buffers, &params, 5, linear_workgroups(range.len)))
    }

    /// SGD with momentum over `range` (momentum 0 is plain SGD); the velocity lives in `velocity`.
    pub fn sgd(&self, weights: &GpuTensor, grads: &GpuTensor, velocity: &GpuTensor, range: ParamRange, lr: f32, momentum: f32) -> Result<Dispatch, GpuError> {
        const OP: &str = "sgd";
        range.check(OP, weights)?;
        for t in [grads, velocity] {
            t.expect_len(OP, weights.len(), ElementKind::F32)?;
        }
        expect_distinct(OP, weights, &[grads, velocity])?;
        expect_distinct(OP, velocity, &[grads])?;
        let params = sgd_params(range, lr, momentum)?;
        let buffers = [(0, weights), (1, grads), (2, velocity)];
        Ok(self.dispatch(format!("optimizer.sgd {}", weights.label()), &self.sgd, &buffers, &params, 5, linear_workgroups(range.len)))
    }

    /// counters[index] += amount; record it last in a step.
    pub fn advance_counter(&self, counters: &GpuTensor, index: u32, amount: u32) -> Result<Dispatch, GpuError> {
        const OP: &str = "advance counter";
        expect_counter(OP, counters, index)?;
        let params = CounterParams { index, amount, _pad: [0; 2] };
        Ok(self.dispatch(format!("counter.advance {}[{index}]", counters.label()), &self.counter_advance, &[(0, counters)], &params, 1, [1, 1, 1]))
    }
}
