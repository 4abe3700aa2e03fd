//! What reading a hostile run file costs in memory, measured as the process's peak resident set
//! (Linux's `VmHWM`, reset through `/proc/self/clear_refs`): a file of the largest size read is
//! refused while it is read, so reading it costs a small part of its own size. The first format's
//! reader deserialised the whole file before checking it: 64 MB of `[],` became about 500 MB of
//! empty lists.
//!
//! One test in its own binary, so that no other test's allocations share the peak.

use latent_session::run_file::MAX_BYTES;
use latent_session::RunFile;

/// Most memory a refusal may take beyond the file's text.
const MOST_EXTRA: u64 = 48 << 20;

#[cfg(target_os = "linux")]
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(target_os = "linux")]
#[test]
fn hostile_files_cost_little_more_than_their_text() {
    let fill = |prefix: &str, unit: &str| {
        let mut text = prefix.to_string();
        while text.len() + unit.len() <= MAX_BYTES {
            text.push_str(unit);
        }
        text
    };
    let head = r#"{"format":"latent-lab-run/2","query":"","step":0,"history":["#;
    for (name, text) in [
        ("64 MB of `[],`", fill("", "[],")),
        ("a history of 64 MB of `[],`", fill(head, "[],")),
        ("a history of 64 MB of rows", fill(head, "[1,2,3,4,5,6,7,8,9,10],")),
        ("64 MB of `[`", fill(head, "[")),
        ("version 1 weights of 64 MB of `null,`", fill(r#"{"format":"latent-lab-run/1","query":"","step":0,"history":[],"parameters":["#, "null,")),
    ] {
        // The text is resident before the peak is reset: only what reading adds is measured.
        let before = status_kib("VmRSS:").expect("VmRSS");
        if std::fs::write("/proc/self/clear_refs", "5").is_err() {
            println!("cannot reset the peak resident set here; not measured");
            return;
        }
        let result = RunFile::parse(&text);
        let peak = status_kib("VmHWM:").expect("VmHWM");
        let extra = peak.saturating_sub(before) << 10;
        println!("{name}: refused with {:.1} MB beyond the text: {:?}", extra as f64 / 1e6, result.as_ref().err().map(ToString::to_string));
        assert!(result.is_err(), "{name} was accepted");
        assert!(extra < MOST_EXTRA, "{name}: {extra} bytes beyond the text");
    }
}
