//! C = op(A)·op(B) with a fused epilogue (`shaders/matmul*.wgsl`).

use crate::activation::Activation;
use crate::error::CoreError;
use crate::matrix::{MatRef, Matrix};
use crate::real::Real;

mod blocked;
#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
mod relaxed;

#[cfg(not(target_arch = "wasm32"))]
pub use native::set_portable;

/// How a scalar type computes op(A)·op(B) for [`matmul`]: the portable blocked product for the
/// f64 oracle and in the browser (bit-identical to the plain dot loop); natively, f32 takes the
/// vectorised, threaded path of `native` unless a benchmark asked for the portable one.
pub trait Product: Sized {
    /// Overwrites `c` (m×n, row-major) with op(A)·op(B) for a product of dimensions (m, k, n).
    fn product_into(a: MatRef<'_, Self>, b: MatRef<'_, Self>, form: MatmulForm, dims: (usize, usize, usize), c: &mut [Self]) -> Result<(), CoreError>;
}

impl Product for f64 {
    fn product_into(a: MatRef<'_, Self>, b: MatRef<'_, Self>, form: MatmulForm, dims: (usize, usize, usize), c: &mut [Self]) -> Result<(), CoreError> {
        blocked::product_into(a, b, form, dims, c);
        Ok(())
    }
}

impl Product for f32 {
    fn product_into(a: MatRef<'_, Self>, b: MatRef<'_, Self>, form: MatmulForm, dims: (usize, usize, usize), c: &mut [Self]) -> Result<(), CoreError> {
        #[cfg(not(target_arch = "wasm32"))]
        if native::enabled() {
            return native::product_into(a, b, form, dims, c);
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
        blocked::product_with(a, b, form, dims, c, relaxed::column_block);
        #[cfg(not(all(target_arch = "wasm32", target_feature = "relaxed-simd")))]
        blocked::product_into(a, b, form, dims, c);
        Ok(())
    }
}

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
    let (m, _, n) = form.dims(a.shape(), b.shape())?;
    super::check_shape("matmul output", (m, n), c.shape())?;
    matmul_into(a.view(), b.view(), form, epilogue, accumulate, &mut c.data)
}

/// [`matmul`] on borrowed operands into `c`, m×n values row by row: a layer's weights and
/// gradients are read and written in place in the flat parameter buffers.
pub fn matmul_into<T: Real>(
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    form: MatmulForm,
    epilogue: Epilogue<'_, T>,
    accumulate: bool,
    c: &mut [T],
) -> Result<(), CoreError> {
    let (m, k, n) = form.dims(a.shape(), b.shape())?;
    super::check_shape("matmul output", (m * n, 1), (c.len(), 1))?;
    match epilogue {
        Epilogue::BiasActivation { bias, .. } => super::check_shape("matmul bias", (1, n), (1, bias.len()))?,
        Epilogue::ActivationGrad { output, .. } => super::check_shape("matmul activation output", (m, n), output.shape())?,
        Epilogue::None => {}
    }
    if !accumulate {
        // The product goes straight into c; the epilogue, if any, then rewrites it in place.
        T::product_into(a, b, form, (m, k, n), c)?;
        if !matches!(epilogue, Epilogue::None) {
            crate::parallel::for_row_blocks(c, n, |first_row, c_rows| apply_epilogue(epilogue, n, first_row, c_rows, None));
        }
        return Ok(());
    }
    let mut product = vec![T::zero(); m * n];
    T::product_into(a, b, form, (m, k, n), &mut product)?;
    crate::parallel::for_row_blocks(c, n, |first_row, c_rows| {
        apply_epilogue(epilogue, n, first_row, c_rows, Some(&product[first_row * n..first_row * n + c_rows.len()]));
    });
    Ok(())
}

/// The epilogue on whole rows of c from `first_row` on: c = epilogue(c) in place, or with
/// `product` (the same rows of the product) c += epilogue(product).
fn apply_epilogue<T: Real>(epilogue: Epilogue<'_, T>, n: usize, first_row: usize, c_rows: &mut [T], product: Option<&[T]>) {
    match epilogue {
        Epilogue::None => {
            if let Some(product) = product {
                c_rows.iter_mut().zip(product).for_each(|(out, &p)| *out += p);
            }
        }
        Epilogue::BiasActivation { bias, activation } => match activation {
            // The common activations as closures of their own, so each loop is compiled for one
            // function and vectorises instead of matching on every element.
            Activation::Identity => bias_activation(c_rows, product, bias, n, |x| x),
            Activation::Relu => bias_activation(c_rows, product, bias, n, |x: T| x.max(T::zero())),
            other => bias_activation(c_rows, product, bias, n, |x| other.apply(x)),
        },
        Epilogue::ActivationGrad { output, activation } => {
            let output = &output.data[first_row * n..first_row * n + c_rows.len()];
            match activation {
                Activation::Relu => activation_grad(c_rows, product, output, |y: T| if y > T::zero() { T::one() } else { T::zero() }),
                other => activation_grad(c_rows, product, output, |y| other.derivative_from_output(y)),
            }
        }
    }
}

/// c = f(c + bias), or c += f(product + bias), row by row; at the CPU's widest vectors natively.
#[cfg_attr(not(target_arch = "wasm32"), multiversion::multiversion(targets = "simd"))]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn bias_activation<T: Real>(c_rows: &mut [T], product: Option<&[T]>, bias: &[T], n: usize, f: impl Fn(T) -> T) {
    let n = n.max(1);
    match product {
        None => c_rows.chunks_exact_mut(n).for_each(|row| row.iter_mut().zip(bias).for_each(|(out, &b)| *out = f(*out + b))),
        Some(product) => {
            for (row, p_row) in c_rows.chunks_exact_mut(n).zip(product.chunks_exact(n)) {
                row.iter_mut().zip(p_row).zip(bias).for_each(|((out, &p), &b)| *out += f(p + b));
            }
        }
    }
}

/// c = c·f′(y), or c += product·f′(y), with y the layer's stored output.
#[cfg_attr(not(target_arch = "wasm32"), multiversion::multiversion(targets = "simd"))]
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn activation_grad<T: Real>(c_rows: &mut [T], product: Option<&[T]>, output: &[T], derivative: impl Fn(T) -> T) {
    match product {
        None => c_rows.iter_mut().zip(output).for_each(|(out, &y)| *out *= derivative(y)),
        Some(product) => c_rows.iter_mut().zip(product).zip(output).for_each(|((out, &p), &y)| *out += p * derivative(y)),
    }
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

    /// The textbook dot loop the blocked (portable) product must reproduce bit for bit.
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
                let product = blocked::product(a.view(), b.view(), form, (m, k, n));
                let expected = dot_loop(&a, &b, form);
                let same = product.iter().zip(&expected).all(|(x, y)| x.to_bits() == y.to_bits());
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
