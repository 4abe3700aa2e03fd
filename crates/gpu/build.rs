//! Copies every WGSL file of `shaders/` into `OUT_DIR` without its comments and indentation, for
//! `shaders.rs` to embed: the comments are half of the text and the page downloads every byte of
//! it. Each line stays where it was (a comment-only line becomes empty), so the line numbers in a
//! WGSL compiler's message still point into the files in `shaders/`. WGSL has no string literals,
//! so `//` always starts a comment; the files use no block comments (checked here).
//!
//! It also writes `wgsl_marks.rs`: each file's line count, the lines whose comment holds
//! `ⓘ topic…` (the lines the page's ⓘ panels mark for those topics, see `shader_marks.rs`) and,
//! for a file with such lines, its stripped text.

// A build script reports a failure by panicking: cargo prints the message as the build error.
#![allow(clippy::expect_used)]

use std::fs;
use std::path::Path;

fn main() {
    // Read when the script runs, not `env!` when it compiles: one compiled build script serves
    // every checkout that shares a target directory (a worktree's build left this one reading
    // the worktree's shaders after it was removed).
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for build scripts");
    let source = Path::new(&manifest).join("../../shaders");
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts")).join("shaders");
    println!("cargo:rerun-if-changed={}", source.display());
    let mut files = Vec::new();
    for folder in ["", "lib"] {
        let (from, to) = (source.join(folder), out.join(folder));
        println!("cargo:rerun-if-changed={}", from.display());
        fs::create_dir_all(&to).expect("creating the stripped shaders' folder");
        for entry in fs::read_dir(&from).expect("reading shaders/") {
            let path = entry.expect("listing shaders/").path();
            if path.extension().is_some_and(|e| e == "wgsl") {
                let text = fs::read_to_string(&path).expect("reading a shader");
                assert!(!text.contains("/*"), "{}: block comments are not stripped; use //", path.display());
                let name = path.file_name().expect("a shader file has a name");
                fs::write(to.join(name), strip(&text)).expect("writing a stripped shader");
                let path = Path::new(folder).join(name).to_string_lossy().replace('\\', "/");
                let marks = marks(&text);
                // A marked file's stripped text, for the ⓘ panels' excerpts (the page embeds no kernel).
                let stripped = if marks.is_empty() { "\"\"".to_string() } else { format!("include_str!(concat!(env!(\"OUT_DIR\"), \"/shaders/{path}\"))") };
                files.push(format!("    MarkedFile {{ path: {path:?}, lines: {}, marks: &[{marks}], text: {stripped} }},\n", text.lines().count()));
            }
        }
    }
    // `read_dir` lists in no fixed order; a sorted table keeps builds reproducible.
    files.sort();
    let table = format!(
        "/// Every WGSL file: its line count, its marked lines and (marked files only) its stripped text.\npub(crate) const FILES: &[MarkedFile] = &[\n{}];\n",
        files.concat()
    );
    fs::write(out.join("../wgsl_marks.rs"), table).expect("writing the marks table");
}

/// The `("topic", &[line, …])` entries of a file's `// ⓘ topic…` comments (1-based lines).
fn marks(text: &str) -> String {
    let mut topics: Vec<(String, Vec<usize>)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let Some((_, comment)) = line.split_once("//") else { continue };
        let Some((_, names)) = comment.split_once('ⓘ') else { continue };
        for name in names.split_whitespace() {
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "ⓘ topic {name:?}: letters, digits and '-' only");
            match topics.iter_mut().find(|(t, _)| t == name) {
                Some((_, lines)) => lines.push(index + 1),
                None => topics.push((name.to_string(), vec![index + 1])),
            }
        }
    }
    topics.iter().map(|(topic, lines)| format!("({topic:?}, &{lines:?})")).collect::<Vec<_>>().join(", ")
}

/// The source without `//` comments, indentation or trailing spaces, line for line.
fn strip(text: &str) -> String {
    text.lines().map(|line| line.split_once("//").map_or(line, |(code, _)| code).trim()).collect::<Vec<_>>().join("\n") + "\n"
}
