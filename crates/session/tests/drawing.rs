//! The drawing pad's round trip, natively on the CPU engine at the page's CPU defaults: a VAE
//! trained on the digits encodes a scripted stroke the pad made, and the held-out digits nearest
//! its code (over every latent dimension, as the page reports them) are mostly the digit drawn. A
//! "1" and a "0" are drawn, so a model that sends every drawing to the same place fails.
//!
//! `cargo test --locked -p latent-session --test drawing -- --nocapture` prints the votes.

use latent_session::config::{EnginePref, LabConfig};
use latent_session::draw_pad::{nearest_labels, DrawPad};
use latent_session::run::ViewRequest;
use latent_session::Engine;
use latent_session::{Run, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");
/// Steps the VAE trains before the drawings are encoded.
const STEPS: usize = 1500;
/// Held-out codes that vote on a drawing.
const NEIGHBOURS: usize = 15;

/// A stroke through `points` (pad coordinates), with points every half pixel as a pointer gives them.
fn stroke(pad: &mut DrawPad, points: &[[f32; 2]]) {
    pad.begin(points[0]);
    for pair in points.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let n = ((b[0] - a[0]).hypot(b[1] - a[1]) * 2.0).ceil().max(1.0) as usize;
        for i in 1..=n {
            let t = i as f32 / n as f32;
            pad.extend([a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t]);
        }
    }
}

/// A slightly slanted "1", drawn small and off-centre.
fn one() -> DrawPad {
    let mut pad = DrawPad::default();
    stroke(&mut pad, &[[18.0, 4.0], [16.5, 16.0]]);
    pad
}

/// A "0": an ellipse taller than wide.
fn zero() -> DrawPad {
    let mut pad = DrawPad::default();
    let points: Vec<[f32; 2]> = (0..=40).map(|i| i as f32 / 40.0 * std::f32::consts::TAU).map(|a| [14.0 + 6.0 * a.sin(), 14.0 - 9.0 * a.cos()]).collect();
    stroke(&mut pad, &points);
    pad
}

#[test]
fn a_drawn_one_and_zero_land_near_held_out_ones_and_zeros() {
    let mut config = LabConfig { engine: EnginePref::Cpu, ..LabConfig::default() };
    config.shrink_for_cpu();
    let mut run = Run::build(config.run_spec(), Engine::Cpu, Some(MNIST), Start::Fresh).unwrap_or_else(|e| panic!("building: {e}"));
    block_on(run.advance(STEPS)).unwrap_or_else(|e| panic!("training: {e}"));
    let request = ViewRequest {
        images: 1,
        points_2d: 0,
        scatter_points: Some(1000),
        manifold_side: 0,
        interpolations: Vec::new(),
        interpolation_steps: 0,
        histogram_bins: None,
    };
    let views = block_on(run.views(&request)).unwrap_or_else(|e| panic!("views: {e}"));
    let latent = views.codes.len() / views.labels.len();
    for (digit, pad) in [(1u8, one()), (0, zero())] {
        let input = pad.encoder_input().expect("the pad has ink");
        let drawing = block_on(run.encode_drawing(&input)).unwrap_or_else(|e| panic!("encoding: {e}"));
        assert_eq!((drawing.mean.len(), drawing.kl_per_dim.len(), drawing.reconstruction.len()), (latent, latent, input.len()));
        assert!(drawing.kl_per_dim.iter().all(|k| k.is_finite() && *k >= 0.0) && drawing.sigma().all(|s| s > 0.0));
        let votes = nearest_labels(&views.codes, latent, &views.labels, &drawing.mean, NEIGHBOURS);
        println!("a drawn {digit} after {STEPS} steps: its {NEIGHBOURS} nearest held-out digits {votes:?}");
        let mine = votes.iter().find(|(label, _)| *label == digit).map_or(0, |(_, n)| *n);
        assert!(2 * mine > NEIGHBOURS, "a drawn {digit} should land mostly among held-out {digit}s: {votes:?}");
    }
}

/// A GAN has no encoder, and a VAE on 2D points reads no pictures: both refuse a drawing with a message.
#[test]
fn a_drawing_is_refused_where_no_encoder_reads_it() {
    for query in ["model=gan&data=ring", "model=vae&data=ring"] {
        let (config, _) = LabConfig::from_query(&format!("{query}&engine=cpu"));
        let run = Run::build(config.run_spec(), Engine::Cpu, None, Start::Fresh).unwrap_or_else(|e| panic!("building {query}: {e}"));
        let error = block_on(run.encode_drawing(&one().encoder_input().unwrap())).expect_err(query);
        assert!(!error.to_string().is_empty(), "{query}");
    }
}
