//! The page's side of a hosted model: the engine seam's traits answered by messages. Writes (knobs,
//! steps, parameters) are posted and return at once, as the GPU engine's submissions do; reads
//! await the host's answer, which comes after every step posted before them.

use async_trait::async_trait;
use latent_core::engine::{EvalMetrics, EvalSplit, GanMetrics, GanModel, LatentCodes, ModelError, VaeModel};
use latent_core::model::{GanArch, HeldOutMetrics, ParamLayout, VaeArch, VaeGanMetrics};
use latent_core::Knobs;

use super::protocol::{self, Message, Read, Request, Unreadable};
use super::{Shared, Transport};

/// A model's number at its host, and the way there. Dropping it drops the model there.
pub(crate) struct Link {
    pub(crate) transport: Shared<dyn Transport>,
    pub(crate) id: u32,
}

impl Link {
    fn post(&self, request: Request) {
        self.transport.post(request.encode());
    }

    /// The host's answer; a failure it reports (this read's, or a write's since the last read)
    /// as the device error it is.
    async fn read(&self, read: Read) -> Result<Message, ModelError> {
        let answer = self.transport.ask(Request::Read { id: self.id, read }.encode()).await?;
        match protocol::failure_in(&answer) {
            Some(failure) => Err(failure),
            None => Ok(answer),
        }
    }

    async fn floats(&self, read: Read) -> Result<Vec<f32>, ModelError> {
        Ok(self.read(read).await?.floats)
    }

    /// Model `to` (on the same host) takes this one's training state.
    pub(crate) fn copy_state_to(&self, to: &Link) -> Result<(), ModelError> {
        if !Shared::ptr_eq(&self.transport, &to.transport) {
            return Err(ModelError::StateMismatch("the two models are on different hosts".into()));
        }
        self.post(Request::Copy { from: self.id, to: to.id });
        Ok(())
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.post(Request::Drop { id: self.id });
    }
}

fn unreadable(e: Unreadable) -> ModelError {
    ModelError::Device(e.to_string())
}

/// A VAE (or VAE-GAN) trained by a host.
pub struct HostedVae {
    pub(crate) link: Link,
    pub(crate) arch: VaeArch,
    pub(crate) d_layout: Option<ParamLayout>,
    pub(crate) batch: usize,
}

#[async_trait(?Send)]
impl VaeModel for HostedVae {
    fn arch(&self) -> &VaeArch {
        &self.arch
    }
    fn batch(&self) -> usize {
        self.batch
    }
    fn dispatches_per_step(&self) -> Option<usize> {
        None
    }
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        self.link.post(Request::SetKnobs { id: self.link.id, knobs: *knobs });
        Ok(())
    }
    fn train(&mut self, steps: usize) -> Result<(), ModelError> {
        self.link.post(Request::Train { id: self.link.id, steps });
        Ok(())
    }
    async fn metrics(&mut self) -> Result<VaeGanMetrics, ModelError> {
        protocol::vae_metrics_from(&self.link.read(Read::Metrics).await?.numbers).map_err(unreadable)
    }
    async fn steps_done(&self) -> Result<u32, ModelError> {
        let counts = protocol::counts_from(&self.link.read(Read::StepsDone).await?.numbers).map_err(unreadable)?;
        counts.first().copied().ok_or_else(|| unreadable(Unreadable("no step count")))
    }
    async fn evaluate(&self, split: EvalSplit) -> Result<EvalMetrics, ModelError> {
        protocol::eval_from(&self.link.read(Read::Evaluate(split)).await?.numbers).map_err(unreadable)
    }
    async fn latent_codes(&self) -> Result<LatentCodes, ModelError> {
        let Message { numbers, floats, .. } = self.link.read(Read::LatentCodes).await?;
        protocol::codes_from(&numbers, floats).map_err(unreadable)
    }
    async fn encode(&self, inputs: &[f32]) -> Result<LatentCodes, ModelError> {
        let Message { numbers, floats, .. } = self.link.read(Read::Encode(inputs.to_vec())).await?;
        protocol::codes_from(&numbers, floats).map_err(unreadable)
    }
    async fn decode(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Decode(codes.to_vec())).await
    }
    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Samples(count)).await
    }
    async fn reconstructions(&self) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Reconstructions).await
    }
    async fn parameters(&self) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Parameters).await
    }
    fn set_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        if parameters.len() != self.arch.layout.len {
            return Err(ModelError::StateMismatch(format!("{} parameters for a model of {}", parameters.len(), self.arch.layout.len)));
        }
        self.link.post(Request::SetParameters { id: self.link.id, parameters: parameters.to_vec() });
        Ok(())
    }
    fn discriminator_layout(&self) -> Option<&ParamLayout> {
        self.d_layout.as_ref()
    }
    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::DiscriminatorParameters).await
    }
    fn save_best(&mut self) -> Result<(), ModelError> {
        self.link.post(Request::SaveBest { id: self.link.id });
        Ok(())
    }
    fn restore_best(&mut self) -> Result<(), ModelError> {
        self.link.post(Request::RestoreBest { id: self.link.id });
        Ok(())
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}

