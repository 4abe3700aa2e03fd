//! Pipeline creation on the adapter at hand, and errors that come back as values (never a panic or
//! a GPU validation error).

use latent_core::ops::MatmulForm;
use latent_core::ops::optimizer::AdamConfig;
use latent_gpu::ops::{DropoutSpec, MatmulSpec, ParamRange};
use latent_gpu::{GpuError, MatmulVariant};

use crate::harness::{Check, Harness};

/// Reaching this point means every shader compiled on this adapter (the harness builds them all).
pub async fn kernels_compile(h: &Harness) -> Check {
    let summary = h.ctx.summary();
    let expected = MatmulVariant::for_adapter(summary.is_software, h.ctx.subgroup_size());
    if h.kernels.preferred_matmul() != expected {
        return Err(format!("{summary} should prefer {expected:?}, prefers {:?}", h.kernels.preferred_matmul()));
    }
    h.no_gpu_errors()
}

pub(crate) fn expect_err(what: &str, result: Result<impl std::fmt::Debug, GpuError>, needles: &[&str]) -> Check {
    match result {
        Ok(value) => Err(format!("{what}: expected an error, got {value:?}")),
        Err(e) => {
            let message = e.to_string();
            match needles.iter().find(|n| !message.contains(*n)) {
                Some(missing) => Err(format!("{what}: message `{message}` does not mention `{missing}`")),
                None => Ok(()),
            }
        }
    }
}

pub async fn errors_are_values(h: &Harness) -> Check {
    let z = |label: &str, r: usize, c: usize| h.zeros(label, r, c);
    let (a, b, c) = (z("a", 3, 4)?, z("b", 5, 6)?, z("c", 3, 6)?);
    let k = &h.kernels;
    expect_err("matmul shape mismatch", k.matmul(&a, &b, &c, MatmulSpec::new(MatmulForm::Nn)), &["3×4", "5×6"])?;
    let b4 = z("b4", 4, 6)?;
    let wrong_c = z("wrong_c", 6, 3)?;
    expect_err("matmul output shape", k.matmul(&a, &b4, &wrong_c, MatmulSpec::new(MatmulForm::Nn)), &["3×6", "6×3"])?;
    let square = z("square", 4, 4)?;
    expect_err("aliased output", k.matmul(&square, &square, &square, MatmulSpec::new(MatmulForm::Nn)), &["also an input"])?;
    expect_err("huge buffer", h.ctx.zeros("huge", 1 << 15, 1 << 15), &["huge", "bytes"])?;
    expect_err("empty shape", h.ctx.zeros("empty", 0, 5), &["empty"])?;
    expect_err("upload length", h.ctx.upload_f32("short", 2, 2, &[1.0]), &["2×2", "1 values"])?;
    let counters = h.counters(&[0])?;
    let (x, y, mask) = (z("x", 2, 2)?, z("y", 2, 2)?, z("mask", 2, 2)?);
    expect_err("dropout p = 1", k.dropout_forward(&x, &y, &mask, &counters, DropoutSpec { p: 1.0, seed: 0, stream: 0, counter_index: 0 }), &["probability"])?;
    expect_err("counter out of range", k.advance_counter(&counters, 3, 1), &["counter 3"])?;
    let (w, g, m, v) = (z("w", 1, 8)?, z("g", 1, 8)?, z("m", 1, 8)?, z("v", 1, 8)?);
    let nan_lr = AdamConfig { lr: f32::NAN, ..AdamConfig::default() };
    expect_err("NaN learning rate", k.adam(&w, &g, &m, &v, &counters, 0, ParamRange::all(&w), nan_lr), &["learning rate"])?;
    expect_err("range past the end", k.adam(&w, &g, &m, &v, &counters, 0, ParamRange { offset: 4, len: 8 }, AdamConfig::default()), &["does not fit"])?;
    expect_err("odd posterior width", k.kl_forward(&z("h", 2, 5)?, &z("kl", 1, 2)?, 1.0), &["2·latent"])?;
    // Nothing above may have reached the GPU as an invalid call.
    h.no_gpu_errors()
}
