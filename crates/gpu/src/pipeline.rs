//! Shader modules and compute pipelines: compiling WGSL with the compiler's messages turned into
//! errors, and building pipelines inside error scopes. Used by [`Kernels`](crate::Kernels) for the
//! fixed kernel set and by `matmul_pipelines` for the specialised matmuls.

use std::sync::OnceLock;

use crate::error::GpuError;
use crate::shaders::ShaderSource;

/// Compiles one shader module, turning the compiler's messages (naga natively, the browser's own
/// compiler on the web) into an error that quotes them.
pub(crate) async fn compile(device: &wgpu::Device, shader: &ShaderSource) -> Result<wgpu::ShaderModule, GpuError> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(shader.name),
        source: wgpu::ShaderSource::Wgsl(if cfg!(target_arch = "wasm32") { shader.for_browser() } else { shader.source.into() }),
    });
    let info = module.get_compilation_info().await;
    let scoped = scope.pop().await;
    let errors: Vec<String> = info
        .messages
        .iter()
        .filter(|m| m.message_type == wgpu::CompilationMessageType::Error)
        .map(|m| match &m.location {
            Some(at) => format!("line {}:{}: {}", at.line_number, at.line_position, m.message),
            None => m.message.clone(),
        })
        .collect();
    if !errors.is_empty() {
        return Err(GpuError::ShaderCompilation { kernel: shader.name, message: errors.join("; ") });
    }
    if let Some(error) = scoped {
        return Err(GpuError::ShaderCompilation { kernel: shader.name, message: error.to_string() });
    }
    Ok(module)
}

pub(crate) async fn pipeline_with_layout(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    shader: &ShaderSource,
    entry: &str,
    constants: &[(&str, f64)],
    layout: Option<&wgpu::PipelineLayout>,
) -> Result<wgpu::ComputePipeline, GpuError> {
    let label = format!("{}.{entry}", shader.name);
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let pipeline = create_pipeline(device, module, (&label, entry), constants, layout);
    match scope.pop().await {
        Some(error) => Err(GpuError::ShaderCompilation { kernel: shader.name, message: format!("{label}: {error}") }),
        None => Ok(pipeline),
    }
}

/// Builds one pipeline of `module` (errors go to the caller's scope). Every pipeline the crate
/// builds comes through here, so the page's module holds one copy of wgpu's descriptor handling.
#[inline(never)]
pub(crate) fn create_pipeline(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    (label, entry): (&str, &str),
    constants: &[(&str, f64)],
    layout: Option<&wgpu::PipelineLayout>,
) -> wgpu::ComputePipeline {
    device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(label),
        layout,
        module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions { constants, zero_initialize_workgroup_memory: true },
        cache: None,
    })
}

/// Compiles `shader` and builds its pipelines for `entries`, in order.
pub(crate) async fn pipelines<const N: usize>(device: &wgpu::Device, shader: ShaderSource, entries: [&str; N]) -> Result<[wgpu::ComputePipeline; N], GpuError> {
    let (_, built) = module_and_pipelines(device, &shader, &entries, &[]).await?;
    built.try_into().map_err(|_| GpuError::invalid("pipelines", "entry count changed while building"))
}

/// The one (non-generic) builder behind [`pipelines`] and [`per_model_pipelines`]: the page's
/// module holds a single copy of its async state machine.
async fn module_and_pipelines(
    device: &wgpu::Device,
    shader: &ShaderSource,
    entries: &[&str],
    constants: &[(&str, f64)],
) -> Result<(wgpu::ShaderModule, Vec<wgpu::ComputePipeline>), GpuError> {
    let module = compile(device, shader).await?;
    let mut built = Vec::with_capacity(entries.len());
    for entry in entries {
        built.push(pipeline_with_layout(device, &module, shader, entry, constants, None).await?);
    }
    Ok((module, built))
}

/// A kernel that reads one parameter block per model from a storage array (`blocks[model_of(id)]`,
/// lib/indexing.wgsl): its pipeline for one model, specialised with `BATCHED = false` so that the
/// block sits at a constant index (a software adapter otherwise gathers every field per element:
/// a reference-VAE step ran 0.79× on lavapipe), and the batched pipeline, built the first time a
/// sweep dispatches several models (most pages never do).
#[derive(Debug)]
pub(crate) struct PerModelPipeline {
    one: wgpu::ComputePipeline,
    module: wgpu::ShaderModule,
    entry: &'static str,
    label: String,
    batched: OnceLock<wgpu::ComputePipeline>,
}

impl PerModelPipeline {
    /// The pipeline for a dispatch of `models` models. Not inlined: every parameter type's
    /// `dispatch_per_model` calls it, and the page's module should hold one copy.
    #[inline(never)]
    pub(crate) fn for_models(&self, device: &wgpu::Device, models: usize) -> wgpu::ComputePipeline {
        if models == 1 {
            return self.one.clone();
        }
        // Built without waiting on an error scope: the same module and entry point already built
        // into `one`, and only the constant differs.
        let batched = self.batched.get_or_init(|| create_pipeline(device, &self.module, (&self.label, self.entry), &[("BATCHED", 1.0)], None));
        batched.clone()
    }
}

/// Compiles `shader` and builds its one-model pipelines for `entries`, in order (see
/// [`PerModelPipeline`]).
pub(crate) async fn per_model_pipelines<const N: usize>(
    device: &wgpu::Device,
    shader: ShaderSource,
    entries: [&'static str; N],
) -> Result<[PerModelPipeline; N], GpuError> {
    let (module, ones) = module_and_pipelines(device, &shader, &entries, &[("BATCHED", 0.0)]).await?;
    let built: Vec<PerModelPipeline> = entries
        .into_iter()
        .zip(ones)
        .map(|(entry, one)| PerModelPipeline {
            one,
            module: module.clone(),
            entry,
            label: format!("{}.{entry} (batched)", shader.name),
            batched: OnceLock::new(),
        })
        .collect();
    built.try_into().map_err(|_| GpuError::invalid("pipelines", "entry count changed while building"))
}
