//! Datasets: real MNIST digits from the project's compact asset, and seeded 2D toy distributions.

pub mod mnist;
pub mod toy2d;

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
