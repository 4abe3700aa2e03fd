// optimizer.wgsl: parameter updates over a slice of a flat parameter buffer, one dispatch per network,
// or per network of K batched models (a sweep): model z = workgroup z reads its own block
// blocks[z] (its slice, counter and knobs), so each model's update is its update alone.
//   adam: t = counters[counter_index] + 1 (steps done so far, read on the GPU so replays need no
//         uniform write); m = β₁m + (1−β₁)g; v = β₂v + (1−β₂)g²;
//         w −= lr · (m / (1 − β₁ᵗ)) / (sqrt(v / (1 − β₂ᵗ)) + ε)
//   sgd:  velocity = momentum·velocity + g; w −= lr · velocity   (velocity lives in m)
// Bindings (group 0):
//   0 weights   storage, read_write  flat parameters
//   1 grads     storage, read        flat gradients
//   2 m         storage, read_write  first moment (Adam) or velocity (SGD)
//   3 v         storage, read_write  second moment (Adam only)
//   4 counters  storage, read        step counters (Adam only)
//   5 blocks    storage, read        one OptimizerParams per model (mirrors latent_gpu::params::OptimizerParams)
// Workgroup size 256, RUN elements per invocation; dispatch linear_workgroups(longest len / RUN) × K in z. Includes: lib/indexing.wgsl, lib/runs.wgsl, lib/model.wgsl.

struct OptimizerParams {
    offset: u32,
    len: u32,
    counter_index: u32,
    _pad0: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    momentum: f32,
    _pad1: u32,
    _pad2: u32,
    _pad3: u32,
}

@group(0) @binding(0) var<storage, read_write> weights: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<storage, read> counters: array<u32>;
@group(0) @binding(5) var<storage, read> blocks: array<OptimizerParams>;

@compute @workgroup_size(256)
fn adam(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let params = blocks[model_of(wid)];
    let t = f32(counters[params.counter_index] + 1u);
    let first = run_start(lane, wid, groups);
    for (var k = 0u; k < RUN; k++) {
        let local = first + k * LINEAR_WORKGROUP;
        if (local >= params.len) {
            return;
        }
        let e = params.offset + local;
        let g = grads[e];
        let m_new = params.beta1 * m[e] + (1.0 - params.beta1) * g; // ⓘ adam
        let v_new = params.beta2 * v[e] + (1.0 - params.beta2) * g * g; // ⓘ adam
        m[e] = m_new;
        v[e] = v_new;
        let m_hat = m_new / (1.0 - pow(params.beta1, t)); // ⓘ adam
        let v_hat = v_new / (1.0 - pow(params.beta2, t)); // ⓘ adam
        weights[e] -= params.lr * m_hat / (sqrt(v_hat) + params.eps); // ⓘ adam
    }
}

@compute @workgroup_size(256)
fn sgd(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let params = blocks[model_of(wid)];
    let first = run_start(lane, wid, groups);
    for (var k = 0u; k < RUN; k++) {
        let local = first + k * LINEAR_WORKGROUP;
        if (local >= params.len) {
            return;
        }
        let e = params.offset + local;
        let velocity = params.momentum * m[e] + grads[e];
        m[e] = velocity;
        weights[e] -= params.lr * velocity;
    }
}
