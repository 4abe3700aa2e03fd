#!/usr/bin/env python3
"""Reference run of Latent Lab's reference VAE in JAX + Optax, a mainstream framework.

Same model (784-400-20, ReLU, Bernoulli likelihood, Glorot-uniform weights, zero biases), same data
(the project's MNIST asset), same split and visiting order (from `latent data mnist-split`), same
optimizer (Adam 1e-3, β₁ 0.9, β₂ 0.999, ε 1e-8), same batch (128, wrapping around the training list
exactly like the gather kernel), same budget (steps), and the same held-out metric: the single-sample
negative ELBO (nats per digit) over whole batches of the test list (1,920 of the 2,000 digits).

Run through scripts/reference/run (it installs JAX into a virtual environment first):
    scripts/reference/run --steps 630
Prints one JSON line: {"framework": ..., "steps": ..., "test_negative_elbo": ...}.

With --speed it times the training loop instead (after a warm-up that compiles the step) and prints
{"framework": ..., "steps": ..., "steps_per_second": ...}; scripts/bench-vs-jax runs it pinned to one
core with XLA single-threaded, and on every core.
"""
import argparse
import json
import struct
import subprocess
import time
import zlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

BATCH = 128


def load_asset(path):
    raw = open(path, "rb").read()
    if raw[:8] != b"LLMNIST1":
        raise SystemExit(f"{path}: not a Latent Lab MNIST asset")
    count, rows, cols, length, crc = struct.unpack_from("<5I", raw, 8)
    payload = zlib.decompress(raw[28:])
    if len(payload) != length or zlib.crc32(payload) != crc:
        raise SystemExit(f"{path}: corrupt payload")
    pixels = np.frombuffer(payload[count:], dtype=np.uint8).reshape(count, rows * cols)
    return pixels.astype(np.float32) / 255.0


def glorot(key, fan_in, fan_out):
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, (fan_in, fan_out), jnp.float32, -bound, bound)


def init(key, widths_enc, widths_dec):
    params = []
    for widths in (widths_enc, widths_dec):
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            key, sub = jax.random.split(key)
            layers.append((glorot(sub, a, b), jnp.zeros((b,), jnp.float32)))
        params.append(layers)
    return params


def mlp(layers, x):
    for i, (w, b) in enumerate(layers):
        x = x @ w + b
        if i + 1 < len(layers):
            x = jax.nn.relu(x)
    return x


def negative_elbo(params, x, eps):
    enc, dec = params
    h = mlp(enc, x)
    latent = eps.shape[1]
    mu, logvar = h[:, :latent], h[:, latent:]
    z = mu + jnp.exp(0.5 * logvar) * eps
    logits = mlp(dec, z)
    recon = jnp.sum(jax.nn.softplus(logits) - x * logits, axis=1)
    kl = 0.5 * jnp.sum(mu * mu + jnp.exp(logvar) - 1.0 - logvar, axis=1)
    return jnp.mean(recon + kl)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--asset", default="www/assets/mnist-10k.bin")
    parser.add_argument("--latent-bin", default="target/release/latent")
    parser.add_argument("--steps", type=int, default=630)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--speed", action="store_true", help="time the training steps instead of scoring the model")
    args = parser.parse_args()

    split = json.loads(subprocess.run([args.latent_bin, "data", "mnist-split"], check=True, capture_output=True, text=True).stdout)
    data = load_asset(args.asset)
    train, test = np.array(split["train"]), np.array(split["test"])
    key = jax.random.PRNGKey(args.seed)
    key, sub = jax.random.split(key)
    params = init(sub, [784, 400, 40], [20, 400, 784])
    opt = optax.adam(1e-3, b1=0.9, b2=0.999, eps=1e-8)
    state = opt.init(params)

    @jax.jit
    def step(params, state, x, eps):
        loss, grads = jax.value_and_grad(negative_elbo)(params, x, eps)
        updates, state = opt.update(grads, state, params)
        return optax.apply_updates(params, updates), state, loss

    def train_steps(first, count, params, state, key):
        for s in range(first, first + count):
            rows = train[(s * BATCH + np.arange(BATCH)) % len(train)]
            key, sub = jax.random.split(key)
            params, state, _ = step(params, state, data[rows], jax.random.normal(sub, (BATCH, 20)))
        return params, state, key

    if args.speed:
        # The same loop a user writes; the warm-up compiles the step, the timing waits for the last one.
        params, state, key = train_steps(0, 10, params, state, key)
        jax.block_until_ready(params)
        start = time.perf_counter()
        params, state, key = train_steps(10, args.steps, params, state, key)
        jax.block_until_ready(params)
        rate = args.steps / (time.perf_counter() - start)
        print(json.dumps({"framework": f"jax {jax.__version__} + optax {optax.__version__}", "steps": args.steps,
                          "steps_per_second": round(rate, 2)}))
        return

    params, state, key = train_steps(0, args.steps, params, state, key)

    chunks = len(test) // BATCH
    total = 0.0
    for c in range(chunks):
        key, sub = jax.random.split(key)
        total += float(negative_elbo(params, data[test[c * BATCH:(c + 1) * BATCH]], jax.random.normal(sub, (BATCH, 20))))
    print(json.dumps({"framework": f"jax {jax.__version__} + optax {optax.__version__}", "steps": args.steps, "seed": args.seed,
                      "test_rows": chunks * BATCH, "test_negative_elbo": round(total / chunks, 3)}))


if __name__ == "__main__":
    main()
