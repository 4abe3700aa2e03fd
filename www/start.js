// Latent Lab's start-up in release builds (scripts/trunk/relaxed-simd-build puts it in place of the
// one Trunk writes): the relaxed-SIMD build where the browser can run it, else the portable one.
import { pick } from './wasm-build.js';

const build = pick(WebAssembly.validate);
const bindings = await import(build.js);
const wasm = await bindings.default({ module_or_path: build.wasm });
window.wasmBindings = bindings;
// Which build runs, for the page's tests and for anyone comparing speeds.
document.documentElement.dataset.wasmBuild = build.name;
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
