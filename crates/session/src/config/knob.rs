//! The sliders: each knob's range, scale (log scales keep 0 at their left end), label and the one
//! line with its formula that the page shows beside it. The URL parser clamps to the same ranges,
//! which lie within what `Knobs::validate` accepts (a test checks it), so a slider never offers a
//! value an engine refuses.

use latent_core::Knobs;

use super::{LabConfig, ModelKind, Shape};

/// How slider positions map to values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scale {
    /// `steps + 1` positions evenly from `min` to `max`.
    Linear { min: f32, max: f32, steps: u32 },
    /// Position 0 is 0 when `zero`; the others run geometrically from `min` to `max`.
    Log { min: f32, max: f32, steps: u32, zero: bool },
    /// Powers of two from `min` to `max`.
    PowersOfTwo { min: u32, max: u32 },
}

impl Scale {
    /// Smallest and largest value.
    pub fn bounds(self) -> (f32, f32) {
        match self {
            Scale::Linear { min, max, .. } => (min, max),
            Scale::Log { min, max, zero, .. } => (if zero { 0.0 } else { min }, max),
            Scale::PowersOfTwo { min, max } => (min as f32, max as f32),
        }
    }

    /// The slider's largest position (its smallest is 0).
    pub fn positions(self) -> u32 {
        match self {
            Scale::Linear { steps, .. } => steps,
            Scale::Log { steps, zero, .. } => steps + u32::from(zero),
            Scale::PowersOfTwo { min, max } => max.ilog2() - min.ilog2(),
        }
    }

    pub fn value_at(self, position: u32) -> f32 {
        let p = position.min(self.positions());
        match self {
            Scale::Linear { min, max, steps } => min + (max - min) * p as f32 / steps.max(1) as f32,
            Scale::Log { zero: true, .. } if p == 0 => 0.0,
            Scale::Log { min, max, steps, zero } => {
                let i = p - u32::from(zero);
                (min.ln() + (max.ln() - min.ln()) * i as f32 / steps.max(1) as f32).exp()
            }
            Scale::PowersOfTwo { min, .. } => (min << p) as f32,
        }
    }

    /// The position whose value is nearest `value` (on a log scale, nearest in ratio).
    pub fn position_of(self, value: f32) -> u32 {
        let distance = |p: u32| {
            let v = self.value_at(p);
            match self {
                Scale::Linear { .. } => (v - value).abs(),
                _ if v <= 0.0 || value <= 0.0 => {
                    if v == value {
                        0.0
                    } else {
                        f32::INFINITY
                    }
                }
                _ => (v.ln() - value.ln()).abs(),
            }
        };
        (0..=self.positions()).min_by(|&a, &b| distance(a).total_cmp(&distance(b))).unwrap_or(0)
    }
}

/// A control that acts on the running model without a rebuild (batch size excepted: it rebuilds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Knob {
    Beta,
    L2,
    /// The GAN's L2 on the generator alone.
    L2Generator,
    /// L2 on the discriminator alone (GAN and VAE-GAN).
    L2Discriminator,
    L1,
    Dropout,
    Lr,
    Batch,
    DSteps,
    Gamma,
}

impl Knob {
    /// In URL order: `l2` before `l2g` and `l2d`, so an old GAN link's `l2` is the shared value and
    /// the two specific keys override it.
    pub const ALL: [Knob; 10] =
        [Knob::Beta, Knob::L2, Knob::L2Generator, Knob::L2Discriminator, Knob::L1, Knob::Dropout, Knob::Lr, Knob::Batch, Knob::DSteps, Knob::Gamma];

