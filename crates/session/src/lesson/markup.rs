//! A lesson's inline text as HTML: everything the author wrote is escaped first, and only our own
//! tags are added around it (`*emphasis*`, `**strong**`, `` `code` ``, `$math$`), so a lesson file
//! cannot inject markup, scripts or links into the page. Math is TeX-like and written out in
//! Unicode (`$\beta \cdot KL$` → β · KL, `x_i^2` → x with a subscript i and a superscript 2): no
//! math renderer ships with the page.

/// `text` safe inside an HTML element or a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// One paragraph or list item of a lesson as HTML.
pub fn inline_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(at) = rest.find(['*', '`', '$']) {
        out.push_str(&escape_html(&rest[..at]));
        rest = &rest[at..];
        let (open, close, tag) = if rest.starts_with("**") {
            ("**", "**", "strong")
        } else if rest.starts_with('*') {
            ("*", "*", "em")
        } else if rest.starts_with('`') {
            ("`", "`", "code")
        } else {
            ("$", "$", "math")
        };
        let inner = &rest[open.len()..];
        match inner.find(close).filter(|&end| end > 0) {
            Some(end) => {
                let content = &inner[..end];
                match tag {
                    "math" => out.push_str(&format!("<span class=\"math\">{}</span>", math_html(content))),
                    "code" => out.push_str(&format!("<code>{}</code>", escape_html(content))),
                    tag => out.push_str(&format!("<{tag}>{}</{tag}>", inline_html(content))),
                }
                rest = &inner[end + close.len()..];
            }
            None => {
                // An unpaired mark is text.
                out.push_str(&escape_html(open));
                rest = inner;
            }
        }
    }
    out.push_str(&escape_html(rest));
    out
}

/// TeX commands a lesson's math may use, and what they print.
const SYMBOLS: [(&str, &str); 35] = [
    ("alpha", "α"),
    ("beta", "β"),
    ("gamma", "γ"),
    ("delta", "δ"),
    ("epsilon", "ε"),
    ("theta", "θ"),
    ("lambda", "λ"),
    ("mu", "μ"),
    ("sigma", "σ"),
    ("phi", "φ"),
    ("psi", "ψ"),
    ("Sigma", "Σ"),
    ("cdot", "·"),
    ("times", "×"),
    ("le", "≤"),
    ("ge", "≥"),
    ("leq", "≤"),
    ("geq", "≥"),
    ("approx", "≈"),
    ("neq", "≠"),
    ("sum", "∑"),
    ("infty", "∞"),
    ("to", "→"),
    ("|", "‖"),
    ("mid", "|"),
    ("log", "log"),
    ("exp", "exp"),
    ("min", "min"),
    ("max", "max"),
    ("mathbb", ""),
    ("mathrm", ""),
    ("mathcal", ""),
    ("text", ""),
    ("operatorname", ""),
    ("quad", "\u{2003}"),
];

/// TeX-like math as escaped HTML: Greek letters and operators in Unicode, `_x` and `^x` (or
/// `_{…}`, `^{…}`) as sub- and superscripts; braces group and are dropped; `-` is a minus sign.
fn math_html(tex: &str) -> String {
    let mut out = String::new();
    let mut chars = tex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                    name.push(n);
                    chars.next();
                }
                if name.is_empty() {
                    // `\|` and escaped punctuation.
                    if let Some(n) = chars.next() {
                        let text = n.to_string();
                        let symbol = SYMBOLS.iter().find(|(k, _)| *k == text).map_or(text.as_str(), |(_, v)| v);
                        out.push_str(&escape_html(symbol));
                    }
                } else {
                    match SYMBOLS.iter().find(|(k, _)| *k == name) {
                        Some((_, symbol)) => out.push_str(symbol),
                        None => out.push_str(&escape_html(&name)),
                    }
                }
            }
            '_' | '^' => {
                let script = group(&mut chars);
                let tag = if c == '_' { "sub" } else { "sup" };
                out.push_str(&format!("<{tag}>{}</{tag}>", math_html(&script)));
            }
            '{' | '}' => {}
            '-' => out.push('−'),
            c => out.push_str(&escape_html(&c.to_string())),
        }
    }
    out
}

/// The next `{…}` group (nested braces kept) or the next single character.
fn group(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    match chars.next() {
        Some('{') => {
            let mut depth = 1;
            let mut inner = String::new();
            for c in chars.by_ref() {
                depth += match c {
                    '{' => 1,
                    '}' => -1,
                    _ => 0,
                };
                if depth == 0 {
                    break;
                }
                inner.push(c);
            }
            inner
        }
        Some('\\') => {
            let mut name = String::from('\\');
            while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                name.push(n);
                chars.next();
            }
            name
        }
        Some(c) => c.to_string(),
        None => String::new(),
    }
}
