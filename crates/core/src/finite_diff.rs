//! Central finite differences: the independent check of every backward formula.

/// ∂f/∂xᵢ for every i by central differences with step `h` (in f64, so truncation dominates rounding).
pub fn gradient(x: &[f64], h: f64, mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            let original = probe[i];
            probe[i] = original + h;
            let plus = f(&probe);
            probe[i] = original - h;
            let minus = f(&probe);
            probe[i] = original;
            (plus - minus) / (2.0 * h)
        })
        .collect()
}
