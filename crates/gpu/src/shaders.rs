//! Every WGSL kernel, embedded at build time with its include-only fragments from `shaders/lib/`
//! (without comments or indentation: `build.rs` strips them, keeping every line where it was).
//!
//! File name = kernel name = pipeline label. This list is also what the naga validation test and the
//! in-browser compile test walk, so a shader added here is checked everywhere.

use std::mem::size_of;

use crate::params;

/// One kernel's full WGSL source (fragments first, then the kernel file).
#[derive(Clone, Copy, Debug)]
pub struct ShaderSource {
    /// The file name without `.wgsl`; also the pipeline label prefix.
    pub name: &'static str,
    pub source: &'static str,
    /// The `shaders/lib/` fragments at the start of `source`, in order (file names without `.wgsl`).
    pub libs: &'static [&'static str],
    pub entry_points: &'static [&'static str],
    /// The parameter block's WGSL struct name (a uniform, or one block per model in a storage
    /// array) and its Rust mirror's size, for the layout test.
    pub uniform: (&'static str, usize),
    /// Uses subgroup built-ins: the device needs the subgroups feature, and browsers need the
    /// `enable subgroups;` directive, which naga rejects (so the file leaves it out and
    /// [`ShaderSource::for_browser`] adds it).
    pub subgroups: bool,
}

impl ShaderSource {
    /// The source as the browser's WGSL compiler wants it.
    pub fn for_browser(&self) -> std::borrow::Cow<'static, str> {
        if self.subgroups {
            format!("enable subgroups;\n{}", self.source).into()
        } else {
            self.source.into()
        }
    }
}

macro_rules! shader {
    ($name:literal, [$($lib:literal),*], $entries:expr, $uniform:literal, $mirror:ty) => {
        ShaderSource {
            name: $name,
            source: concat!(
                $(include_str!(concat!(env!("OUT_DIR"), "/shaders/lib/", $lib, ".wgsl")), "\n",)*
                include_str!(concat!(env!("OUT_DIR"), "/shaders/", $name, ".wgsl"))
            ),
            libs: &[$($lib),*],
            entry_points: $entries,
            uniform: ($uniform, size_of::<$mirror>()),
            subgroups: false,
        }
    };
}

pub static MATMUL: ShaderSource = shader!("matmul", ["rng", "activation", "model", "matmul_common"], &["main"], "MatmulParams", params::MatmulParams);
pub static MATMUL_TILED: ShaderSource =
    shader!("matmul_tiled", ["rng", "activation", "model", "matmul_common"], &["main"], "MatmulParams", params::MatmulParams);
pub static MATMUL_SUBGROUP: ShaderSource = ShaderSource {
    subgroups: true,
    ..shader!("matmul_subgroup", ["rng", "activation", "model", "matmul_common"], &["main"], "MatmulParams", params::MatmulParams)
};
pub static MATMUL_NAIVE: ShaderSource =
    shader!("matmul_naive", ["rng", "activation", "model", "matmul_common"], &["main"], "MatmulParams", params::MatmulParams);
pub static ACTIVATION: ShaderSource =
    shader!("activation", ["activation", "indexing"], &["forward", "backward"], "ElementwiseParams", params::ElementwiseParams);
pub static REDUCE: ShaderSource = shader!("reduce", [], &["column_sums", "sum_all"], "ReduceParams", params::ReduceParams);
pub static LOSS_BCE: ShaderSource = shader!("loss_bce", ["loss_params", "activation", "indexing"], &["forward", "backward"], "LossParams", params::LossParams);
pub static LOSS_GAUSSIAN: ShaderSource = shader!("loss_gaussian", ["loss_params", "indexing"], &["forward", "backward"], "LossParams", params::LossParams);
pub static LOSS_GAN: ShaderSource =
    shader!("loss_gan", ["loss_params", "activation", "indexing", "model"], &["forward", "backward"], "LossParams", params::LossParams);
pub static KL: ShaderSource = shader!("kl", ["indexing", "posterior", "model"], &["forward", "backward"], "KlParams", params::KlParams);
pub static REPARAM: ShaderSource = shader!("reparam", ["rng", "indexing", "posterior"], &["forward", "backward"], "ReparamParams", params::ReparamParams);
pub static DROPOUT: ShaderSource = shader!("dropout", ["rng", "indexing"], &["forward", "backward"], "DropoutParams", params::DropoutParams);
pub static PENALTY: ShaderSource = shader!("penalty", ["indexing", "runs", "model"], &["gradient", "value"], "PenaltyParams", params::PenaltyParams);
pub static OPTIMIZER: ShaderSource = shader!("optimizer", ["indexing", "runs", "model"], &["adam", "sgd"], "OptimizerParams", params::OptimizerParams);
pub static COUNTER: ShaderSource = shader!("counter", [], &["advance"], "CounterParams", params::CounterParams);
pub static GATHER: ShaderSource = shader!("gather", ["indexing", "model"], &["gather_u8", "gather_f32"], "GatherParams", params::GatherParams);

/// Every kernel, in the order pipelines are built.
pub static ALL: &[ShaderSource] = &[
    MATMUL,
    MATMUL_TILED,
    MATMUL_SUBGROUP,
    MATMUL_NAIVE,
    ACTIVATION,
    REDUCE,
    LOSS_BCE,
    LOSS_GAUSSIAN,
    LOSS_GAN,
    KL,
    REPARAM,
    #[cfg(feature = "standalone-dropout")]
    DROPOUT,
    PENALTY,
    OPTIMIZER,
    COUNTER,
    GATHER,
];
