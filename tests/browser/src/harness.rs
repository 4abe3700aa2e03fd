//! One scenario's fixture: a static server, a chromedriver and a browser session, torn down in that
//! order's reverse whatever happens (fields drop in declaration order).
//!
//! Scenarios run one at a time. Chromium with SwiftShader saturates a 2-core machine, so two scenarios
//! side by side would only time each other out. Rather than one test running every scenario in
//! sequence, each scenario stays its own `#[test]` (named failures, `cargo test NAME` runs one) and
//! takes a process-wide lock for its lifetime; a panicking scenario poisons nothing for the next.

use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use anyhow::Result;

use crate::browser::{Chromedriver, Gpu};
use crate::server::StaticServer;
use crate::session::Session;

static SERIAL: Mutex<()> = Mutex::new(());

/// A browser on a served site, for one scenario.
#[derive(Debug)]
pub struct Scenario {
    pub session: Session,
    driver: Chromedriver,
    pub server: StaticServer,
    _serial: MutexGuard<'static, ()>,
}

impl Scenario {
    /// Serves `site` and opens a browser named `name` (screenshots on failure use the name).
    pub fn start(name: &str, site: &Path, gpu: Gpu) -> Result<Self> {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        Self::start_locked(name, StaticServer::start(site)?, gpu, serial)
    }

    /// As `start`, on a server the caller configured (extra headers).
    pub fn with_server(name: &str, server: StaticServer, gpu: Gpu) -> Result<Self> {
        let serial = SERIAL.lock().unwrap_or_else(PoisonError::into_inner);
        Self::start_locked(name, server, gpu, serial)
    }

    fn start_locked(name: &str, server: StaticServer, gpu: Gpu, serial: MutexGuard<'static, ()>) -> Result<Self> {
        let driver = Chromedriver::start()?;
        let session = driver.new_session(name, gpu)?;
        Ok(Self { session, driver, server, _serial: serial })
    }

    /// Opens `path_and_query` (e.g. `/?engine=webgpu`) on the served site.
    pub fn open(&self, path_and_query: &str) -> Result<()> {
        self.session.navigate(&self.server.url(path_and_query))
    }

    /// The chromedriver behind the session, to open a second browser in the same scenario.
    pub fn driver(&self) -> &Chromedriver {
        &self.driver
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        // libtest shows a test's stderr only when it fails: then the console is there to read.
        if let Ok(log) = self.session.browser_log() {
            if !log.is_empty() {
                eprintln!("--- browser console of {} ---", self.session.name());
                for entry in log {
                    eprintln!("{entry}");
                }
            }
        }
    }
}
