//! The output of a training run: the folder and its `config.json`, a progress bar, `metrics.csv`
//! written row by row as training goes (an interrupted run keeps its history), and the closing
//! line (with advice on divergence).

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};

/// What one chunk of training measured.
pub struct Row {
    /// The CSV line, without its newline (it starts with the step count).
    pub csv: String,
    /// A short summary for the progress bar.
    pub message: String,
    /// Whether every value is finite; a run stops at the first row that is not.
    pub finite: bool,
    /// The run asks to end here (early stopping).
    pub stop: bool,
}

/// Creates the output folder and writes its `config.json`.
pub fn prepare(out: &Path, config: &serde_json::Value) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let text = serde_json::to_string_pretty(config)? + "\n";
    std::fs::write(out.join("config.json"), text).with_context(|| format!("writing {}", out.join("config.json").display()))
}

/// Says where the run went, and fails with advice if it diverged.
pub fn finish(out: &Path, diverged: Option<usize>, advice: &str) -> anyhow::Result<()> {
    eprintln!("wrote {}", out.display());
    match diverged {
        Some(step) => anyhow::bail!("training diverged by step {step} (a loss became NaN or infinite); {advice}"),
        None => Ok(()),
    }
}

/// Trains `steps` in chunks of at most `every`: `chunk(done, n)` trains `n` more steps (so `done`
/// are done after it) and measures them. Rows go to `out/metrics.csv` under `header` as they come,
/// so an interrupted run keeps its history. Returns the step count at which a row was not finite.
pub async fn drive(
    out: &Path,
    header: &str,
    steps: usize,
    every: usize,
    mut chunk: impl AsyncFnMut(usize, usize) -> anyhow::Result<Row>,
) -> anyhow::Result<Option<usize>> {
    let mut csv = MetricsCsv::create(out, header)?;
    let progress = ProgressBar::new(steps as u64);
    progress
        .set_style(ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {msg}  ({elapsed}, eta {eta})").unwrap_or_else(|_| ProgressStyle::default_bar()));
    let (mut done, mut diverged) = (0, None);
    while done < steps {
        let n = every.max(1).min(steps - done);
        done += n;
        let row = chunk(done, n).await?;
        csv.row(&row.csv)?;
        progress.set_position(done as u64);
        progress.set_message(row.message);
        if !row.finite {
            diverged = Some(done);
            break;
        }
        if row.stop {
            break;
        }
    }
    progress.finish();
    Ok(diverged)
}

/// A run's `metrics.csv` in `dir`, each row on disk once written (an interrupted run keeps its
/// history).
pub struct MetricsCsv(std::io::BufWriter<std::fs::File>);

impl MetricsCsv {
    /// Creates `dir/metrics.csv` with its `header` line.
    pub fn create(dir: &Path, header: &str) -> anyhow::Result<Self> {
        let path = dir.join("metrics.csv");
        let file = std::fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut csv = Self(std::io::BufWriter::new(file));
        csv.row(header)?;
        Ok(csv)
    }

    /// One more line (without its newline).
    pub fn row(&mut self, line: &str) -> anyhow::Result<()> {
        writeln!(self.0, "{line}")?;
        Ok(self.0.flush()?)
    }
}
