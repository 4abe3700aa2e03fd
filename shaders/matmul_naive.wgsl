// matmul_naive.wgsl: C (+)= epilogue(op(A)·op(B)), one output per invocation: the baseline the
// benchmark compares the blocked and tiled variants against (and a third opinion in the tests).
// Includes: lib/rng.wgsl, lib/activation.wgsl, lib/model.wgsl, lib/matmul_common.wgsl (bindings 0-5 and MatmulParams are there).
// Workgroup size: 16×16. Dispatch: (ceil(n / 16), ceil(m / 16), models).

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    enter_model(model_of(gid));
    let row = gid.y;
    let col = gid.x;
    if (row >= params.m || col >= params.n) {
        return;
    }
    var acc = 0.0;
    for (var kk = 0u; kk < params.k; kk++) {
        acc = fma(load_a(row, kk), load_b(kk, col), acc);
    }
    store_c(row, col, acc);
}
