// The TensorFlow.js side of the per-product matmul comparison: tf.matMul on every product of one
// reference-VAE step, timed exactly as the app's `?bench=matmul` mode times our kernel
// (latent_gpu::bench::time_matmul):
//
//   warm-up   one product, read back, so compilation and allocation are behind us
//   timed     `repeats` products in a row, then a 1-element read of the last one, which waits for
//             all of them; repeats start at 1 and grow (doubling, or jumping once a run is long
//             enough to extrapolate) until one run lasts MIN_SECONDS; GFLOP/s = 2·m·k·n·repeats / time
//
// Transposed products use matMul's own transposeA/transposeB flags, so each backend takes its
// best path (no explicit transpose). Query: backend=webgpu|webgl|cpu|wasm (default webgl).
'use strict';

/* global tf, startBackend, describeBackend, publish, showStatus */

const MIN_SECONDS = 0.5;
const MAX_REPEATS = 1 << 16;

/// The products of one reference-VAE step (784-400-20, batch 128), as latent_gpu::bench::VAE_STEP:
/// [what, form, transposeA, transposeB, m, k, n].
const VAE_STEP = [
  ['encoder X·W₁', 'A·B', false, false, 128, 784, 400],
  ['decoder H·W₄', 'A·B', false, false, 128, 400, 784],
  ['grad W₁ = Xᵀ·dH', 'Aᵀ·B', true, false, 784, 128, 400],
  ['grad W₄ = Hᵀ·dY', 'Aᵀ·B', true, false, 400, 128, 784],
  ['grad H = dY·W₄ᵀ', 'A·Bᵀ', false, true, 128, 784, 400],
  ['encoder head H·W₂', 'A·B', false, false, 128, 400, 40],
];

const backendName = new URLSearchParams(location.search).get('backend') || 'webgl';

/// Runs `repeats` products and waits for them through a 1-element read of the last; seconds taken.
async function timeProducts(a, b, transposeA, transposeB, repeats) {
  const start = performance.now();
  let last = null;
  for (let i = 0; i < repeats; i++) {
    if (last) last.dispose();
    last = tf.matMul(a, b, transposeA, transposeB);
  }
  const corner = tf.slice(last, [0, 0], [1, 1]);
  await corner.data();
  corner.dispose();
  last.dispose();
  return (performance.now() - start) / 1000;
}

async function timeShape([what, form, transposeA, transposeB, m, k, n]) {
  const a = tf.randomUniform(transposeA ? [k, m] : [m, k], -1, 1, 'float32', 7);
  const b = tf.randomUniform(transposeB ? [n, k] : [k, n], -1, 1, 'float32', 8);
  await timeProducts(a, b, transposeA, transposeB, 1);
  let repeats = 1;
  for (;;) {
    const seconds = await timeProducts(a, b, transposeA, transposeB, repeats);
    if (seconds >= MIN_SECONDS || repeats >= MAX_REPEATS) {
      a.dispose();
      b.dispose();
      const gflops = (2 * m * k * n * repeats) / seconds / 1e9;
      return { what, form, m, k, n, repeats, seconds: Number(seconds.toFixed(4)), gflops: Number(gflops.toFixed(3)) };
    }
    const factor = seconds > 0.01 ? Math.ceil(MIN_SECONDS / seconds) : 2;
    repeats = Math.min(repeats * Math.min(Math.max(factor, 2), 64), MAX_REPEATS);
  }
}

async function main() {
  showStatus(`starting the ${backendName} backend…`);
  await startBackend(backendName);
  const tensorsBefore = tf.memory().numTensors;
  const shapes = [];
  for (const shape of VAE_STEP) {
    showStatus(`timing ${shape[0]}…`);
    shapes.push(await timeShape(shape));
  }
  const { adapter, software } = await describeBackend(backendName);
  return {
    benchmark: 'tfjs-matmul',
    engine: backendName,
    adapter,
    software_adapter: software,
    min_seconds: MIN_SECONDS,
    shapes,
    tensor_growth: tf.memory().numTensors - tensorsBefore,
    tfjs_version: tf.version_core,
  };
}

publish(main());
