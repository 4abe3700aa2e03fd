//! Reading a run file with bounds that hold while it is read: every string and list is read by a
//! visitor that refuses as soon as it passes its limit, so a hostile file costs at most its own
//! size and the weights of the largest model, never a blind allocation per element.

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

use super::error::expected_formats;
use super::weights::Declared;
use super::{expected_weights, RunFile, RunFileError, FORMAT, FORMAT_V1, MAX_BYTES, MAX_HISTORY_ROWS, MAX_STEP, MAX_WEIGHTS};
use crate::config::query::MAX_QUERY;
use crate::config::LabConfig;
use crate::run::{History, Point};

/// Longest settings query read: twice what a link's parser keeps, so a page's own query always fits.
const MAX_QUERY_CHARS: usize = 2 * MAX_QUERY;
/// Most history column names, and the longest.
const MAX_COLUMNS: usize = 16;
const MAX_COLUMN_CHARS: usize = 64;

/// The file as read, in either version. Unknown fields are refused rather than skipped: skipping
/// an arbitrarily nested value costs a byte of memory per level.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename = "run file")]
struct OnDisk<'a> {
    #[serde(deserialize_with = "format_tag")]
    format: Version,
    #[serde(deserialize_with = "query_text")]
    query: String,
    step: u64,
    #[serde(default, deserialize_with = "column_names")]
    #[allow(dead_code, reason = "read for its bounds only: the rows are always the ten HISTORY_COLUMNS")]
    history_columns: (),
    #[serde(deserialize_with = "history_rows")]
    history: History,
    /// Version 1: the weights as JSON numbers.
    #[serde(default, deserialize_with = "weights_v1")]
    parameters: Option<Vec<f32>>,
    /// Version 2: the declared count and the base64 text.
    #[serde(default, borrow)]
    weights: Option<Declared<'a>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Version {
    One,
    Two,
}

/// See [`RunFile::parse`].
pub(super) fn read(text: &str) -> Result<(RunFile, LabConfig, Vec<String>), RunFileError> {
    if text.len() > MAX_BYTES {
        return Err(RunFileError::TooLarge { bytes: text.len() });
    }
    // serde_json's nesting limit (128 levels) bounds the recursion; every list below bounds itself.
    let file: OnDisk = serde_json::from_str(text).map_err(|e| RunFileError::unreadable(&e))?;
    let (config, mut notes) = LabConfig::from_query(&file.query);
    let expected = expected_weights(&config).map_err(|e| RunFileError::NoModel(e.to_string()))?;
    let weights = match (file.format, file.parameters, file.weights) {
        (Version::Two, None, Some(declared)) => {
            if declared.count != expected {
                return Err(RunFileError::WeightCount { declared: declared.count, expected });
            }
            declared.decode()?
        }
        (Version::One, Some(parameters), None) if parameters.len() != expected => {
            return Err(RunFileError::WeightCount { declared: parameters.len(), expected })
        }
        (Version::One, Some(parameters), None) => parameters,
        _ => return Err(RunFileError::NoWeights),
    };
    if !weights.iter().all(|w| w.is_finite()) {
        return Err(RunFileError::NotFinite);
    }
    if file.step > MAX_STEP {
        notes.push(format!("the file's step {} is past the last one kept, {MAX_STEP}; the run resumes there", file.step));
    }
    let file = RunFile { query: file.query, step: file.step.min(MAX_STEP), history: file.history, weights };
    Ok((file, config, notes))
}

fn format_tag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Version, D::Error> {
    let tag = deserializer.deserialize_str(BoundedString { most: 64, what: "format tag" })?;
    match tag.as_str() {
        FORMAT => Ok(Version::Two),
        FORMAT_V1 => Ok(Version::One),
        other => Err(de::Error::custom(format_args!("its format is `{other}`, not {}", expected_formats()))),
    }
}

fn query_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    deserializer.deserialize_str(BoundedString { most: MAX_QUERY_CHARS, what: "settings query" })
}

/// A string of at most `most` bytes, refused before it is copied.
struct BoundedString {
    most: usize,
    what: &'static str,
}

impl Visitor<'_> for BoundedString {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "the {} as a string of at most {} bytes", self.what, self.most)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<String, E> {
        if text.len() > self.most {
            return Err(E::custom(format_args!("its {} is {} bytes long; at most {} are read", self.what, text.len(), self.most)));
        }
        Ok(text.to_owned())
    }
}

fn column_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<(), D::Error> {
    deserializer.deserialize_seq(ColumnNames)
}

/// The history's column names, bounded in number and length and otherwise ignored.
struct ColumnNames;

impl<'de> Visitor<'de> for ColumnNames {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "at most {MAX_COLUMNS} column names")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut count = 0;
        while seq.next_element_seed(ColumnName)?.is_some() {
            count += 1;
            if count > MAX_COLUMNS {
                return Err(de::Error::custom(format_args!("it has more than {MAX_COLUMNS} history columns")));
            }
        }
        Ok(())
    }
}

/// One column name: checked for length, not kept.
struct ColumnName;

impl<'de> DeserializeSeed<'de> for ColumnName {
    type Value = IgnoredAny;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<IgnoredAny, D::Error> {
        deserializer.deserialize_str(BoundedString { most: MAX_COLUMN_CHARS, what: "column name" }).map(|_| IgnoredAny)
    }
}

fn history_rows<'de, D: Deserializer<'de>>(deserializer: D) -> Result<History, D::Error> {
    deserializer.deserialize_seq(HistoryRows)
}

/// At most [`MAX_HISTORY_ROWS`] rows of exactly ten numbers or `null`s, thinned to the page's
/// [`MAX_HISTORY`](crate::run::MAX_HISTORY) as they arrive.
struct HistoryRows;

impl<'de> Visitor<'de> for HistoryRows {
    type Value = History;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "at most {MAX_HISTORY_ROWS} history rows of {} numbers", super::HISTORY_COLUMNS.len())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<History, A::Error> {
        let (mut history, mut count) = (History::default(), 0);
        while let Some(row) = seq.next_element::<[Option<f64>; 10]>()? {
            if count == MAX_HISTORY_ROWS {
                return Err(de::Error::custom(format_args!("its history has more than {MAX_HISTORY_ROWS} rows")));
            }
            count += 1;
            history.push(Point::from_row(row.map(|v| v.unwrap_or(f64::NAN))));
        }
        Ok(history)
    }
}

fn weights_v1<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Vec<f32>>, D::Error> {
    deserializer.deserialize_seq(WeightsV1).map(Some)
}

/// Version 1's weights: at most [`MAX_WEIGHTS`] numbers, a `null` (a non-finite weight) refused
/// at once.
struct WeightsV1;

impl<'de> Visitor<'de> for WeightsV1 {
    type Value = Vec<f32>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "at most {MAX_WEIGHTS} weights")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<f32>, A::Error> {
        let mut weights = Vec::new();
        while let Some(weight) = seq.next_element::<Option<f32>>()? {
            if weights.len() == MAX_WEIGHTS {
                return Err(de::Error::custom(format_args!("it has more than {MAX_WEIGHTS} weights, those of the largest model")));
            }
            weights.push(weight.ok_or_else(|| de::Error::custom(RunFileError::NotFinite))?);
        }
        Ok(weights)
    }
}
