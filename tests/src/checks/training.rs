//! Weight penalties, optimizers (over several steps with the GPU step counter) and the minibatch
//! gather.

use anyhow::bail;
use latent_core::finite_diff;
use latent_core::ops::gather as cpu_gather;
use latent_core::ops::optimizer::{adam_step, sgd_step, AdamConfig, SgdConfig};
use latent_core::ops::penalty;
use latent_gpu::ops::{AdamBuffers, GatherSpec, IndexSlice, ParamRange, PenaltySlots, PenaltySpec};
use latent_gpu::Schedule;

use super::errors::expect_err;
use crate::harness::{compare, compare_gradient, Check, Harness, Inputs, Tolerance};

pub async fn penalties(h: &Harness) -> Check {
    let mut inputs = Inputs::new(11);
    let len = 5003;
    let w = inputs.matrix_away_from_zero(1, len, 1.0, 1e-3);
    let grads = inputs.matrix(1, len, -1.0, 1.0);
    // Every third parameter is a "bias": masked out.
    let mask: Vec<f64> = (0..len).map(|i| if i % 3 == 2 { 0.0 } else { 1.0 }).collect();
    let (l1, l2) = (0.003, 0.02);
    let (gw, gmask) = (h.upload("w", &w)?, h.ctx.upload_f32("mask", 1, len, &mask.iter().map(|&m| m as f32).collect::<Vec<_>>())?);
    let gg = h.upload("grads", &grads)?;
    let metrics = h.zeros("metrics", 1, 4)?;
    let spec = PenaltySpec { range: ParamRange { offset: 100, len: 4000 }, l1: l1 as f32, l2: l2 as f32 };
    h.run([
        h.kernels.penalty_gradient(&gw, &gmask, &gg, spec),
        h.kernels.penalty_value(&gw, &gmask, PenaltySlots { out: &metrics, index: 1, accumulate: false }, spec),
    ])?;
    let slice = 100..4100;
    let mut expected = grads.data.clone();
    penalty::add_gradient(&w.data[slice.clone()], &mask[slice.clone()], l1, l2, &mut expected[slice.clone()]);
    let g_gpu = h.read(&gg).await?;
    compare("penalty gradient", &g_gpu, &expected, None, Tolerance::F32)?;
    let (v2, v1) = penalty::values(&w.data[slice.clone()], &mask[slice.clone()], l1, l2);
    compare("penalty values", &h.read(&metrics).await?, &[0.0, v2, v1, 0.0], Some(&[1.0, v2 * 10.0, v1 * 10.0, 1.0]), Tolerance::F32)?;
    // Accumulating: two more passes add to what is there (a metrics buffer summing over steps).
    let value = || h.kernels.penalty_value(&gw, &gmask, PenaltySlots { out: &metrics, index: 1, accumulate: true }, spec);
    h.run([value(), value()])?;
    compare("accumulated penalty values", &h.read(&metrics).await?, &[0.0, 3.0 * v2, 3.0 * v1, 0.0], Some(&[1.0, v2 * 30.0, v1 * 30.0, 1.0]), Tolerance::F32)?;
    // d(penalty)/dw by finite differences over a few parameters of the slice.
    let probe: Vec<f64> = w.data[100..160].to_vec();
    let fd = finite_diff::gradient(&probe, 1e-6, |ws| {
        let (a, b) = penalty::values(ws, &mask[100..160], l1, l2);
        a + b
    });
    let added: Vec<f32> = (100..160).map(|i| (f64::from(g_gpu[i]) - grads.data[i]) as f32).collect();
    compare_gradient("penalty gradient vs finite differences", &added, &fd)
}

