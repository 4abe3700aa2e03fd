//! `latent sweep`: a knob's grid of values, each trained on K folds of the training set (or scored
//! on the held-out split with one fold), through the session's [`Sweep`], the code the page uses.
//! Writes `sweep.csv` (a row per model), `curve.csv` (a row per value: means, standard error,
//! active latent dimensions and the choices), `kl_per_dim.csv` (each value's rate per latent dimension), `validation_curve.png`, for β `rate_distortion.png`, and `config.json`; with folds, refits the chosen value on
//! the whole training set and reports its held-out −ELBO. A GAN's sweep (one knob, or a grid with
//! `--across`) scores each model by modes covered and MMD² instead and draws `gan_grid.png`.

use std::fmt::Write as _;

use anyhow::{bail, Context as _};
use clap::ArgMatches;
use latent_session::config::{Knob, ModelKind};
use latent_session::sweep::{scores_csv, values_between, Axis, Curve, Grid, MemberScore, Sweep, SweepSpec};

use crate::args::SweepArgs;
use crate::figures::{self, Format, GanGrid, Heading, RateDistortion, ValidationCurve};
use crate::train::{open, MNIST_ASSET};

/// Steps between progress lines.
const CHUNK: usize = 100;

pub async fn run(args: SweepArgs, matches: &ArgMatches) -> anyhow::Result<()> {
    args.run.check_flags_apply(matches)?;
    if args.run.early_stopping > 0 {
        bail!("--early-stopping does not apply to a sweep: every model trains the same number of steps");
    }
    if args.run.fork_at.is_some() {
        bail!("--fork-at does not apply to a sweep: a sweep trains every value from the start (fork a run with latent train)");
    }
    let knob_named = |key: &str| Knob::from_key(key).with_context(|| format!("unknown knob `{key}`: use beta, l2, l1, dropout, lr, gamma, l2d or l2g"));
    let knob = knob_named(&args.knob)?;
    let across = match (&args.across, &args.across_values) {
        (Some(key), Some(values)) => Some(Axis { knob: knob_named(key)?, values: values.clone() }),
        _ => None,
    };
    let values = match (&args.values, &args.range, args.count) {
        (Some(values), _, _) => values.clone(),
        (None, Some(range), Some(count)) if range.len() == 2 => values_between(range[0], range[1], count, !args.linear)?,
        _ => bail!("give --values v1,v2,… or --range lo,hi with --count"),
    };
    let base = args.run.run_spec()?;
    let (kernels, engine) = open(args.run.backend).await?;
    eprintln!("engine: {engine}");
    let spec = SweepSpec { base, knob, values, folds: args.folds, across };
    let mut sweep = Sweep::build(spec.clone(), kernels.as_ref(), Some(MNIST_ASSET))?;
    let train_rows = sweep.training_rows();
    let steps = args.run.steps(train_rows)?;
    let out = &args.run.out;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let grid = spec.across.as_ref().map_or_else(String::new, |a| format!(" × {} values of {}", a.values.len(), a.knob.key()));
    eprintln!("{} models ({} values{grid} × {} folds), {steps} steps each", spec.members(), spec.values.len(), spec.folds);
    match sweep.batched_groups().as_slice() {
        [] => {}
        [all] => eprintln!("all {all} models train in one batched step"),
        groups => eprintln!("the models train in {} batched steps of {groups:?} (the device holds no larger)", groups.len()),
    }
    if let Some(kernels) = &kernels {
        let (buffers, bytes) = kernels.context().allocations();
        eprintln!("GPU memory: {:.1} MB in {buffers} buffers", bytes as f64 / 1e6);
    }
    let started = web_time::Instant::now();
    let mut done = 0;
    while done < steps {
        let n = CHUNK.min(steps - done);
        sweep.advance(n).await?;
        done += n;
        eprintln!("step {done}/{steps} ({:.0} s)", started.elapsed().as_secs_f64());
    }
    let scores = sweep.scores().await?;
    std::fs::write(out.join("sweep.csv"), scores_csv(&scores)).context("writing sweep.csv")?;
    if spec.base.shape.model == ModelKind::Gan {
        return gan_outputs(&args, &spec, &scores, steps, &engine);
    }
    let curve = Curve::new(&spec.values, &scores, spec.regularises_upward());
    std::fs::write(out.join("curve.csv"), curve_csv(&curve)).context("writing curve.csv")?;
    std::fs::write(out.join("kl_per_dim.csv"), kl_csv(&curve)).context("writing kl_per_dim.csv")?;
    print!("{}", table(&spec, &curve));
    let chosen = curve.one_se.or(curve.min);
    let refit = match chosen {
        Some(i) if spec.folds > 1 => {
            let value = curve.points[i].value;
            let test = sweep.refit(value, steps, kernels.as_ref()).await?;
            println!("refit at {}={value} on all {train_rows} training rows: held-out −ELBO {test:.2} (no model of the sweep saw these rows)", knob.key());
            Some(test)
        }
        Some(_) => {
            println!("one fold: the values were scored on the held-out split itself, so the choice saw the test set; use --folds 3 or 5 to keep it apart");
            None
        }
        None => None,
    };
    let heading = Heading {
        title: format!("Validation curve of {} ({} folds, {steps} steps per model)", knob.label(), spec.folds),
        settings: format!(
            "{} on {} · {train_rows} training rows · batch {} · seed {}",
            spec.base.shape.model.name(),
            args.run.dataset,
            spec.base.shape.batch,
            spec.base.shape.seed
        ),
    };
    let log = matches!(knob.scale(), latent_session::config::Scale::Log { .. });
    if knob == Knob::Beta {
        let heading =
            Heading { title: format!("Rate and distortion across β ({} folds, {steps} steps per model)", spec.folds), settings: heading.settings.clone() };
        figures::save(&RateDistortion { heading, curve: curve.clone() }, out, "rate_distortion", Format::Png)?;
    }
    figures::save(&ValidationCurve { heading, knob: knob.label().into(), curve: curve.clone(), log }, out, "validation_curve", Format::Png)?;
    let config = serde_json::json!({
        "knob": knob.key(),
        "values": spec.values,
        "folds": spec.folds,
        "steps": steps,
        "engine": engine,
        "min": curve.min.map(|i| curve.points[i].value),
        "one_se": curve.one_se.map(|i| curve.points[i].value),
        "refit_held_out_elbo": refit,
    });
    std::fs::write(out.join("config.json"), serde_json::to_string_pretty(&config)? + "\n").context("writing config.json")?;
    eprintln!("wrote {}", out.display());
    if scores.iter().all(|s| s.diverged) {
        bail!("every model of the sweep diverged; lower --lr");
    }
    Ok(())
}

