//! The runs side by side after a fork: per branch its colour and name, its knobs against the main
//! run's, where it is, a few samples, reconstructions and its KL per dimension, and the buttons
//! that make it the main run or drop it. The loss chart overlays the same branches.

use latent_core::data::as_points;
use latent_core::data::mnist::IMAGE_SIDE;
use latent_core::model::gan::MAP_SIDE;
use latent_session::config::forks::describe;
use latent_session::config::ModelKind;
use latent_session::run::{Views, COLLAPSED_KL};
use leptos::html::Canvas;
use leptos::prelude::*;

use super::canvas;
use super::charts::{format_value, KL_DECADES};
use super::info::info_button;
use crate::state::{Branch, Command, Ended, Lab};

/// Images per row in a branch's pictures, and the side of its 2D plane (pixels).
const COLUMNS: usize = 4;
const PLANE: u32 = 180;
/// The KL strip's size (viewBox units), on the KL view's log scale.
const KL_W: f64 = 160.0;
const KL_H: f64 = 40.0;

#[component]
pub fn Branches(lab: Lab) -> impl IntoView {
    // The cards are made again only when the branches' names or order change, not as they train.
    let names = Memo::new(move |_| lab.branches.with(|b| b.iter().map(|b| b.name).collect::<Vec<_>>()));
    move || {
        let names = names.get();
        (!names.is_empty()).then(|| {
            view! {
                <section class="view" id="branches-view" aria-label="Branches side by side">
                    <h2>"Branches"{info_button(Signal::stored("branches"))}</h2>
                    <div class="branch-row">{names.into_iter().map(|name| view! { <BranchCard lab=lab name=name /> }).collect_view()}</div>
                    <p class="hint">"Each branch trains on from the state it was forked in, with its own knobs; with the same knobs it would repeat the other step for step. The controls, the link and the large views follow the main branch: make a branch main to change its knobs."</p>
                </section>
            }
        })
    }
}

/// One branch's card; the main run's pictures are the first few of its large views'. The list of
/// branches changes at every step (their histories grow): what is read from it is borrowed, and
/// what changes rarely (the place, the colour, the knobs, the end) is kept in one memo, so a step
/// redraws the readout alone and the pictures wait for their own signals.
#[component]
fn BranchCard(lab: Lab, name: char) -> impl IntoView {
    // One memo for all of it: each memo's type costs the page its own reactive code.
    let card = Memo::new(move |_| {
        lab.branches.with(|all| {
            let place = all.iter().position(|b| b.name == name);
            let branch = place.map(|p| &all[p]);
            Card { place, knobs: branch.map(|b| b.knobs), ended: branch.and_then(|b| b.ended), colour: branch.map_or("#000000", Branch::colour) }
        })
    });
    let is_main = move || card.with(|c| c.place == Some(0));
    let samples = NodeRef::<Canvas>::new();
    let recons = NodeRef::<Canvas>::new();
    // The pictures this card shows: the main run's large views, or the branch's own.
    let with_views = move |f: &mut dyn FnMut(&Views)| {
        if is_main() {
            lab.views.with(|v| f(v));
        } else {
            lab.branch_views.with(|all| all.iter().filter(|(n, _)| *n == name).for_each(|(_, v)| f(v)));
        }
    };
    Effect::new(move |_| {
        with_views(&mut |v| draw(v, samples.get().as_ref(), recons.get().as_ref()));
    });
    let has_encoder = move || lab.config.with(|c| c.shape.model.has_encoder());
    let is_digits = move || lab.config.with(|c| !c.data.dataset.is_2d());
    let knobs = move || {
        let knobs = card.with(|c| c.knobs)?;
        Some(if is_main() { "main: the controls' knobs".to_string() } else { lab.config.with(|c| describe(c, &knobs)) })
    };
    let history_of = move |f: &dyn Fn(&latent_session::run::History) -> String| {
        lab.with_histories(|all| all.iter().find(|(b, _)| b.is_some_and(|b| b.name == name)).map(|(_, h)| f(h))).unwrap_or_default()
    };
    let readout = move || {
        let gan = lab.config.with(|c| c.shape.model == ModelKind::Gan);
        let (mut modes, mut sharpness) = (None, None);
        with_views(&mut |v| (modes, sharpness) = (v.modes, v.sharpness));
        history_of(&|h| {
            let step = h.latest().map_or(0, |p| p.step);
            if gan {
                let g = h.latest().map(|p| format_value(p.g_loss)).unwrap_or_else(|| "—".into());
                let covered = modes.map(|(m, of)| format!(" · modes {m} of {of}")).unwrap_or_default();
                format!("step {step} · G loss {g}{covered}")
            } else {
                let held_out = h.last_measured(|p| p.test).map(format_value).unwrap_or_else(|| "—".into());
                let sharpness = sharpness.map(|e| format!(" · sharpness {e:.4}")).unwrap_or_default();
                format!("step {step} · held-out −ELBO {held_out}{sharpness}")
            }
        })
    };
    let kl = move || {
        let mut kl = Vec::new();
        with_views(&mut |v| kl = v.kl_per_dim.clone());
        kl
    };
    let kl_summary = move || {
        let kl = kl();
        let collapsed = kl.iter().filter(|&&k| k < COLLAPSED_KL).count();
        format!("KL {} nats, {collapsed} of {} dimensions collapsed", format_value(kl.iter().copied().filter(|k| k.is_finite()).sum()), kl.len())
    };
    let ended = move || card.with(|c| c.ended);
    let colour = move || card.with(|c| c.colour);
    let name_text = name.to_string();
    view! {
        <article class="branch" data-branch=name_text.clone() style:border-color=colour>
            <h3><i class="swatch" style:background=colour></i>{name_text.clone()}{move || is_main().then_some(" (main)")}</h3>
            <p class="branch-knobs">{knobs}</p>
            <p class="readout branch-readout">{readout}{move || ended().map(|e| format!(" · {e}"))}</p>
            <canvas node_ref=samples class="picture" aria-label=format!("Branch {name}: samples")></canvas>
            // Hidden rather than left out, so the drawing effect always finds its canvas.
            <canvas node_ref=recons class="picture" hidden=move || !(has_encoder() && is_digits())
                aria-label=format!("Branch {name}: held-out digits above their reconstructions")></canvas>
            <svg viewBox=format!("0 0 {KL_W} {KL_H}") class="chart bars branch-kl" role="img" aria-label=kl_summary hidden=move || !has_encoder()>
                {move || kl_bars(&kl())}
            </svg>
            <p class="hint branch-kl-summary" hidden=move || !has_encoder()>{kl_summary}</p>
            <div class="branch-actions">
                <button class="make-main" hidden=is_main disabled=move || ended() == Some(Ended::Diverged)
                    on:click=move |_| { if let Some(p) = card.with_untracked(|c| c.place) { lab.send(Command::MakeMain(p)) } }>"Make main"</button>
                <button class="drop" on:click=move |_| { if let Some(p) = card.with_untracked(|c| c.place) { lab.send(Command::DropBranch(p)) } }>"Drop"</button>
            </div>
        </article>
    }
}

