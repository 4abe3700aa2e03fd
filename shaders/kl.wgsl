// kl.wgsl: KL(N(μ, σ²) ‖ N(0, I)) of the VAE posterior, per latent dimension, and its gradient.
// h = [μ | logσ²] is the encoder's rows×(2·latent) output.
//   forward:  kl_per_dim[d] = scale · Σᵢ ½(μ² + σ² − 1 − logσ²)     (rows summed in order)
//   backward: dh[i, d] (+)= scale·μ;  dh[i, latent + d] (+)= scale·½(σ² − 1)
// K batched models (a sweep): h and dh hold the models' blocks of rows one after another and
// model z = workgroup z reads its own block blocks[z] (where its rows and outputs start, its
// scale β), so each model's KL and gradient are its own alone.
// Bindings (group 0):
//   0 h       storage, read        rows×(2·latent)
//   1 out     storage, read_write  latent values per model (forward) or the gradient, shaped as h (backward)
//   2 blocks  storage, read        one KlParams per model (mirrors latent_gpu::params::KlParams)
// forward: workgroup 64, dispatch (ceil(latent / 64), 1, K).
// backward: workgroup 256, dispatch linear_workgroups(rows·latent) × K in z.
// Includes: lib/indexing.wgsl, lib/posterior.wgsl, lib/model.wgsl.

struct KlParams {
    rows: u32,
    latent: u32,
    accumulate: u32,
    // The model's first element of h (and of the backward's out).
    first: u32,
    scale: f32,
    // The model's first value of the forward's out.
    out_first: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> h: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> blocks: array<KlParams>;

fn write(index: u32, value: f32, accumulate: u32) {
    if (accumulate != 0u) {
        out[index] += value;
    } else {
        out[index] = value;
    }
}

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let params = blocks[model_of(gid)];
    let d = gid.x;
    if (d >= params.latent) {
        return;
    }
    let width = 2u * params.latent;
    var acc = 0.0;
    for (var i = 0u; i < params.rows; i++) {
        let mu = h[params.first + i * width + d];
        let logvar = h[params.first + i * width + params.latent + d];
        acc += 0.5 * (mu * mu + exp(logvar) - 1.0 - logvar); // ⓘ kl
    }
    write(params.out_first + d, params.scale * acc, params.accumulate); // ⓘ kl
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let params = blocks[model_of(gid)];
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.latent) {
        return;
    }
    let at = posterior_indices(e, params.latent) + vec2<u32>(params.first);
    write(at.x, params.scale * h[at.x], params.accumulate); // ⓘ beta
    write(at.y, params.scale * 0.5 * (exp(h[at.y]) - 1.0), params.accumulate); // ⓘ beta
}
