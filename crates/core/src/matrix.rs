//! A dense row-major matrix: the shape every op speaks.

use crate::real::Real;

/// Row-major `rows × cols` matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix<T> {
    pub rows: usize,
    pub cols: usize,
    pub data: Vec<T>,
}

/// A borrowed row-major `rows × cols` matrix: one layer's weights inside a flat parameter buffer,
/// read by the products without a copy.
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, T> {
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [T],
}

impl<T: Real> MatRef<'_, T> {
    #[inline]
    pub fn at(&self, row: usize, col: usize) -> T {
        self.data[row * self.cols + col]
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
}

impl<T: Real> Matrix<T> {
    /// The matrix, borrowed.
    pub fn view(&self) -> MatRef<'_, T> {
        MatRef { rows: self.rows, cols: self.cols, data: &self.data }
    }

    pub fn zeros(rows: usize, cols: usize) -> Self {
        Self { rows, cols, data: vec![T::zero(); rows * cols] }
    }

    /// Wraps `data`; returns `None` if its length is not `rows * cols`.
    pub fn from_vec(rows: usize, cols: usize, data: Vec<T>) -> Option<Self> {
        (data.len() == rows * cols).then_some(Self { rows, cols, data })
    }

    /// Converts an `f32` buffer (as the GPU holds it) into this scalar type.
    pub fn from_f32(rows: usize, cols: usize, data: &[f32]) -> Option<Self> {
        Self::from_vec(rows, cols, data.iter().map(|&v| T::from_f64(f64::from(v))).collect())
    }

    #[inline]
    pub fn at(&self, row: usize, col: usize) -> T {
        self.data[row * self.cols + col]
    }

    #[inline]
    pub fn at_mut(&mut self, row: usize, col: usize) -> &mut T {
        &mut self.data[row * self.cols + col]
    }

    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }

    pub fn shape_string(&self) -> String {
        format!("{}×{}", self.rows, self.cols)
    }

    pub fn transposed(&self) -> Self {
        let mut out = Self::zeros(self.cols, self.rows);
        for r in 0..self.rows {
            for c in 0..self.cols {
                *out.at_mut(c, r) = self.at(r, c);
            }
        }
        out
    }

    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|v| v.to_f64() as f32).collect()
    }
}
