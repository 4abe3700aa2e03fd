//! One training run in the page: the data, the model on its engine, the knobs it trains with, and
//! the readouts the views draw. Only the driver task owns a `Run`, so no borrow is ever held across
//! an await by anyone else.

use std::rc::Rc;

use latent_core::data::mnist;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::model::gan::{map_grid, MAP_SIDE};
use latent_core::model::latent_views;
use latent_core::model::{EarlyStopping, ParamLayout, StopDecision};
use latent_gpu::{EvalSplit, Kernels};
use latent_session::config::{Dataset, LabConfig, ModelKind};
use latent_session::{as_points, GanEngine, RunData, RunFile, SessionError, VaeEngine};

/// Held-out digits the page scores and plots (fewer than the CLI's, so an evaluation stays short).
pub const TEST_DIGITS: usize = 1000;
/// Images in the sample and reconstruction grids.
pub const GRID_IMAGES: usize = 32;
/// Side of the decoded latent grid, and how far it reaches (±σ of the prior).
pub const MANIFOLD_SIDE: usize = 12;
const MANIFOLD_EXTENT: f32 = 2.5;
/// Images in the interpolation strip.
pub const INTERPOLATION_STEPS: usize = 10;
/// Generated points in 2D views.
const POINTS_2D: usize = 1024;
/// Latent points plotted.
const SCATTER_POINTS: usize = 1000;
/// Early stopping: evaluations without improvement before it stops.
const PATIENCE: u32 = 5;
/// A mode is covered when this share of the samples lies within 3 noise σ of it (as the CLI counts).
const MODE_SHARE: f32 = 0.02;
/// Bins of each weight histogram.
pub const HISTOGRAM_BINS: usize = 40;

/// The weights of a run at a step where they were all finite, kept in page memory.
#[derive(Clone, Debug)]
pub struct Checkpoint {
    pub step: u64,
    pub weights: Vec<f32>,
}

/// One row of the metric history.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Point {
    pub step: u64,
    /// VAE terms (means since the last readout).
    pub reconstruction: f64,
    pub kl: f64,
    pub penalty: f64,
    pub total: f64,
    /// Negative ELBO on training and held-out rows, at evaluations.
    pub train: Option<f64>,
    pub test: Option<f64>,
    /// GAN (and VAE-GAN) terms of the latest step.
    pub d_loss: f64,
    pub g_loss: f64,
    /// D's accuracy on held-out real rows (GAN), at evaluations.
    pub d_accuracy: Option<f64>,
}

impl Point {
    /// The row a run file stores (its columns are `latent_session::run_file::HISTORY_COLUMNS`).
    pub fn to_row(&self) -> [f64; 10] {
        let option = |v: Option<f64>| v.unwrap_or(f64::NAN);
        [
            self.step as f64,
            self.reconstruction,
            self.kl,
            self.penalty,
            self.total,
            option(self.train),
            option(self.test),
            self.d_loss,
            self.g_loss,
            option(self.d_accuracy),
        ]
    }

    pub fn from_row(row: [f64; 10]) -> Self {
        let option = |v: f64| v.is_finite().then_some(v);
        Self {
            step: if row[0].is_finite() { row[0].max(0.0) as u64 } else { 0 },
            reconstruction: row[1],
            kl: row[2],
            penalty: row[3],
            total: row[4],
            train: option(row[5]),
            test: option(row[6]),
            d_loss: row[7],
            g_loss: row[8],
            d_accuracy: option(row[9]),
        }
    }

    pub fn is_finite(&self) -> bool {
        [self.reconstruction, self.kl, self.penalty, self.total, self.d_loss, self.g_loss].iter().all(|v| v.is_finite())
    }
}

/// A histogram of one weight matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub name: String,
    /// Range of the bins (symmetric around 0).
    pub reach: f32,
    pub counts: Vec<u32>,
    /// Share of weights within 1e-3 of zero (what L1 drives up).
    pub near_zero: f32,
}

