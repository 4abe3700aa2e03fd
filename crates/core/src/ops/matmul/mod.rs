//! C = op(A)·op(B) with a fused epilogue (`shaders/matmul*.wgsl`).

use crate::activation::Activation;
use crate::error::CoreError;
use crate::matrix::Matrix;
use crate::real::Real;

mod blocked;

/// Which operands are transposed: the three products backprop needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulForm {
    /// A·B: forward (X·W) and input gradients through a transposed weight stored as such.
    Nn,
    /// Aᵀ·B: weight gradients (Xᵀ·dY). A is stored k×m.
    Tn,
    /// A·Bᵀ: input gradients (dY·Wᵀ). B is stored n×k.
    Nt,
}

impl MatmulForm {
    pub const ALL: [MatmulForm; 3] = [Self::Nn, Self::Tn, Self::Nt];

    pub fn trans_a(self) -> bool {
        self == Self::Tn
    }
    pub fn trans_b(self) -> bool {
        self == Self::Nt
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Nn => "A·B",
            Self::Tn => "Aᵀ·B",
            Self::Nt => "A·Bᵀ",
        }
    }

    /// (m, k, n) of the product from the stored shapes of A and B, or a mismatch naming both.
    pub fn dims(self, a: (usize, usize), b: (usize, usize)) -> Result<(usize, usize, usize), CoreError> {
        let (m, k_a) = if self.trans_a() { (a.1, a.0) } else { a };
        let (k_b, n) = if self.trans_b() { (b.1, b.0) } else { b };
        if k_a != k_b {
            return Err(CoreError::ShapeMismatch {
                op: "matmul",
                expected: format!("op(A) {m}×{k_a} (A stored {}×{})", a.0, a.1),
                got: format!("op(B) {k_b}×{n} (B stored {}×{})", b.0, b.1),
            });
        }
        Ok((m, k_a, n))
    }
}

