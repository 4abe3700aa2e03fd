# Shared by scripts/test and scripts/serve: installs what is missing, nothing else.
# Everything comes from the package registries (Debian, crates.io); no tool downloads a binary.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$HOME/.cargo/bin:$PATH"

# Each step's header says how long the run has taken so far, counted from the first script that
# sourced this file (scripts/test's steps and those of the scripts it calls on one clock), so a CI
# log shows where the time goes.
LATENT_STARTED="${LATENT_STARTED:-$(date +%s)}"
export LATENT_STARTED
step() {
    local elapsed=$(($(date +%s) - LATENT_STARTED))
    printf '\n==> [%d:%02d] %s\n' $((elapsed / 60)) $((elapsed % 60)) "$*"
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_apt PKG...: installs the Debian packages that are not installed yet.
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        step "apt-get install ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
}

# rustfmt and clippy: the test command's format and lint gates.
ensure_lint_tools() {
    local installed
    installed="$(rustup component list --installed)"
    for component in rustfmt clippy; do
        grep -q "^$component" <<<"$installed" || {
            step "rustup component add $component"
            rustup component add "$component"
        }
    done
}

ensure_wasm_target() {
    rustup target list --installed | grep -qx wasm32-unknown-unknown || {
        step "rustup target add wasm32-unknown-unknown"
        rustup target add wasm32-unknown-unknown
    }
}

# `cargo install` for a tool this machine runs: the crate's code and versions as published, but
# built with Cargo's default release codegen (thin local LTO, 16 codegen units) rather than the fat
# LTO with one codegen unit that Trunk's and cargo-deny's manifests ask for to ship small binaries,
# which leaves one of two cores idle for most of the build (times in TESTING.md).
cargo_install() {
    CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 cargo install "$@"
}

# The wasm-bindgen version Cargo.lock resolved; the CLI must match it exactly.
locked_wasm_bindgen_version() {
    awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock"
}

ensure_wasm_bindgen_cli() {
    local want
    want="$(locked_wasm_bindgen_version)"
    if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
        step "cargo install wasm-bindgen-cli $want (about 12 minutes on 2 cores)"
        # Pinned as far as this toolchain allows: the exact version Cargo.lock resolved (the CLI
        # must equal the wasm-bindgen the app links), from crates.io with its checksum. Not
        # --locked: with the CLI's own published lockfile the install fails on Rust 1.95 here, so
        # its dependencies resolve to the newest semver-compatible releases at install time.
        cargo_install wasm-bindgen-cli --version "=$want" --force
    fi
}

ensure_trunk() {
    if ! trunk --version 2>/dev/null | grep -q '^trunk 0\.21\.'; then
        step "cargo install trunk ^0.21 (10-25 minutes on 2 cores)"
        cargo_install trunk --version '^0.21' --locked --force
    fi
}

# cargo-deny for the supply-chain gate (deny.toml), at a pinned version with its own lockfile.
ensure_cargo_deny() {
    if ! cargo deny --version 2>/dev/null | grep -q '^cargo-deny 0\.20\.2$'; then
        step "cargo install cargo-deny 0.20.2 (about 8 minutes on 2 cores)"
        cargo_install cargo-deny --version '=0.20.2' --locked --force
    fi
}

# Node.js and npm, for the npm-registry tools below (Debian's packages when npm is missing).
ensure_node() {
    command -v npm >/dev/null 2>&1 || ensure_apt nodejs npm
}

# npm_tool DIR: `npm ci` in DIR, a folder holding a package.json and its package-lock.json, so the
# tool comes at exactly the locked version and integrity hash; no package's install scripts run.
npm_tool() {
    ensure_node
    (cd "$ROOT/$1" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
}

# wasm-opt from npm's binaryen 132 (scripts/tools/binaryen/package-lock.json), which the release
# build runs (scripts/trunk/optimize-wasm); Debian's binaryen 108 writes a module that crashes.
WASM_OPT="$ROOT/scripts/tools/binaryen/node_modules/.bin/wasm-opt"
export WASM_OPT
ensure_wasm_opt() {
    if ! "$WASM_OPT" --version 2>/dev/null | grep -q '^wasm-opt version 132 '; then
        step "npm ci binaryen 132.0.0 (wasm-opt) in scripts/tools/binaryen"
        npm_tool scripts/tools/binaryen
    fi
}

# axe-core 4.14.1 (scripts/tools/axe/package-lock.json), which the browser scenarios run on the page.
ensure_axe() {
    if [ ! -f "$ROOT/scripts/tools/axe/node_modules/axe-core/axe.min.js" ]; then
        step "npm ci axe-core 4.14.1 in scripts/tools/axe"
        npm_tool scripts/tools/axe
    fi
}

# Mesa prints an error per process without it; lavapipe does not need anything in it.
ensure_runtime_dir() {
    if [ -z "${XDG_RUNTIME_DIR:-}" ] || [ ! -d "$XDG_RUNTIME_DIR" ]; then
        export XDG_RUNTIME_DIR="/tmp/xdg-runtime-$(id -u)"
        mkdir -p -m 700 "$XDG_RUNTIME_DIR"
    fi
}

# JAX, Optax and NumPy from PyPI in their own virtual environment, for the reference scripts
# (scripts/reference/run, scripts/bench-vs-jax); sets REFERENCE_VENV.
REFERENCE_VENV="$ROOT/target/reference-venv"
ensure_reference_venv() {
    if [ ! -x "$REFERENCE_VENV/bin/python" ] || ! "$REFERENCE_VENV/bin/python" -c "import jax, optax" 2>/dev/null; then
        step "installing jax[cpu] 0.10.2, optax 0.2.8 into $REFERENCE_VENV"
        python3 -m venv "$REFERENCE_VENV"
        "$REFERENCE_VENV/bin/pip" install -q "jax[cpu]==0.10.2" "optax==0.2.8" numpy
    fi
}
