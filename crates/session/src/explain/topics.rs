//! The ⓘ panels' text: one per view (by what it shows for the model in use) and one per knob
//! (keyed by [`Knob::key`](crate::config::Knob::key)). Each says what the engine computes, not
//! what a textbook might: the module's tests hold the kernel marks to the shaders.

use super::Topic;

const fn topic(key: &'static str, title: &'static str, formula: &'static str, includes: &'static str, kernels: &'static [&'static str]) -> Topic {
    Topic { key, title, formula, includes, kernels }
}

pub const TOPICS: &[Topic] = &[
    // Views.
    topic(
        "loss",
        "Loss (VAE, VAE-GAN)",
        "total = reconstruction + β·KL + λ₂·Σw² + λ₁·Σ|w|  (VAE-GAN: + γ·G loss);  −ELBO = reconstruction + KL",
        "The solid lines are what the optimizer minimised, per example (means over the batch, then over the steps since the chart's previous point), in nats. The total line includes the weight penalty and β·KL; the penalty line is λ₂·Σw² + λ₁·Σ|w| over the weights (not the biases) of encoder and decoder; KL is unweighted (β is not in it); reconstruction is −log p(x|z) summed over the 784 pixels (Bernoulli) or ½·Σ(x − x̂)²/σ² over a point's two coordinates, at a sampled z, with dropout on. The dashed −ELBO lines never include a penalty or β: they are reconstruction + KL at β = 1, with dropout off and a fixed noise stream, measured at each evaluation on the held-out rows and on as many training rows, so their gap is overfitting and nothing else. VAE-GAN: D loss and G loss (right axis) are the discriminator's −log σ(D(x)) − log(1 − σ(D(x̂))) and the decoder's −log σ(D(x̂)), without γ.",
        &["reparam", "recon", "kl", "penalty", "gan-loss"],
    ),
    topic(
        "loss-gan",
        "Loss (GAN)",
        "D loss = −log σ(D(x)) − log(1 − σ(D(G(z))));  G loss = −log σ(D(G(z)));  D accuracy = share of held-out x with D(x) > 0",
        "D loss and G loss are means over the latest step's batch, in nats; neither includes the weight penalties λ_D·Σw² and λ_G·Σw², which the optimizer adds to the gradients only. G loss is the non-saturating form (G maximises log D rather than minimising log(1 − D)). D accuracy (held-out real) is measured at each evaluation on real points the discriminator never trained on: near 1 with G loss climbing means D wins; near 0.5 means it cannot tell.",
        &["gan-loss", "d-accuracy"],
    ),
    topic(
        "branches",
        "Branches",
        "fork: θ_B, m_B, v_B, t_B ← θ_A, m_A, v_A, t_A;  then each steps θ ← θ − η·Adam(∇L(θ; its own β, λ₂, λ₁, …))",
        "A fork copies everything one training step hands to the next: the weights, the optimizer's moments and step counter (so the branch sees the same batches and noise), the metric sums and the best checkpoint; on the GPU the copy is buffer to buffer, nothing read back. From then on each branch takes the same steps as the main run in every frame with its own knobs, so with the same knobs the two stay identical and any gap in the chart is the knob's doing. The chart's lines per branch are its training total (solid: what its optimizer minimised, with its own β and penalties) and its held-out −ELBO (dashed: β = 1, no penalty), which compare across branches; the cards' KL is the latest readout's, summed over dimensions.",
        &[],
    ),
    topic(
        "samples",
        "Samples",
        "x̂ = decoder(z) with z ~ N(0, I); sharpness = mean over neighbouring pixel pairs of (x̂ᵢ − x̂ⱼ)²",
        "Each picture is the decoder's mean σ(logits) at one code of a fixed set of prior draws: no pixel noise is added, and the codes do not change between refreshes, so what changes is the model. The sharpness readout is the gradient energy of these 32 pictures, worked out in Rust from the pixels read back; a plain VAE's blur keeps it low.",
        &["layer"],
    ),
    topic(
        "reconstructions",
        "Reconstructions",
        "x̂ = decoder(μ(x)), x from the held-out rows",
        "Each held-out input is encoded and decoded through its posterior mean μ(x), with no sampling and no dropout: the model's best guess, not a draw. The reconstruction term of the loss chart uses a sampled z instead, so these pictures look cleaner than that number suggests.",
        &["layer"],
    ),
    topic(
        "latent",
        "Latent space",
        "μ(x) = the first half of the encoder's output [μ | log σ²]",
        "Each dot is a held-out digit's posterior mean μ in the two latent dimensions whose μ varies most across the dots (collapsed dimensions barely vary), coloured by its label; σ is not drawn. A drawn digit shows as a ring with its one-σ ellipse.",
        &["layer"],
    ),
    topic(
        "draw",
        "Draw a digit",
        "q(z|x) = N(μ(x), σ²(x));  KL = Σ_d ½(μ_d² + σ_d² − 1 − log σ_d²)",
        "The drawing is fitted as MNIST fitted its digits (its ink into 20×20 pixels, centred by mass) and encoded like a held-out digit. μ and σ are the scatter's two dimensions; the KL is summed over all latent dimensions, and the ticks over the KL bars are its share per dimension, worked out in Rust from μ and log σ². The reconstruction decodes z = μ. Nearest held-out digits: a vote of the 15 held-out codes nearest μ over every latent dimension.",
        &["layer"],
    ),
    topic(
        "manifold",
        "Decoded latent grid",
        "x̂(u, v) = decoder(z) with z_a = u, z_b = v over ±2.5, every other z_d = 0",
        "The decoder's mean at a grid of codes in the two latent dimensions the scatter shows (those whose μ varies most), the others held at the prior's mean. Where the grid leaves the region the encoder uses, the pictures stop looking like digits.",
        &["layer"],
    ),
    topic(
        "interpolation",
        "Interpolation",
        "x̂(t) = decoder((1 − t)·μ(x₁) + t·μ(x₂)),  t from 0 to 1",
        "Straight-line steps between the posterior means of two held-out digits (click two dots in the latent scatter), each decoded to its mean picture.",
        &["layer"],
    ),
    topic(
        "kl-bars",
        "KL per latent dimension",
        "KL_d = mean over the batch of ½(μ_d² + σ_d² − 1 − log σ_d²)",
        "One bar per latent dimension: the unweighted KL of the training batch (β not applied), averaged over the steps since the last readout, in nats on a log scale; the bars sum to the loss chart's KL line. A bar near 0 is a collapsed dimension: its posterior is the prior, whatever the input.",
        &["kl"],
    ),
    topic(
        "weights",
        "Weights per layer",
        "histogram of every weight w of each layer's matrix (biases left out)",
        "Counted in Rust from the weights read back at each picture refresh; the grey outline is the starting weights, scaled to the same count. The share below each histogram is the weights with |w| < 10⁻³: L1 drives it up, L2 shrinks the spread without zeroing.",
        &[],
    ),
    topic(
        "plane",
        "Data and model (VAE)",
        "x̂ = decoder(z), z ~ N(0, I): the decoder's mean, no output noise",
        "Dark dots: the training points. Orange: the decoder's means at prior draws (the model's picture of the data without its σ² noise, so a good model still looks thinner than the data). High β pulls them toward one blob.",
        &["layer"],
    ),
    topic(
        "plane-gan",
        "Data and model (GAN)",
        "G(z), z ~ N(0, I);  background σ(D(x));  MMD² = E k(x, x′) + E k(y, y′) − 2 E k(x, y), Gaussian k at widths 0.1, 0.5 and 2",
        "Orange: the generator's points; the background: D's belief that a point is real. Modes covered counts the modes with at least 2% of the generated points within max(3 noise σ, 0.1) of them, each point counting for its nearest mode only. MMD² (unbiased, can dip just below 0) scores all generated points against the real ones. Both are worked out in Rust from the points read back.",
        &["layer", "gan-loss"],
    ),
    topic(
        "sweep",
        "Sweep and validation curve",
        "validation −ELBO(λ) = mean over folds k of −ELBO on fold k's held-out rows;  SE = sd / √K;  λ_1se = largest λ with mean ≤ min + SE(min)",
        "Every model of the sweep is an ordinary run from the same seed; only the knob and the rows it trains on differ. The −ELBO points never include the penalty or β (reconstruction + KL at β = 1, dropout off): that is what makes models with different λ comparable. With one fold the validation rows are the held-out split; with K folds, each model trains on K − 1 parts of the training set and is scored on the last, and the held-out split stays untouched until the chosen value is refitted.",
        &["recon", "kl"],
    ),
    topic(
        "sweep-gan",
        "Sweep (GAN)",
        "per model: modes covered and MMD² of its generated points against the real ones",
        "A GAN has no likelihood to validate, so each model of the sweep is scored as the plane scores the main run (modes within 3 noise σ holding 2% of the points; unbiased MMD² over Gaussian kernels of widths 0.1, 0.5 and 2), on one fold, when its training ends.",
        &["gan-loss"],
    ),
    // Knobs.
    topic(
        "beta",
        "KL weight β",
        "loss = reconstruction + β·KL;  ∂loss/∂μ_d = β·μ_d/B,  ∂loss/∂log σ_d² = β·½(σ_d² − 1)/B",
        "β scales the KL term's gradient and the total line, not the KL line or bars (they stay unweighted, so you can watch the KL fall as β rises). The −ELBO lines use β = 1 whatever the slider says: they are a bound on −log p(x) only then.",
        &["beta", "kl"],
    ),
    topic(
        "l2",
        "L2 strength λ₂",
        "penalty = λ₂·Σw²;  ∂/∂w = 2λ₂·w",
        "The penalty covers weights, not biases (a mask is 0 on biases). It is in the loss chart's penalty and total lines and never in the −ELBO lines, so held-out −ELBO shows whether it helps generalisation. VAE-GAN: the encoder's and decoder's weights only (D has λ_D).",
        &["penalty-grad", "penalty"],
    ),
    topic(
        "l1",
        "L1 strength λ₁",
        "penalty = λ₁·Σ|w|;  ∂/∂w = λ₁·sign(w)",
        "Weights only, not biases. In the penalty and total lines, never in the −ELBO lines. Its constant pull drives weights to exactly 0: the weight histograms' near-zero share rises.",
        &["penalty-grad", "penalty"],
    ),
    topic(
        "l2g",
        "Generator L2 λ_G",
        "G's gradient += 2λ_G·w over the generator's weights",
        "Added to the generator's gradients only; the chart's G loss leaves it out. Large λ_G shrinks G toward a constant map, and the modes covered fall.",
        &["penalty-grad"],
    ),
    topic(
        "l2d",
        "Discriminator L2 λ_D",
        "D's gradient += 2λ_D·w over the discriminator's weights",
        "Added to the discriminator's gradients only; the chart's D loss leaves it out. A smoother D steadies training; too large and D cannot tell real from generated.",
        &["penalty-grad"],
    ),
    topic(
        "dropout",
        "Dropout p",
        "y = f(xW + b)·m,  m = 1/(1 − p) with probability 1 − p, else 0 (each hidden unit, each step)",
        "Applied while training only, inside each hidden layer's matrix product, and to the backward pass with the same mask; evaluations, samples and reconstructions run with dropout off. The training loss lines therefore include its noise and the −ELBO lines do not.",
        &["dropout"],
    ),
    topic(
        "lr",
        "Learning rate η",
        "m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  w ← w − η·m̂/(√v̂ + ε),  m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)",
        "Adam with β₁ = 0.9 (0.5 for a GAN's networks and the VAE-GAN's D), β₂ = 0.999, ε = 10⁻⁸, over every weight and bias; the gradient g already holds the penalty terms. It changes no number on screen directly: watch the loss fall faster, or explode.",
        &["adam"],
    ),
    topic(
        "batch",
        "Batch size",
        "gradient = (1/B)·Σ over B rows of ∂loss/∂w",
        "B rows are gathered per step, walking through the training set in an order shuffled once (balanced over the digits) and wrapping around. Every loss is a mean over the batch, so its scale does not change with B, only its noise. Changing B rebuilds the model.",
        &["batch"],
    ),
    topic(
        "dsteps",
        "D steps per G step",
        "each round: k discriminator steps, then 1 generator step",
        "A schedule, not a kernel: the step is recorded k times over. The chart's D loss is the last of the k.",
        &[],
    ),
    topic(
        "gamma",
        "Adversarial weight γ",
        "decoder loss = reconstruction + β·KL + penalty + γ·(−log σ(D(x̂)))",
        "γ scales the adversarial term's gradient into the decoder and the total line; the chart's G loss is unweighted. γ = 0 is the plain VAE.",
        &["gan-grad"],
    ),
    topic(
        "activation",
        "Activation",
        "relu(x) = max(x, 0);  leaky relu = x or 0.2x;  tanh;  sigmoid σ(x) = 1/(1 + e⁻ˣ)",
        "Applied to every hidden layer, fused into the matrix product's epilogue with the bias; the backward pass uses the derivative written through the output y. The output layer has none: the loss works on logits (digits) or means (points).",
        &["activation", "layer"],
    ),
    topic(
        "early",
        "Early stopping",
        "stop when held-out −ELBO has not improved for 5 evaluations; restore the best weights",
        "Judged on the dashed held-out −ELBO line (no penalty, β = 1, dropout off), so a stronger regulariser is never stopped early for its larger total.",
        &["recon", "kl"],
    ),
];
