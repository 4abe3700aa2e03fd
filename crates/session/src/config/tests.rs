use super::*;

#[test]
fn default_config_round_trips_through_its_query() {
    for model in ModelKind::ALL {
        for dataset in Dataset::all() {
            let mut config = LabConfig::defaults_for(model, dataset);
            config.check_model_fits_data();
            let (back, notes) = LabConfig::from_query(&config.to_query());
            assert_eq!(back, config, "{}", config.to_query());
            assert!(notes.is_empty(), "{notes:?}");
        }
    }
}

#[test]
fn every_control_survives_the_url() {
    let query = "model=vae-gan&data=mnist&train=500&seed=7&hidden=64,32&activation=tanh&latent=4&beta=4&l2=0.001&l1=0.0001&dropout=0.25&lr=0.003&batch=32&gamma=2.5&early=1&engine=cpu&embed=1&autoplay=1&bench=50&hide=l1,seed&lock=beta";
    let (config, notes) = LabConfig::from_query(query);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((config.shape.model, config.data.dataset, config.data.train_size, config.shape.seed), (ModelKind::VaeGan, Dataset::Mnist, 500, 7));
    assert_eq!((config.shape.hidden.clone(), config.shape.activation, config.shape.latent, config.shape.batch), (vec![64, 32], Activation::Tanh, 4, 32));
    let k = &config.knobs;
    assert_eq!((k.beta, k.l2, k.l1, k.dropout, k.lr, k.gamma), (4.0, 0.001, 0.0001, 0.25, 0.003, 2.5));
    assert!(config.early_stopping && config.page.embed && config.page.autoplay);
    assert_eq!(config.page.bench, Some(Bench::Train { steps: 50 }));
    assert_eq!(
        (config.engine, config.page.hide.clone(), config.page.lock.clone()),
        (EnginePref::Cpu, vec!["l1".to_string(), "seed".into()], vec!["beta".to_string()])
    );
    let (again, notes) = LabConfig::from_query(&config.to_query());
    assert_eq!(again, config);
    assert!(notes.is_empty());
}

#[test]
fn bad_values_are_noted_and_replaced() {
    let (config, notes) = LabConfig::from_query("?beta=abc&lr=5&hidden=1000000000,3&latent=-2&model=unicorn&colour=red&batch=0&dropout=NaN");
    let defaults = LabConfig::default();
    assert_eq!(config.knobs.beta, defaults.knobs.beta, "a bad number keeps the default");
    assert_eq!(config.knobs.lr, 0.1, "clamped to the slider's maximum");
    assert_eq!(config.shape.hidden, vec![MAX_WIDTH, 3]);
    assert_eq!(config.shape.latent, 1);
    assert_eq!(config.shape.model, ModelKind::Vae);
    assert_eq!(config.shape.batch, 1);
    assert_eq!(config.knobs.dropout, defaults.knobs.dropout);
    for needle in ["beta=abc", "lr=5", "hidden=1000000000", "latent=-2", "unicorn", "colour", "batch=0", "dropout=NaN"] {
        assert!(notes.iter().any(|n| n.contains(needle)), "no note mentions {needle}: {notes:?}");
    }
}

#[test]
fn hostile_sizes_are_refused_before_allocation() {
    let layers = vec!["8"; 1_000_000].join(",");
    let (config, notes) = LabConfig::from_query(&format!("hidden={layers}"));
    assert_eq!(config.shape.hidden, vec![8; MAX_LAYERS]);
    assert!(notes.iter().any(|n| n.contains("longer than")) && notes.iter().any(|n| n.contains("at most")));
    let (config, _) = LabConfig::from_query("hidden=8,8,8,8,8,8,8,8,8&train=1e12");
    assert_eq!(config.shape.hidden.len(), MAX_LAYERS);
    assert_eq!(config.data.train_size, MNIST_TRAIN.1);
}

#[test]
fn the_gan_never_trains_on_digits() {
    let (config, notes) = LabConfig::from_query("model=gan&data=mnist");
    assert_eq!(config.data.dataset, Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8));
    assert!(notes.iter().any(|n| n.contains("2D")));
}

#[test]
fn log_sliders_start_at_zero_and_reach_their_maximum() {
    for knob in Knob::ALL {
        let scale = knob.scale();
        let (lo, hi) = scale.bounds();
        assert!((scale.value_at(0) - lo).abs() <= lo * 1e-5, "{knob:?}");
        assert!((scale.value_at(scale.positions()) - hi).abs() <= hi * 1e-5, "{knob:?}");
        for p in 0..=scale.positions() {
            assert_eq!(scale.position_of(scale.value_at(p)), p, "{knob:?} position {p}");
        }
    }
    assert_eq!(Knob::Batch.scale().value_at(3), 8.0);
}

