// The TensorFlow.js side of Latent Lab's speed comparison.
//
// Why this page exists: "is our hand-written WGSL faster than a general framework?" only has an
// answer if both sides train the same model under the same clock. This page trains Latent Lab's
// reference VAE (784-400-20, ReLU, Bernoulli likelihood, Adam lr 1e-3, batch 128, beta 1), or with
// `model=gan` its 2D GAN, with TF.js, and times it exactly as the app's `?bench=N` mode does:
//
//   time to first step  performance.now() (ms since navigation start) when the first step's loss
//                       has been read back, so the step really ran on the device
//   warm-up             3 more steps, untimed, so shader compilation and allocation are behind us
//   timed               N steps, reading the loss back every 10 steps (as the app's page does at
//                       speed) and at the end; steps/s = N / their wall time
//
// and writes the same JSON object into #bench-result (data-state "done" or "error") for the
// WebDriver harness (tests/browser/src/bin/bench_vs_tfjs.rs) to collect. Backend start-up and the
// report are shared with matmul.js, in backend.js.
//
// Query: backend=webgpu|webgl|cpu|wasm (default webgl), steps=N (default 50), model=vae|gan.
//
// The model is written with the framework's own idioms, so TF.js gets its best path, not a strawman:
// tf.fused.matMul (what tf.layers.dense runs: matmul + bias + activation in one kernel where the
// backend can), tf.losses.sigmoidCrossEntropy, optimizer.minimize (tf.variableGrads under the hood)
// inside tf.tidy so no step leaks a tensor. The JSON adds `tensor_growth`, the change in live tensors
// over the timed steps, which must be 0.
'use strict';

/* global tf */

const WARMUP_STEPS = 3;
const STEPS_PER_READBACK = 10;
const BATCH = 128;
/// Fixed batches cycled through in training. The data's content does not matter for speed (every
/// step does the same arithmetic on any input), so the VAE sees random binary pixels, not MNIST,
/// and the page needs no dataset download.
const DATA_BATCHES = 8;

const params = new URLSearchParams(location.search);
const backend = params.get('backend') || 'webgl';
const steps = Math.max(1, parseInt(params.get('steps') || '50', 10) || 50);
const modelKind = params.get('model') === 'gan' ? 'gan' : 'vae';

/// A seeded generator (mulberry32), so both models start from the same weights and data every run.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/// One dense layer's variables, He-initialised (the scale does not change the work per step).
function dense(fanIn, fanOut, seed) {
  return {
    w: tf.variable(tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn), 'float32', seed)),
    b: tf.variable(tf.zeros([fanOut])),
  };
}

/// matmul + bias (+ relu) as one fused op; TF.js has fused gradients for 'linear' and 'relu' only.
function apply(layer, x, activation = 'linear') {
  return tf.fused.matMul({ a: x, b: layer.w, bias: layer.b, activation });
}

const vars = (...layers) => layers.flatMap((l) => [l.w, l.b]);

/// The reference VAE. Returns { name, step(wantLoss) → loss scalar or null }.
function buildVae() {
  const [dataDim, hidden, latent] = [784, 400, 20];
  const next = rng(1);
  const batches = [];
  for (let i = 0; i < DATA_BATCHES; i++) {
    const pixels = new Float32Array(BATCH * dataDim);
    for (let j = 0; j < pixels.length; j++) pixels[j] = next() < 0.5 ? 1 : 0;
    batches.push(tf.tensor2d(pixels, [BATCH, dataDim]));
  }
  // The encoder's last layer emits [μ | logσ²] in one 400→40 matmul, as the app's encoder does.
  const enc1 = dense(dataDim, hidden, 11);
  const enc2 = dense(hidden, 2 * latent, 12);
  const dec1 = dense(latent, hidden, 13);
  const dec2 = dense(hidden, dataDim, 14);
  const varList = vars(enc1, enc2, dec1, dec2);
  const optimizer = tf.train.adam(1e-3);
  let t = 0;

  const loss = (x) => () => {
    const stats = apply(enc2, apply(enc1, x, 'relu'));
    const [mu, logVar] = tf.split(stats, 2, 1);
    const eps = tf.randomNormal([BATCH, latent]);
    const z = mu.add(tf.exp(logVar.mul(0.5)).mul(eps));
    const logits = apply(dec2, apply(dec1, z, 'relu'));
    // Bernoulli likelihood: sigmoid cross-entropy with logits, summed over pixels and batch.
    const reconstruction = tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.SUM);
    // KL(q(z|x) ‖ N(0, I)) = ½ Σ (exp(logσ²) + μ² − 1 − logσ²), summed over latents and batch.
    const kl = tf.exp(logVar).add(mu.square()).sub(1).sub(logVar).sum().mul(0.5);
    return reconstruction.add(kl).div(BATCH);
  };

  return {
    name: `vae 784-${hidden}-${latent}`,
    step(wantLoss) {
      const x = batches[t++ % DATA_BATCHES];
      return tf.tidy(() => optimizer.minimize(loss(x), wantLoss, varList));
    },
  };
}

