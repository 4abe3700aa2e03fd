//! What the latent-space views need from a GPU VAE, on demand and between steps: the codes (μ,
//! logσ²) of held-out rows for the latent scatter, the encoder applied to rows the caller gives (a
//! digit the user drew), and the decoder applied to codes the caller picks (a grid over a 2D
//! latent, an interpolation between two digits).
//!
//! Both are recorded once with the model; a request replays them batch by batch, stacks the
//! results with buffer copies, and reads back once.

use latent_core::engine::{LatentCodes, MAX_DECODE_ROWS, MAX_ENCODE_ROWS};

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
    /// The encoder on one batch of the caller's rows, and those batches' outputs stacked.
    encode_rows: Schedule,
    encode_in: GpuTensor,
    encoded: GpuTensor,
    decode: Schedule,
    decode_in: GpuTensor,
    decode_scratch: GpuTensor,
    decode_out: GpuTensor,
}

impl ViewBuffers {
    /// Records the encoding of `chunks` held-out batches, and the encoding of one batch of rows
    /// and the decoding of one batch of codes the caller writes.
    pub(super) fn new(k: &Kernels, name: &str, b: &PassBuffers<'_>, chunks: usize) -> Result<Self, GpuError> {
        let ctx = k.context();
        let (arch, enc, dec) = (b.arch, b.encoder, b.decoder);
        let (batch, latent, dim) = (b.x.rows(), arch.spec.latent, arch.spec.data_dim);
        let mut encode = Schedule::new(format!("{name} latent codes"));
        encode.push(b.dataset.gather(k, &b.dataset.test_indices, b.counters, b.x, GatherSpec { index_base: 0, cursor_counter: Some(EVAL_COUNTER) })?);
        enc.forward(k, &arch.encoder, b.x, &mut encode)?;
        encode.push(k.advance_counter(b.counters, EVAL_COUNTER, 1)?);
        let codes = ctx.zeros(&format!("{name}.latent_codes"), chunks.max(1) * batch, 2 * latent)?;

        let encode_in = ctx.zeros(&format!("{name}.encode_in"), batch, dim)?;
        let encoded = ctx.zeros(&format!("{name}.encoded"), MAX_ENCODE_ROWS.div_ceil(batch) * batch, 2 * latent)?;
        let mut encode_rows = Schedule::new(format!("{name} encode"));
        enc.forward(k, &arch.encoder, &encode_in, &mut encode_rows)?;

        let decode_in = ctx.zeros(&format!("{name}.decode_in"), batch, latent)?;
        let decode_scratch = ctx.zeros(&format!("{name}.decode_scratch"), batch, dim)?;
        let decode_out = ctx.zeros(&format!("{name}.decode_out"), MAX_DECODE_ROWS.div_ceil(batch) * batch, dim)?;
        let mut decode = Schedule::new(format!("{name} decode"));
        dec.forward(k, &arch.decoder, &decode_in, &mut decode)?;
        decode.push(mean_of_likelihood(k, arch.spec.likelihood, dec.output()?, &decode_scratch)?);
        Ok(Self { encode, encode_chunks: chunks, codes, encode_rows, encode_in, encoded, decode, decode_in, decode_scratch, decode_out })
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
        Ok(split_codes(&stacked, v.encode_chunks * batch, latent))
    }

    /// The posterior of each row of `x` (rows × data_dim, at most [`MAX_ENCODE_ROWS`] rows, finite
    /// values).
    pub(crate) async fn encode(&self, x: &[f32]) -> Result<LatentCodes, GpuError> {
        let v = &self.views;
        let latent = self.arch.spec.latent;
        let batches = RowBatches {
            what: "vae encode",
            input: &v.encode_in,
            max_rows: MAX_ENCODE_ROWS,
            schedule: &v.encode_rows,
            output: self.enc.output()?,
            stacked: &v.encoded,
        };
        let stacked = self.per_batch(x, &batches).await?;
        Ok(split_codes(&stacked, stacked.len() / (2 * latent), latent))
    }

    /// The decoder's output as data (pixels in [0, 1], or points) for each row of `z` (rows × latent,
    /// at most [`MAX_DECODE_ROWS`] rows, finite values).
    pub(crate) async fn decode(&self, z: &[f32]) -> Result<Vec<f32>, GpuError> {
        let v = &self.views;
        self.per_batch(
            z,
            &RowBatches {
                what: "vae decode",
                input: &v.decode_in,
                max_rows: MAX_DECODE_ROWS,
                schedule: &v.decode,
                output: &v.decode_scratch,
                stacked: &v.decode_out,
            },
        )
        .await
    }

    /// Runs a schedule recorded over one batch on the caller's `rows` (as wide as `input`), batch
    /// by batch: each written into `input` (the last one padded), its `output` copied into
    /// `stacked` after the batches before it; one readback of the rows' outputs.
    async fn per_batch(&self, rows: &[f32], b: &RowBatches<'_>) -> Result<Vec<f32>, GpuError> {
        let (batch, width, out_width) = (self.batch, b.input.cols(), b.output.cols());
        if rows.is_empty() || !rows.len().is_multiple_of(width) || rows.len() / width > b.max_rows {
            return Err(GpuError::invalid(b.what, format!("{} values are not 1..={} rows of {width}", rows.len(), b.max_rows)));
        }
        if !rows.iter().all(|c| c.is_finite()) {
            return Err(GpuError::invalid(b.what, "the rows must be finite"));
        }
        self.ctx.check_alive()?;
        for (chunk, part) in rows.chunks(batch * width).enumerate() {
            let mut padded = part.to_vec();
            padded.resize(batch * width, 0.0);
            // Queue writes land before the next submission, so each chunk sees its own rows.
            self.ctx.write_f32(b.input, &padded)?;
            let mut encoder = self.ctx.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some(b.what) });
            b.schedule.record(&mut encoder, 1);
            b.output.record_copy(&mut encoder, b.stacked, chunk * batch * out_width)?;
            self.ctx.queue.submit([encoder.finish()]);
        }
        let bytes = (rows.len() / width * out_width * 4) as u64;
        let read = read_range(&self.ctx, b.stacked.buffer(), b.stacked.label(), b.stacked.offset(), bytes).await?;
        Ok(bytemuck::pod_collect_to_vec(&read))
    }
}

/// A view's schedule over one batch of caller rows, and its buffers.
struct RowBatches<'a> {
    what: &'static str,
    input: &'a GpuTensor,
    max_rows: usize,
    schedule: &'a Schedule,
    output: &'a GpuTensor,
    stacked: &'a GpuTensor,
}

/// Encoder outputs (rows of [μ | logσ²]) as codes.
fn split_codes(stacked: &[f32], rows: usize, latent: usize) -> LatentCodes {
    let (mut mean, mut log_var) = (Vec::with_capacity(rows * latent), Vec::with_capacity(rows * latent));
    for row in stacked.chunks_exact(2 * latent).take(rows) {
        mean.extend_from_slice(&row[..latent]);
        log_var.extend_from_slice(&row[latent..]);
    }
    LatentCodes { rows, latent, mean, log_var }
}
