//! `latent train`'s figures end to end, as a teacher gets them: every file each model writes exists
//! with the size its layout gives it, SVG charts are real SVG with their text, the loss curve shows
//! what a knob did (not only that it was drawn), and the engine is picked and named without
//! `--backend`. Tiny models on the CPU twin.

mod common;

use std::path::Path;

use common::{latent, out_dir, stderr};

/// Width and height of a PNG, and its pixels as RGB (grey images expanded).
fn read_png(path: &Path) -> (u32, u32, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut pixels = vec![0; reader.output_buffer_size().unwrap_or(0)];
    let info = reader.next_frame(&mut pixels).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    pixels.truncate(info.buffer_size());
    assert_eq!(info.color_type, png::ColorType::Rgb, "{}: RGB expected", path.display());
    (info.width, info.height, pixels)
}

/// Trains with `args` (plus a scratch `--out`), fails the test with stderr if the run fails, and
/// returns the output folder and stderr.
fn train(name: &str, args: &[&str]) -> (std::path::PathBuf, String) {
    let out = out_dir(name);
    let out_arg = out.to_string_lossy().into_owned();
    let mut all = vec!["train"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", &out_arg]);
    let output = latent(&all);
    let message = stderr(&output);
    assert!(output.status.success(), "latent {all:?} failed: {message}");
    (out, message)
}

/// Checks that `name` exists with a width and height inside the given ranges.
fn assert_png(out: &Path, name: &str, width: std::ops::RangeInclusive<u32>, height: std::ops::RangeInclusive<u32>) {
    let (w, h, pixels) = read_png(&out.join(name));
    assert!(width.contains(&w) && height.contains(&h), "{name} is {w}×{h}, expected {width:?} × {height:?}");
    // Not blank: a figure has ink on its white.
    let dark = pixels.chunks_exact(3).filter(|p| p.iter().all(|&c| c < 100)).count();
    assert!(dark > 500, "{name} has only {dark} dark pixels");
}

const MNIST_VAE: [&str; 14] =
    ["--dataset", "mnist", "--train-size", "200", "--hidden", "32", "--latent", "4", "--batch", "50", "--steps", "60", "--eval-every", "10"];

#[test]
fn a_vae_run_writes_every_figure_at_slide_size() {
    let mut args = MNIST_VAE.to_vec();
    args.extend_from_slice(&["--backend", "cpu", "--format", "both"]);
    let (out, _) = train("figures-vae", &args);
    // Charts: two loss panels under the heading; KL bars; the latent scatter with its legend.
    assert_png(&out, "loss.png", 1200..=1200, 800..=900);
    assert_png(&out, "kl.png", 1200..=1200, 580..=650);
    assert_png(&out, "latent.png", 1050..=1050, 880..=950);
    // Grids: 8 columns of 28×3-pixel digits with gaps and margins, a caption strip under them.
    assert_png(&out, "samples.png", 8 * 86 + 24..=1200, 8 * 86 + 24 + 50..=8 * 86 + 24 + 70);
    assert_png(&out, "reconstructions.png", 8 * 86 + 24..=1200, 8 * 86 + 24 + 50..=8 * 86 + 24 + 70);
    assert_png(&out, "manifold.png", 16 * 58 + 24..=1300, 16 * 58 + 24 + 50..=16 * 58 + 24 + 70);
    assert_png(&out, "interpolation.png", 10 * 86 + 24..=1300, 5 * 86 + 24 + 50..=5 * 86 + 24 + 70);
    for chart in ["loss", "kl", "latent"] {
        let svg = std::fs::read_to_string(out.join(format!("{chart}.svg"))).unwrap_or_default();
        assert!(svg.contains("<svg") && svg.contains("</svg>") && svg.contains("<text"), "{chart}.svg is not an SVG chart with text");
    }
    // plotters puts each text on lines of its own: compare without white space.
    let latent_svg: String = std::fs::read_to_string(out.join("latent.svg")).unwrap_or_default().split_whitespace().collect();
    assert!(latent_svg.contains("(posteriormean)") && latent_svg.contains(">9</text>"), "latent.svg lacks its axis names or the digit legend");
    // Digits are drawn ink dark on light, as on the page: the first row of reconstructions.png
    // holds real held-out digits, mostly background, so mostly light, with some dark ink.
    let (width, _, pixels) = read_png(&out.join("reconstructions.png"));
    let first_row = &pixels[13 * width as usize * 3..96 * width as usize * 3];
    let light = first_row.chunks_exact(3).filter(|p| p[0] > 200).count();
    let dark = first_row.chunks_exact(3).filter(|p| p[0] < 60).count();
    assert!(light * 3 > first_row.len() / 3 * 2 && dark > 1000, "real digits should be dark ink on light: {light} light, {dark} dark pixels");
}

#[test]
fn gan_and_vae_gan_runs_write_their_figures() {
    let (out, message) =
        train("figures-gan", &["--model", "gan", "--dataset", "ring", "--steps", "60", "--eval-every", "20", "--backend", "cpu", "--format", "svg"]);
    assert!(message.contains("engine: CPU twin"), "{message}");
    for chart in ["loss", "samples", "discriminator"] {
        let svg = std::fs::read_to_string(out.join(format!("{chart}.svg"))).unwrap_or_default();
        assert!(svg.starts_with("<svg") && svg.contains("</svg>"), "{chart}.svg missing or not SVG");
        assert!(!out.join(format!("{chart}.png")).exists(), "--format svg wrote {chart}.png");
    }
    let loss: String = std::fs::read_to_string(out.join("loss.svg")).unwrap_or_default().split_whitespace().collect();
    assert!(loss.contains(">Daccuracy</text>") && loss.contains(">chance</text>"), "the GAN's loss figure lacks its accuracy panel");

    let mut args = MNIST_VAE.to_vec();
    args.extend_from_slice(&["--model", "vae-gan", "--backend", "cpu"]);
    let (out, _) = train("figures-vae-gan", &args);
    // Three loss panels: the VAE's terms, −ELBO, and the adversarial losses.
    assert_png(&out, "loss.png", 1200..=1200, 1180..=1280);
    for name in ["kl.png", "latent.png", "samples.png", "reconstructions.png"] {
        assert!(out.join(name).exists(), "vae-gan: {name} missing");
    }
}

/// The loss figure shows the penalty: with `--l2` its plot area (not only the title's settings
/// line) differs from the same run without it.
#[test]
fn the_loss_figure_shows_what_l2_did() {
    let mut plain = MNIST_VAE.to_vec();
    plain.extend_from_slice(&["--backend", "cpu"]);
    let mut penalised = plain.clone();
    penalised.extend_from_slice(&["--l2", "0.05"]);
    let (a, _) = train("figures-l2-off", &plain);
    let (b, _) = train("figures-l2-on", &penalised);
    let (wa, ha, pa) = read_png(&a.join("loss.png"));
    let (wb, hb, pb) = read_png(&b.join("loss.png"));
    assert_eq!((wa, ha), (wb, hb), "same layout expected");
    // Below the heading (title and settings, under 110 pixels), left of the legend column.
    let differing = (110..ha as usize).flat_map(|y| (0..900).map(move |x| (y * wa as usize + x) * 3)).filter(|&at| pa[at..at + 3] != pb[at..at + 3]).count();
    assert!(differing > 2000, "only {differing} pixels of the plots differ between --l2 0.05 and none");
    let csv_a = std::fs::read_to_string(a.join("metrics.csv")).unwrap_or_default();
    let csv_b = std::fs::read_to_string(b.join("metrics.csv")).unwrap_or_default();
    assert_ne!(csv_a, csv_b);
}

/// Without `--backend` the run names its engine, and never trains on a software adapter (on a
/// machine without a GPU, lavapipe), where the CPU twin is faster.
#[test]
fn the_default_engine_is_named_and_never_a_software_adapter() {
    let (_, message) = train("figures-auto", &MNIST_VAE);
    let engine = message.lines().find(|l| l.starts_with("engine: ")).unwrap_or_else(|| panic!("no engine line: {message}"));
    let on_hardware_gpu = engine.starts_with("engine: GPU engine on") && !engine.contains("software");
    assert!(on_hardware_gpu || engine.starts_with("engine: CPU twin ("), "{engine}");
}
