//! Losses, forward per row and backward per element (`shaders/loss_*.wgsl`).
//!
//! Forward passes return one value per row (sample) so that the total is a separate, fixed-order
//! reduction; backward passes return scale · ∂loss/∂input.

use crate::activation::{sigmoid, softplus};
use crate::matrix::Matrix;
use crate::real::Real;

/// Bernoulli negative log-likelihood of targets t ∈ [0, 1] under logits l: Σⱼ softplus(l) − t·l.
pub fn bce_with_logits_rows<T: Real>(logits: &Matrix<T>, targets: &Matrix<T>) -> Vec<T> {
    (0..logits.rows)
        .map(|i| {
            let mut acc = T::zero();
            for j in 0..logits.cols {
                let l = logits.at(i, j);
                acc += softplus(l) - targets.at(i, j) * l;
            }
            acc
        })
        .collect()
}

/// scale · (σ(l) − t).
pub fn bce_with_logits_grad<T: Real>(logits: &Matrix<T>, targets: &Matrix<T>, scale: T) -> Matrix<T> {
    let data = logits.data.iter().zip(&targets.data).map(|(&l, &t)| scale * (sigmoid(l) - t)).collect();
    Matrix { rows: logits.rows, cols: logits.cols, data }
}

/// Gaussian negative log-likelihood with fixed variance, up to its constant: ½·inv_var·Σⱼ (y − t)².
pub fn gaussian_rows<T: Real>(outputs: &Matrix<T>, targets: &Matrix<T>, inv_var: T) -> Vec<T> {
    let half = T::from_f64(0.5);
    (0..outputs.rows)
        .map(|i| {
            let mut acc = T::zero();
            for j in 0..outputs.cols {
                let d = outputs.at(i, j) - targets.at(i, j);
                acc += d * d;
            }
            half * inv_var * acc
        })
        .collect()
}

/// scale · inv_var · (y − t).
pub fn gaussian_grad<T: Real>(outputs: &Matrix<T>, targets: &Matrix<T>, inv_var: T, scale: T) -> Matrix<T> {
    let data = outputs.data.iter().zip(&targets.data).map(|(&y, &t)| scale * inv_var * (y - t)).collect();
    Matrix { rows: outputs.rows, cols: outputs.cols, data }
}

/// GAN loss on discriminator logits d against a constant label: Σⱼ softplus(d) − label·d.
/// label 1: the discriminator on real data and the non-saturating generator loss (−log σ(d));
/// label 0: the discriminator on fakes (−log(1 − σ(d))). Also returns per-row counts of correct
/// decisions (d > 0 means "real").
pub fn gan_rows<T: Real>(logits: &Matrix<T>, label: T) -> (Vec<T>, Vec<T>) {
    let says_real = label > T::from_f64(0.5);
    (0..logits.rows)
        .map(|i| {
            let (mut loss, mut correct) = (T::zero(), T::zero());
            for j in 0..logits.cols {
                let d = logits.at(i, j);
                loss += softplus(d) - label * d;
                if (d > T::zero()) == says_real {
                    correct += T::one();
                }
            }
            (loss, correct)
        })
        .unzip()
}

/// scale · (σ(d) − label).
pub fn gan_grad<T: Real>(logits: &Matrix<T>, label: T, scale: T) -> Matrix<T> {
    let data = logits.data.iter().map(|&d| scale * (sigmoid(d) - label)).collect();
    Matrix { rows: logits.rows, cols: logits.cols, data }
}
