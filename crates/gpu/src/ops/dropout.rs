//! `dropout.wgsl`: inverted dropout with an on-GPU mask.

use latent_core::rng::drop_threshold;

use crate::error::GpuError;
use crate::params::DropoutParams;

/// Highest drop probability accepted: at p → 1 the keep scale 1/(1 − p) explodes.
pub const MAX_DROP_PROBABILITY: f32 = 0.95;

/// Dropout's probability and random stream.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DropoutSpec {
    /// Drop probability in [0, 0.95].
    pub p: f32,
    pub seed: u32,
    pub stream: u32,
    pub counter_index: u32,
}

impl DropoutSpec {
    /// The uniform block for this spec over `len` elements (also used to change p on a built dispatch).
    pub fn params(&self, len: u32) -> Result<DropoutParams, GpuError> {
        if !(0.0..=MAX_DROP_PROBABILITY).contains(&self.p) {
            return Err(GpuError::invalid("dropout", format!("probability {} is outside [0, {MAX_DROP_PROBABILITY}]", self.p)));
        }
        Ok(DropoutParams {
            len,
            threshold: drop_threshold(self.p),
            seed: self.seed,
            stream: self.stream,
            counter_index: self.counter_index,
            accumulate: 0,
            keep_scale: 1.0 / (1.0 - self.p),
            _pad: 0,
        })
    }
}

/// The standalone kernels: the models fuse dropout into their matmuls (`ops::matmul`), so only the
/// parity checks, which test the mask on its own, build these.
#[cfg(feature = "standalone-dropout")]
mod standalone {
    use super::DropoutSpec;
    use crate::dispatch::{linear_workgroups, Dispatch};
    use crate::error::GpuError;
    use crate::kernels::Kernels;
    use crate::ops::vae::expect_counter;
    use crate::ops::{dim, flag};
    use crate::params::DropoutParams;
    use crate::tensor::{expect_distinct, ElementKind, GpuTensor};

    impl Kernels {
        /// mask = keep ? 1/(1 − p) : 0; y = x ⊙ mask.
        pub fn dropout_forward(&self, x: &GpuTensor, y: &GpuTensor, mask: &GpuTensor, counters: &GpuTensor, spec: DropoutSpec) -> Result<Dispatch, GpuError> {
            const OP: &str = "dropout forward";
            x.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
            y.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
            mask.expect(OP, x.rows(), x.cols(), ElementKind::F32)?;
            expect_counter(OP, counters, spec.counter_index)?;
            expect_distinct(OP, y, &[x, mask])?;
            expect_distinct(OP, mask, &[x])?;
            let params = spec.params(dim(OP, x.len())?)?;
            let buffers = [(0, x), (1, y), (2, mask), (3, counters)];
            self.dispatch(format!("dropout.forward {}", y.label()), &self.dropout_forward, &buffers, &params, 4, linear_workgroups(x.len()))
        }

        /// dx (+)= dy ⊙ mask.
        pub fn dropout_backward(&self, dy: &GpuTensor, mask: &GpuTensor, dx: &GpuTensor, accumulate: bool) -> Result<Dispatch, GpuError> {
            const OP: &str = "dropout backward";
            mask.expect(OP, dy.rows(), dy.cols(), ElementKind::F32)?;
            dx.expect(OP, dy.rows(), dy.cols(), ElementKind::F32)?;
            expect_distinct(OP, dx, &[dy, mask])?;
            let params = DropoutParams { len: dim(OP, dy.len())?, accumulate: flag(accumulate), ..DropoutParams::default() };
            let buffers = [(2, mask), (5, dy), (6, dx)];
            self.dispatch(format!("dropout.backward {}", dx.label()), &self.dropout_backward, &buffers, &params, 4, linear_workgroups(dy.len()))
        }
    }
}
