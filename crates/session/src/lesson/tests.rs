use super::*;
use crate::config::{Dataset, ModelKind};
use crate::run::{Histogram, History, Point, Views};
use crate::sweep::{Curve, CurvePoint};

const SMALL: &str = "# Title\nA summary\nover two lines.\n\n## First\nsetup: beta=2\nSome *text* with $\\beta$.\n- one\n- two\n  continued\ntry: beta=4 | Raise β\ncheck: collapsed >= 3 and kl < 10 | Three collapse\n\n## Second\nMore.\n";

#[test]
fn a_lesson_reads_into_cards() {
    let lesson = Lesson::parse(SMALL).unwrap();
    assert_eq!(lesson.title, "Title");
    assert_eq!(lesson.summary, "A summary over two lines.");
    assert_eq!(lesson.cards.len(), 2);
    let card = &lesson.cards[0];
    assert_eq!(card.title, "First");
    assert_eq!(card.setup.as_deref(), Some("beta=2"));
    assert_eq!(card.body, vec![Block::Paragraph("Some *text* with $\\beta$.".into()), Block::List(vec!["one".into(), "two continued".into()])]);
    assert_eq!(card.tries, vec![Try { knob: Knob::Beta, value: 4.0, label: "Raise β".into() }]);
    assert_eq!(card.tries[0].query(), "beta=4");
    let check = card.check.as_ref().unwrap();
    assert_eq!(check.label, "Three collapse");
    assert_eq!(
        check.terms,
        vec![
            Term { readout: Readout::Collapsed, comparison: Comparison::AtLeast, threshold: 3.0 },
            Term { readout: Readout::Kl, comparison: Comparison::Below, threshold: 10.0 }
        ]
    );
    assert_eq!(lesson.cards[1].body, vec![Block::Paragraph("More.".into())]);
    assert!(lesson.cards[1].check.is_none());
}

/// The line and the message a bad file gets.
fn error(text: &str) -> String {
    Lesson::parse(text).unwrap_err().to_string()
}

#[test]
fn a_bad_lesson_is_refused_with_its_line() {
    assert_eq!(error("no title\n## Card"), "line 1: the lesson starts with its `# Title` line");
    assert_eq!(error("# T\nsummary"), "the lesson has no cards: each card starts with a `## Title` line");
    assert_eq!(error("# T\n## C\n### deeper"), "line 3: only `# Title` and `## Card title` headings are read");
    assert_eq!(error("# T\n## C\ncheck: happiness > 3 | Happy").split(';').next().unwrap(), "line 3: no readout `happiness`");
    assert_eq!(error("# T\n## C\ncheck: kl > lots | x"), "line 3: `lots` is not a number");
    assert_eq!(error("# T\n## C\ncheck: kl 3 | x"), "line 3: `kl 3` compares nothing: use >=, <=, > or <");
    assert_eq!(error("# T\n## C\ncheck: kl > 3"), "line 3: `check:` is `readout >= number [and …] | what the student reaches`");
    assert_eq!(error("# T\n## C\ntry: seed=3 | Seed"), "line 3: `try:` sets a knob; `seed` is not one");
    assert_eq!(error("# T\n## C\ntry: beta=1000 | Huge"), "line 3: `try: beta=1000` is outside [0, 100]");
    assert_eq!(error("# T\n## C\ntry: beta=1 |  "), "line 3: the button label is empty");
    assert_eq!(error("# T\n\n## C\nsetup: colour=red"), "line 4: setup: ignored unknown setting `colour`");
    assert_eq!(error("# T\n## C\nsetup: lesson=elbo-beta"), "line 3: `setup:` cannot set `lesson`");
    // Setups build on each other: λ_G is a GAN's, so it is refused on the VAE and taken once an
    // earlier card has set up a GAN.
    assert_eq!(error("# T\n## C\nsetup: l2g=0.1"), "line 3: setup: `l2g` does not apply to the VAE; ignored");
    assert!(Lesson::parse("# T\n## C\nsetup: model=gan&data=ring\n## D\nsetup: l2g=0.1").is_ok());
    assert_eq!(error("# T\n## C\nsetup: beta=1\nsetup: beta=2"), "line 4: a card has one `setup:` line");
    assert_eq!(error(&format!("# T\n## {}", "x".repeat(MAX_LABEL + 1))), format!("line 2: a card title is longer than {MAX_LABEL} characters"));
    assert_eq!(error(&format!("# T\n## C\n{}", "x".repeat(MAX_LINE + 1))), format!("line 3: the line is longer than {MAX_LINE} characters"));
    let many_cards: String = (0..=MAX_CARDS).map(|i| format!("## Card {i}\n")).collect();
    assert_eq!(error(&format!("# T\n{many_cards}")), format!("line {}: at most {MAX_CARDS} cards", MAX_CARDS + 2));
    let many_tries: String = (0..=MAX_TRIES).map(|_| "try: beta=2 | Two\n").collect();
    assert_eq!(error(&format!("# T\n## C\n{many_tries}")), format!("line {}: at most {MAX_TRIES} `try:` buttons on a card", MAX_TRIES + 3));
    let many_terms = ["kl > 1"; MAX_TERMS + 1].join(" and ");
    assert_eq!(error(&format!("# T\n## C\ncheck: {many_terms} | x")), format!("line 3: at most {MAX_TERMS} conditions in a check"));
}

