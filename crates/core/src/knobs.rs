//! The knobs: every setting that acts on a running model without a rebuild, as one value that the
//! URL, the command line (`clap` flattens it, behind the `clap` feature), run files and both engines
//! take, and the one place it is validated ([`Knobs::validate`]).
//!
//! A knob reaches a kernel unrenamed: the engines read these fields (or the few derived values
//! below, such as the GAN's Adam settings) when they record a step and when they rewrite it.

use crate::ops::optimizer::{AdamConfig, SgdConfig};

/// Adam's β₁ for the GAN's networks and every discriminator: the usual 0.5, which damps the
/// oscillation of two players chasing each other.
pub const ADVERSARIAL_BETA1: f32 = 0.5;

/// Which optimizer updates the VAE's encoder and decoder (the GAN's networks always use Adam).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Optimizer {
    #[default]
    Adam,
    /// SGD with (heavy-ball) momentum.
    Sgd,
}

impl Optimizer {
    pub fn name(self) -> &'static str {
        match self {
            Self::Adam => "adam",
            Self::Sgd => "sgd",
        }
    }
}

/// Every knob of a run. A model ignores the ones that are not its own (the VAE has no γ, the GAN
/// no β); `None` in the `_g`/`_d` fields means "the shared value".
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct Knobs {
    /// KL weight β (VAE, VAE-GAN).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1.0))]
    pub beta: f32,
    /// L2 penalty λ₂ on the weights (biases are never penalised); also the GAN's λ_G and every
    /// discriminator's λ_D unless --l2-g / --l2-d set them.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub l2: f32,
    /// L1 penalty λ₁ on the weights (VAE, VAE-GAN).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub l1: f32,
    /// Dropout probability on every hidden layer while training (VAE, VAE-GAN).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.0))]
    pub dropout: f32,
    /// Learning rate η (the GAN's generator, and every discriminator unless --lr-d).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1e-3))]
    pub lr: f32,
    /// The encoder's and decoder's optimizer (VAE, VAE-GAN).
    #[cfg_attr(feature = "clap", arg(long, value_enum, default_value = "adam"))]
    pub optimizer: Optimizer,
    /// SGD's momentum μ (0 = plain SGD).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 0.9))]
    pub momentum: f32,
    /// Weight γ of the adversarial loss on the decoder (VAE-GAN; 0 is exactly the VAE). At 3 the
    /// samples are clearly sharper than the VAE's within a few hundred steps; at 10 they speckle.
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 3.0))]
    pub gamma: f32,
    /// L2 penalty λ_G on the generator's weights (GAN; default: --l2).
    #[cfg_attr(feature = "clap", arg(long))]
    pub l2_g: Option<f32>,
    /// L2 penalty λ_D on the discriminator's weights (GAN, VAE-GAN; default: --l2).
    #[cfg_attr(feature = "clap", arg(long))]
    pub l2_d: Option<f32>,
    /// The discriminator's learning rate (GAN, VAE-GAN; default: --lr).
    #[cfg_attr(feature = "clap", arg(long))]
    pub lr_d: Option<f32>,
    /// Discriminator steps per generator step (GAN).
    #[cfg_attr(feature = "clap", arg(long, default_value_t = 1))]
    pub d_steps: u32,
}

impl Default for Knobs {
    fn default() -> Self {
        Self {
            beta: 1.0,
            l2: 0.0,
            l1: 0.0,
            dropout: 0.0,
            lr: 1e-3,
            optimizer: Optimizer::Adam,
            momentum: 0.9,
            gamma: 3.0,
            l2_g: None,
            l2_d: None,
            lr_d: None,
            d_steps: 1,
        }
    }
}

/// The range a knob must lie in: what the engines accept. (The page's sliders cover a part of it.)
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KnobRange {
    pub min: f32,
    pub max: f32,
    /// Whether `min` itself is excluded (a learning rate of 0 learns nothing).
    pub min_open: bool,
    /// Whether `max` itself is excluded (momentum 1 never forgets).
    pub max_open: bool,
}

impl KnobRange {
    const fn closed(min: f32, max: f32) -> Self {
        Self { min, max, min_open: false, max_open: false }
    }

    pub fn contains(self, value: f32) -> bool {
        let above = if self.min_open { value > self.min } else { value >= self.min };
        let below = if self.max_open { value < self.max } else { value <= self.max };
        above && below
    }
}

impl std::fmt::Display for KnobRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = if self.min_open { '(' } else { '[' };
        let close = if self.max_open { ')' } else { ']' };
        write!(f, "{open}{}, {}{close}", self.min, self.max)
    }
}

/// Largest KL weight β.
pub const MAX_BETA: f32 = 1000.0;
/// Largest L1 or L2 strength.
pub const MAX_PENALTY: f32 = 100.0;
/// Highest dropout probability: at p → 1 the keep scale 1/(1 − p) explodes.
pub const MAX_DROPOUT: f32 = 0.9;
/// Largest adversarial weight γ.
pub const MAX_GAMMA: f32 = 1000.0;
/// Most discriminator steps per generator step.
pub const MAX_D_STEPS: u32 = 100;

/// Each knob's range, by the name the command line gives it (`--l2-g`) and errors quote.
pub const BETA: KnobRange = KnobRange::closed(0.0, MAX_BETA);
pub const PENALTY: KnobRange = KnobRange::closed(0.0, MAX_PENALTY);
pub const DROPOUT: KnobRange = KnobRange::closed(0.0, MAX_DROPOUT);
pub const LEARNING_RATE: KnobRange = KnobRange { min: 0.0, max: 1.0, min_open: true, max_open: false };
pub const MOMENTUM: KnobRange = KnobRange { min: 0.0, max: 1.0, min_open: false, max_open: true };
pub const GAMMA: KnobRange = KnobRange::closed(0.0, MAX_GAMMA);
pub const D_STEPS: KnobRange = KnobRange::closed(1.0, MAX_D_STEPS as f32);

