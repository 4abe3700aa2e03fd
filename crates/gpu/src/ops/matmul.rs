//! `matmul*.wgsl`: the three products of backprop with a fused epilogue.

use latent_core::ops::MatmulForm;
use latent_core::Activation;

use super::vae::expect_counter;
use super::{batch_suffix, dim, flag, rows_per_model, DropoutSpec};
use crate::dispatch::{groups_for, Dispatch};
use crate::error::GpuError;
use crate::kernels::{Kernels, MatmulVariant};
use crate::matmul_pipelines::MatmulKey;
use crate::params::{MatmulParams, MAX_DROPOUT_MODELS};
use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

/// What happens to each dot product before it is stored (mirrors `latent_core::ops::Epilogue`).
#[derive(Clone, Copy, Debug)]
pub enum GpuEpilogue<'a> {
    None,
    /// act(acc + bias[col]); bias is 1×n.
    BiasActivation {
        bias: &'a GpuTensor,
        activation: Activation,
    },
    /// acc · f'(y[row, col]); y is the m×n layer output.
    ActivationGrad {
        output: &'a GpuTensor,
        activation: Activation,
    },
}

/// K models' products in one dispatch (the batched step of a sweep): C and the epilogue's operand
/// (bias or layer output) hold the K models' matrices one after another, K·m rows of C for an m×n
/// product; A and B do too unless marked shared, one matrix that every model reads (the same input
/// rows, say). Model z's result is bit for bit what the same product computes for that model alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Models {
    pub count: usize,
    pub shared_a: bool,
    pub shared_b: bool,
}

impl Models {
    /// `count` models, each with its own A and B.
    pub fn each_own(count: usize) -> Self {
        Self { count, shared_a: false, shared_b: false }
    }

    /// The stored shape of one model's matrix in `t`: its rows divided among the models if `stacked`.
    fn one_of(&self, op: &'static str, t: &GpuTensor, stacked: bool) -> Result<(usize, usize), GpuError> {
        let rows = rows_per_model(op, t, if stacked { self.count } else { 1 })?;
        Ok((rows, t.cols()))
    }
}

/// A matmul: C (+)= epilogue(op(A)·op(B)).
#[derive(Clone, Copy, Debug)]
pub struct MatmulSpec<'a> {
    pub form: MatmulForm,
    pub epilogue: GpuEpilogue<'a>,
    pub accumulate: bool,
    /// `None` uses the adapter's preferred variant.
    pub variant: Option<MatmulVariant>,
    /// Fused inverted dropout of a layer's output (with `BiasActivation`) or its gradient (with
    /// `ActivationGrad`), numbered by the given step counters.
    pub dropout: Option<(DropoutSpec, &'a GpuTensor)>,
    /// Batched models with dropout: model z's drop probability (empty: every model the spec's p).
    /// The mask's seed, stream and counter are the spec's for all, so each model draws the mask it
    /// draws alone.
    pub model_drop_probabilities: &'a [f32],
    /// `None`: one model's product.
    pub models: Option<Models>,
}

impl<'a> MatmulSpec<'a> {
    pub fn new(form: MatmulForm) -> Self {
        Self { form, epilogue: GpuEpilogue::None, accumulate: false, variant: None, dropout: None, model_drop_probabilities: &[], models: None }
    }
    pub fn models(mut self, models: Models) -> Self {
        self.models = Some(models);
        self
    }
    pub fn dropout(mut self, spec: DropoutSpec, counters: &'a GpuTensor) -> Self {
        self.dropout = Some((spec, counters));
        self
    }
    /// Dropout with a drop probability per model (a dropout sweep's members); `spec.p` is unused.
    pub fn dropout_of_models(mut self, spec: DropoutSpec, probabilities: &'a [f32], counters: &'a GpuTensor) -> Self {
        self.dropout = Some((spec, counters));
        self.model_drop_probabilities = probabilities;
        self
    }
    pub fn epilogue(mut self, epilogue: GpuEpilogue<'a>) -> Self {
        self.epilogue = epilogue;
        self
    }
    pub fn accumulate(mut self, accumulate: bool) -> Self {
        self.accumulate = accumulate;
        self
    }
    pub fn variant(mut self, variant: MatmulVariant) -> Self {
        self.variant = Some(variant);
        self
    }
}

