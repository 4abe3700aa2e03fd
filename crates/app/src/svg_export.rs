//! A chart drawn as SVG, saved as a PNG the way it looks on the page: the page's stylesheet does
//! not travel with an SVG drawn as an image, so each element's computed look (colours, strokes,
//! fonts) is written onto a copy first; the copy is drawn at twice its size onto a white canvas.

use js_sys::Promise;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlCanvasElement, HtmlImageElement};

use crate::browser::{self, js_text};

/// The computed properties an exported chart needs to look as on the page.
const LOOK: [&str; 12] = [
    "fill",
    "fill-opacity",
    "stroke",
    "stroke-width",
    "stroke-dasharray",
    "stroke-opacity",
    "opacity",
    "font-size",
    "font-family",
    "font-weight",
    "text-anchor",
    "dominant-baseline",
];
/// Pixels per viewBox unit in the PNG (sharp on a high-density screen and in slides).
const SCALE: f64 = 2.0;

/// Offers the SVG chart with id `id` as `name` (a PNG download).
pub async fn download_svg_png(name: &str, id: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no browser window")?;
    let document = window.document().ok_or("no document")?;
    let svg = document.get_element_by_id(id).ok_or_else(|| format!("no chart #{id} on the page"))?;
    let copy: Element = svg.clone_node_with_deep(true).map_err(js_text)?.dyn_into().map_err(|_| "the chart did not copy".to_string())?;
    let originals = svg.query_selector_all("*").map_err(js_text)?;
    let copies = copy.query_selector_all("*").map_err(js_text)?;
    for (original, copied) in [(Some(svg.clone()), Some(copy.clone()))].into_iter().chain((0..originals.length()).map(|i| {
        let element = |list: &web_sys::NodeList| list.item(i).and_then(|n| n.dyn_into::<Element>().ok());
        (element(&originals), element(&copies))
    })) {
        let (Some(original), Some(copied)) = (original, copied) else { continue };
        let style = window.get_computed_style(&original).map_err(js_text)?.ok_or("no computed style")?;
        // Through the CSSOM: the CSP (`style-src 'self'`) blocks a written `style` attribute, not
        // this; the serialised copy then carries it as one.
        let Some(target) = copied.dyn_ref::<web_sys::SvgElement>().map(web_sys::SvgElement::style) else { continue };
        for property in LOOK {
            if let Some(value) = style.get_property_value(property).ok().filter(|v| !v.is_empty()) {
                target.set_property(property, &value).map_err(js_text)?;
            }
        }
    }
    let (width, height) = view_box_size(&svg).ok_or_else(|| format!("chart #{id} has no viewBox"))?;
    for (key, value) in [("xmlns", "http://www.w3.org/2000/svg".to_string()), ("width", width.to_string()), ("height", height.to_string())] {
        copy.set_attribute(key, &value).map_err(js_text)?;
    }
    let url = browser::object_url(copy.outer_html().as_bytes(), "image/svg+xml")?;
    let drawn = draw(&document, &url, width, height).await;
    web_sys::Url::revoke_object_url(&url).ok();
    browser::download_canvas(name, &drawn?)
}

/// The chart's viewBox width and height.
fn view_box_size(svg: &Element) -> Option<(f64, f64)> {
    let view_box = svg.get_attribute("viewBox")?;
    let numbers: Vec<f64> = view_box.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    match numbers[..] {
        [_, _, w, h] if w > 0.0 && h > 0.0 => Some((w, h)),
        _ => None,
    }
}

/// The SVG at `url` drawn at [`SCALE`] on a white canvas.
async fn draw(document: &web_sys::Document, url: &str, width: f64, height: f64) -> Result<HtmlCanvasElement, String> {
    let image = HtmlImageElement::new().map_err(js_text)?;
    let loaded = Promise::new(&mut |resolve, reject| {
        image.set_onload(Some(&resolve));
        image.set_onerror(Some(&reject));
    });
    image.set_src(url);
    JsFuture::from(loaded).await.map_err(|_| "the chart could not be drawn as an image".to_string())?;
    let canvas: HtmlCanvasElement = document.create_element("canvas").map_err(js_text)?.dyn_into().map_err(|_| "no canvas".to_string())?;
    let (w, h) = ((width * SCALE).round(), (height * SCALE).round());
    canvas.set_width(w as u32);
    canvas.set_height(h as u32);
    let context: web_sys::CanvasRenderingContext2d =
        canvas.get_context("2d").map_err(js_text)?.ok_or("no 2D context")?.dyn_into().map_err(|_| "no 2D context".to_string())?;
    context.set_fill_style_str("#ffffff");
    context.fill_rect(0.0, 0.0, w, h);
    context.draw_image_with_html_image_element_and_dw_and_dh(&image, 0.0, 0.0, w, h).map_err(|e: JsValue| js_text(e))?;
    Ok(canvas)
}
