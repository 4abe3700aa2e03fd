//! A run saved as a file and read back: the settings (as the URL query, so they are read by the same
//! validated path as a link), the step, the metric history and the model's weights.
//!
//! The file is untrusted, so it is read with bounds that hold while it is being read, not after:
//! [`MAX_BYTES`] of text, strings of bounded length, at most [`MAX_HISTORY_ROWS`] rows of exactly ten
//! values thinned as they arrive to the [`MAX_HISTORY`](crate::run::MAX_HISTORY) a page keeps, at most [`MAX_WEIGHTS`]
//! weights, and serde_json's nesting limit. The weights' declared count is checked against the
//! model the file's own settings make before a byte of them is decoded, and `step` is clamped to
//! [`MAX_STEP`]. Version 2 ([`FORMAT`]) stores the weights as little-endian f32 in base64, so the
//! largest model the page builds exports in about 43 MB and reads back; version 1
//! ([`FORMAT_V1`], weights as JSON numbers) is still read, with the same bounds.

mod error;
mod read;
#[cfg(test)]
mod tests;
mod weights;

use serde::Serialize;

pub use error::RunFileError;

use crate::config::LabConfig;
use crate::run::History;
use crate::SessionError;

/// The format tag written; [`FORMAT_V1`] is also read.
pub const FORMAT: &str = "latent-lab-run/2";
/// The first format: weights as an array of JSON numbers (`null` for a non-finite one).
pub const FORMAT_V1: &str = "latent-lab-run/1";
/// Largest file read.
pub const MAX_BYTES: usize = 64 << 20;
/// Most history rows read from a file (a page's own exports hold at most [`MAX_HISTORY`](crate::run::MAX_HISTORY)); they are
/// thinned to [`MAX_HISTORY`](crate::run::MAX_HISTORY) as they are read.
pub const MAX_HISTORY_ROWS: usize = 100_000;
/// Most weights a file may hold: those of the largest model the page builds, the MNIST VAE of
/// four hidden layers of [`MAX_WIDTH`](crate::config::MAX_WIDTH) and a latent of
/// [`MAX_LATENT`](crate::config::MAX_LATENT): its encoder 784·1024 + 3·1024² + 1024·128 and
/// decoder 64·1024 + 3·1024² + 1024·784 weights with their biases (every tensor starts on a
/// 64-value boundary, and all but the last end on one). 32.4 MB as f32, 43.2 MB in base64.
pub const MAX_WEIGHTS: usize = 8_102_800;
/// Largest step a file may resume from (a larger one is clamped, with a note): 2⁵³ − 1, the last
/// step an f64 history row holds exactly, and far enough below `u64::MAX` that training on never
/// overflows.
pub const MAX_STEP: u64 = (1 << 53) - 1;
/// The history's columns, in order.
pub const HISTORY_COLUMNS: [&str; 10] =
    ["step", "reconstruction", "kl", "penalty", "total", "train_neg_elbo", "test_neg_elbo", "d_loss", "g_loss", "d_accuracy"];

/// A saved run, as written and as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct RunFile {
    /// The settings, as a link holds them.
    pub query: String,
    /// Training steps taken (GAN: rounds), at most [`MAX_STEP`].
    pub step: u64,
    /// The metric history, at most [`MAX_HISTORY`](crate::run::MAX_HISTORY) rows (thinned as a page thins its own).
    pub history: History,
    /// The model's weights: the VAE's encoder and decoder, or the GAN's generator. All finite in a
    /// file that was read.
    pub weights: Vec<f32>,
}

/// What [`RunFile::to_json`] writes.
#[derive(Serialize)]
struct Written<'a> {
    format: &'static str,
    query: &'a str,
    step: u64,
    history_columns: [&'static str; 10],
    /// Non-finite values as `null`.
    history: Vec<[Option<f64>; 10]>,
    weights: weights::Encoded,
}

