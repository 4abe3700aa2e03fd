//! One model of a finished sweep, as the student picks it (a point on the curve or a row's
//! button): its samples and its reconstructions of held-out digits (2D data: its samples on the
//! plane), with the samples' sharpness, so values compare picture by picture and not only by
//! their −ELBO.

use latent_core::data::mnist::IMAGE_SIDE;
use latent_session::config::Knob;
use latent_session::sweep::plan::MemberViews;
use leptos::html::Canvas;
use leptos::prelude::*;

use super::super::canvas;
use crate::state::Lab;

/// Side of the 2D plane a member's points are drawn on.
const PLANE_SIZE: u32 = 300;

#[component]
pub(super) fn MemberPictures(lab: Lab, knob: Knob, across: Option<Knob>) -> impl IntoView {
    let samples = NodeRef::<Canvas>::new();
    let recons = NodeRef::<Canvas>::new();
    Effect::new(move |_| {
        // 2D data: the main run's real points under the member's, so covered modes show.
        let real = lab.views.with_untracked(|v| v.real.clone());
        lab.sweep.with(|s| draw(s.member.as_ref(), &real, samples, recons));
    });
    let folds = move || lab.sweep.with(|s| s.spec.as_ref().map_or(1, |s| s.folds));
    // The member's numbers only (a clone of its pictures would copy every pixel per reading).
    let member = move || lab.sweep.with(|s| s.member.as_ref().map(|m| (m.value, m.sharpness, m.dim, m.across)));
    let caption = move || {
        let (value, sharpness, _, second) = member()?;
        // A GAN's score beside its points, as the grid prints it.
        let score = lab.sweep.with(|s| s.parts.iter().flat_map(|p| &p.scores).find(|c| c.value == value && c.across == second && c.fold == 0).cloned());
        let gan = score.and_then(|c| Some(format!(" · {} of {} modes covered, MMD² {:.3}", c.modes?.0, c.modes?.1, c.mmd?))).unwrap_or_default();
        let second = second.zip(across).map_or_else(String::new, |(v, a)| format!(", {} = {}", a.symbol(), a.format(v)));
        let fold = if folds() > 1 { format!(", validated on fold 1 of {}", folds()) } else { String::new() };
        let sharpness = sharpness.map_or_else(String::new, |s| format!(" · sample sharpness (gradient energy) {s:.4}"));
        Some(format!("{} = {}{second}{fold}{sharpness}{gan}", knob.symbol(), knob.format(value)))
    };
    let images = move || member().is_some_and(|(_, _, dim, _)| dim != 2);
    view! {
        <div id="sweep-member" aria-live="polite"
            data-value=move || member().map(|(value, _, _, _)| Knob::format_plain(value))
            data-across=move || member().and_then(|(_, _, _, second)| second.map(Knob::format_plain))
            hidden=move || lab.sweep.with(|s| s.showing.is_none() && s.member_note.is_none())>
            <h3>"One model of the sweep"</h3>
            <p class="hint" id="sweep-member-note">{move || lab.sweep.with(|s| s.member_note.clone())}</p>
            <p class="readout" id="sweep-member-caption">{caption}</p>
            <div class="picture-row">
                <figure>
                    <canvas node_ref=samples class="picture" id="sweep-member-samples"></canvas>
                    <figcaption>{move || if images() { "Samples from the prior" } else { "Its points (orange) over real ones (dark)" }}</figcaption>
                </figure>
                <figure hidden=move || !images()>
                    <canvas node_ref=recons class="picture" id="sweep-member-reconstructions"></canvas>
                    <figcaption>"Held-out digits above their reconstructions"</figcaption>
                </figure>
            </div>
        </div>
    }
}

/// The member's samples (digits in rows of 8, or points on the plane over the `real` ones) and its
/// reconstructions.
fn draw(member: Option<&MemberViews>, real: &[[f32; 2]], samples: NodeRef<Canvas>, recons: NodeRef<Canvas>) {
    let Some(m) = member else { return };
    if let Some(c) = samples.get() {
        if m.dim == 2 {
            let points: Vec<[f32; 2]> = m.samples.chunks_exact(2).map(|p| [p[0], p[1]]).collect();
            canvas::draw_plane(&c, &[], 0, real, &points, PLANE_SIZE);
        } else {
            canvas::draw_images(&c, &m.samples, IMAGE_SIDE, 8);
        }
    }
    if let Some(c) = recons.get() {
        canvas::draw_pairs(&c, &m.inputs, &m.reconstructions, IMAGE_SIDE, 8);
    }
}
