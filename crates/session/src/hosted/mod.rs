//! Models trained somewhere else: the page's engines run in a Web Worker, so the page's main
//! thread never runs a training step and the page's module carries neither engine. A [`Host`] is
//! a third engine behind the seam: it opens the GPU or the CPU twin there ([`Host::open`]), and its
//! models ([`HostedVae`], [`HostedGan`]) answer `VaeModel` and `GanModel` by sending each call as a
//! [`Message`] over a [`Transport`] (the page's: `postMessage` to its worker), and the host's
//! [`Served`] builds the same models on its engine from the same spec and acts on the calls in
//! order. Writes return at once, as the GPU engine's submissions do; reads await the answer, which
//! comes after every write posted before them, so a run above the seam cannot tell a hosted model
//! from one built beside it, bit for bit (`tests/hosted.rs` trains both through a loopback
//! transport, on the CPU twin and on the GPU).

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

use crate::config::EnginePref;
use crate::run::RunSpec;
use crate::Opened;
use protocol::{DeviceStatus, Request};

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

    /// Opens the engine `pref` asks for at the host (dropping every model it holds) and says which
    /// opened, and why where it is not the GPU.
    pub async fn open(&self, pref: EnginePref) -> Result<Opened, ModelError> {
        let answer = self.transport.ask(Request::Open { pref }.encode()).await?;
        protocol::opened_from(answer).map_err(|e| ModelError::Device(e.to_string()))
    }

    /// The host's GPU buffers and whether its device was lost (nothing on the CPU twin). The
    /// future holds no borrow of the host, so a task of its own can await it.
    pub fn device(&self) -> impl Future<Output = Result<DeviceStatus, ModelError>> + 'static {
        let answer = self.transport.ask(Request::Device.encode());
        async move { protocol::device_from(answer.await?).map_err(|e| ModelError::Device(e.to_string())) }
    }

    /// Has the host destroy its GPU device, as a driver reset would (the fault hook
    /// `simulateDeviceLoss`; a host on the CPU twin has none).
    pub fn lose_device(&self) {
        self.transport.post(Request::LoseDevice.encode());
    }

    fn link(&self, spec: &RunSpec, weights: Option<&[f32]>) -> models::Link {
        let id = self.next_id.get();
        self.next_id.set(id.wrapping_add(1));
        let link = models::Link { transport: Shared::clone(&self.transport), id };
        let build = Request::Build { id, spec: Box::new(spec.clone()), weights: weights.map(<[f32]>::to_vec) };
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
