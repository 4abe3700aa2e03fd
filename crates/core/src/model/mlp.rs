//! A stack of dense layers over a [`ParamLayout`], with the CPU forward and backward passes whose
//! order of operations the GPU schedule follows dispatch for dispatch.

use super::layout::ParamLayout;
use crate::activation::Activation;
use crate::error::CoreError;
use crate::matrix::{MatRef, Matrix};
use crate::ops::matmul::{matmul_into, Epilogue, MatmulForm};
use crate::ops::reduce::column_sums;
use crate::real::Real;

/// One dense layer: y = act(x·W + b), W stored input × output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dense {
    pub input: usize,
    pub output: usize,
    pub activation: Activation,
    /// Slot indices in the layout.
    pub weight: usize,
    pub bias: usize,
}

/// Inverted dropout on an MLP's hidden-layer outputs while training. Layer `l` draws its mask from
/// stream `stream_base + l` at `step`, exactly as the GPU's fused matmul epilogue does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MlpDropout {
    pub p: f32,
    pub seed: u32,
    pub stream_base: u32,
    pub step: u32,
}

impl MlpDropout {
    fn mask<T: Real>(&self, layer: usize, len: usize) -> Vec<T> {
        crate::ops::dropout::mask(crate::rng::RngStream::new(self.seed, self.stream_base + layer as u32), len, self.p, self.step)
    }
}

/// Dense layers applied in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mlp {
    pub layers: Vec<Dense>,
}

fn slot_view<'a, T: Real>(layout: &ParamLayout, params: &'a [T], slot: usize) -> MatRef<'a, T> {
    let s = &layout.slots[slot];
    MatRef { rows: s.rows, cols: s.cols, data: &params[s.range()] }
}

/// What a forward pass saw and produced, as backpropagation needs it: the network's input and
/// each layer's output.
#[derive(Clone, Copy, Debug)]
pub struct ForwardPass<'a, T> {
    pub input: &'a Matrix<T>,
    pub outputs: &'a [Matrix<T>],
}

/// What a backward pass does besides writing parameter gradients.
#[derive(Clone, Copy, Debug, Default)]
pub struct BackwardOptions {
    /// Also return the gradient w.r.t. the network's input.
    pub input_grad: bool,
    /// Add to the gradients already in `grads` instead of overwriting them.
    pub accumulate: bool,
    /// The dropout of the forward pass, whose masks the backward pass applies again.
    pub dropout: Option<MlpDropout>,
}

impl Mlp {
    /// Layers `widths[0] → widths[1] → …`, `hidden` activation between them and `output` on the last.
    pub fn new(layout: &mut ParamLayout, name: &str, widths: &[usize], hidden: Activation, output: Activation) -> Self {
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(i, w)| Dense {
                input: w[0],
                output: w[1],
                activation: if i + 2 == widths.len() { output } else { hidden },
                weight: layout.push(format!("{name}.{i}.weight"), w[0], w[1], true),
                bias: layout.push(format!("{name}.{i}.bias"), 1, w[1], false),
            })
            .collect();
        Self { layers }
    }

    pub fn input(&self) -> usize {
        self.layers.first().map_or(0, |l| l.input)
    }

    pub fn output(&self) -> usize {
        self.layers.last().map_or(0, |l| l.output)
    }

    /// Every layer's output, first to last.
    pub fn forward<T: Real>(&self, layout: &ParamLayout, params: &[T], x: &Matrix<T>) -> Result<Vec<Matrix<T>>, CoreError> {
        self.forward_with_dropout(layout, params, x, None)
    }

    /// [`forward`](Self::forward) with dropout on the hidden layers' outputs (the stored outputs
    /// are the dropped ones, as on the GPU).
    pub fn forward_with_dropout<T: Real>(
        &self,
        layout: &ParamLayout,
        params: &[T],
        x: &Matrix<T>,
        dropout: Option<MlpDropout>,
    ) -> Result<Vec<Matrix<T>>, CoreError> {
        let mut outputs: Vec<Matrix<T>> = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            let input = outputs.last().unwrap_or(x);
            let w = slot_view(layout, params, layer.weight);
            let b = &params[layout.slots[layer.bias].range()];
            let mut out = Matrix::zeros(input.rows, layer.output);
            matmul_into(input.view(), w, MatmulForm::Nn, Epilogue::BiasActivation { bias: b, activation: layer.activation }, false, &mut out.data)?;
            if let Some(d) = dropout.filter(|d| d.p > 0.0 && outputs.len() + 1 < self.layers.len()) {
                let mask: Vec<T> = d.mask(outputs.len(), out.data.len());
                out.data.iter_mut().zip(&mask).for_each(|(v, m)| *v *= *m);
            }
            outputs.push(out);
        }
        Ok(outputs)
    }

    /// Backpropagates `d_pre`, the gradient w.r.t. the last layer's pre-activation, through the
    /// forward `pass`, writing weight and bias gradients into `grads` (added to them with
    /// `accumulate`, as a discriminator seeing real and fake batches needs). Returns the gradient
    /// w.r.t. the input if asked. With the `dropout` of [`forward_with_dropout`](Self::forward_with_dropout),
    /// the gradient into a dropped hidden output is masked and f' is taken at the undropped output.
    pub fn backward<T: Real>(
        &self,
        layout: &ParamLayout,
        params: &[T],
        pass: ForwardPass<'_, T>,
        d_pre: Matrix<T>,
        grads: &mut [T],
        options: BackwardOptions,
    ) -> Result<Option<Matrix<T>>, CoreError> {
        let (x, outputs) = (pass.input, pass.outputs);
        let BackwardOptions { input_grad, accumulate, dropout } = options;
        let mut d = d_pre;
        for (l, layer) in self.layers.iter().enumerate().rev() {
            let input = if l == 0 { x } else { &outputs[l - 1] };
            let w_slot = &layout.slots[layer.weight];
            matmul_into(input.view(), d.view(), MatmulForm::Tn, Epilogue::None, accumulate, &mut grads[w_slot.range()])?;
            column_sums(&d, &mut grads[layout.slots[layer.bias].range()], accumulate);
            if l == 0 && !input_grad {
                return Ok(None);
            }
            let w = slot_view(layout, params, layer.weight);
            let mut d_input = Matrix::zeros(d.rows, layer.input);
            match dropout.filter(|drop| drop.p > 0.0 && l > 0) {
                Some(drop) => {
                    // d_pre = (d·Wᵀ) ⊙ mask ⊙ f'(y_dropped / keep_scale).
                    matmul_into(d.view(), w, MatmulForm::Nt, Epilogue::None, false, &mut d_input.data)?;
                    let keep_scale = T::from_f64(1.0 / (1.0 - f64::from(drop.p)));
                    let mask: Vec<T> = drop.mask(l - 1, d_input.data.len());
                    let activation = self.layers[l - 1].activation;
                    for ((g, &m), &y) in d_input.data.iter_mut().zip(&mask).zip(&outputs[l - 1].data) {
                        *g = *g * m * activation.derivative_from_output(y / keep_scale);
                    }
                }
                None => {
                    let epilogue =
                        if l == 0 { Epilogue::None } else { Epilogue::ActivationGrad { output: &outputs[l - 1], activation: self.layers[l - 1].activation } };
                    matmul_into(d.view(), w, MatmulForm::Nt, epilogue, false, &mut d_input.data)?;
                }
            }
            d = d_input;
        }
        Ok(Some(d))
    }
}
