//! `latent train`: presents a session `Run`: a CSV row and a progress-bar line per chunk of
//! `--eval-every` steps, a closing line, and the figures. What the run decides (evaluations,
//! divergence, early stopping and restore-best, β warm-up) is the run's.

use anyhow::{bail, Context as _};
use clap::ArgMatches;
use latent_core::data::mnist;
use latent_session::config::ModelKind;
use latent_session::run::{Progress, RunEvent, StepReport};
use latent_session::{open_engine, CpuReason, EngineChoice, Run, RunSpec, Start};

use crate::args::{BackendArg, ModelArg, TrainArgs};
use crate::fork::{self, Branch, ForkPlan};
use crate::run_figures::{self, Best};
use crate::run_output::{self, Row};

/// The 10,000 MNIST digits shipped with the project (see www/assets/README.md).
pub(crate) const MNIST_ASSET: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");

pub async fn run(args: TrainArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    args.check_flags_apply(matches)?;
    let spec = args.run_spec()?;
    let (kernels, engine) = open(args.backend).await?;
    eprintln!("engine: {engine}");
    let mut run = Run::build(spec.clone(), kernels.as_ref().into(), Some(MNIST_ASSET), Start::Fresh)?;
    let steps = args.steps(run.data().train.len())?;
    let plan = ForkPlan::from_args(&args, &spec, steps)?;
    run_output::prepare(&args.out, &config_json(&args, &spec, steps, run.data().train.len(), &engine))?;

    let mut stopped = None;
    let mut chunks = Vec::new();
    let mut rows = Vec::new();
    let mut branch: Option<Branch> = None;
    let diverged = run_output::drive(&args.out, header(args.model), steps, args.eval_every, async |done, chunk| {
        if let Some(branch) = branch.as_mut() {
            branch.advance(chunk, |p| row(args.model, p)).await?;
        }
        let progress = run.advance(chunk).await?;
        if let Some(RunEvent::EarlyStopped { best_step, best, restored }) = progress.event {
            stopped = Some((best_step, best, restored));
        }
        let row = row(args.model, &progress);
        if branch.is_none() {
            rows.push(row.csv.clone());
        }
        chunks.push(progress);
        if let Some(plan) = plan.as_ref().filter(|p| p.at == done && row.finite) {
            branch = Some(Branch::fork(&run, kernels.as_ref(), plan, &args.out, header(args.model), &rows)?);
            eprintln!("forked at step {done}: the branch trains on with {}", plan.label);
        }
        Ok(row)
    })
    .await?;
    let best = if stopped.is_some() { stopped } else { run.finish()?.map(|(step, best)| (step, best, !args.no_restore_best)) };
    if let Some((best_step, best, restored)) = best {
        let verb = if stopped.is_some() { "stopped early" } else { "finished" };
        let note = if restored { " (its parameters restored)" } else { "" };
        eprintln!("{verb} at step {}; best held-out −ELBO {best:.2} at step {best_step}{note}", run.step());
    }
    let best = best.map(|(step, value, restored)| Best { step, value, restored });
    run_figures::write(&run, &args, &chunks, best, diverged.is_none()).await?;
    match (&plan, &mut branch) {
        (Some(plan), Some(branch)) => {
            branch.end()?;
            fork::finish(&run, &chunks, branch, plan, &args).await?;
        }
        (Some(plan), None) => eprintln!("the run ended at step {} before the fork at step {}: no branch was made", run.step(), plan.at),
        _ => {}
    }
    run_output::finish(&args.out, diverged, &advice(&args))
}

/// Opens the engine `backend` asks for: with `auto`, the GPU engine on a hardware adapter and the
/// CPU twin otherwise; `gpu` insists on the GPU (failing without one). Returns the GPU's kernels
/// (none for the twin) and a line saying which engine trains and why.
pub(crate) async fn open(backend: BackendArg) -> anyhow::Result<(Option<latent_gpu::Kernels>, String)> {
    let (kernels, choice) = open_engine(backend.into()).await;
    let line = match choice {
        EngineChoice::Gpu { adapter, software: false } => format!("GPU engine on {adapter}"),
        EngineChoice::Gpu { adapter, software: true } => {
            format!("GPU engine on {adapter} (a software adapter: the CPU twin is faster here; --backend auto picks it)")
        }
        EngineChoice::Cpu(reason) if backend == BackendArg::Gpu => {
            bail!("no usable GPU adapter ({}); try --backend cpu or auto, or install a Vulkan driver such as lavapipe", cpu_reason(&reason))
        }
        EngineChoice::Cpu(reason) => format!("CPU twin ({})", cpu_reason(&reason)),
    };
    Ok((kernels, line))
}

fn cpu_reason(reason: &CpuReason) -> String {
    match reason {
        CpuReason::Chosen => "--backend cpu".into(),
        CpuReason::NoAdapter(e) => format!("no GPU adapter: {e}"),
        CpuReason::SoftwareAdapter(adapter) => {
            format!("the only adapter, {adapter}, is a software one that emulates a GPU on the CPU, slower than the twin; --backend gpu uses it anyway")
        }
        CpuReason::KernelsFailed(e) => format!("the GPU could not compile the kernels: {e}"),
    }
}

fn advice(args: &TrainArgs) -> String {
    match args.model {
        ModelArg::Gan => format!("lower --lr (now {}) or --lr-d, or raise --l2-d", args.knobs.lr),
        _ => format!("lower --lr (now {})", args.knobs.lr),
    }
}

