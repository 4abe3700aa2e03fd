//! A run saved as a file and read back: the settings (as the URL query, so they are read by the same
//! validated path as a link), the metric history and the model's weights. Reading is bounded: a
//! file over [`MAX_BYTES`], a history over [`MAX_HISTORY_ROWS`] or weights that do not fit the
//! model are refused with a message, never allocated blindly.

use serde::{Deserialize, Serialize};

use crate::config::LabConfig;
use crate::SessionError;

/// The format tag; a file with another is refused.
pub const FORMAT: &str = "latent-lab-run/1";
/// Largest file read.
pub const MAX_BYTES: usize = 64 << 20;
/// Most history rows kept from a file.
pub const MAX_HISTORY_ROWS: usize = 100_000;
/// The history's columns, in order.
pub const HISTORY_COLUMNS: [&str; 10] =
    ["step", "reconstruction", "kl", "penalty", "total", "train_neg_elbo", "test_neg_elbo", "d_loss", "g_loss", "d_accuracy"];

/// A saved run. Non-finite numbers are stored as `null`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFile {
    pub format: String,
    pub query: String,
    pub step: u64,
    pub history_columns: Vec<String>,
    pub history: Vec<Vec<Option<f64>>>,
    /// The model's weights: the VAE's encoder and decoder, or the GAN's generator.
    pub parameters: Vec<Option<f32>>,
}

impl RunFile {
    /// A run saved with its settings as `query` (what a link to it holds).
    pub fn new(query: String, step: u64, history: Vec<[f64; 10]>, parameters: &[f32]) -> Self {
        let finite = |v: f64| v.is_finite().then_some(v);
        Self {
            format: FORMAT.into(),
            query,
            step,
            history_columns: HISTORY_COLUMNS.iter().map(|c| c.to_string()).collect(),
            history: history.iter().map(|row| row.iter().map(|&v| finite(v)).collect()).collect(),
            parameters: parameters.iter().map(|&w| w.is_finite().then_some(w)).collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads a run file: the file, its config (with the URL parser's notes) and its weights (a
    /// non-finite weight is refused: a diverged model is not worth restoring).
    pub fn parse(text: &str) -> Result<(RunFile, LabConfig, Vec<String>), SessionError> {
        let refuse = |m: String| SessionError::Invalid(format!("This run file cannot be used: {m}"));
        if text.len() > MAX_BYTES {
            return Err(refuse(format!("it is {} MB; at most {} MB are read", text.len() >> 20, MAX_BYTES >> 20)));
        }
        let file: RunFile = serde_json::from_str(text).map_err(|e| refuse(format!("it is not a Latent Lab run ({e})")))?;
        if file.format != FORMAT {
            return Err(refuse(format!("its format is `{}`, not `{FORMAT}`", file.format.chars().take(40).collect::<String>())));
        }
        if file.history.len() > MAX_HISTORY_ROWS || file.history.iter().any(|row| row.len() != HISTORY_COLUMNS.len()) {
            return Err(refuse(format!("its history must be at most {MAX_HISTORY_ROWS} rows of {} values", HISTORY_COLUMNS.len())));
        }
        if file.parameters.iter().any(Option::is_none) {
            return Err(refuse("some of its weights are not finite numbers (the run had diverged)".into()));
        }
        let (config, notes) = LabConfig::from_query(&file.query);
        Ok((file, config, notes))
    }

    /// The weights as numbers (checked finite by [`parse`](Self::parse)).
    pub fn weights(&self) -> Vec<f32> {
        self.parameters.iter().map(|w| w.unwrap_or(0.0)).collect()
    }

    /// History rows with `null` read as NaN.
    pub fn history_rows(&self) -> impl Iterator<Item = [f64; 10]> + '_ {
        self.history.iter().map(|row| {
            let mut out = [f64::NAN; 10];
            for (o, v) in out.iter_mut().zip(row) {
                *o = v.unwrap_or(f64::NAN);
            }
            out
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_file_round_trips() {
        let mut config = LabConfig::default();
        config.knobs.beta = 4.0;
        let history = vec![[10.0, 1.0, 2.0, 0.0, 3.0, f64::NAN, f64::NAN, 0.0, 0.0, f64::NAN], [20.0, 0.5, 1.5, 0.0, 2.0, 2.1, 2.3, 0.0, 0.0, f64::NAN]];
        let file = RunFile::new(config.to_query(), 20, history, &[0.5, -0.25, 1e-8]);
        let (back, back_config, notes) = RunFile::parse(&file.to_json()).expect("parses");
        assert_eq!(back, file);
        assert_eq!(back_config, config);
        assert!(notes.is_empty());
        assert_eq!(back.weights(), vec![0.5, -0.25, 1e-8]);
        assert!(back.history_rows().next().is_some_and(|row| row[5].is_nan() && row[0] == 10.0));
    }

    #[test]
    fn bad_files_are_refused_with_a_message() {
        for text in [
            "",
            "{}",
            "not json",
            "[1,2,3]",
            r#"{"format":"other","query":"","step":0,"history_columns":[],"history":[],"parameters":[]}"#,
            r#"{"format":"latent-lab-run/1","query":"","step":0,"history_columns":[],"history":[[1,2]],"parameters":[]}"#,
            r#"{"format":"latent-lab-run/1","query":"","step":0,"history_columns":[],"history":[],"parameters":[1,null]}"#,
        ] {
            let error = RunFile::parse(text).expect_err(text);
            assert!(error.to_string().starts_with("This run file cannot be used"), "{error}");
        }
        let (_, config, notes) =
            RunFile::parse(r#"{"format":"latent-lab-run/1","query":"lr=99&evil=1","step":0,"history_columns":[],"history":[],"parameters":[]}"#)
                .expect("parses");
        assert_eq!(config.knobs.lr, 0.1);
        assert_eq!(notes.len(), 2, "{notes:?}");
    }
}

#[cfg(test)]
mod restore_tests {
    use super::*;
    use crate::config::{Dataset, ModelKind};
    use crate::run::{Run, Start};

    /// Saving a CPU run's weights and building from the file gives the same model at the same step,
    /// with its history; weights that do not fit the model are refused.
    #[test]
    fn a_saved_model_builds_back_identically() {
        let ring = Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8);
        let config = LabConfig::defaults_for(ModelKind::Vae, ring);
        let mut run = Run::build(config.run_spec(), None, None, Start::Fresh).expect("builds");
        for _ in 0..3 {
            block_on(run.advance(5)).expect("trains");
        }
        let file = block_on(run.export(config.to_query())).expect("exports");
        let (back, back_config, _) = RunFile::parse(&file.to_json()).expect("parses");
        assert_eq!(back.step, 15);
        let restored = Run::build(back_config.run_spec(), None, None, Start::from_file(&back)).expect("builds");
        assert_eq!((restored.step(), restored.history()), (run.step(), run.history()));
        assert_eq!(block_on(restored.export(config.to_query())).expect("exports").parameters, file.parameters);
        let short = RunFile { parameters: file.parameters[1..].to_vec(), ..file.clone() };
        let error = Run::build(back_config.run_spec(), None, None, Start::from_file(&short)).err().expect("a short weight list is refused");
        assert!(error.to_string().contains("do not fit"), "{error}");
        let gan = LabConfig::defaults_for(ModelKind::Gan, ring);
        assert!(Run::build(gan.run_spec(), None, None, Start::from_file(&file)).is_err());
    }

    /// The CPU engine never awaits anything pending: polling once finishes its calls.
    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("a CPU engine call was pending"),
        }
    }
}
