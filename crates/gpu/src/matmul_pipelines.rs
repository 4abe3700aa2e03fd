//! The matmul kernels' pipelines: one shader module per variant, and one pipeline per
//! specialisation, built the first time a dispatch asks for it.
//!
//! Why specialise: the epilogue (none, bias + activation, activation gradient), its activation and
//! whether dropout is possible are override constants, not uniform fields. Software adapters run
//! both sides of every branch they cannot prove uniform, so an epilogue picked at run time made every
//! matmul pay for the activations and the dropout hash of all the others: 40% of a k = 128 product on
//! SwiftShader. A model uses a handful of specialisations, each built once.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use latent_core::ops::MatmulForm;

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::pipeline::{compile, create_pipeline, pipeline_with_layout};
use crate::shaders::{self, ShaderSource};

/// The matmul kernels. Software adapters run `Subgroup` fastest where they have subgroups and
/// `Blocked` where not; GPUs run `Tiled` fastest; `Naive` is the benchmark's baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatmulVariant {
    Blocked,
    Tiled,
    Subgroup,
    Naive,
}

impl MatmulVariant {
    pub const ALL: [MatmulVariant; 4] = [Self::Blocked, Self::Tiled, Self::Subgroup, Self::Naive];

    pub fn name(self) -> &'static str {
        self.shader().name
    }

    fn shader(self) -> ShaderSource {
        match self {
            Self::Blocked => shaders::MATMUL,
            Self::Tiled => shaders::MATMUL_TILED,
            Self::Subgroup => shaders::MATMUL_SUBGROUP,
            Self::Naive => shaders::MATMUL_NAIVE,
        }
    }

    fn index(self) -> usize {
        match self {
            Self::Blocked => 0,
            Self::Tiled => 1,
            Self::Subgroup => 2,
            Self::Naive => 3,
        }
    }

    /// Outputs per workgroup as (columns, rows); `Subgroup`'s workgroup is one subgroup of
    /// `subgroup_size` invocations, 8 columns each.
    pub(crate) fn block(self, subgroup_size: u32) -> (usize, usize) {
        match self {
            Self::Blocked => (64, 16),
            Self::Tiled => (64, 64),
            Self::Subgroup => (8 * subgroup_size as usize, 16),
            Self::Naive => (16, 16),
        }
    }

    /// Whether a device with this subgroup size (see [`GpuContext::subgroup_size`]) can run it.
    pub fn runs_with(self, subgroup_size: Option<u32>) -> bool {
        self != Self::Subgroup || subgroup_size.is_some()
    }

    /// The variant for an adapter: software adapters are CPUs, where barriers cost more than the
    /// memory reuse they buy, and where a subgroup broadcast is far cheaper than a load.
    pub fn for_adapter(is_software: bool, subgroup_size: Option<u32>) -> Self {
        match (is_software, subgroup_size) {
            (true, Some(_)) => Self::Subgroup,
            (true, None) => Self::Blocked,
            (false, _) => Self::Tiled,
        }
    }
}

/// What one matmul pipeline is specialised for: its override constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct MatmulKey {
    pub variant: MatmulVariant,
    pub form: MatmulForm,
    /// `EPILOGUE` of lib/matmul_common.wgsl: 0 none, 1 bias + activation, 2 activation gradient.
    pub epilogue: u32,
    /// `ACTIVATION`: an [`latent_core::Activation`] code (0 where the epilogue has none).
    pub activation: u32,
    /// `DROPOUT`: the dispatch may switch dropout on (its rate lives in the uniform block).
    pub dropout: bool,
    /// `BATCHED`: K > 1 models (a sweep's); a single model's pipeline reads its drop probability
    /// at a constant index (see `PerModelPipeline` for why that matters on software adapters).
    pub batched: bool,
}

/// Modules per variant and pipelines per specialisation, for one device.
#[derive(Debug)]
pub(crate) struct MatmulPipelines {
    /// One explicit layout for every specialisation: an automatic one would drop the bindings a
    /// specialisation leaves unused, and bind groups are built the same way for all of them.
    layout: wgpu::PipelineLayout,
    modules: [OnceLock<wgpu::ShaderModule>; 4],
    pipelines: Mutex<HashMap<MatmulKey, wgpu::ComputePipeline>>,
}

