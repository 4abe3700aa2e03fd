//! A GPU sweep trains its members as one: [`BatchedVae`] (plain VAEs, or VAE-GANs with their
//! discriminators) and [`BatchedGan`] record steps whose dispatches each cover every member (their
//! knobs and folds their own), so K members cost about the dispatches of one. Each member's
//! [`Run`](crate::Run) still holds its own model, which scores it and draws its views: after every
//! advance the batched parameters go into it and the batched metrics into its history, so a member reads
//! exactly as if it had trained alone (the batched steps are bit for bit each member's own;
//! `batched_vae_matches_alone`, `batched_vae_gan_matches_alone` and `batched_gan_matches_alone`
//! check that).

use std::ops::Range;
use std::sync::Arc;

use latent_core::data::RunData;
use latent_core::engine::ModelError;
use latent_core::model::BetaWarmup;
use latent_core::rng::fold_seed;
use latent_core::Knobs;
use latent_gpu::{BatchedGan, BatchedGanMember, BatchedMember, BatchedVae, Kernels};

use super::{Member, SweepSpec};
use crate::config::ModelKind;
use crate::run::{discriminator_seed, in_warmup_chunks, RunEvent, TrainedElsewhere, WARMUP_LEVELS};
use crate::SessionError;

/// A batched step of one kind of model (boxed: each holds its schedules' dispatches inline).
enum Batched {
    Vae(Box<BatchedVae>),
    Gan(Box<BatchedGan>),
}

/// Members trained by one batched step.
struct Group {
    step: Batched,
    /// The sweep's members it trains, in order.
    members: Range<usize>,
    /// Steps (GAN: rounds) it has taken (a member that diverged stopped counting earlier).
    steps: u64,
}

/// A sweep's members, trained in as few batched steps as the device holds.
pub(super) struct BatchedMembers {
    groups: Vec<Group>,
    warmup: u32,
}

impl BatchedMembers {
    /// The batched steps of `members` (all of `spec`'s model, fresh, on `data`'s rows), or `None`
    /// where there are no members. All members in one step first; a device that cannot hold so
    /// many (a buffer past its limits, or out of memory) gets halves, down to single members.
    pub(super) fn build(kernels: &Kernels, spec: &SweepSpec, data: &Arc<RunData>, members: &[Member]) -> Result<Option<Self>, SessionError> {
        let base = &spec.base;
        if members.is_empty() {
            return Ok(None);
        }
        // The members start where `Run::build` starts them: the seed's weights.
        let (seed, setup) = (base.shape.seed, (base.shape.batch, fold_seed(base.shape.seed)));
        let knobs: Vec<Knobs> = members.iter().map(|m| m.run.spec().knobs).collect();
        let train = |i: usize| &members[i].run.data().train;
        let groups = match base.shape.model {
            ModelKind::Vae => {
                let arch = base.shape.vae_spec(base.data.dataset).build()?;
                let init = arch.layout.init(seed);
                in_groups(members.len(), |range| {
                    let batched: Vec<BatchedMember<'_>> = range.map(|i| BatchedMember { knobs: &knobs[i], init: &init, train: train(i) }).collect();
                    BatchedVae::new(kernels, data, arch.clone(), setup, &batched).map(|vae| Batched::Vae(Box::new(vae)))
                })?
            }
            ModelKind::Gan => {
                let arch = base.shape.gan_spec(base.data.dataset).build()?;
                let (g_init, d_init) = (arch.g_layout.init(seed), arch.d_layout.init(discriminator_seed(seed)));
                in_groups(members.len(), |range| {
                    let batched: Vec<BatchedGanMember<'_>> =
                        range.map(|i| BatchedGanMember { knobs: &knobs[i], g_init: &g_init, d_init: &d_init, train: train(i) }).collect();
                    BatchedGan::new(kernels, data, arch.clone(), setup, &batched).map(|gan| Batched::Gan(Box::new(gan)))
                })?
            }
            ModelKind::VaeGan => {
                let arch = base.shape.vae_gan_spec(base.data.dataset).build()?;
                let (init, d_init) = (arch.vae.layout.init(seed), arch.d_layout.init(discriminator_seed(seed)));
                in_groups(members.len(), |range| {
                    let d_inits = vec![&d_init[..]; range.len()];
                    let batched: Vec<BatchedMember<'_>> = range.map(|i| BatchedMember { knobs: &knobs[i], init: &init, train: train(i) }).collect();
                    BatchedVae::with_discriminator(kernels, data, arch.clone(), setup, &batched, &d_inits).map(|vae| Batched::Vae(Box::new(vae)))
                })?
            }
        };
        let groups = groups.into_iter().map(|(step, members)| Group { step, members, steps: 0 }).collect();
        Ok(Some(Self { groups, warmup: base.options.beta_warmup }))
    }

    /// Models per batched step.
    pub(super) fn group_sizes(&self) -> Vec<usize> {
        self.groups.iter().map(|g| g.members.len()).collect()
    }

