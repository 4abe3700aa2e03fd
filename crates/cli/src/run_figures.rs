//! Which figures a finished run writes, and what their headings say: the model, the data and the
//! key knobs on every one, so a figure on a slide still says where it came from.

use std::path::Path;

use latent_core::data::mnist;
use latent_session::config::{Dataset, ModelKind};
use latent_session::run::{Progress, ViewRequest, Views, MIN_MODE_RADIUS, MODE_SHARE, MODE_SIGMAS};
use latent_session::Run;

use crate::args::{ModelArg, TrainArgs};
use crate::figures::{self, grouped, save, ClassScatter, Format, Grid, Heading, HeatMap, KlBars, LossChart, Marked, RealVsGenerated};

/// Side of the decoded manifold grid.
const MANIFOLD_SIDE: usize = 16;
/// Interpolation strips: pairs of held-out digits and steps between them.
const INTERPOLATION_PAIRS: usize = 5;
const INTERPOLATION_STEPS: usize = 10;
/// Images in the sample grid, and input/reconstruction pairs.
const SAMPLE_IMAGES: usize = 64;
const RECONSTRUCTIONS: usize = 32;
/// Generated points in the 2D figures and the mode count (from fixed prior noise, so runs compare).
const POINTS_2D: usize = 1024;

/// Early stopping's best held-out score, and whether its parameters were put back.
pub struct Best {
    pub step: u64,
    pub value: f64,
    pub restored: bool,
}

/// Writes the run's figures into `args.out`: `loss` from every chunk's `progress`, then the views.
/// After a divergence the latent codes are not finite: the loss curve, samples and
/// reconstructions are written then, showing what the model had become.
pub async fn write(run: &Run, args: &TrainArgs, progress: &[Progress], best: Option<Best>, finite: bool) -> anyhow::Result<()> {
    let out = &args.out;
    let format = Format::from(args.format);
    let settings = settings(run, args);
    let heading = |title: String| Heading { title, settings: settings.clone() };
    let (model, data) = (run.spec().shape.model, run.spec().data.dataset);
    let step = grouped(run.step());
    let (unit, at) = if model == ModelKind::Gan { ("rounds", "round") } else { ("steps", "step") };

    if !progress.is_empty() {
        let title = heading(format!("{} on {}: training curves over {step} {unit}", model.name(), data.name()));
        let chart = match model {
            ModelKind::Gan => LossChart::gan(title, progress),
            ModelKind::Vae | ModelKind::VaeGan => {
                let marked = best.map(|b| Marked {
                    step: b.step,
                    value: b.value,
                    label: format!(
                        "best held-out −ELBO {:.2} at step {} (early stopping{})",
                        b.value,
                        grouped(b.step),
                        if b.restored { "; restored" } else { "" }
                    ),
                });
                LossChart::vae(title, progress, marked, model == ModelKind::VaeGan)
            }
        };
        save(&chart, out, "loss", format)?;
    }

    let request = ViewRequest {
        images: SAMPLE_IMAGES,
        points_2d: POINTS_2D,
        scatter_points: finite.then_some(usize::MAX),
        manifold_side: MANIFOLD_SIDE,
        interpolations: run.class_pairs(INTERPOLATION_PAIRS),
        interpolation_steps: INTERPOLATION_STEPS,
        histogram_bins: None,
    };
    let views = run.views(&request).await?;
    if model.has_encoder() && finite && !views.kl_per_dim.is_empty() {
        let collapsed = KlBars::collapsed(&views.kl_per_dim);
        let title = heading(format!("KL per latent dimension at step {step}: {collapsed} of {} collapsed", views.kl_per_dim.len()));
        save(&KlBars { heading: title, kl: views.kl_per_dim.clone() }, out, "kl", format)?;
    }
    if !views.latent.is_empty() {
        let classes = (data == Dataset::Mnist).then(|| (0..10).map(|d| d.to_string()).collect());
        let title = heading(format!("Latent codes of held-out {} at step {step}", if data == Dataset::Mnist { "digits" } else { "points" }));
        let scatter = ClassScatter { heading: title, points: views.latent.clone(), labels: views.labels.clone(), dims: views.dims, classes };
        save(&scatter, out, "latent", format)?;
    }
    if views.dim == mnist::PIXELS {
        return digit_grids(&views, out, &step, &settings);
    }
    let generated = latent_core::data::as_points(&views.samples);
    let covered = match views.modes {
        Some((covered, of)) => {
            let radius = (MODE_SIGMAS * args.noise).max(MIN_MODE_RADIUS);
            let share = MODE_SHARE * 100.0;
            println!("modes covered: {covered}/{of} (a mode counts when ≥ {share:.0}% of the {} samples lie within {radius:.2} of it)", generated.len());
            format!(": {covered} of {of} modes covered")
        }
        None => String::new(),
    };
    let covered = match views.mmd {
        Some(mmd) => {
            println!("MMD² between real and generated points: {mmd:.4} (0 when they match)");
            format!("{covered}, MMD² {:.4}", mmd.max(0.0))
        }
        None => covered,
    };
    let title = heading(format!("Real vs generated points at {at} {step}{covered}"));
    save(&RealVsGenerated { heading: title, real: views.real.clone(), generated: generated.clone() }, out, "samples", format)?;
    if args.model == ModelArg::Gan {
        let title = heading(format!("The discriminator's σ(D) at round {step}{covered}"));
        let map = HeatMap { heading: title, probabilities: views.heat.clone(), side: latent_core::model::gan::MAP_SIDE, real: views.real.clone(), generated };
        save(&map, out, "discriminator", format)?;
    }
    Ok(())
}

