//! Long sessions change the model's shape again and again: every rebuild must give back what the
//! previous model held, so the GPU's buffer count and bytes return to where they started.

use anyhow::bail;
use latent_core::engine::{GanModel as _, ModelSetup, VaeModel as _};
use latent_core::model::gan::MAP_POINTS;
use latent_core::model::{GanSpec, Likelihood, VaeGanSpec, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::{GpuGan, GpuVae};

use crate::harness::{pixel_rows, point_rows, Check, Harness};

/// Shape changes the check makes: a VAE, a GAN and a VAE-GAN in turn, each a different size.
const REBUILDS: usize = 200;

/// Builds, trains one step of and drops [`REBUILDS`] models of changing shape, then compares the
/// context's allocation ledger with where it started. The figures are printed.
///
/// On a context of its own: the shared harness's ledger also counts what checks running beside this
/// one hold (native tests run in parallel), which made the comparison flaky.
pub async fn model_churn_leaves_nothing(_shared: &Harness) -> Check {
    let h = &Harness::new().await?;
    let (dim, rows, batch) = (12usize, 64usize, 8usize);
    let bytes: Vec<u8> = (0..rows * dim).map(|i| (i * 37 % 256) as u8).collect();
    let points: Vec<f32> = (0..rows * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let pixels = ModelSetup { data: pixel_rows(bytes, dim, indices.clone(), indices.clone()), batch, seed: 1, knobs: Knobs::default() };
    let ring = ModelSetup { data: point_rows(points, indices.clone(), indices), ..pixels.clone() };
    let before = h.ctx.allocations();
    let mut peak = before;
    for n in 0..REBUILDS {
        let width = 4 + n % 13;
        let spec =
            VaeSpec { data_dim: dim, hidden: vec![width; 1 + n % 3], latent: 1 + n % 4, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
        // The ledger while the model is alive, so the peak shows that it counts.
        let live = match n % 3 {
            0 => {
                let arch = spec.build()?;
                let init = arch.layout.init(n as u64);
                let mut vae = GpuVae::new(&h.kernels, &pixels, arch, &init)?;
                vae.train(1)?;
                vae.metrics().await?;
                h.ctx.allocations()
            }
            1 => {
                let arch =
                    GanSpec { data_dim: 2, latent: 2, generator_hidden: vec![width, width], discriminator_hidden: vec![width], ..GanSpec::toy_2d() }.build()?;
                let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
                let mut gan = GpuGan::new(&h.kernels, &ring, arch, &g, &d)?;
                gan.train(1)?;
                gan.metrics().await?;
                h.ctx.allocations()
            }
            _ => {
                let arch = VaeGanSpec::new(spec, vec![width]).build()?;
                let (v, d) = (arch.vae.layout.init(1), arch.d_layout.init(2));
                let mut model = GpuVae::with_discriminator(&h.kernels, &pixels, arch, &v, &d)?;
                model.train(1)?;
                model.metrics().await?;
                h.ctx.allocations()
            }
        };
        peak = (peak.0.max(live.0), peak.1.max(live.1));
    }
    let after = h.ctx.allocations();
    println!("model churn: {REBUILDS} rebuilds; GPU buffers {} → {} (peak {}), bytes {} → {} (peak {})", before.0, after.0, peak.0, before.1, after.1, peak.1);
    if peak.0 <= before.0 {
        bail!("the ledger never counted a live model's buffers");
    }
    if after != before {
        bail!("after {REBUILDS} rebuilds the ledger holds {} buffers / {} bytes, against {} / {} before", after.0, after.1, before.0, before.1);
    }
    h.no_gpu_errors()
}

/// The GAN's heat map and sample block run D and G forward over `MAP_POINTS` rows. Only their
/// activations are allocated: gradient buffers there would be as large and never written (134 MB
/// at the largest widths). The live bytes of a wide GAN are compared with what its parameters
/// (weights, gradients, Adam's two moments), those activations and a training batch need; with
/// gradient buffers for the views it needs 16.8 MB more than this bound allows. Figures printed.
pub async fn gan_views_hold_no_gradients(_shared: &Harness) -> Check {
    // A context of its own, as in `model_churn_leaves_nothing`: the ledger counts only this model.
    let h = &Harness::new().await?;
    let (width, batch) = (256usize, 8usize);
    let points: Vec<f32> = (0..64 * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    let indices: Vec<u32> = (0..64).collect();
    let ring = ModelSetup { data: point_rows(points, indices.clone(), indices), batch, seed: 1, knobs: Knobs::default() };
    let arch = GanSpec { generator_hidden: vec![width; 2], discriminator_hidden: vec![width; 2], ..GanSpec::toy_2d() }.build()?;
    let widths = |net: &latent_core::model::Mlp| net.layers.iter().map(|l| l.output).sum::<usize>();
    let activations = widths(&arch.generator) + widths(&arch.discriminator);
    let view_bytes = 4 * MAP_POINTS * activations;
    let param_bytes = 4 * 4 * (arch.g_layout.len + arch.d_layout.len);
    // The training passes (G, D on real and on fake rows: activations and their gradients), the
    // data, uniform blocks and counters: generously, all of them.
    let training_bytes = 4 * 8 * batch * activations + (1 << 20);
    let bound = (view_bytes + param_bytes + training_bytes) as u64;
    let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
    let before = h.ctx.allocations();
    let gan = GpuGan::new(&h.kernels, &ring, arch, &g, &d)?;
    let live = h.ctx.allocations().1 - before.1;
    println!(
        "GAN with hidden layers {width}×2 (G and D): {live} bytes live; bound {bound} = views' activations {view_bytes} + parameters {param_bytes} + training {training_bytes}"
    );
    drop(gan);
    if live > bound {
        bail!("the GAN holds {live} bytes, over the {bound} its views, parameters and training batch need: gradient buffers for forward-only passes?");
    }
    h.no_gpu_errors()
}
