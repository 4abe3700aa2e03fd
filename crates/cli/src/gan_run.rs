//! `latent train --model gan`: GAN Lab's experiment on the command line. A generator and a
//! discriminator on a 2D dataset, on the GPU engine or the CPU twin, with D's losses and accuracies
//! on real training rows, held-out rows and fakes in `metrics.csv`, and the two pictures GAN Lab
//! teaches with: real against generated points, and D's belief σ(D) as a heat map under them.

use anyhow::bail;
use clap::Args;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::gan::{map_grid, MAP_SIDE};
use latent_core::model::{GanKnobs, GanSpec};
use latent_core::ops::optimizer::AdamConfig;

use crate::figures;
use crate::run_output::{self, json_list, json_object, json_string, Row};
use crate::train::{self, BackendArg, OptimizerArg, TrainArgs};
use latent_session::{GanEngine, RunData};

/// Rounds when neither --steps nor --epochs is given: what the default GAN needs to cover the ring.
const DEFAULT_ROUNDS: usize = 2000;
/// Most D steps per G step.
const MAX_D_STEPS: usize = 100;
/// A mode is covered when this share of the samples lies within [`MODE_SIGMAS`] noise σ of it.
const MODE_SHARE: f32 = 0.02;
const MODE_SIGMAS: f32 = 3.0;
/// Smallest coverage radius, so that noise-free data still counts near-misses as hits.
const MIN_MODE_RADIUS: f32 = 0.1;
/// Generated points in the figures and the mode count (from fixed prior noise, so runs compare).
const SAMPLES: usize = 1024;
/// Side of the PNG figures in pixels.
const FIGURE_SIZE: usize = 512;

/// The GAN's own knobs (the shared ones, --hidden, --latent, --lr, --l2, --batch, ..., apply too).
#[derive(Args, Debug)]
#[command(next_help_heading = "GAN (--model gan)")]
pub struct GanArgs {
    /// Generator hidden widths, comma-separated (default: --hidden, else 64,64).
    #[arg(long, value_delimiter = ',')]
    pub(crate) g_hidden: Option<Vec<usize>>,
    /// Discriminator hidden widths, comma-separated (default: --hidden, else 64,64).
    #[arg(long, value_delimiter = ',')]
    pub(crate) d_hidden: Option<Vec<usize>>,
    /// Discriminator learning rate (default: --lr).
    #[arg(long)]
    pub(crate) lr_d: Option<f32>,
    /// Discriminator steps per generator step (the D:G ratio).
    #[arg(long, default_value_t = 1)]
    pub(crate) d_steps: usize,
    /// L2 penalty λ_G on the generator's weights (default: --l2).
    #[arg(long)]
    pub(crate) l2_g: Option<f32>,
    /// L2 penalty λ_D on the discriminator's weights (default: --l2).
    #[arg(long)]
    pub(crate) l2_d: Option<f32>,
}

/// The GAN a run trains: its shape, knobs and length, every default resolved.
struct GanRun {
    spec: GanSpec,
    knobs: GanKnobs,
    d_steps: usize,
    rounds: usize,
}

impl GanRun {
    fn resolve(args: &TrainArgs, data: &RunData) -> anyhow::Result<Self> {
        let gan = &args.gan;
        if args.beta != 1.0
            || args.l1 != 0.0
            || args.dropout != 0.0
            || args.beta_warmup != 0
            || args.early_stopping != 0
            || args.gamma.is_some()
            || args.optimizer != OptimizerArg::Adam
        {
            bail!("--beta, --beta-warmup, --l1, --dropout, --early-stopping, --gamma and --optimizer apply to the VAE and VAE-GAN only; the GAN has --l2-g and --l2-d");
        }
        let (lr_d, l2_g, l2_d) = (gan.lr_d.unwrap_or(args.lr), gan.l2_g.unwrap_or(args.l2), gan.l2_d.unwrap_or(args.l2));
        if !(lr_d.is_finite() && lr_d > 0.0 && lr_d <= 1.0) {
            bail!("--lr-d must be in (0, 1], got {lr_d}");
        }
        for (name, v) in [("--l2-g", l2_g), ("--l2-d", l2_d)] {
            if !(v.is_finite() && v >= 0.0) {
                bail!("{name} must be a finite number ≥ 0, got {v}");
            }
        }
        if !(1..=MAX_D_STEPS).contains(&gan.d_steps) {
            bail!("--d-steps must be in 1..={MAX_D_STEPS}, got {}", gan.d_steps);
        }
        let toy = GanSpec::toy_2d();
        let hidden = |own: &Option<Vec<usize>>, default: &Vec<usize>| own.clone().or_else(|| args.hidden.clone()).unwrap_or_else(|| default.clone());
        let spec = GanSpec {
            data_dim: data.dim,
            latent: args.latent.unwrap_or(toy.latent),
            generator_hidden: hidden(&gan.g_hidden, &toy.generator_hidden),
            discriminator_hidden: hidden(&gan.d_hidden, &toy.discriminator_hidden),
            generator_activation: args.activation.map_or(toy.generator_activation, Into::into),
            discriminator_activation: args.activation.map_or(toy.discriminator_activation, Into::into),
        };
        let adam = |lr| AdamConfig { lr, ..GanKnobs::default().adam_generator };
        let knobs = GanKnobs { l2_generator: l2_g, l2_discriminator: l2_d, adam_generator: adam(args.lr), adam_discriminator: adam(lr_d) };
        // An epoch: every training row seen once by D.
        let rounds_per_epoch = data.train.len().div_ceil(args.batch * gan.d_steps);
        let rounds = train::resolve_steps(args, rounds_per_epoch, DEFAULT_ROUNDS)?;
        Ok(Self { spec, knobs, d_steps: gan.d_steps, rounds })
    }

