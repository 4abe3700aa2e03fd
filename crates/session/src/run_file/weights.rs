//! The weights of a version 2 run file: their count, then their bytes as little-endian f32 in
//! standard base64 (with padding). Four bytes a weight, in 5⅓ characters, where a JSON number
//! took 10 to 13, and every bit of every weight comes back.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::RunFileError;

/// Characters decoded at a time: a multiple of 4, so only the last piece can hold padding.
const PIECE: usize = 4 << 10;

/// The weights as written.
#[derive(Serialize)]
pub(super) struct Encoded {
    count: usize,
    f32le_base64: String,
}

impl Encoded {
    pub(super) fn new(weights: &[f32]) -> Self {
        let bytes: Vec<u8> = weights.iter().flat_map(|w| w.to_le_bytes()).collect();
        Self { count: weights.len(), f32le_base64: STANDARD.encode(bytes) }
    }
}

/// The weights as read: the declared count and the text, borrowed from the file when it has no
/// escapes (it never should), and decoded only once the count has been checked.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Declared<'a> {
    pub(super) count: usize,
    #[serde(borrow)]
    f32le_base64: Cow<'a, str>,
}

impl Declared<'_> {
    /// The weights, once their text is exactly as long as [`count`](Self::count) of them
    /// encode to; allocates the weights and nothing else (the text is decoded a piece at a time).
    pub(super) fn decode(&self) -> Result<Vec<f32>, RunFileError> {
        let count = self.count;
        let refuse = |reason: String| RunFileError::WeightData { count, reason };
        let text = self.f32le_base64.as_bytes();
        let expected = count.checked_mul(4).and_then(|bytes| base64::encoded_len(bytes, true));
        if expected != Some(text.len()) {
            return Err(refuse(format!("{} characters where they take {}", text.len(), expected.map_or("too many".into(), |n| n.to_string()))));
        }
        let mut weights = Vec::with_capacity(count);
        let mut bytes = [0u8; PIECE / 4 * 3];
        for piece in text.chunks(PIECE) {
            let n = STANDARD.decode_slice(piece, &mut bytes).map_err(|e| refuse(e.to_string()))?;
            weights.extend(bytes[..n].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        }
        if weights.len() != count {
            return Err(refuse(format!("they decode to {} bytes", weights.len() * 4)));
        }
        Ok(weights)
    }
}
