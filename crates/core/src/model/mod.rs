//! Model architectures shared by the CPU twin and the GPU engine: where every parameter lives in a
//! network's flat parameter vector, and the CPU (reference and fallback) training step.

pub mod gan;
pub mod latent_views;
pub mod layout;
pub mod mlp;
pub mod schedule;
pub mod vae;
pub mod vae_gan;

pub use gan::{DiscriminatorMetrics, GanArch, GanCpu, GanSpec, HeldOutMetrics};
pub use layout::{ParamLayout, ParamSlot, PARAM_ALIGN};
pub use mlp::{BackwardOptions, Dense, ForwardPass, Mlp, MlpDropout};
pub use schedule::{BetaWarmup, EarlyStopping, StopDecision};
pub use vae::{Likelihood, StepMetrics, VaeArch, VaeCpu, VaeSpec};
pub use vae_gan::{VaeGanArch, VaeGanCpu, VaeGanMetrics, VaeGanSpec};
