// dropout.wgsl: inverted dropout with an on-GPU random mask.
// An element is dropped when the 24-bit draw (lib/rng.wgsl, key (seed, stream), counter (element,
// step)) is below threshold = round(p·2²⁴); kept ones are scaled by keep_scale = 1/(1 − p), so
// evaluation needs no rescaling. The mask is stored for the backward pass.
//   forward:  mask[e] = keep ? keep_scale : 0;  y[e] = x[e]·mask[e]
//   backward: dx[e] (+)= dy[e]·mask[e]
// Includes: lib/rng.wgsl, lib/indexing.wgsl.
// Bindings (group 0):
//   0 x         storage, read        (forward)
//   1 y         storage, read_write  (forward)
//   2 mask      storage, read_write  written by forward, read by backward
//   3 counters  storage, read        step counters (forward)
//   4 params    uniform              DropoutParams (mirrors latent_gpu::params::DropoutParams)
//   5 dy        storage, read        (backward)
//   6 dx        storage, read_write  (backward)
// Workgroup size 256; dispatch linear_workgroups(len).

struct DropoutParams {
    len: u32,
    threshold: u32,
    seed: u32,
    stream: u32,
    counter_index: u32,
    accumulate: u32,
    keep_scale: f32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<storage, read_write> mask: array<f32>;
@group(0) @binding(3) var<storage, read> counters: array<u32>;
@group(0) @binding(4) var<uniform> params: DropoutParams;
@group(0) @binding(5) var<storage, read> dy: array<f32>;
@group(0) @binding(6) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.len) {
        return;
    }
    let draw = rng_bits24(vec2<u32>(params.seed, params.stream), e, counters[params.counter_index]);
    let m = select(0.0, params.keep_scale, draw >= params.threshold);
    mask[e] = m;
    y[e] = x[e] * m;
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.len) {
        return;
    }
    var value = dy[e] * mask[e];
    if (params.accumulate != 0u) {
        value += dx[e];
    }
    dx[e] = value;
}
