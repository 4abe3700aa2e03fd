//! Fuzzing the two parsers that read untrusted input: the URL query (`LabConfig::from_query`) and
//! run files (`RunFile::parse`). Whatever the input, neither may panic, and whatever they accept
//! must be a config the page can build safely: every size and knob within its limits, and a query
//! that reads back to the same config without a note.
//!
//! `PROPTEST_CASES=100000 cargo test -p latent-session --release --test fuzz_parsers -- --nocapture`
//! runs a longer campaign; each property prints how many inputs it tried.

use latent_session::config::query::KNOWN_KEYS;
use latent_session::config::query::MAX_QUERY;
use latent_session::config::{Bench, Knob, LabConfig, MAX_BENCH_STEPS, MAX_DRAWN, MAX_LATENT, MAX_LAYERS, MAX_WIDTH};
use latent_session::run::{History, MAX_HISTORY};
use latent_session::run_file::{self, FORMAT, FORMAT_V1};
use latent_session::sweep::plan::{SweepPlan, MAX_SWEEP_WORKERS, SWEEP_STEPS};
use latent_session::sweep::{MAX_FOLDS, MAX_VALUES};
use latent_session::RunFile;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

/// Every key the parser knows (the knobs' too), and two it does not.
fn keys() -> Vec<&'static str> {
    KNOWN_KEYS.iter().copied().chain(Knob::ALL.iter().map(|k| k.key())).chain(["unknown", ""]).collect()
}

/// Values that hit the edges: huge, negative, non-finite, empty, lists, escapes, other keys' values.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<f64>().prop_map(|v| v.to_string()),
        any::<i64>().prop_map(|v| v.to_string()),
        Just("NaN".to_string()),
        Just("inf".to_string()),
        Just("1e309".to_string()),
        Just("-0".to_string()),
        Just(String::new()),
        "[0-9,]{0,40}",
        "[0-9:.,-]{0,60}",
        "(vae|gan|vae-gan|mnist|ring|drawn|relu|tanh|auto|webgpu|cpu|beta|l1|l2|l2d|lr|gamma|seed|model)",
        "%[0-9A-Fa-f]{0,2}[a-z%]{0,6}",
        ".{0,30}",
    ]
}

fn query() -> impl Strategy<Value = String> {
    let pair = (prop::sample::select(keys()), value()).prop_map(|(k, v)| format!("{k}={v}"));
    prop_oneof![
        prop::collection::vec(pair, 0..24).prop_map(|pairs| pairs.join("&")),
        ".{0,200}",
        prop::collection::vec("[&=,:%0-9a-z]{0,8}", 0..50).prop_map(|parts| parts.concat()),
    ]
}

/// Everything a parsed config must satisfy before the page builds anything from it.
fn check_bounds(config: &LabConfig) -> Result<(), TestCaseError> {
    let (shape, data) = (&config.shape, &config.data);
    prop_assert!((1..=MAX_LAYERS).contains(&shape.hidden.len()), "layers {:?}", shape.hidden);
    prop_assert!(shape.hidden.iter().all(|w| (1..=MAX_WIDTH).contains(w)), "widths {:?}", shape.hidden);
    prop_assert!((1..=MAX_LATENT).contains(&shape.latent));
    let (lo, hi) = data.dataset.train_range();
    prop_assert!((lo..=hi).contains(&data.train_size));
    prop_assert!(data.noise.is_finite() && (0.0..=1.0).contains(&data.noise));
    prop_assert!(data.drawn.len() <= MAX_DRAWN && data.drawn.iter().flatten().all(|v| v.is_finite() && v.abs() <= 3.0));
    let bench_in_range = config.page.bench.is_none_or(|b| match b {
        Bench::Train { steps } => (1..=MAX_BENCH_STEPS).contains(&steps),
        Bench::Matmul => true,
    });
    prop_assert!(bench_in_range);
    for knob in Knob::ALL {
        let (lo, hi) = knob.scale().bounds();
        let v = knob.get(config);
        prop_assert!(v.is_finite() && v >= lo && v <= hi, "{knob:?} = {v}");
    }
    prop_assert!(config.knobs.validate().is_ok(), "{:?}", config.knobs);
    prop_assert!(config.page.hide.len() <= 32 && config.page.lock.len() <= 32);
    if let Some(plan) = &config.sweep {
        let (lo, hi) = plan.knob.scale().bounds();
        prop_assert!(SweepPlan::can_sweep(plan.knob, config.shape.model), "{plan:?}");
        prop_assert!(!plan.values.is_empty() && plan.values.len() <= MAX_VALUES, "{plan:?}");
        prop_assert!(plan.values.iter().all(|v| v.is_finite() && (lo..=hi).contains(v)) && plan.values.windows(2).all(|w| w[0] < w[1]), "{plan:?}");
        prop_assert!((1..=MAX_FOLDS).contains(&plan.folds) && (SWEEP_STEPS.0..=SWEEP_STEPS.1).contains(&plan.steps), "{plan:?}");
        prop_assert!(plan.workers.is_none_or(|w| (1..=MAX_SWEEP_WORKERS).contains(&w)), "{plan:?}");
    }
    let (again, notes) = LabConfig::from_query(&config.to_query());
    prop_assert_eq!(&again, config);
    prop_assert!(notes.is_empty(), "{:?}", notes);
    Ok(())
}

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A runner for `cases` inputs that leaves no regression files behind.
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

