// loss_gaussian.wgsl: Gaussian likelihood with fixed variance for 2D points (MSE up to a constant).
//   forward:  out[i] = ½ · inv_var · Σⱼ (y[i,j] − t[i,j])²       (per-sample loss, rows values)
//   backward: out[e] (+)= scale · inv_var · (y[e] − t[e])
// inv_var (1/σ²) travels in LossParams.aux.
// Includes: lib/loss_params.wgsl, lib/indexing.wgsl.
// Bindings (group 0):
//   0 outputs  storage, read        rows×cols model outputs
//   1 targets  storage, read        rows×cols
//   2 out      storage, read_write  rows (forward) or rows×cols (backward)
//   3 params   uniform              LossParams (mirrors latent_gpu::params::LossParams)
// forward: workgroup 64, dispatch (ceil(rows / 64), 1, 1). backward: workgroup 256, linear_workgroups(rows·cols).

@group(0) @binding(0) var<storage, read> outputs: array<f32>;
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
        let d = outputs[row * params.cols + col] - targets[row * params.cols + col];
        acc += d * d; // ⓘ recon
    }
    out[row] = 0.5 * params.aux * acc; // ⓘ recon
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.cols) {
        return;
    }
    var value = params.scale * params.aux * (outputs[e] - targets[e]);
    if (params.accumulate != 0u) {
        value += out[e];
    }
    out[e] = value;
}
