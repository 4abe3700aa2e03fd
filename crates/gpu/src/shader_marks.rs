//! The kernel lines behind a number on the page. A line of `shaders/` whose comment holds
//! `ⓘ topic` computes (part of) that topic's number; the page's ⓘ panels show those lines in
//! their kernel. `build.rs` reads the marks (the embedded sources have no comments) and embeds the
//! marked files' stripped text apart from the kernels' (`shaders::ALL`): the page, which compiles
//! no kernel since the engines train in its worker, then carries those ten files, not every
//! kernel, and the worker, which shows no panel, none of them twice.

/// One WGSL file as `build.rs` found it.
pub(crate) struct MarkedFile {
    /// Relative to `shaders/`: `kl.wgsl`, `lib/activation.wgsl`.
    pub path: &'static str,
    pub lines: usize,
    /// (topic, 1-based line numbers).
    pub marks: &'static [(&'static str, &'static [usize])],
    /// The file without comments or indentation, line for line (empty where nothing is marked).
    pub text: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/wgsl_marks.rs"));

/// Lines of one file around a topic's marked lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Excerpt {
    /// Relative to `shaders/`.
    pub path: &'static str,
    /// Runs of consecutive source lines; the page puts a gap between runs.
    pub runs: Vec<Vec<ExcerptLine>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExcerptLine {
    /// 1-based, as in the file in `shaders/`.
    pub number: usize,
    /// Without comments or indentation (as embedded).
    pub text: &'static str,
    pub marked: bool,
}

/// Lines shown above a marked line when no `fn` header is near: the header is the best context.
const CONTEXT_ABOVE: usize = 2;
/// How far up to look for the enclosing `fn`.
const FN_REACH: usize = 14;

/// Every topic some line of `shaders/` is marked with, sorted.
pub fn topics() -> Vec<&'static str> {
    let mut topics: Vec<&str> = FILES.iter().flat_map(|f| f.marks.iter().map(|(t, _)| *t)).collect();
    topics.sort_unstable();
    topics.dedup();
    topics
}

/// The excerpts marked `topic`, one per file (none for an unknown topic): each marked line with
/// its enclosing `fn` header (or a couple of lines above) and the line after; blank lines (the
/// stripped comments) left out.
pub fn excerpts(topic: &str) -> Vec<Excerpt> {
    FILES
        .iter()
        .filter_map(|file| {
            let (_, marked) = file.marks.iter().find(|(t, _)| *t == topic)?;
            let lines = file_lines(file)?;
            Some(Excerpt { path: file.path, runs: runs(&lines, marked) })
        })
        .collect()
}

fn runs(lines: &[&'static str], marked: &[usize]) -> Vec<Vec<ExcerptLine>> {
    let mut shown = vec![false; lines.len()];
    for &number in marked {
        let at = number.saturating_sub(1).min(lines.len().saturating_sub(1));
        let header = (at.saturating_sub(FN_REACH)..=at).rev().find(|&i| lines[i].starts_with("fn "));
        let first = header.unwrap_or(at.saturating_sub(CONTEXT_ABOVE));
        let last = (at + 1).min(lines.len().saturating_sub(1));
        shown[first..=last].iter_mut().for_each(|s| *s = true);
    }
    let mut runs: Vec<Vec<ExcerptLine>> = Vec::new();
    let mut open = false;
    for (index, text) in lines.iter().enumerate() {
        if !shown[index] {
            open = false;
            continue;
        }
        if text.is_empty() {
            continue;
        }
        let line = ExcerptLine { number: index + 1, text, marked: marked.contains(&(index + 1)) };
        match runs.last_mut() {
            Some(run) if open => run.push(line),
            _ => runs.push(vec![line]),
        }
        open = true;
    }
    runs
}

/// A marked file's lines, as embedded.
fn file_lines(file: &MarkedFile) -> Option<Vec<&'static str>> {
    let lines: Vec<&'static str> = file.text.lines().collect();
    (lines.len() == file.lines).then_some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each marked file's embedded lines are the file's without their comments, and those the
    /// kernels embed (`shaders::ALL`, fragments first), so an excerpt shows what the GPU runs.
    #[test]
    fn every_marked_file_is_embedded_as_its_kernels_embed_it() {
        for file in FILES.iter().filter(|f| !f.marks.is_empty()) {
            let lines = file_lines(file).unwrap_or_else(|| panic!("{} is not embedded whole", file.path));
            let kernel = crate::shaders::ALL.iter().map(|s| s.source).find(|source| source.contains(file.text.trim_end()));
            assert!(kernel.is_some(), "{} is in no kernel's embedded source", file.path);
            let original = std::fs::read_to_string(format!("{}/../../shaders/{}", env!("CARGO_MANIFEST_DIR"), file.path)).unwrap_or_default();
            // Line for line: each embedded line is the file's line without its comment.
            for (number, (embedded, source)) in lines.iter().zip(original.lines()).enumerate() {
                let code = source.split_once("//").map_or(source, |(code, _)| code).trim();
                assert_eq!(*embedded, code, "{} line {}", file.path, number + 1);
            }
        }
    }

    #[test]
    fn an_excerpt_shows_the_marked_line_in_its_function() {
        let kl = excerpts("kl");
        assert_eq!(kl.len(), 1, "{kl:?}");
        let lines: Vec<&ExcerptLine> = kl[0].runs.iter().flatten().collect();
        assert!(lines.iter().any(|l| l.marked && l.text.contains("mu * mu + exp(logvar)")), "{lines:?}");
        assert!(lines.first().is_some_and(|l| l.text.starts_with("fn forward")), "{lines:?}");
        assert!(lines.iter().all(|l| !l.text.is_empty()));
        assert!(excerpts("no-such-topic").is_empty());
    }

    /// A topic's first marked line in a function more than `FN_REACH` lines below the header would
    /// lose the header (the context the ⓘ panel shows) without any other test noticing. (Later
    /// marks of the topic in the same function share the excerpt that shows it.)
    #[test]
    fn every_marked_function_shows_its_header() {
        for file in FILES {
            let original = std::fs::read_to_string(format!("{}/../../shaders/{}", env!("CARGO_MANIFEST_DIR"), file.path)).unwrap_or_default();
            let lines: Vec<&str> = original.lines().collect();
            for (topic, numbers) in file.marks {
                let mut shown = Vec::new();
                for &number in *numbers {
                    // Up from the marked line to the function's header, unless a closing brace at
                    // column 0 comes first: then the line is outside any function.
                    let above = lines[..number - 1].iter().rev().position(|l| l.starts_with("fn ") || l.starts_with('}'));
                    let Some(distance) = above.filter(|&d| lines[number - 2 - d].starts_with("fn ")) else { continue };
                    let header = number - 1 - distance;
                    if !shown.contains(&header) {
                        assert!(distance < FN_REACH, "{} line {number} ({topic}) is {} lines below its fn (reach {FN_REACH})", file.path, distance + 1);
                        shown.push(header);
                    }
                }
            }
        }
    }

    #[test]
    fn runs_split_at_lines_not_shown() {
        let lines = ["fn a() {", "let x = 1;", "", "x = 2;", "}", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "y = 3;", "z"];
        let runs = runs(&lines, &[2, 23]);
        let numbers: Vec<Vec<usize>> = runs.iter().map(|r| r.iter().map(|l| l.number).collect()).collect();
        // Line 23 has no fn within reach: two lines above (blank, so left out) and one below.
        assert_eq!(numbers, vec![vec![1, 2], vec![23, 24]]);
        assert!(runs[0][1].marked && !runs[0][0].marked);
    }
}
