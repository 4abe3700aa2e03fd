//! Lessons: a short Markdown file of cards that walk a student through one idea in the running
//! playground. A card has a title, a body in a safe subset of Markdown (paragraphs, lists,
//! emphasis, code and inline TeX-like math, all escaped before any markup is added), an optional
//! `setup:` (URL keys, applied through the same validated path as a link), up to four `try:` buttons
//! that each set one knob, and an optional `check:` on the live readouts that ticks when the
//! student gets there.
//!
//! ```text
//! # The ELBO and β
//! What the KL term does to the code.
//!
//! ## Collapse
//! setup: model=vae&data=mnist&latent=8&beta=1
//! Raise $\beta$ and watch the KL bars fall, one dimension after another.
//! try: beta=4 | Raise β to 4
//! check: collapsed >= 6 | Six of the eight dimensions collapse
//! ```
//!
//! Parsing is bounded ([`MAX_BYTES`], [`MAX_LINE`], [`MAX_CARDS`], …) and never panics; every
//! problem is a [`LessonError`] naming its line.

mod check;
mod markup;
#[cfg(test)]
mod tests;

pub use check::{three_digits, Check, Comparison, Readout, Readouts, Term, MAX_TERMS};
pub use markup::{escape_html, inline_html};

use crate::config::{Knob, LabConfig};

/// Largest lesson file read.
pub const MAX_BYTES: usize = 32 * 1024;
/// Longest line.
pub const MAX_LINE: usize = 2000;
/// Most cards in a lesson.
pub const MAX_CARDS: usize = 16;
/// Most paragraphs and lists in a card.
pub const MAX_BLOCKS: usize = 24;
/// Most "try this" buttons on a card.
pub const MAX_TRIES: usize = 4;
/// Longest title, button or check label (characters).
pub const MAX_LABEL: usize = 120;
/// Longest name of a lesson in a link.
pub const MAX_NAME: usize = 100;

/// A lesson, parsed and within every limit.
#[derive(Clone, Debug, PartialEq)]
pub struct Lesson {
    pub title: String,
    /// The paragraph under the title, shown in the gallery.
    pub summary: String,
    pub cards: Vec<Card>,
}

/// One step of a lesson.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub title: String,
    /// URL keys applied when the card opens (`model=vae&beta=1`), already checked against a
    /// fresh playground.
    pub setup: Option<String>,
    pub body: Vec<Block>,
    pub tries: Vec<Try>,
    pub check: Option<Check>,
}

/// A paragraph or a list of the body, as written (escaped and marked up by [`inline_html`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    Paragraph(String),
    List(Vec<String>),
}

/// A "try this" button: sets one knob.
#[derive(Clone, Debug, PartialEq)]
pub struct Try {
    pub knob: Knob,
    pub value: f32,
    pub label: String,
}

impl Try {
    /// The change the button asks for, as a query.
    pub fn query(&self) -> String {
        format!("{}={}", self.knob.key(), Knob::format_plain(self.value))
    }
}

/// Why a lesson file was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LessonError {
    #[error("the lesson file is {0}; at most {max} are read", max = bytes_text(MAX_BYTES))]
    TooLarge(String),
    #[error("the lesson file is not UTF-8 text")]
    NotText,
    #[error("the lesson has no cards: each card starts with a `## Title` line")]
    NoCards,
    #[error("line {line}: {message}")]
    At { line: usize, message: String },
}

/// A size as a person reads it: bytes below 1 KB, KB with one decimal below 1 MB, MB beyond.
pub fn bytes_text(bytes: usize) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_048_576.0),
    }
}

impl Lesson {
    /// A lesson file as read from disk or the network.
    pub fn from_bytes(bytes: &[u8]) -> Result<Lesson, LessonError> {
        if bytes.len() > MAX_BYTES {
            return Err(LessonError::TooLarge(bytes_text(bytes.len())));
        }
        Self::parse(std::str::from_utf8(bytes).map_err(|_| LessonError::NotText)?)
    }

