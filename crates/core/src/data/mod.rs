//! Datasets: real MNIST digits from the project's compact asset, and seeded 2D toy distributions.

pub mod mnist;
pub mod toy2d;
