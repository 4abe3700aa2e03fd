//! `bench-vs-burn [--rounds R] [--steps N] [--keep-autotune-cache]`: runs `bench-run` (its sibling
//! binary) in fresh processes, alternating engines round by round (latent, burn, latent, burn,
//! ...) so a slow spell of the shared machine hits both, then prints every JSON line and a markdown
//! table of medians with the ratio ours/burn. `scripts/bench-vs-burn` builds and runs it.
//!
//! burn persists its autotune results between processes; by default the cache is cleared once
//! before the first round, so round 1 shows burn's cold start and later rounds its warm one
//! (each JSON line says which it had).

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{anyhow, bail, Context as _};
use serde_json::Value;

const ENGINES: [&str; 2] = ["latent", "burn"];
const USAGE: &str = "usage: bench-vs-burn [--rounds R] [--steps N] [--keep-autotune-cache]";

struct Options {
    rounds: usize,
    steps: usize,
    keep_cache: bool,
}

fn main() -> anyhow::Result<()> {
    let options = parse_args()?;
    let exe = std::env::current_exe().context("locating bench-vs-burn")?;
    let bin_dir = exe.parent().ok_or_else(|| anyhow!("{exe:?} has no parent dir"))?;
    let runner = bin_dir.join("bench-run");
    if !options.keep_cache {
        clear_autotune_cache(bin_dir)?;
    }
    eprintln!("load average before: {}", load_average());
    let mut runs: Vec<Value> = Vec::new();
    for round in 1..=options.rounds {
        for engine in ENGINES {
            let line = run_once(&runner, engine, options.steps)?;
            eprintln!(
                "round {round}/{} {engine:>6}: {:.2} steps/s, first step after {:.2} s",
                options.rounds,
                num(&line, "steps_per_s"),
                num(&line, "time_to_first_step_s")
            );
            println!("{line}");
            runs.push(line);
        }
    }
    eprintln!("load average after: {}", load_average());
    println!();
    print_table(&runs, &options)
}

fn parse_args() -> anyhow::Result<Options> {
    let mut options = Options { rounds: 3, steps: 20, keep_cache: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value =
            |name: &str| -> anyhow::Result<usize> { args.next().context(USAGE)?.parse().with_context(|| format!("{name} takes a positive integer")) };
        match arg.as_str() {
            "--rounds" => options.rounds = value("--rounds")?,
            "--steps" => options.steps = value("--steps")?,
            "--keep-autotune-cache" => options.keep_cache = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if options.rounds == 0 || options.steps == 0 {
        bail!("--rounds and --steps must be at least 1");
    }
    Ok(options)
}

/// Removes burn's persisted autotune results (`target/cubecl-environment`, see bench-run).
fn clear_autotune_cache(bin_dir: &Path) -> anyhow::Result<()> {
    let Some(target) = bin_dir.parent() else { return Ok(()) };
    let dir: PathBuf = target.join("cubecl-environment");
    match std::fs::remove_dir_all(&dir) {
        Ok(()) => eprintln!("cleared burn's autotune cache {}", dir.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("clearing {}", dir.display())),
    }
    Ok(())
}

/// One measurement in a fresh process; its JSON line.
fn run_once(runner: &Path, engine: &str, steps: usize) -> anyhow::Result<Value> {
    let output =
        Command::new(runner).args(["--engine", engine, "--steps", &steps.to_string()]).output().with_context(|| format!("starting {}", runner.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("bench-run --engine {engine} failed ({}):\n{}{}", output.status, stdout, String::from_utf8_lossy(&output.stderr));
    }
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).ok_or_else(|| anyhow!("bench-run --engine {engine} printed no JSON:\n{stdout}"))?;
    serde_json::from_str(line).with_context(|| format!("parsing {line}"))
}

fn num(line: &Value, key: &str) -> f64 {
    line.get(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn text<'a>(line: &'a Value, key: &str) -> &'a str {
    line.get(key).and_then(Value::as_str).unwrap_or("?")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" ")).unwrap_or_else(|_| "unknown".into())
}

