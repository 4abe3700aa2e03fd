//! Every pipeline, compiled once per device, and the helper that turns bindings into a [`Dispatch`].
//! (Compiling a shader into pipelines is `pipeline`'s, shared with the matmul specialisations.)

use wgpu::util::DeviceExt as _;

use crate::context::GpuContext;
use crate::dispatch::Dispatch;
use crate::error::GpuError;
pub use crate::matmul_pipelines::MatmulVariant;
use crate::matmul_pipelines::{MatmulKey, MatmulPipelines};
use crate::params::Uniform;
use crate::pipeline::{per_model_pipelines, pipelines, PerModelPipeline};
use crate::shaders;
use crate::tensor::GpuTensor;

/// All compute pipelines of the kernel set, built once per device.
#[derive(Debug)]
pub struct Kernels {
    pub(crate) ctx: GpuContext,
    preferred_matmul: MatmulVariant,
    /// Bound where a kernel reads step counters but the caller has none (e.g. a matmul without
    /// dropout): a single zero. Unowned, so models built from these kernels may outlive them.
    pub(crate) no_counters: GpuTensor,
    /// Only the adapter's variant is compiled up front (a model uses one); the others on request,
    /// for benchmarks and tests. The matmul shaders are the largest, and on a software adapter every
    /// pipeline is a JIT compile, so this keeps them off the page's time to first step.
    matmul: MatmulPipelines,
    pub(crate) activation_forward: wgpu::ComputePipeline,
    pub(crate) activation_backward: wgpu::ComputePipeline,
    pub(crate) column_sums: wgpu::ComputePipeline,
    pub(crate) sum_all: wgpu::ComputePipeline,
    pub(crate) bce_forward: wgpu::ComputePipeline,
    pub(crate) bce_backward: wgpu::ComputePipeline,
    pub(crate) gaussian_forward: wgpu::ComputePipeline,
    pub(crate) gaussian_backward: wgpu::ComputePipeline,
    pub(crate) gan_forward: PerModelPipeline,
    pub(crate) gan_backward: PerModelPipeline,
    pub(crate) kl_forward: PerModelPipeline,
    pub(crate) kl_backward: PerModelPipeline,
    pub(crate) reparam_forward: wgpu::ComputePipeline,
    pub(crate) reparam_backward: wgpu::ComputePipeline,
    #[cfg(feature = "standalone-dropout")]
    pub(crate) dropout_forward: wgpu::ComputePipeline,
    #[cfg(feature = "standalone-dropout")]
    pub(crate) dropout_backward: wgpu::ComputePipeline,
    pub(crate) penalty_gradient: PerModelPipeline,
    pub(crate) penalty_value: PerModelPipeline,
    pub(crate) adam: PerModelPipeline,
    pub(crate) sgd: PerModelPipeline,
    pub(crate) counter_advance: wgpu::ComputePipeline,
    pub(crate) gather_u8: PerModelPipeline,
    pub(crate) gather_f32: PerModelPipeline,
}

