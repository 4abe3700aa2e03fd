//! What the latent-space views need from a GPU VAE, on demand and between steps: the codes (μ,
//! logσ²) of held-out rows for the latent scatter, and the decoder applied to codes the caller
//! picks (a grid over a 2D latent, an interpolation between two digits).
//!
//! Both are recorded once with the model; a request replays them batch by batch, stacks the
//! results with buffer copies, and reads back once.

use latent_core::engine::{LatentCodes, MAX_DECODE_ROWS};

use super::core::{mean_of_likelihood, VaeCore, EVAL_COUNTER};
use super::evaluation::PassBuffers;
use crate::dispatch::Schedule;
use crate::error::GpuError;
use crate::kernels::Kernels;
use crate::ops::GatherSpec;
use crate::readback::{read_f32, read_range};
use crate::tensor::GpuTensor;

/// Buffers and schedules of the views, made with the model.
#[derive(Debug)]
pub(super) struct ViewBuffers {
    encode: Schedule,
    encode_chunks: usize,
    /// (chunks·batch) × 2·latent: the encoder outputs of every held-out batch, stacked.
    codes: GpuTensor,
    decode: Schedule,
    decode_in: GpuTensor,
    decode_scratch: GpuTensor,
    decode_out: GpuTensor,
}

impl ViewBuffers {
    /// Records the encoding of `chunks` held-out batches and the decoding of one batch of codes.
    pub(super) fn new(k: &Kernels, name: &str, b: &PassBuffers<'_>, chunks: usize) -> Result<Self, GpuError> {
        let ctx = k.context();
        let (arch, enc, dec) = (b.arch, b.encoder, b.decoder);
        let (batch, latent, dim) = (b.x.rows(), arch.spec.latent, arch.spec.data_dim);
        let mut encode = Schedule::new(format!("{name} latent codes"));
        encode.push(b.dataset.gather(k, &b.dataset.test_indices, b.counters, b.x, GatherSpec { index_base: 0, cursor_counter: Some(EVAL_COUNTER) })?);
        enc.forward(k, &arch.encoder, b.x, &mut encode)?;
        encode.push(k.advance_counter(b.counters, EVAL_COUNTER, 1)?);
        let codes = ctx.zeros(&format!("{name}.latent_codes"), chunks.max(1) * batch, 2 * latent)?;

        let decode_in = ctx.zeros(&format!("{name}.decode_in"), batch, latent)?;
        let decode_scratch = ctx.zeros(&format!("{name}.decode_scratch"), batch, dim)?;
        let decode_out = ctx.zeros(&format!("{name}.decode_out"), MAX_DECODE_ROWS.div_ceil(batch) * batch, dim)?;
        let mut decode = Schedule::new(format!("{name} decode"));
        dec.forward(k, &arch.decoder, &decode_in, &mut decode)?;
        decode.push(mean_of_likelihood(k, arch.spec.likelihood, dec.output()?, &decode_scratch)?);
        Ok(Self { encode, encode_chunks: chunks, codes, decode, decode_in, decode_scratch, decode_out })
    }
}

impl VaeCore {
    /// The posterior (μ, logσ²) of every held-out row in whole batches: the latent scatter's points
    /// (colour them by the labels of `test_indices`, in order).
    pub(crate) async fn latent_codes(&self) -> Result<LatentCodes, GpuError> {
        let v = &self.views;
        let (batch, latent) = (self.batch, self.arch.spec.latent);
        self.ctx.check_alive()?;
        self.ctx.write_u32_at(&self.counters, EVAL_COUNTER as usize, &[0])?;
        let encoder_out = self.enc.output()?;
        let mut encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vae latent codes") });
        for chunk in 0..v.encode_chunks {
            v.encode.record(&mut encoder, 1);
            encoder_out.record_copy(&mut encoder, &v.codes, chunk * batch * 2 * latent)?;
        }
        self.ctx.queue.submit([encoder.finish()]);
        let stacked = read_f32(&self.ctx, &v.codes).await?;
        let rows = v.encode_chunks * batch;
        let (mut mean, mut log_var) = (Vec::with_capacity(rows * latent), Vec::with_capacity(rows * latent));
        for row in stacked.chunks_exact(2 * latent).take(rows) {
            mean.extend_from_slice(&row[..latent]);
            log_var.extend_from_slice(&row[latent..]);
        }
        Ok(LatentCodes { rows, latent, mean, log_var })
    }

    /// The decoder's output as data (pixels in [0, 1], or points) for each row of `z` (rows × latent,
    /// at most [`MAX_DECODE_ROWS`] rows, finite values).
    pub(crate) async fn decode(&self, z: &[f32]) -> Result<Vec<f32>, GpuError> {
        let v = &self.views;
        let (batch, latent, dim) = (self.batch, self.arch.spec.latent, self.arch.spec.data_dim);
        if z.is_empty() || !z.len().is_multiple_of(latent) || z.len() / latent > MAX_DECODE_ROWS {
            return Err(GpuError::invalid("vae decode", format!("{} values are not 1..={MAX_DECODE_ROWS} codes of {latent}", z.len())));
        }
        if !z.iter().all(|c| c.is_finite()) {
            return Err(GpuError::invalid("vae decode", "latent codes must be finite"));
        }
        self.ctx.check_alive()?;
        let rows = z.len() / latent;
        for (chunk, codes) in z.chunks(batch * latent).enumerate() {
            let mut padded = codes.to_vec();
            padded.resize(batch * latent, 0.0);
            // Queue writes land before the next submission, so each chunk sees its own codes.
            self.ctx.write_f32(&v.decode_in, &padded)?;
            let mut encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("vae decode") });
            v.decode.record(&mut encoder, 1);
            v.decode_scratch.record_copy(&mut encoder, &v.decode_out, chunk * batch * dim)?;
            self.ctx.queue.submit([encoder.finish()]);
        }
        let bytes = read_range(&self.ctx, v.decode_out.buffer(), v.decode_out.label(), v.decode_out.offset(), (rows * dim * 4) as u64).await?;
        Ok(bytemuck::pod_collect_to_vec(&bytes))
    }
}
