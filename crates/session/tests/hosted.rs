//! A hosted model (the page's CPU engine in its Web Worker) is the CPU twin, bit for bit: each
//! model family trains through a loopback transport (every call encoded as the page posts it,
//! decoded and acted on by `Served` as the worker does) beside the same run on the CPU engine, and
//! the histories (losses, both splits' scores, checkpoints), the pictures, the saved weights, a
//! fork with a changed knob, early stopping's restore and a rebuild from a checkpoint all agree. On
//! the GPU (lavapipe here) a host opened by the page's request trains as the GPU engine does beside
//! it, reports its buffers, and reports its device's loss as a loss.
//! The browser scenario `the_cpu_engine_trains_in_a_worker` checks the page's real worker.

use std::sync::{Arc, Mutex};

use latent_core::data::mnist::Mnist;
use latent_core::data::toy2d::Toy2d;
use latent_core::engine::ModelError;
use latent_session::config::{Dataset, EnginePref, LabConfig, ModelKind};
use latent_session::hosted::protocol::Request;
use latent_session::hosted::{Answer, Host, Message, Served, Transport};
use latent_session::run::{Cadence, ViewRequest};
use latent_session::{open_engine, Engine, Opened, Run, RunSpec, SessionError, Start};
use pollster::block_on;

const MNIST: &[u8] = include_bytes!("../../../www/assets/mnist-10k.bin");

/// The worker's side in this thread: each message acted on as it is sent.
struct Loopback(Mutex<Served>);

impl Loopback {
    fn act(&self, message: Message) -> Option<Message> {
        let mut served = self.0.lock().unwrap_or_else(|e| panic!("{e}"));
        if served.needs_mnist(&message) {
            served.load(Mnist::parse(MNIST).map_err(|e| e.to_string()));
        }
        block_on(served.handle(message))
    }
}

impl Transport for Loopback {
    fn post(&self, message: Message) {
        assert!(!Request::is_answered(&message));
        assert_eq!(self.act(message), None, "a write is not answered");
    }

    fn ask(&self, message: Message) -> Answer {
        let answer = self.act(message).ok_or_else(|| ModelError::Device("a read was not answered".into()));
        Box::pin(std::future::ready(answer))
    }
}

fn host() -> Host {
    Host::new(Arc::new(Loopback(Mutex::new(Served::default()))))
}

/// The page's CPU defaults for `model` on `dataset`, scoring both splits and keeping a checkpoint
/// after every chunk.
fn spec(model: ModelKind, dataset: Dataset) -> RunSpec {
    let mut config = LabConfig::defaults_for(model, dataset);
    config.shrink_for_cpu();
    let mut spec = config.run_spec();
    spec.options.evaluation = Cadence::Always;
    spec.options.checkpoints = Cadence::Always;
    spec
}

fn request() -> ViewRequest {
    ViewRequest {
        images: 8,
        points_2d: 64,
        scatter_points: Some(100),
        manifold_side: 4,
        interpolations: vec![(0, 1)],
        interpolation_steps: 4,
        histogram_bins: Some(10),
    }
}

/// Trains `spec` on `engine`: 20 steps, a fork whose β (or λ_D) changes, 2 × 10 more steps on
/// both; returns everything a page reads of the two runs.
fn trained(spec: &RunSpec, engine: Engine) -> Vec<String> {
    let mut run = Run::build(spec.clone(), engine, Some(MNIST), Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
    block_on(run.advance(20)).unwrap_or_else(|e| panic!("{e}"));
    let mut branch = run.fork(engine).unwrap_or_else(|e| panic!("forking: {e}"));
    let knobs = latent_core::Knobs { beta: 2.0, l2_d: Some(1e-2), ..spec.knobs };
    branch.set_knobs(&knobs).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = Vec::new();
    for run in [&mut run, &mut branch] {
        for _ in 0..2 {
            block_on(run.advance(10)).unwrap_or_else(|e| panic!("{e}"));
        }
        let views = block_on(run.views(&request())).unwrap_or_else(|e| panic!("{e}"));
        let file = block_on(run.export(String::new())).unwrap_or_else(|e| panic!("{e}"));
        seen.push(format!("{:?}\n{views:?}\n{:?}", run.history().points(), file.weights));
    }
    // A rebuild from the last checkpoint (a restore) trains on alike.
    let mut restored = Run::build(spec.clone(), engine, Some(MNIST), run.recovery()).unwrap_or_else(|e| panic!("{e}"));
    block_on(restored.advance(5)).unwrap_or_else(|e| panic!("{e}"));
    seen.push(format!("{:?}", restored.history().points()));
    seen
}

fn same_as_the_cpu_twin(model: ModelKind, dataset: Dataset) {
    let spec = spec(model, dataset);
    let host = host();
    let (hosted, cpu) = (trained(&spec, Engine::Hosted(&host)), trained(&spec, Engine::Cpu));
    for (place, (h, c)) in hosted.iter().zip(&cpu).enumerate() {
        assert!(h == c, "{model:?} on {dataset:?}: run {place} differs hosted and on the CPU twin:\n{h:.2000}\n---\n{c:.2000}");
    }
    let changed = &hosted[1];
    assert!(hosted[0] != *changed, "{model:?}: the branch's changed knob changed nothing");
}

#[test]
fn a_hosted_vae_trains_as_the_cpu_twin() {
    same_as_the_cpu_twin(ModelKind::Vae, Dataset::Mnist);
}

#[test]
fn a_hosted_vae_gan_trains_as_the_cpu_twin() {
    same_as_the_cpu_twin(ModelKind::VaeGan, Dataset::Toy(Toy2d::Ring8));
}

#[test]
fn a_hosted_gan_trains_as_the_cpu_twin() {
    same_as_the_cpu_twin(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8));
}

