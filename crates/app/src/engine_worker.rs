//! The page's engine in a Web Worker: the transport of `latent_session::hosted`, so a run trains
//! in the worker (the `latent-worker` build, `serve_engine`), on WebGPU or the CPU twin, and the
//! page's main thread never runs a step. A message is an array of a `Float64Array` (the numbers),
//! a string and a `Float32Array` (weights, pictures), whose buffers are transferred, not copied.
//! The worker answers reads in the order asked, so the page keeps one queue of waiting answers. A worker that stops
//! (its module failed to load, it ran out of memory) fails every read with `DeviceLost`: the driver
//! then rebuilds the run from its last checkpoint on a new worker, as after a lost GPU. So does one
//! that leaves reads unanswered for a minute (a worker can die without a word).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;

use futures_channel::oneshot;
use latent_core::engine::ModelError;
use latent_session::hosted::{Answer, Host, Message, Transport};
use wasm_bindgen::prelude::*;
use web_sys::{ErrorEvent, MessageEvent, Worker};

use crate::browser;

/// Starts a worker for the engine (the page opens one there with `Host::open`).
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

/// The fault hooks `wasmBindings.simulateDeviceLoss()`, `simulateWorkerCrash()` and
/// `simulateSilentWorker(ms)` (only with the `fault-hooks` feature, see `crate::faults`): the
/// worker's GPU device is destroyed, or the worker stops as a crashed one does, or silently, so the
/// browser scenarios `lost_device_rebuilds_from_checkpoint` and
/// `a_crashed_cpu_worker_rebuilds_from_checkpoint` drive the recoveries.
#[cfg(feature = "fault-hooks")]
mod crash {
    use std::cell::{Cell, RefCell};
    use std::rc::{Rc, Weak};

    use latent_session::hosted::protocol::Request;
    use wasm_bindgen::prelude::wasm_bindgen;

    use super::WorkerTransport;

    thread_local! {
        static OPEN: RefCell<Weak<WorkerTransport>> = const { RefCell::new(Weak::new()) };
        static LIMIT: Cell<i32> = const { Cell::new(super::SILENCE_LIMIT_MS) };
    }

    pub(super) fn watch(transport: &Rc<WorkerTransport>) {
        OPEN.with_borrow_mut(|open| *open = Rc::downgrade(transport));
    }

    /// Has the engine's worker destroy its WebGPU device, as a driver reset or a GPU process crash
    /// would lose it (a worker on the CPU twin has none and ignores it). Returns whether there was
    /// a worker.
    #[wasm_bindgen(js_name = simulateDeviceLoss)]
    pub fn simulate_device_loss() -> bool {
        let Some(transport) = OPEN.with_borrow(Weak::upgrade) else { return false };
        transport.send(Request::LoseDevice.encode());
        true
    }

    /// Terminates the engine's worker and reports it stopped, as its `error` event would.
    /// Returns whether there was one.
    #[wasm_bindgen(js_name = simulateWorkerCrash)]
    pub fn simulate_worker_crash() -> bool {
        let Some(transport) = OPEN.with_borrow(Weak::upgrade) else { return false };
        transport.worker.terminate();
        transport.waiting.stop("a simulated crash".into());
        true
    }

    /// Terminates the engine's worker without a word, as a browser ending it for memory may,
    /// and shortens the silence the page waits out to `limit_ms`, so a scenario sees the watch
    /// notice it in seconds. Returns whether there was a worker.
    #[wasm_bindgen(js_name = simulateSilentWorker)]
    pub fn simulate_silent_worker(limit_ms: i32) -> bool {
        let Some(transport) = OPEN.with_borrow(Weak::upgrade) else { return false };
        transport.worker.terminate();
        LIMIT.set(limit_ms);
        // A timer with the new limit, for the read waiting now (the armed one has the old limit).
        transport.waiting.watching.set(false);
        super::Waiting::watch(&transport.waiting);
        true
    }

    pub(super) fn silence_limit_ms() -> i32 {
        LIMIT.get()
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

/// How long the worker may leave a read unanswered before it counts as gone (ms): a worker can die
/// with no `error` event (a browser may end one for memory), and the page would wait forever. A
/// read normally waits well under a second (the page trains in chunks of about 25 ms; the largest
/// model's one step takes 0.4 s here), the first one after a build up to a few seconds (the worker's
/// module and the MNIST digits, which the page has just fetched and the browser has cached).
const SILENCE_LIMIT_MS: i32 = 60_000;

#[cfg(not(feature = "fault-hooks"))]
fn silence_limit_ms() -> i32 {
    SILENCE_LIMIT_MS
}
#[cfg(feature = "fault-hooks")]
use crash::silence_limit_ms;

/// The answers the page waits for, in the order asked; why the worker stopped, once it has.
#[derive(Default)]
struct Waiting {
    answers: RefCell<VecDeque<oneshot::Sender<Result<Message, ModelError>>>>,
    stopped: RefCell<Option<String>>,
    /// Answers received so far, and whether a timer watches for silence.
    answered: Cell<u64>,
    watching: Cell<bool>,
}

impl Waiting {
    fn answer(&self, message: Message) {
        self.answered.set(self.answered.get() + 1);
        if let Some(waiting) = self.answers.borrow_mut().pop_front() {
            // The reader may have gone (its run was dropped): nothing to tell.
            let _ = waiting.send(Ok(message));
        }
    }

    /// While reads wait, a timer checks every [`SILENCE_LIMIT_MS`] that some answer came since the
    /// last check; when none did, the worker is gone.
    fn watch(waiting: &Rc<Self>) {
        if waiting.watching.replace(true) {
            return;
        }
        let Some(window) = web_sys::window() else { return };
        let (seen, this, limit) = (waiting.answered.get(), Rc::clone(waiting), silence_limit_ms());
        let check = Closure::once_into_js(move || {
            this.watching.set(false);
            if this.answers.borrow().is_empty() || this.stopped.borrow().is_some() {
                return;
            }
            if this.answered.get() == seen {
                this.stop(format!("it has not answered for {} s", limit / 1000));
            } else {
                Self::watch(&this);
            }
        });
        if window.set_timeout_with_callback_and_timeout_and_arguments_0(check.unchecked_ref(), limit).is_err() {
            waiting.watching.set(false);
        }
    }

    /// Fails every waiting read, and every later one, with why the worker stopped (the driver
    /// says "The CPU engine's worker stopped (`reason`)", or the GPU engine's).
    fn stop(&self, reason: String) {
        for waiting in self.answers.borrow_mut().drain(..) {
            let _ = waiting.send(Err(ModelError::DeviceLost(reason.clone())));
        }
        self.stopped.borrow_mut().get_or_insert(reason);
    }
}

impl WorkerTransport {
    fn send(&self, message: Message) {
        let (parts, transfer) = latent_web::message_parts(&message.numbers, &message.text, &message.floats);
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
        Waiting::watch(&self.waiting);
        self.send(message);
        Box::pin(async move { receiver.await.unwrap_or_else(|_| Err(ModelError::DeviceLost("it stopped answering".into()))) })
    }
}

/// A message from the worker: the same three parts.
fn read(data: &JsValue) -> Option<Message> {
    latent_web::read_message_parts(data).map(|(numbers, text, floats)| Message { numbers, text, floats })
}