    /// `steps` more steps (GAN: rounds) of every member (a VAE's through β's warm-up, each member
    /// ramping to its own β), then each member still training takes its parameters and metrics
    /// and decides as a run does; one that diverged is marked where it stopped (the batched step
    /// carries it along; its values reach no other member).
    pub(super) async fn advance(&mut self, members: &mut [Member], steps: usize) -> Result<(), SessionError> {
        for group in &mut self.groups {
            let own = &mut members[group.members.clone()];
            match &mut group.step {
                Batched::Vae(vae) => {
                    let betas = train_vaes(vae, own, (group.steps, steps), self.warmup)?;
                    let (metrics, parameters) = (vae.member_vae_gan_metrics().await?, vae.member_parameters().await?);
                    let discriminators = vae.member_discriminator_parameters().await?;
                    for (z, metrics) in metrics.into_iter().enumerate() {
                        let trained = TrainedElsewhere::Vae { beta: betas[z], metrics, parameters: &parameters[z], discriminator: &discriminators[z] };
                        conclude_member(&mut own[z], steps, trained).await?;
                    }
                }
                Batched::Gan(gan) => {
                    gan.train(steps)?;
                    let (metrics, parameters) = (gan.member_metrics().await?, gan.member_parameters().await?);
                    for (z, (metrics, (generator, discriminator))) in metrics.into_iter().zip(&parameters).enumerate() {
                        conclude_member(&mut own[z], steps, TrainedElsewhere::Gan { metrics, generator, discriminator }).await?;
                    }
                }
            }
            group.steps += steps as u64;
        }
        Ok(())
    }
}

/// `steps` steps of a group of VAEs from step `at`, cut where β's warm-up changes β, each member
/// ramping to its own β. Returns the β each member trained its last steps with.
fn train_vaes(vae: &mut BatchedVae, own: &[Member], (at, steps): (u64, usize), warmup: u32) -> Result<Vec<f32>, ModelError> {
    let mut betas: Vec<f32> = own.iter().map(|m| m.run.spec().knobs.beta).collect();
    in_warmup_chunks(warmup, at, steps, |start, n| {
        if warmup > 0 {
            for (z, member) in own.iter().enumerate() {
                let knobs = member.run.spec().knobs;
                betas[z] = BetaWarmup { target: knobs.beta, steps: warmup }.beta_for_chunk(start, WARMUP_LEVELS);
                vae.set_member_knobs(z, &Knobs { beta: betas[z], ..knobs })?;
            }
        }
        vae.train(n)
    })?;
    Ok(betas)
}

/// A member's steps trained in the batched step, concluded in its own run unless it diverged
/// earlier; one that diverges now is marked where it stopped.
async fn conclude_member(member: &mut Member, steps: usize, trained: TrainedElsewhere<'_>) -> Result<(), SessionError> {
    if member.diverged_at.is_some() {
        return Ok(());
    }
    let progress = member.run.conclude_trained_elsewhere(steps, trained).await?;
    if progress.event == Some(RunEvent::Diverged) {
        member.diverged_at = Some(member.run.step());
    }
    Ok(())
}

/// `count` members built by `build` in as few groups as it manages: all at once first; where it
/// fails with a device's error (a buffer past the device's limits, memory), groups of half that
/// size, down to single members. Any other error is the members' own and is returned.
fn in_groups<G>(count: usize, mut build: impl FnMut(Range<usize>) -> Result<G, ModelError>) -> Result<Vec<(G, Range<usize>)>, ModelError> {
    let (mut groups, mut first, mut size) = (Vec::new(), 0, count);
    while first < count {
        let range = first..(first + size).min(count);
        match build(range.clone()) {
            Ok(group) => {
                first = range.end;
                groups.push((group, range));
            }
            Err(ModelError::Device(_)) if size > 1 => size = size.div_ceil(2),
            Err(e) => return Err(e),
        }
    }
    Ok(groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device that holds at most three members: ten go in groups of three (10 → 5 → 3) and a
    /// last one; an error of the members' own is returned at once, and one member too many for
    /// the device is the device's error.
    #[test]
    fn members_go_in_the_largest_groups_the_device_holds() {
        let device = |most: usize| {
            move |range: Range<usize>| if range.len() <= most { Ok(range.len()) } else { Err(ModelError::Device(format!("{} members", range.len()))) }
        };
        let groups = in_groups(10, device(3)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(groups.iter().map(|(_, r)| r.clone()).collect::<Vec<_>>(), [0..3, 3..6, 6..9, 9..10]);
        assert_eq!(in_groups(4, device(4)).map(|g| g.len()), Ok(1));
        let mut tries = 0;
        let refused = in_groups(4, |_| -> Result<usize, _> {
            tries += 1;
            Err(ModelError::StateMismatch("shape".into()))
        });
        assert!(matches!(refused, Err(ModelError::StateMismatch(_))) && tries == 1, "{refused:?}");
        assert!(matches!(in_groups(2, device(0)), Err(ModelError::Device(m)) if m == "1 members"));
    }
}
