//! The host's side: the models it holds, built on the CPU engine exactly as a page would build
//! them, and each request acted on in the order it came.

use std::collections::HashMap;
use std::sync::Arc;

use latent_core::data::mnist::Mnist;
use latent_core::data::RunData;
use latent_core::engine::ModelError;

use super::protocol::{self, Message, Read, Request};
use crate::config::Dataset;
use crate::run::model::{self, Model};
use crate::run::{load_rows, Engine, RunSpec};
use crate::SessionError;

/// The models a host holds, by the page's numbers, and the rows they were built on.
#[derive(Default)]
pub struct Served {
    models: HashMap<u32, Model>,
    mnist: Option<Mnist>,
    rows: Option<(RunSpec, Arc<RunData>)>,
    /// A write's failure, answered to the next read.
    failure: Option<String>,
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
            Err(e) => self.fail(format!("could not load the MNIST digits: {e}")),
        }
    }

    fn fail(&mut self, failure: String) {
        self.failure.get_or_insert(failure);
    }

    /// Acts on `message`; a read's answer is returned (every read is answered, a failure too).
    pub async fn handle(&mut self, message: Message) -> Option<Message> {
        let answered = Request::is_answered(&message);
        let result = match Request::decode(message) {
            Ok(Request::Read { id, read }) => self.read(id, read).await,
            Ok(request) => self.write(request).map(|()| (Vec::new(), Vec::new())),
            Err(e) => Err(e.to_string()),
        };
        if answered {
            let result = match self.failure.take() {
                Some(failure) => Err(failure),
                None => result,
            };
            return Some(protocol::answer(result));
        }
        if let Err(failure) = result {
            self.fail(failure);
        }
        None
    }

    fn model(&mut self, id: u32) -> Result<&mut Model, String> {
        self.models.get_mut(&id).ok_or_else(|| format!("the engine's worker holds no model {id}"))
    }

    fn write(&mut self, request: Request) -> Result<(), String> {
        let text = |e: ModelError| e.to_string();
        match request {
            Request::Build { id, spec, weights } => {
                let data = self.rows_for(&spec).map_err(|e| e.to_string())?;
                let (built, _) = model::build(&spec, data, Engine::Cpu, weights.as_deref()).map_err(|e| e.to_string())?;
                self.models.insert(id, built);
            }
            Request::Drop { id } => {
                self.models.remove(&id);
            }
            Request::Copy { from, to } => {
                let mut target = self.models.remove(&to).ok_or_else(|| format!("the engine's worker holds no model {to}"))?;
                let copied = self.model(from).map(|source| source.copy_state_to(&mut target));
                self.models.insert(to, target);
                copied?.map_err(text)?;
            }
            Request::SetKnobs { id, knobs } => self.model(id)?.set_knobs(&knobs).map_err(text)?,
            Request::Train { id, steps } => match self.model(id)? {
                Model::Vae(vae) => vae.train(steps).map_err(text)?,
                Model::Gan(gan) => gan.train(steps).map_err(text)?,
            },
            Request::TrainDiscriminator { id, steps } => gan(self.model(id)?)?.train_discriminator(steps).map_err(text)?,
            Request::TrainGenerator { id, steps } => gan(self.model(id)?)?.train_generator(steps).map_err(text)?,
            Request::SetParameters { id, parameters } => match self.model(id)? {
                Model::Vae(vae) => vae.set_parameters(&parameters).map_err(text)?,
                Model::Gan(gan) => gan.set_generator_parameters(&parameters).map_err(text)?,
            },
            Request::SaveBest { id } => vae(self.model(id)?)?.save_best().map_err(text)?,
            Request::RestoreBest { id } => vae(self.model(id)?)?.restore_best().map_err(text)?,
            Request::Read { .. } => unreachable!("reads are answered by `read`"),
        }
        Ok(())
    }

    async fn read(&mut self, id: u32, read: Read) -> Result<(Vec<f64>, Vec<f32>), String> {
        let text = |e: ModelError| e.to_string();
        let numbers = |n: Vec<f64>| (n, Vec::new());
        let floats = |f: Vec<f32>| (Vec::new(), f);
        Ok(match (self.model(id)?, read) {
            (Model::Vae(vae), Read::Metrics) => numbers(protocol::vae_metrics_numbers(&vae.metrics().await.map_err(text)?)),
            (Model::Gan(gan), Read::Metrics) => numbers(protocol::gan_metrics_numbers(&gan.metrics().await.map_err(text)?)),
            (Model::Vae(vae), Read::StepsDone) => numbers(vec![f64::from(vae.steps_done().await.map_err(text)?)]),
            (Model::Gan(gan), Read::StepsDone) => {
                let (d, g) = gan.steps_done().await.map_err(text)?;
                numbers(vec![f64::from(d), f64::from(g)])
            }
            (Model::Vae(vae), Read::Evaluate(split)) => numbers(protocol::eval_numbers(&vae.evaluate(split).await.map_err(text)?)),
            (Model::Gan(gan), Read::Evaluate(_)) => numbers(protocol::held_out_numbers(&gan.evaluate().await.map_err(text)?)),
            (Model::Vae(vae), Read::LatentCodes) => protocol::codes_message(vae.latent_codes().await.map_err(text)?),
            (Model::Vae(vae), Read::Encode(rows)) => protocol::codes_message(vae.encode(&rows).await.map_err(text)?),
            (Model::Vae(vae), Read::Decode(codes)) => floats(vae.decode(&codes).await.map_err(text)?),
            (Model::Gan(gan), Read::Decode(codes)) => floats(gan.generate(&codes).await.map_err(text)?),
            (Model::Vae(vae), Read::Samples(count)) => floats(vae.samples(count).await.map_err(text)?),
            (Model::Gan(gan), Read::Samples(count)) => floats(gan.samples(count).await.map_err(text)?),
            (Model::Vae(vae), Read::Reconstructions) => floats(vae.reconstructions().await.map_err(text)?),
            (Model::Vae(vae), Read::Parameters) => floats(vae.parameters().await.map_err(text)?),
            (Model::Gan(gan), Read::Parameters) => floats(gan.generator_parameters().await.map_err(text)?),
            (Model::Vae(vae), Read::DiscriminatorParameters) => floats(vae.discriminator_parameters().await.map_err(text)?),
            (Model::Gan(gan), Read::DiscriminatorParameters) => floats(gan.discriminator_parameters().await.map_err(text)?),
            (Model::Gan(gan), Read::DiscriminatorMap(points)) => floats(gan.discriminator_map(&points).await.map_err(text)?),
            (_, read) => return Err(format!("model {id} cannot answer {read:?}: another model family")),
        })
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

fn vae(model: &mut Model) -> Result<&mut dyn latent_core::engine::VaeModel, String> {
    match model {
        Model::Vae(vae) => Ok(vae.as_mut()),
        Model::Gan(_) => Err("a GAN has no best parameters to keep".into()),
    }
}

fn gan(model: &mut Model) -> Result<&mut dyn latent_core::engine::GanModel, String> {
    match model {
        Model::Gan(gan) => Ok(gan.as_mut()),
        Model::Vae(_) => Err("only the GAN steps one network at a time".into()),
    }
}