fn number(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v:.4}"))
}

/// A GAN sweep's outputs: the grid as a table, `gan_grid.png` and `config.json` with the best pair.
fn gan_outputs(args: &SweepArgs, spec: &SweepSpec, scores: &[MemberScore], steps: usize, engine: &str) -> anyhow::Result<()> {
    let grid = Grid::new(spec, scores);
    let across = spec.across.as_ref().map(|a| a.knob);
    print!("{}", grid_table(spec, &grid));
    let best = grid.best.and_then(|b| grid.at(b));
    if let Some((value, second)) = best {
        let second = second.zip(across).map_or_else(String::new, |(v, k)| format!(", {}={v}", k.key()));
        println!("best: {}={value}{second} (most modes covered, then least MMD²)", spec.knob.key());
    }
    let pair = across.map_or_else(|| spec.knob.label().to_string(), |a| format!("{} against {}", spec.knob.label(), a.label()));
    let heading = Heading {
        title: format!("GAN grid: {pair} ({steps} rounds per model)"),
        settings: format!("GAN on {} · batch {} · seed {}", args.run.dataset, spec.base.shape.batch, spec.base.shape.seed),
    };
    figures::save(&GanGrid { heading, knob: spec.knob, across, grid: grid.clone() }, &args.run.out, "gan_grid", Format::Png)?;
    let config = serde_json::json!({
        "knob": spec.knob.key(),
        "values": spec.values,
        "across": across.map(Knob::key),
        "across_values": spec.across.as_ref().map(|a| &a.values),
        "steps": steps,
        "engine": engine,
        "best": best.map(|(v, a)| serde_json::json!({ "value": v, "across": a })),
    });
    std::fs::write(args.run.out.join("config.json"), serde_json::to_string_pretty(&config)? + "\n").context("writing config.json")?;
    eprintln!("wrote {}", args.run.out.display());
    if scores.iter().all(|s| s.diverged) {
        bail!("every model of the sweep diverged; lower --lr");
    }
    Ok(())
}

