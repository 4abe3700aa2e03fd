//! A GPU sweep of plain VAEs trains its members as one: [`BatchedVae`] records one step whose
//! dispatches each cover every member (their knobs and folds their own), so K members cost about
//! the dispatches of one. Each member's [`Run`](crate::Run) still holds its own model, which
//! scores it and draws its views: after every advance the batched parameters go into it and the
//! batched metrics into its history, so a member reads exactly as if it had trained alone (the
//! batched step is bit for bit each member's own; `batched_vae_matches_alone` checks that).

use std::ops::Range;
use std::sync::Arc;

use latent_core::data::RunData;
use latent_core::engine::ModelError;
use latent_core::model::BetaWarmup;
use latent_core::rng::fold_seed;
use latent_core::Knobs;
use latent_gpu::{BatchedMember, BatchedVae, Kernels};

use super::{Member, SweepSpec};
use crate::config::ModelKind;
use crate::run::{in_warmup_chunks, RunEvent, WARMUP_LEVELS};
use crate::SessionError;

/// Members trained by one batched step.
struct Group {
    vae: BatchedVae,
    /// The sweep's members it trains, in order.
    members: Range<usize>,
    /// Steps it has taken (a member that diverged stopped counting earlier).
    steps: u64,
}

/// A sweep's members, trained in as few batched steps as the device holds.
pub(super) struct BatchedMembers {
    groups: Vec<Group>,
    warmup: u32,
}

impl BatchedMembers {
    /// The batched steps of `members` (all of `spec`'s model, fresh, on `data`'s rows), or `None`
    /// where the sweep's models have no batched step (the VAE-GAN and the GAN train apart). All
    /// members in one step first; a device that cannot hold so many (a buffer past its limits, or
    /// out of memory) gets halves, down to single members.
    pub(super) fn build(kernels: &Kernels, spec: &SweepSpec, data: &Arc<RunData>, members: &[Member]) -> Result<Option<Self>, SessionError> {
        let base = &spec.base;
        if base.shape.model != ModelKind::Vae || members.is_empty() {
            return Ok(None);
        }
        // The members start where `Run::build` starts them: the seed's weights.
        let arch = base.shape.vae_spec(base.data.dataset).build()?;
        let init = arch.layout.init(base.shape.seed);
        let setup = (base.shape.batch, fold_seed(base.shape.seed));
        let knobs: Vec<Knobs> = members.iter().map(|m| m.run.spec().knobs).collect();
        let groups = in_groups(members.len(), |range| {
            let batched: Vec<BatchedMember<'_>> = range.map(|i| BatchedMember { knobs: &knobs[i], init: &init, train: &members[i].run.data().train }).collect();
            BatchedVae::new(kernels, data, arch.clone(), setup, &batched)
        })?;
        let groups = groups.into_iter().map(|(vae, members)| Group { vae, members, steps: 0 }).collect();
        Ok(Some(Self { groups, warmup: base.options.beta_warmup }))
    }

    /// Models per batched step.
    pub(super) fn group_sizes(&self) -> Vec<usize> {
        self.groups.iter().map(|g| g.members.len()).collect()
    }

    /// `steps` more steps of every member (through β's warm-up, each member ramping to its own
    /// β), then each member still training takes its parameters and metrics and decides as a run
    /// does; one that diverged is marked where it stopped (the batched step carries it along; its
    /// values reach no other member).
    pub(super) async fn advance(&mut self, members: &mut [Member], steps: usize) -> Result<(), SessionError> {
        for group in &mut self.groups {
            let own = &mut members[group.members.clone()];
            let at = group.steps;
            let mut betas: Vec<f32> = own.iter().map(|m| m.run.spec().knobs.beta).collect();
            let (vae, warmup) = (&mut group.vae, self.warmup);
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
            let (metrics, parameters) = (group.vae.member_metrics().await?, group.vae.member_parameters().await?);
            group.steps += steps as u64;
            for (z, (member, metrics)) in own.iter_mut().zip(metrics).enumerate() {
                if member.diverged_at.is_some() {
                    continue;
                }
                let progress = member.run.conclude_trained_elsewhere(steps, betas[z], metrics, &parameters[z]).await?;
                if progress.event == Some(RunEvent::Diverged) {
                    member.diverged_at = Some(member.run.step());
                }
            }
        }
        Ok(())
    }
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
