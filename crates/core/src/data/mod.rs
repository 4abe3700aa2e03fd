//! Datasets: real MNIST digits from the project's compact asset, seeded 2D toy distributions, and
//! [`RunData`], the rows of one run split into training and held-out rows.

pub mod mnist;
mod run_data;
pub mod toy2d;

pub use run_data::{as_points, Rows, RunData, TOY_TEST_POINTS};

/// Why a dataset could not be loaded or accepted; each message is shown to the user as is.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DataError {
    /// The MNIST asset is damaged: wrong magic, truncated, bad checksum, inconsistent sizes.
    #[error("the MNIST asset is corrupt: {0}")]
    CorruptAsset(String),
    /// A user-supplied or requested dataset that cannot be used (empty, degenerate, too large…).
    #[error("{0}")]
    Rejected(String),
}