/// Adam and SGD against the CPU reference over a range longer than one workgroup's runs
/// (2,048 elements) that ends mid-run, outside which nothing changes.
pub async fn optimizers(h: &Harness) -> Check {
    let mut inputs = Inputs::new(12);
    let len = 5000;
    let w0 = inputs.matrix(1, len, -1.0, 1.0);
    let steps: Vec<_> = (0..4).map(|_| inputs.matrix(1, len, -1.0, 1.0)).collect();
    let cfg = AdamConfig { lr: 0.01, ..AdamConfig::default() };
    let range = ParamRange { offset: 10, len: 4900 };

    // Adam: four steps, each with its own gradient, t read from the GPU counter that the schedule
    // advances itself.
    let (w, m, v) = (h.upload("w", &w0)?, h.zeros("m", 1, len)?, h.zeros("v", 1, len)?);
    let grads = h.zeros("grads", 1, len)?;
    let counters = h.counters(&[0, 0])?;
    let mut step = Schedule::new("adam step");
    step.push(h.kernels.adam(AdamBuffers { weights: &w, grads: &grads, m: &m, v: &v, counters: &counters, counter_index: 1 }, range, cfg)?);
    step.push(h.kernels.advance_counter(&counters, 1, 1)?);
    let (mut cw, mut cm, mut cv) = (w0.data.clone(), vec![0.0; len], vec![0.0; len]);
    for (t, g) in steps.iter().enumerate() {
        h.ctx.write_f32(&grads, &g.to_f32())?;
        step.submit(&h.ctx, 1)?;
        adam_step(cfg, t as u32 + 1, &mut cw[10..4910], &g.data[10..4910], &mut cm[10..4910], &mut cv[10..4910]);
    }
    h.no_gpu_errors()?;
    compare("adam weights after 4 steps", &h.read(&w).await?, &cw, Some(&vec![1.0; len]), Tolerance::TRANSCENDENTAL)?;
    compare("adam first moment", &h.read(&m).await?, &cm, Some(&vec![1.0; len]), Tolerance::F32)?;
    compare("adam second moment", &h.read(&v).await?, &cv, Some(&vec![1.0; len]), Tolerance::F32)?;
    let counts = latent_gpu::readback::read_u32(&h.ctx, &counters).await?;
    if counts != [0, 4] {
        bail!("step counters {counts:?}, expected [0, 4]");
    }

    // SGD with momentum, three steps.
    let (w, velocity) = (h.upload("w", &w0)?, h.zeros("velocity", 1, len)?);
    let sgd = h.kernels.sgd(&w, &grads, &velocity, range, SgdConfig { lr: 0.1, momentum: 0.9 })?;
    let schedule = Schedule::from(sgd);
    let (mut cw, mut cvel) = (w0.data.clone(), vec![0.0; len]);
    for g in &steps[..3] {
        h.ctx.write_f32(&grads, &g.to_f32())?;
        schedule.submit(&h.ctx, 1)?;
        sgd_step(0.1, 0.9, &mut cw[10..4910], &g.data[10..4910], &mut cvel[10..4910]);
    }
    h.no_gpu_errors()?;
    compare("sgd weights after 3 steps", &h.read(&w).await?, &cw, Some(&vec![1.0; len]), Tolerance::F32)
}

pub async fn gather(h: &Harness) -> Check {
    let mut inputs = Inputs::new(13);
    let (n, cols, rows) = (37usize, 785usize, 8usize);
    let bytes: Vec<u8> = (0..n * cols).map(|_| inputs.below(256) as u8).collect();
    let points: Vec<f32> = (0..n * 2).map(|i| i as f32 * 0.5 - 3.0).collect();
    let indices: Vec<u32> = (0..n as u32).map(|i| (i * 7 + 3) % n as u32).collect();
    let data = h.ctx.upload_u8("pixels", n, cols, &bytes)?;
    let pts = h.ctx.upload_f32("points", n, 2, &points)?;
    let idx = h.ctx.upload_u32("indices", 1, n, &indices)?;
    let counters = h.counters(&[0])?;
    let (batch, batch_pts) = (h.zeros("batch", rows, cols)?, h.zeros("batch_points", rows, 2)?);
    let spec = GatherSpec { index_base: 5, cursor_counter: Some(0) };
    let mut step = Schedule::new("gather step");
    step.push(h.kernels.gather_u8(&data, &idx, &counters, &batch, spec)?);
    step.push(h.kernels.gather_f32(&pts, &idx, &counters, &batch_pts, spec)?);
    step.push(h.kernels.advance_counter(&counters, 0, 1)?);
    // Steps 0..6 wrap around the 37-entry index list.
    for s in 0..6u32 {
        step.submit(&h.ctx, 1)?;
        let expected: Vec<f64> = cpu_gather::gather_u8(&bytes, cols, &indices, 5, s, rows);
        compare(&format!("gather u8 step {s}"), &h.read(&batch).await?, &expected, None, Tolerance::F32)?;
        let expected: Vec<f64> = cpu_gather::gather_f32(&points, 2, &indices, 5, s, rows);
        compare(&format!("gather f32 step {s}"), &h.read(&batch_pts).await?, &expected, None, Tolerance::EXACT)?;
    }
    h.no_gpu_errors()
}

