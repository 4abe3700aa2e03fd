//! The page's VAE-GAN defaults show what the model is for on the CPU engine, where a student
//! without WebGPU meets it: at the CPU defaults the page applies (`LabConfig::shrink_for_cpu`) and
//! the VAE-GAN's own (γ = 3, D one layer of 128 learning at 3·10⁻⁴), its samples' sharpness (the number the page
//! prints under them) is well above the plain VAE's at the same step, and stays so as both train.

use latent_session::config::{Dataset, LabConfig, ModelKind};
use latent_session::run::ViewRequest;
use latent_session::Engine;
use latent_session::{Run, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Steps at which the two models' samples are compared: about 10 and 20 seconds of the VAE-GAN
/// on the page's CPU engine on this 2-core machine (docs/BENCHMARKS.md, "VAE-GAN defaults").
const STEPS: [usize; 2] = [3200, 6400];
/// The least ratio of the VAE-GAN's sharpness to the VAE's.
const SHARPER_BY: f64 = 1.4;

/// The sharpness of `model`'s samples at each of [`STEPS`], trained at the page's CPU defaults.
fn sharpness_at_cpu_defaults(model: ModelKind) -> Vec<f64> {
    let mut config = LabConfig::defaults_for(model, Dataset::Mnist);
    config.shrink_for_cpu();
    let mut run = Run::build(config.run_spec(), Engine::Cpu, Some(MNIST), Start::Fresh).unwrap_or_else(|e| panic!("the page's defaults: {e}"));
    let request = ViewRequest {
        images: 32,
        points_2d: 0,
        scatter_points: None,
        manifold_side: 0,
        interpolations: Vec::new(),
        interpolation_steps: 0,
        histogram_bins: None,
    };
    let mut done = 0;
    STEPS
        .iter()
        .map(|&step| {
            block_on(run.advance(step - done)).unwrap_or_else(|e| panic!("training: {e}"));
            done = step;
            let views = block_on(run.views(&request)).unwrap_or_else(|e| panic!("views: {e}"));
            views.sharpness.unwrap_or_else(|| panic!("step {step}: digits without a sharpness"))
        })
        .collect()
}

#[test]
fn vae_gan_defaults_sharpen_on_the_cpu_engine() {
    let vae = sharpness_at_cpu_defaults(ModelKind::Vae);
    let vae_gan = sharpness_at_cpu_defaults(ModelKind::VaeGan);
    for ((step, vae), vae_gan) in STEPS.iter().zip(&vae).zip(&vae_gan) {
        println!("step {step}: sharpness VAE {vae:.5}, VAE-GAN {vae_gan:.5} ({:.2}×)", vae_gan / vae);
        assert!(*vae_gan >= SHARPER_BY * vae, "step {step}: the VAE-GAN's samples ({vae_gan:.5}) are not {SHARPER_BY}× sharper than the VAE's ({vae:.5})");
    }
}