impl MatmulPipelines {
    pub fn new(device: &wgpu::Device) -> Self {
        let storage = |binding, read_only| wgpu::BindGroupLayoutEntry {
            binding,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Storage { read_only }, has_dynamic_offset: false, min_binding_size: None },
            count: None,
        };
        // Bindings of lib/matmul_common.wgsl.
        let entries = [
            storage(0, true),
            storage(1, true),
            storage(2, false),
            storage(3, true),
            wgpu::BindGroupLayoutEntry {
                binding: 4,
                visibility: wgpu::ShaderStages::COMPUTE,
                ty: wgpu::BindingType::Buffer { ty: wgpu::BufferBindingType::Uniform, has_dynamic_offset: false, min_binding_size: None },
                count: None,
            },
            storage(5, true),
        ];
        let group = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor { label: Some("matmul bindings"), entries: &entries });
        let layout =
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor { label: Some("matmul"), bind_group_layouts: &[Some(&group)], immediate_size: 0 });
        Self { layout, modules: Default::default(), pipelines: Mutex::default() }
    }

    /// Compiles `variant`'s module if it is not yet, and checks that a pipeline builds from it (so
    /// the pipelines built later, without waiting for errors, come from a module known to work).
    pub async fn prepare(&self, ctx: &GpuContext, variant: MatmulVariant) -> Result<(), GpuError> {
        if self.modules[variant.index()].get().is_some() {
            return Ok(());
        }
        let shader = variant.shader();
        if !variant.runs_with(ctx.subgroup_size()) {
            return Err(GpuError::invalid(
                "matmul",
                format!("the {} kernel needs subgroups of 4 or more invocations, which {} lacks", shader.name, ctx.summary()),
            ));
        }
        let module = compile(&ctx.device, &shader).await?;
        let key = MatmulKey { variant, form: MatmulForm::Nn, epilogue: 0, activation: 0, dropout: false, batched: false };
        let checked = pipeline_with_layout(&ctx.device, &module, &shader, "main", &self.constants(ctx, key), Some(&self.layout)).await?;
        self.modules[variant.index()].set(module).ok();
        self.pipelines.lock().unwrap_or_else(PoisonError::into_inner).insert(key, checked);
        Ok(())
    }

    /// The pipeline for `key`, built now if this is its first use. Its variant must be prepared.
    pub fn get(&self, ctx: &GpuContext, key: MatmulKey) -> Result<wgpu::ComputePipeline, GpuError> {
        let mut pipelines = self.pipelines.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(pipeline) = pipelines.get(&key) {
            return Ok(pipeline.clone());
        }
        let module = self.modules[key.variant.index()].get().ok_or_else(|| {
            GpuError::invalid("matmul", format!("the {} kernel is not compiled on this device: call Kernels::prepare_matmul first", key.variant.name()))
        })?;
        let label = format!("{}.main", key.variant.name());
        let pipeline = create_pipeline(&ctx.device, module, (&label, "main"), &self.constants(ctx, key), Some(&self.layout));
        pipelines.insert(key, pipeline.clone());
        Ok(pipeline)
    }

    fn constants(&self, ctx: &GpuContext, key: MatmulKey) -> Vec<(&'static str, f64)> {
        let flag = |on: bool| if on { 1.0 } else { 0.0 };
        let mut constants = vec![
            ("TRANS_A", flag(key.form.trans_a())),
            ("TRANS_B", flag(key.form.trans_b())),
            ("EPILOGUE", f64::from(key.epilogue)),
            ("ACTIVATION", f64::from(key.activation)),
            ("DROPOUT", flag(key.dropout)),
            ("BATCHED", flag(key.batched)),
        ];
        if key.variant == MatmulVariant::Subgroup {
            constants.push(("WG", f64::from(ctx.subgroup_size().unwrap_or(4))));
        }
        constants
    }
}
