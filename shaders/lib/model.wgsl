// lib/model.wgsl (include-only): which model of a batched dispatch an invocation computes.
// A batched dispatch's model is its workgroup z (a sweep's K models, one parameter block or one
// matrix block each). Software adapters treat gid.z as a value per invocation, so reading a block
// at a run-time index costs them a gather per field on every element (a single reference-VAE step
// 0.79× on lavapipe); a pipeline built for one model sets BATCHED = false, and its model is the
// constant 0 (latent_gpu's PerModelPipeline and MatmulKey::batched).

override BATCHED: bool = true;

fn model_of(id: vec3<u32>) -> u32 {
    if (BATCHED) {
        return id.z;
    }
    return 0u;
}
