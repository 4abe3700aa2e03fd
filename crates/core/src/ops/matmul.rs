//! C = op(A)·op(B) with a fused epilogue (`shaders/matmul*.wgsl`).

use crate::activation::Activation;
use crate::error::CoreError;
use crate::matrix::Matrix;
use crate::real::Real;

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
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::zero();
            for p in 0..k {
                let av = if form.trans_a() { a.at(p, i) } else { a.at(i, p) };
                let bv = if form.trans_b() { b.at(j, p) } else { b.at(p, j) };
                acc += av * bv;
            }
            let value = match epilogue {
                Epilogue::None => acc,
                Epilogue::BiasActivation { bias, activation } => activation.apply(acc + bias[j]),
                Epilogue::ActivationGrad { output, activation } => {
                    acc * activation.derivative_from_output(output.at(i, j))
                }
            };
            super::store(c.at_mut(i, j), value, accumulate);
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
