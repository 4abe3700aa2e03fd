// matmul_subgroup.wgsl: C (+)= epilogue(op(A)·op(B)) for software adapters with subgroups.
// Includes: lib/rng.wgsl, lib/activation.wgsl, lib/model.wgsl, lib/matmul_common.wgsl (bindings 0-5 and MatmulParams are there).
// Needs the subgroups feature with subgroups of at least 4 invocations (the browser also needs
// `enable subgroups;`, which Kernels prepends on the web: naga does not accept the directive).
// Workgroup size: WG (an override: the adapter's subgroup size, at least 4).
// Dispatch: (ceil(n / (8·WG)), ceil(m / 16), models).
//
// Why this shape: on lavapipe and SwiftShader an invocation is one SIMD lane of a CPU core, and every
// load from a storage buffer is a gather, lane by lane, costing far more than the multiply-adds it
// feeds. So each invocation keeps a 16×8 block of C in registers (32 vec4 accumulators), and the four
// lanes of each subgroup quad load four different rows of A and share them with subgroupBroadcast,
// which is a register shuffle: per k, a lane gathers 4 values of A and 8 of B for 128 multiply-adds,
// against 4 + 4 for 16 in matmul.wgsl. On the reference VAE's large products this measured 4.1-4.6x
// matmul.wgsl on lavapipe and 1.9-2.3x on SwiftShader in Chromium.
//
// Rows of the block: row0 + 4g + i (g = row group 0..3, i = 0..3, lane i of the quad loads it).
// Columns of the block: col0 + j·WG (j = 0..7), so neighbouring invocations own neighbouring columns.
// Edge rows and columns are clamped for loading and dropped by store_c.

override WG: u32 = 4u;

// The quad's four values of `v`, one per lane, to every lane.
fn from_quad(v: f32) -> vec4<f32> {
    return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}