/// Writes `dropout` into a matmul's uniform block for every model (also used to change p on a
/// built dispatch; p = 0 switches dropout off).
pub fn set_dropout(params: &mut MatmulParams, dropout: &DropoutSpec) -> Result<(), GpuError> {
    params.dropout_seed = dropout.seed;
    params.dropout_stream = dropout.stream;
    params.dropout_counter = dropout.counter_index;
    set_drop_probability(params, dropout.p)
}

/// Changes only the drop probability of a matmul built with dropout, every model's (its stream and
/// counter stay): the dropout knob.
pub fn set_drop_probability(params: &mut MatmulParams, p: f32) -> Result<(), GpuError> {
    (0..MAX_DROPOUT_MODELS).try_for_each(|model| set_model_drop_probability(params, model, p))
}

/// Changes model `model`'s drop probability in a batched matmul: one dropout-sweep member's slider.
pub fn set_model_drop_probability(params: &mut MatmulParams, model: usize, p: f32) -> Result<(), GpuError> {
    let block = DropoutSpec { p, seed: params.dropout_seed, stream: params.dropout_stream, counter_index: params.dropout_counter }.params(0)?;
    let entry = params.dropouts.get_mut(model).ok_or_else(|| too_many_for_dropout(model + 1))?;
    *entry = [block.threshold, block.keep_scale.to_bits(), 0, 0];
    Ok(())
}

fn too_many_for_dropout(models: usize) -> GpuError {
    GpuError::invalid("matmul", format!("dropout for {models} models in one dispatch: at most {MAX_DROPOUT_MODELS} models have their own drop probability"))
}

