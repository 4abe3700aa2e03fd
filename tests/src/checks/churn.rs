//! Long sessions change the model's shape again and again: every rebuild must give back what the
//! previous model held, so the GPU's buffer count and bytes return to where they started.

use latent_core::model::{GanKnobs, GanSpec, Likelihood, TrainKnobs, VaeGanKnobs, VaeGanSpec, VaeSpec};
use latent_core::Activation;
use latent_gpu::{GpuDataset, GpuGan, GpuVae, GpuVaeGan};

use crate::harness::{Check, Harness};

/// Shape changes the check makes: a VAE, a GAN and a VAE-GAN in turn, each a different size.
const REBUILDS: usize = 200;

/// Builds, trains one step of and drops [`REBUILDS`] models of changing shape, then compares the
/// context's allocation ledger with where it started. The figures are printed.
///
/// On a context of its own: the shared harness's ledger also counts what checks running beside this
/// one hold (native tests run in parallel), which made the comparison flaky.
pub async fn model_churn_leaves_nothing(_shared: &Harness) -> Check {
    let h = &Harness::new().await?;
    let e = |e: latent_gpu::GpuError| e.to_string();
    let (dim, rows, batch) = (12usize, 64usize, 8usize);
    let bytes: Vec<u8> = (0..rows * dim).map(|i| (i * 37 % 256) as u8).collect();
    let points: Vec<f32> = (0..rows * 2).map(|i| (i as f32 * 0.37).sin()).collect();
    let indices: Vec<u32> = (0..rows as u32).collect();
    let before = h.ctx.allocations();
    let mut peak = before;
    for n in 0..REBUILDS {
        let width = 4 + n % 13;
        let spec =
            VaeSpec { data_dim: dim, hidden: vec![width; 1 + n % 3], latent: 1 + n % 4, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
        // The ledger while the model is alive, so the peak shows that it counts.
        let live = match n % 3 {
            0 => {
                let arch = spec.build().map_err(|e| e.to_string())?;
                let init = arch.layout.init(n as u64);
                let data = GpuDataset::pixels(&h.ctx, dim, &bytes, &indices, &indices).map_err(e)?;
                let vae = GpuVae::new(&h.kernels, arch, &init, data, batch, 1, TrainKnobs::default()).map_err(e)?;
                vae.train(1).map_err(e)?;
                vae.metrics().await.map_err(e)?;
                h.ctx.allocations()
            }
            1 => {
                let arch = GanSpec { data_dim: 2, latent: 2, generator_hidden: vec![width, width], discriminator_hidden: vec![width], ..GanSpec::toy_2d() }
                    .build()
                    .map_err(|e| e.to_string())?;
                let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
                let data = GpuDataset::points(&h.ctx, 2, &points, &indices, &indices).map_err(e)?;
                let gan = GpuGan::new(&h.kernels, arch, &g, &d, data, batch, 1, GanKnobs::default()).map_err(e)?;
                gan.train(1, 1).map_err(e)?;
                gan.metrics().await.map_err(e)?;
                h.ctx.allocations()
            }
            _ => {
                let arch = VaeGanSpec::new(spec, vec![width]).build().map_err(|e| e.to_string())?;
                let (v, d) = (arch.vae.layout.init(1), arch.d_layout.init(2));
                let data = GpuDataset::pixels(&h.ctx, dim, &bytes, &indices, &indices).map_err(e)?;
                let model = GpuVaeGan::new(&h.kernels, arch, &v, &d, data, batch, 1, VaeGanKnobs::default()).map_err(e)?;
                model.train(1).map_err(e)?;
                model.metrics().await.map_err(e)?;
                h.ctx.allocations()
            }
        };
        peak = (peak.0.max(live.0), peak.1.max(live.1));
    }
    let after = h.ctx.allocations();
    println!("model churn: {REBUILDS} rebuilds; GPU buffers {} → {} (peak {}), bytes {} → {} (peak {})", before.0, after.0, peak.0, before.1, after.1, peak.1);
    if peak.0 <= before.0 {
        return Err("the ledger never counted a live model's buffers".into());
    }
    if after != before {
        return Err(format!("after {REBUILDS} rebuilds the ledger holds {} buffers / {} bytes, against {} / {} before", after.0, after.1, before.0, before.1));
    }
    h.no_gpu_errors()
}
