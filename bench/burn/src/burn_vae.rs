//! The reference VAE written the way a burn user would write it: four `nn::Linear` layers, burn's
//! own tensor ops for the loss, autodiff for the gradients. Shapes and the loss mirror our engine
//! (`latent_core::model::VaeCpu`): the encoder's head is one 400→40 layer split into [μ | logσ²],
//! z = μ + exp(½ logσ²)·ε, Bernoulli likelihood on logits, loss = mean over the batch of
//! (Σ pixels BCE + β·KL) with β = 1.

use anyhow::ensure;
use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::Distribution;

use crate::reference::Reference;

/// Width of z.
const LATENT: usize = 20;

#[derive(Module, Debug)]
pub struct BurnVae {
    encoder_hidden: Linear,
    /// 400 → 2·LATENT: μ in the first LATENT columns, logσ² in the rest, as in our encoder.
    encoder_stats: Linear,
    decoder_hidden: Linear,
    decoder_logits: Linear,
}

impl BurnVae {
    /// The layers with our engine's initial parameters (same seed, same Glorot-uniform draw, zero
    /// biases), so both engines start from the same point and their losses can be compared.
    pub fn from_reference(reference: &Reference, device: &Device) -> anyhow::Result<Self> {
        let tensors = reference.tensors();
        ensure!(tensors.len() == 8, "the reference VAE has {} tensors, expected 4 weights + 4 biases", tensors.len());
        let layer = |i: usize| -> anyhow::Result<Linear> {
            let ((rows, cols, weight), (bias_rows, bias_cols, bias)) = (tensors[2 * i], tensors[2 * i + 1]);
            ensure!(bias_rows == 1 && bias_cols == cols, "layer {i}: bias {bias_rows}×{bias_cols} does not match weight {rows}×{cols}");
            Ok(Linear {
                weight: Param::from_data(TensorData::new(weight.to_vec(), [rows, cols]), device),
                bias: Some(Param::from_data(TensorData::new(bias.to_vec(), [cols]), device)),
            })
        };
        let vae = Self { encoder_hidden: layer(0)?, encoder_stats: layer(1)?, decoder_hidden: layer(2)?, decoder_logits: layer(3)? };
        let stats_width = vae.encoder_stats.weight.dims()[1];
        ensure!(stats_width == 2 * LATENT, "encoder head emits {stats_width} columns, expected {}", 2 * LATENT);
        Ok(vae)
    }

    /// Negative ELBO per example (nats), averaged over the rows of `x` (pixels in [0, 1]).
    pub fn loss(&self, x: Tensor<2>) -> Tensor<1> {
        let [rows, _] = x.dims();
        let stats = self.encoder_stats.forward(relu(self.encoder_hidden.forward(x.clone())));
        let mu = stats.clone().narrow(1, 0, LATENT);
        let logvar = stats.narrow(1, LATENT, LATENT);
        let eps = Tensor::random([rows, LATENT], Distribution::Normal(0.0, 1.0), &x.device());
        let z = mu.clone() + logvar.clone().mul_scalar(0.5).exp() * eps;
        let logits = self.decoder_logits.forward(relu(self.decoder_hidden.forward(z)));
        // BCE with logits in its stable form, max(l, 0) − x·l + log(1 + e^−|l|): what our
        // bce_forward kernel and tf.losses.sigmoidCrossEntropy compute.
        let reconstruction = logits.clone().clamp_min(0.0) - x * logits.clone() + logits.abs().neg().exp().log1p();
        // KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1 − logσ²) per latent dimension.
        let kl = (mu.square() + logvar.clone().exp() - logvar).sub_scalar(1.0).mul_scalar(0.5);
        (reconstruction.sum() + kl.sum()).div_scalar(rows as f64)
    }
}
