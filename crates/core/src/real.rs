//! The scalar the reference math is written over: `f64` for the test oracle, `f32` for the CPU engine.
//!
//! One generic implementation keeps the oracle and the CPU twin from drifting apart.

use std::fmt::Debug;
use std::ops::{Add, AddAssign, Div, Mul, MulAssign, Neg, Sub, SubAssign};

/// A floating-point scalar with the handful of functions the kernels use.
pub trait Real:
    Copy
    + Debug
    + PartialOrd
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + crate::ops::matmul::Product
    + Send
    + Sync
    + 'static
{
    fn from_f64(v: f64) -> Self;
    fn to_f64(self) -> f64;
    fn exp(self) -> Self;
    fn ln(self) -> Self;
    fn sqrt(self) -> Self;
    fn tanh(self) -> Self;
    fn cos(self) -> Self;
    fn abs(self) -> Self;
    fn powi(self, n: i32) -> Self;
    /// e^x for x ≤ 0, in a form a loop can vectorise: [`vector_math`](crate::vector_math)'s
    /// polynomial for f32 (the engine), libm for f64 (the oracle).
    fn exp_nonpositive(self) -> Self;
    /// ln(1 + x) for x in [0, 1], likewise.
    fn ln_1p_unit(self) -> Self;

    fn zero() -> Self {
        Self::from_f64(0.0)
    }
    fn one() -> Self {
        Self::from_f64(1.0)
    }
    fn max(self, other: Self) -> Self {
        if self > other {
            self
        } else {
            other
        }
    }
    fn signum_or_zero(self) -> Self {
        if self > Self::zero() {
            Self::one()
        } else if self < Self::zero() {
            -Self::one()
        } else {
            Self::zero()
        }
    }
}

macro_rules! impl_real {
    ($t:ty, $exp_nonpositive:expr, $ln_1p_unit:expr) => {
        impl Real for $t {
            #[inline]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            #[inline]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            fn exp(self) -> Self {
                <$t>::exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                <$t>::ln(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                <$t>::sqrt(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                <$t>::tanh(self)
            }
            #[inline]
            fn cos(self) -> Self {
                <$t>::cos(self)
            }
            #[inline]
            fn abs(self) -> Self {
                <$t>::abs(self)
            }
            #[inline]
            fn powi(self, n: i32) -> Self {
                <$t>::powi(self, n)
            }
            #[inline(always)]
            fn exp_nonpositive(self) -> Self {
                $exp_nonpositive(self)
            }
            #[inline(always)]
            fn ln_1p_unit(self) -> Self {
                $ln_1p_unit(self)
            }
        }
    };
}

impl_real!(f32, crate::vector_math::exp_nonpositive, crate::vector_math::ln_1p_unit);
impl_real!(f64, f64::exp, f64::ln_1p);
