//! The release site as hosts serve it: with its Content-Security-Policy only in the meta tag (GitHub
//! Pages, S3 and course platforms ignore `_headers`), and offline after the first visit through its
//! service worker, including a new deploy replacing the cached one. Same harness and lock as
//! `app.rs`; screenshots in `<repo>/target/app-screenshots/`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Result};
use latent_browser_tests::{lab, paths, Gpu, Poll, Scenario};
use serde_json::{json, Value};

/// From before the page's own scripts: every Content-Security-Policy violation, as
/// "directive blocked-URI", in `window.__cspViolations`.
const RECORD_VIOLATIONS: &str = "window.__cspViolations = []; document.addEventListener('securitypolicyviolation', \
     (e) => window.__cspViolations.push(e.effectiveDirective + ' ' + e.blockedURI), true);";

/// The directives of a policy, whitespace-normalised, as a set.
fn directives(policy: &str) -> BTreeSet<String> {
    policy.split(';').map(|d| d.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|d| !d.is_empty()).collect()
}

#[test]
fn deployed_with_only_the_meta_csp() -> Result<()> {
    // A plain server: no Content-Security-Policy header, as on GitHub Pages.
    let s = Scenario::start("deployed_with_only_the_meta_csp", &paths::dist_dir()?, Gpu::WebGpu)?;
    lab::watch(&s.session);
    s.session.before_every_page(RECORD_VIOLATIONS)?;
    s.open("/?engine=webgpu&model=gan&data=ring&autoplay=1")?;
    let trained = lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) >= 50 && isFinite(num(d.loss))")?;
    s.session.screenshot("deployed-meta-csp")?;

    // The tag holds _headers' policy, less what a meta tag cannot carry.
    let meta = s.session.eval("document.querySelector('meta[http-equiv=\"Content-Security-Policy\"]')?.content ?? null")?;
    let Some(meta) = meta.as_str() else { bail!("the page has no Content-Security-Policy meta tag") };
    let mut expected = directives(&paths::shipped_csp()?);
    expected.retain(|d| !["frame-ancestors", "report-uri", "sandbox"].iter().any(|name| d.starts_with(name)));
    ensure!(directives(meta) == expected, "the meta tag's policy {meta:?} is not _headers' {expected:?}");

    let violations = s.session.eval("window.__cspViolations")?;
    ensure!(violations == json!([]), "Content-Security-Policy violations while training ({trained:?}): {violations}");

    // And the browser enforces it: a script the site did not ship is refused.
    let probe = s.session.execute_async(
        "const done = arguments[0]; const script = document.createElement('script'); \
         script.textContent = 'window.__injectedRan = true'; document.body.append(script); \
         setTimeout(() => done({ ran: window.__injectedRan === true, violations: window.__cspViolations }), 200);",
        &[],
    )?;
    ensure!(probe["ran"] == false, "an injected inline script ran: the meta policy is not in force ({probe})");
    let refused = probe["violations"].as_array().is_some_and(|v| v.iter().any(|v| v.as_str().is_some_and(|v| v.starts_with("script-src"))));
    ensure!(refused, "the injected script left no script-src violation: {probe}");
    Ok(())
}