/// Everything the picture views draw, read back together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Views {
    pub dim: usize,
    /// Decoded prior samples (VAE family: images or 2D points; GAN: generated points).
    pub samples: Vec<f32>,
    /// Held-out inputs and their reconstructions (VAE family).
    pub inputs: Vec<f32>,
    pub reconstructions: Vec<f32>,
    pub kl_per_dim: Vec<f64>,
    /// Held-out codes in the two most-varied dimensions, their labels, and those dimensions.
    pub latent: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
    pub dims: (usize, usize),
    /// Decoded grid over those two dimensions (images only).
    pub manifold: Vec<f32>,
    /// Decoded line between two chosen held-out codes (images only).
    pub interpolation: Vec<f32>,
    /// 2D data: the real training points, and σ(D) over a grid (GAN).
    pub real: Vec<[f32; 2]>,
    pub heat: Vec<f32>,
    pub weights: Vec<Histogram>,
    /// Modes covered by the generated points (ring and grid).
    pub modes: Option<(usize, usize)>,
}

enum Model {
    Vae(VaeEngine),
    Gan(GanEngine),
}

/// A model being trained, with its data.
pub struct Run {
    pub config: LabConfig,
    data: RunData,
    model: Model,
    pub step: u64,
    stopping: Option<EarlyStopping>,
    saved: Option<Vec<f32>>,
    /// The interpolation's two held-out rows.
    pub pair: (usize, usize),
    /// KL per latent dimension, means over the latest readout's steps.
    kl_per_dim: Vec<f64>,
}

impl Run {
    /// Builds `config`'s model on the GPU (`kernels`) or the CPU, from `weights` (a saved run's) or
    /// from the seed. `mnist` is the digits asset.
    pub fn build(config: &LabConfig, kernels: Option<&Rc<Kernels>>, mnist: Option<&[u8]>, weights: Option<&[f32]>) -> Result<Self, SessionError> {
        let data = match config.dataset {
            Dataset::Mnist => {
                RunData::mnist(mnist.ok_or_else(|| SessionError::Invalid("the MNIST digits are not loaded".into()))?, Some(config.train_size), TEST_DIGITS)?
            }
            Dataset::Toy(dist) => RunData::toy(dist, config.train_size, config.noise, config.seed)?,
            Dataset::Drawn => RunData::drawn(&config.drawn, config.train_size, config.noise, config.seed)?,
        };
        data.check_batch(config.batch)?;
        let kernels = kernels.map(Rc::as_ref);
        let model = match config.model {
            ModelKind::Gan => Model::Gan(GanEngine::build(kernels, config.gan_spec().build()?, &data, config.batch, config.seed, config.gan_knobs(), weights)?),
            ModelKind::Vae | ModelKind::VaeGan => {
                let d_hidden = matches!(config.model, ModelKind::VaeGan).then(|| config.hidden.clone());
                Model::Vae(VaeEngine::build(kernels, &config.vae_spec(), d_hidden, &data, config.batch, config.seed, config.vae_gan_knobs(), weights)?)
            }
        };
        let labels = data.test_labels(data.test.len());
        let pair = latent_views::class_pairs(&labels, 1).first().copied().unwrap_or((0, 1));
        Ok(Self { config: config.clone(), data, model, step: 0, stopping: None, saved: None, pair, kl_per_dim: Vec::new() })
    }

    /// Compute passes per training step (GAN: per round), on the GPU engine.
    pub fn dispatches_per_step(&self) -> Option<usize> {
        match &self.model {
            Model::Vae(engine) => engine.dispatches_per_step(),
            Model::Gan(engine) => engine.dispatches_per_round(),
        }
    }

    /// Takes the knobs of `config` (its shape must be this run's).
    pub fn set_knobs(&mut self, config: &LabConfig) -> Result<(), SessionError> {
        self.config = config.clone();
        if !config.early_stopping {
            self.stopping = None;
        }
        match &self.model {
            Model::Vae(engine) => engine.set_knobs(config.vae_gan_knobs()),
            Model::Gan(engine) => engine.set_knobs(config.gan_knobs()),
        }
    }

    /// Trains `steps` steps (GAN: rounds of D steps and a G step) and reads their metrics.
    pub async fn train(&mut self, steps: usize) -> Result<Point, SessionError> {
        let c = &self.config;
        let point = match &mut self.model {
            Model::Vae(engine) => {
                let knobs = c.vae_gan_knobs();
                let m = engine.train(&self.data, steps, c.batch, knobs).await?;
                let v = &m.vae;
                let d = &m.discriminator;
                self.kl_per_dim.clone_from(&v.kl_per_dim);
                Point {
                    reconstruction: v.reconstruction,
                    kl: v.kl,
                    penalty: v.l2_term + v.l1_term,
                    total: m.total(knobs),
                    d_loss: d.loss_real + d.loss_fake,
                    g_loss: m.generator_loss,
                    ..Point::default()
                }
            }
            Model::Gan(engine) => {
                let m = engine.train(&self.data, steps, c.d_steps, c.batch, c.gan_knobs()).await?;
                let d = &m.discriminator;
                Point {
                    penalty: d.l2_term + m.generator_l2_term,
                    total: d.loss_real + d.loss_fake + m.generator_loss,
                    d_loss: d.loss_real + d.loss_fake,
                    g_loss: m.generator_loss,
                    ..Point::default()
                }
            }
        };
        self.step += steps as u64;
        Ok(Point { step: self.step, ..point })
    }

