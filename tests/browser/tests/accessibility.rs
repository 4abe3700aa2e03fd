//! axe-core (npm, pinned in `scripts/tools/axe`) on the release site in headless Chromium: the
//! default page, the GAN page and embed mode must have no violation at all, with the views drawn
//! and the model training. axe is put into the page over WebDriver (DevTools evaluation, which the
//! page's Content-Security-Policy does not govern), as a browser extension would.

use anyhow::{ensure, Context as _, Result};
use latent_browser_tests::{lab, paths, Gpu, Poll, Scenario};
use serde_json::Value;

/// axe's browser build, installed by `scripts/test` (`npm ci` in `scripts/tools/axe`).
fn axe_source() -> Result<String> {
    let file = paths::repo_root().join("scripts/tools/axe/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&file).with_context(|| format!("{}: run `npm ci --ignore-scripts` in scripts/tools/axe (scripts/test does)", file.display()))
}

/// Every rule axe runs by default (WCAG 2.0-2.2 A and AA, best practices), on the whole document.
const RUN_AXE: &str = "const done = arguments[0]; \
     axe.run(document, { resultTypes: ['violations'] }).then((results) => done(results.violations.map((v) => ({ \
       id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => n.target.join(' ') + ': ' + n.failureSummary) \
     }))), (error) => done([{ id: 'axe-error', help: String(error), nodes: [] }]));";

/// Opens `page`, lets it train `steps` steps so every view is drawn, and audits it; the scenario
/// stays open for more checks.
fn audit(name: &str, gpu: Gpu, page: &str, steps: u64) -> Result<Scenario> {
    let s = Scenario::start(name, &paths::dist_dir()?, gpu)?;
    lab::watch(&s.session);
    s.open(page)?;
    lab::wait_for(&s.session, Poll::SCENARIO, &format!("num(d.step) >= {steps} && isFinite(num(d.loss))"))?;
    expect_no_violations(&s, name, page)?;
    Ok(s)
}

/// Runs axe on the page as it is now; fails listing every violation.
fn expect_no_violations(s: &Scenario, name: &str, page: &str) -> Result<()> {
    s.session.execute(&axe_source()?, &[])?;
    let violations = s.session.execute_async(RUN_AXE, &[])?;
    s.session.screenshot(name)?;
    let list = violations.as_array().cloned().unwrap_or_default();
    let report: Vec<String> = list
        .iter()
        .map(|v| {
            let nodes: Vec<&str> = v["nodes"].as_array().map(|n| n.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
            format!("{} ({}): {}\n    {}", v["id"], v["impact"], v["help"], nodes.join("\n    "))
        })
        .collect();
    println!("{name}: {} violation(s)", list.len());
    ensure!(list.is_empty(), "axe found {} violation(s) on {page}:\n{}", list.len(), report.join("\n"));
    Ok(())
}

#[test]
fn default_page_has_no_axe_violations() -> Result<()> {
    let s = audit("axe-default", Gpu::NoWebGpu, "/?autoplay=1", 10)?;
    // What a screen reader says for each slider: the knob's name and its value ("KL weight β 1"),
    // not a bare number.
    let sliders = s.session.eval("[...document.querySelectorAll('input[type=range]')].map((i) => [i.id, i.getAttribute('aria-valuetext') || ''])")?;
    let sliders = sliders.as_array().cloned().unwrap_or_default();
    ensure!(sliders.len() >= 5, "only {} sliders on the default page", sliders.len());
    for slider in &sliders {
        let text = slider[1].as_str().unwrap_or_default();
        let named = text.split_whitespace().count() >= 2 && text.chars().any(char::is_alphabetic) && text.chars().any(|c| c.is_ascii_digit());
        ensure!(named, "slider {} reads {text:?}: not its name and value", slider[0]);
    }
    // With a digit drawn, the pad's readouts and the KL view's ticks pass too.
    let pad = s.session.find("#draw-pad")?;
    s.session.drag(&pad, &[(0, -40), (0, 0), (0, 40)])?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#draw-nearest')?.dataset.digit !== undefined")?;
    expect_no_violations(&s, "axe-drawn", "/?autoplay=1 with a digit drawn")?;
    // And with an ⓘ panel open: the modal dialog, its formula and its marked kernel lines.
    // (Scrolled to the middle first: the drawing left the page scrolled, the sticky top bar over the chart's heading.)
    s.session.eval("document.querySelector('#loss-view button.info').scrollIntoView({ block: 'center' })")?;
    s.session.click_css("#loss-view button.info")?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#info-dialog')?.open === true")?;
    expect_no_violations(&s, "axe-info", "/?autoplay=1 with the loss chart's ⓘ open")
}

#[test]
fn gan_page_has_no_axe_violations() -> Result<()> {
    audit("axe-gan", Gpu::NoWebGpu, "/?model=gan&data=ring&autoplay=1", 50).map(drop)
}

#[test]
fn embed_mode_has_no_axe_violations() -> Result<()> {
    audit("axe-embed", Gpu::NoWebGpu, "/?embed=1&autoplay=1", 10).map(drop)
}

/// The Sweep panel open with a finished sweep: its form, status, curve, table and buttons.
#[test]
fn sweep_panel_has_no_axe_violations() -> Result<()> {
    let page = "/?train=200&sweep=l2&sweep_values=0,0.1&folds=2&sweep_steps=50";
    let s = Scenario::start("axe-sweep", &paths::dist_dir()?, Gpu::NoWebGpu)?;
    lab::watch(&s.session);
    s.open(page)?;
    lab::wait_ready(&s.session)?;
    s.session.click_css("#sweep-start")?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#sweep-status')?.dataset.state === 'done'")?;
    s.session.eval("document.querySelector('#sweep-view').scrollIntoView()")?;
    expect_no_violations(&s, "axe-sweep", page)?;
    // The GAN's grid: its selects, the heat map and the grid's table.
    let grid = "/?model=gan&sweep=l2g&sweep_values=0,0.1&across=l2d&across_values=0,0.01&sweep_steps=50";
    s.open(grid)?;
    lab::wait_ready(&s.session)?;
    s.session.click_css("#sweep-start")?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#sweep-status')?.dataset.state === 'done'")?;
    s.session.eval("document.querySelector('#gan-grid').scrollIntoView()")?;
    expect_no_violations(&s, "axe-sweep-gan-grid", grid)
}

/// Types `text` into the input `css` and presses Enter, as a keyboard user does (the value it held
/// is cleared first).
fn type_into(s: &Scenario, css: &str, text: &str) -> Result<()> {
    s.session.execute("document.querySelector(arguments[0]).value = '';", &[Value::String(css.into())])?;
    let field = s.session.find(css)?;
    s.session.send_keys(&field, &format!("{text}\u{E007}"))
}

#[test]
fn canvas_choices_work_from_the_keyboard() -> Result<()> {
    let s = Scenario::start("canvas_choices_work_from_the_keyboard", &paths::dist_dir()?, Gpu::NoWebGpu)?;
    lab::watch(&s.session);

    // The interpolation's ends, by number instead of two clicks on the latent scatter.
    s.open("/?autoplay=1")?;
    lab::wait_for(&s.session, Poll::SCENARIO, "num(d.step) >= 5")?;
    let strip = "document.querySelector('#interpolation').toDataURL()";
    let before = s.session.eval(strip)?;
    type_into(&s, "#pair-from", "7")?;
    type_into(&s, "#pair-to", "300")?;
    s.session.wait_until_as(Poll::SCENARIO, "the interpolation strip redrawn for the typed ends", &format!("{strip} !== {before}"))?;
    let ends = s.session.eval("[document.querySelector('#pair-from').value, document.querySelector('#pair-to').value]")?;
    ensure!(ends == serde_json::json!(["7", "300"]), "the fields read {ends} after typing 7 and 300");

    // A point of one's own data, typed instead of clicked on the plane.
    s.open("/?data=drawn&model=vae")?;
    // With no points yet the model cannot be built (the page says so); the plane takes points anyway.
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#add-point') !== null")?;
    type_into(&s, "#add-point", "0.5, -1")?;
    let points = lab::query_params(&s.session)?.into_iter().find(|(k, _)| k == "pts").map(|(_, v)| v).unwrap_or_default();
    ensure!(points.contains("0.5") && points.contains("-1"), "typing 0.5, -1 left the link's points at {points:?}");
    Ok(())
}

/// The lesson panel beside the views, with a card's check ticked (issue 16): its progress dots,
/// "try this" buttons, check and navigation, and the gallery under the views.
#[test]
fn lesson_panel_has_no_axe_violations() -> Result<()> {
    let page = "/?lesson=elbo-beta&autoplay=1";
    let s = Scenario::start("axe-lesson", &paths::dist_dir()?, Gpu::NoWebGpu)?;
    lab::watch(&s.session);
    s.open(page)?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelector('#lesson-check')?.dataset.reached !== undefined")?;
    ensure!(s.session.eval("document.querySelector('#lesson-gallery') !== null")? == Value::Bool(true), "no lesson gallery");
    expect_no_violations(&s, "axe-lesson", page)
}

/// Branches side by side (issue 15), as many as the page holds: the overlaid chart's legend,
/// each branch's card with its pictures, KL strip and buttons, and Fork disabled with the reason.
#[test]
fn branches_have_no_axe_violations() -> Result<()> {
    let page = "/?forks=beta:4;l2:0.01;dropout:0.2&autoplay=1";
    let s = audit("axe-branches", Gpu::NoWebGpu, page, 10)?;
    s.session.wait_until(Poll::SCENARIO, "document.querySelectorAll('#branches-view article.branch').length === 4")?;
    let fork = s.session.eval("[document.querySelector('#fork').disabled, document.querySelector('#fork').title]")?;
    ensure!(fork[0] == Value::Bool(true) && fork[1].as_str().is_some_and(|t| t.contains("drop a branch")), "Fork with four runs: {fork}");
    s.session.eval("document.querySelector('#branches-view').scrollIntoView()")?;
    expect_no_violations(&s, "axe-branches-cards", page)
}