    /// URL key and element id suffix; never change one, or shared links break.
    pub fn key(self) -> &'static str {
        match self {
            Knob::Beta => "beta",
            Knob::L2 => "l2",
            Knob::L2Generator => "l2g",
            Knob::L2Discriminator => "l2d",
            Knob::L1 => "l1",
            Knob::Dropout => "dropout",
            Knob::Lr => "lr",
            Knob::Batch => "batch",
            Knob::DSteps => "dsteps",
            Knob::Gamma => "gamma",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Knob::Beta => "KL weight β",
            Knob::L2 => "L2 strength λ₂",
            Knob::L2Generator => "Generator L2 λ_G",
            Knob::L2Discriminator => "Discriminator L2 λ_D",
            Knob::L1 => "L1 strength λ₁",
            Knob::Dropout => "Dropout p",
            Knob::Lr => "Learning rate η",
            Knob::Batch => "Batch size",
            Knob::DSteps => "D steps per G step",
            Knob::Gamma => "Adversarial weight γ",
        }
    }

    /// The knob's symbol, for marks on a chart ("β → 4").
    pub fn symbol(self) -> &'static str {
        match self {
            Knob::Beta => "β",
            Knob::L2 => "λ₂",
            Knob::L2Generator => "λ_G",
            Knob::L2Discriminator => "λ_D",
            Knob::L1 => "λ₁",
            Knob::Dropout => "dropout",
            Knob::Lr => "η",
            Knob::Batch => "batch",
            Knob::DSteps => "D steps",
            Knob::Gamma => "γ",
        }
    }

    /// One line: what the knob does to `model`, with its formula.
    pub fn explanation(self, model: ModelKind) -> &'static str {
        let vae_gan = model == ModelKind::VaeGan;
        match self {
            Knob::Beta => {
                "loss = reconstruction + β·KL(q(z|x) ‖ N(0, I)). High β pulls codes to the prior: blurrier samples, and unused dimensions collapse to KL 0."
            }
            Knob::L2 if vae_gan => "adds λ₂·Σw² over the encoder's and decoder's weights (D has its own λ_D): they decay toward 0, which fights overfitting.",
            Knob::L2 => "adds λ₂·Σw² to the loss: every weight decays toward 0, which fights overfitting.",
            Knob::L2Generator => {
                "adds λ_G·Σw² over the generator's weights only. Large λ_G shrinks G toward a constant map: every z lands on one point, and the modes covered fall to 1 or 0."
            }
            Knob::L2Discriminator if vae_gan => {
                "adds λ_D·Σw² over the discriminator's weights only: a smoother critic, so the decoder's adversarial push is steadier; too large and D cannot tell, and the samples are the plain VAE's again."
            }
            Knob::L2Discriminator => {
                "adds λ_D·Σw² over the discriminator's weights only: a smoother critic, which steadies training; too large and D cannot tell real from fake, so G learns nothing."
            }
            Knob::L1 => "adds λ₁·Σ|w|: pushes weights to exactly 0, making the network sparse.",
            Knob::Dropout => "while training, each hidden unit is zeroed with probability p (survivors scaled by 1/(1−p)).",
            Knob::Lr if vae_gan => {
                "Adam's step size for the encoder and decoder (on digits D keeps its own 3·10⁻⁴): w ← w − η·m̂/(√v̂ + ε). Too high and the loss explodes."
            }
            Knob::Lr => "Adam's step size: w ← w − η·m̂/(√v̂ + ε). Too high and the loss explodes.",
            Knob::Batch => "rows per step: gradients average over B rows. Changing it rebuilds the model.",
            Knob::DSteps => "the discriminator takes k steps for every generator step.",
            Knob::Gamma => {
                "decoder loss += γ·(−log D(G(z))): the decoder also tries to fool a discriminator, so samples lose the VAE's blur (their sharpness rises). γ = 0 is the plain VAE; too large gives speckle."
            }
        }
    }

    pub fn scale(self) -> Scale {
        match self {
            Knob::Beta => Scale::Log { min: 0.01, max: 100.0, steps: 40, zero: true },
            Knob::L2 | Knob::L2Generator | Knob::L2Discriminator => Scale::Log { min: 1e-5, max: 1e-1, steps: 40, zero: true },
            Knob::L1 => Scale::Log { min: 1e-6, max: 1e-2, steps: 40, zero: true },
            Knob::Dropout => Scale::Linear { min: 0.0, max: 0.9, steps: 18 },
            Knob::Lr => Scale::Log { min: 1e-4, max: 1e-1, steps: 30, zero: false },
            Knob::Batch => Scale::PowersOfTwo { min: 1, max: 512 },
            Knob::DSteps => Scale::Linear { min: 1.0, max: 10.0, steps: 9 },
            Knob::Gamma => Scale::Log { min: 0.01, max: 100.0, steps: 40, zero: true },
        }
    }

    /// Whether the knob means anything for `config`'s model.
    pub fn applies_to(self, config: &LabConfig) -> bool {
        self.applies_to_model(config.shape.model)
    }

    /// Whether the knob means anything for `model`.
    pub fn applies_to_model(self, model: ModelKind) -> bool {
        match self {
            Knob::Beta | Knob::L1 | Knob::Dropout => model.has_encoder(),
            Knob::DSteps => matches!(model, ModelKind::Gan),
            Knob::Gamma => matches!(model, ModelKind::VaeGan),
            // The GAN has no one network to regularise: λ_G and λ_D instead (an old link's `l2`
            // still sets both; see the URL parser).
            Knob::L2 => model.has_encoder(),
            Knob::L2Generator => matches!(model, ModelKind::Gan),
            Knob::L2Discriminator => model.has_discriminator(),
            Knob::Lr | Knob::Batch => true,
        }
    }

    /// The knob whose URL key is `key`.
    pub fn from_key(key: &str) -> Option<Knob> {
        Self::ALL.into_iter().find(|k| k.key() == key)
    }

    pub fn get(self, config: &LabConfig) -> f32 {
        self.get_from(&config.knobs, &config.shape)
    }

    /// The knob's value in a run's knobs and shape (a fork's, a sweep member's).
    pub fn get_from(self, knobs: &Knobs, shape: &Shape) -> f32 {
        match self {
            Knob::Beta => knobs.beta,
            Knob::L2 => knobs.l2,
            Knob::L2Generator => knobs.l2_generator(),
            Knob::L2Discriminator => knobs.l2_discriminator(),
            Knob::L1 => knobs.l1,
            Knob::Dropout => knobs.dropout,
            Knob::Lr => knobs.lr,
            Knob::Batch => shape.batch as f32,
            Knob::DSteps => knobs.d_steps as f32,
            Knob::Gamma => knobs.gamma,
        }
    }

    /// Sets the knob, clamped to its range (integers rounded).
    pub fn set(self, config: &mut LabConfig, value: f32) {
        self.set_on(&mut config.knobs, &mut config.shape, value);
    }

    /// Sets the knob in a run's knobs and shape (a sweep's members), clamped as [`set`](Self::set).
    pub fn set_on(self, knobs: &mut Knobs, shape: &mut Shape, value: f32) {
        let (lo, hi) = self.scale().bounds();
        let v = if value.is_nan() { lo } else { value.clamp(lo, hi) };
        match self {
            Knob::Beta => knobs.beta = v,
            Knob::L2 => knobs.l2 = v,
            Knob::L2Generator => knobs.l2_g = Some(v),
            Knob::L2Discriminator => knobs.l2_d = Some(v),
            Knob::L1 => knobs.l1 = v,
            Knob::Dropout => knobs.dropout = v,
            Knob::Lr => knobs.lr = v,
            Knob::Batch => shape.batch = self.scale().value_at(self.scale().position_of(v)) as usize,
            Knob::DSteps => knobs.d_steps = v.round() as u32,
            Knob::Gamma => knobs.gamma = v,
        }
    }

    /// The value as the page prints it: short, and exact for what the URL holds.
    pub fn format(self, value: f32) -> String {
        match self {
            Knob::Batch | Knob::DSteps => format!("{}", value.round() as i64),
            _ if value == 0.0 => "0".into(),
            _ if value.abs() < 1e-3 => format!("{value:.0e}"),
            _ => format!("{}", round_sig(value, 3)),
        }
    }
}

/// `value` rounded to `digits` significant digits (so a log slider shows 0.00316, not 0.0031622776).
pub fn round_sig(value: f32, digits: i32) -> f32 {
    if value == 0.0 || !value.is_finite() {
        return value;
    }
    let magnitude = 10f64.powi(digits - 1 - (value.abs() as f64).log10().floor() as i32);
    ((value as f64 * magnitude).round() / magnitude) as f32
}