/// Batched models (a K-fold sweep's models in one dispatch): each model gathers its batches from
/// its own index list (its folds' training rows, lists of different lengths laid one after
/// another), bit for bit the batches it gathers alone, step after step as the cursor wraps.
pub async fn gather_of_models_match_alone(h: &Harness) -> Check {
    let mut inputs = Inputs::new(46);
    let (n, cols, rows) = (30usize, 13usize, 4usize);
    let bytes: Vec<u8> = (0..n * cols).map(|_| inputs.below(256) as u8).collect();
    let points: Vec<f32> = (0..n * 2).map(|i| i as f32 * 0.25 - 2.0).collect();
    // Three folds of 10 rows: model f trains on the 20 rows outside fold f; a fourth model on 7.
    let lists: Vec<Vec<u32>> = (0..3u32)
        .map(|fold| (0..n as u32).filter(|r| r % 3 != fold).map(|r| (r * 7 + 3) % n as u32).collect())
        .chain([vec![29, 1, 28, 2, 27, 3, 26]])
        .collect();
    let slices: Vec<IndexSlice> =
        lists.iter().scan(0, |first, list| Some(IndexSlice { first: std::mem::replace(first, *first + list.len()), len: list.len() })).collect();
    let models = lists.len();
    let data = h.ctx.upload_u8("pixels", n, cols, &bytes)?;
    let pts = h.ctx.upload_f32("points", n, 2, &points)?;
    let spec = GatherSpec { index_base: 5, cursor_counter: Some(0) };
    // Steps of one model's gathers (or the K models' in one dispatch), its batches after each.
    let run = |indices: Vec<u32>, slices: Vec<IndexSlice>| {
        let (data, pts) = (&data, &pts);
        async move {
            let idx = h.ctx.upload_u32("indices", 1, indices.len(), &indices)?;
            let counters = h.counters(&[0])?;
            let (batch, batch_pts) = (h.zeros("batch", slices.len() * rows, cols)?, h.zeros("batch_points", slices.len() * rows, 2)?);
            let mut step = Schedule::new("gather step");
            step.push(h.kernels.gather_of_models(data, &idx, &counters, &batch, &slices, spec)?);
            step.push(h.kernels.gather_of_models(pts, &idx, &counters, &batch_pts, &slices, spec)?);
            step.push(h.kernels.advance_counter(&counters, 0, 1)?);
            let mut batches = Vec::new();
            for _ in 0..7 {
                step.submit(&h.ctx, 1)?;
                batches.push((h.read(&batch).await?, h.read(&batch_pts).await?));
            }
            h.no_gpu_errors()?;
            anyhow::Ok(batches)
        }
    };
    let batched = run(lists.concat(), slices.clone()).await?;
    for (z, list) in lists.iter().enumerate() {
        let alone = run(list.clone(), vec![IndexSlice { first: 0, len: list.len() }]).await?;
        for (step, ((batch_pixels, batch_points), (own_pixels, own_points))) in batched.iter().zip(&alone).enumerate() {
            let (pixel_block, point_block) = (rows * cols, rows * 2);
            let pixels_differ = batch_pixels[z * pixel_block..(z + 1) * pixel_block] != own_pixels[..];
            if pixels_differ || batch_points[z * point_block..(z + 1) * point_block] != own_points[..] {
                bail!("model {z} of {models}, step {step}: its batched batch is not the batch it gathers alone");
            }
            let expected: Vec<f64> = cpu_gather::gather_f32(&points, 2, list, 5, step as u32, rows);
            compare(&format!("model {z} step {step} vs the CPU gather"), own_points, &expected, None, Tolerance::EXACT)?;
        }
    }
    let idx = h.ctx.upload_u32("indices", 1, 20, &lists[0])?;
    let (counters, out) = (h.counters(&[0])?, h.zeros("batch", 2 * rows, 2)?);
    let outside = [IndexSlice { first: 0, len: 10 }, IndexSlice { first: 15, len: 10 }];
    expect_err("a slice outside the index list", h.kernels.gather_of_models(&pts, &idx, &counters, &out, &outside, spec), &["outside"])?;
    let empty = [IndexSlice { first: 0, len: 10 }, IndexSlice { first: 10, len: 0 }];
    expect_err("an empty slice", h.kernels.gather_of_models(&pts, &idx, &counters, &out, &empty, spec), &["empty"])?;
    let three = [IndexSlice { first: 0, len: 5 }; 3];
    expect_err("an uneven stack", h.kernels.gather_of_models(&pts, &idx, &counters, &out, &three, spec), &["3 models"])
}
