//! The host's side: the engine it opened (the GPU's kernels, or the CPU twin), the models it
//! holds, built on that engine exactly as a page would build them, and each request acted on in
//! the order it came.

use std::collections::HashMap;
use std::sync::Arc;

use latent_core::data::mnist::Mnist;
use latent_core::data::RunData;
use latent_gpu::{GpuError, Kernels};

use super::protocol::{self, DeviceStatus, Failure, Message, Read, Request};
use crate::config::{Dataset, EnginePref};
use crate::run::model::{self, Model};
use crate::run::{load_rows, Engine, RunSpec};
use crate::{Opened, SessionError};

/// The engine a host opened, the models it holds by the page's numbers, and the rows they were
/// built on. Until a [`Request::Open`] it builds on the CPU twin.
#[derive(Default)]
pub struct Served {
    kernels: Option<Kernels>,
    models: HashMap<u32, Model>,
    mnist: Option<Mnist>,
    rows: Option<(RunSpec, Arc<RunData>)>,
    /// A write's failure, answered to the next read.
    failure: Option<Failure>,
}

impl Served {
    /// Whether `message` builds a model on the MNIST digits, which the host has not loaded: it
    /// loads them (in a worker, by fetching the site's asset) and gives them to [`Self::load`].
    pub fn needs_mnist(&self, message: &Message) -> bool {
        self.mnist.is_none() && message.text.starts_with(Dataset::Mnist.key())
    }

    pub fn load(&mut self, mnist: Result<Mnist, String>) {
        match mnist {
            Ok(mnist) => self.mnist = Some(mnist),
            Err(e) => self.fail(format!("could not load the MNIST digits: {e}").into()),
        }
    }

    /// Keeps the first failure, unless a later one is the device's loss (which the page must see
    /// to rebuild). A failure on the GPU is checked against the device, which a failed map or
    /// submission may report before the loss itself.
    fn fail(&mut self, failure: Failure) {
        let failure = self.device_lost().map_or(failure, |reason| Failure { text: reason, lost: true });
        if failure.lost || self.failure.is_none() {
            self.failure = Some(failure);
        }
    }

    fn device_lost(&self) -> Option<String> {
        match self.kernels.as_ref()?.context().check_alive() {
            Err(GpuError::DeviceLost(reason)) => Some(reason),
            _ => None,
        }
    }

    /// Acts on `message`; an answered request's answer is returned (every one is answered, a
    /// failure too).
    pub async fn handle(&mut self, message: Message) -> Option<Message> {
        let answered = Request::is_answered(&message);
        let result = match Request::decode(message) {
            Ok(Request::Open { pref }) => return Some(self.open(pref).await),
            Ok(Request::Device) => return Some(protocol::device_message(&self.device())),
            Ok(Request::Read { id, read }) => self.read(id, read).await,
            Ok(request) => self.write(request).map(|()| (Vec::new(), Vec::new())),
            Err(e) => Err(e.to_string().into()),
        };
        let reply = match result {
            Ok(reply) => Some(reply),
            Err(failure) => {
                self.fail(failure);
                None
            }
        };
        if !answered {
            return None;
        }
        // This request's failure, or an earlier write's; no reply is missing without one.
        Some(protocol::answer(match self.failure.take() {
            Some(failure) => Err(failure),
            None => Ok(reply.unwrap_or_default()),
        }))
    }

    /// Opens the engine `pref` asks for; the models held go first (their buffers with them).
    async fn open(&mut self, pref: EnginePref) -> Message {
        // A failure of the old models is no new model's.
        self.models.clear();
        self.failure = None;
        self.kernels = None;
        let (kernels, choice) = crate::open_engine(pref).await;
        self.kernels = kernels;
        protocol::opened_message(&Opened::from(choice))
    }

    fn device(&self) -> DeviceStatus {
        let Some(kernels) = &self.kernels else { return DeviceStatus::default() };
        let (buffers, bytes) = kernels.context().allocations();
        DeviceStatus { buffers, bytes, lost: self.device_lost() }
    }

    fn model(&mut self, id: u32) -> Result<&mut Model, Failure> {
        self.models.get_mut(&id).ok_or_else(|| format!("the engine's worker holds no model {id}").into())
    }

