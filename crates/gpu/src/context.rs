//! The adapter, device and queue, plus the watchers that turn GPU faults into values.

use std::sync::{Arc, Mutex, PoisonError};

use wgpu::util::DeviceExt as _;

use crate::error::GpuError;
use crate::tensor::{AllocationLedger, ElementKind, GpuTensor, LedgerEntry};

/// What the UI and the test logs say about the adapter.
#[derive(Clone, Debug, PartialEq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// A CPU in disguise (lavapipe, SwiftShader, WARP): favours barrier-free kernels.
    pub is_software: bool,
}

impl std::fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.backend, self.device_type)?;
        if !self.driver.is_empty() {
            write!(f, ", {}", self.driver)?;
        }
        if self.is_software {
            write!(f, ", software")?;
        }
        write!(f, ")")
    }
}

impl AdapterSummary {
    fn from_info(info: &wgpu::AdapterInfo) -> Self {
        let name = info.name.clone();
        // ASCII only, as the names looked for are: full Unicode lowering put 18 KB of case tables
        // and code into the page.
        let lowered = name.to_ascii_lowercase();
        let is_software =
            info.device_type == wgpu::DeviceType::Cpu || ["llvmpipe", "lavapipe", "swiftshader", "warp", "software"].iter().any(|s| lowered.contains(s));
        let driver = [info.driver.as_str(), info.driver_info.as_str()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" ");
        Self {
            name: if name.is_empty() { UNNAMED.into() } else { name },
            backend: format!("{:?}", info.backend),
            device_type: format!("{:?}", info.device_type),
            driver,
            is_software,
        }
    }
}

const UNNAMED: &str = "unnamed adapter";

/// matmul_subgroup.wgsl shares values across quads of lanes.
const MIN_SUBGROUP_SIZE: u32 = 4;
/// The largest workgroup sized from the subgroup size (GPUs report up to 128).
const MAX_SUBGROUP_WORKGROUP: u32 = 64;

/// The browser's own words for its WebGPU adapter (`GPUAdapterInfo` vendor, architecture,
/// description), which wgpu does not pass on. `None` if the browser says nothing.
#[cfg(target_arch = "wasm32")]
async fn browser_adapter_name() -> Option<String> {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast as _, JsValue};

    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let navigator = get(&js_sys::global(), "navigator")?;
    let gpu = get(&navigator, "gpu")?;
    let request: Function = get(&gpu, "requestAdapter")?.dyn_into().ok()?;
    let promise: Promise = request.call0(&gpu).ok()?.dyn_into().ok()?;
    let adapter = wasm_bindgen_futures::JsFuture::from(promise).await.ok().filter(|v| !v.is_null())?;
    let info = get(&adapter, "info")?;
    let parts: Vec<String> =
        ["vendor", "architecture", "description"].iter().filter_map(|key| get(&info, key).and_then(|v| v.as_string())).filter(|s| !s.is_empty()).collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Faults reported by wgpu callbacks, kept until someone asks.
#[derive(Debug, Default)]
struct Faults {
    lost: Option<String>,
    uncaptured: Vec<String>,
}

/// One adapter + device + queue. Cheap to clone (all handles are reference counted).
#[derive(Clone, Debug)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub adapter: wgpu::Adapter,
    summary: AdapterSummary,
    subgroup_size: Option<u32>,
    faults: Arc<Mutex<Faults>>,
    ledger: Arc<AllocationLedger>,
}

impl GpuContext {
    /// Finds the best adapter and opens a device with WebGPU's default limits, raised only for buffer
    /// sizes (to what the adapter allows) so large datasets fit where the hardware permits.
    /// Natively, `WGPU_BACKEND` may narrow the backends tried.
    pub async fn new() -> Result<Self, GpuError> {
        let backends = if cfg!(target_arch = "wasm32") {
            wgpu::Backends::BROWSER_WEBGPU
        } else {
            wgpu::InstanceDescriptor::new_without_display_handle_from_env().backends
        };
        Self::with_backends(backends).await
    }