    /// One step of one GAN network (GAN Lab's single steps): `discriminator` or the generator.
    pub async fn step_gan_part(&mut self, discriminator: bool) -> Result<Option<Point>, SessionError> {
        let c = &self.config;
        let Model::Gan(engine) = &mut self.model else { return Ok(None) };
        let mut point = Point { step: self.step, ..Point::default() };
        if discriminator {
            let d = engine.step_discriminator(&self.data, c.batch, c.gan_knobs()).await?;
            point.d_loss = d.loss_real + d.loss_fake;
        } else {
            point.g_loss = engine.step_generator(c.batch, c.gan_knobs()).await?;
        }
        point.total = point.d_loss + point.g_loss;
        Ok(Some(point))
    }

    /// Scores both splits (VAE family: negative ELBO; GAN: D on held-out real rows) into `point`,
    /// and runs early stopping. Returns a message when early stopping ends the run.
    pub async fn evaluate(&mut self, point: &mut Point) -> Result<Option<String>, SessionError> {
        let (batch, seed) = (self.config.batch, latent_core::rng::fold_seed(self.config.seed));
        match &mut self.model {
            Model::Gan(engine) => {
                point.d_accuracy = Some(engine.evaluate(&self.data, batch).await?.accuracy_real);
                Ok(None)
            }
            Model::Vae(engine) => {
                let train = engine.evaluate(&self.data, EvalSplit::Train, batch, seed).await?;
                let test = engine.evaluate(&self.data, EvalSplit::Test, batch, seed).await?;
                (point.train, point.test) = (Some(train), Some(test));
                if !self.config.early_stopping || !test.is_finite() {
                    return Ok(None);
                }
                let stopping = self.stopping.get_or_insert_with(|| EarlyStopping::new(PATIENCE, 0.0));
                match stopping.observe(self.step, test) {
                    StopDecision::Improved => engine.checkpoint(&mut self.saved, false)?,
                    StopDecision::Wait => {}
                    StopDecision::Stop => {
                        engine.checkpoint(&mut self.saved, true)?;
                        let (best_step, best) = stopping.best().unwrap_or((self.step, test));
                        stopping.reset();
                        return Ok(Some(format!("Early stopping: the held-out loss has not improved for {PATIENCE} evaluations. The best model (step {best_step}, held-out −ELBO {best:.1}) is restored; press play to train on.")));
                    }
                }
                Ok(None)
            }
        }
    }

    /// The step early stopping saw the best held-out loss at.
    pub fn best_step(&self) -> Option<u64> {
        self.stopping.as_ref().and_then(EarlyStopping::best).map(|(step, _)| step)
    }