    fn write(&mut self, request: Request) -> Result<(), Failure> {
        match request {
            Request::Build { id, spec, weights } => {
                let data = self.rows_for(&spec)?;
                let engine = Engine::from(self.kernels.as_ref());
                let (built, _) = model::build(&spec, data, engine, weights.as_deref())?;
                self.models.insert(id, built);
            }
            Request::LoseDevice => self.lose_device(),
            Request::Drop { id } => {
                self.models.remove(&id);
            }
            Request::Copy { from, to } => {
                let mut target = self.models.remove(&to).ok_or_else(|| Failure::from(format!("the engine's worker holds no model {to}")))?;
                let copied = self.model(from).map(|source| source.copy_state_to(&mut target));
                self.models.insert(to, target);
                copied??;
            }
            Request::SetKnobs { id, knobs } => self.model(id)?.set_knobs(&knobs)?,
            Request::Train { id, steps } => match self.model(id)? {
                Model::Vae(vae) => vae.train(steps)?,
                Model::Gan(gan) => gan.train(steps)?,
            },
            Request::TrainDiscriminator { id, steps } => gan(self.model(id)?)?.train_discriminator(steps)?,
            Request::TrainGenerator { id, steps } => gan(self.model(id)?)?.train_generator(steps)?,
            Request::SetParameters { id, parameters } => match self.model(id)? {
                Model::Vae(vae) => vae.set_parameters(&parameters)?,
                Model::Gan(gan) => gan.set_generator_parameters(&parameters)?,
            },
            Request::SaveBest { id } => vae(self.model(id)?)?.save_best()?,
            Request::RestoreBest { id } => vae(self.model(id)?)?.restore_best()?,
            Request::Read { .. } | Request::Open { .. } | Request::Device => unreachable!("answered requests are acted on by `handle`"),
        }
        Ok(())
    }

    async fn read(&mut self, id: u32, read: Read) -> Result<(Vec<f64>, Vec<f32>), Failure> {
        let numbers = |n: Vec<f64>| (n, Vec::new());
        let floats = |f: Vec<f32>| (Vec::new(), f);
        Ok(match (self.model(id)?, read) {
            (Model::Vae(vae), Read::Metrics) => numbers(protocol::vae_metrics_numbers(&vae.metrics().await?)),
            (Model::Gan(gan), Read::Metrics) => numbers(protocol::gan_metrics_numbers(&gan.metrics().await?)),
            (Model::Vae(vae), Read::StepsDone) => numbers(vec![f64::from(vae.steps_done().await?)]),
            (Model::Gan(gan), Read::StepsDone) => {
                let (d, g) = gan.steps_done().await?;
                numbers(vec![f64::from(d), f64::from(g)])
            }
            (Model::Vae(vae), Read::Evaluate(split)) => numbers(protocol::eval_numbers(&vae.evaluate(split).await?)),
            (Model::Gan(gan), Read::Evaluate(_)) => numbers(protocol::held_out_numbers(&gan.evaluate().await?)),
            (Model::Vae(vae), Read::LatentCodes) => protocol::codes_message(vae.latent_codes().await?),
            (Model::Vae(vae), Read::Encode(rows)) => protocol::codes_message(vae.encode(&rows).await?),
            (Model::Vae(vae), Read::Decode(codes)) => floats(vae.decode(&codes).await?),
            (Model::Gan(gan), Read::Decode(codes)) => floats(gan.generate(&codes).await?),
            (Model::Vae(vae), Read::Samples(count)) => floats(vae.samples(count).await?),
            (Model::Gan(gan), Read::Samples(count)) => floats(gan.samples(count).await?),
            (Model::Vae(vae), Read::Reconstructions) => floats(vae.reconstructions().await?),
            (Model::Vae(vae), Read::Parameters) => floats(vae.parameters().await?),
            (Model::Gan(gan), Read::Parameters) => floats(gan.generator_parameters().await?),
            (Model::Vae(vae), Read::DiscriminatorParameters) => floats(vae.discriminator_parameters().await?),
            (Model::Gan(gan), Read::DiscriminatorParameters) => floats(gan.discriminator_parameters().await?),
            (Model::Gan(gan), Read::DiscriminatorMap(points)) => floats(gan.discriminator_map(&points).await?),
            (_, read) => return Err(format!("model {id} cannot answer {read:?}: another model family").into()),
        })
    }

    /// Destroys the GPU device (the page's fault hook `simulateDeviceLoss`, which only the copy
    /// of the site built for the recovery scenarios has): the next submission fails with the loss,
    /// as after a driver reset. A host on the CPU twin has no device to lose.
    fn lose_device(&self) {
        if let Some(kernels) = &self.kernels {
            kernels.context().device.destroy();
        }
    }

    /// The rows `spec` trains on: the last build's when it read the same (a fork, a new shape).
    fn rows_for(&mut self, spec: &RunSpec) -> Result<Arc<RunData>, SessionError> {
        if let Some((loaded_for, rows)) = &self.rows {
            if loaded_for.reads_same_rows(spec) {
                return Ok(Arc::clone(rows));
            }
        }
        self.rows = None;
        let rows = Arc::new(load_rows(spec, self.mnist.as_ref())?);
        self.rows = Some((spec.clone(), Arc::clone(&rows)));
        Ok(rows)
    }
}

fn vae(model: &mut Model) -> Result<&mut dyn latent_core::engine::VaeModel, Failure> {
    match model {
        Model::Vae(vae) => Ok(vae.as_mut()),
        Model::Gan(_) => Err(String::from("a GAN has no best parameters to keep").into()),
    }
}

fn gan(model: &mut Model) -> Result<&mut dyn latent_core::engine::GanModel, Failure> {
    match model {
        Model::Gan(gan) => Ok(gan.as_mut()),
        Model::Vae(_) => Err(String::from("only the GAN steps one network at a time").into()),
    }
}