/// A GAN trained by a host.
pub struct HostedGan {
    pub(crate) link: Link,
    pub(crate) arch: GanArch,
    pub(crate) batch: usize,
}

#[async_trait(?Send)]
impl GanModel for HostedGan {
    fn arch(&self) -> &GanArch {
        &self.arch
    }
    fn batch(&self) -> usize {
        self.batch
    }
    fn dispatches_per_round(&self) -> Option<usize> {
        None
    }
    fn set_knobs(&mut self, knobs: &Knobs) -> Result<(), ModelError> {
        knobs.validate()?;
        self.link.post(Request::SetKnobs { id: self.link.id, knobs: *knobs });
        Ok(())
    }
    fn train(&mut self, rounds: usize) -> Result<(), ModelError> {
        self.link.post(Request::Train { id: self.link.id, steps: rounds });
        Ok(())
    }
    fn train_discriminator(&mut self, steps: usize) -> Result<(), ModelError> {
        self.link.post(Request::TrainDiscriminator { id: self.link.id, steps });
        Ok(())
    }
    fn train_generator(&mut self, steps: usize) -> Result<(), ModelError> {
        self.link.post(Request::TrainGenerator { id: self.link.id, steps });
        Ok(())
    }
    async fn metrics(&mut self) -> Result<GanMetrics, ModelError> {
        protocol::gan_metrics_from(&self.link.read(Read::Metrics).await?.numbers).map_err(unreadable)
    }
    async fn steps_done(&self) -> Result<(u32, u32), ModelError> {
        match protocol::counts_from(&self.link.read(Read::StepsDone).await?.numbers).map_err(unreadable)?[..] {
            [d, g] => Ok((d, g)),
            _ => Err(unreadable(Unreadable("not two step counts"))),
        }
    }
    async fn evaluate(&self) -> Result<HeldOutMetrics, ModelError> {
        protocol::held_out_from(&self.link.read(Read::Evaluate(EvalSplit::Test)).await?.numbers).map_err(unreadable)
    }
    async fn generate(&self, codes: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Decode(codes.to_vec())).await
    }
    async fn samples(&self, count: usize) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Samples(count)).await
    }
    async fn discriminator_map(&self, points: &[f32]) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::DiscriminatorMap(points.to_vec())).await
    }
    async fn generator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::Parameters).await
    }
    fn set_generator_parameters(&mut self, parameters: &[f32]) -> Result<(), ModelError> {
        if parameters.len() != self.arch.g_layout.len {
            return Err(ModelError::StateMismatch(format!("{} parameters for a generator of {}", parameters.len(), self.arch.g_layout.len)));
        }
        self.link.post(Request::SetParameters { id: self.link.id, parameters: parameters.to_vec() });
        Ok(())
    }
    async fn discriminator_parameters(&self) -> Result<Vec<f32>, ModelError> {
        self.link.floats(Read::DiscriminatorParameters).await
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        self
    }
}