    /// A lesson's text.
    pub fn parse(text: &str) -> Result<Lesson, LessonError> {
        if text.len() > MAX_BYTES {
            return Err(LessonError::TooLarge(bytes_text(text.len())));
        }
        let mut parser = Parser::default();
        for (index, line) in text.lines().enumerate() {
            let at = |message: String| LessonError::At { line: index + 1, message };
            if line.chars().count() > MAX_LINE {
                return Err(at(format!("the line is longer than {MAX_LINE} characters")));
            }
            parser.line = index + 1;
            parser.line(line.trim_end()).map_err(at)?;
        }
        let setup_lines = std::mem::take(&mut parser.setup_lines);
        let lesson = parser.finish()?;
        lesson.check_setups(&setup_lines)?;
        Ok(lesson)
    }

    /// Each card's setup applied over the ones before it, from a fresh playground: a key the page
    /// would ignore or a value it would adjust is the author's mistake, said now (with its line)
    /// rather than as a note the student sees. Setups build on each other, so a GAN card's `l2g`
    /// is checked on the GAN an earlier card set up.
    fn check_setups(&self, lines: &[usize]) -> Result<(), LessonError> {
        let mut config = LabConfig::default();
        let mut lines = lines.iter();
        for setup in self.cards.iter().filter_map(|c| c.setup.as_deref()) {
            let line = lines.next().copied().unwrap_or(0);
            let (next, notes) = config.with_changes(setup);
            if let Some(note) = notes.first() {
                return Err(LessonError::At { line, message: format!("setup: {note}") });
            }
            config = next;
        }
        Ok(())
    }

    /// The playground a card starts from: `config` with the setups of every card up to `card`
    /// applied in turn (a card's setup builds on the ones before it), and the notes of anything
    /// adjusted.
    pub fn config_at(&self, card: usize, config: &LabConfig) -> (LabConfig, Vec<String>) {
        let mut config = config.clone();
        let mut notes = Vec::new();
        for setup in self.cards.iter().take(card + 1).filter_map(|c| c.setup.as_deref()) {
            let (next, more) = config.with_changes(setup);
            config = next;
            notes.extend(more);
        }
        (config, notes)
    }
}

/// The lines read so far.
#[derive(Default)]
struct Parser {
    /// The line being read, from 1, and the line of each card's setup.
    line: usize,
    setup_lines: Vec<usize>,
    title: Option<String>,
    summary: Vec<String>,
    cards: Vec<Card>,
    /// Lines of the paragraph being read.
    paragraph: Vec<String>,
    list: Vec<String>,
}

impl Parser {
    fn line(&mut self, line: &str) -> Result<(), String> {
        let trimmed = line.trim_start();
        if trimmed.is_empty() {
            return self.end_block();
        }
        if let Some(title) = trimmed.strip_prefix("## ") {
            self.end_block()?;
            if self.title.is_none() {
                return Err("the lesson starts with its `# Title` line, before the first card".into());
            }
            if self.cards.len() == MAX_CARDS {
                return Err(format!("at most {MAX_CARDS} cards"));
            }
            self.cards.push(Card { title: label(title, "a card title")?, setup: None, body: Vec::new(), tries: Vec::new(), check: None });
            return Ok(());
        }
        if let Some(title) = trimmed.strip_prefix("# ") {
            if self.title.is_some() {
                return Err("a lesson has one `# Title`; cards start with `## `".into());
            }
            self.title = Some(label(title, "the title")?);
            return Ok(());
        }
        if trimmed.starts_with('#') {
            return Err("only `# Title` and `## Card title` headings are read".into());
        }
        if self.title.is_none() {
            return Err("the lesson starts with its `# Title` line".into());
        }
        let Some(card) = self.cards.last_mut() else {
            // Before the first card: the summary.
            self.summary.push(trimmed.to_string());
            return Ok(());
        };
        if let Some((directive, rest)) = directive(trimmed) {
            return match directive {
                "setup" => {
                    if card.setup.is_some() {
                        return Err("a card has one `setup:` line".into());
                    }
                    card.setup = Some(setup(rest)?);
                    self.setup_lines.push(self.line);
                    Ok(())
                }
                "try" => {
                    if card.tries.len() == MAX_TRIES {
                        return Err(format!("at most {MAX_TRIES} `try:` buttons on a card"));
                    }
                    card.tries.push(try_button(rest)?);
                    Ok(())
                }
                _ => {
                    if card.check.is_some() {
                        return Err("a card has one `check:` line (join conditions with `and`)".into());
                    }
                    card.check = Some(Check::parse(rest)?);
                    Ok(())
                }
            };
        }
        if let Some(item) = trimmed.strip_prefix("- ").or_else(|| trimmed.strip_prefix("* ")) {
            if !self.paragraph.is_empty() {
                self.end_block()?;
            }
            self.list.push(item.trim().to_string());
        } else if !self.list.is_empty() && line.starts_with("  ") {
            // An indented line continues the list item above it.
            if let Some(last) = self.list.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            if !self.list.is_empty() {
                self.end_block()?;
            }
            self.paragraph.push(trimmed.to_string());
        }
        Ok(())
    }

