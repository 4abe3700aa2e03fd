//! The CPU engine's host: the page's runs on the CPU send their models' calls here
//! (`latent_session::hosted`), and this worker trains the models, so the page's main thread never
//! runs a step. Messages act one after another in the order they came: one arriving while an
//! earlier one waits for the MNIST digits waits in the queue behind it.

use std::cell::RefCell;
use std::collections::VecDeque;

use js_sys::{Array, Float32Array, Float64Array};
use latent_session::hosted::{Message, Served};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::spawn_local;
use web_sys::DedicatedWorkerGlobalScope;

thread_local! {
    static QUEUE: RefCell<VecDeque<Message>> = const { RefCell::new(VecDeque::new()) };
    /// The models, here while no message is being acted on (out of the cell while one is, so no
    /// borrow is held across an await).
    static SERVED: RefCell<Option<Served>> = RefCell::new(Some(Served::default()));
}

/// One message from the page: an array of a `Float64Array`, a string and a `Float32Array`.
#[wasm_bindgen]
pub fn serve_engine(data: JsValue) {
    let Some(message) = read(&data) else {
        scope().post_message(&JsValue::from_str("the engine's worker got a message it cannot read")).ok();
        return;
    };
    QUEUE.with_borrow_mut(|queue| queue.push_back(message));
    if let Some(served) = SERVED.with_borrow_mut(Option::take) {
        spawn_local(drain(served));
    }
}

async fn drain(mut served: Served) {
    while let Some(message) = QUEUE.with_borrow_mut(VecDeque::pop_front) {
        if served.needs_mnist(&message) {
            served.load(latent_web::fetch_mnist().await);
        }
        if let Some(answer) = served.handle(message).await {
            post(answer);
        }
    }
    SERVED.with_borrow_mut(|slot| *slot = Some(served));
}

fn read(data: &JsValue) -> Option<Message> {
    let parts = data.dyn_ref::<Array>()?;
    let numbers = parts.get(0).dyn_into::<Float64Array>().ok()?.to_vec();
    let text = parts.get(1).as_string()?;
    let floats = parts.get(2).dyn_into::<Float32Array>().ok()?.to_vec();
    Some(Message { numbers, text, floats })
}

fn post(message: Message) {
    let numbers = Float64Array::from(message.numbers.as_slice());
    let floats = Float32Array::from(message.floats.as_slice());
    let parts = Array::of3(&numbers, &JsValue::from_str(&message.text), &floats);
    let transfer = Array::of2(&numbers.buffer(), &floats.buffer());
    // Posting to the page cannot fail while the worker lives.
    scope().post_message_with_transfer(&parts, &transfer).ok();
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}
