// loss_gan.wgsl: GAN losses on discriminator logits d against a constant label (LossParams.aux):
//   label 1: discriminator on real data, and the non-saturating generator loss −log σ(d);
//   label 0: discriminator on fakes, −log(1 − σ(d)).
//   forward:  loss[i] = Σⱼ softplus(d) − label·d;  correct[i] = #{j : (d > 0) == (label > ½)}
//   backward: out[e] (+)= scale · (σ(d[e]) − label)
// Includes: lib/loss_params.wgsl, lib/activation.wgsl (softplus, stable_sigmoid), lib/indexing.wgsl, lib/model.wgsl.
// Bindings (group 0):
//   0 logits   storage, read        rows×cols
//   1 loss     storage, read_write  rows (forward only)
//   2 correct  storage, read_write  rows (forward only): D accuracy numerator
//   3 blocks   storage, read        one LossParams per model (mirrors latent_gpu::params::LossParams)
//   4 out      storage, read_write  rows×cols gradient (backward only)
// forward: workgroup 64, dispatch (ceil(rows / 64), 1, 1), one block. backward: workgroup 256,
// linear_workgroups(rows·cols), × K in z for K batched models (a sweep): logits and out then hold
// the models' blocks of `rows` rows one after another, and model z = workgroup z scales its
// gradient by its own blocks[z].scale (a γ per model in the VAE-GAN). The forward needs no model
// index: its rows are independent, so K models' rows stacked are K models' losses.

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read_write> loss: array<f32>;
@group(0) @binding(2) var<storage, read_write> correct: array<f32>;
@group(0) @binding(3) var<storage, read> blocks: array<LossParams>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
    let params = blocks[0];
    let row = gid.x;
    if (row >= params.rows) {
        return;
    }
    let says_real = params.aux > 0.5;
    var total = 0.0;
    var hits = 0.0;
    for (var col = 0u; col < params.cols; col++) {
        let d = logits[row * params.cols + col];
        total += softplus(d) - params.aux * d; // ⓘ gan-loss
        hits += select(0.0, 1.0, (d > 0.0) == says_real); // ⓘ d-accuracy
    }
    loss[row] = total;
    correct[row] = hits;
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let model = model_of(gid);
    let params = blocks[model];
    let local = flat_index(gid, groups);
    if (local >= params.rows * params.cols) {
        return;
    }
    let e = model * params.rows * params.cols + local;
    var value = params.scale * (stable_sigmoid(logits[e]) - params.aux); // ⓘ gan-grad
    if (params.accumulate != 0u) {
        value += out[e];
    }
    out[e] = value;
}