    /// Closes the paragraph or list being read, into the current card.
    fn end_block(&mut self) -> Result<(), String> {
        let block = if !self.paragraph.is_empty() {
            Block::Paragraph(std::mem::take(&mut self.paragraph).join(" "))
        } else if !self.list.is_empty() {
            Block::List(std::mem::take(&mut self.list))
        } else {
            return Ok(());
        };
        let Some(card) = self.cards.last_mut() else { return Ok(()) };
        if card.body.len() == MAX_BLOCKS {
            return Err(format!("at most {MAX_BLOCKS} paragraphs and lists in a card"));
        }
        card.body.push(block);
        Ok(())
    }

    fn finish(mut self) -> Result<Lesson, LessonError> {
        self.end_block().map_err(|message| LessonError::At { line: 0, message })?;
        let title = self.title.ok_or(LessonError::NoCards)?;
        if self.cards.is_empty() {
            return Err(LessonError::NoCards);
        }
        Ok(Lesson { title, summary: self.summary.join(" "), cards: self.cards })
    }
}

/// `setup:`, `try:` or `check:` and the rest of the line.
fn directive(line: &str) -> Option<(&str, &str)> {
    let (name, rest) = line.split_once(':')?;
    ["setup", "try", "check"].into_iter().find(|d| *d == name.trim()).map(|d| (d, rest.trim()))
}

/// A title or label: not empty, at most [`MAX_LABEL`] characters.
fn label(text: &str, what: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{what} is empty"));
    }
    if text.chars().count() > MAX_LABEL {
        return Err(format!("{what} is longer than {MAX_LABEL} characters"));
    }
    Ok(text.to_string())
}

/// A setup's keys: settings of the playground, not of the page around it (their values are checked
/// once every card is read, by [`Lesson::check_setups`]).
fn setup(query: &str) -> Result<String, String> {
    let query = query.trim().trim_start_matches('?');
    if query.is_empty() {
        return Err("`setup:` lists no settings".into());
    }
    for (key, _) in form_urlencoded::parse(query.as_bytes()) {
        if matches!(key.as_ref(), "lesson" | "card" | "embed" | "bench" | "pts") {
            return Err(format!("`setup:` cannot set `{key}`"));
        }
    }
    Ok(query.to_string())
}

/// `try: beta=4 | Raise β to 4`.
fn try_button(rest: &str) -> Result<Try, String> {
    let (change, text) = rest.split_once('|').ok_or("`try:` is `knob=value | button label`")?;
    let (key, value) = change.trim().split_once('=').ok_or("`try:` sets one knob: `beta=4 | …`")?;
    let knob = Knob::ALL.into_iter().find(|k| k.key() == key.trim()).ok_or_else(|| format!("`try:` sets a knob; `{}` is not one", key.trim()))?;
    let value: f32 = value.trim().parse().map_err(|_| format!("`try:` value `{}` is not a number", value.trim()))?;
    let (lo, hi) = knob.scale().bounds();
    if !(lo..=hi).contains(&value) {
        return Err(format!("`try: {}={value}` is outside [{lo}, {hi}]", knob.key()));
    }
    Ok(Try { knob, value, label: label(text, "the button label")? })
}

/// Which lesson a link opens: `?lesson=NAME&card=N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonLink {
    /// A built-in lesson's name, or the relative address of a `.md` file beside the page.
    pub name: String,
    /// The open card, from 0 (the link counts from 1).
    pub card: usize,
}

