//! Pipeline creation on the adapter at hand, and errors that come back as values (never a panic or
//! a GPU validation error).

use anyhow::{anyhow, bail};
use latent_core::ops::optimizer::AdamConfig;
use latent_core::ops::MatmulForm;
use latent_gpu::ops::{AdamBuffers, DropoutSpec, MatmulSpec, ParamRange};
use latent_gpu::params::{KlParams, OptimizerParams};
use latent_gpu::{MatmulVariant, Schedule};

use crate::harness::{Check, Harness};

/// Reaching this point means every shader compiled on this adapter (the harness builds them all).
pub async fn kernels_compile(h: &Harness) -> Check {
    let summary = h.ctx.summary();
    let expected = MatmulVariant::for_adapter(summary.is_software, h.ctx.subgroup_size());
    if h.kernels.preferred_matmul() != expected {
        bail!("{summary} should prefer {expected:?}, prefers {:?}", h.kernels.preferred_matmul());
    }
    h.no_gpu_errors()
}

/// Where the adapter offers subgroups of 4 or more invocations, the context must have asked for them
/// and report a size, and the subgroup matmul must be available. In the browser this is what the
/// `requestDevice` wrapper is for (wgpu 30 cannot ask for the feature there), so the offer is read
/// from the browser's own adapter, not from wgpu.
pub async fn subgroups_are_used_where_offered(h: &Harness) -> Check {
    let offered = adapter_offers_subgroups(h).await;
    let available = h.kernels.available_matmuls().contains(&MatmulVariant::Subgroup);
    match (offered, h.ctx.subgroup_size(), available) {
        (true, Some(size), true) if size >= 4 => Ok(()),
        (false, None, false) => Ok(()),
        (offered, size, available) => Err(anyhow!(
            "{}: adapter offers subgroups of 4+: {offered}; context subgroup size {size:?}; subgroup matmul available: {available}",
            h.ctx.summary()
        )),
    }
}

#[cfg(not(target_arch = "wasm32"))]
async fn adapter_offers_subgroups(h: &Harness) -> bool {
    let info = h.ctx.adapter.get_info();
    h.ctx.adapter.features().contains(latent_gpu::wgpu::Features::SUBGROUP) && info.subgroup_min_size >= 4
}

#[cfg(target_arch = "wasm32")]
async fn adapter_offers_subgroups(_h: &Harness) -> bool {
    use js_sys::{Function, Promise, Reflect};
    use wasm_bindgen::{JsCast as _, JsValue};

    let get = |target: &JsValue, key: &str| Reflect::get(target, &JsValue::from_str(key)).ok().filter(|v| !v.is_undefined() && !v.is_null());
    let Some(gpu) = get(&js_sys::global(), "navigator").and_then(|n| get(&n, "gpu")) else { return false };
    let Some(request) = get(&gpu, "requestAdapter").and_then(|f| f.dyn_into::<Function>().ok()) else { return false };
    let Some(promise) = request.call0(&gpu).ok().and_then(|p| p.dyn_into::<Promise>().ok()) else { return false };
    let Some(adapter) = wasm_bindgen_futures::JsFuture::from(promise).await.ok().filter(|a| !a.is_null()) else { return false };
    let has = get(&adapter, "features")
        .and_then(|f| get(&f, "has").and_then(|has| has.dyn_into::<Function>().ok()).map(|has| (f, has)))
        .and_then(|(f, has)| has.call1(&f, &JsValue::from_str("subgroups")).ok())
        .is_some_and(|v| v.is_truthy());
    let min_size = get(&adapter, "info").and_then(|i| get(&i, "subgroupMinSize")).and_then(|v| v.as_f64()).unwrap_or(0.0);
    has && min_size >= 4.0
}

pub(crate) fn expect_err<E: std::fmt::Display>(what: &str, result: Result<impl std::fmt::Debug, E>, needles: &[&str]) -> Check {
    match result {
        Ok(value) => Err(anyhow!("{what}: expected an error, got {value:?}")),
        Err(e) => {
            let message = e.to_string();
            match needles.iter().find(|n| !message.contains(*n)) {
                Some(missing) => Err(anyhow!("{what}: message `{message}` does not mention `{missing}`")),
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
    let buffers = AdamBuffers { weights: &w, grads: &g, m: &m, v: &v, counters: &counters, counter_index: 0 };
    expect_err("NaN learning rate", k.adam(buffers, ParamRange::all(&w), nan_lr), &["learning rate"])?;
    expect_err("range past the end", k.adam(buffers, ParamRange { offset: 4, len: 8 }, AdamConfig::default()), &["does not fit"])?;
    // A knob change rewrites a recorded block through the same checks as its build.
    let mut schedule = Schedule::new("retune");
    let adam = schedule.push_tuned::<OptimizerParams>(k.adam(buffers, ParamRange::all(&w), AdamConfig::default())?)?;
    let nan = |block: &mut OptimizerParams| {
        block.set_adam(nan_lr);
        Ok(())
    };
    expect_err("NaN learning rate on a knob change", schedule.retune(&h.ctx, adam, nan), &["learning rate"])?;
    expect_err("a block of another kernel", schedule.push_tuned::<KlParams>(k.adam(buffers, ParamRange::all(&w), AdamConfig::default())?), &["does not hold"])?;
    expect_err("odd posterior width", k.kl_forward(&z("h", 2, 5)?, &z("kl", 1, 2)?, 1.0), &["2·latent"])?;
    // Nothing above may have reached the GPU as an invalid call.
    h.no_gpu_errors()
}
