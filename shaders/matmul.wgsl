// matmul.wgsl: C (+)= epilogue(op(A)·op(B)), register-blocked and barrier-free.
// Each invocation computes a 4×4 block of C straight from global memory, with no workgroup memory
// and no barriers: the fastest shape on software adapters (lavapipe, SwiftShader), where an
// invocation is a SIMD lane of a CPU core and barriers are expensive.
// Includes: lib/rng.wgsl, lib/activation.wgsl, lib/model.wgsl, lib/matmul_common.wgsl (bindings 0-5 and MatmulParams are there).
// Workgroup size: (WG_X, WG_Y) overrides, default 16×4 = 64 invocations.
// Dispatch: (ceil(n / (4·WG_X)), ceil(m / (4·WG_Y)), models).

override WG_X: u32 = 16u;
override WG_Y: u32 = 4u;

@compute @workgroup_size(WG_X, WG_Y)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    enter_model(model_of(gid));
    let row0 = gid.y * 4u;
    let col0 = gid.x * 4u;
    if (row0 >= params.m || col0 >= params.n) {
        return;
    }
    // Clamp edge indices instead of branching in the inner loop; store_c drops the duplicates.
    let last_row = params.m - 1u;
    let last_col = params.n - 1u;
    let r = vec4<u32>(row0, min(row0 + 1u, last_row), min(row0 + 2u, last_row), min(row0 + 3u, last_row));
    let cidx = vec4<u32>(col0, min(col0 + 1u, last_col), min(col0 + 2u, last_col), min(col0 + 3u, last_col));
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var kk = 0u; kk < params.k; kk++) {
        let bv = vec4<f32>(load_b(kk, cidx.x), load_b(kk, cidx.y), load_b(kk, cidx.z), load_b(kk, cidx.w));
        acc0 = fma(vec4<f32>(load_a(r.x, kk)), bv, acc0);
        acc1 = fma(vec4<f32>(load_a(r.y, kk)), bv, acc1);
        acc2 = fma(vec4<f32>(load_a(r.z, kk)), bv, acc2);
        acc3 = fma(vec4<f32>(load_a(r.w, kk)), bv, acc3);
    }
    var rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var i = 0u; i < 4u; i++) {
        let acc = rows[i];
        store_c(row0 + i, col0, acc.x);
        store_c(row0 + i, col0 + 1u, acc.y);
        store_c(row0 + i, col0 + 2u, acc.z);
        store_c(row0 + i, col0 + 3u, acc.w);
    }
}