    /// Reads back everything the picture views draw.
    pub async fn views(&self) -> Result<Views, SessionError> {
        let dim = self.data.dim;
        let mut views =
            Views { dim, kl_per_dim: self.kl_per_dim.clone(), real: self.data.points_2d().into_iter().take(POINTS_2D).collect(), ..Views::default() };
        match &self.model {
            Model::Gan(engine) => {
                views.samples = engine.samples(POINTS_2D, self.config.seed).await?;
                views.heat = engine.map(&map_grid(MAP_SIDE, toy2d::VIEW_HALF_EXTENT)).await?;
                views.weights = histograms(&engine.arch().g_layout, &engine.generator_parameters().await?);
            }
            Model::Vae(engine) => {
                let latent = self.config.latent;
                let (samples, inputs, recons) = engine.figures(&self.data, self.config.batch, latent, latent_core::rng::fold_seed(self.config.seed)).await?;
                let keep = |v: Vec<f32>| v.into_iter().take(GRID_IMAGES * dim).collect::<Vec<_>>();
                (views.samples, views.inputs, views.reconstructions) = (keep(samples), keep(inputs), keep(recons));
                if dim == 2 {
                    views.samples = self.decode_prior(engine, latent).await?;
                }
                let means = engine.latent_means(&self.data, self.config.batch).await?;
                views.dims = latent_views::most_varied_dims(&means, latent);
                let (a, b) = views.dims;
                views.latent = means.chunks_exact(latent).take(SCATTER_POINTS).map(|m| [m[a], m[b.min(latent - 1)]]).collect();
                views.labels = self.data.test_labels(views.latent.len());
                if dim == mnist::PIXELS && means.iter().all(|v| v.is_finite()) {
                    views.manifold = engine.decode(&latent_views::manifold_grid(latent, views.dims, MANIFOLD_SIDE, MANIFOLD_EXTENT), latent).await?;
                    let rows = means.len() / latent;
                    let (i, j) = (self.pair.0.min(rows.saturating_sub(1)), self.pair.1.min(rows.saturating_sub(1)));
                    let line = latent_views::interpolate(&means[i * latent..][..latent], &means[j * latent..][..latent], INTERPOLATION_STEPS);
                    views.interpolation = engine.decode(&line, latent).await?;
                }
                views.weights = histograms(&engine.arch().layout, &engine.parameters().await?);
            }
        }
        if let (Dataset::Toy(dist), true) = (self.config.dataset, dim == 2) {
            views.modes = modes(dist, self.config.noise, &views.samples);
        }
        Ok(views)
    }

    /// A 2D VAE's picture of its density: the decoder's means at many prior codes.
    async fn decode_prior(&self, engine: &VaeEngine, latent: usize) -> Result<Vec<f32>, SessionError> {
        let codes = latent_core::model::vae::prior_noise::<f32>(latent_core::rng::fold_seed(self.config.seed), POINTS_2D, latent);
        engine.decode(&codes.data, latent).await
    }

    /// The run as a file: its settings, metric history and weights.
    pub async fn export(&self, history: &[Point]) -> Result<RunFile, SessionError> {
        let params = self.saved_parameters().await?;
        Ok(RunFile::new(&self.config, self.step, history.iter().map(Point::to_row).collect(), &params))
    }

    /// The weights as they are now, if every one is finite: a point a diverged or lost run can be
    /// rebuilt from. (A step can return a finite loss and still leave a NaN in the weights, so the
    /// weights themselves are checked.)
    pub async fn checkpoint(&self) -> Result<Option<Checkpoint>, SessionError> {
        let weights = self.saved_parameters().await?;
        Ok(weights.iter().all(|w| w.is_finite()).then_some(Checkpoint { step: self.step, weights }))
    }

    /// What a run file and a checkpoint keep: the VAE's encoder and decoder, or the GAN's generator
    /// (a discriminator is retrained from scratch when the run is rebuilt).
    async fn saved_parameters(&self) -> Result<Vec<f32>, SessionError> {
        match &self.model {
            Model::Vae(engine) => engine.parameters().await,
            Model::Gan(engine) => engine.generator_parameters().await,
        }
    }

    /// Held-out row indices of the latent scatter's points (for picking interpolation ends).
    pub fn set_pair(&mut self, pair: (usize, usize)) {
        self.pair = pair;
    }
}

/// Modes of `dist` covered by `samples` (flat 2D points), as the CLI counts them.
fn modes(dist: Toy2d, noise: f32, samples: &[f32]) -> Option<(usize, usize)> {
    let centres = dist.modes()?;
    let radius = (3.0 * noise).max(0.1);
    Some((toy2d::modes_covered(&as_points(samples), &centres, radius, MODE_SHARE), centres.len()))
}

/// One histogram per weight matrix (biases left out: penalties act on weights only).
fn histograms(layout: &ParamLayout, params: &[f32]) -> Vec<Histogram> {
    layout
        .slots
        .iter()
        .filter(|s| s.is_weight)
        .filter_map(|slot| {
            let w = params.get(slot.range())?;
            let reach = w.iter().filter(|v| v.is_finite()).fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
            let mut counts = vec![0u32; HISTOGRAM_BINS];
            for v in w.iter().filter(|v| v.is_finite()) {
                let bin = (((v / reach) + 1.0) * 0.5 * HISTOGRAM_BINS as f32).floor() as usize;
                counts[bin.min(HISTOGRAM_BINS - 1)] += 1;
            }
            let near_zero = w.iter().filter(|v| v.abs() < 1e-3).count() as f32 / w.len().max(1) as f32;
            Some(Histogram { name: slot.name.clone(), reach, counts, near_zero })
        })
        .collect()
}
