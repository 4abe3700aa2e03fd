//! Why a run file was refused, each reason said so that the user knows what is wrong with the file.

use super::{FORMAT, MAX_BYTES};

/// A run file that cannot be used. Shown after "This run file cannot be used: ".
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum RunFileError {
    #[error("it is {} MB; at most {} MB are read", .bytes >> 20, MAX_BYTES >> 20)]
    TooLarge { bytes: usize },
    /// Not JSON, not a run file, or past one of the bounds that hold while it is read (the
    /// message names which, and where).
    #[error("it is not a Latent Lab run file that can be read ({0})")]
    Unreadable(String),
    #[error("it holds no weights")]
    NoWeights,
    /// The settings make no model (the URL parser clamps sizes, so this is rare).
    #[error("its settings make no model ({0})")]
    NoModel(String),
    #[error("it declares {declared} weights, but its settings make a model of {expected}")]
    WeightCount { declared: usize, expected: usize },
    #[error("its weights are not {count} numbers in base64 ({reason})")]
    WeightData { count: usize, reason: String },
    #[error("some of its weights are not finite numbers (the run had diverged)")]
    NotFinite,
}

impl RunFileError {
    /// The text of a malformed file's error, cut to a line's length: serde's message quotes
    /// what it found, which is the file's own (possibly huge) text.
    pub(super) fn unreadable(error: &serde_json::Error) -> Self {
        const MOST: usize = 200;
        let text = error.to_string();
        Self::Unreadable(if text.chars().count() > MOST { text.chars().take(MOST).chain(['…']).collect() } else { text })
    }
}

/// The format tag a file must carry (in a message).
pub(super) fn expected_formats() -> String {
    format!("`{FORMAT}` (or `{}`)", super::FORMAT_V1)
}
