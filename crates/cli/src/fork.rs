//! `latent train --fork-at STEP --branch KNOB=VALUE,…`: the run forks at a step into a branch in
//! exactly its state (`Run::fork`: weights, optimizer moments, step counters, so the same data
//! order and noise), the branch takes its own knobs, and both train to the end side by side. The
//! branch writes its `metrics.csv` and figures into `OUT/branch`, and `OUT/fork.png` draws both
//! runs' curves on one chart, the fork marked.

use std::path::Path;

use anyhow::{bail, Context as _};
use latent_core::Knobs;
use latent_gpu::Kernels;
use latent_session::config::{Knob, ModelKind};
use latent_session::run::{Progress, RunEvent};
use latent_session::{Run, RunSpec};

use crate::args::TrainArgs;
use crate::figures::{grouped, save, Format, Heading, LossChart};
use crate::run_figures;
use crate::run_output::{MetricsCsv, Row};

/// Knobs a branch may change: everything but the batch, which sizes the model's buffers.
const BRANCH_KNOBS: [Knob; 9] = [Knob::Beta, Knob::L2, Knob::L1, Knob::Dropout, Knob::Lr, Knob::Gamma, Knob::L2Discriminator, Knob::L2Generator, Knob::DSteps];

/// Where a run forks, the branch's knobs, and how the branch is named on charts and lines.
pub struct ForkPlan {
    pub at: usize,
    pub knobs: Knobs,
    pub label: String,
}

impl ForkPlan {
    /// The plan of `--fork-at` and `--branch`, checked against the run `spec` describes: a step
    /// inside the run on a chunk boundary, knobs that exist, apply to the model and lie in the
    /// sliders' ranges.
    pub fn from_args(args: &TrainArgs, spec: &RunSpec, steps: usize) -> anyhow::Result<Option<Self>> {
        let Some(at) = args.fork_at else { return Ok(None) };
        if at == 0 || at >= steps {
            bail!("--fork-at must be a step inside the run, 1..{steps} (the run trains {steps} steps), got {at}");
        }
        if at % args.eval_every != 0 {
            bail!("--fork-at {at} must be a multiple of --eval-every ({}): the run forks between two rows of metrics", args.eval_every);
        }
        let model = ModelKind::from(args.model);
        let mut branch = spec.knobs;
        // Only for `set_on`'s signature: a branch cannot change the shape (the batch is not offered).
        let mut shape = spec.shape.clone();
        let mut label = Vec::new();
        for change in &args.branch {
            let Some((key, value)) = change.split_once('=') else { bail!("--branch takes KNOB=VALUE pairs, got `{change}`") };
            let keys = BRANCH_KNOBS.map(Knob::key).join(", ");
            let knob =
                Knob::from_key(key.trim()).filter(|k| BRANCH_KNOBS.contains(k)).with_context(|| format!("--branch: unknown knob `{key}`: use {keys}"))?;
            if !knob.applies_to_model(model) {
                bail!("--branch: {} does not apply to the {}", knob.key(), model.name());
            }
            let value: f32 = value.trim().parse().map_err(|_| anyhow::anyhow!("--branch {}: `{value}` is not a number", knob.key()))?;
            let (lo, hi) = knob.scale().bounds();
            if !(lo..=hi).contains(&value) {
                bail!("--branch {}: {value} is outside {lo}..={hi} (the page's range for {})", knob.key(), knob.label());
            }
            knob.set_on(&mut branch, &mut shape, value);
            label.push(format!("{}={}", knob.key(), knob.format(value)));
        }
        if let Err(e) = branch.validate() {
            bail!("--branch: {e}");
        }
        Ok(Some(Self { at, knobs: branch, label: label.join(", ") }))
    }
}

/// The branch while it trains: its run, its chunks since the fork, its `metrics.csv`.
pub struct Branch {
    pub run: Run,
    pub chunks: Vec<Progress>,
    csv: MetricsCsv,
    /// The step at which the branch diverged; it trains no more.
    pub diverged: Option<u64>,
    /// Its own early stopping ended it (its best parameters restored unless --no-restore-best).
    stopped_early: bool,
}

