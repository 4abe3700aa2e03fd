//! What a run shows: the pictures every front end draws (samples, reconstructions, the latent
//! scatter, the decoder over a grid and along lines between digits, real against generated points
//! over D's heat map, weight histograms, modes covered), read back together at the sizes a front
//! end asks for.

use latent_core::data::mnist;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::engine::{ModelError, VaeModel};
use latent_core::model::gan::{map_grid, MAP_SIDE};
use latent_core::model::{latent_views, ParamLayout};

use super::{Model, Run};
use crate::config::Dataset;
use crate::SessionError;

/// A mode is covered when this share of the samples lies within [`MODE_SIGMAS`] noise σ of it.
pub const MODE_SHARE: f32 = 0.02;
pub const MODE_SIGMAS: f32 = 3.0;
/// Smallest coverage radius, so that noise-free data still counts near-misses as hits.
pub const MIN_MODE_RADIUS: f32 = 0.1;
/// How far the decoded grid reaches: ±2.5 σ of the prior.
pub const MANIFOLD_EXTENT: f32 = 2.5;

/// The sizes of the pictures a front end draws.
#[derive(Clone, Debug, PartialEq)]
pub struct ViewRequest {
    /// Images in the sample and reconstruction grids (at most one batch of reconstructions).
    pub images: usize,
    /// Generated points, and real points, in 2D views.
    pub points_2d: usize,
    /// Held-out codes in the latent scatter (`None`: no latent views, e.g. after a divergence).
    pub scatter_points: Option<usize>,
    /// Side of the decoded grid over the two most-used latent dimensions.
    pub manifold_side: usize,
    /// Interpolations between held-out rows (by their place in the scatter), and images in each.
    pub interpolations: Vec<(usize, usize)>,
    pub interpolation_steps: usize,
    /// Bins of a weight histogram per layer (`None`: no histograms).
    pub histogram_bins: Option<usize>,
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

/// KL (nats) below which a latent dimension counts as collapsed: its posterior ignores the input.
pub const COLLAPSED_KL: f64 = 0.05;

/// Everything the picture views draw, read back together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Views {
    pub dim: usize,
    /// Decoded prior samples (VAE family: images or 2D points; GAN: generated points).
    pub samples: Vec<f32>,
    /// Held-out inputs and their reconstructions (VAE family).
    pub inputs: Vec<f32>,
    pub reconstructions: Vec<f32>,
    /// KL per latent dimension, means over the latest readout's steps.
    pub kl_per_dim: Vec<f64>,
    /// Held-out codes in the two most-varied dimensions, their labels, and those dimensions.
    pub latent: Vec<[f32; 2]>,
    pub labels: Vec<u8>,
    pub dims: (usize, usize),
    /// Decoded grid over those two dimensions (images only).
    pub manifold: Vec<f32>,
    /// Decoded lines between the requested pairs of held-out codes, one after another (images only).
    pub interpolation: Vec<f32>,
    /// 2D data: the real training points, and σ(D) over a grid (GAN).
    pub real: Vec<[f32; 2]>,
    pub heat: Vec<f32>,
    pub weights: Vec<Histogram>,
    /// Modes covered by the generated points (ring and grid), of how many.
    pub modes: Option<(usize, usize)>,
}

impl Run {
    /// Reads back everything the picture views draw, at the sizes of `request`.
    pub async fn views(&self, request: &ViewRequest) -> Result<Views, SessionError> {
        let dim = self.data.dim;
        let mut views =
            Views { dim, kl_per_dim: self.kl_per_dim.clone(), real: self.data.points_2d().into_iter().take(request.points_2d).collect(), ..Views::default() };
        match &self.model {
            Model::Gan(gan) => {
                views.samples = gan.samples(request.points_2d).await?;
                views.heat = gan.discriminator_map(&map_grid(MAP_SIDE, toy2d::VIEW_HALF_EXTENT).concat()).await?;
                if let Some(bins) = request.histogram_bins {
                    views.weights = histograms(&gan.arch().g_layout, &gan.generator_parameters().await?, bins);
                }
            }
            Model::Vae(vae) => self.vae_views(vae.as_ref(), request, &mut views).await?,
        }
        if let (Dataset::Toy(dist), true) = (self.spec.data.dataset, dim == 2) {
            views.modes = modes(dist, self.spec.data.noise, &views.samples);
        }
        Ok(views)
    }

