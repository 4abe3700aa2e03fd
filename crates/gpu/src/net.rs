//! One network's activations, gradients and parameter views on the GPU, and the dispatches of its
//! forward and backward passes; shared by every model (VAE encoder and decoder, GAN G and D).

use latent_core::model::{Mlp, ParamLayout};
use latent_core::ops::MatmulForm;

use crate::context::GpuContext;
use crate::dispatch::{Schedule, Tuned};
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::{DropoutSpec, GpuEpilogue, MatmulSpec, Models};
use crate::params::MatmulParams;
use crate::tensor::GpuTensor;

/// The matmuls of a pass that carry dropout, whose drop probability the dropout knob rewrites.
pub(crate) type DropoutDispatches = Vec<Tuned<MatmulParams>>;

/// What a backward pass writes besides the layers' pre-activation gradients.
#[derive(Clone, Copy)]
struct BackwardSpec<'a> {
    /// The gradient w.r.t. the network's input, if wanted.
    input_grad: Option<&'a GpuTensor>,
    /// `Some(accumulate)` to write parameter gradients (added to them with `accumulate`), `None`
    /// to skip them (a frozen network that passes gradients through).
    param_grads: Option<bool>,
    /// The dropout of the forward pass, redrawn from the same stream.
    dropout: Option<(DropoutSpec, &'a GpuTensor)>,
}

/// Per-layer buffers of one network.
#[derive(Debug)]
pub(crate) struct NetBuffers {
    /// Each layer's output (batch × width).
    outputs: Vec<GpuTensor>,
    /// Gradient w.r.t. each layer's pre-activation (batch × width).
    d_pre: Vec<GpuTensor>,
    weights: Vec<GpuTensor>,
    biases: Vec<GpuTensor>,
    weight_grads: Vec<GpuTensor>,
    bias_grads: Vec<GpuTensor>,
    /// How many models' networks these buffers hold (a sweep's batched step): every buffer stacks
    /// the models' blocks, and every product is one batched dispatch.
    models: usize,
}

impl NetBuffers {
    /// A network that trains: activations, pre-activation gradients and views of its parameters
    /// and their gradients.
    pub(crate) fn new(
        ctx: &GpuContext,
        layout: &ParamLayout,
        net: &Mlp,
        name: &str,
        batch: usize,
        params: &GpuTensor,
        grads: &GpuTensor,
    ) -> Result<Self, GpuError> {
        Self::build(ctx, layout, net, name, (batch, 1), params, Some(grads))
    }

    /// `models` networks of one shape that train side by side: `stacked` is the layout's
    /// [`stacked`](ParamLayout::stacked) form over `params` and `grads`, and every activation
    /// holds the models' batches one after another (models · batch rows).
    pub(crate) fn of_models(
        ctx: &GpuContext,
        stacked: &ParamLayout,
        net: &Mlp,
        name: &str,
        (batch, models): (usize, usize),
        params: &GpuTensor,
        grads: &GpuTensor,
    ) -> Result<Self, GpuError> {
        Self::build(ctx, stacked, net, name, (batch, models), params, Some(grads))
    }

    /// A network that only runs forward (the GAN's heat map and sample block, over
    /// [`MAP_POINTS`](latent_core::model::gan::MAP_POINTS) rows, or a VAE whose parameters train
    /// elsewhere): its activations only. Gradient buffers there would be as large as the
    /// activations and never written (134 MB at the largest widths); its backward passes are
    /// refused.
    pub(crate) fn forward_only(ctx: &GpuContext, layout: &ParamLayout, net: &Mlp, name: &str, rows: usize, params: &GpuTensor) -> Result<Self, GpuError> {
        Self::build(ctx, layout, net, name, (rows, 1), params, None)
    }

    /// The general form: `models` networks of `batch` rows each, which train with `grads` as
    /// their parameter gradients or, without, only run forward.
    pub(crate) fn build(
        ctx: &GpuContext,
        layout: &ParamLayout,
        net: &Mlp,
        name: &str,
        (batch, models): (usize, usize),
        params: &GpuTensor,
        grads: Option<&GpuTensor>,
    ) -> Result<Self, GpuError> {
        let mut b = Self { outputs: vec![], d_pre: vec![], weights: vec![], biases: vec![], weight_grads: vec![], bias_grads: vec![], models };
        let batch = models * batch;
        for (i, layer) in net.layers.iter().enumerate() {
            b.outputs.push(ctx.zeros(&format!("{name}.{i}.out"), batch, layer.output)?);
            let (w, bias) = (&layout.slots[layer.weight], &layout.slots[layer.bias]);
            b.weights.push(params.view(w.name.clone(), w.offset, w.rows, w.cols)?);
            b.biases.push(params.view(bias.name.clone(), bias.offset, bias.rows, bias.cols)?);
            if let Some(grads) = grads {
                b.d_pre.push(ctx.zeros(&format!("{name}.{i}.d_pre"), batch, layer.output)?);
                b.weight_grads.push(grads.view(format!("d{}", w.name), w.offset, w.rows, w.cols)?);
                b.bias_grads.push(grads.view(format!("d{}", bias.name), bias.offset, bias.rows, bias.cols)?);
            }
        }
        Ok(b)
    }

    /// Gradient buffer of the last layer's pre-activation: where a loss's backward writes.
    pub(crate) fn output_grad(&self) -> Result<&GpuTensor, GpuError> {
        self.d_pre.last().ok_or_else(|| GpuError::invalid("model", "a network has no layers"))
    }

    pub(crate) fn output(&self) -> Result<&GpuTensor, GpuError> {
        self.outputs.last().ok_or_else(|| GpuError::invalid("vae", "a network has no layers"))
    }

