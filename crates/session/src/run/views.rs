//! What a run shows: the pictures every front end draws (samples, reconstructions, the latent
//! scatter, the decoder over a grid and along lines between digits, real against generated points
//! over D's heat map, weight histograms, modes covered), read back together at the sizes a front
//! end asks for.

use latent_core::data::mnist;
use latent_core::data::toy2d::{self, Toy2d};
use latent_core::engine::{ModelError, VaeModel};
use latent_core::metrics::{gradient_energy, mmd_squared};
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

/// A histogram of one weight matrix, on its layer's fixed frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub name: String,
    /// Range of the bins (symmetric around 0): fixed while training, so L2's narrowing shows as
    /// the bars drawing in, not as the axis rescaling under them.
    pub reach: f32,
    pub counts: Vec<u32>,
    /// The starting weights on the same bins (from a sample, scaled to the layer's count): the
    /// faint outline a histogram is compared with.
    pub initial: Vec<u32>,
    /// Share of weights within 1e-3 of zero (what L1 drives up).
    pub near_zero: f32,
    /// Shares of weights below −reach and above reach: counted here, not in the edge bins, where
    /// they would pile up into a false U shape once training outgrows the frame.
    pub beyond: [f32; 2],
}

/// The frame of one weight matrix's histogram: a fixed range, and a sample of its starting
/// weights for the outline (a sample keeps the largest model's frames under a megabyte).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct HistogramFrame {
    reach: f32,
    start: Vec<f32>,
}

/// Most starting weights kept per matrix for its outline.
const START_SAMPLE: usize = 16_384;
/// The frame reaches this many times the largest weight it is drawn from: room for training to
/// spread the weights before they pile up in the edge bins (the MNIST VAE's layers reached 2-3
/// times their starting range in 400 steps even under L2 0.01).
const FRAME_MARGIN: f32 = 2.5;

/// One frame per weight matrix of each network (its layout and starting parameters).
pub(crate) fn histogram_frames(nets: &[(&ParamLayout, &[f32])]) -> Vec<HistogramFrame> {
    weight_matrices(nets)
        .map(|(_, w)| {
            let stride = w.len().div_ceil(START_SAMPLE).max(1);
            HistogramFrame { reach: frame_reach(w), start: w.iter().step_by(stride).copied().collect() }
        })
        .collect()
}

/// The frames again with each range fitted to the networks' parameters now (the user asked to
/// rescale); the outlines keep the starting weights.
fn rescaled(frames: &[HistogramFrame], nets: &[(&ParamLayout, &[f32])]) -> Vec<HistogramFrame> {
    frames.iter().zip(weight_matrices(nets)).map(|(frame, (_, w))| HistogramFrame { reach: frame_reach(w), ..frame.clone() }).collect()
}

fn frame_reach(w: &[f32]) -> f32 {
    FRAME_MARGIN * w.iter().filter(|v| v.is_finite()).fold(0f32, |m, v| m.max(v.abs())).max(1e-3)
}

/// The weight matrices of each network's layout in its parameters, network after network (biases
/// left out: penalties act on weights only).
fn weight_matrices<'a>(nets: &'a [(&'a ParamLayout, &'a [f32])]) -> impl Iterator<Item = (&'a str, &'a [f32])> {
    nets.iter()
        .flat_map(|&(layout, params)| layout.slots.iter().filter(|s| s.is_weight).filter_map(move |slot| Some((slot.name.as_str(), params.get(slot.range())?))))
}

/// Points of each set the 2D views' MMD compares: its cost grows with the square of the count
/// (256 of each: about 200,000 kernel evaluations per refresh).
const MMD_POINTS: usize = 256;

/// KL (nats) below which a latent dimension counts as collapsed: its posterior ignores the input.
pub const COLLAPSED_KL: f64 = 0.05;

