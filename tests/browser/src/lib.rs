//! End-to-end tests of the built web app: the static site that `trunk build` writes to `dist/` is
//! served by a small recording server of our own ([`server`] says why not a crate), opened in
//! headless Chromium through chromedriver, and checked against the DOM contract the app promises
//! (see [`lab`]).
//!
//! The WebDriver client ([`session`], [`wire`]) is our own, on `ureq`, rather than `fantoccini` or
//! `thirtyfour`: both are async clients on tokio and hyper, while these scenarios are plain
//! sequential scripts that block on every command. Either crate would bring a runtime, a `block_on`
//! around every call, and a custom command for the one endpoint the scenarios lean on that neither
//! wraps (Chromium's console log, `/se/log`, read after every step to fail on any page error); what
//! is left here is the JSON of the dozen W3C commands the scenarios use, with errors that name them.
//!
//! This crate sits apart from `latent-tests` so it needs no wgpu, Leptos or wasm toolchain: it tests
//! the artefact a user downloads, as a browser sees it. Errors are `anyhow` throughout: this is test
//! code, and every error ends as a test failure whose message must say what went wrong and what to do.

pub mod browser;
pub mod harness;
pub mod lab;
pub mod log;
pub mod paths;
pub mod server;
pub mod session;
pub mod wait;
mod wire;

pub use browser::{Chromedriver, Gpu};
pub use harness::Scenario;
pub use server::{Served, StaticServer};
pub use session::{Element, Session};
pub use wait::Poll;
