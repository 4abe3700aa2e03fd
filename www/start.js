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

// Offline use: the service worker (sw.js) caches this version of the site once the app runs, so
// its install never competes with the first start. 'off' where the site is served by scripts/serve,
// which rebuilds on every change. A browser without module service workers just stays online-only.
const SERVICE_WORKER = '@SERVICE_WORKER@';
if (SERVICE_WORKER !== 'off' && 'serviceWorker' in navigator) {
    navigator.serviceWorker.register(SERVICE_WORKER, { type: 'module', scope: './' })
        .then((registration) => {
            document.documentElement.dataset.offline = 'registered';
            // A new deploy is looked for on every online visit: the browser's own check after a
            // navigation came late or not at all (a scenario saw the old cache kept past 120 s).
            if (navigator.onLine) {
                registration.update().catch(() => {});
            }
        })
        .catch((error) => console.warn(`Latent Lab works online only here: ${error}`));
}