impl Branch {
    /// Forks `source` (built with `kernels`) into `OUT/branch` with the plan's knobs; the CSV starts
    /// with `header` and the source's rows so far, so the branch's file holds its whole history.
    pub fn fork(source: &Run, kernels: Option<&Kernels>, plan: &ForkPlan, out: &Path, header: &str, rows_so_far: &[String]) -> anyhow::Result<Self> {
        let mut run = source.fork(kernels.into()).context("forking the run")?;
        run.set_knobs(&plan.knobs).context("the branch's knobs")?;
        let dir = out.join("branch");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut csv = MetricsCsv::create(&dir, header)?;
        for row in rows_so_far {
            csv.row(row)?;
        }
        Ok(Self { run, chunks: Vec::new(), csv, diverged: None, stopped_early: false })
    }

    /// `steps` more steps, unless the branch diverged or its early stopping ended it; its row goes
    /// to its CSV.
    pub async fn advance(&mut self, steps: usize, row: impl Fn(&Progress) -> Row) -> anyhow::Result<()> {
        if self.diverged.is_some() || self.stopped_early {
            return Ok(());
        }
        let progress = self.run.advance(steps).await?;
        self.csv.row(&row(&progress).csv)?;
        match progress.event {
            Some(RunEvent::Diverged) => self.diverged = Some(self.run.step()),
            Some(RunEvent::EarlyStopped { .. }) => self.stopped_early = true,
            _ => {}
        }
        self.chunks.push(progress);
        Ok(())
    }

    /// The end of the training: as the run's own end, early stopping's best parameters go back
    /// (with restore-best) where it watched and did not stop the branch already.
    pub fn end(&mut self) -> anyhow::Result<()> {
        if !self.stopped_early && self.diverged.is_none() {
            self.run.finish()?;
        }
        Ok(())
    }
}

/// The branch's figures (its loss chart from the source's chunks before the fork and its own
/// after) in `OUT/branch`, `OUT/fork.png` with both runs' curves, and a line comparing the two.
pub async fn finish(source: &Run, source_chunks: &[Progress], branch: &Branch, plan: &ForkPlan, args: &TrainArgs) -> anyhow::Result<()> {
    let whole: Vec<Progress> = source_chunks.iter().filter(|p| p.point.step <= plan.at as u64).chain(&branch.chunks).cloned().collect();
    let branch_args = TrainArgs { out: args.out.join("branch"), ..args.clone() };
    run_figures::write(&branch.run, &branch_args, &whole, None, branch.diverged.is_none()).await?;

    let model = source.spec().shape.model;
    let heading = Heading {
        title: format!(
            "{} forked at {} {}: the run against its branch ({})",
            model.name(),
            if model == ModelKind::Gan { "round" } else { "step" },
            grouped(plan.at as u64),
            plan.label
        ),
        settings: run_figures::settings(source, args),
    };
    let chart = LossChart::fork(heading, ("the run", source_chunks), (&format!("branch: {}", plan.label), &branch.chunks), plan.at as u64, model);
    save(&chart, &args.out, "fork", Format::from(args.format))?;

    let last = |chunks: &[Progress]| chunks.last().map(|p| p.point.clone());
    let describe = |point: Option<latent_session::run::Point>| match (model, point) {
        (_, None) => "no steps".to_string(),
        (ModelKind::Gan, Some(p)) => format!("D loss {:.3}, G loss {:.3}", p.d_loss, p.g_loss),
        (_, Some(p)) => format!("held-out −ELBO {}", p.test.map_or("not scored".into(), |t| format!("{t:.2}"))),
    };
    let diverged = branch.diverged.map_or(String::new(), |step| format!(" (diverged at step {step})"));
    eprintln!(
        "forked at step {}: the run {}; the branch ({}) {}{diverged}",
        plan.at,
        describe(last(source_chunks)),
        plan.label,
        describe(last(&branch.chunks))
    );
    Ok(())
}
