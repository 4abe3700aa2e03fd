//! Uniform blocks, `#[repr(C)]` mirrors of the WGSL structs of the same name (a test checks that
//! naga lays each out with the same size).

use bytemuck::{Pod, Zeroable};

/// `MatmulParams` of `shaders/lib/matmul_common.wgsl`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
pub struct MatmulParams {
    pub m: u32,
    pub n: u32,
    pub k: u32,
    pub accumulate: u32,
    /// 0: no dropout; else round(p·2²⁴).
    pub dropout_threshold: u32,
    pub dropout_seed: u32,
    pub dropout_stream: u32,
    pub dropout_counter: u32,
    pub keep_scale: f32,
    pub _pad: [u32; 3],
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
    pub _pad: [u32; 3],
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
    pub _pad0: u32,
    pub scale: f32,
    pub _pad1: [u32; 3],
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
    pub _pad: [u32; 2],
}
