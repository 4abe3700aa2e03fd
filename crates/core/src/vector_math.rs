//! e^x and ln(1 + x) for f32 on the ranges the Bernoulli loss and σ need, written without a libm
//! call or a branch, so the loops over them vectorise (a call to `expf`/`logf` per element keeps a
//! loop scalar: the reference VAE's loss takes 100,352 of each per step). Within 2 ulp (e^x) and
//! 3 ulp (ln) of the exact value over their whole range, which the tests sweep against f64 (WGSL
//! allows the GPU's `exp` and `log` more); the f64 oracle keeps libm's functions.

/// 1.5·2²³: adding and subtracting it rounds an f32 of magnitude below 2²² to the nearest integer
/// (ties to even) with plain arithmetic, where `f32::round` is a libm call on SSE2.
const ROUNDER: f32 = 12_582_912.0;
/// Below this e^x is under f32's smallest normal number; the result is flushed to 0 (as GPUs do).
const EXP_MIN: f32 = -87.336_54;
/// ln 2 split so that n·LN2_HI is exact for the n this range needs (Cody and Waite).
const LN2_HI: f32 = 0.693_145_75;
const LN2_LO: f32 = 1.428_606_8e-6;

/// e^x for x ≤ 0: 0 below [`EXP_MIN`] and at −∞, NaN for NaN. Positive x are outside its range.
#[inline(always)]
pub fn exp_nonpositive(x: f32) -> f32 {
    // Selects rather than branches (comparisons with NaN are false, so NaN flows through).
    let clamped = if x < EXP_MIN { EXP_MIN } else { x };
    let n = (clamped * std::f32::consts::LOG2_E + ROUNDER) - ROUNDER;
    let r = (clamped - n * LN2_HI) - n * LN2_LO;
    // e^r on |r| ≤ ln2/2 by its Taylor series to r⁷ (truncation below 6e-9 relative).
    let p = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r * (1.0 / 5040.0)))))));
    // 2ⁿ from its exponent bits: n is an integer in [−126, 0] here.
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    if x < EXP_MIN {
        0.0
    } else {
        p * scale
    }
}

/// ln(1 + x) for x in [0, 1] (what softplus needs after e^(−|l|)): 2·atanh(s) with
/// s = x/(2 + x) ≤ 1/3, by its series to s¹³ (truncation below 2e-8 relative). Exact at 0 and
/// more accurate near it than `(1 + x).ln()`, which loses x below 2⁻²⁴.
#[inline(always)]
pub fn ln_1p_unit(x: f32) -> f32 {
    let s = x / (2.0 + x);
    let s2 = s * s;
    let series = 2.0 + s2 * (2.0 / 3.0 + s2 * (2.0 / 5.0 + s2 * (2.0 / 7.0 + s2 * (2.0 / 9.0 + s2 * (2.0 / 11.0 + s2 * (2.0 / 13.0))))));
    s * series
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between an f32 and the exact value.
    fn ulps(got: f32, exact: f64) -> f64 {
        let rounded = exact as f32;
        let ulp = f64::from(f32::from_bits(rounded.to_bits() + 1) - rounded).max(f64::from(f32::MIN_POSITIVE) * f64::from(f32::EPSILON));
        (f64::from(got) - exact).abs() / ulp
    }

    #[test]
    fn exp_is_within_two_ulp_over_its_range() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = EXP_MIN * i as f32 / 2_000_000.0;
            let err = ulps(exp_nonpositive(x), f64::from(x).exp());
            worst = worst.max(err);
        }
        assert!(worst <= 2.0, "worst error {worst} ulp");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
        assert!(exp_nonpositive(f32::NAN).is_nan());
    }

    #[test]
    fn ln_1p_is_within_three_ulp_over_its_range() {
        let mut worst = 0.0f64;
        for i in 0..=2_000_000 {
            let x = i as f32 / 2_000_000.0;
            worst = worst.max(ulps(ln_1p_unit(x), f64::from(x).ln_1p()));
        }
        for x in [1e-30f32, 1e-10, 3e-8, 1e-5] {
            worst = worst.max(ulps(ln_1p_unit(x), f64::from(x).ln_1p()));
        }
        assert!(worst <= 3.0, "worst error {worst} ulp");
        assert_eq!(ln_1p_unit(0.0), 0.0);
        assert!(ln_1p_unit(f32::NAN).is_nan());
    }
}
