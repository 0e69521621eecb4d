//! Least-angle regression ('lar', no intercept, no normalisation) as `sklearn.linear_model.lars_path`
//! computes it, reduced to what Kernel SHAP's `l1_reg="num_features(r)"` uses: the active set in entry order.
//!
//! Each step adds the inactive column with the largest absolute correlation with the residual, then moves
//! the coefficients of the active set along the equiangular direction until another column's correlation
//! catches up (or the least-squares fit of the active set is reached). 'lar' never drops a variable.
//! Correlations are kept through the Gram matrix `XᵀX` (the same quantities sklearn updates from `X`).

/// `np.finfo(np.float32).tiny`, which sklearn adds to the step denominators.
const TINY32: f64 = 1.175_494_350_822_287_5e-38;

/// The first `max_iter` columns to enter a 'lar' path of `y` on `x` (row-major, `n_rows × n_cols`), in entry
/// order. Stops early when every column is active or the largest correlation is zero (to `f64::EPSILON`,
/// as sklearn's `alpha_min = 0`).
pub(crate) fn lars_order(x: &[f64], y: &[f64], n_cols: usize, max_iter: usize) -> Vec<usize> {
    let n_rows = y.len();
    debug_assert_eq!(x.len(), n_rows * n_cols);
    let mut gram = vec![0.0; n_cols * n_cols];
    let mut cov = vec![0.0; n_cols];
    for r in 0..n_rows {
        let row = &x[r * n_cols..(r + 1) * n_cols];
        for i in 0..n_cols {
            if row[i] == 0.0 {
                continue;
            }
            cov[i] += row[i] * y[r];
            for j in 0..n_cols {
                gram[i * n_cols + j] += row[i] * row[j];
            }
        }
    }
    let mut active: Vec<usize> = Vec::new();
    let mut signs: Vec<f64> = Vec::new();
    let mut is_active = vec![false; n_cols];
    loop {
        // The largest absolute correlation among the inactive columns (first index on ties, as argmax).
        let best = (0..n_cols).filter(|&j| !is_active[j]).fold(None::<usize>, |b, j| match b {
            Some(i) if cov[i].abs() >= cov[j].abs() => Some(i),
            _ => Some(j),
        });
        let Some(j_max) = best else { break };
        let c_max = cov[j_max].abs();
        if active.len() >= max_iter || c_max / n_rows as f64 <= f64::EPSILON {
            break;
        }
        active.push(j_max);
        signs.push(cov[j_max].signum());
        is_active[j_max] = true;
        let k = active.len();
        // Equiangular direction: w = A · G_AA⁻¹ s, A = (sᵀ G_AA⁻¹ s)^(-1/2).
        let mut g = vec![0.0; k * k];
        for (a, &ia) in active.iter().enumerate() {
            for (b, &ib) in active.iter().enumerate() {
                g[a * k + b] = gram[ia * n_cols + ib];
            }
        }
        let Some(mut w) = cholesky_solve(&mut g, &signs, k) else { break };
        let s_w: f64 = w.iter().zip(&signs).map(|(a, b)| a * b).sum();
        if s_w <= 0.0 || !s_w.is_finite() {
            break;
        }
        let aa = 1.0 / s_w.sqrt();
        for v in &mut w {
            *v *= aa;
        }
        if k == n_cols {
            break;
        }
        // Correlation of every inactive column with the direction, and the step to the next entrant.
        let mut corr_dir = vec![0.0; n_cols];
        let mut gamma = c_max / aa;
        for j in (0..n_cols).filter(|&j| !is_active[j]) {
            let a_j: f64 = active.iter().zip(&w).map(|(&i, &wi)| gram[j * n_cols + i] * wi).sum();
            corr_dir[j] = a_j;
            for step in [(c_max - cov[j]) / (aa - a_j + TINY32), (c_max + cov[j]) / (aa + a_j + TINY32)] {
                if step > 0.0 && step < gamma {
                    gamma = step;
                }
            }
        }
        for j in (0..n_cols).filter(|&j| !is_active[j]) {
            cov[j] -= gamma * corr_dir[j];
        }
        // Active correlations all shrink to C − γA (only their magnitude matters: they stay out of argmax).
    }
    active
}

/// Solves `G z = b` for a symmetric positive definite `k × k` matrix by Cholesky (in place); `None` when the
/// active columns are collinear.
fn cholesky_solve(g: &mut [f64], b: &[f64], k: usize) -> Option<Vec<f64>> {
    for j in 0..k {
        let mut d = g[j * k + j];
        for p in 0..j {
            d -= g[j * k + p] * g[j * k + p];
        }
        if d <= f64::EPSILON * g[j * k + j].abs().max(f64::MIN_POSITIVE) {
            return None;
        }
        let d = d.sqrt();
        g[j * k + j] = d;
        for i in j + 1..k {
            let mut s = g[i * k + j];
            for p in 0..j {
                s -= g[i * k + p] * g[j * k + p];
            }
            g[i * k + j] = s / d;
        }
    }
    let mut z = b.to_vec();
    for i in 0..k {
        for p in 0..i {
            z[i] -= g[i * k + p] * z[p];
        }
        z[i] /= g[i * k + i];
    }
    for i in (0..k).rev() {
        for p in i + 1..k {
            z[i] -= g[p * k + i] * z[p];
        }
        z[i] /= g[i * k + i];
    }
    Some(z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orthogonal_columns_enter_by_correlation() {
        // Orthogonal columns: the path adds them by |xⱼᵀy| (here column 2, then 0, then 1).
        let x = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let y = [2.0, -0.5, 3.0, 7.0];
        assert_eq!(lars_order(&x, &y, 3, 10), vec![2, 0, 1]);
        assert_eq!(lars_order(&x, &y, 3, 2), vec![2, 0]);
    }

    #[test]
    fn correlated_columns_enter_as_in_sklearn() {
        // y = x0 + x1 with x2 ≈ x0: sklearn.linear_model.lars_path(X, y, method="lar")[1] == [0, 1, 2].
        let rows = [[1.0, 0.0, 1.1], [0.0, 1.0, 0.1], [1.0, 1.0, 0.9], [2.0, -1.0, 2.0], [-1.0, 2.0, -1.2]];
        let x: Vec<f64> = rows.iter().flatten().copied().collect();
        let y: Vec<f64> = rows.iter().map(|r| r[0] + r[1]).collect();
        assert_eq!(lars_order(&x, &y, 3, 3), vec![0, 1, 2]);
        assert_eq!(lars_order(&x, &y, 3, 1), vec![0]);
    }

    #[test]
    fn zero_response_selects_nothing() {
        assert!(lars_order(&[1.0, 2.0, 3.0, 4.0], &[0.0, 0.0], 2, 5).is_empty());
    }
}
