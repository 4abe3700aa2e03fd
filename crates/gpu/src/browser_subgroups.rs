//! Asks the browser for WebGPU's `subgroups` feature, which wgpu 30 cannot ask for: its WebGPU
//! backend has no mapping from `Features::SUBGROUP` to the feature's name, so `request_device`
//! never lists it, and a shader that says `enable subgroups;` is then refused.
//!
//! The work-around is one small wrapper around `GPUAdapter.prototype.requestDevice`, installed once,
//! that adds `subgroups` to the requested features whenever the adapter offers it, and remembers
//! whether the last request did. It is a script module of our own (served from 'self', so the
//! page's Content-Security-Policy stays as strict as it is), and it changes nothing for adapters
//! without the feature. Remove it when wgpu maps the feature.

use wasm_bindgen::prelude::wasm_bindgen;

#[wasm_bindgen(inline_js = r#"
let lastGranted = false;
export function installSubgroupRequest() {
    const proto = globalThis.GPUAdapter && globalThis.GPUAdapter.prototype;
    if (!proto || proto.latentLabAddsSubgroups) return;
    const original = proto.requestDevice;
    proto.requestDevice = function (descriptor) {
        lastGranted = false;
        if (!this.features || !this.features.has('subgroups')) {
            return original.call(this, descriptor);
        }
        const requiredFeatures = [...((descriptor && descriptor.requiredFeatures) || []), 'subgroups'];
        return original.call(this, { ...descriptor, requiredFeatures }).then((device) => {
            lastGranted = device.features.has('subgroups');
            return device;
        });
    };
    proto.latentLabAddsSubgroups = true;
}
export function lastDeviceHasSubgroups() {
    return lastGranted;
}
"#)]
extern "C" {
    /// Makes every later device request include `subgroups` where the adapter offers it.
    #[wasm_bindgen(js_name = installSubgroupRequest)]
    pub(crate) fn request_subgroups_from_now_on();
    /// Whether the device the last request returned has subgroups.
    #[wasm_bindgen(js_name = lastDeviceHasSubgroups)]
    pub(crate) fn last_device_has_subgroups() -> bool;
}
