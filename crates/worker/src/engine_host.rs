//! The engine's host: the page opens its engine here (WebGPU, or the CPU twin) and its runs send
//! their models' calls here (`latent_session::hosted`); this worker trains the models, so the
//! page's main thread never runs a step and the page's module carries neither engine. Messages
//! act one after another in the order they came: one arriving while an earlier one waits for the
//! MNIST digits (or for WebGPU to open) waits in the queue behind it.

use std::cell::RefCell;
use std::collections::VecDeque;

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
    latent_web::read_message_parts(data).map(|(numbers, text, floats)| Message { numbers, text, floats })
}

fn post(message: Message) {
    let (parts, transfer) = latent_web::message_parts(&message.numbers, &message.text, &message.floats);
    // Posting to the page cannot fail while the worker lives.
    scope().post_message_with_transfer(&parts, &transfer).ok();
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}
