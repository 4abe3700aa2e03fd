//! Every pipeline, compiled once per device, and the helper that turns bindings into a [`Dispatch`].

use std::sync::OnceLock;

use latent_core::ops::MatmulForm;
use wgpu::util::DeviceExt as _;

use crate::context::GpuContext;
use crate::dispatch::Dispatch;
use crate::error::GpuError;
use crate::shaders::{self, ShaderSource};
use crate::tensor::GpuTensor;

/// The three matmul kernels. Software adapters run `Blocked` fastest; GPUs run `Tiled` fastest;
/// `Naive` is the benchmark's baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    Blocked,
    Tiled,
    Naive,
}

impl MatmulVariant {
    pub const ALL: [MatmulVariant; 3] = [Self::Blocked, Self::Tiled, Self::Naive];

    pub fn name(self) -> &'static str {
        self.shader().name
    }

    fn shader(self) -> ShaderSource {
        match self {
            Self::Blocked => shaders::MATMUL,
            Self::Tiled => shaders::MATMUL_TILED,
            Self::Naive => shaders::MATMUL_NAIVE,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Blocked => 0,
            Self::Tiled => 1,
            Self::Naive => 2,
        }
    }

    /// Outputs per workgroup as (columns, rows).
    pub(crate) fn block(self) -> (usize, usize) {
        match self {
            Self::Blocked => (64, 16),
            Self::Tiled => (64, 64),
            Self::Naive => (16, 16),
        }
    }

    /// The variant for an adapter: software adapters are CPUs, where barriers cost more than the
    /// memory reuse they buy.
    pub fn for_adapter(is_software: bool) -> Self {
        if is_software { Self::Blocked } else { Self::Tiled }
    }
}

fn form_index(form: MatmulForm) -> usize {
    match form {
        MatmulForm::Nn => 0,
        MatmulForm::Tn => 1,
        MatmulForm::Nt => 2,
    }
}

/// All compute pipelines of the kernel set, built once per device.
#[derive(Debug)]
pub struct Kernels {
    pub(crate) ctx: GpuContext,
    preferred_matmul: MatmulVariant,
    /// Bound where a kernel reads step counters but the caller has none (e.g. a matmul without
    /// dropout): a single zero. Unowned, so models built from these kernels may outlive them.
    pub(crate) no_counters: GpuTensor,
    /// Per variant, its pipelines for the three forms. Only the adapter's variant is compiled up
    /// front (a model uses one); the others on request, for benchmarks and tests. The matmul
    /// shaders are the largest, and on a software adapter every pipeline is a JIT compile, so this
    /// takes six of 33 pipelines off the page's time to first step.
    matmul: [OnceLock<[wgpu::ComputePipeline; 3]>; 3],
    pub(crate) activation_forward: wgpu::ComputePipeline,
    pub(crate) activation_backward: wgpu::ComputePipeline,
    pub(crate) column_sums: wgpu::ComputePipeline,
    pub(crate) sum_all: wgpu::ComputePipeline,
    pub(crate) bce_forward: wgpu::ComputePipeline,
    pub(crate) bce_backward: wgpu::ComputePipeline,
    pub(crate) gaussian_forward: wgpu::ComputePipeline,
    pub(crate) gaussian_backward: wgpu::ComputePipeline,
    pub(crate) gan_forward: wgpu::ComputePipeline,
    pub(crate) gan_backward: wgpu::ComputePipeline,
    pub(crate) kl_forward: wgpu::ComputePipeline,
    pub(crate) kl_backward: wgpu::ComputePipeline,
    pub(crate) reparam_forward: wgpu::ComputePipeline,
    pub(crate) reparam_backward: wgpu::ComputePipeline,
    pub(crate) dropout_forward: wgpu::ComputePipeline,
    pub(crate) dropout_backward: wgpu::ComputePipeline,
    pub(crate) penalty_gradient: wgpu::ComputePipeline,
    pub(crate) penalty_value: wgpu::ComputePipeline,
    pub(crate) adam: wgpu::ComputePipeline,
    pub(crate) sgd: wgpu::ComputePipeline,
    pub(crate) counter_advance: wgpu::ComputePipeline,
    pub(crate) gather_u8: wgpu::ComputePipeline,
    pub(crate) gather_f32: wgpu::ComputePipeline,
}