/// The page's header is plain HTML, painted before the app's module arrives (on slow Wi-Fi that
/// takes seconds, and it made the page's largest paint wait for it); where the module never
/// arrives, the loading line under the header says so instead of a blank page.
#[test]
fn says_so_when_the_module_cannot_load() -> Result<()> {
    let site = paths::copy_of_dist()?;
    let mut removed = 0;
    for entry in std::fs::read_dir(site.path())? {
        let path = entry?.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("latent-app") && n.ends_with("_bg.wasm")) {
            std::fs::remove_file(path)?;
            removed += 1;
        }
    }
    ensure!(removed == 1, "expected the page's one module in dist/, removed {removed}");
    let s = Scenario::start("says_so_when_the_module_cannot_load", site.path(), Gpu::NoWebGpu)?;
    s.open("/")?;
    let deadline = Instant::now() + Duration::from_secs(20);
    let page = loop {
        let page = s.session.eval(
            "({ header: document.querySelector('#site-header h1')?.textContent ?? null, \
                line: document.querySelector('#loading')?.textContent ?? null, \
                role: document.querySelector('#loading')?.getAttribute('role') ?? null })",
        )?;
        if page["role"] == "alert" || Instant::now() > deadline {
            break page;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    s.session.screenshot("module-missing")?;
    println!("without its module: {page}");
    ensure!(page["header"] == "Latent Lab", "the header is not on the page without the module: {page}");
    let line = page["line"].as_str().unwrap_or_default();
    ensure!(page["role"] == "alert" && line.starts_with("Latent Lab could not start: "), "the loading line does not say the page could not start: {page}");
    Ok(())
}

/// The service worker's view: whether it controls the page, the site's caches, and the paths in
/// the first one.
const CACHE_STATE: &str = "const done = arguments[0]; (async () => { \
     const keys = (await caches.keys()).filter((k) => k.startsWith('latent-lab-')); \
     const paths = keys.length ? (await (await caches.open(keys[0])).keys()).map((r) => new URL(r.url).pathname) : []; \
     const r = await navigator.serviceWorker.getRegistration(); \
     const workers = r ? { installing: r.installing?.state ?? null, waiting: r.waiting?.state ?? null, active: r.active?.state ?? null } : null; \
     const sizes = await Promise.all(keys.map(async (k) => (await (await caches.open(k)).keys()).length)); \
     return { controlled: navigator.serviceWorker.controller !== null, keys, sizes, workers, paths }; \
   })().then(done, (e) => done({ error: String(e) }));";

/// Polls the cache state until `accept` holds or two minutes pass.
fn wait_for_cache(s: &Scenario, what: &str, accept: impl Fn(&Value) -> bool) -> Result<Value> {
    let started = Instant::now();
    loop {
        let state = s.session.execute_async(CACHE_STATE, &[])?;
        if accept(&state) {
            return Ok(state);
        }
        if started.elapsed() > Duration::from_secs(120) {
            s.session.screenshot("offline-timeout").ok();
            bail!("{what}: not after 120 s; the service worker and caches: {state}");
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn cache_names(state: &Value) -> Vec<&str> {
    state["keys"].as_array().map(|keys| keys.iter().filter_map(Value::as_str).collect()).unwrap_or_default()
}

fn caches_path(state: &Value, suffix: &str) -> bool {
    state["paths"].as_array().is_some_and(|paths| paths.iter().any(|p| p.as_str().is_some_and(|p| p.ends_with(suffix))))
}

#[test]
fn works_offline_after_the_first_visit() -> Result<()> {
    // The site in a folder of its own, so the scenario can publish a new deploy into it.
    let site = paths::copy_of_dist()?;
    let s = Scenario::start("works_offline_after_the_first_visit", site.path(), Gpu::NoWebGpu)?;
    lab::watch(&s.session);
    const PAGE: &str = "/?model=vae&data=mnist&autoplay=1";
    s.open(PAGE)?;
    lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) >= 5")?;
    let first = wait_for_cache(&s, "the service worker controlling the page with the site cached", |state| {
        state["controlled"] == true && cache_names(state).len() == 1 && caches_path(state, "/mnist-10k.bin") && caches_path(state, "_bg.wasm")
    })?;
    println!("online, cached: {first}");

    // Offline: the browser's network emulation, and the host refusing every connection besides.
    s.session.eval("window.__firstVisit = true")?;
    let answered = s.server.requests().len();
    s.server.set_down(true);
    s.session.set_offline(true)?;
    s.open(PAGE)?;
    let offline = lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) >= 20 && isFinite(num(d.loss))")?;
    ensure!(s.session.eval("window.__firstVisit === undefined")? == true, "the page was not loaded again offline");
    ensure!(offline.engine == "cpu", "offline the page trains on {:?}: {offline:?}", offline.engine);
    ensure!(s.server.requests().len() == answered, "the host answered requests while offline: {:?}", &s.server.requests()[answered..]);
    s.session.screenshot("offline")?;
    println!("offline: {offline:?}");

    // A new deploy: new bytes in sw.js (as every rebuild gives it a new version) replace the cache.
    s.session.set_offline(false)?;
    s.server.set_down(false);
    let old = cache_names(&first).first().map(|name| name.to_string()).unwrap_or_default();
    let next = format!("{old}-next");
    let worker = site.path().join("sw.js");
    let source = std::fs::read_to_string(&worker)?;
    ensure!(source.contains(&old), "sw.js does not name its cache {old}");
    std::fs::write(&worker, source.replace(&old, &next))?;
    s.open(PAGE)?;
    lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) >= 5")?;
    let replaced = wait_for_cache(&s, "the new deploy's cache replacing the old one", |state| {
        cache_names(state) == [next.as_str()] && caches_path(state, "/mnist-10k.bin") && caches_path(state, "_bg.wasm")
    })?;
    println!("after the new deploy: {replaced}");

    // A built-in lesson is a file beside the page, fetched when it opens: the new deploy's cache
    // has it too. (With the lesson files in the cache, the deploy's install failed within the
    // two minutes in three runs of six, both caches left; since sw.js tries each file three
    // times, three runs of three pass.)
    let answered = s.server.requests().len();
    s.server.set_down(true);
    s.session.set_offline(true)?;
    s.open("/?lesson=elbo-beta")?;
    let lesson = s.session.wait_until_as(
        Poll::SCENARIO,
        "the lesson open offline",
        "(() => { const t = document.querySelector('#lesson')?.textContent ?? ''; return t.includes('The ELBO and β') && t; })()",
    )?;
    println!("a lesson offline: {}", lesson.as_str().unwrap_or_default().chars().take(120).collect::<String>());
    ensure!(s.server.requests().len() == answered, "the host answered requests while offline: {:?}", &s.server.requests()[answered..]);
    s.session.set_offline(false)?;
    s.server.set_down(false);
    let errors = s.session.severe_errors()?;
    ensure!(errors.is_empty(), "console errors: {errors:?}");
    Ok(())
}