/// What happens to each accumulated dot product before it is stored.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Epilogue<'a, T> {
    /// Store the product as is.
    None,
    /// act(acc + bias[col]): a layer's forward pass.
    BiasActivation { bias: &'a [T], activation: Activation },
    /// acc · f'(y[row, col]) with y the layer's stored output: a layer's backward pass.
    ActivationGrad { output: &'a Matrix<T>, activation: Activation },
}

/// C (+)= epilogue(op(A)·op(B)); `c` must already have shape m×n.
pub fn matmul<T: Real>(
    a: &Matrix<T>,
    b: &Matrix<T>,
    form: MatmulForm,
    epilogue: Epilogue<'_, T>,
    accumulate: bool,
    c: &mut Matrix<T>,
) -> Result<(), CoreError> {
    let (m, k, n) = form.dims(a.shape(), b.shape())?;
    super::check_shape("matmul output", (m, n), c.shape())?;
    match epilogue {
        Epilogue::BiasActivation { bias, .. } => super::check_shape("matmul bias", (1, n), (1, bias.len()))?,
        Epilogue::ActivationGrad { output, .. } => super::check_shape("matmul activation output", (m, n), output.shape())?,
        Epilogue::None => {}
    }
    let product = blocked::product(a, b, form, (m, k, n));
    for (i, (row, c_row)) in product.chunks_exact(n.max(1)).zip(c.data.chunks_exact_mut(n.max(1))).enumerate() {
        for (j, (&acc, out)) in row.iter().zip(c_row).enumerate() {
            let value = match epilogue {
                Epilogue::None => acc,
                Epilogue::BiasActivation { bias, activation } => activation.apply(acc + bias[j]),
                Epilogue::ActivationGrad { output, activation } => acc * activation.derivative_from_output(output.at(i, j)),
            };
            super::store(out, value, accumulate);
        }
    }
    Ok(())
}

/// Σₚ |op(A)ᵢₚ·op(B)ₚⱼ| per output: the scale that bounds f32 rounding error of each dot product.
pub fn abs_product_scale<T: Real>(a: &Matrix<T>, b: &Matrix<T>, form: MatmulForm) -> Result<Matrix<T>, CoreError> {
    let abs = |m: &Matrix<T>| Matrix { rows: m.rows, cols: m.cols, data: m.data.iter().map(|v| v.abs()).collect() };
    let (m, _, n) = form.dims(a.shape(), b.shape())?;
    let mut out = Matrix::zeros(m, n);
    matmul(&abs(a), &abs(b), form, Epilogue::None, false, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// The textbook dot loop the blocked product must reproduce bit for bit.
    fn dot_loop(a: &Matrix<f32>, b: &Matrix<f32>, form: MatmulForm) -> Vec<f32> {
        let (m, k, n) = form.dims(a.shape(), b.shape()).expect("shapes agree");
        let mut out = Vec::with_capacity(m * n);
        for i in 0..m {
            for j in 0..n {
                let mut acc = 0.0f32;
                for p in 0..k {
                    let av = if form.trans_a() { a.at(p, i) } else { a.at(i, p) };
                    let bv = if form.trans_b() { b.at(j, p) } else { b.at(p, j) };
                    acc += av * bv;
                }
                out.push(acc);
            }
        }
        out
    }

    #[test]
    fn blocked_product_is_bit_identical_to_the_dot_loop() {
        let mut rng = SplitMix64::new(3);
        // Shapes around the block sizes (4 rows, 8 columns), empty ones, and the reference VAE's.
        let shapes = [(1, 1, 1), (3, 5, 7), (4, 8, 8), (5, 9, 17), (13, 1, 9), (0, 3, 4), (4, 0, 8), (6, 3, 0), (128, 784, 40)];
        for form in MatmulForm::ALL {
            for &(m, k, n) in &shapes {
                let a_shape = if form.trans_a() { (k, m) } else { (m, k) };
                let b_shape = if form.trans_b() { (n, k) } else { (k, n) };
                let a = Matrix::from_vec(a_shape.0, a_shape.1, rng.vec_f32(m * k, -2.0, 2.0)).expect("sized");
                let b = Matrix::from_vec(b_shape.0, b_shape.1, rng.vec_f32(k * n, -2.0, 2.0)).expect("sized");
                let mut c = Matrix::zeros(m, n);
                matmul(&a, &b, form, Epilogue::None, false, &mut c).expect("shapes agree");
                let expected = dot_loop(&a, &b, form);
                let same = c.data.iter().zip(&expected).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{} {m}×{k}×{n}: blocked product differs from the dot loop", form.name());
            }
        }
    }

    #[test]
    fn epilogues_and_accumulation_apply_per_output() {
        let a = Matrix::from_vec(2, 3, vec![1.0f32, -2.0, 0.5, 3.0, 1.0, -1.0]).expect("sized");
        let b = Matrix::from_vec(3, 2, vec![1.0f32, 0.0, 0.0, 1.0, 2.0, -4.0]).expect("sized");
        // A·B = [[2, -4], [1, 5]].
        let bias = [1.0f32, 1.0];
        let mut c = Matrix::zeros(2, 2);
        matmul(&a, &b, MatmulForm::Nn, Epilogue::BiasActivation { bias: &bias, activation: Activation::Relu }, false, &mut c).expect("shapes agree");
        assert_eq!(c.data, vec![3.0, 0.0, 2.0, 6.0]);
        matmul(&a, &b, MatmulForm::Nn, Epilogue::None, true, &mut c).expect("shapes agree");
        assert_eq!(c.data, vec![5.0, -4.0, 3.0, 11.0]);
        let y = Matrix::from_vec(2, 2, vec![1.0f32, 0.0, 2.0, 3.0]).expect("sized");
        matmul(&a, &b, MatmulForm::Nn, Epilogue::ActivationGrad { output: &y, activation: Activation::Relu }, false, &mut c).expect("shapes agree");
        assert_eq!(c.data, vec![2.0, 0.0, 1.0, 5.0]);
    }
}