impl Kernels {
    /// C (+)= epilogue(op(A)·op(B)). `c` must be m×n and distinct from every input.
    pub fn matmul(&self, a: &GpuTensor, b: &GpuTensor, c: &GpuTensor, spec: MatmulSpec<'_>) -> Result<Dispatch, GpuError> {
        const OP: &str = "matmul";
        for t in [a, b, c] {
            if t.kind() != ElementKind::F32 {
                return Err(GpuError::invalid(OP, format!("{} is not f32", t.describe())));
            }
        }
        let models = spec.models.unwrap_or(Models::each_own(1));
        rows_per_model(OP, c, models.count)?;
        let (a_shape, b_shape) = (models.one_of(OP, a, !models.shared_a)?, models.one_of(OP, b, !models.shared_b)?);
        let (m, k, n) = spec
            .form
            .dims(a_shape, b_shape)
            .map_err(|_| GpuError::shape(OP, format!("A {} for {}", a.describe(), spec.form.name()), format!("B {}", b.describe())))?;
        c.expect(OP, models.count * m, n, ElementKind::F32)?;
        let (epilogue, activation, operand, operand_len) = match spec.epilogue {
            GpuEpilogue::None => (0, 0, a, 0),
            GpuEpilogue::BiasActivation { bias, activation } => {
                bias.expect_len("matmul bias", models.count * n, ElementKind::F32)?;
                (1, activation.code(), bias, n)
            }
            GpuEpilogue::ActivationGrad { output, activation } => {
                output.expect("matmul activation output", models.count * m, n, ElementKind::F32)?;
                (2, activation.code(), output, m * n)
            }
        };
        expect_distinct(OP, c, &[a, b, operand])?;
        let variant = spec.variant.unwrap_or(self.preferred_matmul());
        let stride = |len: usize, own: bool| if own && models.count > 1 { dim(OP, len) } else { Ok(0) };
        let mut params = MatmulParams {
            m: dim(OP, m)?,
            n: dim(OP, n)?,
            k: dim(OP, k)?,
            accumulate: flag(spec.accumulate),
            stride_a: stride(m * k, !models.shared_a)?,
            stride_b: stride(k * n, !models.shared_b)?,
            stride_c: stride(m * n, true)?,
            stride_operand: stride(operand_len, true)?,
            ..MatmulParams::default()
        };
        let counters = match spec.dropout {
            Some((dropout, counters)) => {
                if epilogue == 0 {
                    return Err(GpuError::invalid(OP, "dropout needs a bias+activation or activation-gradient epilogue"));
                }
                expect_counter(OP, counters, dropout.counter_index)?;
                expect_distinct(OP, c, &[counters])?;
                set_dropout(&mut params, &dropout)?;
                if models.count > MAX_DROPOUT_MODELS {
                    return Err(too_many_for_dropout(models.count));
                }
                let probabilities = spec.model_drop_probabilities;
                if !probabilities.is_empty() && probabilities.len() != models.count {
                    return Err(GpuError::invalid(OP, format!("{} drop probabilities for {} models", probabilities.len(), models.count)));
                }
                for (model, &p) in probabilities.iter().enumerate() {
                    set_model_drop_probability(&mut params, model, p)?;
                }
                counters
            }
            None => &self.no_counters,
        };
        let (cols_per_group, rows_per_group) = self.matmul_block(variant);
        let workgroups = [groups_for(n, cols_per_group), groups_for(m, rows_per_group), models.count as u32];
        if workgroups[0] > crate::dispatch::MAX_WORKGROUPS_PER_DIM || workgroups[1] > crate::dispatch::MAX_WORKGROUPS_PER_DIM {
            return Err(GpuError::invalid(OP, format!("{m}×{n} output needs more workgroups than WebGPU allows")));
        }
        let batch = batch_suffix(models.count);
        let label = format!("{}[{}]{batch} {}·{}→{}", variant.name(), spec.form.name(), a.label(), b.label(), c.label());
        let buffers = [(0, a), (1, b), (2, c), (3, operand), (5, counters)];
        let key = MatmulKey { variant, form: spec.form, epilogue, activation, dropout: spec.dropout.is_some(), batched: models.count > 1 };
        self.dispatch(label, &self.matmul_pipeline(key)?, &buffers, &params, 4, workgroups)
    }

    /// out (+)= f(x), element-wise (`activation.wgsl`, forward). Use it where the activation cannot
    /// be fused into a matmul epilogue.
    pub fn activation_forward(&self, x: &GpuTensor, out: &GpuTensor, activation: Activation, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "activation forward";
        x.expect_len(OP, x.len(), ElementKind::F32)?;
        out.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
        expect_distinct(OP, out, &[x])?;
        let params = crate::params::ElementwiseParams { len: dim(OP, x.len())?, activation: activation.code(), accumulate: flag(accumulate), _pad: 0 };
        let label = format!("activation.forward[{}] {}", activation.name(), out.label());
        let buffers = [(0, x), (2, out)];
        self.dispatch(label, &self.activation_forward, &buffers, &params, 3, crate::dispatch::linear_workgroups(x.len()))
    }

    /// out (+)= dy · f'(y), with y the forward output (`activation.wgsl`, backward).
    pub fn activation_backward(&self, y: &GpuTensor, dy: &GpuTensor, out: &GpuTensor, activation: Activation, accumulate: bool) -> Result<Dispatch, GpuError> {
        const OP: &str = "activation backward";
        dy.expect(OP, y.rows(), y.cols(), ElementKind::F32)?;
        out.expect(OP, y.rows(), y.cols(), ElementKind::F32)?;
        expect_distinct(OP, out, &[y, dy])?;
        let params = crate::params::ElementwiseParams { len: dim(OP, y.len())?, activation: activation.code(), accumulate: flag(accumulate), _pad: 0 };
        let label = format!("activation.backward[{}] {}", activation.name(), out.label());
        let buffers = [(0, y), (1, dy), (2, out)];
        self.dispatch(label, &self.activation_backward, &buffers, &params, 3, crate::dispatch::linear_workgroups(y.len()))
    }
}
