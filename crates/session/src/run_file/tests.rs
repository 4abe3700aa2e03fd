use std::time::{Duration, Instant};

use serde_json::json;

use super::*;
use crate::config::{Dataset, ModelKind};
use crate::run::{Point, MAX_HISTORY};

fn ring_config() -> LabConfig {
    LabConfig::defaults_for(ModelKind::Vae, Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8))
}

/// A file of `config` with `weights` distinct, exactly representable values.
fn file_of(config: &LabConfig, step: u64, history: History) -> RunFile {
    let count = expected_weights(config).expect("a model");
    RunFile::new(config.to_query(), step, history, (0..count).map(|i| i as f32 * 0.25 - 3.0).collect())
}

fn refusal(text: &str) -> String {
    let error = RunFile::parse(text).expect_err("refused");
    let message = error.to_string();
    assert!(message.starts_with("This run file cannot be used: "), "{message}");
    message
}

#[test]
fn a_run_file_round_trips_bit_for_bit() {
    let mut config = ring_config();
    config.knobs.beta = 4.0;
    let history: History = [[10.0, 1.0, 2.0, 0.0, 3.0, f64::NAN, f64::NAN, 0.0, 0.0, f64::NAN], [20.0, 0.5, 1.5, 0.0, 2.0, 2.1, 2.3, 0.0, 0.0, f64::NAN]]
        .into_iter()
        .map(Point::from_row)
        .collect();
    let mut file = file_of(&config, 20, history);
    file.weights[..4].copy_from_slice(&[1e-8, -0.0, f32::MIN_POSITIVE, f32::MAX]);
    let text = file.to_json();
    assert!(text.contains(r#""format":"latent-lab-run/2""#), "{}", &text[..100]);
    let (back, back_config, notes) = RunFile::parse(&text).expect("parses");
    assert_eq!(back, file);
    assert!(back.weights.iter().zip(&file.weights).all(|(a, b)| a.to_bits() == b.to_bits()), "every bit of every weight comes back");
    assert_eq!(back_config, config);
    assert!(notes.is_empty(), "{notes:?}");
}

/// Exports of the first format, which users have, still read.
#[test]
fn a_version_1_file_still_reads() {
    let config = ring_config();
    let count = expected_weights(&config).expect("a model");
    let text = json!({
        "format": FORMAT_V1, "query": config.to_query(), "step": 30, "history_columns": HISTORY_COLUMNS,
        "history": [[30.0, 1.0, 2.0, 0.0, 3.0, null, 2.5, 0.0, 0.0, null]], "parameters": vec![0.5f32; count],
    })
    .to_string();
    let (file, back_config, _) = RunFile::parse(&text).expect("parses");
    assert_eq!((file.step, file.weights.len(), back_config), (30, count, config.clone()));
    assert_eq!(file.history.latest().and_then(|p| p.test), Some(2.5));
    let short = json!({ "format": FORMAT_V1, "query": config.to_query(), "step": 0, "history_columns": [], "history": [], "parameters": [1.0] });
    assert!(refusal(&short.to_string()).contains(&format!("declares 1 weights, but its settings make a model of {count}")));
}

#[test]
fn bad_files_are_refused_with_a_message() {
    let config = ring_config();
    let good = file_of(&config, 5, History::default()).to_json();
    let edit = |from: &str, to: &str| {
        assert!(good.contains(from), "{from}");
        good.replacen(from, to, 1)
    };
    let count = expected_weights(&config).expect("a model");
    for (text, reason) in [
        (String::new(), "EOF"),
        ("{}".into(), "missing field"),
        ("not json".into(), "expected"),
        ("[1,2,3]".into(), "invalid type"),
        (edit(FORMAT, "latent-lab-run/9"), "its format is `latent-lab-run/9`"),
        (edit(r#""step":5"#, r#""step":-5"#), "invalid value"),
        (edit(r#""history":[]"#, r#""history":[[1,2]]"#), "invalid length 2"),
        (edit(r#""history":[]"#, r#""history":[[1,2,3,4,5,6,7,8,9,10,11]]"#), "trailing"),
        (edit(r#""step":5"#, r#""step":5,"extra":[[[]]]"#), "unknown field `extra`"),
        (edit(&format!(r#""count":{count}"#), r#""count":7"#), &format!("declares 7 weights, but its settings make a model of {count}")),
        (edit(r#"f32le_base64":""#, r#"f32le_base64":"AAAA"#), "characters where they take"),
        (edit(r#","weights":{"#, r#","parameters":[1],"weights":{"#), "holds no weights"),
        (json!({ "format": FORMAT, "query": "", "step": 0, "history": [] }).to_string(), "holds no weights"),
        (json!({ "format": FORMAT_V1, "query": config.to_query(), "step": 0, "history": [], "parameters": [1, null] }).to_string(), "not finite"),
    ] {
        let message = refusal(&text);
        assert!(message.contains(reason), "{reason:?} not in {message:?}");
    }
    // Same length, not base64; and a NaN among the weights.
    let mangled = {
        let at = good.find("f32le_base64\":\"").expect("weights") + 16;
        format!("{}!{}", &good[..at], &good[at + 1..])
    };
    assert!(refusal(&mangled).contains("Invalid symbol"));
    let mut diverged = file_of(&config, 5, History::default());
    diverged.weights[3] = f32::NAN;
    assert!(refusal(&diverged.to_json()).contains("not finite"));
    // The settings go through the link's validated path, with its notes.
    let (_, config, notes) = RunFile::parse(&edit(&config.to_query(), &(config.to_query() + "&lr=99&evil=1"))).expect("parses");
    assert_eq!(config.knobs.lr, 0.1);
    assert_eq!(notes.len(), 2, "{notes:?}");
}

/// What a hostile file of the largest size costs: each is refused (or, for a long valid history,
/// thinned) while it is read, in a few seconds even unoptimised. The first read all of it into
/// memory first, hundreds of MB; `tests/run_file_memory.rs` measures that.
#[test]
fn hostile_files_are_refused_while_they_are_read() {
    let head = format!(r#"{{"format":"{FORMAT}","query":"","step":0,"history":["#);
    // `prefix`, then `unit` until the file is as large as is read, then `end`.
    let fill_to_end = |prefix: &str, unit: &str, end: &str| {
        let mut text = prefix.to_string();
        while text.len() + unit.len() + end.len() <= MAX_BYTES {
            text.push_str(unit);
        }
        text + end
    };
    let fill = |prefix: &str, unit: &str| fill_to_end(prefix, unit, "");
    for (text, reason) in [
        (fill("", "[],"), "invalid length 0"),
        (fill(&head, "[],"), "invalid length 0"),
        (fill(&head, "[1,2,3,4,5,6,7,8,9,10],"), "more than 100000 rows"),
        (fill(&head, "["), "invalid type: sequence"),
        (fill("", "["), "invalid type: sequence"),
        (fill(r#"{"format":"latent-lab-run/1","query":"","step":0,"history":[],"parameters":["#, "0,"), "more than 8102800 weights"),
        (fill(r#"{"format":"latent-lab-run/1","query":"","step":0,"history":[],"parameters":["#, "null,"), "not finite"),
        (fill_to_end(r#"{"format":"latent-lab-run/2","query":""#, "a", "\""), "its settings query is 67108"),
        (fill_to_end(r#"{"format":""#, "a", "\""), "its format tag is"),
        (fill(r#"{"format":"latent-lab-run/2","query":"","step":0,"history_columns":["#, r#""a","#), "more than 16 history columns"),
        ("x".repeat(MAX_BYTES + 1), "at most 64 MB"),
    ] {
        let started = Instant::now();
        let message = refusal(&text);
        assert!(message.contains(reason), "{reason:?} not in {message:?}");
        assert!(message.len() < 400, "a short message: {message}");
        assert!(started.elapsed() < Duration::from_secs(20), "{reason}: {:?}", started.elapsed());
    }
}

/// A long history is thinned as it is read to the rows a page keeps, its span kept.
#[test]
fn a_long_history_is_thinned_to_what_the_page_keeps() {
    let config = ring_config();
    let rows = 50_000u64;
    let file = file_of(&config, rows, History::default());
    let text = file.to_json();
    let rows_json: Vec<String> = (1..=rows).map(|step| format!("[{step},1,2,0,3,null,null,0,0,null]")).collect();
    let text = text.replacen(r#""history":[]"#, &format!(r#""history":[{}]"#, rows_json.join(",")), 1);
    let (back, _, _) = RunFile::parse(&text).expect("parses");
    let points = back.history.points();
    assert!(points.len() <= MAX_HISTORY, "{} rows kept", points.len());
    assert_eq!((points.first().map(|p| p.step), points.last().map(|p| p.step)), (Some(1), Some(rows)));
}

/// The largest model the page builds (the MNIST VAE at every size limit) has [`MAX_WEIGHTS`]
/// weights, every other model fewer, and its export is under [`MAX_BYTES`] and reads back. As JSON
/// numbers (version 1) the same weights took over 80 MB, past the limit.
#[test]
fn the_largest_models_export_reads_back() {
    let query = |model: &str| format!("model={model}&data=mnist&hidden=1024,1024,1024,1024&latent=64");
    let largest = LabConfig::from_query(&query("vae")).0;
    assert_eq!(expected_weights(&largest).expect("a model"), MAX_WEIGHTS);
    for model in ["gan", "vae-gan"] {
        assert!(expected_weights(&LabConfig::from_query(&query(model)).0).expect("a model") <= MAX_WEIGHTS);
    }
    // Glorot-initialised weights, as a fresh model exports them.
    let spec = largest.shape.vae_spec(largest.data.dataset).build().expect("builds");
    let weights = spec.layout.init(1);
    let file = RunFile::new(largest.to_query(), 1, History::default(), weights);
    let text = file.to_json();
    let megabytes = |n: usize| n as f64 / 1e6;
    let as_numbers: usize = file.weights.iter().map(|w| w.to_string().len() + 1).sum();
    println!("largest model: {MAX_WEIGHTS} weights, {:.1} MB as base64, {:.1} MB as JSON numbers", megabytes(text.len()), megabytes(as_numbers));
    assert!(text.len() < MAX_BYTES, "{} bytes", text.len());
    assert!(as_numbers > MAX_BYTES, "version 1 would have fitted: {as_numbers} bytes");
    let (back, _, _) = RunFile::parse(&text).expect("parses");
    assert!(back == file);
}