impl Kernels {
    /// Compiles every kernel for `ctx`'s device (of the matmul variants, the adapter's). Fails with the compiler's message if any shader is
    /// rejected (the browser's WGSL compiler is stricter than naga).
    pub async fn new(ctx: &GpuContext) -> Result<Self, GpuError> {
        let device = &ctx.device;
        let preferred_matmul = MatmulVariant::for_adapter(ctx.summary().is_software, ctx.subgroup_size());
        let matmul = MatmulPipelines::new(device);
        matmul.prepare(ctx, preferred_matmul).await?;
        let [activation_forward, activation_backward] = pipelines(device, shaders::ACTIVATION, ["forward", "backward"]).await?;
        let [column_sums, sum_all] = pipelines(device, shaders::REDUCE, ["column_sums", "sum_all"]).await?;
        let [bce_forward, bce_backward] = pipelines(device, shaders::LOSS_BCE, ["forward", "backward"]).await?;
        let [gaussian_forward, gaussian_backward] = pipelines(device, shaders::LOSS_GAUSSIAN, ["forward", "backward"]).await?;
        let [gan_forward, gan_backward] = per_model_pipelines(device, shaders::LOSS_GAN, ["forward", "backward"]).await?;
        let [kl_forward, kl_backward] = per_model_pipelines(device, shaders::KL, ["forward", "backward"]).await?;
        let [reparam_forward, reparam_backward] = pipelines(device, shaders::REPARAM, ["forward", "backward"]).await?;
        #[cfg(feature = "standalone-dropout")]
        let [dropout_forward, dropout_backward] = pipelines(device, shaders::DROPOUT, ["forward", "backward"]).await?;
        let [penalty_gradient, penalty_value] = per_model_pipelines(device, shaders::PENALTY, ["gradient", "value"]).await?;
        let [adam, sgd] = per_model_pipelines(device, shaders::OPTIMIZER, ["adam", "sgd"]).await?;
        let [counter_advance] = pipelines(device, shaders::COUNTER, ["advance"]).await?;
        let [gather_u8, gather_f32] = per_model_pipelines(device, shaders::GATHER, ["gather_u8", "gather_f32"]).await?;
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
            #[cfg(feature = "standalone-dropout")]
            dropout_forward,
            #[cfg(feature = "standalone-dropout")]
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

    /// Compiles `variant`'s shader module if it is not yet (the adapter's own variant always is); its
    /// pipelines are built per epilogue specialisation on first use.
    pub async fn prepare_matmul(&self, variant: MatmulVariant) -> Result<(), GpuError> {
        self.matmul.prepare(&self.ctx, variant).await
    }

    /// The matmul variants this device can run (`Subgroup` needs subgroups).
    pub fn available_matmuls(&self) -> Vec<MatmulVariant> {
        MatmulVariant::ALL.into_iter().filter(|v| v.runs_with(self.ctx.subgroup_size())).collect()
    }

    /// Compiles every matmul variant this device can run (benchmarks and tests compare them).
    pub async fn prepare_all_matmuls(&self) -> Result<(), GpuError> {
        for variant in self.available_matmuls() {
            self.prepare_matmul(variant).await?;
        }
        Ok(())
    }

    /// Outputs per workgroup of `variant` on this device, as (columns, rows).
    pub(crate) fn matmul_block(&self, variant: MatmulVariant) -> (usize, usize) {
        variant.block(self.ctx.subgroup_size().unwrap_or(0))
    }

    /// The matmul pipeline specialised for `key` (built on first use).
    pub(crate) fn matmul_pipeline(&self, key: MatmulKey) -> Result<wgpu::ComputePipeline, GpuError> {
        self.matmul.get(&self.ctx, key)
    }

    /// A ready dispatch of `pipeline` over `buffers` (binding number, tensor or view), with
    /// `params` (checked first) in a uniform buffer at `params_binding`.
    pub(crate) fn dispatch<P: Uniform>(
        &self,
        label: String,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &GpuTensor)],
        params: &P,
        params_binding: u32,
        workgroups: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        self.dispatch_with_blocks(label, pipeline, buffers, std::slice::from_ref(params), wgpu::BufferUsages::UNIFORM, (params_binding, workgroups))
    }

    /// A ready dispatch whose kernel reads one parameter block per model from a storage array at
    /// `params_binding` (a batched dispatch, model z = workgroup z): each block is checked, and
    /// each model's block holds exactly what its dispatch alone would, so the models' results are
    /// their results alone. [`Schedule::retune_model`](crate::Schedule::retune_model) rewrites one.
    pub(crate) fn dispatch_per_model<P: Uniform>(
        &self,
        label: String,
        pipeline: &PerModelPipeline,
        buffers: &[(u32, &GpuTensor)],
        blocks: &[P],
        params_binding: u32,
        workgroups: [u32; 3],
    ) -> Result<Dispatch, GpuError> {
        let pipeline = pipeline.for_models(&self.ctx.device, blocks.len());
        self.dispatch_with_blocks(label, &pipeline, buffers, blocks, wgpu::BufferUsages::STORAGE, (params_binding, workgroups))
    }

    /// The generic half: checks the blocks and hands their bytes to [`dispatch_bytes`](Self::dispatch_bytes),
    /// so each parameter type costs the page's module only this much (a dozen of them).
    fn dispatch_with_blocks<P: Uniform>(
        &self,
        label: String,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &GpuTensor)],
        blocks: &[P],
        usage: wgpu::BufferUsages,
        binding_and_workgroups: (u32, [u32; 3]),
    ) -> Result<Dispatch, GpuError> {
        if blocks.is_empty() {
            return Err(GpuError::invalid(P::OP, "no models' parameter blocks"));
        }
        for block in blocks {
            block.check()?;
        }
        let params = (bytemuck::cast_slice(blocks), std::any::TypeId::of::<P>(), usage);
        Ok(self.dispatch_bytes(label, pipeline, buffers, params, binding_and_workgroups))
    }

    fn dispatch_bytes(
        &self,
        label: String,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[(u32, &GpuTensor)],
        (bytes, params_type, usage): (&[u8], std::any::TypeId, wgpu::BufferUsages),
        (params_binding, workgroups): (u32, [u32; 3]),
    ) -> Dispatch {
        let device = &self.ctx.device;
        let params_buffer =
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor { label: Some(&label), contents: bytes, usage: usage | wgpu::BufferUsages::COPY_DST });
        let mut entries: Vec<wgpu::BindGroupEntry<'_>> =
            buffers.iter().map(|&(binding, tensor)| wgpu::BindGroupEntry { binding, resource: tensor.binding() }).collect();
        entries.push(wgpu::BindGroupEntry { binding: params_binding, resource: params_buffer.as_entire_binding() });
        let bind_group =
            device.create_bind_group(&wgpu::BindGroupDescriptor { label: Some(&label), layout: &pipeline.get_bind_group_layout(0), entries: &entries });
        let ledger = self.ctx.ledger_entry(params_buffer.size());
        Dispatch {
            label,
            pipeline: pipeline.clone(),
            bind_group,
            workgroups,
            params: params_buffer,
            params_bytes: std::sync::Mutex::new(bytes.to_vec()),
            params_type,
            _ledger: ledger,
        }
    }
}
