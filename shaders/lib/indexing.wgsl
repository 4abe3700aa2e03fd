// lib/indexing.wgsl (include-only): one flat element index from a 2D dispatch.
// Element-wise kernels run 256-wide workgroups laid out as (x, y) so that more than
// 65,535 workgroups fit in WebGPU's per-dimension limit; the host spreads them the same way
// (latent_gpu::dispatch::linear_workgroups).

const LINEAR_WORKGROUP: u32 = 256u;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * LINEAR_WORKGROUP;
}

// A batched dispatch's model is its workgroup z (a sweep's K models, one block each). Software
// adapters treat gid.z as a value per invocation, so reading the block at a run-time index costs
// them a gather per field on every element (a single reference-VAE step 0.79× on lavapipe); a
// pipeline built for one model sets BATCHED = false and reads block 0 at a constant index instead.
override BATCHED: bool = true;

fn model_of(id: vec3<u32>) -> u32 {
    if (BATCHED) {
        return id.z;
    }
    return 0u;
}
