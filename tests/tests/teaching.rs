//! What a teacher expects to see, asserted on the native engine (lavapipe in CI).
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write as _;

use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::{GanKnobs, GanSpec};
use latent_gpu::{GpuContext, GpuDataset, GpuGan, Kernels};

fn block<T>(f: impl std::future::Future<Output = Result<T, String>>) -> T {
    pollster::block_on(f).unwrap_or_else(|e| panic!("{e}"))
}

/// With default settings the GAN on the ring of 8 Gaussians covers at least 6 of the 8 modes.
#[test]
fn gan_covers_the_ring() {
    let covered = block(async {
        let ctx = GpuContext::new().await.map_err(|e| e.to_string())?;
        let kernels = Kernels::new(&ctx).await.map_err(|e| e.to_string())?;
        let rows = 4096;
        let points: Vec<f32> = toy2d::sample(Toy2d::Ring8, rows, toy2d::DEFAULT_NOISE, 1).map_err(|e| e.to_string())?.into_iter().flatten().collect();
        let indices: Vec<u32> = (0..rows as u32).collect();
        let up = |label: &str, v: &[u32]| ctx.upload_u32(label, 1, v.len(), v).map_err(|e| e.to_string());
        let dataset = GpuDataset { data: ctx.upload_f32("ring", rows, 2, &points).map_err(|e| e.to_string())?, indices: up("train", &indices)?, test_indices: up("test", &indices)? };
        let arch = GanSpec::toy_2d().build().map_err(|e| e.to_string())?;
        let (g, d) = (arch.g_layout.init(1), arch.d_layout.init(2));
        let gan = GpuGan::new(&kernels, arch, &g, &d, dataset, 128, 1, GanKnobs::default()).map_err(|e| e.to_string())?;
        for _ in 0..20 {
            gan.train(100, 1).map_err(|e| e.to_string())?;
            gan.steps_done().await.map_err(|e| e.to_string())?;
        }
        let samples: Vec<[f32; 2]> = gan.samples().await.map_err(|e| e.to_string())?.chunks(2).map(|p| [p[0], p[1]]).collect();
        let modes = Toy2d::Ring8.modes().ok_or("the ring has modes")?;
        let covered = toy2d::modes_covered(&samples, &modes, 0.4, 0.02);
        let m = gan.metrics().await.map_err(|e| e.to_string())?;
        writeln!(std::io::stderr(), "GAN on the ring after 2000 rounds: {covered}/8 modes covered; {m:?}").ok();
        Ok(covered)
    });
    assert!(covered >= 6, "the GAN covers only {covered} of 8 modes");
}
