//! Forks in the link: each branch beside the main run, written as the knobs in which it differs
//! from the main run (`forks=beta:4;l2:0.001,lr:0.01`, branches separated by `;`, an unchanged
//! branch written `-`). A link carries no weights, so the branches it names start where the main
//! run starts and part from there. Read with the same limits and clamping as the main run's knobs.

use latent_core::Knobs;

use super::query::{knob_value, number, shorten};
use super::{Knob, LabConfig};

/// Branches beside the main run: four runs in all, which is as many as a chart can overlay and a
/// row of pictures can hold side by side.
pub const MAX_FORKS: usize = 3;

/// The branches' names, the main run first when it was not forked from another.
pub const BRANCH_NAMES: [char; MAX_FORKS + 1] = ['A', 'B', 'C', 'D'];

/// Written for a branch with the main run's own knobs.
const SAME: &str = "-";

/// The knobs a branch may set apart from the main run: every knob of this model but the batch,
/// which is part of the model's shape (the branches share it).
pub fn fork_knobs(config: &LabConfig) -> impl Iterator<Item = Knob> + '_ {
    Knob::ALL.into_iter().filter(move |&k| k != Knob::Batch && k.applies_to(config))
}

/// The knobs in which `knobs` differ from the main run's, with their values: what a branch's
/// legend says ("β 4") and its link holds.
pub fn differences(config: &LabConfig, knobs: &Knobs) -> Vec<(Knob, f32)> {
    fork_knobs(config)
        .filter_map(|k| {
            let value = k.get_from(knobs, &config.shape);
            (value != k.get(config)).then_some((k, value))
        })
        .collect()
}

/// A branch's knobs as its legend shows them: "β 4, η 0.01", or "same knobs".
pub fn describe(config: &LabConfig, knobs: &Knobs) -> String {
    let differences = differences(config, knobs);
    if differences.is_empty() {
        return "same knobs".into();
    }
    differences.iter().map(|(k, v)| format!("{} {}", k.symbol(), k.format(*v))).collect::<Vec<_>>().join(", ")
}

/// The `forks` value of `config`'s link; `None` without branches.
pub(super) fn forks_value(config: &LabConfig) -> Option<String> {
    let branches: Vec<String> = config
        .forks
        .iter()
        .map(|knobs| {
            let differences = differences(config, knobs);
            if differences.is_empty() {
                SAME.to_string()
            } else {
                differences.iter().map(|(k, v)| format!("{}:{}", k.key(), Knob::format_plain(*v))).collect::<Vec<_>>().join(",")
            }
        })
        .collect();
    (!branches.is_empty()).then(|| branches.join(";"))
}

/// The branches a link's `forks` value names, over `config`'s (the main run's) knobs: at most
/// [`MAX_FORKS`], each knob clamped to its range; anything unusable is left out with a note.
pub(super) fn parse_forks(notes: &mut Vec<String>, value: Option<&str>, config: &LabConfig) -> Vec<Knobs> {
    // `forks=` (a lesson's setup clearing the branches) is none.
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Vec::new() };
    let branches: Vec<&str> = value.split(';').collect();
    if branches.len() > MAX_FORKS {
        notes.push(format!("`forks` names {} branches; the first {MAX_FORKS} are kept (four runs in all)", branches.len()));
    }
    branches.into_iter().take(MAX_FORKS).map(|branch| parse_branch(notes, branch.trim(), config)).collect()
}

fn parse_branch(notes: &mut Vec<String>, branch: &str, config: &LabConfig) -> Knobs {
    let mut knobs = config.knobs;
    if branch == SAME || branch.is_empty() {
        return knobs;
    }
    let mut shape = config.shape.clone();
    for setting in branch.split(',').take(Knob::ALL.len()) {
        let Some((key, value)) = setting.split_once(':') else {
            notes.push(format!("fork setting `{}` is not KNOB:VALUE; ignored", shorten(setting)));
            continue;
        };
        let Some(knob) = Knob::from_key(key.trim()).filter(|k| fork_knobs(config).any(|f| f == *k)) else {
            notes.push(format!("a fork cannot set `{}` on the {} (its knobs: {}); ignored", shorten(key), config.shape.model.name(), fork_keys(config)));
            continue;
        };
        if let Some(v) = number(notes, knob.key(), Some(value)) {
            knob.set_on(&mut knobs, &mut shape, knob_value(notes, knob, v));
        }
    }
    knobs
}

fn fork_keys(config: &LabConfig) -> String {
    fork_knobs(config).map(Knob::key).collect::<Vec<_>>().join(", ")
}
