// lib/indexing.wgsl (include-only): one flat element index from a 2D dispatch.
// Element-wise kernels run 256-wide workgroups laid out as (x, y) so that more than
// 65,535 workgroups fit in WebGPU's per-dimension limit; the host spreads them the same way
// (latent_gpu::dispatch::linear_workgroups).

const LINEAR_WORKGROUP: u32 = 256u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * LINEAR_WORKGROUP;
}