/// Everything the picture views draw, read back together.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Views {
    pub dim: usize,
    /// Decoded prior samples (VAE family: images or 2D points; GAN: generated points).
    pub samples: Vec<f32>,
    /// The samples' sharpness (digits only): their mean gradient energy, which the VAE's blur
    /// keeps low and the VAE-GAN's discriminator pushes up.
    pub sharpness: Option<f64>,
    /// Held-out inputs and their reconstructions (VAE family).
    pub inputs: Vec<f32>,
    pub reconstructions: Vec<f32>,
    /// KL per latent dimension, means over the latest readout's steps.
    pub kl_per_dim: Vec<f64>,
    /// Held-out codes in the two most-varied dimensions, their labels, and those dimensions.
    pub latent: Vec<[f32; 2]>,
    /// The same held-out codes in every dimension (rows × latent μ): what a drawing's nearest
    /// held-out digits are found among.
    pub codes: Vec<f32>,
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
    /// 2D data: the squared MMD between the real and the generated points (0 when they match).
    pub mmd: Option<f64>,
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
            }
            Model::Vae(vae) => self.vae_views(vae.as_ref(), request, &mut views).await?,
        }
        if let Some(bins) = request.histogram_bins {
            let nets = self.model.networks().await?;
            views.weights = histograms(&borrowed(&nets), bins, &self.histogram_frames);
        }
        if let (Dataset::Toy(dist), true) = (self.spec.data.dataset, dim == 2) {
            views.modes = modes(dist, self.spec.data.noise, &views.samples);
        }
        if dim == 2 {
            // The first MMD_POINTS of each set: the score's cost grows with the square of the count.
            let generated: Vec<[f32; 2]> = latent_core::data::as_points(&views.samples).into_iter().take(MMD_POINTS).collect();
            let real = &views.real[..views.real.len().min(MMD_POINTS)];
            views.mmd = mmd_squared(real, &generated).ok().filter(|m| m.is_finite());
        }
        Ok(views)
    }

    async fn vae_views(&self, vae: &dyn VaeModel, request: &ViewRequest, views: &mut Views) -> Result<(), ModelError> {
        let (dim, latent) = (self.data.dim, vae.arch().spec.latent);
        let keep = |v: Vec<f32>| v.into_iter().take(request.images * dim).collect::<Vec<_>>();
        views.samples = vae.samples(if dim == 2 { request.points_2d } else { request.images }).await?;
        if dim == mnist::PIXELS {
            views.sharpness = gradient_energy(&views.samples, mnist::IMAGE_SIDE, mnist::IMAGE_SIDE).ok().filter(|e| e.is_finite());
        }
        views.inputs = keep(self.data.batch(&self.data.test, 0, 0, vae.batch()).data);
        views.reconstructions = keep(vae.reconstructions().await?);
        if let Some(scatter) = request.scatter_points {
            let means = vae.latent_codes().await?.mean;
            views.dims = latent_views::most_varied_dims(&means, latent);
            let (a, b) = views.dims;
            views.latent = means.chunks_exact(latent).take(scatter).map(|m| [m[a], m[b.min(latent - 1)]]).collect();
            views.labels = self.data.test_labels(views.latent.len());
            views.codes = means.iter().take(views.latent.len() * latent).copied().collect();
            if dim == mnist::PIXELS && means.iter().all(|v| v.is_finite()) {
                if request.manifold_side > 0 {
                    views.manifold = vae.decode(&latent_views::manifold_grid(latent, views.dims, request.manifold_side, MANIFOLD_EXTENT)).await?;
                }
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
        Ok(())
    }

    /// Fits each weight histogram's fixed range to the weights now (the outlines keep the
    /// starting weights): for a run whose weights have grown past, or shrunk far inside, the
    /// range they started with.
    pub async fn rescale_histograms(&mut self) -> Result<(), SessionError> {
        let nets = self.model.networks().await?;
        self.histogram_frames = rescaled(&self.histogram_frames, &borrowed(&nets));
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

/// The networks' parameters as slices, as the histogram helpers take them.
fn borrowed<'a>(nets: &'a [(&'a ParamLayout, Vec<f32>)]) -> Vec<(&'a ParamLayout, &'a [f32])> {
    nets.iter().map(|(layout, params)| (*layout, params.as_slice())).collect()
}

/// One histogram per weight matrix of every network, each on its frame.
fn histograms(nets: &[(&ParamLayout, &[f32])], bins: usize, frames: &[HistogramFrame]) -> Vec<Histogram> {
    let bins = bins.max(1);
    weight_matrices(nets)
        .zip(frames)
        .map(|((name, w), frame)| {
            let reach = frame.reach;
            let bin_counts = |values: &[f32]| {
                let mut counts = vec![0u32; bins];
                for v in values.iter().filter(|v| v.abs() <= reach) {
                    // `v = reach` falls in the last bin.
                    let bin = ((v / reach + 1.0) * 0.5 * bins as f32).floor().min((bins - 1) as f32) as usize;
                    counts[bin] += 1;
                }
                counts
            };
            let scale = w.len() as f64 / frame.start.len().max(1) as f64;
            let initial = bin_counts(&frame.start).into_iter().map(|c| (f64::from(c) * scale).round() as u32).collect();
            let share = |count: usize| count as f32 / w.len().max(1) as f32;
            Histogram {
                name: name.to_string(),
                reach,
                counts: bin_counts(w),
                initial,
                near_zero: share(w.iter().filter(|v| v.abs() < 1e-3).count()),
                beyond: [share(w.iter().filter(|&&v| v < -reach).count()), share(w.iter().filter(|&&v| v > reach).count())],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{LabConfig, ModelKind};
    use crate::run::Engine;
    use crate::run::Start;
    use pollster::block_on;

    /// The least of every view, and 20-bin weight histograms.
    fn histograms_only() -> ViewRequest {
        ViewRequest {
            images: 1,
            points_2d: 8,
            scatter_points: None,
            manifold_side: 0,
            interpolations: Vec::new(),
            interpolation_steps: 0,
            histogram_bins: Some(20),
        }
    }

    /// A weight histogram keeps its layer's range while training under L2 (the bars move; the
    /// axis does not rescale under them), carries the starting weights as its outline, and takes
    /// a new range only when asked.
    #[test]
    fn histograms_keep_their_frame_until_rescaled() {
        let mut config = LabConfig::defaults_for(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8));
        config.knobs.l2 = 0.05;
        let mut run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
        let request = histograms_only();
        let before = block_on(run.views(&request)).expect("views").weights;
        block_on(run.advance(200)).expect("trains");
        let after = block_on(run.views(&request)).expect("views").weights;
        assert!(!before.is_empty() && before.len() == after.len());
        for (b, a) in before.iter().zip(&after) {
            assert_eq!(a.reach, b.reach, "{}: the range moved while training", a.name);
            assert_eq!(a.initial, b.initial, "{}: the outline is the starting weights", a.name);
            // Every weight is in a bin or beyond the frame.
            let inside: u32 = a.counts.iter().sum();
            let total = (inside as f32 / (1.0 - a.beyond[0] - a.beyond[1])).round() as u32;
            let outline: u32 = a.initial.iter().sum();
            assert!(total.abs_diff(outline) <= total / 50 + 2, "{}: outline of {outline} weights against {total}", a.name);
        }
        block_on(run.rescale_histograms()).expect("rescales");
        let rescaled = block_on(run.views(&request)).expect("views").weights;
        assert!(rescaled.iter().zip(&after).any(|(r, a)| r.reach != a.reach), "training moved the weights, so rescaling moves some range");
        assert_eq!(rescaled[0].initial.iter().sum::<u32>().abs_diff(after[0].initial.iter().sum()), 0, "rescaling keeps the outline's weights");
    }

    /// Weights that outgrow the frame are counted beside it, not piled into the edge bins (which
    /// drew a false U shape once the decoder's weights outgrew their range).
    #[test]
    fn weights_beyond_the_frame_stay_out_of_the_edge_bins() {
        let mut layout = ParamLayout::default();
        layout.push("w", 1, 8, true);
        let start = [0.1, -0.1, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0];
        let frames = histogram_frames(&[(&layout, &start[..layout.len])]);
        let reach = frames[0].reach;
        let grown = [-3.0 * reach, 2.0 * reach, 5.0 * reach, -reach, reach, 0.0, 0.0, 0.0];
        let h = &histograms(&[(&layout, &grown[..layout.len])], 10, &frames)[0];
        assert_eq!(h.counts.iter().sum::<u32>(), 5, "the three weights beyond are not binned: {:?}", h.counts);
        assert_eq!((h.counts[0], h.counts[9]), (1, 1), "±reach itself is inside: {:?}", h.counts);
        assert_eq!(h.beyond, [1.0 / 8.0, 2.0 / 8.0]);
    }

    /// The 2D views score the generated points against the real ones: the ring GAN's MMD falls
    /// as it learns to cover the ring.
    #[test]
    fn the_gan_s_mmd_falls_as_it_covers_the_ring() {
        let config = LabConfig::defaults_for(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8));
        let mut run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
        let request = ViewRequest { points_2d: 512, histogram_bins: None, ..histograms_only() };
        let before = block_on(run.views(&request)).expect("views");
        block_on(run.advance(2000)).expect("trains");
        let after = block_on(run.views(&request)).expect("views");
        let (start, end) = (before.mmd.unwrap_or(f64::NAN), after.mmd.unwrap_or(f64::NAN));
        println!("MMD² {start:.4} → {end:.4}; modes {:?} → {:?}", before.modes, after.modes);
        assert!(end < 0.5 * start, "MMD² {start} → {end} after 2,000 rounds");
        assert!(after.modes.is_some_and(|(m, _)| m >= 6), "{:?}", after.modes);
    }

    /// λ_G at its largest shrinks the generator toward a constant map: after the same rounds it
    /// covers fewer modes of the ring than without, and its MMD to the real points is larger.
    #[test]
    fn a_large_generator_penalty_loses_modes() {
        let trained = |l2_g: f32| {
            let mut config = LabConfig::defaults_for(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8));
            config.knobs.l2_g = Some(l2_g);
            let mut run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
            block_on(run.advance(2000)).expect("trains");
            let views = block_on(run.views(&ViewRequest { points_2d: 512, histogram_bins: None, ..histograms_only() })).expect("views");
            (views.modes.map_or(0, |(m, _)| m), views.mmd.unwrap_or(f64::NAN))
        };
        let (free, penalised) = (trained(0.0), trained(0.1));
        println!("λ_G 0: {} modes, MMD² {:.4}; λ_G 0.1: {} modes, MMD² {:.4}", free.0, free.1, penalised.0, penalised.1);
        assert!(penalised.0 < free.0, "modes covered: {} with λ_G 0.1, {} without", penalised.0, free.0);
        assert!(penalised.1 > 2.0 * free.1, "MMD²: {} with λ_G 0.1, {} without", penalised.1, free.1);
    }

    /// The GAN and the VAE-GAN show the discriminator's weights after the generator's (or the
    /// VAE's), each matrix counted whole, and D's bars move as D trains.
    #[test]
    fn adversarial_models_show_both_networks() {
        for (model, first) in [(ModelKind::Gan, "generator."), (ModelKind::VaeGan, "encoder.")] {
            let config = LabConfig::defaults_for(model, Dataset::Toy(Toy2d::Ring8));
            let mut run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).expect("builds");
            let request = histograms_only();
            let before = block_on(run.views(&request)).expect("views").weights;
            let names: Vec<&str> = before.iter().map(|h| h.name.as_str()).collect();
            assert!(names[0].starts_with(first), "{model:?}: {names:?}");
            let d_at = names.iter().position(|n| n.starts_with("discriminator.")).unwrap_or_else(|| panic!("{model:?} shows no D: {names:?}"));
            assert!(names[d_at..].iter().all(|n| n.starts_with("discriminator.")), "{model:?}: D's matrices come last: {names:?}");
            let widths = config.shape.hidden.iter().chain([&1]);
            let d_sizes: Vec<u32> = std::iter::once(&2).chain(config.shape.hidden.iter()).zip(widths).map(|(a, b)| (a * b) as u32).collect();
            let counted: Vec<u32> = before[d_at..].iter().map(|h| h.counts.iter().sum()).collect();
            assert_eq!(counted, d_sizes, "{model:?}: every weight of D counted once");
            block_on(run.advance(100)).expect("trains");
            let after = block_on(run.views(&request)).expect("views").weights;
            assert!(after[d_at..].iter().zip(&before[d_at..]).any(|(a, b)| a.counts != b.counts), "{model:?}: D trained but its bars stayed");
            assert_eq!(after[d_at].reach, before[d_at].reach, "{model:?}: D's range is fixed too");
        }
    }
}
