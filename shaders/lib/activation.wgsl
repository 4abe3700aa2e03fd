// lib/activation.wgsl (include-only): activations and their derivatives written through the output
// y = f(x), so backward passes need only the stored layer output. Codes match
// crates/core/src/activation.rs (Activation::code).

const ACT_IDENTITY: u32 = 0u;
const ACT_RELU: u32 = 1u;
const ACT_LEAKY_RELU: u32 = 2u;
const ACT_TANH: u32 = 3u;
const ACT_SIGMOID: u32 = 4u;
const LEAKY_SLOPE: f32 = 0.2;

fn stable_sigmoid(x: f32) -> f32 {
    if (x >= 0.0) {
        return 1.0 / (1.0 + exp(-x));
    }
    let e = exp(x);
    return e / (1.0 + e);
}

// ln(1 + e^x) without overflow.
fn softplus(x: f32) -> f32 {
    return max(x, 0.0) + log(1.0 + exp(-abs(x)));
}

fn activate(kind: u32, x: f32) -> f32 {
    switch kind {
        case 1u: { return max(x, 0.0); } // ⓘ activation
        case 2u: { return select(LEAKY_SLOPE * x, x, x > 0.0); } // ⓘ activation
        // tanh of a large argument is NaN on some drivers (exp overflow): clamp first.
        case 3u: { return tanh(clamp(x, -15.0, 15.0)); } // ⓘ activation
        case 4u: { return stable_sigmoid(x); } // ⓘ activation
        default: { return x; } // ⓘ activation
    }
}

fn activation_derivative(kind: u32, y: f32) -> f32 {
    switch kind {
        case 1u: { return select(0.0, 1.0, y > 0.0); } // ⓘ activation
        case 2u: { return select(LEAKY_SLOPE, 1.0, y > 0.0); } // ⓘ activation
        case 3u: { return 1.0 - y * y; } // ⓘ activation
        case 4u: { return y * (1.0 - y); } // ⓘ activation
        default: { return 1.0; } // ⓘ activation
    }
}
