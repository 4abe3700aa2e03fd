//! Scores of generated images that the teaching checks and the UI compare models by.

use crate::error::CoreError;

/// Mean gradient energy of a batch of `width × height` images stored row-major one after another:
/// the mean, over every horizontally or vertically adjacent pixel pair of every image, of the
/// squared difference. Blurry images (a plain VAE's samples) score low, crisp strokes high.
pub fn gradient_energy(pixels: &[f32], width: usize, height: usize) -> Result<f64, CoreError> {
    let size = width * height;
    if width < 2 || height < 2 || pixels.is_empty() || !pixels.len().is_multiple_of(size) {
        return Err(CoreError::InvalidArgument {
            op: "gradient energy",
            message: format!("{} pixels are not whole {width}×{height} images (at least 2×2)", pixels.len()),
        });
    }
    let (mut sum, mut pairs) = (0.0f64, 0usize);
    for image in pixels.chunks_exact(size) {
        let at = |x: usize, y: usize| f64::from(image[y * width + x]);
        for y in 0..height {
            for x in 0..width {
                if x + 1 < width {
                    sum += (at(x + 1, y) - at(x, y)).powi(2);
                    pairs += 1;
                }
                if y + 1 < height {
                    sum += (at(x, y + 1) - at(x, y)).powi(2);
                    pairs += 1;
                }
            }
        }
    }
    Ok(sum / pairs as f64)
}

/// Kernel widths of [`mmd_squared`]: a mixture of Gaussian kernels from the size of a 2D
/// dataset's noise clouds to the size of its modes' layout, so a generator is judged both on
/// where its points sit and on how they spread.
pub const MMD_BANDWIDTHS: [f32; 3] = [0.1, 0.5, 2.0];

/// The squared maximum mean discrepancy between two sets of 2D points (unbiased estimate, the mean
/// of Gaussian kernels of [`MMD_BANDWIDTHS`]): about 0 when both are drawn from one distribution
/// (the estimate can dip just below 0), larger the more they differ. What a GAN's samples are
/// scored by against the real points, beside the modes they cover.
pub fn mmd_squared(real: &[[f32; 2]], generated: &[[f32; 2]]) -> Result<f64, CoreError> {
    if real.len() < 2 || generated.len() < 2 {
        return Err(CoreError::InvalidArgument {
            op: "mmd",
            message: format!("{} real and {} generated points: at least 2 of each", real.len(), generated.len()),
        });
    }
    // Each kernel in f32 (the page has f32's e^x already; f64's would add its own code to the
    // wasm), summed in f64.
    let kernel = |a: &[f32; 2], b: &[f32; 2]| {
        let d2 = (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
        MMD_BANDWIDTHS.iter().map(|s| f64::from((-d2 / (2.0 * s * s)).exp())).sum::<f64>() / MMD_BANDWIDTHS.len() as f64
    };
    // Mean kernel within a set, the diagonal left out (what makes the estimate unbiased).
    let within = |set: &[[f32; 2]]| {
        let mut sum = 0.0;
        for (i, a) in set.iter().enumerate() {
            sum += set[i + 1..].iter().map(|b| kernel(a, b)).sum::<f64>();
        }
        2.0 * sum / (set.len() * (set.len() - 1)) as f64
    };
    let across = real.iter().map(|a| generated.iter().map(|b| kernel(a, b)).sum::<f64>()).sum::<f64>() / (real.len() * generated.len()) as f64;
    Ok(within(real) + within(generated) - 2.0 * across)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_images_score_zero_and_edges_score_their_share() {
        assert_eq!(gradient_energy(&[0.3; 18], 3, 3), Ok(0.0));
        // 3×2 image with a vertical edge between columns 0 and 1: 2 of the 7 pairs differ by 1.
        let edge = [0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
        let score = gradient_energy(&edge, 3, 2).unwrap_or(f64::NAN);
        assert!((score - 2.0 / 7.0).abs() < 1e-12, "{score}");
        // A blurred edge (0, ½, 1) scores less than the sharp one.
        let blurred = [0.0, 0.5, 1.0, 0.0, 0.5, 1.0];
        assert!(gradient_energy(&blurred, 3, 2).unwrap_or(f64::NAN) < score);
        // A second identical image leaves the mean unchanged.
        let two: Vec<f32> = edge.iter().chain(&edge).copied().collect();
        assert_eq!(gradient_energy(&two, 3, 2), Ok(score));
    }

    /// Two samples of one distribution score about 0; moving one away raises the score, the more
    /// the farther; a generator stuck on one mode of two scores clearly above one covering both.
    #[test]
    fn mmd_tells_matching_points_from_shifted_and_collapsed_ones() {
        let cloud = |centre: [f32; 2], n: usize, seed: u32| -> Vec<[f32; 2]> {
            // A deterministic spread of radius up to 0.1 around the centre.
            (0..n)
                .map(|i| {
                    let t = (i as f32 * 2.399 + seed as f32) % std::f32::consts::TAU;
                    let r = 0.1 * ((i * 7 + seed as usize) % 10) as f32 / 10.0;
                    [centre[0] + r * t.cos(), centre[1] + r * t.sin()]
                })
                .collect()
        };
        let two_modes = |seed| [cloud([-1.0, 0.0], 50, seed), cloud([1.0, 0.0], 50, seed + 1)].concat();
        let same = mmd_squared(&two_modes(1), &two_modes(3)).unwrap_or(f64::NAN);
        assert!(same.abs() < 0.02, "one distribution twice: {same}");
        let near = mmd_squared(&two_modes(1), &[cloud([-0.8, 0.2], 50, 3), cloud([1.2, 0.2], 50, 4)].concat()).unwrap_or(f64::NAN);
        let far = mmd_squared(&two_modes(1), &[cloud([-0.2, 1.0], 50, 3), cloud([2.0, 1.0], 50, 4)].concat()).unwrap_or(f64::NAN);
        assert!(same < near && near < far, "{same} < {near} < {far}");
        let collapsed = mmd_squared(&two_modes(1), &cloud([1.0, 0.0], 100, 3)).unwrap_or(f64::NAN);
        assert!(collapsed > 10.0 * same.abs().max(0.01), "one mode of two: {collapsed}");
        assert!(mmd_squared(&[[0.0, 0.0]], &two_modes(1)).is_err());
    }

    #[test]
    fn partial_images_are_refused() {
        assert!(gradient_energy(&[0.0; 5], 3, 2).is_err());
        assert!(gradient_energy(&[], 3, 2).is_err());
        assert!(gradient_energy(&[0.0; 4], 4, 1).is_err());
    }
}