#[test]
fn a_file_too_large_or_not_text_is_refused_before_it_is_read() {
    assert_eq!(Lesson::from_bytes(&vec![b'x'; 47 * 1024]).unwrap_err().to_string(), "the lesson file is 47.0 KB; at most 32.0 KB are read");
    assert_eq!(Lesson::from_bytes(&[0xff, 0xfe, b'#']).unwrap_err(), LessonError::NotText);
    assert_eq!(bytes_text(900), "900 bytes");
    assert_eq!(bytes_text(3 * 1_048_576), "3.0 MB");
}

#[test]
fn lesson_text_is_escaped_before_it_is_marked_up() {
    assert_eq!(inline_html("<script>alert('x')</script> & *more*"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; <em>more</em>");
    assert_eq!(inline_html("**bold** and `a<b`"), "<strong>bold</strong> and <code>a&lt;b</code>");
    assert_eq!(inline_html("a * b and $5"), "a * b and $5");
    assert_eq!(inline_html("*<img src=x onerror=alert(1)>*"), "<em>&lt;img src=x onerror=alert(1)&gt;</em>");
    assert_eq!(inline_html("$\\beta \\cdot \\mathrm{KL}$"), "<span class=\"math\">β · KL</span>");
    assert_eq!(inline_html("$\\lambda_G$"), "<span class=\"math\">λ<sub>G</sub></span>");
    assert_eq!(inline_html("$\\|W\\|^2 - x_{ij}$"), "<span class=\"math\">‖W‖<sup>2</sup> − x<sub>ij</sub></span>");
    assert_eq!(inline_html("$<\\unknown>$"), "<span class=\"math\">&lt;unknown&gt;</span>");
}

#[test]
fn a_link_names_a_built_in_lesson_or_a_file_beside_the_page() {
    for ok in ["elbo-beta", "lessons/my-lesson.md", "week_3.md"] {
        assert_eq!(LessonLink::check_name(ok), Ok(()), "{ok}");
    }
    for bad in ["https://evil.example/x.md", "//evil.example/x.md", "/etc/x.md", "../x.md", "a/../../x.md", "x.txt", "javascript:alert(1)", "a\\b.md", "nope"] {
        assert!(LessonLink::check_name(bad).is_err(), "{bad}");
    }
    let (config, notes) = LabConfig::from_query("lesson=elbo-beta&card=2");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(config.page.lesson, Some(LessonLink { name: "elbo-beta".into(), card: 1 }));
    assert!(config.to_query().ends_with("lesson=elbo-beta&card=2"), "{}", config.to_query());
    assert_eq!(LabConfig::from_query(&config.to_query()).0, config);
    let (config, notes) = LabConfig::from_query("lesson=elbo-beta&card=99");
    assert_eq!(config.page.lesson.unwrap().card, MAX_CARDS - 1);
    assert_eq!(notes, vec![format!("`card=99` is outside [1, {MAX_CARDS}]; clamped to {MAX_CARDS}")]);
    let (config, notes) = LabConfig::from_query("lesson=https://evil.example/x.md");
    assert!(config.page.lesson.is_none());
    assert!(notes[0].starts_with("no lesson `[25 characters, not shown]`"), "{notes:?}");
    assert_eq!(LabConfig::from_query("card=3").1, vec!["`card` without a `lesson`; ignored".to_string()]);
}

#[test]
fn readouts_are_the_numbers_the_views_show() {
    let mut history = History::default();
    history.push(Point { step: 100, kl: 12.0, total: 110.0, train: Some(100.0), test: Some(104.0), ..Point::default() });
    history.push(Point { step: 200, kl: 9.0, total: 100.0, train: Some(90.0), test: Some(102.0), ..Point::default() });
    history.push(Point { step: 300, kl: 8.0, total: 95.0, train: Some(80.0), test: Some(109.0), ..Point::default() });
    let histogram = |near_zero| Histogram { name: String::new(), reach: 1.0, counts: vec![], initial: vec![], near_zero, beyond: [0.0; 2] };
    let views = Views { kl_per_dim: vec![0.01, 2.0, 0.0, 3.0], sharpness: Some(0.02), weights: vec![histogram(0.1), histogram(0.3)], ..Views::default() };
    let r = Readouts::of(300, &history, &views, true);
    let expect = [
        (Readout::Step, Some(300.0)),
        (Readout::Loss, Some(95.0)),
        (Readout::Kl, Some(8.0)),
        (Readout::TrainElbo, Some(80.0)),
        (Readout::TestElbo, Some(109.0)),
        (Readout::Gap, Some(29.0)),
        (Readout::Overfit, Some(7.0)),
        (Readout::Collapsed, Some(2.0)),
        (Readout::Active, Some(2.0)),
        (Readout::Sharpness, Some(0.02)),
        (Readout::Modes, None),
        (Readout::Mmd, None),
        (Readout::DAccuracy, None),
    ];
    for (readout, value) in expect {
        assert_eq!(r.get(readout), value, "{readout:?}");
    }
    assert!((r.get(Readout::NearZero).unwrap() - 0.2).abs() < 1e-6);
    // A GAN has no KL or latent code.
    let gan = Readouts::of(300, &history, &Views { modes: Some((5, 8)), ..Views::default() }, false);
    assert_eq!((gan.get(Readout::Kl), gan.get(Readout::Collapsed), gan.get(Readout::Modes)), (None, None, Some(5.0)));

    let check = Check::parse("gap > 20 and collapsed >= 2 | Overfit and collapsed").unwrap();
    assert!(check.holds(&r));
    assert!(!Check::parse("modes >= 1 | x").unwrap().holds(&r), "an unmeasured readout never ticks");
    assert_eq!(check.terms[0].describe(&r), "held-out − training −ELBO 29 (goal > 20)");
    assert_eq!(Term { readout: Readout::NearZero, comparison: Comparison::Above, threshold: 0.25 }.describe(&r), "weights near zero 20.0% (goal > 25.0%)");
    assert_eq!(Term { readout: Readout::Modes, comparison: Comparison::AtLeast, threshold: 6.0 }.describe(&r), "modes covered not measured yet (goal ≥ 6)");
    let printed: Vec<String> = [(Readout::Gap, 82.735), (Readout::Mmd, 0.01483), (Readout::Kl, 0.0), (Readout::Loss, 1234.6), (Readout::Sharpness, 0.00725)]
        .into_iter()
        .map(|(readout, value)| readout.format(value))
        .collect();
    assert_eq!(printed, ["82.7", "0.0148", "0", "1235", "0.0073"]);
    // A finished sweep's choices join the run's readouts; without a curve they are unmeasured.
    let points = [0.0, 0.01, 0.03, 0.1].map(|value| CurvePoint { value, ..CurvePoint::default() }).to_vec();
    let curve = Curve { points, min: Some(1), one_se: Some(2) };
    let with = r.clone().with_sweep(Some(&curve));
    assert_eq!((with.get(Readout::LambdaMin), with.get(Readout::LambdaOneSe)), (Some(0.01), Some(0.03)));
    assert!(Check::parse("lambda_1se > 0.02 and lambda_min < 0.02 | one SE").unwrap().holds(&with));
    assert_eq!(r.clone().with_sweep(None).get(Readout::LambdaMin), None);
    // With branches, the sharpest samples over the blurriest, the run's own among them; a branch
    // not yet drawn counts for nothing, and a run alone has no ratio.
    assert_eq!(r.clone().with_branches(&[Some(0.05), None, Some(0.01)]).get(Readout::SharpnessRatio), Some(5.0));
    assert_eq!(r.clone().with_branches(&[None]).get(Readout::SharpnessRatio), None);
    assert_eq!(r.get(Readout::SharpnessRatio), None);
}

/// Which readouts a config's model on its dataset (and its sweep) can show.
fn readable(readout: Readout, config: &LabConfig) -> bool {
    let (model, dataset) = (config.shape.model, config.data.dataset);
    match readout {
        Readout::Kl | Readout::Collapsed | Readout::Active | Readout::TrainElbo | Readout::TestElbo | Readout::Gap | Readout::Overfit => model.has_encoder(),
        Readout::Sharpness => model.has_encoder() && dataset == Dataset::Mnist,
        Readout::SharpnessRatio => model.has_encoder() && dataset == Dataset::Mnist && !config.forks.is_empty(),
        Readout::Modes => matches!(dataset, Dataset::Toy(t) if t.key() == "ring" || t.key() == "grid"),
        Readout::Mmd => dataset.is_2d(),
        Readout::DAccuracy => model == ModelKind::Gan,
        Readout::Step | Readout::Loss | Readout::NearZero => true,
        // A validation curve: a sweep of a VAE's knob (a GAN's sweep is a grid of modes and MMD).
        Readout::LambdaMin | Readout::LambdaOneSe => config.sweep.is_some() && model.has_encoder(),
    }
}

#[test]
fn built_in_lessons_read_and_check_what_their_models_show() {
    for built_in in &BUILT_IN {
        let lesson = built_in.lesson().unwrap_or_else(|e| panic!("{}: {e}", built_in.name));
        assert!(!lesson.summary.is_empty(), "{}", built_in.name);
        // The gallery lists what the page's module carries, the file opens: the two must agree.
        assert_eq!((built_in.title, built_in.summary), (lesson.title.as_str(), lesson.summary.as_str()), "{}: the title or summary in BUILT_IN", built_in.name);
        for (i, card) in lesson.cards.iter().enumerate() {
            let (config, notes) = lesson.config_at(i, &LabConfig::default());
            assert!(notes.is_empty(), "{} card {}: {notes:?}", built_in.name, i + 1);
            for term in card.check.iter().flat_map(|c| &c.terms) {
                assert!(readable(term.readout, &config), "{} card {}: {:?} on the {:?}", built_in.name, i + 1, term.readout, config.shape.model);
            }
            for t in &card.tries {
                assert!(t.knob.applies_to(&config), "{} card {}: {:?} does not apply", built_in.name, i + 1, t.knob);
            }
        }
        assert_eq!(LessonLink::check_name(built_in.name), Ok(()));
    }
}
