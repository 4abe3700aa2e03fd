//! The VAE pieces (`shaders/kl.wgsl`, `shaders/reparam.wgsl`).
//!
//! The encoder's last layer emits one `batch × 2L` matrix h = [μ | logσ²]; both ops index into it.

use crate::matrix::Matrix;
use crate::real::Real;
use crate::rng::RngStream;

/// KL(N(μ, σ²) ‖ N(0, 1)) of one latent dimension: ½(μ² + σ² − 1 − logσ²).
pub fn kl_term<T: Real>(mu: T, logvar: T) -> T {
    T::from_f64(0.5) * (mu * mu + logvar.exp() - T::one() - logvar)
}

/// scale · Σᵢ KL of latent dimension d, for every d: the per-dimension KL the collapse view shows.
pub fn kl_per_dim<T: Real>(h: &Matrix<T>, latent: usize, scale: T) -> Vec<T> {
    (0..latent)
        .map(|d| {
            let mut acc = T::zero();
            for i in 0..h.rows {
                acc += kl_term(h.at(i, d), h.at(i, latent + d));
            }
            scale * acc
        })
        .collect()
}

/// dh (+)= scale · ∂KL/∂h: μ on the μ half, ½(σ² − 1) on the logσ² half.
pub fn kl_grad<T: Real>(h: &Matrix<T>, latent: usize, scale: T, dh: &mut Matrix<T>, accumulate: bool) {
    let half = T::from_f64(0.5);
    for i in 0..h.rows {
        for d in 0..latent {
            let (mu, logvar) = (h.at(i, d), h.at(i, latent + d));
            super::store(dh.at_mut(i, d), scale * mu, accumulate);
            super::store(dh.at_mut(i, latent + d), scale * half * (logvar.exp() - T::one()), accumulate);
        }
    }
}

/// The ε the reparameterization kernel draws for a `rows × latent` batch at `step`.
pub fn reparam_noise<T: Real>(rng: RngStream, rows: usize, latent: usize, step: u32) -> Matrix<T> {
    let data = (0..rows * latent).map(|e| T::from_f64(rng.normal(e as u32, step))).collect();
    Matrix { rows, cols: latent, data }
}

/// z = μ + exp(½·logσ²)·ε.
pub fn reparam_forward<T: Real>(h: &Matrix<T>, eps: &Matrix<T>) -> Matrix<T> {
    let latent = eps.cols;
    let half = T::from_f64(0.5);
    let mut z = Matrix::zeros(h.rows, latent);
    for i in 0..h.rows {
        for d in 0..latent {
            *z.at_mut(i, d) = h.at(i, d) + (half * h.at(i, latent + d)).exp() * eps.at(i, d);
        }
    }
    z
}

/// dh (+)= (dz, dz·ε·½·exp(½·logσ²)).
pub fn reparam_backward<T: Real>(h: &Matrix<T>, eps: &Matrix<T>, dz: &Matrix<T>, dh: &mut Matrix<T>, accumulate: bool) {
    let latent = eps.cols;
    let half = T::from_f64(0.5);
    for i in 0..h.rows {
        for d in 0..latent {
            let g = dz.at(i, d);
            super::store(dh.at_mut(i, d), g, accumulate);
            let sigma = (half * h.at(i, latent + d)).exp();
            super::store(dh.at_mut(i, latent + d), g * eps.at(i, d) * half * sigma, accumulate);
        }
    }
}
