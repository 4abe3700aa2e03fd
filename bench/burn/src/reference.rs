//! The one thing both engines must agree on: the reference VAE, its initial parameters and the
//! rows of MNIST each step trains on. Both sides read them from here, so a speed difference cannot
//! come from a different model, a different start or different data.

use latent_core::data::mnist;
use latent_core::data::RunData;
use latent_core::model::{VaeArch, VaeSpec};
use latent_core::Matrix;

/// The shipped MNIST digits (10,000 of them), the same asset the app and `latent bench` use.
const MNIST_ASSET: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");

/// Rows per step.
pub const BATCH: usize = 128;
/// Seed of the initial parameters (`ParamLayout::init`) and of our engine's noise streams.
pub const SEED: u32 = 1;
/// The reference VAE's parameters: encoder 784→400 and 400→40 (μ | logσ²), decoder 20→400 and
/// 400→784, each weights + biases (= 652,824).
pub const PARAMETERS: usize = (784 * 400 + 400) + (400 * 40 + 40) + (20 * 400 + 400) + (400 * 784 + 784);

/// The reference VAE (784-400-20, ReLU, Bernoulli), its Glorot-uniform start, and the data.
pub struct Reference {
    pub arch: VaeArch,
    pub init: Vec<f32>,
    pub data: std::sync::Arc<RunData>,
}

impl Reference {
    pub fn load() -> anyhow::Result<Self> {
        let arch = VaeSpec::reference_mnist().build()?;
        let init = arch.layout.init(u64::from(SEED));
        let data = std::sync::Arc::new(RunData::mnist(MNIST_ASSET, None, mnist::DEFAULT_TEST_COUNT)?);
        anyhow::ensure!(
            arch.layout.parameter_count() == PARAMETERS,
            "the reference VAE has {} parameters, expected {PARAMETERS}",
            arch.layout.parameter_count()
        );
        Ok(Self { arch, init, data })
    }

    /// The training rows of step `step`, pixels/255, by the gather kernels' rule: exactly the rows
    /// our engine gathers on the GPU at that step.
    pub fn batch(&self, step: u32) -> Matrix<f32> {
        self.data.batch(&self.data.train, 0, step, BATCH)
    }

    /// Every tensor of the flat parameter vector in layout order, as (rows, cols, values):
    /// encoder.0.weight, encoder.0.bias, encoder.1.weight, ..., decoder.1.bias. Weights are
    /// rows = inputs × cols = outputs, row-major, which is burn's `Linear` layout too.
    pub fn tensors(&self) -> Vec<(usize, usize, &[f32])> {
        self.arch.layout.slots.iter().map(|slot| (slot.rows, slot.cols, &self.init[slot.range()])).collect()
    }
}
