// penalty.wgsl: L2 and L1 weight penalties over a slice of a flat parameter buffer; or over K
// batched models' slices (a sweep), model z = workgroup z with its own block blocks[z] (slice,
// slots and strengths), so each model's penalty is its penalty alone.
// mask[e] is 1 on weights and 0 on biases (or any per-parameter weight), so one dispatch covers
// a whole network and the caller never builds per-tensor dispatches.
//   gradient: grads[e] += mask[e]·(2·l2·w[e] + l1·sign(w[e]))     for e in [offset, offset + len)
//   value:    out[out_index] (+)= l2·Σ mask·w²;  out[out_index + 1] (+)= l1·Σ mask·|w|   (fixed order;
//             added to the slots when accumulate != 0, so a metrics buffer sums over steps)
// Bindings (group 0):
//   0 weights  storage, read        flat parameter buffer
//   1 mask     storage, read        same length as weights
//   2 grads    storage, read_write  flat gradient buffer (gradient)
//   3 blocks   storage, read        one PenaltyParams per model (mirrors latent_gpu::params::PenaltyParams)
//   4 out      storage, read_write  metrics buffer (value)
// gradient: workgroup 256, RUN elements per invocation, dispatch linear_workgroups(longest len / RUN)
// × K in z. value: workgroup 256,
// dispatch (1, 1, K).
// Includes: lib/indexing.wgsl, lib/runs.wgsl, lib/model.wgsl.

struct PenaltyParams {
    offset: u32,
    len: u32,
    out_index: u32,
    accumulate: u32,
    l1: f32,
    l2: f32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> weights: array<f32>;
@group(0) @binding(1) var<storage, read> mask: array<f32>;
@group(0) @binding(2) var<storage, read_write> grads: array<f32>;
@group(0) @binding(3) var<storage, read> blocks: array<PenaltyParams>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

var<workgroup> partial_sq: array<f32, 256>;
var<workgroup> partial_abs: array<f32, 256>;

@compute @workgroup_size(256)
fn gradient(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let params = blocks[model_of(wid)];
    let first = run_start(lane, wid, groups);
    for (var k = 0u; k < RUN; k++) {
        let local = first + k * LINEAR_WORKGROUP;
        if (local >= params.len) {
            return;
        }
        let e = params.offset + local;
        let w = weights[e];
        grads[e] += mask[e] * (2.0 * params.l2 * w + params.l1 * sign(w)); // ⓘ penalty-grad
    }
}

@compute @workgroup_size(256)
fn value(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) group: vec3<u32>) {
    let params = blocks[model_of(group)];
    var sq = 0.0;
    var ab = 0.0;
    for (var local = lane; local < params.len; local += 256u) {
        let e = params.offset + local;
        let w = weights[e];
        sq += mask[e] * w * w; // ⓘ penalty
        ab += mask[e] * abs(w); // ⓘ penalty
    }
    partial_sq[lane] = sq;
    partial_abs[lane] = ab;
    workgroupBarrier();
    for (var width = 128u; width > 0u; width >>= 1u) {
        if (lane < width) {
            partial_sq[lane] += partial_sq[lane + width];
            partial_abs[lane] += partial_abs[lane + width];
        }
        workgroupBarrier();
    }
    if (lane == 0u) {
        var before = vec2<f32>(0.0, 0.0);
        if (params.accumulate != 0u) {
            before = vec2<f32>(out[params.out_index], out[params.out_index + 1u]);
        }
        out[params.out_index] = before.x + params.l2 * partial_sq[0]; // ⓘ penalty
        out[params.out_index + 1u] = before.y + params.l1 * partial_abs[0]; // ⓘ penalty
    }
}
