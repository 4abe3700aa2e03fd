//! Latent Lab against TensorFlow.js, side by side in headless Chromium: the same model, batch and
//! optimizer, timed by the same protocol (see `tests/browser/tfjs/vae.js` and the app's `bench.rs`).
//! With `--model matmul`, the single products of a VAE step instead: our matmul kernels
//! (`?bench=matmul`, WebGPU and CPU engine) against `tf.matMul` on every backend
//! (`tests/browser/tfjs/matmul.js`).
//!
//! Why a binary and not a test: it prints figures and asserts nothing, and one comparison takes many
//! minutes on a software adapter. `scripts/bench-vs-tfjs` installs the TF.js packages and runs it.
//!
//! Method: the built app (`dist/`) and the TF.js page (`tests/browser/tfjs/`, with its node_modules) are
//! served by two local servers. Every configuration runs once per round, in the same order each
//! round, so slow drift in machine load spreads over all of them instead of landing on one; each run
//! gets a fresh browser, so compilation and warm-up are paid (and measured) every time. The table
//! reports medians over the rounds and the ratios the comparison is about.
//!
//! Every browser is a WebGPU session (`Gpu::WebGpu`). TF.js's WebGL backend needs no extra flag: on
//! headless Chromium 156 without a GPU it gets WebGL 2 from ANGLE on SwiftShader's Vulkan.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _, Result};
use serde_json::{json, Value};

use latent_browser_tests::{paths, Chromedriver, Gpu, Poll, StaticServer};

const USAGE: &str = "usage: bench_vs_tfjs [--rounds R] [--steps N] [--model vae|gan|matmul] [--only TEXT]

Trains the same model with Latent Lab (WebGPU and CPU engines) and TensorFlow.js (webgpu, webgl,
cpu, wasm backends) in headless Chromium, R rounds of every configuration, N timed steps each,
and prints every run's JSON and a table of medians. Defaults: 3 rounds, 20 steps, the VAE.
--model matmul times the products of one VAE step instead: our WebGPU and CPU-engine kernels against
tf.matMul (GFLOP/s per product, each measurement at least 0.5 s; --steps does not apply).
--only keeps the configurations whose label contains TEXT (e.g. \"TF.js\", \"wasm\").
Needs the built app in dist/ (`trunk build --release`) and `npm ci` in tests/browser/tfjs.";

/// Which page trains the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Ours,
    Tfjs,
}

/// One configuration of the comparison.
#[derive(Clone, Copy, Debug)]
struct Config {
    label: &'static str,
    side: Side,
    /// `engine=` for the app, `backend=` for TF.js.
    engine: &'static str,
}

const CONFIGS: [Config; 6] = [
    Config { label: "Latent Lab WebGPU", side: Side::Ours, engine: "webgpu" },
    Config { label: "Latent Lab CPU (wasm)", side: Side::Ours, engine: "cpu" },
    Config { label: "TF.js webgpu", side: Side::Tfjs, engine: "webgpu" },
    Config { label: "TF.js webgl", side: Side::Tfjs, engine: "webgl" },
    Config { label: "TF.js cpu", side: Side::Tfjs, engine: "cpu" },
    Config { label: "TF.js wasm", side: Side::Tfjs, engine: "wasm" },
];

#[derive(Debug)]
struct Args {
    rounds: usize,
    steps: usize,
    model: String,
    /// Keep only configurations whose label contains this (case-insensitive).
    only: Option<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { rounds: 3, steps: 20, model: "vae".into(), only: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value\n\n{USAGE}"));
        match flag.as_str() {
            "--rounds" => args.rounds = value()?.parse().context("--rounds takes a whole number")?,
            "--steps" => args.steps = value()?.parse().context("--steps takes a whole number")?,
            "--model" => args.model = value()?,
            "--only" => args.only = Some(value()?.to_lowercase()),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    if args.rounds == 0 || args.steps == 0 {
        bail!("--rounds and --steps must be at least 1");
    }
    if !["vae", "gan", "matmul"].contains(&args.model.as_str()) {
        bail!("--model is vae, gan or matmul, not {}", args.model);
    }
    Ok(args)
}

/// `tests/browser/tfjs/`, checked to hold the installed TF.js packages.
fn tfjs_dir() -> Result<PathBuf> {
    let dir = paths::repo_root().join("tests").join("browser").join("tfjs");
    if !dir.join("node_modules/@tensorflow/tfjs/dist/tf.min.js").is_file() {
        bail!("TF.js is not installed in {}: run `npm ci` there (scripts/bench-vs-tfjs does)", dir.display());
    }
    Ok(dir)
}

/// The servers of the two sites, and the page URL of one run.
struct Sites {
    ours: StaticServer,
    tfjs: StaticServer,
}

impl Sites {
    fn url(&self, config: Config, args: &Args) -> String {
        let (steps, model) = (args.steps, &args.model);
        match config.side {
            Side::Ours if model == "matmul" => self.ours.url(&format!("/?bench=matmul&engine={}", config.engine)),
            Side::Tfjs if model == "matmul" => self.tfjs.url(&format!("/matmul.html?backend={}", config.engine)),
            Side::Ours => {
                let model = if model == "gan" { "&model=gan" } else { "" };
                self.ours.url(&format!("/?bench={steps}&engine={}{model}", config.engine))
            }
            Side::Tfjs => self.tfjs.url(&format!("/?backend={}&steps={steps}&model={model}", config.engine)),
        }
    }
}

/// The page's `#bench-result` once it is done; a page that reports an error stops the wait at once.
const RESULT: &str = "(() => {
    const out = document.getElementById('bench-result');
    if (!out) return null;
    if (out.dataset.state === 'error') return { fail: out.textContent };
    return out.dataset.state === 'done' ? out.textContent : null;
})()";

