//! Uniform blocks, `#[repr(C)]` mirrors of the WGSL structs of the same name (a test checks that
//! naga lays each out with the same size), and the checks on their values ([`Uniform::check`]) that
//! every dispatch build and every later knob rewrite of a block goes through.

use bytemuck::{Pod, Zeroable};
use latent_core::ops::optimizer::{AdamConfig, SgdConfig};
use latent_core::rng::drop_threshold;

use crate::error::GpuError;
use crate::ops::MAX_DROP_PROBABILITY;

/// A uniform block. `check` refuses values the kernel must never see (a NaN learning rate, a
/// negative penalty); [`Kernels::dispatch`](crate::Kernels) runs it on every block it builds and
/// [`Schedule::retune`](crate::Schedule::retune) on every block it rewrites, so a knob changed on
/// a running model meets the same checks as at build.
pub trait Uniform: Pod {
    /// The kernel the block belongs to, for error messages.
    const OP: &'static str;

    fn check(&self) -> Result<(), GpuError> {
        Ok(())
    }
}

/// Fails unless every value is finite and ≥ 0.
fn finite_non_negative(op: &'static str, values: &[(&str, f32)]) -> Result<(), GpuError> {
    match values.iter().find(|(_, v)| !v.is_finite() || *v < 0.0) {
        Some((name, v)) => Err(GpuError::invalid(op, format!("{name} must be finite and ≥ 0, got {v}"))),
        None => Ok(()),
    }
}

/// Fails unless a dropout block's threshold and keep scale come from a probability in
/// [0, [`MAX_DROP_PROBABILITY`]].
fn check_dropout(op: &'static str, threshold: u32, keep_scale: f32) -> Result<(), GpuError> {
    if threshold > drop_threshold(MAX_DROP_PROBABILITY) || !keep_scale.is_finite() || keep_scale < 0.0 {
        return Err(GpuError::invalid(op, format!("drop probability outside [0, {MAX_DROP_PROBABILITY}] (threshold {threshold}, keep scale {keep_scale})")));
    }
    Ok(())
}

/// Fails unless a scale is finite.
fn finite_scale(op: &'static str, scale: f32) -> Result<(), GpuError> {
    if scale.is_finite() {
        Ok(())
    } else {
        Err(GpuError::invalid(op, format!("scale must be finite, got {scale}")))
    }
}

/// How many models one matmul dispatch can give their own drop probability (the per-model table
/// in [`MatmulParams`]; a sweep holds at most 12 values × 5 folds = 60).
pub const MAX_DROPOUT_MODELS: usize = 64;

/// `MatmulParams` of `shaders/lib/matmul_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Pod, Zeroable)]
pub struct MatmulParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub accumulate: u32,
    pub dropout_seed: u32,
    pub dropout_stream: u32,
    pub dropout_counter: u32,
    pub _pad: u32,
    /// Batched models: how many elements apart consecutive models' A, B, C and epilogue operand
    /// lie (0: one matrix all models share; all 0 for a single model).
    pub stride_a: u32,
    pub stride_b: u32,
    pub stride_c: u32,
    pub stride_operand: u32,
    /// Per model z (a dropout sweep's members differ only here): [threshold (0: no dropout, else
    /// round(p·2²⁴)), keep scale 1/(1 − p) as f32 bits, 0, 0]. A single model reads entry 0.
    pub dropouts: [[u32; 4]; MAX_DROPOUT_MODELS],
}

impl Default for MatmulParams {
    fn default() -> Self {
        Self::zeroed()
    }
}

/// `ElementwiseParams` of `shaders/activation.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ElementwiseParams {
    pub len: u32,
    pub activation: u32,
    pub accumulate: u32,
    pub _pad: u32,
}

/// `ReduceParams` of `shaders/reduce.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ReduceParams {
    pub rows: u32,
    pub cols: u32,
    pub out_index: u32,
    pub accumulate: u32,
    pub scale: f32,
    /// Batched models: how far apart consecutive models' sums lie in `out`.
    pub out_stride: u32,
    pub _pad: [u32; 2],
}

/// `LossParams` of `shaders/lib/loss_params.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct LossParams {
    pub rows: u32,
    pub cols: u32,
    pub accumulate: u32,
    pub _pad0: u32,
    pub scale: f32,
    pub aux: f32,
    pub _pad1: [u32; 2],
}

/// `KlParams` of `shaders/kl.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct KlParams {
    pub rows: u32,
    pub latent: u32,
    pub accumulate: u32,
    /// Batched models: the model's first element of h (and of the backward's gradient).
    pub first: u32,
    pub scale: f32,
    /// Batched models: the model's first value of the forward's output.
    pub out_first: u32,
    pub _pad1: [u32; 2],
}

