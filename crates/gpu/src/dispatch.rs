//! Recorded work: a [`Dispatch`] is everything one kernel launch needs, made once; a [`Schedule`]
//! is a fixed list of them that a training step replays by recording commands only. A dispatch
//! whose parameter block carries a knob is pushed as a [`Tuned`] handle, through which the block is
//! rewritten later ([`Schedule::retune`], or [`Schedule::retune_model`] for one model of a batched
//! dispatch) with the checks it was built with.

use std::any::TypeId;
use std::marker::PhantomData;
use std::ops::Range;
use std::sync::{Mutex, PoisonError};

use crate::context::GpuContext;
use crate::error::GpuError;
use crate::params::Uniform;
use crate::tensor::GpuTensor;

/// WebGPU's per-dimension workgroup-count limit.
pub const MAX_WORKGROUPS_PER_DIM: u32 = 65_535;
/// Width of the 1D element-wise kernels (`shaders/lib/indexing.wgsl`).
pub const LINEAR_WORKGROUP: u32 = 256;

/// Workgroup counts covering `len` elements with 256-wide workgroups, spread over x and y the way
/// `flat_index` in `shaders/lib/indexing.wgsl` reads them back.
pub fn linear_workgroups(len: usize) -> [u32; 3] {
    let groups = (len as u64).div_ceil(u64::from(LINEAR_WORKGROUP)).max(1);
    if groups <= u64::from(MAX_WORKGROUPS_PER_DIM) {
        [groups as u32, 1, 1]
    } else {
        let y = groups.div_ceil(u64::from(MAX_WORKGROUPS_PER_DIM));
        let x = groups.div_ceil(y);
        [x as u32, y as u32, 1]
    }
}

/// ceil(n / d) as a workgroup count.
pub fn groups_for(n: usize, per_group: usize) -> u32 {
    n.div_ceil(per_group).max(1) as u32
}

/// One kernel launch, fully prepared: replaying it allocates nothing.
#[derive(Debug)]
pub struct Dispatch {
    pub(crate) label: String,
    pub(crate) pipeline: wgpu::ComputePipeline,
    pub(crate) bind_group: wgpu::BindGroup,
    pub(crate) workgroups: [u32; 3],
    /// The parameter blocks (a uniform block, or a storage array of one block per model), so a
    /// knob change is one small write rather than a rebuild.
    pub(crate) params: wgpu::Buffer,
    /// What the parameter blocks hold now (one, or one per model), for read-modify-write knob
    /// changes, and their type.
    pub(crate) params_bytes: Mutex<Vec<u8>>,
    pub(crate) params_type: TypeId,
    pub(crate) _ledger: crate::tensor::LedgerEntry,
}

impl Drop for Dispatch {
    fn drop(&mut self) {
        self.params.destroy();
    }
}

impl Dispatch {
    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn workgroups(&self) -> [u32; 3] {
        self.workgroups
    }

    /// Rewrites parameter blocks (between steps, e.g. when a slider moves): `change` edits a copy
    /// of each chosen block (`models`: those models', `None`: every model's), and every edited block
    /// must pass the block's checks before anything is written.
    fn retune<P: Uniform>(
        &self,
        ctx: &GpuContext,
        models: Option<Range<usize>>,
        mut change: impl FnMut(&mut P) -> Result<(), GpuError>,
    ) -> Result<(), GpuError> {
        let size = size_of::<P>();
        let (mut bytes, chosen) = self.blocks_to_edit(TypeId::of::<P>(), P::OP, size, models)?;
        let mut edited = bytes.clone();
        for z in chosen.clone() {
            let range = z * size..(z + 1) * size;
            let mut block: P =
                bytemuck::try_pod_read_unaligned(&edited[range.clone()]).map_err(|e| GpuError::invalid("retune", format!("`{}`: {e}", self.label)))?;
            change(&mut block)?;
            block.check()?;
            edited[range].copy_from_slice(bytemuck::bytes_of(&block));
        }
        let written = chosen.start * size..chosen.end * size;
        ctx.queue.write_buffer(&self.params, written.start as u64, &edited[written]);
        *bytes = edited;
        Ok(())
    }

    /// The non-generic half of [`retune`](Self::retune) (one copy in the page's module, not one
    /// per knob's closure): the blocks, locked, and which of them `model` chooses, once their
    /// type is checked.
    fn blocks_to_edit(
        &self,
        params_type: TypeId,
        op: &'static str,
        size: usize,
        models: Option<Range<usize>>,
    ) -> Result<(std::sync::MutexGuard<'_, Vec<u8>>, Range<usize>), GpuError> {
        if self.params_type != params_type {
            return Err(GpuError::invalid("retune", format!("`{}` does not hold a {op} block", self.label)));
        }
        let bytes = self.params_bytes.lock().unwrap_or_else(PoisonError::into_inner);
        let blocks = bytes.len() / size;
        let chosen = match models {
            // The last model asked for names the one past the end (or 0 for none at all).
            Some(z) if z.is_empty() || z.end > blocks => {
                return Err(GpuError::invalid("retune", format!("`{}` holds {blocks} models' blocks, not model {}", self.label, z.end.saturating_sub(1))))
            }
            Some(z) => z,
            None => 0..blocks,
        };
        Ok((bytes, chosen))
    }

    fn record(&self, pass: &mut wgpu::ComputePass<'_>) {
        let [x, y, z] = self.workgroups;
        pass.set_pipeline(&self.pipeline);
        pass.set_bind_group(0, &self.bind_group, &[]);
        pass.dispatch_workgroups(x, y, z);
    }
}

