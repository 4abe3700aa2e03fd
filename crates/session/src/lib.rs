//! A Latent Lab training session, whatever front end drives it: the run's data ([`RunData`]), the
//! engine it trains on ([`VaeEngine`] for the VAE and VAE-GAN, [`GanEngine`] for the GAN; each on the
//! GPU or as the CPU twin), and the playground's configuration ([`config::LabConfig`]), parsed from
//! a URL query by one validated path; and [`RunFile`], a run saved and read back. The CLI and the web app both build on it.

pub mod config;
mod data;
mod error;
mod gan_engine;
pub mod points_file;
pub mod run_file;
mod vae_engine;

pub use data::{as_points, RunData, TOY_TEST_POINTS};
pub use error::SessionError;
pub use gan_engine::GanEngine;
pub use run_file::RunFile;
pub use vae_engine::VaeEngine;