/// `ReparamParams` of `shaders/reparam.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct ReparamParams {
    pub rows: u32,
    pub latent: u32,
    pub seed: u32,
    pub stream: u32,
    pub counter_index: u32,
    pub sample: u32,
    pub accumulate: u32,
    pub _pad: u32,
}

/// `DropoutParams` of `shaders/dropout.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct DropoutParams {
    pub len: u32,
    pub threshold: u32,
    pub seed: u32,
    pub stream: u32,
    pub counter_index: u32,
    pub accumulate: u32,
    pub keep_scale: f32,
    pub _pad: u32,
}

/// `PenaltyParams` of `shaders/penalty.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct PenaltyParams {
    pub offset: u32,
    pub len: u32,
    pub out_index: u32,
    /// Value dispatch only: 1 adds to the output slots instead of overwriting them.
    pub accumulate: u32,
    pub l1: f32,
    pub l2: f32,
    pub _pad1: [u32; 2],
}

/// `OptimizerParams` of `shaders/optimizer.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct OptimizerParams {
    pub offset: u32,
    pub len: u32,
    pub counter_index: u32,
    pub _pad0: u32,
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub momentum: f32,
    pub _pad1: [u32; 3],
}

/// `CounterParams` of `shaders/counter.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct CounterParams {
    pub index: u32,
    pub amount: u32,
    pub _pad: [u32; 2],
}

/// `GatherParams` of `shaders/gather.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct GatherParams {
    pub rows: u32,
    pub cols: u32,
    pub index_len: u32,
    pub index_base: u32,
    pub counter_index: u32,
    pub use_counter: u32,
    /// Where the model's index list starts in the index buffer (a batched gather's fold).
    pub index_first: u32,
    pub _pad: u32,
}

impl Uniform for MatmulParams {
    const OP: &'static str = "matmul";

    fn check(&self) -> Result<(), GpuError> {
        self.dropouts.iter().try_for_each(|&[threshold, keep_scale, ..]| check_dropout(Self::OP, threshold, f32::from_bits(keep_scale)))
    }
}

impl Uniform for ElementwiseParams {
    const OP: &'static str = "activation";
}

impl Uniform for ReduceParams {
    const OP: &'static str = "reduce";

    fn check(&self) -> Result<(), GpuError> {
        finite_scale(Self::OP, self.scale)
    }
}

impl Uniform for LossParams {
    const OP: &'static str = "loss";

    fn check(&self) -> Result<(), GpuError> {
        finite_scale(Self::OP, self.scale)?;
        finite_scale(Self::OP, self.aux)
    }
}

impl Uniform for KlParams {
    const OP: &'static str = "kl";

    fn check(&self) -> Result<(), GpuError> {
        finite_scale(Self::OP, self.scale)
    }
}

impl Uniform for ReparamParams {
    const OP: &'static str = "reparam";
}

impl Uniform for DropoutParams {
    const OP: &'static str = "dropout";

    fn check(&self) -> Result<(), GpuError> {
        check_dropout(Self::OP, self.threshold, self.keep_scale)
    }
}

impl PenaltyParams {
    /// The strengths a knob sets.
    pub fn set_strengths(&mut self, l1: f32, l2: f32) {
        (self.l1, self.l2) = (l1, l2);
    }
}

impl Uniform for PenaltyParams {
    const OP: &'static str = "penalty";

    fn check(&self) -> Result<(), GpuError> {
        finite_non_negative(Self::OP, &[("L1 strength", self.l1), ("L2 strength", self.l2)])
    }
}

impl OptimizerParams {
    /// Adam's settings (the block of an Adam dispatch).
    pub fn set_adam(&mut self, cfg: AdamConfig) {
        (self.lr, self.beta1, self.beta2, self.eps) = (cfg.lr, cfg.beta1, cfg.beta2, cfg.eps);
    }

    /// SGD's settings (the block of an SGD dispatch).
    pub fn set_sgd(&mut self, cfg: SgdConfig) {
        (self.lr, self.momentum) = (cfg.lr, cfg.momentum);
    }
}

impl Uniform for OptimizerParams {
    const OP: &'static str = "optimizer";

    fn check(&self) -> Result<(), GpuError> {
        let values = [("learning rate", self.lr), ("β₁", self.beta1), ("β₂", self.beta2), ("ε", self.eps), ("momentum", self.momentum)];
        finite_non_negative(Self::OP, &values)?;
        match values[1..].iter().find(|(name, v)| *name != "ε" && *v >= 1.0) {
            Some((name, v)) => Err(GpuError::invalid(Self::OP, format!("{name} must be < 1, got {v}"))),
            None => Ok(()),
        }
    }
}

impl Uniform for CounterParams {
    const OP: &'static str = "counter";
}

impl Uniform for GatherParams {
    const OP: &'static str = "gather";
}
