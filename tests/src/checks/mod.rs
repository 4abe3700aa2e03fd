//! The kernel checks. Each compares a kernel with the f64 CPU reference of `latent-core` under a
//! stated [`Tolerance`](crate::harness::Tolerance), and each backward kernel also with central
//! finite differences of the CPU forward.

mod batched;
mod chains;
mod churn;
mod errors;
mod faults;
mod forks;
mod losses;
mod matmul;
mod models;
mod pointwise;
mod scoring;
mod training;
mod updates;
mod vae;
mod vae_gan;
mod vae_views;

pub use batched::{batched_gan_matches_alone, batched_vae_gan_matches_alone, batched_vae_matches_alone};
pub use chains::{chain_encoder_reparam_kl, chain_linear_activation_loss, determinism};
pub use churn::{gan_views_hold_no_gradients, model_churn_leaves_nothing};
pub use errors::{errors_are_values, kernels_compile, subgroups_are_used_where_offered};
pub use faults::{device_loss_is_reported, no_adapter_is_an_error};
pub use forks::{forks_carry_the_whole_training_state, gan_forks_carry_the_whole_training_state};
pub use losses::{loss_bce, loss_gan, loss_gaussian, losses_of_models_match_alone};
pub use matmul::{matmul_epilogues, matmul_fused_dropout, matmul_models_match_alone, matmul_shapes};
pub use models::{gan_matches_cpu_twin, model_outlives_its_kernels, vae_matches_cpu_twin, vae_step_dispatch_count};
pub use pointwise::{activations, reductions, reductions_of_models_match_alone};
pub use scoring::scoring_models_read_as_trained;
pub use training::{gather, gather_of_models_match_alone, optimizers, penalties};
pub use updates::updates_of_models_match_alone;
pub use vae::{dropout, kl, kl_of_models_match_alone, reparam, reparam_of_models_match_alone};
pub use vae_gan::{vae_gan_at_gamma_zero_is_the_vae, vae_gan_matches_cpu_twin};
pub use vae_views::vae_views_match_cpu_twin;

/// Calls `$m!(name, name, ...)` with every check, so each test binary lists all of them without
/// repeating the list (a new check runs natively and in the browser at once).
#[macro_export]
macro_rules! for_each_check {
    ($m:ident) => {
        $m!(
            kernels_compile,
            subgroups_are_used_where_offered,
            matmul_shapes,
            matmul_epilogues,
            matmul_fused_dropout,
            matmul_models_match_alone,
            activations,
            reductions,
            reductions_of_models_match_alone,
            loss_bce,
            loss_gaussian,
            loss_gan,
            losses_of_models_match_alone,
            kl,
            kl_of_models_match_alone,
            reparam,
            reparam_of_models_match_alone,
            dropout,
            penalties,
            optimizers,
            updates_of_models_match_alone,
            gather,
            gather_of_models_match_alone,
            chain_linear_activation_loss,
            chain_encoder_reparam_kl,
            determinism,
            errors_are_values,
            no_adapter_is_an_error,
            device_loss_is_reported,
            vae_matches_cpu_twin,
            vae_step_dispatch_count,
            batched_vae_matches_alone,
            batched_gan_matches_alone,
            batched_vae_gan_matches_alone,
            gan_matches_cpu_twin,
            vae_views_match_cpu_twin,
            vae_gan_matches_cpu_twin,
            vae_gan_at_gamma_zero_is_the_vae,
            model_outlives_its_kernels,
            model_churn_leaves_nothing,
            gan_views_hold_no_gradients,
            scoring_models_read_as_trained,
            forks_carry_the_whole_training_state,
            gan_forks_carry_the_whole_training_state
        );
    };
}
