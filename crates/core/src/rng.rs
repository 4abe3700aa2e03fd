//! Counter-based random numbers (Threefry-2x32, 20 rounds), bit-identical to `shaders/lib/rng.wgsl`.
//!
//! A counter-based generator needs no state: the value for (key, counter) is a pure function, so the
//! GPU draws each element's number independently and the CPU reproduces the exact same bits. Keys are
//! (seed, stream) so that reparameterization, dropout and the like never share numbers; counters are
//! (element index, step) so every training step draws afresh.

/// Rotation amounts of Threefry-2x32 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3").
const ROTATIONS: [u32; 8] = [13, 15, 26, 6, 17, 29, 16, 24];
/// Key-schedule parity constant of Threefry.
const KEY_PARITY: u32 = 0x1BD1_1BDA;

/// Threefry-2x32 with 20 rounds.
pub fn threefry2x32(key: [u32; 2], counter: [u32; 2]) -> [u32; 2] {
    let schedule = [key[0], key[1], KEY_PARITY ^ key[0] ^ key[1]];
    let mut x0 = counter[0].wrapping_add(schedule[0]);
    let mut x1 = counter[1].wrapping_add(schedule[1]);
    for round in 0..20usize {
        x0 = x0.wrapping_add(x1);
        x1 = x1.rotate_left(ROTATIONS[round % 8]);
        x1 ^= x0;
        if round % 4 == 3 {
            let injection = round / 4 + 1;
            x0 = x0.wrapping_add(schedule[injection % 3]);
            x1 = x1.wrapping_add(schedule[(injection + 1) % 3]).wrapping_add(injection as u32);
        }
    }
    [x0, x1]
}

/// Folds a 64-bit user seed into the 32-bit seed word the kernels take.
pub fn fold_seed(seed: u64) -> u32 {
    (seed as u32) ^ ((seed >> 32) as u32).rotate_left(16)
}

/// A uniform number in [0, 1) from the top 24 bits of `bits` (exact in f32).
pub fn unit_interval(bits: u32) -> f64 {
    f64::from(bits >> 8) * (1.0 / 16_777_216.0)
}

/// Which consumer of random numbers a draw belongs to; part of the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RngStream {
    pub seed: u32,
    pub stream: u32,
}

impl RngStream {
    pub fn new(seed: u32, stream: u32) -> Self {
        Self { seed, stream }
    }

    /// Raw bits for element `index` at training step `step`.
    pub fn bits(self, index: u32, step: u32) -> [u32; 2] {
        threefry2x32([self.seed, self.stream], [index, step])
    }

    /// A uniform number in [0, 1).
    pub fn uniform(self, index: u32, step: u32) -> f64 {
        unit_interval(self.bits(index, step)[0])
    }

    /// A standard normal number by Box-Muller on one Threefry block (the GPU does the same in f32).
    pub fn normal(self, index: u32, step: u32) -> f64 {
        let [a, b] = self.bits(index, step);
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = f64::from((a >> 8) + 1) * (1.0 / 16_777_216.0);
        let u2 = unit_interval(b);
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Dropout's keep decision with drop probability `p`; compared as integers so CPU and GPU agree exactly.
    pub fn keep(self, index: u32, step: u32, p: f32) -> bool {
        (self.bits(index, step)[0] >> 8) >= drop_threshold(p)
    }
}

/// The 24-bit integer threshold below which an element is dropped (shared with the WGSL side).
pub fn drop_threshold(p: f32) -> u32 {
    (f64::from(p.clamp(0.0, 1.0)) * 16_777_216.0).round() as u32
}

/// A small seeded generator for host-side data (test inputs, permutations): SplitMix64.
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// Uniform integer in [0, n).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// `len` values uniform in [lo, hi), as f32.
    pub fn vec_f32(&mut self, len: usize, lo: f64, hi: f64) -> Vec<f32> {
        (0..len).map(|_| self.range(lo, hi) as f32).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Known-answer vectors from the Random123 distribution (kat_vectors, threefry2x32 20 rounds).
    #[test]
    fn threefry_known_answers() {
        assert_eq!(threefry2x32([0, 0], [0, 0]), [0x6b20_0159, 0x99ba_4efe]);
        assert_eq!(threefry2x32([u32::MAX, u32::MAX], [u32::MAX, u32::MAX]), [0x1cb9_96fc, 0xbb00_2be7]);
        assert_eq!(threefry2x32([0x1319_8a2e, 0x0370_7344], [0x243f_6a88, 0x85a3_08d3]), [0xc492_3a9c, 0x483d_f7a0]);
    }

    #[test]
    fn normals_have_unit_moments() {
        let rng = RngStream::new(7, 1);
        let n = 200_000u32;
        let (mut sum, mut sq) = (0.0, 0.0);
        for i in 0..n {
            let x = rng.normal(i, 3);
            sum += x;
            sq += x * x;
        }
        let mean = sum / f64::from(n);
        let var = sq / f64::from(n) - mean * mean;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
    }

    #[test]
    fn keep_rate_matches_probability() {
        let rng = RngStream::new(11, 2);
        let kept = (0..100_000u32).filter(|&i| rng.keep(i, 0, 0.3)).count();
        let rate = kept as f64 / 100_000.0;
        assert!((rate - 0.7).abs() < 0.01, "keep rate {rate}");
        assert!((0..1000u32).all(|i| rng.keep(i, 0, 0.0)));
    }
}
