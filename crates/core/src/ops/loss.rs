//! Losses, forward per row and backward per element (`shaders/loss_*.wgsl`).
//!
//! Forward passes return one value per row (sample) so that the total is a separate, fixed-order
//! reduction; backward passes return scale · ∂loss/∂input.

use super::reduce::sum_in_lanes;
use crate::activation::{sigmoid, sigmoid_from, softplus, softplus_from};
use crate::matrix::Matrix;
use crate::real::Real;

/// Bernoulli negative log-likelihood of targets t ∈ [0, 1] under logits l: Σⱼ softplus(l) − t·l.
/// Rows run on the cores natively (the exp and log per element dominate).
pub fn bce_with_logits_rows<T: Real>(logits: &Matrix<T>, targets: &Matrix<T>) -> Vec<T> {
    if logits.cols == 0 {
        return vec![T::zero(); logits.rows];
    }
    crate::parallel::map_row_pairs(&logits.data, &targets.data, logits.cols, |logits, targets| {
        let mut terms = vec![T::zero(); logits.len()];
        bce_row(logits, targets, &mut terms, None);
        sum_in_lanes(&terms)
    })
}

/// scale · (σ(l) − t) on its own: the fused [`bce_with_logits`] must give exactly these values.
pub fn bce_with_logits_grad<T: Real>(logits: &Matrix<T>, targets: &Matrix<T>, scale: T) -> Matrix<T> {
    let data = logits.data.iter().zip(&targets.data).map(|(&l, &t)| scale * (sigmoid(l) - t)).collect();
    Matrix { rows: logits.rows, cols: logits.cols, data }
}

/// [`bce_with_logits_rows`] and [`bce_with_logits_grad`] in one pass, sharing e^(−|l|) between
/// softplus and σ: the same values, one exponential per element instead of two.
pub fn bce_with_logits<T: Real>(logits: &Matrix<T>, targets: &Matrix<T>, scale: T) -> (Vec<T>, Matrix<T>) {
    let mut grad = vec![T::zero(); logits.data.len()];
    if logits.cols == 0 {
        return (vec![T::zero(); logits.rows], Matrix { rows: logits.rows, cols: 0, data: grad });
    }
    let rows = crate::parallel::map_rows_into(&mut grad, &logits.data, &targets.data, logits.cols, |grad, logits, targets| {
        let mut terms = vec![T::zero(); logits.len()];
        bce_row(logits, targets, &mut terms, Some((scale, grad)));
        sum_in_lanes(&terms)
    });
    (rows, Matrix { rows: logits.rows, cols: logits.cols, data: grad })
}

/// One row of the Bernoulli loss: `terms[j]` = softplus(lⱼ) − tⱼ·lⱼ and, when asked,
/// `grad[j]` = scale·(σ(lⱼ) − tⱼ). No reduction and no libm call inside, so the loop vectorises
/// (natively for the CPU's widest vectors, found at run time; simd128 in the browser).
#[cfg_attr(not(target_arch = "wasm32"), multiversion::multiversion(targets = "simd"))]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn bce_row<T: Real>(logits: &[T], targets: &[T], terms: &mut [T], grad: Option<(T, &mut [T])>) {
    match grad {
        None => {
            for ((term, &l), &t) in terms.iter_mut().zip(logits).zip(targets) {
                *term = softplus(l) - t * l;
            }
        }
        Some((scale, grad)) => {
            for (((term, g), &l), &t) in terms.iter_mut().zip(grad.iter_mut()).zip(logits).zip(targets) {
                let e = (-l.abs()).exp_nonpositive();
                *term = softplus_from(l, e) - t * l;
                *g = scale * (sigmoid_from(l, e) - t);
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The fused pass gives exactly the separate passes' bits, for logits of both signs and of
    /// large magnitude.
    #[test]
    fn fused_bce_equals_its_two_halves() {
        let mut rng = SplitMix64::new(9);
        let logits = Matrix::from_vec(7, 33, rng.vec_f32(7 * 33, -40.0, 40.0)).expect("sized");
        let targets = Matrix::from_vec(7, 33, rng.vec_f32(7 * 33, 0.0, 1.0)).expect("sized");
        let (rows, grad) = bce_with_logits(&logits, &targets, 0.125);
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&rows), bits(&bce_with_logits_rows(&logits, &targets)));
        assert_eq!(bits(&grad.data), bits(&bce_with_logits_grad(&logits, &targets, 0.125).data));
    }
}