    async fn vae_views(&self, vae: &dyn VaeModel, request: &ViewRequest, views: &mut Views) -> Result<(), ModelError> {
        let (dim, latent) = (self.data.dim, vae.arch().spec.latent);
        let keep = |v: Vec<f32>| v.into_iter().take(request.images * dim).collect::<Vec<_>>();
        views.samples = vae.samples(if dim == 2 { request.points_2d } else { request.images }).await?;
        views.inputs = keep(self.data.batch(&self.data.test, 0, 0, vae.batch()).data);
        views.reconstructions = keep(vae.reconstructions().await?);
        if let Some(scatter) = request.scatter_points {
            let means = vae.latent_codes().await?.mean;
            views.dims = latent_views::most_varied_dims(&means, latent);
            let (a, b) = views.dims;
            views.latent = means.chunks_exact(latent).take(scatter).map(|m| [m[a], m[b.min(latent - 1)]]).collect();
            views.labels = self.data.test_labels(views.latent.len());
            if dim == mnist::PIXELS && means.iter().all(|v| v.is_finite()) {
                views.manifold = vae.decode(&latent_views::manifold_grid(latent, views.dims, request.manifold_side, MANIFOLD_EXTENT)).await?;
                let rows = means.len() / latent;
                let mut codes = Vec::new();
                for &(i, j) in &request.interpolations {
                    let (i, j) = (i.min(rows.saturating_sub(1)), j.min(rows.saturating_sub(1)));
                    codes.extend(latent_views::interpolate(&means[i * latent..][..latent], &means[j * latent..][..latent], request.interpolation_steps));
                }
                if !codes.is_empty() {
                    views.interpolation = vae.decode(&codes).await?;
                }
            }
        }
        if let Some(bins) = request.histogram_bins {
            views.weights = histograms(&vae.arch().layout, &vae.parameters().await?, bins);
        }
        Ok(())
    }

    /// Pairs of held-out rows of neighbouring classes (each pair two digits apart in class), for
    /// interpolations: `count` of them.
    pub fn class_pairs(&self, count: usize) -> Vec<(usize, usize)> {
        latent_views::class_pairs(&self.data.test_labels(self.data.test.len()), count)
    }
}

/// Modes of `dist` covered by `samples` (flat 2D points).
fn modes(dist: Toy2d, noise: f32, samples: &[f32]) -> Option<(usize, usize)> {
    let centres = dist.modes()?;
    let radius = (MODE_SIGMAS * noise).max(MIN_MODE_RADIUS);
    Some((toy2d::modes_covered(&latent_core::data::as_points(samples), &centres, radius, MODE_SHARE), centres.len()))
}

/// One histogram per weight matrix (biases left out: penalties act on weights only).
fn histograms(layout: &ParamLayout, params: &[f32], bins: usize) -> Vec<Histogram> {
    let bins = bins.max(1);
    layout
        .slots
        .iter()
        .filter(|s| s.is_weight)
        .filter_map(|slot| {
            let w = params.get(slot.range())?;
            let reach = w.iter().filter(|v| v.is_finite()).fold(0f32, |m, v| m.max(v.abs())).max(1e-3);
            let mut counts = vec![0u32; bins];
            for v in w.iter().filter(|v| v.is_finite()) {
                let bin = (((v / reach) + 1.0) * 0.5 * bins as f32).floor() as usize;
                counts[bin.min(bins - 1)] += 1;
            }
            let near_zero = w.iter().filter(|v| v.abs() < 1e-3).count() as f32 / w.len().max(1) as f32;
            Some(Histogram { name: slot.name.clone(), reach, counts, near_zero })
        })
        .collect()
}
