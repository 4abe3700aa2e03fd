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

/// WebGPU's guaranteed storage-binding offset alignment (`minStorageBufferOffsetAlignment`), in
/// bytes: views start on such a boundary so they bind on every adapter.
pub const VIEW_ALIGNMENT: u64 = 256;

/// A storage buffer (or an aligned range of one) holding a row-major `rows × cols` matrix; a
/// vector is `1 × n`.
///
/// A tensor made by [`GpuContext`](crate::GpuContext) owns its buffer and destroys it when dropped,
/// rather than waiting for the last wgpu handle. A [`view`](GpuTensor::view) shares its parent's
/// buffer (one layer's weights inside a model's flat parameter buffer) and must not outlive it.
#[derive(Debug)]
pub struct GpuTensor {
    buffer: wgpu::Buffer,
    /// Start of this tensor in `buffer`, in bytes.
    offset: u64,
    rows: usize,
    cols: usize,
    kind: ElementKind,
    label: String,
    /// `Some` for the owner of the buffer, `None` for views.
    ledger: Option<LedgerEntry>,
}

impl GpuTensor {
    pub(crate) fn new(buffer: wgpu::Buffer, rows: usize, cols: usize, kind: ElementKind, label: String, ledger: Arc<AllocationLedger>) -> Self {
        let bytes = buffer.size();
        Self { buffer, offset: 0, rows, cols, kind, label, ledger: Some(LedgerEntry::new(ledger, bytes)) }
    }

    /// A tensor over a buffer that is never destroyed explicitly: wgpu frees it once the last bind
    /// group using it is gone. For small constants that outlive their maker (see `Kernels`).
    pub(crate) fn unowned(buffer: wgpu::Buffer, rows: usize, cols: usize, kind: ElementKind, label: String) -> Self {
        Self { buffer, offset: 0, rows, cols, kind, label, ledger: None }
    }

    /// A `rows × cols` tensor starting `offset` elements into this one's storage. The offset must be a
    /// multiple of 64 elements (256 bytes) and the view must fit.
    pub fn view(&self, label: impl Into<String>, offset: usize, rows: usize, cols: usize) -> Result<GpuTensor, GpuError> {
        let label = label.into();
        if self.kind == ElementKind::U8Packed {
            return Err(GpuError::invalid("view", format!("{} packs bytes; views need 4-byte elements", self.describe())));
        }
        let start = self.offset + offset as u64 * 4;
        let fits = offset.checked_add(rows.saturating_mul(cols)).is_some_and(|end| end <= self.len());
        if rows == 0 || cols == 0 || !fits {
            return Err(GpuError::invalid("view", format!("`{label}` {rows}×{cols} at {offset} does not fit {}", self.describe())));
        }
        if !start.is_multiple_of(VIEW_ALIGNMENT) {
            return Err(GpuError::invalid("view", format!("`{label}` starts at byte {start}, not a multiple of {VIEW_ALIGNMENT}")));
        }
        Ok(GpuTensor { buffer: self.buffer.clone(), offset: start, rows, cols, kind: self.kind, label, ledger: None })
    }

    /// How this tensor is bound: its byte range of the buffer.
    pub fn binding(&self) -> wgpu::BindingResource<'_> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding { buffer: &self.buffer, offset: self.offset, size: std::num::NonZeroU64::new(self.bytes()) })
    }

    /// Bytes this tensor spans in its buffer.
    pub fn bytes(&self) -> u64 {
        self.kind.bytes_for(self.len() as u64)
    }

    /// Start of this tensor in [`buffer`](GpuTensor::buffer), in bytes.
    pub fn offset(&self) -> u64 {
        self.offset
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

    /// Records a copy of this whole tensor into `dst` from element `dst_start` on (a buffer copy,
    /// not a dispatch: used to stack per-batch results and to snapshot parameters).
    pub fn record_copy(&self, encoder: &mut wgpu::CommandEncoder, dst: &GpuTensor, dst_start: usize) -> Result<(), GpuError> {
        if self.kind != dst.kind || self.kind == ElementKind::U8Packed {
            return Err(GpuError::invalid("copy", format!("{} and {} must both hold 4-byte elements of one kind", self.describe(), dst.describe())));
        }
        if dst_start.checked_add(self.len()).is_none_or(|end| end > dst.len()) {
            return Err(GpuError::invalid("copy", format!("{} does not fit {} at element {dst_start}", self.describe(), dst.describe())));
        }
        encoder.copy_buffer_to_buffer(&self.buffer, self.offset, &dst.buffer, dst.offset + dst_start as u64 * 4, self.bytes());
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
        if self.ledger.is_some() {
            self.buffer.destroy();
        }
    }
}

/// Fails if a written tensor shares its buffer with an input: WebGPU forbids a buffer that is both
/// writable and read-only in one dispatch (whole buffers, whatever the ranges), and an overlap
/// would be undefined anyway.
pub(crate) fn expect_distinct(op: &'static str, output: &GpuTensor, inputs: &[&GpuTensor]) -> Result<(), GpuError> {
    match inputs.iter().find(|input| input.buffer == output.buffer) {
        Some(input) => Err(GpuError::invalid(op, format!("output {} is also an input ({})", output.describe(), input.describe()))),
        None => Ok(()),
    }
}