impl RunFile {
    /// A run saved with its settings as `query` (what a link to it holds).
    pub fn new(query: String, step: u64, history: History, weights: Vec<f32>) -> Self {
        Self { query, step, history, weights }
    }

    /// The file's text, in the current [`FORMAT`].
    pub fn to_json(&self) -> String {
        let finite = |v: f64| v.is_finite().then_some(v);
        let written = Written {
            format: FORMAT,
            query: &self.query,
            step: self.step,
            history_columns: HISTORY_COLUMNS,
            history: self.history.points().iter().map(|p| p.to_row().map(finite)).collect(),
            weights: weights::Encoded::new(&self.weights),
        };
        serde_json::to_string(&written).unwrap_or_default()
    }

    /// Reads a run file: the file, its config and the notes of reading it (the URL parser's, and a
    /// clamped step). Refused, with the reason: a file that is too large, malformed or past any
    /// bound, weights that do not fit the model its settings make, or a weight that is not finite
    /// (a diverged model is not worth restoring).
    pub fn parse(text: &str) -> Result<(RunFile, LabConfig, Vec<String>), SessionError> {
        Ok(read::read(text)?)
    }
}

/// How many weights a run file of `config` holds: the length of the saved network's flat
/// parameter vector (the VAE's encoder and decoder, or the GAN's generator).
pub fn expected_weights(config: &LabConfig) -> Result<usize, SessionError> {
    crate::run::saved_weight_count(&config.shape, config.data.dataset)
}

#[cfg(test)]
mod restore_tests {
    use super::*;
    use crate::config::{Dataset, ModelKind};
    use crate::run::{Engine, Run, Start};
    use pollster::block_on;

    /// Saving a CPU run's weights and building from the file gives the same model at the same step,
    /// with its history; weights that do not fit the model are refused.
    #[test]
    fn a_saved_model_builds_back_identically() {
        let ring = Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8);
        let config = LabConfig::defaults_for(ModelKind::Vae, ring);
        let mut run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
        for _ in 0..3 {
            block_on(run.advance(5)).expect("trains");
        }
        let file = block_on(run.export(config.to_query())).expect("exports");
        let (back, back_config, _) = RunFile::parse(&file.to_json()).expect("parses");
        assert_eq!(back.step, 15);
        let restored = Run::build(back_config.run_spec(), Engine::Cpu, None, Start::from_file(&back)).expect("builds");
        assert_eq!((restored.step(), restored.history()), (run.step(), run.history()));
        assert_eq!(block_on(restored.export(config.to_query())).expect("exports").weights, file.weights);
        let short = RunFile { weights: file.weights[1..].to_vec(), ..file.clone() };
        let error = Run::build(back_config.run_spec(), Engine::Cpu, None, Start::from_file(&short)).err().expect("a short weight list is refused");
        assert!(error.to_string().contains("do not fit"), "{error}");
        let gan = LabConfig::defaults_for(ModelKind::Gan, ring);
        assert!(Run::build(gan.run_spec(), Engine::Cpu, None, Start::from_file(&file)).is_err());
    }

    /// A file's step past [`MAX_STEP`] is clamped, and the run it builds trains on from there
    /// without overflowing (a `u64::MAX` step panicked in a debug build).
    #[test]
    fn a_huge_step_is_clamped_and_trains_on() {
        let ring = Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8);
        let config = LabConfig::defaults_for(ModelKind::Vae, ring);
        let run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
        let file = RunFile { step: u64::MAX, ..block_on(run.export(config.to_query())).expect("exports") };
        let (back, back_config, notes) = RunFile::parse(&file.to_json()).expect("parses");
        assert_eq!(back.step, MAX_STEP);
        assert!(notes.iter().any(|n| n.contains("step")), "{notes:?}");
        let mut restored = Run::build(back_config.run_spec(), Engine::Cpu, None, Start::from_file(&back)).expect("builds");
        block_on(restored.advance(5)).expect("trains");
        assert_eq!(restored.step(), MAX_STEP + 5);
    }
}
