//! A sweep's member models on the GPU: a VAE (or VAE-GAN) whose parameters its batched step trains
//! only scores them and draws their views ([`GpuVae::trained_elsewhere`]), so it holds no training
//! buffers, and reads rows uploaded once for every member ([`GpuRows`]). Given the same parameters
//! it must read exactly as the model that trained them.

use anyhow::bail;
use latent_core::engine::{EvalSplit, ModelSetup, VaeModel};
use latent_core::model::{Likelihood, VaeGanSpec, VaeSpec};
use latent_core::{Activation, Knobs};
use latent_gpu::{GpuRows, GpuVae};

use crate::harness::{pixel_rows, Check, Harness, Inputs};

/// A VAE and a VAE-GAN trained a few steps, and a scoring model of each given their parameters:
/// the same scores on both splits, latent codes, reconstructions, samples and (VAE-GAN)
/// discriminator parameters, bit for bit; training, training metrics, a fork and early stopping's
/// save and restore refused by name; at least the six parameter-sized training buffers and the rows
/// fewer bytes held (figures printed); rows of another shape refused.
pub async fn scoring_models_read_as_trained(_shared: &Harness) -> Check {
    // A context of its own, as in `model_churn_leaves_nothing`: the ledger counts only these models.
    let h = &Harness::new().await?;
    let mut inputs = Inputs::new(31);
    let (rows, dim, batch) = (64usize, 20usize, 8usize);
    let spec = VaeSpec { data_dim: dim, hidden: vec![16, 12], latent: 3, activation: Activation::Relu, likelihood: Likelihood::Bernoulli };
    let bytes: Vec<u8> = (0..rows * dim).map(|_| inputs.below(256) as u8).collect();
    let knobs = Knobs { l2: 1e-3, ..Knobs::default() };
    let setup = ModelSetup { data: pixel_rows(bytes, dim, (0..40).collect(), (40..64).collect()), batch, seed: 3, knobs };

    let arch = spec.clone().build()?;
    let held = |before: u64| h.ctx.allocations().1 - before;
    let before = h.ctx.allocations().1;
    let mut trained = GpuVae::new(&h.kernels, &setup, arch.clone(), &arch.layout.init(4))?;
    let trained_bytes = held(before);
    trained.train(6)?;
    let params = trained.parameters().await?;
    let before = h.ctx.allocations().1;
    let rows = GpuRows::upload(&h.ctx, &setup.data)?;
    let row_bytes = held(before);
    let before = h.ctx.allocations().1;
    let mut scoring = GpuVae::trained_elsewhere(&h.kernels, &setup, (arch.clone(), &arch.layout.init(9)), None, &rows)?;
    let scoring_bytes = held(before);
    scoring.set_parameters(&params)?;
    reads_alike("VAE", &trained, &scoring).await?;
    refuses_training("VAE", &mut scoring, &mut trained).await?;
    let saved = 6 * 4 * arch.layout.len as u64 + row_bytes;
    println!(
        "VAE of {} parameters: {trained_bytes} bytes trained here, {scoring_bytes} scoring only (besides {row_bytes} of shared rows; {saved} in rows and the six parameter-sized training buffers)",
        arch.layout.len
    );
    if scoring_bytes + saved > trained_bytes {
        bail!("the scoring VAE holds {scoring_bytes} bytes against the trained one's {trained_bytes}: not the {saved} of its rows and training buffers fewer");
    }
    let other = pixel_rows(vec![0; 8 * (dim + 1)], dim + 1, (0..4).collect(), (4..8).collect());
    if GpuVae::trained_elsewhere(&h.kernels, &setup, (arch.clone(), &params), None, &GpuRows::upload(&h.ctx, &other)?).is_ok() {
        bail!("a scoring VAE took rows of another shape than its data's");
    }

    let gan_arch = VaeGanSpec::new(spec, vec![10]).build()?;
    let (v, d) = (gan_arch.vae.layout.init(5), gan_arch.d_layout.init(6));
    let mut trained = GpuVae::with_discriminator(&h.kernels, &setup, gan_arch.clone(), &v, &d)?;
    trained.train(4)?;
    let (params, d_params) = (trained.parameters().await?, trained.discriminator_parameters().await?);
    let mut scoring = GpuVae::trained_elsewhere(&h.kernels, &setup, (gan_arch.vae.clone(), &v), Some((&gan_arch.d_layout, &d)), &rows)?;
    scoring.set_parameters(&params)?;
    scoring.set_discriminator_parameters(&d_params)?;
    if scoring.discriminator_layout() != Some(&gan_arch.d_layout) || scoring.discriminator_parameters().await? != d_params {
        bail!("the scoring VAE-GAN does not hold the discriminator it was given");
    }
    reads_alike("VAE-GAN", &trained, &scoring).await?;
    refuses_training("VAE-GAN", &mut scoring, &mut trained).await?;
    if scoring.set_discriminator_parameters(&d_params[1..]).is_ok() {
        bail!("the scoring VAE-GAN took discriminator parameters of another length");
    }
    h.no_gpu_errors()
}

/// Scores, codes, reconstructions and samples of `scoring` equal `trained`'s, bit for bit.
async fn reads_alike(model: &str, trained: &GpuVae, scoring: &GpuVae) -> Check {
    for split in [EvalSplit::Test, EvalSplit::Train] {
        let (a, b) = (trained.evaluate(split).await?, scoring.evaluate(split).await?);
        if a != b {
            bail!("{model} {split:?} scores: {b:?} scoring against {a:?} trained");
        }
    }
    let (a, b) = (trained.latent_codes().await?, scoring.latent_codes().await?);
    if (a.mean != b.mean) || (a.log_var != b.log_var) {
        bail!("{model}: the scoring model's latent codes differ from the trained model's");
    }
    if trained.reconstructions().await? != scoring.reconstructions().await? {
        bail!("{model}: the scoring model's reconstructions differ from the trained model's");
    }
    if trained.samples(5).await? != scoring.samples(5).await? {
        bail!("{model}: the scoring model's samples differ from the trained model's");
    }
    Ok(())
}

/// Training, its metrics, a fork in either direction and early stopping's save and restore are
/// refused, training with a message that says why.
async fn refuses_training(model: &str, scoring: &mut GpuVae, trained: &mut GpuVae) -> Check {
    let says_why = |e: String| e.contains("trains") && e.contains("does not");
    match scoring.train(1) {
        Err(e) if says_why(e.to_string()) => {}
        Err(e) => bail!("{model}: training a scoring model failed without saying why: {e}"),
        Ok(()) => bail!("{model}: a scoring model trained"),
    }
    if scoring.metrics().await.is_ok() {
        bail!("{model}: a scoring model reported training metrics");
    }
    if scoring.copy_state_to(trained).is_ok() || trained.copy_state_to(scoring).is_ok() {
        bail!("{model}: a fork between a scoring model and a trained one was not refused");
    }
    if scoring.save_best().is_ok() || scoring.restore_best().is_ok() {
        bail!("{model}: a scoring model saved or restored a best copy it does not hold");
    }
    // Knobs still validate (the page's sliders reach every member); they change nothing here.
    scoring.set_knobs(&Knobs { beta: 2.0, ..Knobs::default() })?;
    if scoring.set_knobs(&Knobs { beta: f32::NAN, ..Knobs::default() }).is_ok() {
        bail!("{model}: a scoring model took a NaN β");
    }
    Ok(())
}