    /// A product of these networks: one model's, or every model's in one batched dispatch.
    fn product(&self, form: MatmulForm) -> MatmulSpec<'static> {
        match self.models {
            1 => MatmulSpec::new(form),
            count => MatmulSpec::new(form).models(Models::each_own(count)),
        }
    }

    /// Forward dispatches: out_l = act(in_l · W_l + b_l).
    pub(crate) fn forward(&self, k: &Kernels, net: &Mlp, input: &GpuTensor, s: &mut Schedule) -> Result<(), GpuError> {
        self.forward_with_dropout(k, net, input, None, s).map(|_| ())
    }

    /// Forward with fused dropout on the hidden layers (layer l on stream `spec.stream + l`).
    /// Returns the dispatches that carry dropout, for knob changes.
    pub(crate) fn forward_with_dropout(
        &self,
        k: &Kernels,
        net: &Mlp,
        input: &GpuTensor,
        dropout: Option<(DropoutSpec, &GpuTensor)>,
        s: &mut Schedule,
    ) -> Result<DropoutDispatches, GpuError> {
        let mut carrying = Vec::new();
        for (i, layer) in net.layers.iter().enumerate() {
            let x = if i == 0 { input } else { &self.outputs[i - 1] };
            let epilogue = GpuEpilogue::BiasActivation { bias: &self.biases[i], activation: layer.activation };
            let spec = self.product(MatmulForm::Nn).epilogue(epilogue);
            match dropout.filter(|_| i + 1 < net.layers.len()) {
                Some((base, counters)) => {
                    carrying.push(s.push_tuned(k.matmul(x, &self.weights[i], &self.outputs[i], spec.dropout(layer_stream(base, i), counters))?)?)
                }
                None => _ = s.push(k.matmul(x, &self.weights[i], &self.outputs[i], spec)?),
            }
        }
        Ok(carrying)
    }

    /// Backward dispatches from d_pre of the last layer (already written); writes parameter
    /// gradients (added to them with `accumulate`) and, if `input_grad` is given, the gradient
    /// w.r.t. the network's input.
    pub(crate) fn backward(
        &self,
        k: &Kernels,
        net: &Mlp,
        input: &GpuTensor,
        input_grad: Option<&GpuTensor>,
        accumulate: bool,
        s: &mut Schedule,
    ) -> Result<(), GpuError> {
        self.backward_with(k, net, input, BackwardSpec { input_grad, param_grads: Some(accumulate), dropout: None }, s).map(|_| ())
    }

    /// Backward through the dropout of [`forward_with_dropout`](Self::forward_with_dropout) (same
    /// spec); returns the dispatches that carry dropout.
    pub(crate) fn backward_with_dropout(
        &self,
        k: &Kernels,
        net: &Mlp,
        input: &GpuTensor,
        input_grad: Option<&GpuTensor>,
        dropout: (DropoutSpec, &GpuTensor),
        s: &mut Schedule,
    ) -> Result<DropoutDispatches, GpuError> {
        self.backward_with(k, net, input, BackwardSpec { input_grad, param_grads: Some(false), dropout: Some(dropout) }, s)
    }

    /// Backward for the input gradient only (a frozen network that passes gradients through).
    pub(crate) fn backward_input_only(&self, k: &Kernels, net: &Mlp, input: &GpuTensor, input_grad: &GpuTensor, s: &mut Schedule) -> Result<(), GpuError> {
        self.backward_with(k, net, input, BackwardSpec { input_grad: Some(input_grad), param_grads: None, dropout: None }, s).map(|_| ())
    }

    fn backward_with(&self, k: &Kernels, net: &Mlp, input: &GpuTensor, spec: BackwardSpec<'_>, s: &mut Schedule) -> Result<DropoutDispatches, GpuError> {
        if self.d_pre.len() != net.layers.len() {
            return Err(GpuError::invalid("model", "a forward-only network has no backward pass"));
        }
        let mut carrying = Vec::new();
        for i in (0..net.layers.len()).rev() {
            let x = if i == 0 { input } else { &self.outputs[i - 1] };
            if let Some(accumulate) = spec.param_grads {
                s.push(k.matmul(x, &self.d_pre[i], &self.weight_grads[i], self.product(MatmulForm::Tn).accumulate(accumulate))?);
                s.push(k.column_sums_of_models(&self.d_pre[i], &self.bias_grads[i], self.models, 1.0, accumulate)?);
            }
            if i > 0 {
                let epilogue = GpuEpilogue::ActivationGrad { output: &self.outputs[i - 1], activation: net.layers[i - 1].activation };
                let matmul = self.product(MatmulForm::Nt).epilogue(epilogue);
                match spec.dropout {
                    Some((base, counters)) => {
                        let dispatch = k.matmul(&self.d_pre[i], &self.weights[i], &self.d_pre[i - 1], matmul.dropout(layer_stream(base, i - 1), counters))?;
                        carrying.push(s.push_tuned(dispatch)?);
                    }
                    None => _ = s.push(k.matmul(&self.d_pre[i], &self.weights[i], &self.d_pre[i - 1], matmul)?),
                }
            } else if let Some(dx) = spec.input_grad {
                s.push(k.matmul(&self.d_pre[0], &self.weights[0], dx, self.product(MatmulForm::Nt))?);
            }
        }
        Ok(carrying)
    }
}

/// Hidden layer `layer`'s dropout: the base spec on its own stream.
pub(crate) fn layer_stream(base: DropoutSpec, layer: usize) -> DropoutSpec {
    DropoutSpec { stream: base.stream + layer as u32, ..base }
}
