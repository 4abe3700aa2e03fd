// Latent Lab's Web Worker (crates/app/src/sweep.rs starts one per share of a sweep,
// crates/app/src/engine_worker.rs one for the page's engine, WebGPU or the CPU twin): loads the
// worker build of Latent Lab (crates/worker, which Trunk builds beside the page as latent-worker.js
// and latent-worker_bg.wasm) and hands it each message: a sweep's job, a request to show a member
// it trained, or a call to the engine and its models. Messages that arrive while the module loads wait for it here, so the
// page need not wait for a "ready" message. A classic worker script from the page's own origin: the
// page's Content-Security-Policy allows it with no blob: or inline script.
//
// The page names the worker after the build start.js picked for this browser ("relaxed-simd" where
// it runs relaxed SIMD, else "portable"), so sweeps and the CPU engine train with relaxed SIMD where
// they can.
const build = self.name === 'relaxed-simd' ? './latent-worker-relaxed-simd' : './latent-worker';
importScripts(`${build}.js`);

const ready = wasm_bindgen({ module_or_path: `${build}_bg.wasm` });

self.onmessage = async (event) => {
    try {
        await ready;
    } catch (error) {
        self.postMessage(`the worker could not load its module: ${error}`);
        return;
    }
    // A call to the engine is an array [numbers, text, floats]; a sweep's job is a string (JSON); a
    // request for one trained member's pictures is [value, fold, across] (across NaN for a sweep of
    // one knob); `?bench=matmul` asks { timeCpuMatmul: seconds } (the timings come back) or
    // { timeGpuMatmul: seconds } ([adapter, kernel, timings]).
    if (Array.isArray(event.data)) {
        wasm_bindgen.serve_engine(event.data);
    } else if (event.data instanceof Float64Array) {
        await wasm_bindgen.show_member(event.data[0], event.data[1], event.data.length > 2 ? event.data[2] : NaN);
    } else if (typeof event.data === 'object' && event.data !== null && 'timeCpuMatmul' in event.data) {
        try {
            self.postMessage(wasm_bindgen.time_cpu_matmul(event.data.timeCpuMatmul));
        } catch (error) {
            self.postMessage(`the CPU matmul benchmark failed: ${error}`);
        }
    } else if (typeof event.data === 'object' && event.data !== null && 'timeGpuMatmul' in event.data) {
        try {
            self.postMessage(await wasm_bindgen.time_gpu_matmul(event.data.timeGpuMatmul));
        } catch (error) {
            self.postMessage(`the WebGPU matmul benchmark failed: ${error}`);
        }
    } else {
        await wasm_bindgen.train_sweep_part(event.data);
    }
};