/// Early stopping's best parameters are kept and restored at the host.
#[test]
fn early_stopping_restores_the_best_at_the_host() {
    let mut spec = spec(ModelKind::Vae, Dataset::Toy(Toy2d::TwoMoons));
    spec.options.early_stopping = Some(latent_session::run::EarlyStop { patience: 1, min_delta: 1e9, restore_best: true });
    let host = host();
    let finish = |engine: Engine| {
        let mut run = Run::build(spec.clone(), engine, None, Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
        let mut events = Vec::new();
        for _ in 0..4 {
            events.push(block_on(run.advance(10)).unwrap_or_else(|e| panic!("{e}")).event);
        }
        let best = run.finish().unwrap_or_else(|e| panic!("{e}"));
        let weights = block_on(run.export(String::new())).unwrap_or_else(|e| panic!("{e}")).weights;
        (format!("{events:?}"), best, weights)
    };
    let (hosted, cpu) = (finish(Engine::Hosted(&host)), finish(Engine::Cpu));
    assert!(hosted.0.contains("EarlyStopped"), "{}", hosted.0);
    assert_eq!(hosted, cpu);
}

/// Every spec a page builds goes over exactly: a seed past 32 bits, drawn points, a
/// discriminator's widths, every knob.
#[test]
fn a_build_request_carries_its_spec_exactly() {
    let mut config = LabConfig::defaults_for(ModelKind::VaeGan, Dataset::Drawn);
    config.data.drawn = vec![[0.1234567, -1.0e-7], [1.75, 2.0 / 3.0]];
    config.data.noise = 0.0123;
    config.shape.seed = u64::MAX - 12_345;
    config.shape.discriminator_hidden = Some(vec![7, 5]);
    config.knobs.l2_g = Some(1.5e-5);
    config.knobs.lr_d = Some(3.3e-4);
    config.knobs.optimizer = latent_core::knobs::Optimizer::Sgd;
    let mut spec = config.run_spec();
    spec.options = latent_session::run::RunOptions { held_out_digits: 321, ..latent_session::run::RunOptions::interactive(false) };
    let request = Request::Build { id: 7, spec: Box::new(spec), weights: Some(vec![0.5, f32::MIN_POSITIVE]) };
    assert_eq!(Request::decode(request.encode()), Ok(request));
}

/// The host's own requests and answers go over exactly: every engine preference, the engines
/// opened (a reason's text too), the device's ledger and loss.
#[test]
fn the_host_requests_and_answers_go_over_exactly() {
    use latent_session::hosted::protocol::{device_from, device_message, opened_from, opened_message, DeviceStatus};
    for pref in EnginePref::ALL {
        assert_eq!(Request::decode(Request::Open { pref }.encode()), Ok(Request::Open { pref }));
    }
    for request in [Request::Device, Request::LoseDevice] {
        assert_eq!(Request::decode(request.encode()), Ok(request.clone()));
    }
    for opened in [
        Opened::Gpu { adapter: "an adapter (Vulkan, DiscreteGpu)".into(), software: false },
        Opened::Gpu { adapter: "swiftshader".into(), software: true },
        Opened::Cpu { reason: None },
        Opened::Cpu { reason: Some("WebGPU is not available in this browser".into()) },
    ] {
        assert_eq!(opened_from(opened_message(&opened)), Ok(opened.clone()));
    }
    let status = DeviceStatus { buffers: 123, bytes: (1 << 40) + 5, lost: Some("Destroyed: gone".into()) };
    assert_eq!(device_from(device_message(&status)), Ok(status));
}

/// A message the host cannot read is answered with the reason when it is a read, and refused at
/// the next read otherwise; a read of a model it does not hold says so.
#[test]
fn the_host_says_what_it_cannot_do() {
    let loopback = Loopback(Mutex::new(Served::default()));
    let garbage = Message { numbers: vec![14.0, 1.0], ..Message::default() };
    assert_eq!(loopback.act(garbage), None);
    let read = Request::Read { id: 3, read: latent_session::hosted::protocol::Read::Metrics }.encode();
    let answer = loopback.act(read.clone()).unwrap_or_else(|| panic!("a read is answered"));
    assert!(answer.text.contains("cannot read"), "{}", answer.text);
    let answer = loopback.act(read).unwrap_or_else(|| panic!("a read is answered"));
    assert!(answer.text.contains("no model 3"), "{}", answer.text);
}

/// The page's worker trains a chunk while the page waits for its next frame: the run submits the
/// steps at the end of one frame and concludes them at the start of the next. That is the run
/// advanced at once, point for point, scores and checkpoints included.
#[test]
fn steps_submitted_and_concluded_later_are_steps_advanced_at_once() {
    let spec = spec(ModelKind::Vae, Dataset::Toy(Toy2d::Ring8));
    let host = host();
    let build = || Run::build(spec.clone(), Engine::Hosted(&host), None, Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
    let (mut at_once, mut later) = (build(), build());
    for steps in [5, 10, 20] {
        block_on(at_once.advance(steps)).unwrap_or_else(|e| panic!("{e}"));
        let submitted = later.submit(steps).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(later.step(), at_once.step(), "submitted steps count at once");
        block_on(later.conclude_submitted(submitted, None)).unwrap_or_else(|e| panic!("{e}"));
    }
    assert_eq!(later.history().points(), at_once.history().points());
}

/// A host opened on the GPU (lavapipe here; `engine=webgpu` takes a software adapter) trains as
/// the GPU engine does beside it, its fork and restore too; its ledger counts the models' buffers,
/// and opening again drops them.
#[test]
fn a_host_on_the_gpu_trains_as_the_gpu_engine() {
    let host = host();
    let opened = block_on(host.open(EnginePref::WebGpu)).unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(opened, Opened::Gpu { .. }), "the host opened {opened:?}: install a Vulkan driver (lavapipe in CI)");
    let (kernels, _) = block_on(open_engine(EnginePref::WebGpu));
    let kernels = kernels.unwrap_or_else(|| panic!("no GPU beside the host"));
    for (model, dataset) in [(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8)), (ModelKind::Vae, Dataset::Toy(Toy2d::TwoMoons))] {
        let spec = spec(model, dataset);
        let (hosted, beside) = (trained(&spec, Engine::Hosted(&host)), trained(&spec, Engine::Gpu(&kernels)));
        for (place, (h, g)) in hosted.iter().zip(&beside).enumerate() {
            assert!(h == g, "{model:?}: run {place} differs hosted and beside:\n{h:.2000}\n---\n{g:.2000}");
        }
    }
    let run = Run::build(spec(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8)), Engine::Hosted(&host), None, Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
    let status = block_on(host.device()).unwrap_or_else(|e| panic!("{e}"));
    assert!(status.buffers > 0 && status.bytes > 0 && status.lost.is_none(), "{status:?}");
    block_on(host.open(EnginePref::Cpu)).unwrap_or_else(|e| panic!("{e}"));
    let status = block_on(host.device()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((status.buffers, status.bytes), (0, 0), "the CPU twin holds no GPU buffers");
    drop(run);
}

/// A host's GPU device destroyed (what the page's fault hook asks) is reported as lost, to the
/// run's next read and by the ledger, so the page rebuilds instead of pausing on an error.
#[test]
fn a_lost_device_at_the_host_is_reported_as_lost() {
    let host = host();
    block_on(host.open(EnginePref::WebGpu)).unwrap_or_else(|e| panic!("{e}"));
    let mut run = Run::build(spec(ModelKind::Gan, Dataset::Toy(Toy2d::Ring8)), Engine::Hosted(&host), None, Start::Fresh).unwrap_or_else(|e| panic!("{e}"));
    block_on(run.advance(5)).unwrap_or_else(|e| panic!("{e}"));
    host.lose_device();
    let error = block_on(run.advance(5)).map(|_| ()).unwrap_err();
    assert!(error.device_lost().is_some(), "not reported as a lost device: {error:?}");
    assert!(matches!(error, SessionError::Model(ModelError::DeviceLost(_))), "{error:?}");
    let status = block_on(host.device()).unwrap_or_else(|e| panic!("{e}"));
    assert!(status.lost.is_some(), "{status:?}");
}
