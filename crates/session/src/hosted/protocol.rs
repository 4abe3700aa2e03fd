//! What a hosted model's calls become on the way to its host and back: a [`Message`] of numbers,
//! a text and floats (the page posts them to its worker as a `Float64Array`, a string and a
//! transferred `Float32Array`). Every number a model takes or gives goes over exactly: f32 values
//! in f32 arrays or as f64 (which holds every f32), counts and seeds as f64 (a seed in two 32-bit
//! halves, as a u64 can exceed f64's 53-bit integers).

use latent_core::activation::Activation;
use latent_core::engine::{EvalMetrics, EvalSplit, GanMetrics, LatentCodes, ModelError};
use latent_core::knobs::Optimizer;
use latent_core::model::{DiscriminatorMetrics, HeldOutMetrics, StepMetrics, VaeGanMetrics};
use latent_core::Knobs;

use crate::config::{DataConfig, Dataset, EnginePref, ModelKind, Shape};
use crate::run::{RunOptions, RunSpec};
use crate::{Opened, SessionError};

/// One message either way: what the host's transport carries.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    pub numbers: Vec<f64>,
    /// A build's keys; a reply's failure (empty when it succeeded).
    pub text: String,
    /// Weights, parameters, pictures, codes.
    pub floats: Vec<f32>,
}

/// Why a message could not be read: a host and a page from different builds, or a bug.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("the engine's worker got a message it cannot read ({0})")]
pub struct Unreadable(pub &'static str);

/// What the page asks of its host and the models it holds. Reads, [`Request::Open`] and
/// [`Request::Device`] are answered: the rest act in order, and a failure among them is answered
/// to the next read of a model.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    /// Opens the engine `pref` asks for (the GPU where it pays, else the CPU twin), dropping every
    /// model held; answered with what opened ([`opened_message`]).
    Open {
        pref: EnginePref,
    },
    /// The GPU's buffer ledger and whether the device was lost ([`DeviceStatus`]).
    Device,
    /// Destroys the GPU device, as a driver reset would: what the page's fault hook
    /// `simulateDeviceLoss` sends (only the copy of the site built with `fault-hooks` has it).
    LoseDevice,
    /// Builds model `id` of `spec` from `weights` (a checkpoint's) or from its seed, exactly as
    /// the CPU engine builds it in the page.
    Build {
        id: u32,
        spec: Box<RunSpec>,
        weights: Option<Vec<f32>>,
    },
    Drop {
        id: u32,
    },
    /// Model `to` takes model `from`'s whole training state (a fork).
    Copy {
        from: u32,
        to: u32,
    },
    SetKnobs {
        id: u32,
        knobs: Knobs,
    },
    /// VAE steps, or GAN rounds.
    Train {
        id: u32,
        steps: usize,
    },
    TrainDiscriminator {
        id: u32,
        steps: usize,
    },
    TrainGenerator {
        id: u32,
        steps: usize,
    },
    /// The VAE's encoder and decoder, or the GAN's generator.
    SetParameters {
        id: u32,
        parameters: Vec<f32>,
    },
    SaveBest {
        id: u32,
    },
    RestoreBest {
        id: u32,
    },
    Read {
        id: u32,
        read: Read,
    },
}

/// A readback, answered by a [`Message`] that the model's family decodes.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    Metrics,
    StepsDone,
    /// The VAE's −ELBO on a split; the GAN's D on the held-out rows (the split unused).
    Evaluate(EvalSplit),
    LatentCodes,
    Encode(Vec<f32>),
    /// The VAE's decoder, or the GAN's generator, on these codes.
    Decode(Vec<f32>),
    Samples(usize),
    Reconstructions,
    /// The VAE's encoder and decoder, or the GAN's generator.
    Parameters,
    DiscriminatorParameters,
    DiscriminatorMap(Vec<f32>),
}

