//! `bench-run --engine latent|burn [--steps N]`: one measurement, in a fresh process, of one
//! engine training the reference VAE (784-400-20, batch 128, Adam 1e-3, real MNIST) on the Vulkan
//! adapter. Prints one JSON line. A fresh process per measurement keeps one engine's caches,
//! allocator state and driver threads from helping or hurting the other; `bench-vs-burn` runs
//! this binary in alternating rounds and prints the table.
//!
//! A benchmark, not a test: it asserts only that the model is the reference one and that the
//! loss stays finite.

mod burn_engine;
mod burn_vae;
mod latent;
mod protocol;
mod reference;

use std::time::Instant;

use anyhow::{bail, Context as _};

use crate::reference::{Reference, PARAMETERS};

const USAGE: &str = "usage: bench-run --engine latent|burn [--steps N]";

fn main() -> anyhow::Result<()> {
    // Time to first step counts from here: the process has just started, nothing is loaded.
    let process_start = Instant::now();
    let (engine, steps) = parse_args()?;
    let reference = Reference::load()?;
    let run = match engine.as_str() {
        "latent" => latent::run(&reference, steps, process_start)?,
        "burn" => burn_engine::run(&reference, steps, process_start)?,
        other => bail!("unknown engine `{other}`\n{USAGE}"),
    };
    if run.parameters != PARAMETERS {
        bail!("{engine} counts {} parameters, the reference VAE has {PARAMETERS}", run.parameters);
    }
    println!("{}", run.to_json(&engine));
    Ok(())
}

fn parse_args() -> anyhow::Result<(String, usize)> {
    let mut engine = None;
    let mut steps = 20;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--engine" => engine = args.next(),
            "--steps" => steps = args.next().context(USAGE)?.parse().context("--steps takes a positive integer")?,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown argument `{other}`\n{USAGE}"),
        }
    }
    if steps == 0 {
        bail!("--steps must be at least 1");
    }
    Ok((engine.context(USAGE)?, steps))
}
