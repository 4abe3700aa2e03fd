//! Where things live: the repository root, the built site under test, the screenshot folder (the
//! tests' artefact), and the browser programs. Each lookup fails with a message that says how to fix it.

use std::env;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};

/// The repository root (this crate is `tests/browser/`).
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(2).unwrap_or(manifest).to_path_buf()
}

/// The built static site: `$LATENT_DIST`, else `<repo>/dist`. Fails unless it holds `index.html`.
pub fn dist_dir() -> Result<PathBuf> {
    built_site("LATENT_DIST", repo_root().join("dist"), "scripts/build-site")
}

/// The same site built with the app's `fault-hooks` feature, for the scenarios that break a run on
/// purpose: `$LATENT_FAULT_HOOKS_DIST`, else `<repo>/target/site-with-fault-hooks`.
pub fn fault_hooks_dist_dir() -> Result<PathBuf> {
    built_site("LATENT_FAULT_HOOKS_DIST", repo_root().join("target/site-with-fault-hooks"), "scripts/build-site-with-fault-hooks")
}

fn built_site(var: &str, default: PathBuf, script: &str) -> Result<PathBuf> {
    let dir = env::var_os(var).map(PathBuf::from).unwrap_or(default);
    if !dir.join("index.html").is_file() {
        bail!(
            "no built site at {}: run `{script}` in the repository root first \
             (or set {var} to a folder holding the built index.html)",
            dir.join("index.html").display()
        );
    }
    Ok(dir)
}

/// A copy of the built site in a folder of its own, for a scenario that edits it as a host would
/// (its lesson-origin list, a new deploy).
pub fn copy_of_dist() -> Result<TempDir> {
    fn copy(from: &Path, to: &Path) -> Result<()> {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                copy(&entry.path(), &target)?;
            } else {
                std::fs::copy(entry.path(), &target)?;
            }
        }
        Ok(())
    }
    let site = TempDir::new("latent-lab-site")?;
    copy(&dist_dir()?, site.path()).context("copying the built site")?;
    Ok(site)
}

/// The Content-Security-Policy the site ships in `_headers` (one source for hosts, for the meta
/// tag the build puts into index.html, and for the tests).
pub fn shipped_csp() -> Result<String> {
    let headers = std::fs::read_to_string(dist_dir()?.join("_headers")).context("dist/_headers (from www/_headers)")?;
    headers
        .lines()
        .find_map(|l| l.trim().strip_prefix("Content-Security-Policy:"))
        .map(|v| v.trim().to_string())
        .context("_headers has no Content-Security-Policy line")
}

/// `<repo>/target/app-screenshots/`, created if missing.
pub fn screenshot_dir() -> Result<PathBuf> {
    let dir = repo_root().join("target").join("app-screenshots");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A program named by the environment variable `var`, else the first of `names` found on `PATH`.
pub fn program(var: &str, names: &[&str]) -> Result<PathBuf> {
    if let Some(path) = env::var_os(var) {
        let path = PathBuf::from(path);
        if !path.is_file() {
            bail!("{var}={} is not a file", path.display());
        }
        return Ok(path);
    }
    let search = env::var_os("PATH").unwrap_or_default();
    for name in names {
        if let Some(found) = env::split_paths(&search).map(|dir| dir.join(name)).find(|p| p.is_file()) {
            return Ok(found);
        }
    }
    bail!(
        "none of {names:?} is on PATH and {var} is not set: install chromium and chromium-driver \
         (`apt-get install chromium chromium-driver`) or set {var}"
    )
}

/// A fresh folder under the system temp dir, removed on drop: for pages a test writes itself.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Result<Self> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let unique = format!("{prefix}-{}-{nanos}-{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed));
        let dir = env::temp_dir().join(unique);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}
