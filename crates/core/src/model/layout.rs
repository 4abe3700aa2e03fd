//! One flat parameter vector per network, every tensor at a 64-element (256-byte) boundary.
//!
//! A flat vector lets one optimizer dispatch and one penalty dispatch cover a whole network on the
//! GPU; the alignment is WebGPU's storage-binding offset alignment, so each weight matrix can be
//! bound as a view of the same buffer.

use crate::real::Real;
use crate::rng::SplitMix64;

/// Element alignment of every tensor in a [`ParamLayout`] (256 bytes of f32).
pub const PARAM_ALIGN: usize = 64;

/// Where one tensor lives in the flat vector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSlot {
    pub name: String,
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    /// Weights get L1/L2 penalties; biases do not.
    pub is_weight: bool,
}

impl ParamSlot {
    pub fn len(&self) -> usize {
        self.rows * self.cols
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset..self.offset + self.len()
    }
}

/// The tensors of one network and the length of its flat vector (padding included).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParamLayout {
    pub slots: Vec<ParamSlot>,
    pub len: usize,
}

impl ParamLayout {
    /// Appends a `rows × cols` tensor at the next aligned offset; returns its slot index.
    pub fn push(&mut self, name: impl Into<String>, rows: usize, cols: usize, is_weight: bool) -> usize {
        let offset = self.len.div_ceil(PARAM_ALIGN) * PARAM_ALIGN;
        self.slots.push(ParamSlot { name: name.into(), offset, rows, cols, is_weight });
        self.len = offset + rows * cols;
        self.slots.len() - 1
    }

    /// Real parameters, padding excluded.
    pub fn parameter_count(&self) -> usize {
        self.slots.iter().map(ParamSlot::len).sum()
    }

    /// 1 on weights, 0 on biases and padding: the penalty kernels' mask.
    pub fn penalty_mask<T: Real>(&self) -> Vec<T> {
        let mut mask = vec![T::zero(); self.len];
        for slot in self.slots.iter().filter(|s| s.is_weight) {
            mask[slot.range()].fill(T::one());
        }
        mask
    }

    /// Glorot-uniform weights (U(±√(6/(fan_in + fan_out)))) and zero biases, from `seed`.
    pub fn init(&self, seed: u64) -> Vec<f32> {
        let mut rng = SplitMix64::new(seed);
        let mut params = vec![0.0f32; self.len];
        for slot in self.slots.iter().filter(|s| s.is_weight) {
            let bound = (6.0 / (slot.rows + slot.cols) as f64).sqrt();
            for p in &mut params[slot.range()] {
                *p = rng.range(-bound, bound) as f32;
            }
        }
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_aligned_and_disjoint() {
        let mut layout = ParamLayout::default();
        layout.push("w", 3, 5, true);
        layout.push("b", 1, 5, false);
        layout.push("w2", 5, 130, true);
        for pair in layout.slots.windows(2) {
            assert!(pair[0].range().end <= pair[1].offset);
        }
        assert!(layout.slots.iter().all(|s| s.offset % PARAM_ALIGN == 0));
        assert_eq!(layout.parameter_count(), 15 + 5 + 650);
        let mask: Vec<f32> = layout.penalty_mask();
        assert_eq!(mask.iter().sum::<f32>(), 665.0);
        assert_eq!(mask[64], 0.0, "biases are not penalized");
    }

    #[test]
    fn init_is_seeded_and_bounded() {
        let mut layout = ParamLayout::default();
        layout.push("w", 784, 400, true);
        layout.push("b", 1, 400, false);
        let (a, b) = (layout.init(1), layout.init(1));
        assert_eq!(a, b);
        assert_ne!(a, layout.init(2));
        let bound = (6.0f32 / 1184.0).sqrt();
        assert!(a[..784 * 400].iter().all(|w| w.abs() <= bound));
        assert!(a[layout.slots[1].range()].iter().all(|&b| b == 0.0));
    }
}
