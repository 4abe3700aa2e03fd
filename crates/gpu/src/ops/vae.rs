//! `kl.wgsl` and `reparam.wgsl`: the VAE's posterior pieces over h = [μ | logσ²] (rows × 2·latent).

use super::{batch_suffix, dim, flag, per_model_workgroups, rows_per_model};
use crate::dispatch::{groups_for, Dispatch};
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
/// One KL block per model: model z's rows start z blocks into h; its forward values z·latent into
/// the output (`per_dim_out`), its gradient where its rows of h are.
fn kl_blocks(op: &'static str, (rows, latent): (usize, usize), scales: &[f32], accumulate: bool, per_dim_out: bool) -> Result<Vec<KlParams>, GpuError> {
    (0..scales.len())
        .map(|z| {
            Ok(KlParams {
                rows: dim(op, rows)?,
                latent: dim(op, latent)?,
                accumulate: flag(accumulate),
                first: dim(op, z * rows * 2 * latent)?,
                scale: scales[z],
                out_first: if per_dim_out { dim(op, z * latent)? } else { 0 },
                _pad1: [0; 2],
            })
        })
        .collect()
}

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
        self.kl_forward_of_models(h, kl_per_dim, &[scale])
    }

    /// K models' KL per dimension in one dispatch (a sweep's batched step): `h` holds the models'
    /// blocks of rows one after another, `kl_per_dim` their K·latent values; model z's with its
    /// own scale (a β sweep's members differ only there), bit for bit its values alone.
    pub fn kl_forward_of_models(&self, h: &GpuTensor, kl_per_dim: &GpuTensor, scales: &[f32]) -> Result<Dispatch, GpuError> {
        const OP: &str = "kl forward";
        let latent = latent_of(OP, h)?;
        let rows = rows_per_model(OP, h, scales.len())?;
        kl_per_dim.expect_len(OP, scales.len() * latent, ElementKind::F32)?;
        expect_distinct(OP, kl_per_dim, &[h])?;
        let blocks = kl_blocks(OP, (rows, latent), scales, false, true)?;
        let label = format!("kl.forward{} {}", batch_suffix(scales.len()), h.label());
        self.dispatch_per_model(label, &self.kl_forward, &[(0, h), (1, kl_per_dim)], &blocks, 2, [groups_for(latent, 64), 1, blocks.len() as u32])
    }

    /// dh (+)= scale · ∂KL/∂h (scale is β / batch for a mean-over-batch loss).
    pub fn kl_backward(&self, h: &GpuTensor, dh: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.kl_backward_of_models(h, dh, &[scale], accumulate)
    }

    /// K models' KL gradients in one dispatch, each model's block of `dh` from its block of `h`
    /// with its own scale, bit for bit its gradient alone.
    pub fn kl_backward_of_models(&self, h: &GpuTensor, dh: &GpuTensor, scales: &[f32], accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "kl backward";
        let latent = latent_of(OP, h)?;
        let rows = rows_per_model(OP, h, scales.len())?;
        dh.expect(OP, h.rows(), h.cols(), ElementKind::F32)?;
        expect_distinct(OP, dh, &[h])?;
        let blocks = kl_blocks(OP, (rows, latent), scales, accumulate, false)?;
        let label = format!("kl.backward{} {}", batch_suffix(scales.len()), dh.label());
        self.dispatch_per_model(label, &self.kl_backward, &[(0, h), (1, dh)], &blocks, 2, per_model_workgroups(rows * latent, scales.len()))
    }

    /// z = μ + exp(½·logσ²)·ε, storing ε for the backward pass.
    pub fn reparam_forward(&self, h: &GpuTensor, z: &GpuTensor, eps: &GpuTensor, counters: &GpuTensor, spec: ReparamSpec) -> Result<Dispatch, GpuError> {
        self.reparam_forward_of_models(h, z, eps, counters, spec, 1)
    }

    /// K models' reparameterizations in one dispatch (a sweep's batched step): h, z and eps hold
    /// the models' blocks of rows one after another, and each model draws the noise it draws
    /// alone (numbered within its block), so its z and ε are bit for bit its own.
    pub fn reparam_forward_of_models(
        &self,
        h: &GpuTensor,
        z: &GpuTensor,
        eps: &GpuTensor,
        counters: &GpuTensor,
        spec: ReparamSpec,
        models: usize,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "reparam forward";
        let latent = latent_of(OP, h)?;
        let rows = rows_per_model(OP, h, models)?;
        z.expect(OP, h.rows(), latent, ElementKind::F32)?;
        eps.expect(OP, h.rows(), latent, ElementKind::F32)?;
        expect_counter(OP, counters, spec.counter_index)?;
        expect_distinct(OP, z, &[h, eps])?;
        expect_distinct(OP, eps, &[h])?;
        let params = ReparamParams {
            rows: dim(OP, rows)?,
            latent: dim(OP, latent)?,
            seed: spec.seed,
            stream: spec.stream,
            counter_index: spec.counter_index,
            sample: flag(spec.sample),
            accumulate: 0,
            _pad: 0,
        };
        let buffers = [(0, h), (1, z), (2, eps), (3, counters)];
        let label = format!("reparam.forward{} {}", batch_suffix(models), z.label());
        self.dispatch(label, &self.reparam_forward, &buffers, &params, 4, per_model_workgroups(rows * latent, models))
    }

    /// dh (+)= ∂z/∂h applied to dz, with the ε the forward pass stored.
    pub fn reparam_backward(&self, h: &GpuTensor, eps: &GpuTensor, dz: &GpuTensor, dh: &GpuTensor, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.reparam_backward_of_models(h, eps, dz, dh, accumulate, 1)
    }

    /// K models' reparameterization gradients in one dispatch, each model's block of dh from its
    /// blocks of h, ε and dz, bit for bit its gradient alone.
    pub fn reparam_backward_of_models(
        &self,
        h: &GpuTensor,
        eps: &GpuTensor,
        dz: &GpuTensor,
        dh: &GpuTensor,
        accumulate: bool,
        models: usize,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "reparam backward";
        let latent = latent_of(OP, h)?;
        let rows = rows_per_model(OP, h, models)?;
        eps.expect(OP, h.rows(), latent, ElementKind::F32)?;
        dz.expect(OP, h.rows(), latent, ElementKind::F32)?;
        dh.expect(OP, h.rows(), h.cols(), ElementKind::F32)?;
        expect_distinct(OP, dh, &[h, eps, dz])?;
        let params = ReparamParams { rows: dim(OP, rows)?, latent: dim(OP, latent)?, accumulate: flag(accumulate), ..ReparamParams::default() };
        let buffers = [(0, h), (2, eps), (5, dz), (6, dh)];
        let label = format!("reparam.backward{} {}", batch_suffix(models), dh.label());
        self.dispatch(label, &self.reparam_backward, &buffers, &params, 4, per_model_workgroups(rows * latent, models))
    }
}
