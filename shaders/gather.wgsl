// gather.wgsl: builds a minibatch from a dataset that lives on the GPU, by an index buffer.
// Row r of the batch is dataset row indices[index_first + (index_base + cursor·rows + r) mod index_len], where
// cursor = counters[counter_index] when use_counter != 0 (so each replayed step takes the next
// slice of a shuffled index list) and 0 otherwise.
//   gather_u8:  out[r, c] = byte(data, src·cols + c) / 255   (pixels stored 4 per u32 word)
//   gather_f32: out[r, c] = points[src·cols + c]
// Bindings (group 0):
//   0 data      storage, read        u8 pixels packed little-endian into array<u32> (gather_u8)
//   1 indices   storage, read        array<u32> of dataset rows
//   2 counters  storage, read        step counters
//   3 out       storage, read_write  rows×cols f32
//   4 blocks    storage, read        one GatherParams per model (mirrors latent_gpu::params::GatherParams)
//   5 points    storage, read        f32 rows (gather_f32)
// Workgroup size 256; dispatch linear_workgroups(rows·cols), × K in z for K batched models (a sweep):
// model z = workgroup z reads its own index list (blocks[z]: where it starts in `indices`, its
// length, a fold's training rows) into its own block of `rows` rows of `out`, so its batch is the
// batch it gathers alone. Includes: lib/indexing.wgsl, lib/model.wgsl.

struct GatherParams {
    rows: u32,
    cols: u32,
    index_len: u32,
    index_base: u32,
    counter_index: u32,
    use_counter: u32,
    // Where the model's index list starts in `indices`.
    index_first: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<storage, read> data: array<u32>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read> counters: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> blocks: array<GatherParams>;
@group(0) @binding(5) var<storage, read> points: array<f32>;

// The dataset row that batch row `r` reads. The host keeps index_len·rows below 2³² (no overflow).
fn source_row(params: GatherParams, r: u32) -> u32 {
    var cursor = 0u;
    if (params.use_counter != 0u) {
        cursor = counters[params.counter_index] % params.index_len;
    }
    let position = (params.index_base % params.index_len + cursor * params.rows + r) % params.index_len; // ⓘ batch
    return indices[params.index_first + position];
}

@compute @workgroup_size(256)
fn gather_u8(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let model = model_of(gid);
    let params = blocks[model];
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.cols) {
        return;
    }
    let r = e / params.cols;
    let c = e % params.cols;
    let byte_index = source_row(params, r) * params.cols + c;
    let word = data[byte_index / 4u];
    let byte = (word >> ((byte_index % 4u) * 8u)) & 0xFFu;
    out[model * params.rows * params.cols + e] = f32(byte) / 255.0;
}

@compute @workgroup_size(256)
fn gather_f32(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let model = model_of(gid);
    let params = blocks[model];
    let e = flat_index(gid, groups);
    if (e >= params.rows * params.cols) {
        return;
    }
    let r = e / params.cols;
    let c = e % params.cols;
    out[model * params.rows * params.cols + e] = points[source_row(params, r) * params.cols + c];
}
