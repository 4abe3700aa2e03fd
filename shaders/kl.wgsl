// kl.wgsl: KL(N(μ, σ²) ‖ N(0, I)) of the VAE posterior, per latent dimension, and its gradient.
// h = [μ | logσ²] is the encoder's rows×(2·latent) output.
//   forward:  kl_per_dim[d] = scale · Σᵢ ½(μ² + σ² − 1 − logσ²)     (rows summed in order)
//   backward: dh[i, d] (+)= scale·μ;  dh[i, latent + d] (+)= scale·½(σ² − 1)
// Bindings (group 0):
//   0 h       storage, read        rows×(2·latent)
//   1 out     storage, read_write  latent values (forward) or rows×(2·latent) gradient (backward)
//   2 params  uniform              KlParams (mirrors latent_gpu::params::KlParams)
// forward: workgroup 64, dispatch (ceil(latent / 64), 1, 1).
// backward: workgroup 256, dispatch linear_workgroups(rows·latent).
// Includes: lib/indexing.wgsl, lib/posterior.wgsl.

struct KlParams {
    rows: u32,
    latent: u32,
    accumulate: u32,
    _pad0: u32,
    scale: f32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
}

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: KlParams;

fn write(index: u32, value: f32) {
    if (params.accumulate != 0u) {
        out[index] += value;
    } else {
        out[index] = value;
    }
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let d = gid.x;
    if (d >= params.latent) {
        return;
    }
    let width = 2u * params.latent;
    var acc = 0.0;
    for (var i = 0u; i < params.rows; i++) {
        let mu = h[i * width + d];
        let logvar = h[i * width + params.latent + d];
        acc += 0.5 * (mu * mu + exp(logvar) - 1.0 - logvar); // ⓘ kl
    }
    write(d, params.scale * acc); // ⓘ kl
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.latent) {
        return;
    }
    let at = posterior_indices(e, params.latent);
    write(at.x, params.scale * h[at.x]); // ⓘ beta
    write(at.y, params.scale * 0.5 * (exp(h[at.y]) - 1.0)); // ⓘ beta
}
