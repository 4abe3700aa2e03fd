// loss_bce.wgsl: Bernoulli likelihood of pixels, i.e. binary cross-entropy on logits.
//   forward:  out[i] = Σⱼ softplus(l[i,j]) − t[i,j]·l[i,j]      (per-sample loss, rows values)
//   backward: out[e] (+)= scale · (σ(l[e]) − t[e])               (gradient w.r.t. the logits)
// Includes: lib/loss_params.wgsl, lib/activation.wgsl (softplus, stable_sigmoid), lib/indexing.wgsl.
// Bindings (group 0):
//   0 logits   storage, read        rows×cols
//   1 targets  storage, read        rows×cols, in [0, 1]
//   2 out      storage, read_write  rows (forward) or rows×cols (backward)
//   3 params   uniform              LossParams (mirrors latent_gpu::params::LossParams)
// forward: workgroup 64, dispatch (ceil(rows / 64), 1, 1); columns summed in order.
// backward: workgroup 256, dispatch linear_workgroups(rows·cols).

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> targets: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: LossParams;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let row = gid.x;
    if (row >= params.rows) {
        return;
    }
    var acc = 0.0;
    for (var col = 0u; col < params.cols; col++) {
        let e = row * params.cols + col;
        let l = logits[e];
        acc += softplus(l) - targets[e] * l; // ⓘ recon
    }
    out[row] = acc;
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.cols) {
        return;
    }
    var value = params.scale * (stable_sigmoid(logits[e]) - targets[e]);
    if (params.accumulate != 0u) {
        value += out[e];
    }
    out[e] = value;
}