#[test]
fn url_queries_never_panic_and_stay_in_bounds() {
    let cases = cases(3000);
    let mut runner = runner(cases);
    runner
        .run(&query(), |q| {
            let (config, notes) = LabConfig::from_query(&q);
            prop_assert!(notes.len() <= 64, "{} notes", notes.len());
            check_bounds(&config)
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!("URL parser: {cases} generated queries, none panicked, every config within bounds");
    let long = "hidden=".to_string() + &"9".repeat(10 * MAX_QUERY);
    check_bounds(&LabConfig::from_query(&long).0).unwrap_or_else(|e| panic!("{e}"));
}

/// A settings query whose model is small enough to fill with weights in a generated file: `query`
/// when it is, else a small 2D model's.
fn small_model_query(query: String) -> (String, usize) {
    let count = |q: &str| run_file::expected_weights(&LabConfig::from_query(q).0).unwrap_or(0);
    match count(&query) {
        n if n <= 20_000 => (query, n),
        _ => {
            let small = "data=ring&hidden=8&latent=2".to_string();
            let n = count(&small);
            (small, n)
        }
    }
}

/// Weights as a generated file holds them: as many as its model has (mostly), or a few more or
/// fewer; finite mostly, sometimes not.
fn weights(count: usize) -> impl Strategy<Value = Vec<f32>> {
    let weight = prop_oneof![8 => -10.0f32..10.0, 1 => any::<f32>()];
    let len = prop_oneof![6 => Just(count), 1 => 0..count + 3];
    len.prop_flat_map(move |n| prop::collection::vec(weight.clone(), n))
}

/// A value of any JSON shape, nested up to `depth`, with long strings and lists.
fn hostile_value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        any::<f64>().prop_map(|v| v.to_string()),
        "\"[a-zA-Z0-9+/=\\\\]{0,40}\"",
        (1usize..2000).prop_map(|n| "[".repeat(n) + &"]".repeat(n)),
        (1usize..5000).prop_map(|n| format!("\"{}\"", "A".repeat(n))),
        (1usize..3000).prop_map(|n| format!("[{}]", vec!["[]"; n].join(","))),
    ];
    leaf.prop_recursive(3, 20, 4, |inner| prop::collection::vec(inner, 0..4).prop_map(|items| format!("[{}]", items.join(","))))
}