/// Runs one configuration in a fresh browser and returns its JSON report.
fn run_once(driver: &Chromedriver, sites: &Sites, config: Config, args: &Args, round: usize) -> Result<Value> {
    let name = format!("bench-{}-{}-r{round}", if config.side == Side::Ours { "ours" } else { "tfjs" }, config.engine);
    let session = driver.new_session(&name, Gpu::WebGpu)?;
    session.set_diagnostic(
        "({ status: (document.getElementById('bench-status') || document.getElementById('lab-status') || {}).textContent, \
           result: (document.getElementById('bench-result') || {}).textContent })",
    );
    session.navigate(&sites.url(config, args))?;
    // TF.js's WebGPU backend on SwiftShader needs 25-40 s to warm up and runs ~0.4 steps/s; leave
    // plenty of room on top, since a slow run is a result and a timed-out one is not. Looking once a
    // second keeps the probe scripts from stealing time from the page being measured.
    let poll = Poll { timeout: Duration::from_secs(240 + 15 * args.steps as u64), every: Duration::from_secs(1) };
    let text = session.wait_until_as(poll, "#bench-result done", RESULT)?;
    let text = text.as_str().context("#bench-result is not text")?;
    serde_json::from_str(text).with_context(|| format!("#bench-result is not JSON: {text}"))
}

fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

/// Medians of one configuration over its successful runs.
#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    runs: usize,
    steps_per_second: Option<f64>,
    time_to_first_step_ms: Option<f64>,
    build_to_first_step_ms: Option<f64>,
}

fn summarize(reports: &[Value]) -> Summary {
    let field = |key: &str| {
        let mut values: Vec<f64> = reports.iter().filter_map(|r| r.get(key).and_then(Value::as_f64)).collect();
        median(&mut values)
    };
    Summary {
        runs: reports.len(),
        steps_per_second: field("steps_per_second"),
        time_to_first_step_ms: field("time_to_first_step_ms"),
        build_to_first_step_ms: field("build_to_first_step_ms"),
    }
}

fn fmt(value: Option<f64>, decimals: usize) -> String {
    value.map_or_else(|| "—".to_string(), |v| format!("{v:.decimals$}"))
}

/// "a / b" as a speed-up, or why there is none.
fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
        _ => "— (a side did not run)".to_string(),
    }
}