/// The CSV header of a model's `metrics.csv`.
fn header(model: ModelArg) -> &'static str {
    match model {
        ModelArg::Vae => "step,beta,reconstruction,kl,l2_term,l1_term,total,train_negative_elbo,test_negative_elbo",
        ModelArg::VaeGan => "step,beta,reconstruction,kl,l2_term,l1_term,total,train_negative_elbo,test_negative_elbo,generator_loss,d_loss_real,d_loss_fake,d_acc_real,d_acc_fake",
        ModelArg::Gan => "step,d_loss_real,d_loss_fake,d_acc_real,d_acc_fake,d_loss_test_real,d_acc_test_real,g_loss,d_l2_term,g_l2_term",
    }
}

/// The CSV line and progress message of a chunk.
fn row(model: ModelArg, progress: &Progress) -> Row {
    let p = &progress.point;
    let finite = progress.event != Some(RunEvent::Diverged);
    let stop = matches!(progress.event, Some(RunEvent::EarlyStopped { .. }));
    let nan = |v: Option<f64>| v.unwrap_or(f64::NAN);
    let join = |values: &[f64]| values.iter().map(ToString::to_string).collect::<Vec<_>>().join(",");
    match &progress.report {
        StepReport::Vae { metrics: m, beta } => {
            let (v, d) = (&m.vae, &m.discriminator);
            let mut csv = format!("{},{beta},{}", p.step, join(&[v.reconstruction, v.kl, v.l2_term, v.l1_term, p.total, nan(p.train), nan(p.test)]));
            if model == ModelArg::VaeGan {
                csv.push_str(&format!(",{}", join(&[m.generator_loss, d.loss_real, d.loss_fake, d.accuracy_real, d.accuracy_fake])));
            }
            Row { csv, message: format!("loss {:.2}  −ELBO train {:.2} test {:.2}", p.total, nan(p.train), nan(p.test)), finite, stop }
        }
        StepReport::Gan { metrics: m, held_out } => {
            let d = &m.discriminator;
            let (test_loss, test_accuracy) = held_out.map_or((f64::NAN, f64::NAN), |h| (h.loss_real, h.accuracy_real));
            let values =
                [d.loss_real, d.loss_fake, d.accuracy_real, d.accuracy_fake, test_loss, test_accuracy, m.generator_loss, d.l2_term, m.generator_l2_term];
            let message = format!(
                "D loss {:.3} (real {:.2}, fake {:.2} right; held-out {:.2})  G loss {:.3}",
                d.loss_real + d.loss_fake,
                d.accuracy_real,
                d.accuracy_fake,
                test_accuracy,
                m.generator_loss
            );
            Row { csv: format!("{},{}", p.step, join(&values)), message, finite, stop }
        }
    }
}

/// `config.json`: every setting of the run, resolved.
fn config_json(args: &TrainArgs, spec: &RunSpec, steps: usize, train_rows: usize, engine: &str) -> serde_json::Value {
    let (shape, k) = (&spec.shape, &spec.knobs);
    let mut config = serde_json::json!({
        "model": ModelKind::from(args.model).key(),
        "dataset": args.dataset,
        "train_rows": train_rows,
        "noise": short(args.noise),
        "lr": short(k.lr),
        "batch": shape.batch,
        "steps": steps,
        "seed": shape.seed,
        "backend": format!("{:?}", args.backend).to_lowercase(),
        "engine": engine,
        "hidden": shape.hidden,
        "latent": shape.latent,
        "activation": shape.activation.name(),
    });
    let fields = match args.model {
        ModelArg::Gan => {
            let gan = shape.gan_spec(spec.data.dataset);
            serde_json::json!({
                "lr_d": short(k.adam_discriminator().lr),
                "adam_beta1": short(k.adam_generator().beta1),
                "d_steps": k.d_steps,
                "l2_g": short(k.l2_generator()),
                "l2_d": short(k.l2_discriminator()),
                "g_hidden": gan.generator_hidden,
                "d_hidden": gan.discriminator_hidden,
                "g_activation": gan.generator_activation.name(),
                "d_activation": gan.discriminator_activation.name(),
            })
        }
        ModelArg::Vae | ModelArg::VaeGan => {
            let mut fields = serde_json::json!({
                "beta": short(k.beta),
                "beta_warmup_steps": args.beta_warmup,
                "early_stopping_patience": args.early_stopping,
                "early_stopping_min_delta": args.min_delta,
                "restore_best": args.early_stopping > 0 && !args.no_restore_best,
                "l1": short(k.l1),
                "l2": short(k.l2),
                "dropout": short(k.dropout),
                "optimizer": k.optimizer.name(),
                "momentum": short(k.momentum),
            });
            if args.model == ModelArg::VaeGan {
                let d_hidden = spec.shape.vae_gan_spec(spec.data.dataset).discriminator_hidden;
                fields["gamma"] = short(k.gamma).into();
                fields["d_hidden"] = d_hidden.into();
                fields["lr_d"] = short(k.adam_discriminator().lr).into();
                fields["l2_d"] = short(k.l2_discriminator()).into();
            }
            fields
        }
    };
    if let (Some(config), Some(fields)) = (config.as_object_mut(), fields.as_object()) {
        config.extend(fields.clone());
    }
    config
}

/// An f32 as the shortest decimal that reads back to it (0.003, not 0.003000000026077032).
fn short(value: f32) -> f64 {
    value.to_string().parse().unwrap_or(f64::NAN)
}

/// `{"train": [...], "test": [...]}`: the MNIST split in the order `latent train` visits it, for the
/// reference scripts.
pub fn mnist_split_json(train_size: usize) -> anyhow::Result<String> {
    let data = latent_core::data::RunData::mnist(MNIST_ASSET, Some(train_size), mnist::DEFAULT_TEST_COUNT).context("reading the MNIST asset")?;
    Ok(serde_json::json!({ "train": data.train, "test": data.test }).to_string())
}