@compute @workgroup_size(WG)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
    @builtin(subgroup_invocation_id) lane: u32,
) {
    enter_model(model_of(group));
    let row0 = group.y * 16u;
    let col0 = group.x * 8u * WG + local;
    let rows = min(vec4<u32>(row0 + (lane & 3u)) + vec4<u32>(0u, 4u, 8u, 12u), vec4<u32>(params.m - 1u));
    let cols_lo = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u) * WG, vec4<u32>(params.n - 1u));
    let cols_hi = min(vec4<u32>(col0) + vec4<u32>(4u, 5u, 6u, 7u) * WG, vec4<u32>(params.n - 1u));
    // Element (row, kk) of op(A) sits at a_row[row] + kk·a_step, (kk, col) of op(B) at
    // b_col[col] + kk·b_step: the index arithmetic leaves the loop, whose body is loads and FMAs.
    let a_row = a_base + select(rows * params.k, rows, TRANS_A);
    let a_step = select(1u, params.m, TRANS_A);
    let b_lo = b_base + select(cols_lo, cols_lo * params.k, TRANS_B);
    let b_hi = b_base + select(cols_hi, cols_hi * params.k, TRANS_B);
    let b_step = select(params.n, 1u, TRANS_B);
    // acc_g_j: rows row0 + 4g .. + 3 of column j.
    var acc0_0 = vec4<f32>(0.0); var acc1_0 = vec4<f32>(0.0); var acc2_0 = vec4<f32>(0.0); var acc3_0 = vec4<f32>(0.0);
    var acc0_1 = vec4<f32>(0.0); var acc1_1 = vec4<f32>(0.0); var acc2_1 = vec4<f32>(0.0); var acc3_1 = vec4<f32>(0.0);
    var acc0_2 = vec4<f32>(0.0); var acc1_2 = vec4<f32>(0.0); var acc2_2 = vec4<f32>(0.0); var acc3_2 = vec4<f32>(0.0);
    var acc0_3 = vec4<f32>(0.0); var acc1_3 = vec4<f32>(0.0); var acc2_3 = vec4<f32>(0.0); var acc3_3 = vec4<f32>(0.0);
    var acc0_4 = vec4<f32>(0.0); var acc1_4 = vec4<f32>(0.0); var acc2_4 = vec4<f32>(0.0); var acc3_4 = vec4<f32>(0.0);
    var acc0_5 = vec4<f32>(0.0); var acc1_5 = vec4<f32>(0.0); var acc2_5 = vec4<f32>(0.0); var acc3_5 = vec4<f32>(0.0);
    var acc0_6 = vec4<f32>(0.0); var acc1_6 = vec4<f32>(0.0); var acc2_6 = vec4<f32>(0.0); var acc3_6 = vec4<f32>(0.0);
    var acc0_7 = vec4<f32>(0.0); var acc1_7 = vec4<f32>(0.0); var acc2_7 = vec4<f32>(0.0); var acc3_7 = vec4<f32>(0.0);
    for (var kk = 0u; kk < params.k; kk++) {
        let ia = a_row + vec4<u32>(kk * a_step);
        let a0 = from_quad(a[ia.x]);
        let a1 = from_quad(a[ia.y]);
        let a2 = from_quad(a[ia.z]);
        let a3 = from_quad(a[ia.w]);
        let kb = vec4<u32>(kk * b_step);
        let ilo = b_lo + kb;
        let ihi = b_hi + kb;
        // One column at a time keeps a single B value live beside the 32 accumulators.
        var bv = vec4<f32>(b[ilo.x]);
        acc0_0 = fma(a0, bv, acc0_0); acc1_0 = fma(a1, bv, acc1_0); acc2_0 = fma(a2, bv, acc2_0); acc3_0 = fma(a3, bv, acc3_0);
        bv = vec4<f32>(b[ilo.y]);
        acc0_1 = fma(a0, bv, acc0_1); acc1_1 = fma(a1, bv, acc1_1); acc2_1 = fma(a2, bv, acc2_1); acc3_1 = fma(a3, bv, acc3_1);
        bv = vec4<f32>(b[ilo.z]);
        acc0_2 = fma(a0, bv, acc0_2); acc1_2 = fma(a1, bv, acc1_2); acc2_2 = fma(a2, bv, acc2_2); acc3_2 = fma(a3, bv, acc3_2);
        bv = vec4<f32>(b[ilo.w]);
        acc0_3 = fma(a0, bv, acc0_3); acc1_3 = fma(a1, bv, acc1_3); acc2_3 = fma(a2, bv, acc2_3); acc3_3 = fma(a3, bv, acc3_3);
        bv = vec4<f32>(b[ihi.x]);
        acc0_4 = fma(a0, bv, acc0_4); acc1_4 = fma(a1, bv, acc1_4); acc2_4 = fma(a2, bv, acc2_4); acc3_4 = fma(a3, bv, acc3_4);
        bv = vec4<f32>(b[ihi.y]);
        acc0_5 = fma(a0, bv, acc0_5); acc1_5 = fma(a1, bv, acc1_5); acc2_5 = fma(a2, bv, acc2_5); acc3_5 = fma(a3, bv, acc3_5);
        bv = vec4<f32>(b[ihi.z]);
        acc0_6 = fma(a0, bv, acc0_6); acc1_6 = fma(a1, bv, acc1_6); acc2_6 = fma(a2, bv, acc2_6); acc3_6 = fma(a3, bv, acc3_6);
        bv = vec4<f32>(b[ihi.w]);
        acc0_7 = fma(a0, bv, acc0_7); acc1_7 = fma(a1, bv, acc1_7); acc2_7 = fma(a2, bv, acc2_7); acc3_7 = fma(a3, bv, acc3_7);
    }
    // Stored through one call site, the accumulators rotating past it: store_c inlines the whole
    // epilogue (activations, the dropout hash), and 128 inlined copies took SwiftShader 35 s to
    // compile per pipeline; indexing an array of the accumulators instead halved the speed at k = 128.
    for (var i = 0u; i < 32u; i++) {
        let rows_from = row0 + (i % 4u) * 4u;
        let col = col0 + (i / 4u) * WG;
        for (var r = 0u; r < 4u; r++) {
            store_c(rows_from + r, col, acc0_0[r]);
        }
        let first = acc0_0;
        acc0_0 = acc1_0; acc1_0 = acc2_0; acc2_0 = acc3_0; acc3_0 = acc0_1;
        acc0_1 = acc1_1; acc1_1 = acc2_1; acc2_1 = acc3_1; acc3_1 = acc0_2;
        acc0_2 = acc1_2; acc1_2 = acc2_2; acc2_2 = acc3_2; acc3_2 = acc0_3;
        acc0_3 = acc1_3; acc1_3 = acc2_3; acc2_3 = acc3_3; acc3_3 = acc0_4;
        acc0_4 = acc1_4; acc1_4 = acc2_4; acc2_4 = acc3_4; acc3_4 = acc0_5;
        acc0_5 = acc1_5; acc1_5 = acc2_5; acc2_5 = acc3_5; acc3_5 = acc0_6;
        acc0_6 = acc1_6; acc1_6 = acc2_6; acc2_6 = acc3_6; acc3_6 = acc0_7;
        acc0_7 = acc1_7; acc1_7 = acc2_7; acc2_7 = acc3_7;
        acc3_7 = first;
    }
}
