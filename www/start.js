// Latent Lab's start-up in release builds (scripts/trunk/relaxed-simd-build puts it in place of the
// one Trunk writes): picks the workers' build (relaxed SIMD where the browser can run it, else the
// portable one), then starts the app.
import { APP, pickWorker } from './wasm-build.js';

// A page that cannot start says so where its loading line was, instead of staying blank (an old
// browser without WebAssembly, a module the network cut short).
function cannotStart(error) {
    const line = document.getElementById('loading');
    if (line) {
        line.classList.add('failed');
        line.setAttribute('role', 'alert');
        line.textContent = `Latent Lab could not start: ${error}. It runs in a current Chrome, Edge, Firefox or Safari; if the connection dropped, reloading may help.`;
    }
    throw error;
}

const worker = typeof WebAssembly === 'object' ? pickWorker(WebAssembly.validate) : cannotStart('it has no WebAssembly');
// Which build the page's workers run, read by the app when it names a worker (and by the page's
// tests, and anyone comparing speeds): set before the app starts.
document.documentElement.dataset.workerBuild = worker.name;
const bindings = await import(APP.js).catch(cannotStart);
const wasm = await bindings.default({ module_or_path: APP.wasm }).catch(cannotStart);
window.wasmBindings = bindings;
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
