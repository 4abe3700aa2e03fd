//! Latent Lab's pure-Rust core: the reference math every GPU kernel is checked against.
//!
//! Everything here is plain Rust with no GPU or browser dependency, generic over [`Real`] so that the
//! same code is the `f64` oracle of the kernel tests and the `f32` CPU engine. Each function in
//! [`ops`] mirrors one WGSL kernel; its doc comment names the shader. [`engine`] is the seam every
//! front end talks to (the model traits, implemented here by the CPU twin and in `latent-gpu` by
//! the GPU engine); [`knobs`] is the one validated value of every knob.

pub mod activation;
pub mod data;
pub mod engine;
pub mod error;
pub mod finite_diff;
pub mod knobs;
pub mod matrix;
pub mod metrics;
pub mod model;
pub mod ops;
mod parallel;
pub mod real;
pub mod rng;
pub mod vector_math;

pub use activation::Activation;
pub use error::CoreError;
pub use knobs::Knobs;
pub use matrix::{MatRef, Matrix};
pub use real::Real;
