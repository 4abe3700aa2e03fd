//! Running the `latent` binary from the end-to-end tests.

use std::path::PathBuf;
use std::process::{Command, Output};

pub fn latent(args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_latent"));
    command.args(args).env("RUST_BACKTRACE", "0");
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        // Mesa warns on every start without one; the scratch folder of the test binary will do.
        command.env("XDG_RUNTIME_DIR", env!("CARGO_TARGET_TMPDIR"));
    }
    command.output().unwrap_or_else(|e| panic!("running latent: {e}"))
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh output folder under the test binary's scratch folder.
pub fn out_dir(name: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    // A leftover from an earlier run would let a figure that is no longer written pass.
    let _ = std::fs::remove_dir_all(&out);
    out
}
