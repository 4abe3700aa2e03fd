//! The picture views: samples from fixed prior noise (so a knob change shows on the same images),
//! reconstructions beside their inputs, the latent scatter (click two points to interpolate), the
//! decoded latent grid and the interpolation strip; on 2D data, real against generated points over
//! the discriminator's heat map. Each has a PNG download.

use latent_core::data::as_points;
use latent_core::data::mnist::IMAGE_SIDE;
use latent_core::data::toy2d::VIEW_HALF_EXTENT;
use latent_core::model::gan::MAP_SIDE;
use latent_session::config::query::round2;
use latent_session::config::{Dataset, ModelKind, MAX_DRAWN};
use latent_session::{palette, points_file};
use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast as _;

use super::canvas::{self, class_colours, DrawnCode};
use super::draw_pad::DrawPadView;
use super::info::info_button;
use super::later;
use crate::browser;
use crate::driver::{INTERPOLATION_STEPS, MANIFOLD_SIDE};
use crate::state::{Command, Lab, Notice};

const PLANE_SIZE: u32 = 360;

#[component]
pub fn Pictures(lab: Lab) -> impl IntoView {
    let is_2d = move || lab.config.with(|c| c.data.dataset.is_2d());
    view! {
        <Show when=is_2d fallback=move || view! { <DigitViews lab=lab /> }>
            <PlaneView lab=lab />
            <Show when=move || lab.config.with(|c| c.shape.model.has_encoder())>
                <LatentScatter lab=lab />
            </Show>
        </Show>
    }
}

/// Downloads a view's canvas as `latent-lab-NAME.png`.
#[component]
fn PngButton(canvas: NodeRef<Canvas>, name: &'static str) -> impl IntoView {
    let save = move |_| {
        if let Some(c) = canvas.get() {
            if let Err(e) = browser::download_canvas(&format!("latent-lab-{name}.png"), &c) {
                log::warn!("PNG download failed: {e}");
            }
        }
    };
    view! { <button class="link download" on:click=save title="Download as PNG">"PNG"</button> }
}

/// Downloads the SVG chart with id `chart` as `latent-lab-NAME.png`, as it looks on the page.
#[component]
pub(super) fn SvgPngButton(chart: &'static str, name: &'static str) -> impl IntoView {
    let save = move |_| {
        leptos::task::spawn_local(async move {
            if let Err(e) = crate::svg_export::download_svg_png(&format!("latent-lab-{name}.png"), chart).await {
                log::warn!("PNG download failed: {e}");
            }
        });
    };
    view! { <button class="link download" on:click=save title="Download as PNG" data-chart=chart>"PNG"</button> }
}

/// A titled view around one canvas, with its explanation and a PNG download.
#[component]
fn CanvasView(
    id: &'static str,
    title: &'static str,
    hint: &'static str,
    canvas: NodeRef<Canvas>,
    info: &'static str,
    #[prop(optional)] class: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <section class="view" id=format!("{id}-view")>
            <h2>{title}{info_button(Signal::stored(info))}<PngButton canvas=canvas name=id /></h2>
            <canvas node_ref=canvas class=format!("picture {class}") id=id></canvas>
            {children.map(|c| c())}
            <p class="hint">{hint}</p>
        </section>
    }
}