impl LessonLink {
    /// A lesson name a link may carry, or why not: a built-in name, or a relative `.md` address on
    /// the page's own host (no scheme, no `//`, no backslash, no `..`), at most [`MAX_NAME`] long.
    pub fn check_name(name: &str) -> Result<(), String> {
        if BUILT_IN.iter().any(|b| b.name == name) {
            return Ok(());
        }
        let safe = name.len() <= MAX_NAME
            && name.ends_with(".md")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            && !name.starts_with('/')
            && !name.split('/').any(|part| part == ".." || part.is_empty());
        if safe {
            Ok(())
        } else {
            Err(format!(
                "no lesson `{}`: a link names a built-in lesson ({}) or a `.md` file beside the page",
                crate::config::query::shorten(name),
                BUILT_IN.iter().map(|b| b.name).collect::<Vec<_>>().join(", ")
            ))
        }
    }

    /// The built-in lesson the link names, if it names one.
    pub fn built_in(&self) -> Option<&'static BuiltIn> {
        BUILT_IN.iter().find(|b| b.name == self.name)
    }
}

/// A lesson that ships with the page: its file, `www/lessons/<name>.md`, lies beside the page
/// (`lessons/<name>.md`), which fetches it when it opens (the service worker keeps the files for
/// offline use), so the page's module carries only what the gallery lists. Native builds (the
/// tests, the rehearsal) have the text compiled in; a test checks the title and summary here
/// against it.
#[derive(Debug)]
pub struct BuiltIn {
    pub name: &'static str,
    pub title: &'static str,
    /// The summary as the file has it (inline markup and all), on one line.
    pub summary: &'static str,
    #[cfg(not(target_arch = "wasm32"))]
    text: &'static str,
}

impl BuiltIn {
    /// Where the page fetches the lesson from, beside itself.
    pub fn path(&self) -> String {
        format!("lessons/{}.md", self.name)
    }

    /// The lesson; the built-in files are checked by the tests, so this never fails in a release.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn lesson(&self) -> Result<Lesson, LessonError> {
        Lesson::parse(self.text)
    }
}

/// One entry of [`BUILT_IN`]: its name, title and summary, and natively its text.
macro_rules! built_in {
    ($name:literal, $title:literal, $summary:literal) => {
        BuiltIn {
            name: $name,
            title: $title,
            summary: $summary,
            #[cfg(not(target_arch = "wasm32"))]
            text: include_str!(concat!("../../../../www/lessons/", $name, ".md")),
        }
    };
}

/// The lessons in `www/lessons/`, in the gallery's order.
pub const BUILT_IN: [BuiltIn; 7] = [
    built_in!(
        "elbo-beta",
        "The ELBO and β",
        "What the KL term of a VAE's loss does to its code, and how a large β switches latent dimensions off one by one."
    ),
    built_in!(
        "l2-overfitting",
        "Overfitting a VAE, and the L2 penalty",
        "A wide VAE on a hundred digits learns those digits by heart. Adding $\\lambda \\|W\\|^2$ to its loss pulls it back."
    ),
    built_in!(
        "l1-vs-l2",
        "L1 against L2",
        "Two penalties on the same weights: $\\lambda_1 \\sum |w|$ makes many weights exactly zero, $\\lambda_2 \\sum w^2$ shrinks them all."
    ),
    built_in!(
        "vae-gan",
        "The VAE-GAN: a critic for sharper samples",
        "Why a VAE's samples are blurry, and how a discriminator judging the decoder's output sharpens them."
    ),
    built_in!(
        "gan-penalties",
        "A GAN with two penalties",
        "A GAN learning a ring of eight Gaussians, with a separate L2 strength for each network: $\\lambda_G$ for the generator, $\\lambda_D$ for the discriminator."
    ),
    built_in!(
        "sample-quality",
        "Sample quality: what makes a VAE's samples sharper",
        "Why a VAE's samples come out blurry, and what changes that, compared side by side: an adversarial critic, the regularizers, a deeper network with another activation."
    ),
    built_in!(
        "cross-validation",
        "Choosing λ by cross-validation",
        "How strong should the penalty be? Not what looks best on the training digits, and not a guess: the readings choose $\\lambda$ by cross-validation, and the Sweep panel does exactly that."
    ),
];
