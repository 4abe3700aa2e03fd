// matmul_tiled.wgsl: C (+)= epilogue(op(A)·op(B)) with 64×64 output tiles staged through
// workgroup memory: the shape real GPUs favour (each global load is reused 64 times from fast memory).
// Each of the 16×16 invocations computes a 4×4 sub-block, strided by 16 so that neighbouring
// invocations read neighbouring workgroup-memory words.
// Includes: lib/rng.wgsl, lib/activation.wgsl, lib/model.wgsl, lib/matmul_common.wgsl (bindings 0-5 and MatmulParams are there).
// Workgroup size: 16×16 = 256 invocations; workgroup memory: 2 × 16 × 64 f32 = 8 KiB.
// Dispatch: (ceil(n / 64), ceil(m / 64), models).

const TILE: u32 = 64u;
const DEPTH: u32 = 16u;

var<workgroup> tile_a: array<f32, 1024>; // [DEPTH][TILE]: A's tile stored k-major
var<workgroup> tile_b: array<f32, 1024>; // [DEPTH][TILE]

@compute @workgroup_size(16, 16)
fn main(
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(local_invocation_id) lid: vec3<u32>,
) {
    enter_model(model_of(wid));
    let tile_row = wid.y * TILE;
    let tile_col = wid.x * TILE;
    let thread = lid.y * 16u + lid.x;
    var acc: array<vec4<f32>, 4>;
    for (var i = 0u; i < 4u; i++) {
        acc[i] = vec4<f32>(0.0);
    }
    for (var k0 = 0u; k0 < params.k; k0 += DEPTH) {
        // 1024 elements per tile, 4 per invocation; zero outside the matrices.
        for (var e = 0u; e < 4u; e++) {
            let slot = thread + e * 256u;
            let kk = slot / TILE;
            let offset = slot % TILE;
            let row = tile_row + offset;
            let col = tile_col + offset;
            let k_in = k0 + kk < params.k;
            var av = 0.0;
            if (k_in && row < params.m) {
                av = load_a(row, k0 + kk);
            }
            var bv = 0.0;
            if (k_in && col < params.n) {
                bv = load_b(k0 + kk, col);
            }
            tile_a[slot] = av;
            tile_b[slot] = bv;
        }
        workgroupBarrier();
        for (var kk = 0u; kk < DEPTH; kk++) {
            let base = kk * TILE;
            let bv = vec4<f32>(
                tile_b[base + lid.x],
                tile_b[base + lid.x + 16u],
                tile_b[base + lid.x + 32u],
                tile_b[base + lid.x + 48u],
            );
            for (var i = 0u; i < 4u; i++) {
                acc[i] = fma(vec4<f32>(tile_a[base + lid.y + 16u * i]), bv, acc[i]);
            }
        }
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let row = tile_row + lid.y + 16u * i;
        let v = acc[i];
        store_c(row, tile_col + lid.x, v.x);
        store_c(row, tile_col + lid.x + 16u, v.y);
        store_c(row, tile_col + lid.x + 32u, v.z);
        store_c(row, tile_col + lid.x + 48u, v.w);
    }
}