const BUILD: f64 = 0.0;
const DROP: f64 = 1.0;
const COPY: f64 = 2.0;
const SET_KNOBS: f64 = 3.0;
const TRAIN: f64 = 4.0;
const TRAIN_D: f64 = 5.0;
const TRAIN_G: f64 = 6.0;
const SET_PARAMETERS: f64 = 7.0;
const SAVE_BEST: f64 = 8.0;
const RESTORE_BEST: f64 = 9.0;
const OPEN: f64 = 10.0;
const DEVICE: f64 = 11.0;
const LOSE_DEVICE: f64 = 12.0;
/// Reads are this plus their own number.
const READ: f64 = 16.0;

impl Request {
    /// Whether the host answers a message: a read, even one it cannot decode (so the page's
    /// answers stay in step with its questions).
    pub fn is_answered(message: &Message) -> bool {
        message.numbers.first().is_some_and(|op| *op >= READ || *op == OPEN || *op == DEVICE)
    }

    pub fn encode(&self) -> Message {
        let mut out = Message::default();
        let n = &mut out.numbers;
        match self {
            Request::Open { pref } => n.extend([OPEN, EnginePref::ALL.iter().position(|p| p == pref).unwrap_or(0) as f64]),
            Request::Device => n.push(DEVICE),
            Request::LoseDevice => n.push(LOSE_DEVICE),
            Request::Build { id, spec, weights } => {
                n.extend([BUILD, f64::from(*id), f64::from(u8::from(weights.is_some()))]);
                out.text = encode_spec(spec, n);
                out.floats = weights.clone().unwrap_or_default();
            }
            Request::Drop { id } => n.extend([DROP, f64::from(*id)]),
            Request::Copy { from, to } => n.extend([COPY, f64::from(*from), f64::from(*to)]),
            Request::SetKnobs { id, knobs } => {
                n.extend([SET_KNOBS, f64::from(*id)]);
                encode_knobs(knobs, n);
            }
            Request::Train { id, steps } => n.extend([TRAIN, f64::from(*id), *steps as f64]),
            Request::TrainDiscriminator { id, steps } => n.extend([TRAIN_D, f64::from(*id), *steps as f64]),
            Request::TrainGenerator { id, steps } => n.extend([TRAIN_G, f64::from(*id), *steps as f64]),
            Request::SetParameters { id, parameters } => {
                n.extend([SET_PARAMETERS, f64::from(*id)]);
                out.floats = parameters.clone();
            }
            Request::SaveBest { id } => n.extend([SAVE_BEST, f64::from(*id)]),
            Request::RestoreBest { id } => n.extend([RESTORE_BEST, f64::from(*id)]),
            Request::Read { id, read } => {
                let (code, arg, floats) = match read {
                    Read::Metrics => (0.0, 0.0, None),
                    Read::StepsDone => (1.0, 0.0, None),
                    Read::Evaluate(EvalSplit::Test) => (2.0, 0.0, None),
                    Read::Evaluate(EvalSplit::Train) => (2.0, 1.0, None),
                    Read::LatentCodes => (3.0, 0.0, None),
                    Read::Encode(rows) => (4.0, 0.0, Some(rows)),
                    Read::Decode(codes) => (5.0, 0.0, Some(codes)),
                    Read::Samples(count) => (6.0, *count as f64, None),
                    Read::Reconstructions => (7.0, 0.0, None),
                    Read::Parameters => (8.0, 0.0, None),
                    Read::DiscriminatorParameters => (9.0, 0.0, None),
                    Read::DiscriminatorMap(points) => (10.0, 0.0, Some(points)),
                };
                n.extend([READ + code, f64::from(*id), arg]);
                out.floats = floats.cloned().unwrap_or_default();
            }
        }
        out
    }

