//! The CPU engine in a Web Worker: the transport of `latent_session::hosted`, so a run on the CPU
//! trains in the worker (the `latent-worker` build, `serve_engine`) and the page's main thread
//! never runs a step. A message is an array of a `Float64Array` (the numbers), a string and a
//! `Float32Array` (weights, pictures), whose buffers are transferred, not copied. The worker answers
//! reads in the order asked, so the page keeps one queue of waiting answers. A worker that stops
//! (its module failed to load, it ran out of memory) fails every read with `DeviceLost`: the driver
//! then rebuilds the run from its last checkpoint on a new worker, as after a lost GPU.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Array, Float32Array, Float64Array};
use latent_core::engine::ModelError;
use latent_session::hosted::{Answer, Host, Message, Transport};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser;

/// Opens a worker for the CPU engine.
pub fn open() -> Result<Host, String> {
    let worker = browser::spawn_worker()?;
    let waiting = Rc::new(Waiting::default());
    let answers = Rc::clone(&waiting);
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| match read(&event.data()) {
        Some(message) => answers.answer(message),
        // The loader's own word when the module cannot start, or a message from another build.
        None => answers.stop(event.data().as_string().unwrap_or_else(|| "it sent a message the page cannot read".into())),
    });
    let stopped = Rc::clone(&waiting);
    let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |event: ErrorEvent| stopped.stop(event.message()));
    worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    let transport = Rc::new(WorkerTransport { worker, waiting, _on_message: on_message, _on_error: on_error });
    #[cfg(feature = "fault-hooks")]
    crash::watch(&transport);
    Ok(Host::new(transport))
}

/// The fault hook `wasmBindings.simulateWorkerCrash()` (only with the `fault-hooks` feature, see
/// `crate::faults`): the CPU engine's worker stops as a crashed one does, so the browser scenario
/// `a_crashed_cpu_worker_rebuilds_from_checkpoint` drives the recovery.
#[cfg(feature = "fault-hooks")]
mod crash {
    use std::cell::RefCell;
    use std::rc::{Rc, Weak};

    use wasm_bindgen::prelude::wasm_bindgen;

    use super::WorkerTransport;

    thread_local! {
        static OPEN: RefCell<Weak<WorkerTransport>> = const { RefCell::new(Weak::new()) };
    }

    pub(super) fn watch(transport: &Rc<WorkerTransport>) {
        OPEN.with_borrow_mut(|open| *open = Rc::downgrade(transport));
    }

    /// Terminates the CPU engine's worker and reports it stopped, as its `error` event would.
    /// Returns whether there was one (false on the GPU engine).
    #[wasm_bindgen(js_name = simulateWorkerCrash)]
    pub fn simulate_worker_crash() -> bool {
        let Some(transport) = OPEN.with_borrow(Weak::upgrade) else { return false };
        transport.worker.terminate();
        transport.waiting.stop("a simulated crash".into());
        true
    }
}

struct WorkerTransport {
    worker: Worker,
    waiting: Rc<Waiting>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
}

impl Drop for WorkerTransport {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

/// The answers the page waits for, in the order asked; why the worker stopped, once it has.
#[derive(Default)]
struct Waiting {
    answers: RefCell<VecDeque<oneshot::Sender<Result<Message, ModelError>>>>,
    stopped: RefCell<Option<String>>,
}

impl Waiting {
    fn answer(&self, message: Message) {
        if let Some(waiting) = self.answers.borrow_mut().pop_front() {
            // The reader may have gone (its run was dropped): nothing to tell.
            let _ = waiting.send(Ok(message));
        }
    }

    /// Fails every waiting read, and every later one, with why the worker stopped (the driver
    /// says "The CPU engine's worker stopped (`reason`)").
    fn stop(&self, reason: String) {
        for waiting in self.answers.borrow_mut().drain(..) {
            let _ = waiting.send(Err(ModelError::DeviceLost(reason.clone())));
        }
        self.stopped.borrow_mut().get_or_insert(reason);
    }
}

impl WorkerTransport {
    fn send(&self, message: Message) {
        let numbers = Float64Array::from(message.numbers.as_slice());
        let floats = Float32Array::from(message.floats.as_slice());
        let parts = Array::of3(&numbers, &JsValue::from_str(&message.text), &floats);
        let transfer = Array::of2(&numbers.buffer(), &floats.buffer());
        if let Err(e) = self.worker.post_message_with_transfer(&parts, &transfer) {
            self.waiting.stop(browser::js_text(e));
        }
    }
}

impl Transport for WorkerTransport {
    fn post(&self, message: Message) {
        self.send(message);
    }

    fn ask(&self, message: Message) -> Answer {
        if let Some(reason) = self.waiting.stopped.borrow().clone() {
            return Box::pin(std::future::ready(Err(ModelError::DeviceLost(reason))));
        }
        let (sender, receiver) = oneshot::channel();
        self.waiting.answers.borrow_mut().push_back(sender);
        self.send(message);
        Box::pin(async move { receiver.await.unwrap_or_else(|_| Err(ModelError::DeviceLost("it stopped answering".into()))) })
    }
}

/// A message from the worker: the same three parts.
fn read(data: &JsValue) -> Option<Message> {
    let parts = data.dyn_ref::<Array>()?;
    let numbers = parts.get(0).dyn_into::<Float64Array>().ok()?.to_vec();
    let text = parts.get(1).as_string()?;
    let floats = parts.get(2).dyn_into::<Float32Array>().ok()?.to_vec();
    Some(Message { numbers, text, floats })
}
