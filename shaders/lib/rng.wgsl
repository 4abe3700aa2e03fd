// lib/rng.wgsl (include-only): counter-based random numbers, Threefry-2x32 with 20 rounds.
// Bit-identical to crates/core/src/rng.rs, so CPU references reproduce every GPU draw.
// key = (seed, stream) separates consumers; counter = (element index, step) makes each draw fresh.

fn rng_rotl(x: u32, r: u32) -> u32 {
    return (x << r) | (x >> (32u - r));
}

fn threefry2x32(key: vec2<u32>, counter: vec2<u32>) -> vec2<u32> {
    var schedule = array<u32, 3>(key.x, key.y, 0x1BD11BDAu ^ key.x ^ key.y);
    var rotations = array<u32, 8>(13u, 15u, 26u, 6u, 17u, 29u, 16u, 24u);
    var x0 = counter.x + schedule[0];
    var x1 = counter.y + schedule[1];
    for (var round = 0u; round < 20u; round++) {
        x0 += x1;
        x1 = rng_rotl(x1, rotations[round % 8u]);
        x1 ^= x0;
        if (round % 4u == 3u) {
            let injection = round / 4u + 1u;
            x0 += schedule[injection % 3u];
            x1 += schedule[(injection + 1u) % 3u] + injection;
        }
    }
    return vec2<u32>(x0, x1);
}

// cos(2π·u) for u in [0, 1), to ~1e-7. WGSL only promises 2⁻¹¹ absolute error for cos (and
// SwiftShader uses it), which would let GPU noise drift from the CPU twin's; a reduced-range
// Taylor polynomial is exact enough on every adapter.
fn rng_cos_turns(u: f32) -> f32 {
    // cos(2πu) = −cos(2π(u − ½)); fold |u − ½| into [0, ¼] by cos(π − x) = −cos(x).
    var t = abs(u - 0.5);
    var sign = -1.0;
    if (t > 0.25) {
        t = 0.5 - t;
        sign = 1.0;
    }
    let x = 6.283185307179586 * t;
    let x2 = x * x;
    let poly = 1.0 + x2 * (-1.0 / 2.0 + x2 * (1.0 / 24.0 + x2 * (-1.0 / 720.0 + x2 * (1.0 / 40320.0
        + x2 * (-1.0 / 3628800.0 + x2 * (1.0 / 479001600.0))))));
    return sign * poly;
}

// ln(u) for u in (0, 1]. Near 1 WGSL's log is only accurate to 2⁻²¹ absolute, which matters after
// the square root of Box-Muller; a short series for ln(1 − w) covers that end exactly.
fn rng_log_unit(u: f32, w: f32) -> f32 {
    if (w < 0.01) {
        return -w * (1.0 + w * (0.5 + w * (1.0 / 3.0 + w * 0.25)));
    }
    return log(u);
}

// Standard normal by Box-Muller from one Threefry block; u1 in (0, 1] keeps log finite.
fn rng_normal(key: vec2<u32>, index: u32, step: u32) -> f32 {
    let bits = threefry2x32(key, vec2<u32>(index, step));
    let k = (bits.x >> 8u) + 1u; // 1 ..= 2²⁴
    let u1 = f32(k) * (1.0 / 16777216.0);
    let w = f32(16777216u - k) * (1.0 / 16777216.0); // 1 − u1, exact
    let u2 = f32(bits.y >> 8u) * (1.0 / 16777216.0);
    return sqrt(-2.0 * rng_log_unit(u1, w)) * rng_cos_turns(u2);
}

// The 24-bit integer a keep/drop decision compares against a threshold (exact on CPU and GPU).
fn rng_bits24(key: vec2<u32>, index: u32, step: u32) -> u32 {
    return threefry2x32(key, vec2<u32>(index, step)).x >> 8u;
}
