//! Draw a digit: a 28×28 pad (mouse, pen or finger) whose drawing the VAE encodes live. Beside it,
//! what the encoder read (the drawing fitted and centred as MNIST's digits were) and its
//! reconstruction; under it, the posterior's numbers and the held-out digits nearest its code. The
//! same posterior shows as a ring with its σ ellipse in the latent scatter, and its KL per
//! dimension as ticks over the KL bars.

use latent_core::data::mnist::IMAGE_SIDE;
use latent_session::draw_pad::nearest_labels;
use latent_session::lesson::three_digits;
use latent_session::run::{Drawing, Views};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::canvas;
use crate::state::{Command, Lab};

/// Held-out codes that vote on the drawing's nearest digit.
const NEIGHBOURS: usize = 15;

#[component]
pub fn DrawPadView(lab: Lab) -> impl IntoView {
    let pad = NodeRef::<Canvas>::new();
    let seen = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        if let Some(c) = pad.get() {
            lab.pad.with(|p| canvas::draw_images(&c, &p.pixels(), IMAGE_SIDE, 1));
        }
        if let Some(c) = seen.get() {
            let pair = lab.drawing.with(|d| d.as_ref().map(|d| [d.input.as_slice(), d.reconstruction.as_slice()].concat()).unwrap_or_default());
            canvas::draw_images(&c, &pair, IMAGE_SIDE, 2);
        }
    });
    // Pad coordinates of a pointer event (the canvas is the pad with a one-pixel frame); a press
    // starts a stroke, a move with the button down carries it on.
    let draw = move |ev: web_sys::PointerEvent, starts: bool| {
        let Some(c) = pad.get() else { return };
        let scale = f64::from(c.width()) / f64::from(c.client_width().max(1));
        let p = [(f64::from(ev.offset_x()) * scale - 1.0) as f32, (f64::from(ev.offset_y()) * scale - 1.0) as f32];
        if starts {
            // Keeps the stroke coming when the pointer leaves the pad mid-drag.
            c.set_pointer_capture(ev.pointer_id()).ok();
        } else if ev.buttons() != 1 {
            return;
        }
        if lab.pad.try_update(|pad| if starts { pad.begin(p) } else { pad.extend(p) }).unwrap_or(false) {
            lab.send(Command::EncodeDrawing);
        }
    };
    let clear = move |_| {
        lab.pad.update(|p| p.clear());
        lab.send(Command::EncodeDrawing);
    };
    view! {
        <section class="view" id="draw-view">
            <h2>"Draw a digit"{super::info::info_button(Signal::stored("draw"))}<button class="link" id="draw-clear" on:click=clear>"Clear"</button></h2>
            <div class="draw-row">
                <canvas node_ref=pad class="picture drawing draw-pad" id="draw-pad" width="30" height="30"
                    on:pointerdown=move |ev| draw(ev, true) on:pointermove=move |ev| draw(ev, false)
                    role="img" aria-label="Drawing pad, 28 by 28 pixels: draw a digit with the mouse, a pen or a finger"></canvas>
                <canvas node_ref=seen class="picture draw-seen" id="draw-seen" width="59" height="30"
                    role="img" aria-label="What the encoder reads from the drawing, and its reconstruction"></canvas>
            </div>
            <div aria-live="polite" inner_html=move || lab.drawing.with(|d| lab.views.with(|v| readouts(d.as_ref(), v)))></div>
            <p class="hint">"Left: your drawing. Right: what the encoder reads (fitted into 20×20 and centred by its ink, as MNIST's digits were) beside its reconstruction through μ. The ring in the latent scatter is the drawing's μ, its shaded ellipse one σ; the black ticks over the KL bars are its KL per dimension."</p>
        </section>
    }
}

/// The drawing's posterior in numbers, and the held-out digits nearest its code (over every latent
/// dimension), as markup: only numbers and our own words, so nothing needs escaping.
fn readouts(drawing: Option<&Drawing>, views: &Views) -> String {
    let Some(d) = drawing else { return r#"<p class="readout" id="draw-posterior">Draw on the pad: the VAE encodes it as you draw.</p>"#.into() };
    let (a, b) = views.dims;
    let sigma: Vec<f32> = d.sigma().collect();
    let of = |values: &[f32], i: usize| number(values.get(i).copied().map_or(f64::NAN, f64::from));
    let kl: f64 = d.kl_per_dim.iter().sum();
    let mut html = format!(
        r#"<p class="readout" id="draw-posterior">μ = ({}, {}) and σ = ({}, {}) in z{a} and z{b}; KL of the drawing {} nats in all.</p>"#,
        of(&d.mean, a),
        of(&d.mean, b),
        of(&sigma, a),
        of(&sigma, b),
        number(kl)
    );
    let votes = nearest_labels(&views.codes, d.mean.len(), &views.labels, &d.mean, NEIGHBOURS);
    if let Some(&(digit, count)) = votes.first() {
        let total: usize = votes.iter().map(|(_, n)| n).sum();
        let rest = votes.iter().skip(1).map(|(l, n)| format!("{n} × {l}")).collect::<Vec<_>>().join(", ");
        let rest = if rest.is_empty() { String::new() } else { format!(" (then {rest})") };
        html += &format!(r#"<p class="readout" id="draw-nearest" data-digit="{digit}">Nearest held-out digits: {count} of {total} are {digit}s{rest}.</p>"#);
    }
    html
}

/// Three significant digits, as the readouts print (a dash for a number that is not one).
fn number(v: f64) -> String {
    if v.is_finite() {
        three_digits(v)
    } else {
        "–".into()
    }
}
