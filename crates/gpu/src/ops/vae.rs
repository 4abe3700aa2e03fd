//! `kl.wgsl` and `reparam.wgsl`: the VAE's posterior pieces over h = [μ | logσ²] (rows × 2·latent).

use super::{dim, flag};
use crate::dispatch::{groups_for, linear_workgroups, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::{KlParams, ReparamParams};
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// Where the reparameterization's noise comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReparamSpec {
    pub seed: u32,
    pub stream: u32,
    /// Which GPU step counter numbers the draws.
    pub counter_index: u32,
    /// `false` returns z = μ (evaluation, reconstructions without noise).
    pub sample: bool,
}

/// The latent size of h, or an error if h is not rows × (2·latent).
fn latent_of(op: &'static str, h: &GpuTensor) -> Result<usize, GpuError> {
    if h.kind() != ElementKind::F32 || !h.cols().is_multiple_of(2) {
        return Err(GpuError::shape(op, "rows×(2·latent) f32 [μ | logσ²]", h.describe()));
    }
    Ok(h.cols() / 2)
}

pub(crate) fn expect_counter(op: &'static str, counters: &GpuTensor, index: u32) -> Result<(), GpuError> {
    if counters.kind() != ElementKind::U32 || index as usize >= counters.len() {
        return Err(GpuError::invalid(op, format!("counter {index} is outside {}", counters.describe())));
    }
    Ok(())
}

impl Kernels {
    /// kl_per_dim[d] = scale · Σᵢ KL of dimension d.
    pub fn kl_forward(&self, h: &GpuTensor, kl_per_dim: &GpuTensor, scale: f32) -> Result<Dispatch, GpuError> {
        const OP: &str = "kl forward";
        let latent = latent_of(OP, h)?;
        kl_per_dim.expect_len(OP, latent, ElementKind::F32)?;
        expect_distinct(OP, kl_per_dim, &[h])?;
        let params = KlParams { rows: dim(OP, h.rows())?, latent: dim(OP, latent)?, accumulate: 0, _pad0: 0, scale, _pad1: [0; 3] };
        let label = format!("kl.forward {}", h.label());
        self.dispatch(label, &self.kl_forward, &[(0, h), (1, kl_per_dim)], &params, 2, [groups_for(latent, 64), 1, 1])
    }

    /// dh (+)= scale · ∂KL/∂h (scale is β / batch for a mean-over-batch loss).
    pub fn kl_backward(&self, h: &GpuTensor, dh: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "kl backward";
        let latent = latent_of(OP, h)?;
        dh.expect(OP, h.rows(), h.cols(), ElementKind::F32)?;
        expect_distinct(OP, dh, &[h])?;
        let params = KlParams { rows: dim(OP, h.rows())?, latent: dim(OP, latent)?, accumulate: flag(accumulate), _pad0: 0, scale, _pad1: [0; 3] };
        let label = format!("kl.backward {}", dh.label());
        self.dispatch(label, &self.kl_backward, &[(0, h), (1, dh)], &params, 2, linear_workgroups(h.rows() * latent))
    }

    /// z = μ + exp(½·logσ²)·ε, storing ε for the backward pass.
    pub fn reparam_forward(&self, h: &GpuTensor, z: &GpuTensor, eps: &GpuTensor, counters: &GpuTensor, spec: ReparamSpec) -> Result<Dispatch, GpuError> {
        const OP: &str = "reparam forward";
        let latent = latent_of(OP, h)?;
        z.expect(OP, h.rows(), latent, ElementKind::F32)?;
        eps.expect(OP, h.rows(), latent, ElementKind::F32)?;
        expect_counter(OP, counters, spec.counter_index)?;
        expect_distinct(OP, z, &[h, eps])?;
        expect_distinct(OP, eps, &[h])?;
        let params = ReparamParams {
            rows: dim(OP, h.rows())?,
            latent: dim(OP, latent)?,
            seed: spec.seed,
            stream: spec.stream,
            counter_index: spec.counter_index,
            sample: flag(spec.sample),
            accumulate: 0,
            _pad: 0,
        };
        let buffers = [(0, h), (1, z), (2, eps), (3, counters)];
        self.dispatch(format!("reparam.forward {}", z.label()), &self.reparam_forward, &buffers, &params, 4, linear_workgroups(h.rows() * latent))
    }

    /// dh (+)= ∂z/∂h applied to dz, with the ε the forward pass stored.
    pub fn reparam_backward(&self, h: &GpuTensor, eps: &GpuTensor, dz: &GpuTensor, dh: &GpuTensor, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "reparam backward";
        let latent = latent_of(OP, h)?;
        eps.expect(OP, h.rows(), latent, ElementKind::F32)?;
        dz.expect(OP, h.rows(), latent, ElementKind::F32)?;
        dh.expect(OP, h.rows(), h.cols(), ElementKind::F32)?;
        expect_distinct(OP, dh, &[h, eps, dz])?;
        let params = ReparamParams { rows: dim(OP, h.rows())?, latent: dim(OP, latent)?, accumulate: flag(accumulate), ..ReparamParams::default() };
        let buffers = [(0, h), (2, eps), (5, dz), (6, dh)];
        self.dispatch(format!("reparam.backward {}", dh.label()), &self.reparam_backward, &buffers, &params, 4, linear_workgroups(h.rows() * latent))
    }
}