/// Compiles one shader module, turning the compiler's messages (naga natively, the browser's own
/// compiler on the web) into an error that quotes them.
async fn compile(device: &wgpu::Device, shader: &ShaderSource) -> Result<wgpu::ShaderModule, GpuError> {
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some(shader.name),
        source: wgpu::ShaderSource::Wgsl(shader.source.into()),
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

async fn pipeline(
    device: &wgpu::Device,
    module: &wgpu::ShaderModule,
    shader: &ShaderSource,
    entry: &str,
    constants: &[(&str, f64)],
) -> Result<wgpu::ComputePipeline, GpuError> {
    let label = format!("{}.{entry}", shader.name);
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some(&label),
        layout: None,
        module,
        entry_point: Some(entry),
        compilation_options: wgpu::PipelineCompilationOptions { constants, zero_initialize_workgroup_memory: true },
        cache: None,
    });
    match scope.pop().await {
        Some(error) => Err(GpuError::ShaderCompilation { kernel: shader.name, message: format!("{label}: {error}") }),
        None => Ok(pipeline),
    }
}

/// One matmul variant's pipelines for the three forms (indexed by `form_index`).
async fn matmul_pipelines(device: &wgpu::Device, variant: MatmulVariant) -> Result<[wgpu::ComputePipeline; 3], GpuError> {
    let shader = variant.shader();
    let module = compile(device, &shader).await?;
    let mut built = Vec::with_capacity(3);
    for form in MatmulForm::ALL {
        let constants = [("TRANS_A", if form.trans_a() { 1.0 } else { 0.0 }), ("TRANS_B", if form.trans_b() { 1.0 } else { 0.0 })];
        built.push(pipeline(device, &module, &shader, "main", &constants).await?);
    }
    built.try_into().map_err(|_| GpuError::invalid("matmul pipelines", "form count changed while building"))
}

/// Compiles `shader` and builds its pipelines for `entries`, in order.
async fn pipelines<const N: usize>(
    device: &wgpu::Device,
    shader: ShaderSource,
    entries: [&str; N],
) -> Result<[wgpu::ComputePipeline; N], GpuError> {
    let module = compile(device, &shader).await?;
    let mut built = Vec::with_capacity(N);
    for entry in entries {
        built.push(pipeline(device, &module, &shader, entry, &[]).await?);
    }
    built.try_into().map_err(|_| GpuError::invalid("pipelines", "entry count changed while building"))
}

