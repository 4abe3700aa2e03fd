//! A Latent Lab training session, whatever front end drives it: a [`Run`] (its data, its model on
//! the GPU engine or the CPU twin behind `latent_core::engine`'s seam, knobs, metric history,
//! evaluation cadence, early stopping and restore-best, checkpoints and views), the engine choice
//! ([`open_engine`]), the playground's configuration ([`config::LabConfig`]), parsed from a URL query
//! by one validated path, and [`RunFile`], a run saved and read back. The CLI and the web app only
//! present what a run reports.

pub mod branches;
pub mod config;
pub mod draw_pad;
mod engine;
mod error;
pub mod explain;
pub mod hosted;
pub mod lesson;
pub mod lesson_origins;
pub mod palette;
pub mod points_file;
pub mod requests;
pub mod run;
pub mod run_file;
pub mod sweep;

pub use engine::{open_engine, CpuReason, EngineChoice, Opened};
pub use error::SessionError;
pub use run::{Engine, Run, RunSpec, Start};
pub use run_file::RunFile;
