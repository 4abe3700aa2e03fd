// activation.wgsl: element-wise activations (forward) and their gradients (backward).
//   forward:  out[e] (+)= f(x[e])
//   backward: out[e] (+)= dy[e] · f'(y[e]), with y = f(x) the stored forward output
// Includes: lib/activation.wgsl, lib/indexing.wgsl.
// Bindings (group 0):
//   0 x       storage, read        forward input x, or (backward) the forward output y
//   1 dy      storage, read        upstream gradient (backward only)
//   2 out     storage, read_write  result
//   3 params  uniform              ElementwiseParams (mirrors latent_gpu::params::ElementwiseParams)
// Workgroup size: 256. Dispatch: linear_workgroups(len) (x, y) spread; see lib/indexing.wgsl.

struct ElementwiseParams {
    len: u32,
    activation: u32,
    accumulate: u32,
    _pad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: ElementwiseParams;

fn write(e: u32, value: f32) {
    if (params.accumulate != 0u) {
        out[e] += value;
    } else {
        out[e] = value;
    }
}

@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.len) {
        return;
    }
    write(e, activate(params.activation, x[e]));
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let e = flat_index(gid, groups);
    if (e >= params.len) {
        return;
    }
    write(e, dy[e] * activation_derivative(params.activation, x[e]));
}
