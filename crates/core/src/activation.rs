//! Activation functions and their derivatives, expressed through the activation's *output*.
//!
//! Writing every derivative in terms of y = f(x) lets the backward pass keep only the layer output
//! (no pre-activation buffer) and lets the matmul kernel fuse `dX ⊙ f'(y)` into its epilogue.

use crate::real::Real;

/// Negative-side slope of [`Activation::LeakyRelu`] (the value GAN papers use).
pub const LEAKY_SLOPE: f64 = 0.2;

/// The activations the kernels implement; `code()` is the value the WGSL side switches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Activation {
    Identity,
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
}

impl Activation {
    pub const ALL: [Activation; 5] = [Self::Identity, Self::Relu, Self::LeakyRelu, Self::Tanh, Self::Sigmoid];

    /// The code shared with `shaders/lib/activation.wgsl`.
    pub fn code(self) -> u32 {
        match self {
            Self::Identity => 0,
            Self::Relu => 1,
            Self::LeakyRelu => 2,
            Self::Tanh => 3,
            Self::Sigmoid => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Relu => "relu",
            Self::LeakyRelu => "leaky_relu",
            Self::Tanh => "tanh",
            Self::Sigmoid => "sigmoid",
        }
    }

    /// y = f(x).
    pub fn apply<T: Real>(self, x: T) -> T {
        match self {
            Self::Identity => x,
            Self::Relu => x.max(T::zero()),
            Self::LeakyRelu => {
                if x > T::zero() {
                    x
                } else {
                    x * T::from_f64(LEAKY_SLOPE)
                }
            }
            Self::Tanh => x.tanh(),
            Self::Sigmoid => sigmoid(x),
        }
    }

    /// f'(x) written as a function of y = f(x).
    pub fn derivative_from_output<T: Real>(self, y: T) -> T {
        match self {
            Self::Identity => T::one(),
            Self::Relu => {
                if y > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Self::LeakyRelu => {
                if y > T::zero() {
                    T::one()
                } else {
                    T::from_f64(LEAKY_SLOPE)
                }
            }
            Self::Tanh => T::one() - y * y,
            Self::Sigmoid => y * (T::one() - y),
        }
    }
}

/// Logistic sigmoid, stable for large |x|: from e^(−|x|), as 1/(1 + e) or e/(1 + e).
#[inline(always)]
pub fn sigmoid<T: Real>(x: T) -> T {
    sigmoid_from(x, (-x.abs()).exp_nonpositive())
}

/// σ(x) given e = e^(−|x|), which softplus shares.
#[inline(always)]
pub fn sigmoid_from<T: Real>(x: T, e: T) -> T {
    let numerator = if x >= T::zero() { T::one() } else { e };
    numerator / (T::one() + e)
}

/// softplus(x) = ln(1 + eˣ) = max(x, 0) + ln(1 + e^(−|x|)), stable for large |x|.
#[inline(always)]
pub fn softplus<T: Real>(x: T) -> T {
    softplus_from(x, (-x.abs()).exp_nonpositive())
}

/// softplus(x) given e = e^(−|x|).
#[inline(always)]
pub fn softplus_from<T: Real>(x: T, e: T) -> T {
    x.max(T::zero()) + e.ln_1p_unit()
}
