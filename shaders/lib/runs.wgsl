// lib/runs.wgsl (include-only, after lib/indexing.wgsl): kernels over a model's parameter range
// (optimizers, penalty gradient) take RUN elements per invocation, 256 apart within a workgroup's
// tile of 256·RUN, so a batched dispatch's per-model block is read once per RUN elements
// (software adapters read it on every invocation, as a gather per field). The host divides the
// longest range by RUN before spreading workgroups (latent_gpu::ops::optimizer::RUN).

const RUN: u32 = 8u;

// The first element of this invocation's run; its later ones lie k·256 further.
fn run_start(lane: u32, wid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return (wid.x + wid.y * groups.x) * LINEAR_WORKGROUP * RUN + lane;
}
