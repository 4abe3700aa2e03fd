//! A digit the user drew, as the run's VAE sees it: its posterior (μ and σ per latent dimension),
//! its KL per dimension, and its reconstruction through μ. The pad makes the drawing ready
//! ([`crate::draw_pad`]); the run encodes it with the model as it is now, on either engine.

use latent_core::data::mnist;

use super::{Model, Run};
use crate::SessionError;

/// What the VAE makes of one drawing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Drawing {
    /// The image the encoder read (28×28 in [0, 1]).
    pub input: Vec<f32>,
    /// The posterior's mean μ and log-variance logσ², one value per latent dimension.
    pub mean: Vec<f32>,
    pub log_var: Vec<f32>,
    /// KL(q(z|x) ‖ N(0, I)) per latent dimension, in nats.
    pub kl_per_dim: Vec<f64>,
    /// The decoder's output at z = μ.
    pub reconstruction: Vec<f32>,
}

impl Drawing {
    /// σ per latent dimension.
    pub fn sigma(&self) -> impl Iterator<Item = f32> + '_ {
        self.log_var.iter().map(|v| (v / 2.0).exp())
    }
}

impl Run {
    /// Encodes a drawn digit (`input`: 28×28 pixels in [0, 1], ink 1): only a VAE on the digits
    /// has an encoder for it.
    pub async fn encode_drawing(&self, input: &[f32]) -> Result<Drawing, SessionError> {
        let Model::Vae(vae) = &self.model else { return Err(SessionError::Invalid("Only a VAE can encode a drawing: a GAN has no encoder.".into())) };
        if self.data.dim != mnist::PIXELS || input.len() != mnist::PIXELS {
            return Err(SessionError::Invalid(format!(
                "A drawing is {} pixels on the digits; this run's data has {} values per example.",
                mnist::PIXELS,
                self.data.dim
            )));
        }
        let codes = vae.encode(input).await?;
        let reconstruction = vae.decode(&codes.mean).await?;
        Ok(Drawing { input: input.to_vec(), kl_per_dim: codes.kl_per_dim(), mean: codes.mean, log_var: codes.log_var, reconstruction })
    }
}