/// A knob outside its range; `name` is the knob's command-line name (`l2-g`).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
#[error("{name} must be in {range}, got {value}")]
pub struct KnobError {
    pub name: &'static str,
    pub range: KnobRange,
    pub value: f32,
}

impl Knobs {
    /// Every knob with its name and range (`None`: an optional one left unset).
    fn ranged(&self) -> [(&'static str, Option<f32>, KnobRange); 11] {
        [
            ("beta", Some(self.beta), BETA),
            ("l2", Some(self.l2), PENALTY),
            ("l1", Some(self.l1), PENALTY),
            ("dropout", Some(self.dropout), DROPOUT),
            ("lr", Some(self.lr), LEARNING_RATE),
            ("momentum", Some(self.momentum), MOMENTUM),
            ("gamma", Some(self.gamma), GAMMA),
            ("d-steps", Some(self.d_steps as f32), D_STEPS),
            ("l2-g", self.l2_g, PENALTY),
            ("l2-d", self.l2_d, PENALTY),
            ("lr-d", self.lr_d, LEARNING_RATE),
        ]
    }

    /// The one validation every path shares: the command line, run files, the URL (after it
    /// clamps to its sliders) and both engines at build and at every knob change. NaN is outside
    /// every range.
    pub fn validate(&self) -> Result<(), KnobError> {
        for (name, value, range) in self.ranged() {
            if let Some(value) = value.filter(|v| !range.contains(*v)) {
                return Err(KnobError { name, range, value });
            }
        }
        Ok(())
    }

    /// The two updates a VAE step runs, Adam then SGD: the chosen one with its settings, the other
    /// at learning rate 0. So switching optimizers mid-run is a knob change, not a rebuild, and
    /// Adam's moments (or SGD's velocity, at momentum 0) keep tracking the gradients meanwhile.
    pub fn updates(&self) -> (AdamConfig, SgdConfig) {
        match self.optimizer {
            Optimizer::Adam => (AdamConfig { lr: self.lr, ..AdamConfig::default() }, SgdConfig { lr: 0.0, momentum: 0.0 }),
            Optimizer::Sgd => (AdamConfig { lr: 0.0, ..AdamConfig::default() }, SgdConfig { lr: self.lr, momentum: self.momentum }),
        }
    }

    /// λ_G: the generator's L2 strength.
    pub fn l2_generator(&self) -> f32 {
        self.l2_g.unwrap_or(self.l2)
    }

    /// λ_D: every discriminator's L2 strength.
    pub fn l2_discriminator(&self) -> f32 {
        self.l2_d.unwrap_or(self.l2)
    }

    /// The GAN generator's Adam.
    pub fn adam_generator(&self) -> AdamConfig {
        AdamConfig { lr: self.lr, beta1: ADVERSARIAL_BETA1, ..AdamConfig::default() }
    }

    /// Every discriminator's Adam.
    pub fn adam_discriminator(&self) -> AdamConfig {
        AdamConfig { lr: self.lr_d.unwrap_or(self.lr), beta1: ADVERSARIAL_BETA1, ..AdamConfig::default() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_every_bad_value_names_its_knob() {
        assert_eq!(Knobs::default().validate(), Ok(()));
        let bad: [(&str, Knobs); 10] = [
            ("beta", Knobs { beta: f32::NAN, ..Knobs::default() }),
            ("l2", Knobs { l2: -1.0, ..Knobs::default() }),
            ("l1", Knobs { l1: f32::INFINITY, ..Knobs::default() }),
            ("dropout", Knobs { dropout: 2.0, ..Knobs::default() }),
            ("lr", Knobs { lr: 0.0, ..Knobs::default() }),
            ("momentum", Knobs { momentum: 1.0, ..Knobs::default() }),
            ("gamma", Knobs { gamma: -0.5, ..Knobs::default() }),
            ("d-steps", Knobs { d_steps: 0, ..Knobs::default() }),
            ("l2-d", Knobs { l2_d: Some(f32::NAN), ..Knobs::default() }),
            ("lr-d", Knobs { lr_d: Some(5.0), ..Knobs::default() }),
        ];
        for (name, knobs) in bad {
            let error = knobs.validate().expect_err(name);
            assert_eq!(error.name, name);
            assert!(error.to_string().starts_with(&format!("{name} must be in")), "{error}");
        }
    }

    #[test]
    fn shared_values_fill_the_optional_ones() {
        let knobs = Knobs { l2: 0.01, lr: 0.002, ..Knobs::default() };
        assert_eq!((knobs.l2_generator(), knobs.l2_discriminator()), (0.01, 0.01));
        assert_eq!(knobs.adam_discriminator().lr, 0.002);
        let split = Knobs { l2_g: Some(0.5), l2_d: Some(0.0), lr_d: Some(0.1), ..knobs };
        assert_eq!((split.l2_generator(), split.l2_discriminator(), split.adam_discriminator().lr), (0.5, 0.0, 0.1));
        assert_eq!(split.adam_generator().beta1, ADVERSARIAL_BETA1);
    }

    #[test]
    fn the_inactive_optimizer_runs_at_learning_rate_zero() {
        let adam = Knobs { lr: 0.01, ..Knobs::default() };
        assert_eq!((adam.updates().0.lr, adam.updates().1.lr), (0.01, 0.0));
        let sgd = Knobs { optimizer: Optimizer::Sgd, momentum: 0.5, ..adam };
        assert_eq!((sgd.updates().0.lr, sgd.updates().1), (0.0, SgdConfig { lr: 0.01, momentum: 0.5 }));
    }
}