/// Samples, inputs over reconstructions, and (finite runs) the manifold and interpolation strips.
fn digit_grids(views: &Views, out: &Path, step: &str, settings: &str) -> anyhow::Result<()> {
    let images = |flat: &[f32]| flat.chunks_exact(mnist::PIXELS).map(<[f32]>::to_vec).collect::<Vec<_>>();
    let grid = |rows: &[Vec<f32>], columns: usize, zoom: usize, caption: String, name: &str| {
        let grid = Grid { images: rows.iter().map(Vec::as_slice).collect(), side: mnist::IMAGE_SIDE, columns, zoom, caption, settings: settings.into() };
        figures::digit_grid(&out.join(name), &grid)
    };
    grid(&images(&views.samples), 8, 3, format!("Samples: the decoder's mean for fixed prior noise z ~ N(0, I), step {step}"), "samples.png")?;
    // Inputs and reconstructions in alternating rows of 8.
    let (inputs, recons) = (images(&views.inputs), images(&views.reconstructions));
    let mut pairs = Vec::new();
    for block in 0..RECONSTRUCTIONS / 8 {
        pairs.extend(inputs.iter().skip(block * 8).take(8).cloned());
        pairs.extend(recons.iter().skip(block * 8).take(8).cloned());
    }
    grid(&pairs, 8, 3, format!("Held-out digits (odd rows) and their reconstructions through μ (even rows), step {step}"), "reconstructions.png")?;
    if !views.manifold.is_empty() {
        let (a, b) = views.dims;
        let caption = format!("The decoder over a grid of codes: z{a} left to right, z{b} bottom to top (±2.5), step {step}");
        grid(&images(&views.manifold), MANIFOLD_SIDE, 2, caption, "manifold.png")?;
    }
    if !views.interpolation.is_empty() {
        let caption = format!("Straight lines between the codes of held-out digits, decoded, step {step}");
        grid(&images(&views.interpolation), INTERPOLATION_STEPS, 3, caption, "interpolation.png")?;
    }
    Ok(())
}

/// The settings line every figure carries: model and shape, data, key knobs.
pub(crate) fn settings(run: &Run, args: &TrainArgs) -> String {
    let spec = run.spec();
    let (shape, k) = (&spec.shape, &spec.knobs);
    let widths = |hidden: &[usize]| hidden.iter().map(ToString::to_string).collect::<Vec<_>>().join("-");
    let rows = grouped(run.data().train.len() as u64);
    let data = format!("{}, {rows} training rows", spec.data.dataset.key());
    let dim = run.data().dim;
    let mut parts = match shape.model {
        ModelKind::Gan => {
            let gan = shape.gan_spec(spec.data.dataset);
            vec![
                format!("GAN G {}-{}-{dim}, D {dim}-{}-1 on {data}", shape.latent, widths(&gan.generator_hidden), widths(&gan.discriminator_hidden)),
                format!("λ_G = {}", k.l2_generator()),
                format!("λ_D = {}", k.l2_discriminator()),
                format!("{} D step{} per round", k.d_steps, if k.d_steps == 1 { "" } else { "s" }),
                format!("Adam lr {} (D {})", k.lr, k.adam_discriminator().lr),
            ]
        }
        ModelKind::Vae | ModelKind::VaeGan => {
            let mut parts = vec![
                format!("{} {dim}-{}-{} ({}) on {data}", shape.model.name(), widths(&shape.hidden), shape.latent, shape.activation.name()),
                format!("β = {}", k.beta),
                format!("λ₂ = {}", k.l2),
                format!("λ₁ = {}", k.l1),
                format!("dropout {}", k.dropout),
            ];
            if shape.model == ModelKind::VaeGan {
                parts.push(format!("γ = {}", k.gamma));
                parts.push(format!("λ_D = {}", k.l2_discriminator()));
            }
            parts.push(format!("{} lr {}", k.optimizer.name(), k.lr));
            parts
        }
    };
    parts.push(format!("batch {}", shape.batch));
    parts.push(format!("seed {}", shape.seed));
    if args.beta_warmup > 0 && shape.model.has_encoder() {
        parts.push(format!("β warm-up {} steps", args.beta_warmup));
    }
    parts.join(" · ")
}