#[component]
fn DigitViews(lab: Lab) -> impl IntoView {
    let samples = NodeRef::<Canvas>::new();
    let recons = NodeRef::<Canvas>::new();
    let manifold = NodeRef::<Canvas>::new();
    let strip = NodeRef::<Canvas>::new();
    let pixels = IMAGE_SIDE * IMAGE_SIDE;
    let redraw = later::redraw_trigger(move || lab.views.track());
    Effect::new(move |_| {
        redraw.track();
        lab.views.with_untracked(|v| {
            if v.dim != pixels {
                return;
            }
            if let Some(c) = samples.get() {
                canvas::draw_images(&c, &v.samples, IMAGE_SIDE, 8);
            }
            if let Some(c) = recons.get() {
                canvas::draw_pairs(&c, &v.inputs, &v.reconstructions, IMAGE_SIDE, 8);
            }
            if let Some(c) = manifold.get() {
                canvas::draw_images(&c, &v.manifold, IMAGE_SIDE, MANIFOLD_SIDE);
            }
            if let Some(c) = strip.get() {
                canvas::draw_images(&c, &v.interpolation, IMAGE_SIDE, INTERPOLATION_STEPS);
            }
        })
    });
    let is_vae_gan = move || lab.config.with(|c| c.shape.model == ModelKind::VaeGan);
    view! {
        <div class="picture-row">
            <CanvasView id="samples" title="Samples" info="samples" canvas=samples
                hint="Decoded from the same prior noise z ~ N(0, I) at every refresh, so what changes is the model. A plain VAE's samples are blurry (it averages plausible digits); the VAE-GAN's adversarial term sharpens them.">
                <p class="readout" id="sharpness" title="Mean squared difference of neighbouring pixels: blur keeps it low">
                    "Sharpness (gradient energy): "<strong>{move || lab.views.with(|v| v.sharpness.map_or_else(|| "–".to_string(), |e| format!("{e:.4}")))}</strong>
                </p>
                {move || is_vae_gan().then(|| view! { <p class="hint">"VAE-GAN: γ weighs D's verdict on these samples (D: 128 units, learning at 3·10⁻⁴). At γ = 3 their sharpness is 1.5-1.7× the plain VAE's at the same step; at γ = 10 it rises as speckle."</p> })}
            </CanvasView>
            <CanvasView id="reconstructions" title="Reconstructions" info="reconstructions" canvas=recons
                hint="Rows of held-out inputs, each above its reconstruction through the posterior mean μ(x). High β or a tiny latent blurs them." />
        </div>
        <LatentScatter lab=lab />
        // Digits are only ever a VAE's or a VAE-GAN's: both encode a drawing.
        <DrawPadView lab=lab />
        <div class="picture-row">
            <CanvasView id="manifold" title="Decoded latent grid" info="manifold" canvas=manifold class="wide"
                hint="The decoder over a grid of codes in the two most-used latent dimensions (others at 0), ±2.5 σ of the prior." />
            <CanvasView id="interpolation" title="Interpolation" info="interpolation" canvas=strip class="wide"
                hint="The decoder along a straight line between the codes of two held-out digits: click two points in the latent scatter to choose them." />
        </div>
    }
}