#[test]
fn percent_encoding_round_trips_lists() {
    let mut config = LabConfig::default();
    config.page.hide = vec!["beta".into(), "model".into()];
    let query = config.to_query();
    assert!(query.contains("hide=beta,model"), "{query}");
    let (back, _) = LabConfig::from_query(&query.replace("hide=beta,model", "hide=beta%2Cmodel"));
    assert_eq!(back.page.hide, config.page.hide);
}

#[test]
fn knob_text_is_short() {
    assert_eq!(Knob::Beta.format(0.0), "0");
    assert_eq!(Knob::Beta.format(Knob::Beta.scale().value_at(6)), "0.0316");
    assert_eq!(Knob::Batch.format(64.0), "64");
    assert_eq!(Knob::L1.format(1e-5), "1e-5");
}

#[test]
fn drawn_points_travel_in_the_url() {
    let (config, notes) = LabConfig::from_query("data=drawn&pts=0:0,1.234:-2,9:9,abc,0.5:0.5");
    assert_eq!(config.data.dataset, Dataset::Drawn);
    assert_eq!(config.data.drawn, vec![[0.0, 0.0], [1.23, -2.0], [0.5, 0.5]]);
    assert!(notes.iter().any(|n| n.contains("2 drawn point")), "{notes:?}");
    let (back, notes) = LabConfig::from_query(&config.to_query());
    assert_eq!(back, config);
    assert!(notes.is_empty());
    let many = vec!["1:1"; 5000].join(",");
    let (config, notes) = LabConfig::from_query(&format!("data=drawn&pts={many}"));
    assert!(config.data.drawn.len() <= MAX_DRAWN);
    assert!(!notes.is_empty());
}

#[test]
fn bench_takes_steps_or_matmul() {
    let (config, notes) = LabConfig::from_query("bench=matmul");
    assert_eq!(config.page.bench, Some(Bench::Matmul));
    assert!(notes.is_empty(), "{notes:?}");
    assert!(config.to_query().contains("bench=matmul"), "{}", config.to_query());
    let (config, notes) = LabConfig::from_query("bench=999999");
    assert_eq!(config.page.bench, Some(Bench::Train { steps: MAX_BENCH_STEPS }));
    assert_eq!(notes.len(), 1, "{notes:?}");
    let (config, notes) = LabConfig::from_query("bench=gemm");
    assert_eq!(config.page.bench, None);
    assert!(notes.iter().any(|n| n.contains("bench")), "{notes:?}");
}

/// Every slider lies within what the engines accept, so a slider never offers a value that
/// `Knobs::validate` refuses (batch size is a shape, checked by the engines' build).
#[test]
fn sliders_stay_within_the_knobs_limits() {
    for knob in Knob::ALL.into_iter().filter(|k| *k != Knob::Batch) {
        let (lo, hi) = knob.scale().bounds();
        for value in [lo, hi] {
            let mut config = LabConfig::defaults_for(ModelKind::VaeGan, Dataset::Mnist);
            knob.set(&mut config, value);
            assert_eq!(config.knobs.validate(), Ok(()), "{knob:?} at {value}");
        }
    }
}

/// A lesson's `set` on a state whose own query is long (200 drawn points, over 2,000 characters)
/// and a change that takes the rest of the limit: the change is applied whole, not cut off the end
/// of the two joined together (which the page did before `with_changes`).
#[test]
fn changes_apply_over_a_long_state() {
    let points: Vec<String> = (0..MAX_DRAWN).map(|i| format!("{:.2}:{:.2}", -2.9 + i as f32 * 0.029, 2.9 - i as f32 * 0.0271)).collect();
    let (state, notes) = LabConfig::from_query(&format!("model=vae&data=drawn&pts={}", points.join(",")));
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(state.data.drawn.len(), MAX_DRAWN);
    let padding = format!("seed=3&{}", "seed=5&".repeat(250));
    let changes = format!("{padding}beta=4");
    assert!(changes.len() < query::MAX_QUERY && state.to_query().len() + changes.len() > query::MAX_QUERY);
    let (changed, notes) = state.with_changes(&changes);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((changed.knobs.beta, changed.shape.seed, changed.data.drawn.len()), (4.0, 5, MAX_DRAWN));
    // A change over the limit itself is cut, with a note that says so.
    let (_, notes) = state.with_changes(&"seed=5&".repeat(1000));
    assert!(notes.iter().any(|n| n.contains("the change is longer")), "{notes:?}");
}

