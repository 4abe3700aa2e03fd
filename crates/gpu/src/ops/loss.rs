//! `loss_bce.wgsl`, `loss_gaussian.wgsl`, `loss_gan.wgsl`.

use super::{batch_suffix, dim, flag, per_model_workgroups, rows_per_model};
use crate::dispatch::{groups_for, linear_workgroups, Dispatch};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::params::LossParams;
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// The label a GAN loss pushes the discriminator's logits towards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GanLabel {
    /// D on real data, and the non-saturating generator loss −log σ(D(G(z))).
    Real,
    /// D on generated data: −log(1 − σ(D(G(z)))).
    Fake,
}

impl GanLabel {
    pub fn value(self) -> f32 {
        match self {
            Self::Real => 1.0,
            Self::Fake => 0.0,
        }
    }
}

fn loss_params(op: &'static str, (rows, cols): (usize, usize), accumulate: bool, scale: f32, aux: f32) -> Result<LossParams, GpuError> {
    Ok(LossParams { rows: dim(op, rows)?, cols: dim(op, cols)?, accumulate: flag(accumulate), _pad0: 0, scale, aux, _pad1: [0; 2] })
}

/// One of the two paired-loss kernels (BCE, Gaussian): its pipelines and its extra parameter (the
/// Gaussian's inverse variance).
struct PairedLoss<'a> {
    op: &'static str,
    pipeline: &'a wgpu::ComputePipeline,
    aux: f32,
}

impl Kernels {
    /// per_row[i] = Σⱼ softplus(l) − t·l: Bernoulli NLL per sample.
    pub fn bce_forward(&self, logits: &GpuTensor, targets: &GpuTensor, per_row: &GpuTensor) -> Result<Dispatch, GpuError> {
        self.paired_forward(PairedLoss { op: "bce forward", pipeline: &self.bce_forward, aux: 0.0 }, logits, targets, per_row)
    }

    /// grad (+)= scale · (σ(l) − t).
    pub fn bce_backward(&self, logits: &GpuTensor, targets: &GpuTensor, grad: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.paired_backward(PairedLoss { op: "bce backward", pipeline: &self.bce_backward, aux: 0.0 }, logits, targets, grad, scale, accumulate)
    }

    /// per_row[i] = ½·inv_var·Σⱼ (y − t)²: Gaussian NLL per sample (up to its constant).
    pub fn gaussian_forward(&self, outputs: &GpuTensor, targets: &GpuTensor, per_row: &GpuTensor, inv_var: f32) -> Result<Dispatch, GpuError> {
        self.paired_forward(PairedLoss { op: "gaussian forward", pipeline: &self.gaussian_forward, aux: inv_var }, outputs, targets, per_row)
    }

    /// grad (+)= scale · inv_var · (y − t).
    pub fn gaussian_backward(
        &self,
        outputs: &GpuTensor,
        targets: &GpuTensor,
        grad: &GpuTensor,
        inv_var: f32,
        scale: f32,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        let kernel = PairedLoss { op: "gaussian backward", pipeline: &self.gaussian_backward, aux: inv_var };
        self.paired_backward(kernel, outputs, targets, grad, scale, accumulate)
    }

    fn paired_forward(&self, kernel: PairedLoss<'_>, x: &GpuTensor, targets: &GpuTensor, per_row: &GpuTensor) -> Result<Dispatch, GpuError> {
        let PairedLoss { op, pipeline, aux } = kernel;
        x.expect(op, x.rows(), x.cols(), ElementKind::F32)?;
        targets.expect(op, x.rows(), x.cols(), ElementKind::F32)?;
        per_row.expect_len(op, x.rows(), ElementKind::F32)?;
        expect_distinct(op, per_row, &[x, targets])?;
        let params = loss_params(op, (x.rows(), x.cols()), false, 1.0, aux)?;
        let buffers = [(0, x), (1, targets), (2, per_row)];
        self.dispatch(format!("{op} {}", x.label()), pipeline, &buffers, &params, 3, [groups_for(x.rows(), 64), 1, 1])
    }

    fn paired_backward(
        &self,
        kernel: PairedLoss<'_>,
        x: &GpuTensor,
        targets: &GpuTensor,
        grad: &GpuTensor,
        scale: f32,
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        let PairedLoss { op, pipeline, aux } = kernel;
        targets.expect(op, x.rows(), x.cols(), ElementKind::F32)?;
        grad.expect(op, x.rows(), x.cols(), ElementKind::F32)?;
        expect_distinct(op, grad, &[x, targets])?;
        let params = loss_params(op, (x.rows(), x.cols()), accumulate, scale, aux)?;
        let buffers = [(0, x), (1, targets), (2, grad)];
        self.dispatch(format!("{op} {}", x.label()), pipeline, &buffers, &params, 3, linear_workgroups(x.len()))
    }

    /// loss[i] = Σⱼ softplus(d) − label·d and correct[i] = #{j : D decided right}. Its rows are
    /// independent: K models' logits stacked give K models' losses.
    pub fn gan_forward(&self, logits: &GpuTensor, label: GanLabel, loss: &GpuTensor, correct: &GpuTensor) -> Result<Dispatch, GpuError> {
        const OP: &str = "gan forward";
        logits.expect(OP, logits.rows(), logits.cols(), ElementKind::F32)?;
        loss.expect_len(OP, logits.rows(), ElementKind::F32)?;
        correct.expect_len(OP, logits.rows(), ElementKind::F32)?;
        expect_distinct(OP, loss, &[logits, correct])?;
        expect_distinct(OP, correct, &[logits])?;
        let params = loss_params(OP, (logits.rows(), logits.cols()), false, 1.0, label.value())?;
        let buffers = [(0, logits), (1, loss), (2, correct)];
        let label = format!("{OP}[{label:?}] {}", logits.label());
        self.dispatch_per_model(label, &self.gan_forward, &buffers, &[params], 3, [groups_for(logits.rows(), 64), 1, 1])
    }

    /// grad (+)= scale · (σ(d) − label).
    pub fn gan_backward(&self, logits: &GpuTensor, label: GanLabel, grad: &GpuTensor, scale: f32, accumulate: bool) -> Result<Dispatch, GpuError> {
        self.gan_backward_of_models(logits, label, grad, &[scale], accumulate)
    }

    /// K models' GAN loss gradients in one dispatch: `logits` and `grad` hold the models' blocks of
    /// rows one after another, model z's gradient scaled by its own `scales[z]` (the VAE-GAN's γ
    /// per sweep member), bit for bit its gradient alone.
    pub fn gan_backward_of_models(
        &self,
        logits: &GpuTensor,
        label: GanLabel,
        grad: &GpuTensor,
        scales: &[f32],
        accumulate: bool,
    ) -> Result<Dispatch, GpuError> {
        const OP: &str = "gan backward";
        let rows = rows_per_model(OP, logits, scales.len())?;
        grad.expect(OP, logits.rows(), logits.cols(), ElementKind::F32)?;
        expect_distinct(OP, grad, &[logits])?;
        let blocks = scales.iter().map(|&scale| loss_params(OP, (rows, logits.cols()), accumulate, scale, label.value())).collect::<Result<Vec<_>, _>>()?;
        let label = format!("{OP}[{label:?}]{} {}", batch_suffix(scales.len()), logits.label());
        self.dispatch_per_model(label, &self.gan_backward, &[(0, logits), (4, grad)], &blocks, 3, per_model_workgroups(rows * logits.cols(), scales.len()))
    }
}
