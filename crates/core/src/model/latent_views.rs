//! The latent codes behind the latent-space views, the same for the CLI's figures and the app:
//! which two dimensions to show, a grid of codes over them (the decoded "manifold"), and straight
//! lines between two posterior means (interpolation strips).
//!
//! Only codes are made here; any engine decodes them.

/// The two latent dimensions whose posterior means vary most over `means` (rows × latent): the
/// ones a 2D scatter or manifold should show (collapsed dimensions barely vary). With one latent
/// dimension both are 0.
pub fn most_varied_dims(means: &[f32], latent: usize) -> (usize, usize) {
    if latent < 2 {
        return (0, 0);
    }
    let rows = means.len() / latent;
    let variance = |d: usize| {
        let column = means.chunks_exact(latent).map(|row| f64::from(row[d]));
        let mean = column.clone().sum::<f64>() / rows.max(1) as f64;
        column.map(|v| (v - mean) * (v - mean)).sum::<f64>()
    };
    let mut order: Vec<(usize, f64)> = (0..latent).map(|d| (d, variance(d))).collect();
    // Largest first; ties keep the lower dimension first, so the choice is stable.
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let (first, second) = (order[0].0, order[1].0);
    (first.min(second), first.max(second))
}

/// `side × side` codes on an even grid over [−extent, extent]² in dimensions `dims` (0 elsewhere),
/// row-major from the top left: y falls down the rows, x rises along them, as on a plot.
pub fn manifold_grid(latent: usize, dims: (usize, usize), side: usize, extent: f32) -> Vec<f32> {
    let mut codes = vec![0.0; side * side * latent];
    let at = |i: usize| if side < 2 { 0.0 } else { -extent + 2.0 * extent * i as f32 / (side - 1) as f32 };
    for row in 0..side {
        for col in 0..side {
            let code = &mut codes[(row * side + col) * latent..][..latent];
            code[dims.0] += at(col);
            if dims.1 != dims.0 {
                code[dims.1] += at(side - 1 - row);
            }
        }
    }
    codes
}

/// `steps` codes from `from` to `to` inclusive, evenly spaced (steps ≥ 2).
pub fn interpolate(from: &[f32], to: &[f32], steps: usize) -> Vec<f32> {
    let steps = steps.max(2);
    (0..steps)
        .flat_map(|i| {
            let t = i as f32 / (steps - 1) as f32;
            from.iter().zip(to).map(move |(a, b)| a + (b - a) * t)
        })
        .collect()
}

/// Pairs of positions in `labels` (the held-out rows' classes) for interpolation strips: the first
/// row of class c with the first row of class c+1, for classes 0, 2, 4, … (at most `pairs`).
pub fn class_pairs(labels: &[u8], pairs: usize) -> Vec<(usize, usize)> {
    let first_of = |class: u8| labels.iter().position(|&l| l == class);
    (0..=u8::MAX).step_by(2).map_while(|c| first_of(c).map(|a| (c, a))).filter_map(|(c, a)| first_of(c + 1).map(|b| (a, b))).take(pairs).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_dimensions_that_vary() {
        // Dimension 1 and 3 vary, 0 and 2 are (nearly) constant: a collapsed posterior.
        let means: Vec<f32> = (0..50).flat_map(|i| [0.01, i as f32, 0.0, -(i as f32) * 0.5]).collect();
        assert_eq!(most_varied_dims(&means, 4), (1, 3));
        assert_eq!(most_varied_dims(&[1.0, 2.0], 1), (0, 0));
    }

    #[test]
    fn grid_spans_the_extent_in_the_chosen_dimensions() {
        let g = manifold_grid(3, (0, 2), 3, 2.0);
        assert_eq!(g.len(), 27);
        assert_eq!(&g[0..3], &[-2.0, 0.0, 2.0], "top left: x lowest, y highest");
        assert_eq!(&g[24..27], &[2.0, 0.0, -2.0], "bottom right");
        assert!(g.chunks(3).all(|c| c[1] == 0.0));
    }

    #[test]
    fn interpolation_runs_from_one_code_to_the_other() {
        let line = interpolate(&[0.0, 1.0], &[1.0, -1.0], 3);
        assert_eq!(line, vec![0.0, 1.0, 0.5, 0.0, 1.0, -1.0]);
    }

    #[test]
    fn pairs_link_neighbouring_classes() {
        let labels = [3, 1, 0, 2, 1, 0, 3];
        assert_eq!(class_pairs(&labels, 5), vec![(2, 1), (3, 0)]);
        assert_eq!(class_pairs(&labels, 1), vec![(2, 1)]);
        assert!(class_pairs(&[5, 5], 3).is_empty());
    }
}