fn print_table(args: &Args, summaries: &[(Config, Summary)], rounds: usize) {
    println!();
    println!("## {} — median of {rounds} round(s), {} timed steps, batch 128", args.model, args.steps);
    println!();
    println!("| configuration | ok runs | steps/s | time to first step (ms) | build → first step (ms) |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    for (config, s) in summaries {
        println!(
            "| {} | {}/{rounds} | {} | {} | {} |",
            config.label,
            s.runs,
            fmt(s.steps_per_second, 3),
            fmt(s.time_to_first_step_ms, 0),
            fmt(s.build_to_first_step_ms, 0)
        );
    }
    let get = |side: Side, engine: &str| summaries.iter().find(|(c, _)| c.side == side && c.engine == engine).map(|(_, s)| *s).unwrap_or_default();
    let best = |side: Side| {
        summaries
            .iter()
            .filter(|(c, s)| c.side == side && s.steps_per_second.is_some())
            .max_by(|a, b| a.1.steps_per_second.unwrap_or(0.0).total_cmp(&b.1.steps_per_second.unwrap_or(0.0)))
            .map(|(c, s)| (c.label, *s))
    };
    let ours_gpu = get(Side::Ours, "webgpu");
    let ours_cpu = get(Side::Ours, "cpu");
    let tf_gpu = get(Side::Tfjs, "webgpu");
    println!();
    println!("Ratios (> 1 means Latent Lab is faster; steps/s as ours ÷ theirs, first step as theirs ÷ ours):");
    println!();
    println!("| comparison | steps/s | time to first step |");
    println!("| --- | ---: | ---: |");
    let line = |name: String, ours: Summary, theirs: Summary| {
        println!(
            "| {name} | {} | {} |",
            ratio(ours.steps_per_second, theirs.steps_per_second),
            ratio(theirs.time_to_first_step_ms, ours.time_to_first_step_ms)
        );
    };
    line("ours WebGPU vs TF.js webgpu".into(), ours_gpu, tf_gpu);
    match (best(Side::Ours), best(Side::Tfjs)) {
        (Some((ours_label, ours)), Some((tf_label, tf))) => {
            line(format!("ours best ({ours_label}) vs TF.js best ({tf_label})"), ours, tf);
        }
        _ => println!("| ours best vs TF.js best | — (a side did not run) | — |"),
    }
    line("ours CPU engine vs TF.js cpu".into(), ours_cpu, get(Side::Tfjs, "cpu"));
    line("ours CPU engine vs TF.js wasm".into(), ours_cpu, get(Side::Tfjs, "wasm"));
}

/// Per product (rows) and configuration (columns): the median GFLOP/s over the rounds, and ours
/// against the best TF.js backend.
fn print_matmul_table(configs: &[Config], reports: &[Vec<Value>], rounds: usize) {
    let shapes = |report: &Value| report.get("shapes").and_then(Value::as_array).cloned().unwrap_or_default();
    // Product names in the order the first report lists them.
    let Some(names): Option<Vec<String>> =
        reports.iter().flatten().next().map(|r| shapes(r).iter().filter_map(|s| s.get("what").and_then(Value::as_str).map(String::from)).collect())
    else {
        println!("no configuration reported any product");
        return;
    };
    let gflops = |runs: &[Value], name: &str| {
        let mut values: Vec<f64> = runs
            .iter()
            .flat_map(&shapes)
            .filter(|s| s.get("what").and_then(Value::as_str) == Some(name))
            .filter_map(|s| s.get("gflops").and_then(Value::as_f64))
            .collect();
        median(&mut values)
    };
    println!();
    println!("## matmul GFLOP/s per product of a reference-VAE step — median of {rounds} round(s)");
    println!();
    let labels: Vec<&str> = configs.iter().map(|c| c.label).collect();
    println!("| product | {} | ours ÷ best TF.js |", labels.join(" | "));
    println!("| --- |{} ---: |", " ---: |".repeat(labels.len()));
    for name in &names {
        let row: Vec<Option<f64>> = reports.iter().map(|runs| gflops(runs, name)).collect();
        let side_best = |side: Side| configs.iter().zip(&row).filter(|(c, _)| c.side == side).filter_map(|(_, v)| *v).max_by(f64::total_cmp);
        let cells: Vec<String> = row.iter().map(|v| fmt(*v, 2)).collect();
        println!("| {name} | {} | {} |", cells.join(" | "), ratio(side_best(Side::Ours), side_best(Side::Tfjs)));
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let sites = Sites { ours: StaticServer::start(paths::dist_dir()?)?, tfjs: StaticServer::start(tfjs_dir()?)? };
    let configs: Vec<Config> = CONFIGS.into_iter().filter(|c| args.only.as_ref().is_none_or(|only| c.label.to_lowercase().contains(only.as_str()))).collect();
    if configs.is_empty() {
        bail!("--only {:?} matches no configuration", args.only.unwrap_or_default());
    }
    let driver = Chromedriver::start()?;
    let mut reports: Vec<Vec<Value>> = vec![Vec::new(); configs.len()];
    for round in 1..=args.rounds {
        for (i, config) in configs.iter().enumerate() {
            eprintln!("round {round}/{}: {} …", args.rounds, config.label);
            match run_once(&driver, &sites, *config, &args, round) {
                Ok(report) => {
                    println!("{report}");
                    reports[i].push(report);
                }
                // One backend failing (no WebGL here, say) must not sink the rest of the comparison.
                Err(error) => {
                    println!("{}", json!({ "config": config.label, "round": round, "error": format!("{error:#}") }))
                }
            }
        }
    }
    if args.model == "matmul" {
        print_matmul_table(&configs, &reports, args.rounds);
        return Ok(());
    }
    let summaries: Vec<(Config, Summary)> = configs.iter().zip(&reports).map(|(c, r)| (*c, summarize(r))).collect();
    print_table(&args, &summaries, args.rounds);
    Ok(())
}
