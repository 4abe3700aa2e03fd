//! GPU buffers with a shape, and the allocation ledger that lets tests prove nothing leaks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::GpuError;

/// What a tensor's elements are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ElementKind {
    F32,
    U32,
    /// Bytes packed four per u32 word (WGSL has no u8 storage type): datasets of pixels.
    U8Packed,
}

impl ElementKind {
    /// Bytes needed for `len` elements, rounded up to whole u32 words.
    pub fn bytes_for(self, len: u64) -> u64 {
        match self {
            Self::F32 | Self::U32 => len * 4,
            Self::U8Packed => len.div_ceil(4) * 4,
        }
    }
}

/// Live buffer count and bytes of one context; shared by every tensor it made.
#[derive(Debug, Default)]
pub struct AllocationLedger {
    buffers: AtomicU64,
    bytes: AtomicU64,
}

impl AllocationLedger {
    /// (live buffers, live bytes).
    pub fn snapshot(&self) -> (u64, u64) {
        (self.buffers.load(Ordering::Relaxed), self.bytes.load(Ordering::Relaxed))
    }
}

/// Keeps the ledger right: counts in on creation, out on drop.
#[derive(Debug)]
pub(crate) struct LedgerEntry {
    ledger: Arc<AllocationLedger>,
    bytes: u64,
}

impl LedgerEntry {
    pub(crate) fn new(ledger: Arc<AllocationLedger>, bytes: u64) -> Self {
        ledger.buffers.fetch_add(1, Ordering::Relaxed);
        ledger.bytes.fetch_add(bytes, Ordering::Relaxed);
        Self { ledger, bytes }
    }
}

impl Drop for LedgerEntry {
    fn drop(&mut self) {
        self.ledger.buffers.fetch_sub(1, Ordering::Relaxed);
        self.ledger.bytes.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

/// A storage buffer holding a row-major `rows × cols` matrix (a vector is `1 × n`).
///
/// Dropping the tensor destroys its buffer at once rather than waiting for the last wgpu handle.
#[derive(Debug)]
pub struct GpuTensor {
    buffer: wgpu::Buffer,
    rows: usize,
    cols: usize,
    kind: ElementKind,
    label: String,
    _ledger: LedgerEntry,
}

impl GpuTensor {
    pub(crate) fn new(
        buffer: wgpu::Buffer,
        rows: usize,
        cols: usize,
        kind: ElementKind,
        label: String,
        ledger: Arc<AllocationLedger>,
    ) -> Self {
        let bytes = buffer.size();
        Self { buffer, rows, cols, kind, label, _ledger: LedgerEntry::new(ledger, bytes) }
    }

    pub fn buffer(&self) -> &wgpu::Buffer {
        &self.buffer
    }
    pub fn rows(&self) -> usize {
        self.rows
    }
    pub fn cols(&self) -> usize {
        self.cols
    }
    pub fn shape(&self) -> (usize, usize) {
        (self.rows, self.cols)
    }
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn kind(&self) -> ElementKind {
        self.kind
    }
    pub fn label(&self) -> &str {
        &self.label
    }

    /// "label (rows×cols)", for error messages.
    pub fn describe(&self) -> String {
        format!("`{}` {}×{}", self.label, self.rows, self.cols)
    }

    /// Fails unless this tensor is `rows × cols` of `kind`.
    pub(crate) fn expect(&self, op: &'static str, rows: usize, cols: usize, kind: ElementKind) -> Result<(), GpuError> {
        if self.kind != kind {
            return Err(GpuError::invalid(op, format!("{} holds {:?}, expected {:?}", self.describe(), self.kind, kind)));
        }
        if (self.rows, self.cols) != (rows, cols) {
            return Err(GpuError::shape(op, format!("{rows}×{cols}"), self.describe()));
        }
        Ok(())
    }

    /// Fails unless this tensor holds exactly `len` elements of `kind` (any row/column split).
    pub(crate) fn expect_len(&self, op: &'static str, len: usize, kind: ElementKind) -> Result<(), GpuError> {
        if self.kind != kind {
            return Err(GpuError::invalid(op, format!("{} holds {:?}, expected {:?}", self.describe(), self.kind, kind)));
        }
        if self.len() != len {
            return Err(GpuError::shape(op, format!("{len} elements"), self.describe()));
        }
        Ok(())
    }
}

impl Drop for GpuTensor {
    fn drop(&mut self) {
        self.buffer.destroy();
    }
}

/// Fails if a written tensor is also bound as an input: WebGPU forbids a buffer that is both
/// writable and read-only in one dispatch, and the result would be undefined anyway.
pub(crate) fn expect_distinct(op: &'static str, output: &GpuTensor, inputs: &[&GpuTensor]) -> Result<(), GpuError> {
    match inputs.iter().find(|input| input.buffer == output.buffer) {
        Some(input) => Err(GpuError::invalid(op, format!("output {} is also an input ({})", output.describe(), input.describe()))),
        None => Ok(()),
    }
}
