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

    #[test]
    fn partial_images_are_refused() {
        assert!(gradient_energy(&[0.0; 5], 3, 2).is_err());
        assert!(gradient_energy(&[], 3, 2).is_err());
        assert!(gradient_energy(&[0.0; 4], 4, 1).is_err());
    }
}