    /// Like [`GpuContext::new`], trying only `backends`.
    pub async fn with_backends(backends: wgpu::Backends) -> Result<Self, GpuError> {
        let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
        descriptor.backends = backends;
        let instance = wgpu::Instance::new(descriptor);
        // Before the adapter is found: the devices it opens then ask for subgroups.
        #[cfg(target_arch = "wasm32")]
        crate::browser_subgroups::request_subgroups_from_now_on();
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions { power_preference: wgpu::PowerPreference::HighPerformance, ..Default::default() })
            .await
            .map_err(|e| GpuError::NoAdapter(e.to_string()))?;
        Self::from_adapter(adapter).await
    }

    /// Opens a device on a given adapter.
    pub async fn from_adapter(adapter: wgpu::Adapter) -> Result<Self, GpuError> {
        #[allow(unused_mut)]
        let mut summary = AdapterSummary::from_info(&adapter.get_info());
        #[cfg(target_arch = "wasm32")]
        if summary.name == UNNAMED {
            if let Some(name) = browser_adapter_name().await {
                summary.name = name;
            }
        }
        let granted = adapter.limits();
        let required_limits = wgpu::Limits {
            max_storage_buffer_binding_size: granted.max_storage_buffer_binding_size,
            max_buffer_size: granted.max_buffer_size,
            ..wgpu::Limits::default()
        };
        // Subgroups let matmul_subgroup.wgsl share loads across lanes (2-4.6x matmul.wgsl on software adapters).
        let required_features = adapter.features() & wgpu::Features::SUBGROUP;
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor { label: Some("latent-lab"), required_limits, required_features, ..Default::default() })
            .await
            .map_err(|e| GpuError::RequestDevice(e.to_string()))?;
        #[cfg(target_arch = "wasm32")]
        let has_subgroups = crate::browser_subgroups::last_device_has_subgroups();
        #[cfg(not(target_arch = "wasm32"))]
        let has_subgroups = device.features().contains(wgpu::Features::SUBGROUP);
        let info = adapter.get_info();
        let subgroup_size =
            (has_subgroups && info.subgroup_min_size >= MIN_SUBGROUP_SIZE).then(|| info.subgroup_max_size.clamp(MIN_SUBGROUP_SIZE, MAX_SUBGROUP_WORKGROUP));

        let faults = Arc::new(Mutex::new(Faults::default()));
        let on_lost = Arc::clone(&faults);
        device.set_device_lost_callback(move |reason, message| {
            let mut faults = on_lost.lock().unwrap_or_else(PoisonError::into_inner);
            faults.lost = Some(format!("{reason:?}: {message}"));
        });
        let on_error = Arc::clone(&faults);
        device.on_uncaptured_error(Arc::new(move |error: wgpu::Error| {
            log::error!("uncaptured GPU error: {error}");
            let mut faults = on_error.lock().unwrap_or_else(PoisonError::into_inner);
            faults.uncaptured.push(error.to_string());
        }));

        Ok(Self { device, queue, adapter, summary, subgroup_size, faults, ledger: Arc::new(AllocationLedger::default()) })
    }

    pub fn summary(&self) -> &AdapterSummary {
        &self.summary
    }

    /// The subgroup size kernels may build on: `Some` when the device has subgroups of at least 4
    /// invocations (every one, so a quad is always whole), sized for a workgroup of one subgroup.
    pub fn subgroup_size(&self) -> Option<u32> {
        self.subgroup_size
    }

    /// `Err(DeviceLost)` once the device is gone; checked before every submission.
    pub fn check_alive(&self) -> Result<(), GpuError> {
        let faults = self.faults.lock().unwrap_or_else(PoisonError::into_inner);
        match &faults.lost {
            Some(reason) => Err(GpuError::DeviceLost(reason.clone())),
            None => Ok(()),
        }
    }

    /// Errors wgpu reported outside any error scope since the last call.
    pub fn take_uncaptured_errors(&self) -> Vec<String> {
        std::mem::take(&mut self.faults.lock().unwrap_or_else(PoisonError::into_inner).uncaptured)
    }

    /// Fails with the errors wgpu reported outside any error scope since the last call, naming
    /// `context`, so that a broken submission never reads back as a result.
    pub fn check_no_uncaptured_errors(&self, context: &str) -> Result<(), GpuError> {
        let errors = self.take_uncaptured_errors();
        if errors.is_empty() {
            return Ok(());
        }
        Err(GpuError::Validation { context: context.into(), message: errors.join("; ") })
    }

    /// (live buffers, live bytes) of the tensors this context made.
    pub fn allocations(&self) -> (u64, u64) {
        self.ledger.snapshot()
    }

    /// Counts a buffer that is not a tensor (uniform blocks, staging) in the ledger.
    pub(crate) fn ledger_entry(&self, bytes: u64) -> LedgerEntry {
        LedgerEntry::new(Arc::clone(&self.ledger), bytes)
    }

    fn check_size(&self, label: &str, bytes: u64) -> Result<(), GpuError> {
        let limits = self.device.limits();
        let limit = limits.max_storage_buffer_binding_size.min(limits.max_buffer_size);
        if bytes > limit {
            return Err(GpuError::BufferTooLarge { label: label.to_owned(), bytes, limit });
        }
        Ok(())
    }

    fn storage_usage() -> wgpu::BufferUsages {
        wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST
    }

    fn make_tensor(&self, label: &str, rows: usize, cols: usize, kind: ElementKind, contents: Option<&[u8]>) -> Result<GpuTensor, GpuError> {
        let len = rows
            .checked_mul(cols)
            .filter(|&n| n > 0)
            .ok_or_else(|| GpuError::invalid("tensor", format!("`{label}` has an empty or overflowing shape {rows}×{cols}")))?;
        let bytes = kind.bytes_for(len as u64);
        self.check_size(label, bytes)?;
        let buffer = match contents {
            Some(data) => {
                self.device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(label), contents: data, usage: Self::storage_usage() })
            }
            None => {
                self.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size: bytes, usage: Self::storage_usage(), mapped_at_creation: false })
            }
        };
        Ok(GpuTensor::new(buffer, rows, cols, kind, label.to_owned(), Arc::clone(&self.ledger)))
    }

    /// A zero-filled f32 tensor.
    pub fn zeros(&self, label: &str, rows: usize, cols: usize) -> Result<GpuTensor, GpuError> {
        self.make_tensor(label, rows, cols, ElementKind::F32, None)
    }

    /// An f32 tensor holding `data` (row-major, `rows * cols` values).
    pub fn upload_f32(&self, label: &str, rows: usize, cols: usize, data: &[f32]) -> Result<GpuTensor, GpuError> {
        if data.len() != rows.saturating_mul(cols) {
            return Err(GpuError::shape("upload", format!("`{label}` {rows}×{cols}"), format!("{} values", data.len())));
        }
        self.make_tensor(label, rows, cols, ElementKind::F32, Some(bytemuck::cast_slice(data)))
    }

    /// A u32 tensor holding `data` (indices, counters).
    pub fn upload_u32(&self, label: &str, rows: usize, cols: usize, data: &[u32]) -> Result<GpuTensor, GpuError> {
        if data.len() != rows.saturating_mul(cols) {
            return Err(GpuError::shape("upload", format!("`{label}` {rows}×{cols}"), format!("{} values", data.len())));
        }
        self.make_tensor(label, rows, cols, ElementKind::U32, Some(bytemuck::cast_slice(data)))
    }

    /// A byte tensor (pixels), packed four per word and zero-padded to a whole word.
    pub fn upload_u8(&self, label: &str, rows: usize, cols: usize, data: &[u8]) -> Result<GpuTensor, GpuError> {
        if data.len() != rows.saturating_mul(cols) {
            return Err(GpuError::shape("upload", format!("`{label}` {rows}×{cols}"), format!("{} bytes", data.len())));
        }
        let mut padded = data.to_vec();
        padded.resize(data.len().div_ceil(4) * 4, 0);
        self.make_tensor(label, rows, cols, ElementKind::U8Packed, Some(&padded))
    }

    /// Overwrites an f32 tensor between steps (inputs, knob-driven state); never inside a step.
    pub fn write_f32(&self, tensor: &GpuTensor, data: &[f32]) -> Result<(), GpuError> {
        tensor.expect_len("write", data.len(), ElementKind::F32)?;
        self.queue.write_buffer(tensor.buffer(), tensor.offset(), bytemuck::cast_slice(data));
        Ok(())
    }

    /// Overwrites `values.len()` elements of a u32 tensor from element `start` (one counter).
    pub fn write_u32_at(&self, tensor: &GpuTensor, start: usize, values: &[u32]) -> Result<(), GpuError> {
        if tensor.kind() != ElementKind::U32 || start.saturating_add(values.len()) > tensor.len() {
            return Err(GpuError::invalid("write", format!("{} values at {start} do not fit {}", values.len(), tensor.describe())));
        }
        self.queue.write_buffer(tensor.buffer(), tensor.offset() + start as u64 * 4, bytemuck::cast_slice(values));
        Ok(())
    }

    /// Overwrites a u32 tensor between steps (counters, index lists).
    pub fn write_u32(&self, tensor: &GpuTensor, data: &[u32]) -> Result<(), GpuError> {
        tensor.expect_len("write", data.len(), ElementKind::U32)?;
        self.queue.write_buffer(tensor.buffer(), tensor.offset(), bytemuck::cast_slice(data));
        Ok(())
    }
}