/// A change of model or data (a lesson's setup, the lesson API's `set`) starts from that pair's
/// defaults, as the page's menus do, keeping the seed, engine and page settings: the digit VAE's
/// widths, latent size and β do not follow it into a GAN, and nothing is noted as ignored.
#[test]
fn a_change_of_model_starts_from_its_defaults() {
    let (vae, _) = LabConfig::from_query("model=vae&hidden=64&latent=8&beta=4&seed=7&engine=cpu&embed=1");
    let (gan, notes) = vae.with_changes("model=gan&data=ring&l2g=0.01");
    assert!(notes.is_empty(), "{notes:?}");
    let defaults = LabConfig::defaults_for(ModelKind::Gan, Dataset::Toy(toy2d::Toy2d::Ring8));
    assert_eq!((&gan.shape.hidden, gan.shape.latent, gan.shape.seed), (&defaults.shape.hidden, defaults.shape.latent, 7));
    assert_eq!((gan.engine, gan.page.embed, gan.knobs.l2_generator()), (EnginePref::Cpu, true, 0.01));
    // Without a change of model or data, the state is kept.
    let (more, _) = vae.with_changes("beta=2");
    assert_eq!((&more.shape.hidden, more.shape.latent, more.knobs.beta), (&vec![64], 8, 2.0));
}

#[test]
fn gan_penalties_have_their_own_keys_and_old_links_keep_their_meaning() {
    // λ_G and λ_D on their own, and back through the URL.
    let (gan, notes) = LabConfig::from_query("model=gan&data=ring&l2g=0.01&l2d=0.001");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((gan.knobs.l2_generator(), gan.knobs.l2_discriminator()), (0.01, 0.001));
    let query = gan.to_query();
    assert!(query.contains("l2g=0.01") && query.contains("l2d=0.001") && !query.contains("l2="), "{query}");
    assert_eq!(LabConfig::from_query(&query).0, gan);
    // A link from before: its one `l2` held for both networks, and still does.
    let (old, notes) = LabConfig::from_query("model=gan&data=ring&l2=0.01");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!((old.knobs.l2_generator(), old.knobs.l2_discriminator()), (0.01, 0.01));
    assert_eq!(LabConfig::from_query(&old.to_query()).0, old);
    // The VAE-GAN: λ₂ for the VAE, λ_D for its discriminator; an old link's `l2` held for D too.
    let (vae_gan, _) = LabConfig::from_query("model=vae-gan&l2=0.001");
    assert_eq!((vae_gan.knobs.l2, vae_gan.knobs.l2_discriminator()), (0.001, 0.001));
    let (vae_gan, _) = LabConfig::from_query("model=vae-gan&l2=0.001&l2d=0.01");
    assert_eq!((vae_gan.knobs.l2, vae_gan.knobs.l2_discriminator()), (0.001, 0.01));
    // The sliders each page shows.
    let shown = |c: &LabConfig| Knob::ALL.into_iter().filter(|k| k.applies_to(c)).map(Knob::key).collect::<Vec<_>>();
    assert!(shown(&gan).contains(&"l2g") && shown(&gan).contains(&"l2d") && !shown(&gan).contains(&"l2"));
    assert!(shown(&vae_gan).contains(&"l2") && shown(&vae_gan).contains(&"l2d") && !shown(&vae_gan).contains(&"l2g"));
    // Not for the VAE: noted and ignored.
    let (vae, notes) = LabConfig::from_query("model=vae&l2g=0.01");
    assert_eq!(vae.knobs.l2_g, None);
    assert!(notes.iter().any(|n| n.contains("l2g")), "{notes:?}");
}

/// A link is anyone's text: the notes banner says what was adjusted in a few lines and never
/// repeats the link's prose (before, ~2 KB of a link's text reached the banner).
#[test]
fn a_hostile_link_gets_a_few_short_notes() {
    let prose = "Your+account+is+locked.+Call+0800-SCAM+now+to+restore+it".repeat(8);
    let query = format!("model={prose}&data={prose}&activation={prose}&{prose}=1&lr=x{prose}&hidden=a,b&beta=1e9&engine=<b>bold</b>&x1=1&x2=2");
    let (config, notes) = LabConfig::from_query(&query);
    assert_eq!(config.shape.model, ModelKind::Vae);
    let notes = query::a_few_notes(&notes);
    assert_eq!(notes.len(), query::MAX_NOTES, "{notes:?}");
    assert!(notes.last().is_some_and(|n| n.starts_with("and ") && n.ends_with("more adjustments")), "{notes:?}");
    let shown = notes.join("; ");
    assert!(shown.len() < 300, "{} characters: {shown}", shown.len());
    assert!(!shown.contains("account") && !shown.contains("<b>"), "{shown}");
    assert!(shown.contains("characters, not shown]"), "{shown}");
    // A plain typo is still quoted, so the user sees what to fix.
    let (_, notes) = LabConfig::from_query("model=vea");
    assert_eq!(notes, vec!["unknown model `vea`; using the VAE".to_string()]);
}

