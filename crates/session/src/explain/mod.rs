//! What the ⓘ beside every view and knob says: the formula, exactly which terms the number on
//! screen includes (TensorFlow Playground's users keep asking whether its loss includes the
//! regularizer), and the WGSL lines that compute it on the GPU engine, cut from the kernels the
//! page already embeds ([`latent_gpu::shader_marks`]). The text is a table ([`topics`]), so one
//! test reads all of it against the shaders' marks.

mod topics;

use std::fmt::Write;

use latent_gpu::shader_marks::{excerpts, Excerpt};

use crate::lesson::escape_html;

pub use topics::TOPICS;

/// One ⓘ panel.
#[derive(Clone, Copy, Debug)]
pub struct Topic {
    /// What the page's `data-info` attribute names.
    pub key: &'static str,
    pub title: &'static str,
    /// The formula, in Unicode.
    pub formula: &'static str,
    /// What the number on screen includes and leaves out, and when it is measured.
    pub includes: &'static str,
    /// The `ⓘ` marks in `shaders/` of the lines that compute it on the GPU engine (none for a
    /// number worked out in Rust from values read back).
    pub kernels: &'static [&'static str],
}

/// The topic called `key`.
pub fn topic(key: &str) -> Option<&'static Topic> {
    TOPICS.iter().find(|t| t.key == key)
}

impl Topic {
    /// The panel as HTML: our own tags around escaped text. `on_gpu` says whether this run's
    /// kernels are the ones shown or their CPU twin's Rust.
    pub fn to_html(&self, on_gpu: bool) -> String {
        let mut html = format!(
            "<h2 id=\"info-title\">{}</h2><p class=\"info-formula\">{}</p><p><strong>What the number includes.</strong> {}</p>",
            escape_html(self.title),
            escape_html(self.formula),
            escape_html(self.includes)
        );
        let shown: Vec<Excerpt> = self.kernels.iter().flat_map(|mark| excerpts(mark)).collect();
        if shown.is_empty() {
            return html;
        }
        html.push_str(if on_gpu {
            "<h3>The kernel lines that compute it on your GPU</h3>"
        } else {
            "<h3>The kernel lines that compute it on WebGPU</h3><p class=\"hint\">This run trains on the CPU engine, whose Rust twin (crates/core) computes the same and is what the GPU kernels are tested against.</p>"
        });
        for excerpt in shown {
            // An excerpt wider or taller than the dialog scrolls; `tabindex` lets a keyboard user
            // reach and scroll it (axe: scrollable-region-focusable).
            let _ = write!(
                html,
                "<figure class=\"kernel\"><figcaption>shaders/{0}</figcaption><pre tabindex=\"0\" aria-label=\"shaders/{0}\"><code>",
                excerpt.path
            );
            for (index, run) in excerpt.runs.iter().enumerate() {
                if index > 0 {
                    html.push_str("<span class=\"gap\">⋮</span>\n");
                }
                for line in run {
                    let text = escape_html(line.text);
                    let _ = if line.marked {
                        writeln!(html, "<mark><span class=\"ln\">{}</span>{text}</mark>", line.number)
                    } else {
                        writeln!(html, "<span class=\"ln\">{}</span>{text}", line.number)
                    };
                }
            }
            html.push_str("</code></pre></figure>");
        }
        html.push_str("<p class=\"hint\">Marked lines compute the number; comments and indentation are stripped from the kernels the page carries (the line numbers are the files' in shaders/).</p>");
        html
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::Knob;

    #[test]
    fn every_mark_is_explained_and_every_named_mark_exists() {
        let marked: BTreeSet<&str> = latent_gpu::shader_marks::topics().into_iter().collect();
        let named: BTreeSet<&str> = TOPICS.iter().flat_map(|t| t.kernels.iter().copied()).collect();
        assert_eq!(marked, named, "marks in shaders/ against marks the topics show");
        for topic in TOPICS {
            for mark in topic.kernels {
                assert!(!excerpts(mark).is_empty(), "{}: mark {mark} has no lines", topic.key);
            }
        }
    }

    #[test]
    fn keys_are_unique_and_every_knob_has_a_topic() {
        let keys: BTreeSet<&str> = TOPICS.iter().map(|t| t.key).collect();
        assert_eq!(keys.len(), TOPICS.len(), "a key is used twice");
        for knob in Knob::ALL {
            assert!(topic(knob.key()).is_some(), "knob {} has no ⓘ", knob.key());
        }
        for topic in TOPICS {
            assert!(!topic.title.is_empty() && !topic.formula.is_empty() && topic.includes.len() > 40, "{} is thin", topic.key);
        }
    }

    #[test]
    fn the_loss_panel_says_what_its_total_includes_and_marks_the_kernels() {
        let html = topic("loss").map(|t| t.to_html(true)).unwrap_or_default();
        assert!(html.contains("penalty"), "{html}");
        assert!(html.contains("shaders/loss_bce.wgsl") && html.contains("shaders/kl.wgsl") && html.contains("shaders/penalty.wgsl"), "{html}");
        assert!(html.contains("<mark><span class=\"ln\">28</span>acc += softplus(l) - targets[e] * l;</mark>"), "{html}");
        assert!(html.contains("on your GPU") && !html.contains("CPU engine"));
        assert!(topic("loss").map(|t| t.to_html(false)).unwrap_or_default().contains("CPU engine"));
    }

    #[test]
    fn text_is_escaped() {
        // The kernels hold `<` and `&&`; neither reaches the page as markup.
        let html = topic("dropout").map(|t| t.to_html(true)).unwrap_or_default();
        assert!(html.contains("&amp;&amp;") && !html.contains("&& "), "{html}");
        let panel = Topic { key: "x", title: "<b>", formula: "a < b", includes: "\"quoted\" & more", kernels: &[] }.to_html(true);
        assert!(!panel.contains("<b>") && panel.contains("a &lt; b") && panel.contains("&quot;quoted&quot; &amp; more"), "{panel}");
        assert!(topic("no-such-topic").is_none());
    }
}