/// Held-out codes in the two most-varied latent dimensions, coloured by digit.
#[component]
fn LatentScatter(lab: Lab) -> impl IntoView {
    let node = NodeRef::<Canvas>::new();
    let chosen = RwSignal::new((0usize, 1usize));
    let first_pick = RwSignal::new(None::<usize>);
    let redraw = later::redraw_trigger(move || lab.views.track());
    Effect::new(move |_| {
        let pair = chosen.get();
        redraw.track();
        lab.views.with_untracked(|v| {
            let Some(c) = node.get() else { return };
            let as_digits = lab.config.with_untracked(|c| !c.data.dataset.is_2d());
            let drawn = lab.drawing.with(|d| {
                let d = d.as_ref()?;
                let (a, b) = v.dims;
                let sigma: Vec<f32> = d.sigma().collect();
                Some(DrawnCode { mean: [*d.mean.get(a)?, *d.mean.get(b)?], sigma: [*sigma.get(a)?, *sigma.get(b)?] })
            });
            canvas::draw_scatter(&c, &v.latent, &v.labels, as_digits, pair, drawn.as_ref(), PLANE_SIZE);
        });
    });
    let pick = move |ev: web_sys::MouseEvent| {
        let Some(c) = node.get() else { return };
        let scale = f64::from(c.width()) / f64::from(c.client_width().max(1));
        let (x, y) = (f64::from(ev.offset_x()) * scale, f64::from(ev.offset_y()) * scale);
        let Some(i) = lab.views.with_untracked(|v| canvas::nearest_point(&v.latent, x, y, f64::from(PLANE_SIZE))) else { return };
        match first_pick.get_untracked() {
            None => first_pick.set(Some(i)),
            Some(a) => {
                first_pick.set(None);
                chosen.set((a, i));
                lab.send(Command::Pair(a, i));
            }
        }
    };
    // The keyboard's way to the same choice: the two examples by number.
    let count = move || lab.views.with(|v| v.latent.len());
    let set_end = move |end: usize, ev: web_sys::Event| {
        let n = count();
        let Ok(number) = event_target_value(&ev).trim().parse::<usize>() else { return };
        if n < 2 {
            return;
        }
        let index = number.clamp(1, n) - 1;
        let (a, b) = chosen.get_untracked();
        let pair = if end == 0 { (index, b) } else { (a, index) };
        first_pick.set(None);
        chosen.set(pair);
        lab.send(Command::Pair(pair.0, pair.1));
    };
    let dims = move || lab.views.with(|v| format!("z{} → right, z{} → up", v.dims.0, v.dims.1));
    let legend = move || {
        lab.views.with(|v| !v.labels.is_empty() && lab.config.with(|c| !c.data.dataset.is_2d())).then(|| {
            class_colours()
                .into_iter()
                .enumerate()
                .map(|(digit, colour)| {
                    view! {
                        <span class="legend-item"><i style:background=colour></i>{digit}</span>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="view" id="latent-view">
            <h2>"Latent space"{info_button(Signal::stored("latent"))}<PngButton canvas=node name="latent" /></h2>
            <canvas node_ref=node class="picture square" id="latent" on:click=pick
                role="img" aria-label="Latent scatter of held-out examples, coloured by digit; choose the interpolation's ends by number below"></canvas>
            <div class="legend">{legend}</div>
            <div class="pair-fields">
                <label>"Interpolate from example "
                    <input type="number" id="pair-from" min="1" max=move || count().to_string()
                        prop:value=move || (chosen.get().0 + 1).to_string() on:change=move |ev| set_end(0, ev) />
                </label>
                <label>" to "
                    <input type="number" id="pair-to" min="1" max=move || count().to_string()
                        prop:value=move || (chosen.get().1 + 1).to_string() on:change=move |ev| set_end(1, ev) />
                </label>
            </div>
            <p class="hint">{dims}". Posterior means μ(x) of held-out examples. With β = 0 the codes spread freely; as β grows they crowd into N(0, I). "
                {move || first_pick.get().map_or("Click a point, then another, to interpolate between them (or type their numbers below).", |_| "Now click the second point.")}</p>
        </section>
    }
}

/// Real against generated points on the 2D plane, over σ(D) for the GAN. On the drawn dataset the
/// plane is also where the user draws: click, tap or drag to add points.
#[component]
fn PlaneView(lab: Lab) -> impl IntoView {
    let node = NodeRef::<Canvas>::new();
    let drawing = move || lab.config.with(|c| c.data.dataset == Dataset::Drawn);
    Effect::new(move |_| {
        let drawn = lab.config.with(|c| (c.data.dataset == Dataset::Drawn).then(|| c.data.drawn.clone()));
        lab.views.with(|v| {
            let Some(c) = node.get() else { return };
            let generated = if v.dim == 2 { as_points(&v.samples) } else { Vec::new() };
            let heat: &[f32] = if v.dim == 2 { &v.heat } else { &[] };
            match &drawn {
                Some(points) => canvas::draw_plane(&c, heat, MAP_SIDE, points, &generated, PLANE_SIZE),
                None if v.dim == 2 => canvas::draw_plane(&c, heat, MAP_SIDE, &v.real, &generated, PLANE_SIZE),
                None => {}
            }
        });
    });
    // The last point added while dragging, so a drag adds points a little apart, not hundreds.
    let last = StoredValue::new(None::<[f32; 2]>);
    let add = move |ev: &web_sys::MouseEvent, dragging: bool| {
        let Some(c) = node.get() else { return };
        if !drawing() {
            return;
        }
        let size = f64::from(c.client_width().max(1));
        let reach = f64::from(VIEW_HALF_EXTENT);
        let x = (f64::from(ev.offset_x()) / size * 2.0 - 1.0) * reach;
        let y = (1.0 - f64::from(ev.offset_y()) / size * 2.0) * reach;
        let p = [round2(x as f32), round2(y as f32)];
        if dragging && last.get_value().is_some_and(|q| (q[0] - p[0]).hypot(q[1] - p[1]) < 0.25) {
            return;
        }
        last.set_value(Some(p));
        push_point(lab, p);
    };
    // The keyboard's way to draw: a point typed as "x, y" (plane units, within ±VIEW_HALF_EXTENT).
    let type_point = move |ev: web_sys::Event| {
        let text = event_target_value(&ev);
        // Every token must be a finite number ("1, abc, 2" and "inf, 0" are not points).
        let numbers: Option<Vec<f32>> =
            text.split([',', ' ', ';']).filter(|t| !t.is_empty()).map(|t| t.parse::<f32>().ok().filter(|v| v.is_finite())).collect();
        let Some(&[x, y]) = numbers.as_deref() else {
            let shown: String = text.chars().take(40).collect();
            lab.notice.set(Some(Notice::Problem(format!("\"{shown}\" is not a point: type two finite numbers, x then y, such as 0.5, -1"))));
            return;
        };
        let reach = VIEW_HALF_EXTENT;
        push_point(lab, [round2(x.clamp(-reach, reach)), round2(y.clamp(-reach, reach))]);
        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
            input.set_value("");
        }
    };
    // The two scores of the generated points against the real ones, as a student reads them.
    let scores = move || {
        lab.views.with(|v| {
            let modes = v.modes.map(|(m, of)| format!("Modes covered: {m} of {of}. "));
            let mmd = v.mmd.map(|m| format!("MMD² to the real points (0 = match): {:.4}. ", m.max(0.0)));
            format!("{}{}", modes.unwrap_or_default(), mmd.unwrap_or_default())
        })
    };
    let hint = move || {
        match (drawing(), lab.config.with(|c| c.shape.model)) {
        (true, _) => "Click, tap or drag on the plane to add points (at least 8; the noise σ spreads each into a little cloud). The model rebuilds as you draw.",
        (false, ModelKind::Gan) => "Dark dots: real points; orange: the generator's. Background: the discriminator's belief σ(D) that a point is real (green = real, purple = generated, white = cannot tell). If the orange points crowd into a few modes, that is mode collapse: try more D steps or a lower learning rate.",
        (false, _) => "Dark dots: real points; orange: the decoder's means at prior samples, the VAE's picture of the data. High β smears them toward one blob.",
    }
    };
    view! {
        <section class="view" id="plane-view">
            <h2>"Data and model"{info_button(Signal::derive(move || if lab.config.with(|c| c.shape.model == ModelKind::Gan) { "plane-gan" } else { "plane" }))}
                {move || drawing().then(|| view! {
                    <button class="link" id="clear-points" on:click=move |_| lab.config.update(|c| c.data.drawn.clear())>"Clear points"</button>
                    <label class="link" title="A text file of x,y lines (CSV, TSV or spaces), in any units: it is centred and scaled to the plane">"Load points…"
                        <input type="file" id="load-points" accept=".csv,.tsv,.txt,text/csv,text/plain" class="visually-hidden"
                            on:change=move |ev| if let Some(file) = browser::chosen_file(&ev) { leptos::task::spawn_local(load_points(lab, file)); } />
                    </label>
                })}
                <PngButton canvas=node name="data" />
            </h2>
            <canvas node_ref=node class="picture square" class:drawing=drawing id="plane"
                on:pointerdown=move |ev| { last.set_value(None); add(&ev, false); }
                on:pointermove=move |ev| if ev.buttons() == 1 { add(&ev, true); }
                role="img" aria-label="The 2D plane: real points and the model's"></canvas>
            <PlaneLegend lab=lab />
            {move || drawing().then(|| view! {
                <label class="pair-fields">{format!("Add a point x, y (each within ±{VIEW_HALF_EXTENT}) ")}
                    <input type="text" id="add-point" inputmode="decimal" placeholder="0.5, -1" on:change=type_point />
                </label>
            })}
            <p class="hint"><span id="plane-scores">{scores}</span>{hint}</p>
        </section>
    }
}

/// The plane's key: the two kinds of point and, for the GAN, the σ(D) colour scale (its colours
/// from the palette the canvas and the command line's figures use).
#[component]
fn PlaneLegend(lab: Lab) -> impl IntoView {
    let rim = |colour: &str| format!("0 0 0 1px {colour}");
    let scale = move || {
        lab.views.with(|v| !v.heat.is_empty()).then(|| {
            let stops: Vec<String> = (0..=10).map(|i| palette::css(palette::belief(i as f32 / 10.0))).collect();
            view! {
                <span class="key belief" id="belief-scale">"σ(D): 0 generated "
                    <i class="belief-bar" style:background=format!("linear-gradient(90deg, {})", stops.join(", "))></i>" 1 real"</span>
            }
        })
    };
    view! {
        <p class="plane-legend">
            <span class="key"><i class="dot" style:background=palette::css(palette::REAL_ON_PLANE) style:box-shadow=rim("#ffffff")></i>"real"</span>
            <span class="key"><i class="dot" style:background=palette::css(palette::GENERATED_ON_PLANE) style:box-shadow=rim("#333333")></i>"the model's"</span>
            {scale}
        </p>
    }
}

/// Adds a drawn point, clicked or typed; a full set (each point travels in the link) says so.
fn push_point(lab: Lab, p: [f32; 2]) {
    if lab.config.with_untracked(|c| c.data.drawn.len()) >= MAX_DRAWN {
        lab.notice.set(Some(Notice::Info(format!("The drawn set is full: it holds at most {MAX_DRAWN} points, which travel in the link."))));
        return;
    }
    lab.config.update(|c| c.data.drawn.push(p));
}

/// Reads a points file the user chose into the drawn dataset (it never leaves the browser).
async fn load_points(lab: Lab, file: web_sys::File) {
    let read = browser::read_text_file(&file, points_file::MAX_BYTES).await.and_then(|text| points_file::points_from_text(&text).map_err(|e| e.to_string()));
    match read {
        Ok((points, notes)) => {
            let count = points.len();
            lab.config.update(|c| c.data.drawn = points);
            let adjusted = if notes.is_empty() { String::new() } else { format!(" ({})", notes.join("; ")) };
            lab.notice.set(Some(Notice::Info(format!("Loaded {count} points{adjusted}."))));
        }
        Err(e) => lab.notice.set(Some(Notice::Problem(format!("Those points cannot be used: {e}")))),
    }
}