/// A fixed sequence of dispatches: a training step, a forward pass, a benchmark loop.
///
/// WebGPU orders dispatches within one compute pass and makes each see the previous one's writes, so
/// one pass per replay is enough.
/// A dispatch of a [`Schedule`] whose uniform block (a `P`) a knob rewrites.
#[derive(Debug)]
pub struct Tuned<P> {
    index: usize,
    block: PhantomData<fn() -> P>,
}

impl<P> Clone for Tuned<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P> Copy for Tuned<P> {}

#[derive(Debug, Default)]
pub struct Schedule {
    label: String,
    dispatches: Vec<Dispatch>,
}

impl Schedule {
    pub fn new(label: impl Into<String>) -> Self {
        Self { label: label.into(), dispatches: Vec::new() }
    }

    pub fn push(&mut self, dispatch: Dispatch) -> &mut Self {
        self.dispatches.push(dispatch);
        self
    }

    /// Pushes a dispatch whose `P` block a knob will rewrite; fails if it holds another block.
    pub fn push_tuned<P: Uniform>(&mut self, dispatch: Dispatch) -> Result<Tuned<P>, GpuError> {
        if dispatch.params_type != TypeId::of::<P>() {
            return Err(GpuError::invalid("schedule", format!("`{}` does not hold a {} block", dispatch.label, P::OP)));
        }
        self.dispatches.push(dispatch);
        Ok(Tuned { index: self.dispatches.len() - 1, block: PhantomData })
    }

    /// Rewrites the block of a dispatch pushed with [`push_tuned`](Self::push_tuned) (every
    /// model's, in a batched dispatch): `change` edits a copy, which meets the block's
    /// [`Uniform::check`] before it is written.
    pub fn retune<P: Uniform>(&self, ctx: &GpuContext, tuned: Tuned<P>, change: impl FnMut(&mut P) -> Result<(), GpuError>) -> Result<(), GpuError> {
        self.tuned_dispatch(tuned)?.retune(ctx, None, change)
    }

    /// Rewrites model `model`'s block of a batched dispatch (one member of a sweep), as
    /// [`retune`](Self::retune) does; the other models' blocks are untouched.
    pub fn retune_model<P: Uniform>(
        &self,
        ctx: &GpuContext,
        tuned: Tuned<P>,
        model: usize,
        change: impl FnMut(&mut P) -> Result<(), GpuError>,
    ) -> Result<(), GpuError> {
        self.tuned_dispatch(tuned)?.retune(ctx, Some(model..model + 1), change)
    }

    /// Rewrites the blocks `models` of a batched dispatch with one write (one sweep member's
    /// blocks, where a member has several), as [`retune_model`](Self::retune_model) does one.
    pub fn retune_models<P: Uniform>(
        &self,
        ctx: &GpuContext,
        tuned: Tuned<P>,
        models: Range<usize>,
        change: impl FnMut(&mut P) -> Result<(), GpuError>,
    ) -> Result<(), GpuError> {
        self.tuned_dispatch(tuned)?.retune(ctx, Some(models), change)
    }

    fn tuned_dispatch<P>(&self, tuned: Tuned<P>) -> Result<&Dispatch, GpuError> {
        self.dispatches.get(tuned.index).ok_or_else(|| GpuError::invalid("retune", format!("`{}` has no dispatch {}", self.label, tuned.index)))
    }

    pub fn dispatches(&self) -> &[Dispatch] {
        &self.dispatches
    }

    pub fn len(&self) -> usize {
        self.dispatches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dispatches.is_empty()
    }

    /// Records `repeats` replays into `encoder`, in one compute pass.
    pub fn record(&self, encoder: &mut wgpu::CommandEncoder, repeats: usize) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some(&self.label), timestamp_writes: None });
        for _ in 0..repeats {
            for dispatch in &self.dispatches {
                dispatch.record(&mut pass);
            }
        }
    }

    /// Records and submits `repeats` replays as one command buffer. Returns without waiting.
    pub fn submit(&self, ctx: &GpuContext, repeats: usize) -> Result<(), GpuError> {
        ctx.check_alive()?;
        let mut encoder = ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(&self.label) });
        self.record(&mut encoder, repeats);
        ctx.queue.submit([encoder.finish()]);
        Ok(())
    }

    /// A pass over `chunks` chunks of a dataset whose replays accumulate into `sums` and advance
    /// counter `cursor` (an evaluation): zeroes `sums`, rewinds the cursor, replays, reads `sums` back.
    pub(crate) async fn sum_over_chunks(
        &self,
        ctx: &GpuContext,
        chunks: usize,
        sums: &GpuTensor,
        counters: &GpuTensor,
        cursor: u32,
    ) -> Result<Vec<f64>, GpuError> {
        ctx.write_f32(sums, &vec![0.0; sums.len()])?;
        ctx.write_u32_at(counters, cursor as usize, &[0])?;
        self.submit(ctx, chunks)?;
        Ok(crate::readback::read_f32(ctx, sums).await?.into_iter().map(f64::from).collect())
    }
}

impl From<Dispatch> for Schedule {
    fn from(dispatch: Dispatch) -> Self {
        let mut schedule = Schedule::new(dispatch.label.clone());
        schedule.push(dispatch);
        schedule
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_workgroups_cover_and_respect_limits() {
        for len in [1usize, 255, 256, 257, 16_776_960, 16_776_961, 100_000_000] {
            let [x, y, z] = linear_workgroups(len);
            assert!(x <= MAX_WORKGROUPS_PER_DIM && y <= MAX_WORKGROUPS_PER_DIM && z == 1);
            assert!(u64::from(x) * u64::from(y) * 256 >= len as u64, "{len} not covered");
        }
    }
}