fn print_table(runs: &[Value], options: &Options) -> anyhow::Result<()> {
    let of = |engine: &str| runs.iter().filter(|r| text(r, "engine") == engine).collect::<Vec<_>>();
    let (ours, burn) = (of("latent"), of("burn"));
    let (Some(our_first), Some(burn_first)) = (ours.first(), burn.first()) else { bail!("no runs to tabulate") };
    let median_of = |runs: &[&Value], key: &str| median(runs.iter().map(|r| num(r, key)).collect());
    let list = |runs: &[&Value], key: &str, digits: usize| runs.iter().map(|r| format!("{:.*}", digits, num(r, key))).collect::<Vec<_>>().join(", ");
    let losses = |runs: &[&Value]| runs.iter().map(|r| format!("{:.1} → {:.1}", num(r, "first_loss"), num(r, "last_loss"))).collect::<Vec<_>>().join("; ");
    let (our_rate, burn_rate) = (median_of(&ours, "steps_per_s"), median_of(&burn, "steps_per_s"));
    let (our_first_s, burn_first_s) = (median_of(&ours, "time_to_first_step_s"), median_of(&burn, "time_to_first_step_s"));

    println!("Reference VAE 784-400-20, batch 128, Adam 1e-3, real MNIST; {} rounds of {} timed steps after {} warm-up steps, loss read back every 10 steps; each run a fresh process, engines alternating.", options.rounds, options.steps, num(our_first, "warmup_steps"));
    println!("Adapters: ours {}; burn {}.", text(our_first, "adapter_detail"), text(burn_first, "adapter_detail"));
    if text(our_first, "adapter") != text(burn_first, "adapter") {
        println!("WARNING: the engines ran on different adapters.");
    }
    // Not an assertion (this is a benchmark), but a number from a model that is not learning is
    // not worth comparing.
    // (A NaN loss compares as unordered, so it warns too.)
    let learned = |r: &Value| num(r, "last_loss").partial_cmp(&num(r, "first_loss")) == Some(Ordering::Less);
    for run in runs.iter().filter(|r| !learned(r)) {
        println!("WARNING: {} did not learn: loss {:.1} → {:.1}.", text(run, "engine"), num(run, "first_loss"), num(run, "last_loss"));
    }
    println!();
    println!("| | Latent Lab | burn {} | ours/burn |", text(burn_first, "burn_version"));
    println!("| --- | --- | --- | --- |");
    println!("| steps/s, median (higher is better) | {our_rate:.2} | {burn_rate:.2} | {:.2}× |", our_rate / burn_rate);
    println!("| steps/s, per round | {} | {} | |", list(&ours, "steps_per_s", 2), list(&burn, "steps_per_s", 2));
    println!(
        "| time to first step (s, from process start), median (lower is better) | {our_first_s:.2} | {burn_first_s:.2} | {:.2}× |",
        our_first_s / burn_first_s
    );
    println!("| time to first step, per round | {} | {} | |", list(&ours, "time_to_first_step_s", 2), list(&burn, "time_to_first_step_s", 2));
    println!("| loss, first step → mean of the last readback's steps (nats/example) | {} | {} | |", losses(&ours), losses(&burn));
    println!("| parameters | {:.0} | {:.0} | |", num(our_first, "parameters"), num(burn_first, "parameters"));
    println!(
        "| data per step | on-GPU gather, no upload | host gather + upload: {:.2} ms host/step, {:.2} ms probe incl. sync | |",
        median_of(&burn, "batch_host_ms_per_step"),
        median_of(&burn, "batch_upload_probe_ms")
    );
    println!("| dispatches per step | {} | fused by burn | |", num(our_first, "dispatches_per_step"));
    println!("| burn autotune cache, per round | | {} | |", burn.iter().map(|r| text(r, "autotune_cache")).collect::<Vec<_>>().join(", "));
    Ok(())
}