/// On the CPU engine each default that a link left alone shrinks, whatever it chose for the others;
/// the note names what shrank.
#[test]
fn cpu_defaults_shrink_one_by_one_and_say_so() {
    let (mut small_data, _) = LabConfig::from_query("train=100");
    let note = small_data.shrink_for_cpu().expect("the hidden layers and the batch shrink").join(", ");
    assert_eq!((small_data.shape.hidden.clone(), small_data.shape.batch, small_data.data.train_size), (vec![64], 32, 100));
    assert!(note.contains("hidden layer of 64") && note.contains("batch 32") && !note.contains("training digits"), "{note}");
    let (mut chosen, _) = LabConfig::from_query("hidden=128&batch=16&train=500");
    assert_eq!(chosen.shrink_for_cpu(), None);
    assert_eq!(chosen.shape.hidden, vec![128]);
    let mut ring = LabConfig::defaults_for(ModelKind::Vae, Dataset::Toy(latent_core::data::toy2d::Toy2d::Ring8));
    assert_eq!(ring.shrink_for_cpu(), None, "2D data is small already");
}

/// A link with branches opens them with their knobs; the link the page writes reads back to the
/// same branches, an unchanged branch included.
#[test]
fn forks_round_trip_through_the_link() {
    let (config, notes) = LabConfig::from_query("beta=1&forks=beta:4;-;l2:0.001,lr:0.01");
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(config.forks.len(), 3);
    assert_eq!((config.forks[0].beta, config.forks[0].l2), (4.0, 0.0));
    assert_eq!(config.forks[1], config.knobs);
    assert_eq!((config.forks[2].beta, config.forks[2].l2, config.forks[2].lr), (1.0, 0.001, 0.01));
    assert_eq!(forks::describe(&config, &config.forks[0]), "β 4");
    assert_eq!(forks::describe(&config, &config.forks[1]), "same knobs");
    let (back, notes) = LabConfig::from_query(&config.to_query());
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(back, config, "{}", config.to_query());
    assert!(config.to_query().contains("forks=beta%3A4%3B-%3Bl2%3A0.001,lr%3A0.01"), "{}", config.to_query());
    // A lesson's setup clears them with an empty value.
    let (cleared, notes) = config.with_changes("forks=");
    assert!(cleared.forks.is_empty() && notes.is_empty(), "{:?} {notes:?}", cleared.forks);
}

/// Too many branches, knobs a fork cannot set (the batch is the shape; β is not the GAN's), values
/// out of range and text that is not a setting: each is left out or clamped with a note.
#[test]
fn bad_forks_in_a_link_are_noted_and_bounded() {
    let (config, notes) = LabConfig::from_query("forks=beta:2;beta:3;beta:5;beta:6;beta:7");
    assert_eq!(config.forks.iter().map(|k| k.beta).collect::<Vec<_>>(), vec![2.0, 3.0, 5.0]);
    assert!(notes.iter().any(|n| n.contains("the first 3 are kept")), "{notes:?}");

    let (config, notes) = LabConfig::from_query("forks=batch:16,beta:1e9,lr:x,nonsense;dropout:0.5");
    assert_eq!(config.shape.batch, LabConfig::default().shape.batch);
    let (_, hi) = Knob::Beta.scale().bounds();
    assert_eq!((config.forks[0].beta, config.forks[0].lr, config.forks[1].dropout), (hi, config.knobs.lr, 0.5));
    for expected in ["cannot set `batch`", "`beta=1000000000` is outside", "`lr=x` is not a number", "`nonsense` is not KNOB:VALUE"] {
        assert!(notes.iter().any(|n| n.contains(expected)), "{expected}: {notes:?}");
    }

    let (config, notes) = LabConfig::from_query("model=gan&forks=beta:4,l2g:0.01");
    assert_eq!(config.forks[0].l2_generator(), 0.01);
    assert!(notes.iter().any(|n| n.contains("cannot set `beta` on the GAN")), "{notes:?}");
}