/// Run files: structured files of both versions with hostile fields, valid files with junk put in
/// (or a field's value replaced by a hostile one), and arbitrary text.
fn run_file_text() -> impl Strategy<Value = String> {
    let valid = RunFile::new(LabConfig::default().to_query(), 3, History::default(), vec![0.5; 2]).to_json();
    let valid_too = valid.clone();
    let history = prop::collection::vec(prop::collection::vec(prop::option::of(any::<f64>()), 0..12), 0..5);
    let step = prop_oneof![any::<u64>(), 0..1000u64];
    prop_oneof![
        ".{0,300}",
        (query().prop_map(small_model_query), step.clone(), history.clone(), any::<bool>())
            .prop_flat_map(move |((query, count), step, history, v1)| (Just(query), Just(step), Just(history), Just(v1), weights(count)))
            .prop_map(|(query, step, history, v1, weights)| {
                let file = serde_json::json!({ "format": if v1 { FORMAT_V1 } else { FORMAT }, "query": query, "step": step, "history": history });
                let mut file = file.as_object().cloned().unwrap_or_default();
                if v1 {
                    file.insert("parameters".into(), weights.iter().map(|w| w.is_finite().then_some(*w)).collect());
                } else {
                    let encoded = RunFile::new(String::new(), 0, History::default(), weights).to_json();
                    let encoded: serde_json::Value = serde_json::from_str(&encoded).unwrap_or_default();
                    file.insert("weights".into(), encoded["weights"].clone());
                }
                serde_json::Value::Object(file).to_string()
            }),
        (0..valid.len(), ".{0,10}").prop_map(move |(at, junk)| {
            let at = (0..=at).rev().find(|&i| valid.is_char_boundary(i)).unwrap_or(0);
            format!("{}{junk}{}", &valid[..at], &valid[at..])
        }),
        (prop::sample::select(&["format", "query", "step", "history_columns", "history", "weights", "count", "f32le_base64"][..]), hostile_value()).prop_map(
            move |(key, value)| {
                let mut file: serde_json::Value = serde_json::from_str(&valid_too).unwrap_or_default();
                let slot = if file.get(key).is_some() { file.get_mut(key) } else { file.get_mut("weights").and_then(|w| w.get_mut(key)) };
                match slot {
                    Some(slot) => *slot = serde_json::Value::Null,
                    None => return valid_too.clone(),
                }
                // The hostile value goes in as text: it may be nested past what serde_json writes.
                let text = file.to_string();
                let at = text.find(&format!("\"{key}\":null")).map_or(0, |i| i + key.len() + 3);
                format!("{}{value}{}", &text[..at], &text[at + 4..])
            }
        ),
    ]
}

#[test]
fn run_files_never_panic_and_stay_in_bounds() {
    let cases = cases(3000);
    let mut runner = runner(cases);
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&run_file_text(), |text| {
            if let Ok((file, config, _)) = RunFile::parse(&text) {
                accepted.set(accepted.get() + 1);
                prop_assert!(file.weights.iter().all(|w| w.is_finite()));
                prop_assert_eq!(Ok(file.weights.len()), run_file::expected_weights(&config));
                prop_assert!(file.history.len() <= MAX_HISTORY && file.step <= run_file::MAX_STEP);
                check_bounds(&config)?;
                // What was accepted is written and read back the same.
                let written = file.to_json();
                let again = RunFile::parse(&written).map(|(file, _, _)| file.to_json());
                prop_assert_eq!(again.as_ref(), Ok(&written));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!("run-file parser: {cases} generated files, none panicked; {} were accepted, each within bounds", accepted.get());
}

/// Uploaded point files: lines of numbers in any units and separators, with junk mixed in.
fn points_text() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<f32>().prop_map(|v| v.to_string()),
        (-1e6f64..1e6).prop_map(|v| v.to_string()),
        "[-+]?[0-9]{0,3}\\.?[0-9]{0,3}(e[-+]?[0-9]{1,3})?",
        ".{0,6}"
    ];
    let line = (number.clone(), "[,; \t]{1,2}", number).prop_map(|(x, sep, y)| format!("{x}{sep}{y}"));
    prop_oneof![".{0,300}", prop::collection::vec(line, 0..400).prop_map(|lines| lines.join("\n")), near_duplicates()]
}

/// Clusters of nearly identical points far from the origin: the cloud's extent is a few ulps, so
/// centring and scaling it magnifies f32 rounding, which once pushed points past the plane's edge.
fn near_duplicates() -> impl Strategy<Value = String> {
    let base = prop_oneof![-1e6f32..1e6, Just(1000.0f32), Just(-77.7f32)];
    (base.clone(), base, 1u32..6, 2usize..6, 10usize..60).prop_map(|(x, y, ulps, clusters, n)| {
        (0..n)
            .map(|i| {
                let step = (i % clusters) as u32 * ulps;
                let nudge = |v: f32| f32::from_bits(v.to_bits().wrapping_add(step));
                format!("{},{}", nudge(x), nudge(y))
            })
            .collect::<Vec<_>>()
            .join("\n")
    })
}