    pub fn decode(message: Message) -> Result<Self, Unreadable> {
        let Message { numbers, text, floats } = message;
        let mut n = Numbers(numbers.iter());
        let op = n.next()?;
        match op {
            OPEN => return Ok(Request::Open { pref: *EnginePref::ALL.get(n.count()?).ok_or(Unreadable("an unknown engine"))? }),
            DEVICE => return Ok(Request::Device),
            LOSE_DEVICE => return Ok(Request::LoseDevice),
            _ => {}
        }
        let id = n.id()?;
        Ok(match op {
            BUILD => {
                let has_weights = n.next()? != 0.0;
                let spec = decode_spec(&text, &mut n)?;
                Request::Build { id, spec: Box::new(spec), weights: has_weights.then_some(floats) }
            }
            DROP => Request::Drop { id },
            COPY => Request::Copy { from: id, to: n.id()? },
            SET_KNOBS => Request::SetKnobs { id, knobs: decode_knobs(&mut n)? },
            TRAIN => Request::Train { id, steps: n.count()? },
            TRAIN_D => Request::TrainDiscriminator { id, steps: n.count()? },
            TRAIN_G => Request::TrainGenerator { id, steps: n.count()? },
            SET_PARAMETERS => Request::SetParameters { id, parameters: floats },
            SAVE_BEST => Request::SaveBest { id },
            RESTORE_BEST => Request::RestoreBest { id },
            code if code >= READ => {
                let arg = n.next()?;
                let read = match code - READ {
                    0.0 => Read::Metrics,
                    1.0 => Read::StepsDone,
                    2.0 => Read::Evaluate(if arg == 0.0 { EvalSplit::Test } else { EvalSplit::Train }),
                    3.0 => Read::LatentCodes,
                    4.0 => Read::Encode(floats),
                    5.0 => Read::Decode(floats),
                    6.0 => Read::Samples(Numbers([arg].iter()).count()?),
                    7.0 => Read::Reconstructions,
                    8.0 => Read::Parameters,
                    9.0 => Read::DiscriminatorParameters,
                    10.0 => Read::DiscriminatorMap(floats),
                    _ => return Err(Unreadable("an unknown read")),
                };
                Request::Read { id, read }
            }
            _ => return Err(Unreadable("an unknown request")),
        })
    }
}

/// Reads numbers in the order they were written.
struct Numbers<'a>(std::slice::Iter<'a, f64>);

impl Numbers<'_> {
    fn next(&mut self) -> Result<f64, Unreadable> {
        self.0.next().copied().ok_or(Unreadable("too few numbers"))
    }

    /// A whole number in `0..=max`.
    fn whole(&mut self, max: f64) -> Result<f64, Unreadable> {
        let value = self.next()?;
        if value >= 0.0 && value <= max && value.fract() == 0.0 {
            Ok(value)
        } else {
            Err(Unreadable("a count that is not a whole number in range"))
        }
    }

    fn id(&mut self) -> Result<u32, Unreadable> {
        Ok(self.whole(f64::from(u32::MAX))? as u32)
    }

    fn count(&mut self) -> Result<usize, Unreadable> {
        Ok(self.whole(f64::from(u32::MAX))? as usize)
    }

    fn f32(&mut self) -> Result<f32, Unreadable> {
        Ok(self.next()? as f32)
    }

    /// An optional f32, NaN for none.
    fn maybe_f32(&mut self) -> Result<Option<f32>, Unreadable> {
        let value = self.next()?;
        Ok((!value.is_nan()).then_some(value as f32))
    }

    fn list(&mut self) -> Result<Vec<usize>, Unreadable> {
        let len = self.count()?;
        (0..len).map(|_| self.count()).collect()
    }
}