    fn config_json(&self, args: &TrainArgs, train_rows: usize) -> String {
        let mut fields = train::common_config(args, "gan", self.rounds, train_rows);
        let k = &self.knobs;
        fields.extend([
            ("lr_d", k.adam_discriminator.lr.to_string()),
            ("adam_beta1", k.adam_generator.beta1.to_string()),
            ("d_steps", self.d_steps.to_string()),
            ("l2_g", k.l2_generator.to_string()),
            ("l2_d", k.l2_discriminator.to_string()),
            ("g_hidden", json_list(&self.spec.generator_hidden)),
            ("d_hidden", json_list(&self.spec.discriminator_hidden)),
            ("latent", self.spec.latent.to_string()),
            ("g_activation", json_string(self.spec.generator_activation.name())),
            ("d_activation", json_string(self.spec.discriminator_activation.name())),
        ]);
        json_object(&fields)
    }
}

/// `latent train --model gan`.
pub async fn run(args: &TrainArgs) -> anyhow::Result<()> {
    let Some(dist) = Toy2d::from_key(&args.dataset) else {
        bail!(
            "--model gan trains on the 2D datasets (ring, grid, moons, spiral, gaussian), not `{}`; for MNIST use --model vae or --model vae-gan",
            args.dataset
        );
    };
    let data = train::load_data(args)?;
    let run = GanRun::resolve(args, &data)?;
    let arch = run.spec.build()?;
    run_output::prepare(&args.out, &run.config_json(args, data.train.len()))?;
    let kernels = match args.backend {
        BackendArg::Cpu => None,
        BackendArg::Gpu => Some(train::open_gpu().await?),
    };
    let mut engine = GanEngine::build(kernels.as_ref(), arch, &data, args.batch, args.seed, run.knobs, None)?;
    let header = "step,d_loss_real,d_loss_fake,d_acc_real,d_acc_fake,d_loss_test_real,d_acc_test_real,g_loss,d_l2_term,g_l2_term";
    let diverged = run_output::drive(&args.out, header, run.rounds, args.eval_every, async |done, rounds| {
        let m = engine.train(&data, rounds, run.d_steps, args.batch, run.knobs).await?;
        let test = engine.evaluate(&data, args.batch).await?;
        let d = m.discriminator;
        let values =
            [d.loss_real, d.loss_fake, d.accuracy_real, d.accuracy_fake, test.loss_real, test.accuracy_real, m.generator_loss, d.l2_term, m.generator_l2_term];
        Ok(Row {
            csv: std::iter::once(done.to_string()).chain(values.iter().map(ToString::to_string)).collect::<Vec<_>>().join(","),
            message: format!(
                "D loss {:.3} (real {:.2}, fake {:.2} right; held-out {:.2})  G loss {:.3}",
                d.loss_real + d.loss_fake,
                d.accuracy_real,
                d.accuracy_fake,
                test.accuracy_real,
                m.generator_loss
            ),
            finite: values.iter().all(|v| v.is_finite()),
            stop: false,
        })
    })
    .await?;

    let generated = latent_session::as_points(&engine.samples(SAMPLES, args.seed).await?);
    let real = data.points_2d();
    figures::real_vs_generated(&args.out.join("samples.png"), &real, &generated, FIGURE_SIZE)?;
    let grid = map_grid(MAP_SIDE, figures::VIEW);
    let belief = engine.map(&grid).await?;
    figures::heat_map(&args.out.join("discriminator.png"), &belief, MAP_SIDE, &real, &generated, FIGURE_SIZE)?;
    if let Some(modes) = dist.modes() {
        let radius = (MODE_SIGMAS * args.noise).max(MIN_MODE_RADIUS);
        let covered = toy2d::modes_covered(&generated, &modes, radius, MODE_SHARE);
        println!(
            "modes covered: {covered}/{} (a mode counts when ≥ {:.0}% of the {} samples lie within {radius:.2} of it)",
            modes.len(),
            MODE_SHARE * 100.0,
            generated.len()
        );
    }
    train::finish(&args.out, diverged, &format!("lower --lr (now {}) or --lr-d, or raise --l2-d", args.lr))
}