#[test]
fn point_files_never_panic_and_stay_in_the_plane() {
    use latent_core::data::toy2d::VIEW_HALF_EXTENT;
    use latent_session::points_file::points_from_text;
    let cases = cases(3000);
    let mut runner = runner(cases);
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&points_text(), |text| {
            if let Ok((points, _)) = points_from_text(&text) {
                accepted.set(accepted.get() + 1);
                prop_assert!(points.len() <= latent_session::config::MAX_DRAWN);
                prop_assert!(points.iter().flatten().all(|v| v.is_finite() && v.abs() <= VIEW_HALF_EXTENT), "{points:?}");
                // The points go into the link and must come back from it unchanged.
                let query = format!("data=drawn&pts={}", points.iter().map(|p| format!("{}:{}", p[0], p[1])).collect::<Vec<_>>().join(","));
                let (config, notes) = LabConfig::from_query(&query);
                prop_assert_eq!(&config.data.drawn, &points, "{:?}", notes);
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!("point-file parser: {cases} generated files, none panicked; {} were accepted, each within the plane", accepted.get());
}

/// Lesson lines: headings, directives with good and bad arguments, marked-up text, hostile bytes.
fn lesson_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "# .{0,40}",
        "## .{0,40}",
        "### .{0,10}",
        "setup: (model=(vae|gan|vae-gan)&)?(beta|l2|lr|data|train|hidden|lesson|pts|zz)=[0-9a-z.,%-]{0,8}",
        "try: (beta|l1|l2|lr|model|zz)=[0-9e.-]{0,6} ?(\\| .{0,20})?",
        "check: (step|kl|gap|collapsed|modes|near_zero|zz) ?(>=|<=|>|<|=)? ?[0-9e.-]{0,6}( and kl > 1)? ?(\\| .{0,20})?",
        "[-*] .{0,30}",
        "[a-z *`$\\\\_^{}<>&\"']{0,80}",
        ".{0,60}",
        Just(String::new()),
        Just("x".repeat(2100)),
    ]
}

fn lesson_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(lesson_line(), 0..60).prop_map(|lines| lines.join("\n")),
        prop::collection::vec(lesson_line(), 0..8).prop_map(|lines| format!("# T\n{}\n## C\n{}", lines.join("\n"), lines.join("\n"))),
        ".{0,300}",
    ]
}

#[test]
fn lesson_files_never_panic_and_stay_in_bounds() {
    use latent_session::lesson::{inline_html, Block, Lesson, MAX_BLOCKS, MAX_CARDS, MAX_LABEL, MAX_TRIES};
    let cases = cases(3000);
    let mut runner = runner(cases);
    let accepted = std::cell::Cell::new(0u32);
    runner
        .run(&lesson_text(), |text| {
            let Ok(lesson) = Lesson::parse(&text) else { return Ok(()) };
            accepted.set(accepted.get() + 1);
            prop_assert!(!lesson.cards.is_empty() && lesson.cards.len() <= MAX_CARDS);
            prop_assert!(lesson.title.chars().count() <= MAX_LABEL);
            for (i, card) in lesson.cards.iter().enumerate() {
                prop_assert!(card.body.len() <= MAX_BLOCKS && card.tries.len() <= MAX_TRIES);
                prop_assert!(card.tries.iter().all(|t| t.label.chars().count() <= MAX_LABEL && t.value.is_finite()));
                // The setups up to this card apply without a note to a fresh page and leave it
                // within bounds.
                let (config, notes) = lesson.config_at(i, &LabConfig::default());
                prop_assert!(notes.is_empty(), "{notes:?}");
                check_bounds(&config)?;
                // Whatever the author wrote, the page's markup holds only our own tags.
                for block in &card.body {
                    let texts = match block {
                        Block::Paragraph(p) => vec![p.clone()],
                        Block::List(items) => items.clone(),
                    };
                    for html in texts.iter().map(|t| inline_html(t)) {
                        let tags: Vec<&str> = html.split('<').skip(1).map(|t| t.split(['>', ' ']).next().unwrap_or("")).collect();
                        prop_assert!(
                            tags.iter().all(|t| ["em", "/em", "strong", "/strong", "code", "/code", "span", "/span", "sub", "/sub", "sup", "/sup"].contains(t)),
                            "{html}"
                        );
                    }
                }
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    println!("lesson parser: {cases} generated files, none panicked; {} were accepted, each within its limits", accepted.get());
    assert!(Lesson::from_bytes(&vec![b'#'; 48 * 1024]).is_err());
}