fn encode_knobs(knobs: &Knobs, n: &mut Vec<f64>) {
    let maybe = |v: Option<f32>| v.map_or(f64::NAN, f64::from);
    let optimizer = match knobs.optimizer {
        Optimizer::Adam => 0.0,
        Optimizer::Sgd => 1.0,
    };
    n.extend([
        f64::from(knobs.beta),
        f64::from(knobs.l2),
        f64::from(knobs.l1),
        f64::from(knobs.dropout),
        f64::from(knobs.lr),
        optimizer,
        f64::from(knobs.momentum),
        f64::from(knobs.gamma),
        maybe(knobs.l2_g),
        maybe(knobs.l2_d),
        maybe(knobs.lr_d),
        f64::from(knobs.d_steps),
    ]);
}

fn decode_knobs(n: &mut Numbers) -> Result<Knobs, Unreadable> {
    Ok(Knobs {
        beta: n.f32()?,
        l2: n.f32()?,
        l1: n.f32()?,
        dropout: n.f32()?,
        lr: n.f32()?,
        optimizer: if n.next()? == 0.0 { Optimizer::Adam } else { Optimizer::Sgd },
        momentum: n.f32()?,
        gamma: n.f32()?,
        l2_g: n.maybe_f32()?,
        l2_d: n.maybe_f32()?,
        lr_d: n.maybe_f32()?,
        d_steps: n.whole(f64::from(u32::MAX))? as u32,
    })
}

/// What a model's build reads of a spec (its data, shape, knobs and held-out digits; the rest
/// steers the run above the model): numbers into `n`, the keys as the returned text.
fn encode_spec(spec: &RunSpec, n: &mut Vec<f64>) -> String {
    let (data, shape) = (&spec.data, &spec.shape);
    let activation = Activation::ALL.iter().position(|a| *a == shape.activation).unwrap_or(0);
    n.extend([
        data.train_size as f64,
        f64::from(data.noise),
        activation as f64,
        shape.latent as f64,
        shape.batch as f64,
        (shape.seed >> 32) as f64,
        (shape.seed & u64::from(u32::MAX)) as f64,
        spec.options.held_out_digits as f64,
    ]);
    for list in [Some(&shape.hidden), shape.discriminator_hidden.as_ref()] {
        match list {
            Some(widths) => {
                n.push(1.0);
                n.push(widths.len() as f64);
                n.extend(widths.iter().map(|w| *w as f64));
            }
            None => n.push(0.0),
        }
    }
    encode_knobs(&spec.knobs, n);
    n.extend(data.drawn.iter().flat_map(|p| p.map(f64::from)));
    format!("{} {}", data.dataset.key(), shape.model.key())
}

fn decode_spec(text: &str, n: &mut Numbers) -> Result<RunSpec, Unreadable> {
    let (dataset, model) = text.split_once(' ').ok_or(Unreadable("a build without its keys"))?;
    let dataset = Dataset::from_key(dataset).ok_or(Unreadable("an unknown dataset"))?;
    let model = ModelKind::from_key(model).ok_or(Unreadable("an unknown model"))?;
    let (train_size, noise) = (n.count()?, n.f32()?);
    let activation = *Activation::ALL.get(n.count()?).ok_or(Unreadable("an unknown activation"))?;
    let (latent, batch) = (n.count()?, n.count()?);
    let seed = (n.whole(f64::from(u32::MAX))? as u64) << 32 | n.whole(f64::from(u32::MAX))? as u64;
    let held_out_digits = n.count()?;
    let hidden = if n.next()? != 0.0 { n.list()? } else { Vec::new() };
    let discriminator_hidden = if n.next()? != 0.0 { Some(n.list()?) } else { None };
    let knobs = decode_knobs(n)?;
    let rest: Vec<f64> = n.0.by_ref().copied().collect();
    let drawn = rest.chunks_exact(2).map(|p| [p[0] as f32, p[1] as f32]).collect();
    Ok(RunSpec {
        data: DataConfig { dataset, train_size, noise, drawn },
        shape: Shape { model, hidden, discriminator_hidden, activation, latent, batch, seed },
        knobs,
        options: RunOptions { held_out_digits, ..RunOptions::interactive(false) },
    })
}

