// reparam.wgsl: the reparameterization trick z = μ + exp(½·logσ²)·ε, ε ~ N(0, I) drawn on the GPU.
// ε comes from the counter-based RNG keyed by (seed, stream) at counter (element, step), with step read
// from the GPU step counters, so a recorded schedule draws fresh noise every replay with no uniform
// write. With sample = 0 it returns z = μ (evaluation) and ε = 0.
//   forward:  z[i,d] = μ + exp(½·logσ²)·ε;  eps[i,d] = ε
//   backward: dh[i,d] (+)= dz[i,d];  dh[i, latent+d] (+)= dz[i,d]·ε·½·exp(½·logσ²)
// Includes: lib/rng.wgsl, lib/indexing.wgsl, lib/posterior.wgsl.
// Bindings (group 0):
//   0 h         storage, read        rows×(2·latent) = [μ | logσ²]
//   1 z         storage, read_write  rows×latent (forward)
//   2 eps       storage, read_write  rows×latent: written by forward, read by backward
//   3 counters  storage, read        step counters (array<u32>); counter_index picks this network's
//   4 params    uniform              ReparamParams (mirrors latent_gpu::params::ReparamParams)
//   5 dz        storage, read        rows×latent upstream gradient (backward)
//   6 dh        storage, read_write  rows×(2·latent) gradient (backward)
// Workgroup size 256; dispatch linear_workgroups(rows·latent) for both entry points, × K in z for
// K batched models (a sweep): h, z, eps, dz and dh then hold the models' blocks of `rows` rows one
// after another, and model z = workgroup z numbers its noise from its own first element, so it
// draws exactly the noise it draws alone (the same seed, stream and step).

struct ReparamParams {
    rows: u32,
    latent: u32,
    seed: u32,
    stream: u32,
    counter_index: u32,
    sample: u32,
    accumulate: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> eps: array<f32>;
@group(0) @binding(3) var<storage, read> counters: array<u32>;
@group(0) @binding(4) var<uniform> params: ReparamParams;
@group(0) @binding(5) var<storage, read> dz: array<f32>;
@group(0) @binding(6) var<storage, read_write> dh: array<f32>;

fn write_dh(index: u32, value: f32) {
    if (params.accumulate != 0u) {
        dh[index] += value;
    } else {
        dh[index] = value;
    }
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.latent) {
        return;
    }
    let first = gid.z * params.rows * params.latent;
    let at = posterior_indices(e, params.latent) + vec2<u32>(2u * first);
    let mu = h[at.x];
    let logvar = h[at.y];
    var noise = 0.0;
    if (params.sample != 0u) {
        noise = rng_normal(vec2<u32>(params.seed, params.stream), e, counters[params.counter_index]);
    }
    eps[first + e] = noise;
    z[first + e] = mu + exp(0.5 * logvar) * noise; // ⓘ reparam
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.latent) {
        return;
    }
    let first = gid.z * params.rows * params.latent;
    let at = posterior_indices(e, params.latent) + vec2<u32>(2u * first);
    let g = dz[first + e];
    write_dh(at.x, g);
    write_dh(at.y, g * eps[first + e] * 0.5 * exp(0.5 * h[at.y]));
}
