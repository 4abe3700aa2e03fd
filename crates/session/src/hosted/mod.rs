//! Models trained somewhere else: the page's CPU engine runs in a Web Worker, so the page's main
//! thread never runs a training step. A [`Host`] is a third engine behind the seam: its models
//! ([`HostedVae`], [`HostedGan`]) answer `VaeModel` and `GanModel` by sending each call as a
//! [`Message`] over a [`Transport`] (the page's: `postMessage` to its worker), and the host's
//! [`Served`] builds the same CPU models from the same spec and acts on the calls in order. Writes
//! return at once, as the GPU engine's submissions do; reads await the answer, which comes after
//! every write posted before them, so a run above the seam cannot tell a hosted model from the CPU
//! twin, bit for bit (`tests/hosted.rs` trains both through a loopback transport).

mod models;
pub mod protocol;
mod served;

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;

use latent_core::engine::{GanModel, ModelError, VaeModel};
use latent_core::model::{GanArch, ParamLayout, VaeArch};

pub use models::{HostedGan, HostedVae};
pub use protocol::Message;
pub use served::Served;

use crate::run::RunSpec;

/// What a hosted model holds its transport by: one thread's `Rc` in the browser (a worker handle
/// is not `Send`), an `Arc` natively (where runs move between threads).
#[cfg(target_arch = "wasm32")]
pub type Shared<T> = std::rc::Rc<T>;
#[cfg(not(target_arch = "wasm32"))]
pub type Shared<T> = std::sync::Arc<T>;

/// `Send + Sync` natively, nothing in the browser (as `latent_core::engine::MaybeSend`).
#[cfg(not(target_arch = "wasm32"))]
pub trait MaybeShared: Send + Sync {}
#[cfg(not(target_arch = "wasm32"))]
impl<T: Send + Sync + ?Sized> MaybeShared for T {}
#[cfg(target_arch = "wasm32")]
pub trait MaybeShared {}
#[cfg(target_arch = "wasm32")]
impl<T: ?Sized> MaybeShared for T {}

/// An answer on its way.
pub type Answer = Pin<Box<dyn Future<Output = Result<Message, ModelError>>>>;

/// The way to a host: messages arrive in the order sent, and answers in the order asked.
pub trait Transport: MaybeShared {
    /// Sends a message the host does not answer.
    fn post(&self, message: Message);
    /// Sends a message the host answers; a host that is gone is [`ModelError::DeviceLost`].
    fn ask(&self, message: Message) -> Answer;
}

/// A host, as the page's runs build on it: its transport and the numbers its models go by.
pub struct Host {
    transport: Shared<dyn Transport>,
    next_id: Cell<u32>,
}

impl Host {
    pub fn new(transport: Shared<dyn Transport>) -> Self {
        Self { transport, next_id: Cell::new(0) }
    }

    fn link(&self, spec: &RunSpec, weights: Option<&[f32]>) -> models::Link {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let link = models::Link { transport: Shared::clone(&self.transport), id };
        let build = protocol::Request::Build { id, spec: Box::new(spec.clone()), weights: weights.map(<[f32]>::to_vec) };
        self.transport.post(build.encode());
        link
    }

    /// The VAE (with `d_layout`, the VAE-GAN) of `spec`, built at the host from `weights` or the
    /// seed; `arch` is the one the page built from the same spec.
    pub(crate) fn vae(&self, spec: &RunSpec, arch: VaeArch, d_layout: Option<ParamLayout>, weights: Option<&[f32]>) -> Box<dyn VaeModel> {
        Box::new(HostedVae { link: self.link(spec, weights), arch, d_layout, batch: spec.shape.batch })
    }

    pub(crate) fn gan(&self, spec: &RunSpec, arch: GanArch, weights: Option<&[f32]>) -> Box<dyn GanModel> {
        Box::new(HostedGan { link: self.link(spec, weights), arch, batch: spec.shape.batch })
    }
}