/// Why the host could not act: its text, and whether the GPU device was lost (the page then
/// rebuilds the run on a new engine, as after a stopped worker).
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub text: String,
    pub lost: bool,
}

impl From<String> for Failure {
    fn from(text: String) -> Self {
        Self { text, lost: false }
    }
}

impl From<ModelError> for Failure {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::DeviceLost(reason) => Self { text: reason, lost: true },
            other => other.to_string().into(),
        }
    }
}

impl From<SessionError> for Failure {
    fn from(e: SessionError) -> Self {
        match e.device_lost() {
            Some(reason) => Self { text: reason.to_string(), lost: true },
            None => e.to_string().into(),
        }
    }
}

/// A failure's mark in an answer's numbers: the device was lost.
const LOST: f64 = 1.0;

/// A reply's numbers and floats, or the host's failure (its text, and [`LOST`] as the only
/// number where the device was lost).
pub fn answer(result: Result<(Vec<f64>, Vec<f32>), Failure>) -> Message {
    match result {
        Ok((numbers, floats)) => Message { numbers, text: String::new(), floats },
        Err(Failure { text, lost }) => Message { numbers: if lost { vec![LOST] } else { Vec::new() }, text, ..Message::default() },
    }
}

/// The failure a model's answer reports, if any: a lost device as such.
pub fn failure_in(answer: &Message) -> Option<ModelError> {
    match (answer.text.is_empty(), answer.numbers.as_slice()) {
        (true, _) => None,
        (false, [LOST]) => Some(ModelError::DeviceLost(answer.text.clone())),
        (false, _) => Some(ModelError::Device(answer.text.clone())),
    }
}

/// [`Request::Open`]'s answer: the engine's kind as a number, its adapter or the reason as text.
pub fn opened_message(opened: &Opened) -> Message {
    let (kind, text) = match opened {
        Opened::Gpu { adapter, software: false } => (0.0, adapter.clone()),
        Opened::Gpu { adapter, software: true } => (1.0, adapter.clone()),
        Opened::Cpu { reason: None } => (2.0, String::new()),
        Opened::Cpu { reason: Some(reason) } => (3.0, reason.clone()),
    };
    Message { numbers: vec![kind], text, floats: Vec::new() }
}

pub fn opened_from(message: Message) -> Result<Opened, Unreadable> {
    let Message { numbers, text, .. } = message;
    Ok(match numbers.as_slice() {
        [0.0] => Opened::Gpu { adapter: text, software: false },
        [1.0] => Opened::Gpu { adapter: text, software: true },
        [2.0] => Opened::Cpu { reason: None },
        [3.0] => Opened::Cpu { reason: Some(text) },
        _ => return Err(Unreadable("an engine of an unknown kind")),
    })
}

/// [`Request::Device`]'s answer: the GPU's buffers and their bytes (none on the CPU twin), and
/// why the device was lost, if it was.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeviceStatus {
    pub buffers: u64,
    pub bytes: u64,
    pub lost: Option<String>,
}

pub fn device_message(status: &DeviceStatus) -> Message {
    let numbers = vec![status.buffers as f64, status.bytes as f64];
    Message { numbers, text: status.lost.clone().unwrap_or_default(), floats: Vec::new() }
}

pub fn device_from(message: Message) -> Result<DeviceStatus, Unreadable> {
    let mut n = Numbers(message.numbers.iter());
    let (buffers, bytes) = (n.next()?, n.next()?);
    if !(buffers >= 0.0 && bytes >= 0.0) {
        return Err(Unreadable("a negative buffer ledger"));
    }
    Ok(DeviceStatus { buffers: buffers as u64, bytes: bytes as u64, lost: (!message.text.is_empty()).then_some(message.text) })
}

pub fn vae_metrics_numbers(m: &VaeGanMetrics) -> Vec<f64> {
    let mut n = vec![m.vae.reconstruction, m.vae.kl, m.vae.l2_term, m.vae.l1_term, m.generator_loss];
    n.extend(discriminator_numbers(&m.discriminator));
    n.extend(&m.vae.kl_per_dim);
    n
}

