//! The data of a run: every row (MNIST pixels or 2D points), which rows train and which are held
//! out, and the labels that colour the latent scatter. Both engines read batches by the gather
//! kernels' rule, so the CPU twin sees exactly the rows the GPU sees.

use std::sync::Arc;

use super::mnist::{self, Mnist};
use super::toy2d::{self, Toy2d};
use super::DataError;
use crate::matrix::Matrix;
use crate::ops::gather::{gather_f32, gather_u8};

/// Held-out points of a 2D dataset.
pub const TOY_TEST_POINTS: usize = 1000;

/// Every row of a dataset, flat: `dim` values per row.
#[derive(Clone, Debug, PartialEq)]
pub enum Rows {
    /// MNIST pixels, 0..=255 (read as [0, 1]), shared with the parsed asset and every other run
    /// over it (a copy is 7.8 MB and, on the page's main thread, a 26 ms task at Lighthouse's 4×
    /// slowdown).
    Pixels(Arc<Vec<u8>>),
    /// 2D points.
    Points(Vec<f32>),
}

/// The rows of a run and how they split.
#[derive(Clone, Debug)]
pub struct RunData {
    pub rows: Rows,
    pub dim: usize,
    /// Class of every row (MNIST digits), for colouring the latent scatter.
    pub labels: Option<Vec<u8>>,
    pub train: Vec<u32>,
    pub test: Vec<u32>,
}

impl RunData {
    /// The project's MNIST split of `asset` (the bytes of `www/assets/mnist-10k.bin`), with a
    /// class-balanced training subset of `train_size` digits (all of them when `None`), and the
    /// first `test_rows` of the project's held-out digits (at most [`mnist::DEFAULT_TEST_COUNT`]).
    pub fn mnist(asset: &[u8], train_size: Option<usize>, test_rows: usize) -> Result<Self, DataError> {
        Self::from_mnist(&Mnist::parse(asset)?, train_size, test_rows)
    }

    /// The same from digits parsed already (a page parses its asset once, in a task of its own).
    pub fn from_mnist(data: &Mnist, train_size: Option<usize>, test_rows: usize) -> Result<Self, DataError> {
        let split = data.split(mnist::DEFAULT_TEST_COUNT, mnist::DEFAULT_SPLIT_SEED)?;
        let train = split.train_subset(train_size.unwrap_or(split.train.len()), data.labels())?;
        let test = split.test.iter().take(test_rows).copied().collect();
        Ok(Self { rows: Rows::Pixels(data.shared_pixels()), dim: mnist::PIXELS, labels: Some(data.labels().to_vec()), train, test })
    }

    /// `train_size` training points and [`TOY_TEST_POINTS`] held-out points of a 2D distribution.
    pub fn toy(dist: Toy2d, train_size: usize, noise: f32, seed: u64) -> Result<Self, DataError> {
        let points = toy2d::sample(dist, train_size + TOY_TEST_POINTS, noise, seed)?;
        Self::from_points(&points, train_size)
    }

    /// `train_size` training and [`TOY_TEST_POINTS`] held-out points around the user's drawn points.
    pub fn drawn(drawn: &[[f32; 2]], train_size: usize, noise: f32, seed: u64) -> Result<Self, DataError> {
        let points = toy2d::sample_around(drawn, train_size + TOY_TEST_POINTS, noise, seed)?;
        Self::from_points(&points, train_size)
    }

    /// Points the user drew or uploaded: the first `train` of them train, the rest are held out.
    pub fn from_points(points: &[[f32; 2]], train: usize) -> Result<Self, DataError> {
        let total = u32::try_from(points.len()).map_err(|_| DataError::Rejected(format!("{} points are too many", points.len())))?;
        let split = u32::try_from(train.min(points.len())).unwrap_or(total);
        Ok(Self {
            rows: Rows::Points(points.iter().flatten().copied().collect()),
            dim: 2,
            labels: None,
            train: (0..split).collect(),
            test: (split..total).collect(),
        })
    }

    /// `rows` rows by the gather kernels' rule, as f32 (pixels scaled to [0, 1]).
    pub fn batch(&self, indices: &[u32], base: u32, step: u32, rows: usize) -> Matrix<f32> {
        let data = match &self.rows {
            Rows::Pixels(bytes) => gather_u8(bytes, self.dim, indices, base, step, rows),
            Rows::Points(points) => gather_f32(points, self.dim, indices, base, step, rows),
        };
        Matrix { rows, cols: self.dim, data }
    }

    /// The 2D points of a toy dataset (empty for pixels).
    pub fn points_2d(&self) -> Vec<[f32; 2]> {
        match &self.rows {
            Rows::Points(points) => as_points(points),
            Rows::Pixels(_) => Vec::new(),
        }
    }

    /// Labels of the first `n` held-out rows (zeros when the data has none).
    pub fn test_labels(&self, n: usize) -> Vec<u8> {
        match &self.labels {
            Some(all) => self.test.iter().take(n).map(|&i| all[i as usize]).collect(),
            None => vec![0; n.min(self.test.len())],
        }
    }

    /// Fails unless the held-out set has at least one whole batch (evaluations score whole batches).
    pub fn check_batch(&self, batch: usize) -> Result<(), DataError> {
        if self.test.len() < batch {
            return Err(DataError::Rejected(format!("the held-out set ({} rows) is smaller than one batch ({batch})", self.test.len())));
        }
        if self.train.is_empty() {
            return Err(DataError::Rejected("the training set is empty".into()));
        }
        Ok(())
    }
}

/// Flat (x, y) pairs as points.
pub fn as_points(flat: &[f32]) -> Vec<[f32; 2]> {
    flat.chunks_exact(2).map(|p| [p[0], p[1]]).collect()
}
