// lib/loss_params.wgsl (include-only): the uniform block every loss kernel takes
// (mirrors latent_gpu::params::LossParams). aux is the loss's one extra scalar: the inverse
// variance of the Gaussian loss, the label of the GAN loss; unused by BCE.

struct LossParams {
    rows: u32,
    cols: u32,
    accumulate: u32,
    _pad0: u32,
    scale: f32,
    aux: f32,
    _pad1: u32,
    _pad2: u32,
}