pub fn vae_metrics_from(numbers: &[f64]) -> Result<VaeGanMetrics, Unreadable> {
    let mut n = Numbers(numbers.iter());
    let (reconstruction, kl, l2_term, l1_term, generator_loss) = (n.next()?, n.next()?, n.next()?, n.next()?, n.next()?);
    let discriminator = discriminator_from(&mut n)?;
    let kl_per_dim = n.0.copied().collect();
    Ok(VaeGanMetrics { vae: StepMetrics { reconstruction, kl, kl_per_dim, l2_term, l1_term }, discriminator, generator_loss })
}

pub fn gan_metrics_numbers(m: &GanMetrics) -> Vec<f64> {
    let mut n = vec![m.generator_loss, m.generator_l2_term];
    n.extend(discriminator_numbers(&m.discriminator));
    n
}

pub fn gan_metrics_from(numbers: &[f64]) -> Result<GanMetrics, Unreadable> {
    let mut n = Numbers(numbers.iter());
    let (generator_loss, generator_l2_term) = (n.next()?, n.next()?);
    Ok(GanMetrics { discriminator: discriminator_from(&mut n)?, generator_loss, generator_l2_term })
}

fn discriminator_numbers(d: &DiscriminatorMetrics) -> [f64; 5] {
    [d.loss_real, d.loss_fake, d.accuracy_real, d.accuracy_fake, d.l2_term]
}

fn discriminator_from(n: &mut Numbers) -> Result<DiscriminatorMetrics, Unreadable> {
    Ok(DiscriminatorMetrics { loss_real: n.next()?, loss_fake: n.next()?, accuracy_real: n.next()?, accuracy_fake: n.next()?, l2_term: n.next()? })
}

pub fn eval_numbers(m: &EvalMetrics) -> Vec<f64> {
    vec![m.reconstruction, m.kl, m.rows as f64]
}

pub fn eval_from(numbers: &[f64]) -> Result<EvalMetrics, Unreadable> {
    let mut n = Numbers(numbers.iter());
    Ok(EvalMetrics { reconstruction: n.next()?, kl: n.next()?, rows: n.count()? })
}

pub fn held_out_numbers(m: &HeldOutMetrics) -> Vec<f64> {
    vec![m.loss_real, m.accuracy_real, m.rows as f64]
}

pub fn held_out_from(numbers: &[f64]) -> Result<HeldOutMetrics, Unreadable> {
    let mut n = Numbers(numbers.iter());
    Ok(HeldOutMetrics { loss_real: n.next()?, accuracy_real: n.next()?, rows: n.count()? })
}

/// Codes as (numbers: rows and width, floats: the means then the log-variances).
pub fn codes_message(codes: LatentCodes) -> (Vec<f64>, Vec<f32>) {
    let LatentCodes { rows, latent, mut mean, log_var } = codes;
    mean.extend(log_var);
    (vec![rows as f64, latent as f64], mean)
}

pub fn codes_from(numbers: &[f64], mut floats: Vec<f32>) -> Result<LatentCodes, Unreadable> {
    let mut n = Numbers(numbers.iter());
    let (rows, latent) = (n.count()?, n.count()?);
    if !floats.len().is_multiple_of(2) {
        return Err(Unreadable("codes of odd length"));
    }
    let log_var = floats.split_off(floats.len() / 2);
    Ok(LatentCodes { rows, latent, mean: floats, log_var })
}

/// A count read back (steps done).
pub fn counts_from(numbers: &[f64]) -> Result<Vec<u32>, Unreadable> {
    let mut n = Numbers(numbers.iter());
    (0..numbers.len()).map(|_| Ok(n.whole(f64::from(u32::MAX))? as u32)).collect()
}
