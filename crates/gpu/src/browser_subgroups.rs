//! Asks the browser for WebGPU's `subgroups` feature, which wgpu 30 cannot ask for: its WebGPU
//! backend has no mapping from `Features::SUBGROUP` to the feature's name, so `request_device`
//! never lists it, and a shader that says `enable subgroups;` is then refused.
//!
//! The work-around wraps this global's `navigator.gpu.requestAdapter` once: each adapter it gives
//! wgpu gets a `requestDevice` of its own that adds `subgroups` to the requested features whenever
//! the adapter offers it, and remembers whether the last request got them. It is written with
//! `js_sys` and closures rather than a JavaScript snippet: the engine opens WebGPU in the page's
//! worker, whose `no-modules` bindings cannot import snippets, and no script is evaluated, so the
//! page's Content-Security-Policy stays as strict as it is. It changes nothing for adapters without
//! the feature. Remove it when wgpu maps the feature.

use std::cell::Cell;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

const SUBGROUPS: &str = "subgroups";
/// Set on `navigator.gpu` once its `requestAdapter` is wrapped.
const WRAPPED: &str = "latentLabAddsSubgroups";

thread_local! {
    static LAST_GRANTED: Cell<bool> = const { Cell::new(false) };
}

/// `target[key]`, where it is something.
fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok().filter(|value| !value.is_undefined() && !value.is_null())
}

/// `target[key](argument)`, as a method call.
fn call(target: &JsValue, key: &str, argument: &JsValue) -> Option<JsValue> {
    get(target, key)?.dyn_into::<Function>().ok()?.call1(target, argument).ok()
}

/// `promise.then(on_value)`, whose own promise gives what `on_value` returns (`js_sys`'s `then`
/// takes callbacks that return nothing).
fn then(promise: JsValue, on_value: Closure<dyn FnMut(JsValue) -> JsValue>) -> JsValue {
    call(&promise, "then", &on_value.into_js_value()).unwrap_or(promise)
}

/// Whether a `GPUAdapter` or `GPUDevice` has the feature.
fn has_subgroups(holder: &JsValue) -> bool {
    get(holder, "features").and_then(|features| call(&features, "has", &JsValue::from_str(SUBGROUPS))).is_some_and(|has| has.is_truthy())
}

/// Makes every later device request include `subgroups` where the adapter offers it.
pub(crate) fn request_subgroups_from_now_on() {
    let Some(gpu) = get(&js_sys::global(), "navigator").and_then(|navigator| get(&navigator, "gpu")) else { return };
    if get(&gpu, WRAPPED).is_some() {
        return;
    }
    let Some(original) = get(&gpu, "requestAdapter").and_then(|f| f.dyn_into::<Function>().ok()) else { return };
    let target = gpu.clone();
    let wrapper = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |options: JsValue| match original.call1(&target, &options) {
        Ok(adapter) => then(adapter, Closure::new(ask_for_subgroups)),
        Err(e) => js_sys::Promise::reject(&e).into(),
    });
    // The wrapper lives as long as the page or worker: it is installed once.
    let installed = Reflect::set(&gpu, &JsValue::from_str("requestAdapter"), &wrapper.into_js_value()).is_ok();
    if installed {
        Reflect::set(&gpu, &JsValue::from_str(WRAPPED), &JsValue::TRUE).ok();
    }
}

/// Gives `adapter` a `requestDevice` that adds `subgroups` to the features asked for, where it
/// offers them; returns the adapter.
fn ask_for_subgroups(adapter: JsValue) -> JsValue {
    let original = get(&adapter, "requestDevice").and_then(|f| f.dyn_into::<Function>().ok());
    let (Some(original), true) = (original, has_subgroups(&adapter)) else { return adapter };
    let target = adapter.clone();
    let request = Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |descriptor: JsValue| {
        LAST_GRANTED.set(false);
        let asked = Object::assign(&Object::new(), descriptor.dyn_ref::<Object>().unwrap_or(&Object::new()));
        let features = get(&descriptor, "requiredFeatures").map_or_else(Array::new, |list| Array::from(&list));
        features.push(&JsValue::from_str(SUBGROUPS));
        Reflect::set(&asked, &JsValue::from_str("requiredFeatures"), &features).ok();
        match original.call1(&target, &asked) {
            Ok(device) => then(
                device,
                Closure::new(|device: JsValue| {
                    LAST_GRANTED.set(has_subgroups(&device));
                    device
                }),
            ),
            Err(e) => js_sys::Promise::reject(&e).into(),
        }
    });
    Reflect::set(&adapter, &JsValue::from_str("requestDevice"), &request.into_js_value()).ok();
    adapter
}

/// Whether the device the last request returned has subgroups.
pub(crate) fn last_device_has_subgroups() -> bool {
    LAST_GRANTED.get()
}
