//! A long training session in headless Chromium, sampled as it goes: does the page keep its speed,
//! and does what it holds (GPU buffers by the engine's ledger, WebAssembly memory, the JS heap) stay
//! flat? A lecture leaves the page open for an hour; a leak or a slowdown shows here in minutes.
//!
//! Why a binary and not a test: it runs for many minutes and prints figures; speed is never asserted.
//! `scripts/long-run` builds the site if needed and runs it.

use std::time::{Duration, Instant};

use anyhow::{bail, Context as _, Result};
use latent_browser_tests::lab::{self, LabStatus};
use latent_browser_tests::{paths, Gpu, Poll, Scenario};

const USAGE: &str = "usage: long_run [--minutes M] [--every S] [--query QUERY]

Opens the built site (dist/) with QUERY (default: the ring GAN on WebGPU, playing), samples
#lab-status every S seconds (default 60) for M minutes (default 20), and prints a table and a summary.";

struct Args {
    minutes: f64,
    every: u64,
    query: String,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { minutes: 20.0, every: 60, query: "engine=webgpu&model=gan&data=ring&autoplay=1".into() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value\n\n{USAGE}"));
        match flag.as_str() {
            "--minutes" => args.minutes = value()?.parse().context("--minutes takes a number")?,
            "--every" => args.every = value()?.parse().context("--every takes whole seconds")?,
            "--query" => args.query = value()?.trim_start_matches('?').to_string(),
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other}\n\n{USAGE}"),
        }
    }
    if args.minutes.is_nan() || args.minutes <= 0.0 || args.every == 0 {
        bail!("--minutes and --every must be positive");
    }
    Ok(args)
}

/// One reading: the status plus the JS heap and when it was taken.
struct Sample {
    at: Duration,
    status: LabStatus,
    js_heap: Option<u64>,
}

fn sample(s: &Scenario, started: Instant) -> Result<Sample> {
    let status = lab::status(&s.session)?;
    // Chrome's non-standard `performance.memory`: the JS heap in use.
    let js_heap = s.session.eval("performance.memory ? performance.memory.usedJSHeapSize : null")?.as_u64();
    Ok(Sample { at: started.elapsed(), status, js_heap })
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or("—".into(), |b| format!("{:.2}", b as f64 / (1u64 << 20) as f64))
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let s = Scenario::start("long_run", &paths::dist_dir()?, Gpu::WebGpu)?;
    lab::watch(&s.session);
    s.open(&format!("/?{}", args.query))?;
    let first = lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) > 0 && num(d.gpuBuffers) >= 0 && d.wasmBytes && num(d.wasmBytes) > 0")?;
    println!("{} on {} ({}): first readout {first:?}", args.query, first.engine, first.model);
    let started = Instant::now();
    let mut samples = vec![sample(&s, started)?];
    let end = Duration::from_secs_f64(args.minutes * 60.0);
    while started.elapsed() < end {
        std::thread::sleep(Duration::from_secs(args.every).min(end.saturating_sub(started.elapsed())).max(Duration::from_secs(1)));
        let now = sample(&s, started)?;
        if now.status.state == "error" || now.status.state == "diverged" {
            bail!("the run stopped at {:.0} s: {:?}", now.at.as_secs_f64(), now.status);
        }
        eprintln!("{:>6.0} s  step {:?}", now.at.as_secs_f64(), now.status.step);
        samples.push(now);
    }
    print_table(&samples);
    Ok(())
}

/// Steps per second between two samples.
fn rate(a: &Sample, b: &Sample) -> Option<f64> {
    let steps = b.status.step?.checked_sub(a.status.step?)?;
    Some(steps as f64 / (b.at - a.at).as_secs_f64().max(1e-3))
}

fn print_table(samples: &[Sample]) {
    println!("\n| minute | step | steps/s since last | GPU buffers | GPU MiB | wasm MiB | JS heap MiB |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (i, now) in samples.iter().enumerate() {
        let since = i.checked_sub(1).and_then(|p| rate(&samples[p], now)).map_or("—".into(), |r| format!("{r:.1}"));
        let st = &now.status;
        println!(
            "| {:.1} | {} | {since} | {} | {} | {} | {} |",
            now.at.as_secs_f64() / 60.0,
            st.step.unwrap_or(0),
            st.gpu_buffers.map_or("—".into(), |b| b.to_string()),
            mib(st.gpu_bytes),
            mib(st.wasm_bytes),
            mib(now.js_heap)
        );
    }
    // Speed over the first and the last third of the session, memory at its start and its end.
    let third = samples.len() / 3;
    if third >= 1 {
        let (early, late) = (rate(&samples[0], &samples[third]), rate(&samples[samples.len() - 1 - third], &samples[samples.len() - 1]));
        if let (Some(early), Some(late)) = (early, late) {
            println!("\nsteps/s: first third {early:.1}, last third {late:.1} (last/first {:.2})", late / early);
        }
    }
    if let (Some(a), Some(b)) = (samples.first(), samples.last()) {
        println!(
            "GPU buffers {} → {}, GPU MiB {} → {}, wasm MiB {} → {}, JS heap MiB {} → {}",
            a.status.gpu_buffers.unwrap_or(0),
            b.status.gpu_buffers.unwrap_or(0),
            mib(a.status.gpu_bytes),
            mib(b.status.gpu_bytes),
            mib(a.status.wasm_bytes),
            mib(b.status.wasm_bytes),
            mib(a.js_heap),
            mib(b.js_heap)
        );
    }
}