impl Kernels {
    /// Compiles every kernel for `ctx`'s device (of the matmul variants, the adapter's). Fails with the compiler's message if any shader is
    /// rejected (the browser's WGSL compiler is stricter than naga).
    pub async fn new(ctx: &GpuContext) -> Result<Self, GpuError> {
        let device = &ctx.device;
        let preferred_matmul = MatmulVariant::for_adapter(ctx.summary().is_software);
        let matmul: [OnceLock<[wgpu::ComputePipeline; 3]>; 3] = Default::default();
        matmul[preferred_matmul.index()].set(matmul_pipelines(device, preferred_matmul).await?).ok();
        let [activation_forward, activation_backward] = pipelines(device, shaders::ACTIVATION, ["forward", "backward"]).await?;
        let [column_sums, sum_all] = pipelines(device, shaders::REDUCE, ["column_sums", "sum_all"]).await?;
        let [bce_forward, bce_backward] = pipelines(device, shaders::LOSS_BCE, ["forward", "backward"]).await?;
        let [gaussian_forward, gaussian_backward] = pipelines(device, shaders::LOSS_GAUSSIAN, ["forward", "backward"]).await?;
        let [gan_forward, gan_backward] = pipelines(device, shaders::LOSS_GAN, ["forward", "backward"]).await?;
        let [kl_forward, kl_backward] = pipelines(device, shaders::KL, ["forward", "backward"]).await?;
        let [reparam_forward, reparam_backward] = pipelines(device, shaders::REPARAM, ["forward", "backward"]).await?;
        let [dropout_forward, dropout_backward] = pipelines(device, shaders::DROPOUT, ["forward", "backward"]).await?;
        let [penalty_gradient, penalty_value] = pipelines(device, shaders::PENALTY, ["gradient", "value"]).await?;
        let [adam, sgd] = pipelines(device, shaders::OPTIMIZER, ["adam", "sgd"]).await?;
        let [counter_advance] = pipelines(device, shaders::COUNTER, ["advance"]).await?;
        let [gather_u8, gather_f32] = pipelines(device, shaders::GATHER, ["gather_u8", "gather_f32"]).await?;
        Ok(Self {
            ctx: ctx.clone(),
            preferred_matmul,
            no_counters: GpuTensor::unowned(
                device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("no counters"),
                    contents: bytemuck::bytes_of(&0u32),
                    usage: wgpu::BufferUsages::STORAGE,
                }),
                1,
                1,
                crate::tensor::ElementKind::U32,
                "no counters".into(),
            ),
            matmul,
            activation_forward,
            activation_backward,
            column_sums,
            sum_all,
            bce_forward,
            bce_backward,
            gaussian_forward,
            gaussian_backward,
            gan_forward,
            gan_backward,
            kl_forward,
            kl_backward,
            reparam_forward,
            reparam_backward,
            dropout_forward,
            dropout_backward,
            penalty_gradient,
            penalty_value,
            adam,
            sgd,
            counter_advance,
            gather_u8,
            gather_f32,
        })
    }

    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// The matmul variant used when a caller does not pick one (chosen from the adapter).
    pub fn preferred_matmul(&self) -> MatmulVariant {
        self.preferred_matmul
    }

    /// Overrides the adapter-based choice (benchmarks, tests, or a measured better variant); the
    /// variant must have been compiled with [`Self::prepare_matmul`].
    pub fn set_preferred_matmul(&mut self, variant: MatmulVariant) {
        self.preferred_matmul = variant;
    }

    /// Compiles `variant`'s pipelines if they are not yet (the adapter's own variant always is).
    pub async fn prepare_matmul(&self, variant: MatmulVariant) -> Result<(), GpuError> {
        let slot = &self.matmul[variant.index()];
        if slot.get().is_none() {
            slot.set(matmul_pipelines(&self.ctx.device, variant).await?).ok();
        }
        Ok(())
    }

    /// Compiles every matmul variant (benchmarks and tests compare them).
    pub async fn prepare_all_matmuls(&self) -> Result<(), GpuError> {
        for variant in MatmulVariant::ALL {
            self.prepare_matmul(variant).await?;
        }
        Ok(())
    }

    pub(crate) fn matmul_pipeline(&self, variant: MatmulVariant, form: MatmulForm) -> Result<&wgpu::ComputePipeline, GpuError> {
        let pipelines = self.matmul[variant.index()].get().ok_or_else(|| {
            GpuError::invalid("matmul", format!("the {} kernel is not compiled on this device: call Kernels::prepare_matmul first", variant.name()))
        })?;
        Ok(&pipelines[form_index(form)])
    }

    /// Builds a [`Dispatch`]: a uniform block holding `params` at `params_binding`, and a bind group
    /// over `buffers` (binding number, tensor or view) in the pipeline's own layout.
    pub(crate) fn dispatch<T: bytemuck::Pod>(
        &self,
        label: String,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &GpuTensor)],
        params: &T,
        params_binding: u32,
        workgroups: [u32; 3],
    ) -> Dispatch {
        let device = &self.ctx.device;
        let params_buffer = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some(&label),
            contents: bytemuck::bytes_of(params),
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        });
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> = buffers
            .iter()
            .map(|&(binding, tensor)| wgpu::BindGroupEntry { binding, resource: tensor.binding() })
            .collect();
        entries.push(wgpu::BindGroupEntry { binding: params_binding, resource: params_buffer.as_entire_binding() });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(&label),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let ledger = self.ctx.ledger_entry(params_buffer.size());
        let params_bytes = std::sync::Mutex::new(bytemuck::bytes_of(params).to_vec());
        Dispatch { label, pipeline: pipeline.clone(), bind_group, workgroups, params: params_buffer, params_bytes, _ledger: ledger }
    }
}
