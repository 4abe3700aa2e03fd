// Shared by the TensorFlow.js benchmark pages (vae.js for training, matmul.js for single products):
// starting a backend from this folder's node_modules, describing what it runs on, and publishing the
// JSON report into #bench-result (data-state "done" or "error") for the WebDriver harness.
'use strict';

/* global tf */

const NODE_MODULES = 'node_modules/@tensorflow/';

/// Adds a backend that the core bundle lacks, by loading its UMD bundle from node_modules.
function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.appendChild(script);
  });
}

async function startBackend(name) {
  if (name === 'webgpu') {
    await loadScript(`${NODE_MODULES}tfjs-backend-webgpu/dist/tf-backend-webgpu.min.js`);
  } else if (name === 'wasm') {
    await loadScript(`${NODE_MODULES}tfjs-backend-wasm/dist/tf-backend-wasm.min.js`);
    // The .wasm binaries sit beside the bundle; without COOP/COEP headers the page is not
    // cross-origin isolated, so the backend picks its single-threaded (SIMD) build, like our CPU engine.
    tf.wasm.setWasmPaths(`${NODE_MODULES}tfjs-backend-wasm/dist/`);
  } else if (name !== 'webgl' && name !== 'cpu') {
    throw new Error(`unknown backend "${name}" (webgpu, webgl, cpu or wasm)`);
  }
  if (!(await tf.setBackend(name))) {
    throw new Error(`TF.js could not start its ${name} backend (see the console)`);
  }
  await tf.ready();
}

/// What ran the model: the WebGPU adapter or WebGL renderer, and whether it is a CPU in disguise.
async function describeBackend(name) {
  const software = (text) => /swiftshader|llvmpipe|lavapipe|software|basic render/i.test(text);
  if (name === 'webgpu') {
    const adapter = await navigator.gpu.requestAdapter();
    const info = (adapter && adapter.info) || {};
    const text = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
    return { adapter: text || 'unknown WebGPU adapter', software: Boolean(info.isFallbackAdapter) || software(text) };
  }
  if (name === 'webgl') {
    const gl = tf.backend().gpgpu.gl;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const text = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    return { adapter: `WebGL ${tf.env().get('WEBGL_VERSION')}: ${text}`, software: software(text) };
  }
  if (name === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return { adapter: `TF.js wasm backend (${simd ? 'SIMD' : 'no SIMD'}, ${threads ? 'threads' : 'one thread'})`, software: false };
  }
  return { adapter: 'TF.js cpu backend (JavaScript, one thread)', software: false };
}

/// Shows progress in #bench-status.
function showStatus(text) {
  document.getElementById('bench-status').textContent = text;
}

/// Writes the report `pending` resolves to (or its error) where the harness looks for it, and to
/// the console.
function publish(pending) {
  const out = document.getElementById('bench-result');
  pending.then(
    (report) => {
      out.textContent = JSON.stringify(report);
      out.dataset.state = 'done';
      showStatus('done');
      console.log(JSON.stringify(report));
    },
    (error) => {
      out.textContent = String((error && error.stack) || error);
      out.dataset.state = 'error';
      showStatus('failed');
      console.error(error);
    },
  );
}
