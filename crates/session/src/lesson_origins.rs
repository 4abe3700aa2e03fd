//! Which embedding pages may drive the playground through its lesson API (`postMessage` from the
//! page that frames it). The host decides, beside the page and never in the link: the release
//! `index.html` carries `<meta name="latent-lab-lesson-origins" content="…">`, a list of origins
//! (`https://course.example.org`), separated by spaces or commas, or `*` for every origin. The
//! page's own origin is always allowed; opaque origins (`null`: sandboxed frames, `file:` pages)
//! never are, as a reply could not be addressed to them alone.

/// The `name` of the meta tag that lists the allowed origins.
pub const META_NAME: &str = "latent-lab-lesson-origins";
/// Longest list read, and most entries kept: the list is the host's, but it is bounded all the same.
const MAX_LIST: usize = 4096;
const MAX_ENTRIES: usize = 64;

/// The host's list, parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LessonOrigins {
    any: bool,
    listed: Vec<String>,
}

impl LessonOrigins {
    /// The list in a meta tag's `content`, and a note for every entry that is not an origin.
    pub fn parse(list: &str) -> (Self, Vec<String>) {
        let mut notes = Vec::new();
        let mut origins = Self::default();
        let list = if list.len() > MAX_LIST {
            notes.push(format!("the lesson-origin list is longer than {MAX_LIST} characters; the rest was ignored"));
            &list[..(0..=MAX_LIST).rev().find(|&i| list.is_char_boundary(i)).unwrap_or(0)]
        } else {
            list
        };
        for entry in list.split([' ', ',', '\n', '\t']).filter(|e| !e.is_empty()).take(MAX_ENTRIES) {
            if entry == "*" {
                origins.any = true;
            } else {
                match normalise(entry) {
                    Some(origin) => origins.listed.push(origin),
                    None => {
                        notes.push(format!("`{}` is not an origin such as https://course.example.org; ignored", entry.chars().take(80).collect::<String>()))
                    }
                }
            }
        }
        (origins, notes)
    }

    /// Whether a message from `origin` may drive the page served from `own`; the refusal says why.
    pub fn allows(&self, origin: &str, own: &str) -> Result<(), String> {
        if origin.is_empty() || origin == "null" {
            return Err("messages from an opaque origin (a sandboxed frame or a file) are not taken".into());
        }
        let origin_normalised = normalise(origin);
        if origin_normalised.is_some() && origin_normalised == normalise(own) {
            return Ok(());
        }
        if self.any || origin_normalised.is_some_and(|o| self.listed.contains(&o)) {
            return Ok(());
        }
        Err(format!(
            "this page takes lessons only from its own origin and those its host lists (meta {META_NAME}); {} is not listed",
            origin.chars().take(100).collect::<String>()
        ))
    }
}

/// `scheme://host[:port]` in lower case without a trailing slash, or `None` for anything else
/// (paths, queries, credentials, spaces).
fn normalise(origin: &str) -> Option<String> {
    let origin = origin.strip_suffix('/').unwrap_or(origin).to_ascii_lowercase();
    let (scheme, rest) = origin.split_once("://")?;
    let scheme_ok = !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let host_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c));
    (scheme_ok && host_ok).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &str = "https://lab.example.org";

    #[test]
    fn own_origin_always_and_opaque_never() {
        let (none, notes) = LessonOrigins::parse("");
        assert!(notes.is_empty());
        assert_eq!(none.allows(OWN, OWN), Ok(()));
        assert_eq!(none.allows("HTTPS://LAB.example.org", OWN), Ok(()), "origins compare case-insensitively");
        assert!(none.allows("https://evil.example", OWN).is_err_and(|why| why.contains("evil.example") && why.contains(META_NAME)));
        let (any, _) = LessonOrigins::parse("*");
        assert_eq!(any.allows("https://anyone.example", OWN), Ok(()));
        for opaque in ["null", ""] {
            assert!(any.allows(opaque, OWN).is_err(), "{opaque:?}");
            assert!(none.allows(opaque, "null").is_err(), "an opaque page does not match itself");
        }
    }

    #[test]
    fn listed_origins_match_exactly_and_junk_is_noted() {
        let (origins, notes) =
            LessonOrigins::parse("https://course.example.org/, http://127.0.0.1:8081\nhttps://lms.example.edu/path javascript:alert(1) *.example.com");
        assert_eq!(origins.allows("https://course.example.org", OWN), Ok(()));
        assert_eq!(origins.allows("http://127.0.0.1:8081", OWN), Ok(()));
        assert!(origins.allows("http://127.0.0.1:8082", OWN).is_err(), "another port is another origin");
        assert!(origins.allows("http://course.example.org", OWN).is_err(), "another scheme is another origin");
        assert!(origins.allows("https://course.example.org.evil.example", OWN).is_err());
        assert_eq!(notes.len(), 3, "the path, the javascript: URL and the wildcard host are not origins: {notes:?}");
    }

    #[test]
    fn the_list_is_bounded() {
        let long = "https://a.example ".repeat(1000);
        let (origins, notes) = LessonOrigins::parse(&long);
        assert!(notes.iter().any(|n| n.contains("longer than")));
        assert!(origins.listed.len() <= MAX_ENTRIES);
    }
}
