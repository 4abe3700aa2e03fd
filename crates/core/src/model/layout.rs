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

    /// The layout of `models` models of this shape trained as one (a sweep's batched step): each
    /// slot holds the models' tensors one after another (`models · rows` rows), so a layer of K
    /// models is one stacked matrix for a batched matmul. Slot order and names are this layout's.
    pub fn stacked(&self, models: usize) -> ParamLayout {
        let mut stacked = ParamLayout::default();
        for slot in &self.slots {
            stacked.push(slot.name.clone(), models * slot.rows, slot.cols, slot.is_weight);
        }
        stacked
    }

    /// Model `model`'s part of slot `slot` in the [`stacked`](Self::stacked) layout of `models`
    /// models (`stacked` is that layout): its range in the stacked vector.
    pub fn model_range(&self, stacked: &ParamLayout, slot: usize, model: usize) -> std::ops::Range<usize> {
        let start = stacked.slots[slot].offset + model * self.slots[slot].len();
        start..start + self.slots[slot].len()
    }

    /// Lays the models' flat vectors (each in this layout) out in the [`stacked`](Self::stacked)
    /// layout, padding zero. `None` if a vector has the wrong length.
    pub fn stack(&self, models: &[&[f32]]) -> Option<Vec<f32>> {
        if models.iter().any(|m| m.len() != self.len) {
            return None;
        }
        let stacked = self.stacked(models.len());
        let mut out = vec![0.0; stacked.len];
        for (s, slot) in self.slots.iter().enumerate() {
            for (z, model) in models.iter().enumerate() {
                out[self.model_range(&stacked, s, z)].copy_from_slice(&model[slot.range()]);
            }
        }
        Some(out)
    }

    /// Model `model`'s flat vector (this layout, padding zero) out of a vector in the
    /// [`stacked`](Self::stacked) layout of `models` models. `None` if `stacked` is not that long
    /// or `model` is not one of them.
    pub fn unstack(&self, stacked: &[f32], models: usize, model: usize) -> Option<Vec<f32>> {
        let layout = self.stacked(models);
        if stacked.len() != layout.len || model >= models {
            return None;
        }
        let mut out = vec![0.0; self.len];
        for (s, slot) in self.slots.iter().enumerate() {
            out[slot.range()].copy_from_slice(&stacked[self.model_range(&layout, s, model)]);
        }
        Some(out)
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
    #[test]
    fn stacking_round_trips_and_stacks_each_slot() {
        let mut layout = ParamLayout::default();
        layout.push("w", 3, 5, true);
        layout.push("b", 1, 5, false);
        let models: Vec<Vec<f32>> = (1..=3).map(|seed| layout.init(seed)).collect();
        let refs: Vec<&[f32]> = models.iter().map(Vec::as_slice).collect();
        let stacked = layout.stack(&refs).expect("three vectors of the layout's length");
        let stacked_layout = layout.stacked(3);
        assert_eq!((stacked_layout.slots[0].rows, stacked_layout.slots[1].rows), (9, 3));
        assert_eq!(stacked.len(), stacked_layout.len);
        // Model 1's weights follow model 0's in the first slot.
        assert_eq!(&stacked[15..30], &models[1][..15]);
        for (z, model) in models.iter().enumerate() {
            assert_eq!(layout.unstack(&stacked, 3, z).as_ref(), Some(model));
        }
        assert_eq!(layout.unstack(&stacked, 3, 3), None);
        assert_eq!(layout.stack(&[&models[0][..4]]), None);
        let mask: Vec<f32> = stacked_layout.penalty_mask();
        assert_eq!(mask.iter().sum::<f32>(), 45.0, "only the three models' weights are penalized");
    }
}
