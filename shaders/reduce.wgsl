// reduce.wgsl: sums in a fixed order, so every run from the same seed is bit-for-bit identical
// (no float atomics anywhere).
//   column_sums: out[j] (+)= scale · Σᵢ input[i, j]        (bias gradients; input rows×cols)
//   sum_all:     out[out_index] (+)= scale · Σ input[e]    (loss and metric totals; rows·cols elements)
// Bindings (group 0):
//   0 input   storage, read
//   1 out     storage, read_write
//   2 params  uniform  ReduceParams (mirrors latent_gpu::params::ReduceParams)
// column_sums: workgroup 64, dispatch (ceil(cols / 64), 1, models); one invocation per column, rows in order.
// sum_all: workgroup 256, dispatch (1, 1, models); strided partial sums, then a fixed tree in workgroup memory.
// Batched models (a sweep's K models in one dispatch, z = model): model z's input is the z-th block of
// rows·cols values and its sums go out_stride·z further on (column_sums: out_stride = cols), so each
// model's sums are bit for bit its sums alone.

struct ReduceParams {
    rows: u32,
    cols: u32,
    out_index: u32,
    accumulate: u32,
    scale: f32,
    out_stride: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<storage, read> input: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: ReduceParams;

var<workgroup> partial: array<f32, 256>;

fn write(index: u32, total: f32) {
    let value = params.scale * total;
    if (params.accumulate != 0u) {
        out[index] += value;
    } else {
        out[index] = value;
    }
}

@compute @workgroup_size(64)
fn column_sums(@builtin(global_invocation_id) gid: vec3<u32>) {
    let col = gid.x;
    if (col >= params.cols) {
        return;
    }
    let base = gid.z * params.rows * params.cols;
    var acc = 0.0;
    for (var row = 0u; row < params.rows; row++) {
        acc += input[base + row * params.cols + col];
    }
    write(gid.z * params.out_stride + col, acc);
}

@compute @workgroup_size(256)
fn sum_all(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
    let len = params.rows * params.cols;
    let base = wid.z * len;
    var acc = 0.0;
    for (var e = lane; e < len; e += 256u) {
        acc += input[base + e];
    }
    partial[lane] = acc;
    workgroupBarrier();
    for (var width = 128u; width > 0u; width >>= 1u) {
        if (lane < width) {
            partial[lane] += partial[lane + width];
        }
        workgroupBarrier();
    }
    if (lane == 0u) {
        write(params.out_index + wid.z * params.out_stride, partial[0]);
    }
}