/// A branch's samples (digits, or generated points over the real ones on 2D data) and, for the
/// VAE family on digits, its reconstructions.
fn draw(v: &Views, samples: Option<&web_sys::HtmlCanvasElement>, recons: Option<&web_sys::HtmlCanvasElement>) {
    let pixels = IMAGE_SIDE * IMAGE_SIDE;
    let first = |images: &[f32]| images[..images.len().min(2 * COLUMNS * pixels)].to_vec();
    if let Some(c) = samples {
        if v.dim == pixels {
            canvas::draw_images(c, &first(&v.samples), IMAGE_SIDE, COLUMNS);
        } else if v.dim == 2 {
            canvas::draw_plane(c, &v.heat, MAP_SIDE, &v.real, &as_points(&v.samples), PLANE);
        }
    }
    if let (Some(c), true) = (recons, v.dim == pixels) {
        let row = COLUMNS * pixels;
        canvas::draw_pairs(c, &v.inputs[..v.inputs.len().min(row)], &v.reconstructions[..v.reconstructions.len().min(row)], IMAGE_SIDE, COLUMNS);
    }
}

/// KL per dimension as bars on the KL view's fixed log scale, collapsed ones marked.
fn kl_bars(kl: &[f64]) -> impl IntoView {
    let (lo, hi) = KL_DECADES;
    let width = KL_W / kl.len().max(1) as f64;
    kl.iter()
        .enumerate()
        .map(|(i, &k)| {
            let decade = if k.is_finite() && k > 0.0 { k.log10().clamp(lo, hi) } else { lo };
            let height = ((decade - lo) / (hi - lo) * KL_H).max(0.5);
            view! {
                <rect x=i as f64 * width + 0.5 y=KL_H - height width=(width - 1.0).max(0.5) height=height class:collapsed=k < COLLAPSED_KL>
                    <title>{format!("z{i}: {k:.3} nats")}</title>
                </rect>
            }
        })
        .collect_view()
}

/// What a card shows of its branch that changes rarely: its place (0: the main run), knobs, end
/// and colour.
#[derive(Clone, Copy, PartialEq)]
struct Card {
    place: Option<usize>,
    knobs: Option<latent_core::Knobs>,
    ended: Option<Ended>,
    colour: &'static str,
}