/// The grid as a table for the terminal: a row per second value, a column per first value, each
/// cell its modes covered and MMD².
fn grid_table(spec: &SweepSpec, grid: &Grid) -> String {
    let across = spec.across.as_ref().map_or("", |a| a.knob.key());
    let mut out = format!("{:>10}", format!("{across}\\{}", spec.knob.key()));
    for v in &grid.values {
        let _ = write!(out, "  {:>16}", figures::curve_value(*v));
    }
    out.push('\n');
    for (r, row) in grid.rows.iter().enumerate() {
        let _ = write!(out, "{:>10}", row.map_or_else(String::new, figures::curve_value));
        for c in 0..grid.values.len() {
            let text = match grid.cell(r, c) {
                Some(s) if !s.diverged => format!("{} · {:.4}", s.modes.map_or_else(|| "-".into(), |(m, of)| format!("{m}/{of}")), s.mmd.unwrap_or(f64::NAN)),
                Some(_) => "diverged".into(),
                None => "-".into(),
            };
            let _ = write!(out, "  {text:>16}");
        }
        out.push('\n');
    }
    out
}

/// A row per value: the means over folds, the validation mean's standard error, and the choices.
fn curve_csv(curve: &Curve) -> String {
    let mut csv = String::from("value,train_elbo,validation_elbo,standard_error,rate,distortion,diverged_folds,active_dims,choice\n");
    for (i, p) in curve.points.iter().enumerate() {
        let choice = match (curve.min == Some(i), curve.one_se == Some(i)) {
            (true, true) => "min+1se",
            (true, false) => "min",
            (false, true) => "1se",
            _ => "",
        };
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{choice}",
            p.value,
            number(p.train),
            number(p.validation),
            number(p.standard_error),
            number(p.rate),
            number(p.distortion),
            p.diverged,
            p.active_dims().map_or_else(String::new, |a| a.to_string())
        );
    }
    csv
}

/// A row per value: the validation rate of each latent dimension (nats, means over the folds),
/// the numbers of the page's heat map.
fn kl_csv(curve: &Curve) -> String {
    let dims = curve.points.iter().map(|p| p.kl_per_dim.len()).max().unwrap_or(0);
    let mut csv = String::from("value");
    for d in 1..=dims {
        let _ = write!(csv, ",z{d}");
    }
    csv.push('\n');
    for p in &curve.points {
        csv += &p.value.to_string();
        for d in 0..dims {
            csv.push(',');
            csv += &number(p.kl_per_dim.get(d).copied());
        }
        csv.push('\n');
    }
    csv
}

/// The curve as a table for the terminal.
fn table(spec: &SweepSpec, curve: &Curve) -> String {
    let mut out = format!("{:>10}  {:>10}  {:>18}  {}\n", spec.knob.key(), "train", "validation ± se", "");
    for (i, p) in curve.points.iter().enumerate() {
        let mark = [(curve.min, "λ_min"), (curve.one_se, "λ_1se")].iter().filter(|(c, _)| *c == Some(i)).map(|(_, n)| *n).collect::<Vec<_>>().join(" ");
        let validation = match (p.validation, p.standard_error) {
            (Some(v), Some(se)) => format!("{v:.2} ± {se:.2}"),
            (Some(v), None) => format!("{v:.2}"),
            _ => format!("diverged ({})", p.diverged),
        };
        let _ = writeln!(out, "{:>10}  {:>10}  {validation:>18}  {mark}", figures::curve_value(p.value), number(p.train));
    }
    out
}