/// The 2D GAN: G 2-64-64-2 (ReLU) against D 2-64-64-1 (LeakyReLU 0.2), non-saturating loss, one D
/// step and one G step per round; a "step" below is one round, as in the app's GAN benchmark.
function buildGan() {
  const next = rng(2);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  // Ring of 8 Gaussians of radius 2 (the app's Ring8), noise 0.05.
  const batches = [];
  for (let i = 0; i < DATA_BATCHES; i++) {
    const points = new Float32Array(BATCH * 2);
    for (let j = 0; j < BATCH; j++) {
      const angle = (2 * Math.PI * Math.floor(next() * 8)) / 8;
      points[2 * j] = 2 * Math.cos(angle) + 0.05 * gauss();
      points[2 * j + 1] = 2 * Math.sin(angle) + 0.05 * gauss();
    }
    batches.push(tf.tensor2d(points, [BATCH, 2]));
  }
  const g = [dense(2, 64, 21), dense(64, 64, 22), dense(64, 2, 23)];
  const d = [dense(2, 64, 31), dense(64, 64, 32), dense(64, 1, 33)];
  const generate = (z) => apply(g[2], apply(g[1], apply(g[0], z, 'relu'), 'relu'));
  // LeakyReLU has no fused gradient in TF.js, so D applies it after the fused matmul + bias,
  // exactly as tf.layers would (a Dense layer followed by a LeakyReLU layer).
  const leaky = (layer, x) => tf.leakyRelu(apply(layer, x), 0.2);
  const discriminate = (x) => apply(d[2], leaky(d[1], leaky(d[0], x)));
  const dOptimizer = tf.train.adam(1e-3, 0.5);
  const gOptimizer = tf.train.adam(1e-3, 0.5);
  const [dVars, gVars] = [vars(...d), vars(...g)];
  let t = 0;

  // −log σ(D(x)) − log(1 − σ(D(G(z)))) = softplus(−D(x)) + softplus(D(G(z))), batch means.
  const dLoss = (real) => () => {
    const fake = generate(tf.randomNormal([BATCH, 2]));
    return tf.softplus(discriminate(real).neg()).mean().add(tf.softplus(discriminate(fake)).mean());
  };
  // Non-saturating generator loss −log σ(D(G(z))); gradients flow through D into G.
  const gLoss = () => tf.softplus(discriminate(generate(tf.randomNormal([BATCH, 2]))).neg()).mean();

  return {
    name: 'gan 2-64-64-2 vs 2-64-64-1 (rounds of 1 D + 1 G step)',
    step(wantLoss) {
      const real = batches[t++ % DATA_BATCHES];
      return tf.tidy(() => {
        const dCost = dOptimizer.minimize(dLoss(real), wantLoss, dVars);
        const gCost = gOptimizer.minimize(gLoss, wantLoss, gVars);
        // The app reports a GAN's loss as D loss + G loss.
        return wantLoss ? dCost.add(gCost) : null;
      });
    },
  };
}

/// Trains `n` steps and reads back the last step's loss: one readback per call, as the app does.
async function train(model, n) {
  for (let i = 0; i < n - 1; i++) model.step(false);
  const loss = model.step(true);
  const [value] = await loss.data();
  loss.dispose();
  return value;
}

/// Kernels one step launches, from tf.profile (run after the timing, so it costs the timing nothing).
/// A kernel is not quite a dispatch (reshapes launch nothing; some ops launch several), hence its own name.
async function kernelsPerStep(model) {
  try {
    const profile = await tf.profile(() => model.step(false));
    return profile.kernels.length;
  } catch (error) {
    console.warn('tf.profile failed:', error);
    return null;
  }
}

async function main() {
  showStatus(`starting the ${backend} backend…`);
  await startBackend(backend);
  const builtAt = performance.now();
  const model = modelKind === 'gan' ? buildGan() : buildVae();
  showStatus('first step…');
  await train(model, 1);
  const firstStepMs = performance.now();
  showStatus('warming up…');
  await train(model, WARMUP_STEPS);
  const tensorsBefore = tf.memory().numTensors;
  showStatus(`timing ${steps} steps…`);
  const started = performance.now();
  let done = 0;
  let loss = NaN;
  while (done < steps) {
    const n = Math.min(STEPS_PER_READBACK, steps - done);
    loss = await train(model, n);
    done += n;
  }
  const seconds = (performance.now() - started) / 1000;
  const tensorGrowth = tf.memory().numTensors - tensorsBefore;
  const { adapter, software } = await describeBackend(backend);
  return {
    benchmark: 'tfjs',
    model: model.name,
    batch: BATCH,
    engine: backend,
    adapter,
    software_adapter: software,
    steps,
    seconds: Number(seconds.toFixed(3)),
    steps_per_second: Number((steps / Math.max(seconds, 1e-9)).toFixed(3)),
    dispatches_per_step: null,
    kernels_per_step: await kernelsPerStep(model),
    time_to_first_step_ms: Math.round(firstStepMs),
    build_to_first_step_ms: Math.round(firstStepMs - builtAt),
    final_loss: Number.isFinite(loss) ? loss : null,
    tensor_growth: tensorGrowth,
    tfjs_version: tf.version_core,
  };
}

publish(main());
