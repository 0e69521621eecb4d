//! Least-angle regression and the Lasso path (no intercept, no normalisation) as
//! `sklearn.linear_model.lars_path` (scikit-learn 1.9) computes them, shared by Kernel SHAP's `l1_reg`
//! (`"num_features(r)"`: 'lar' entry order; `"aic"`/`"bic"`: [`lasso_lars_ic`]) and LIME's `lasso_path`
//! feature selection.
//!
//! The port follows sklearn step for step, including its bookkeeping: the columns are permuted so that the
//! active ones come first (ties in `argmax |Cov|` therefore resolve in the permuted order, as in sklearn),
//! the Cholesky factor of the active Gram matrix is grown by a triangular solve and shrunk by Givens
//! rotations when the Lasso drops a variable, the correlations with the equiangular direction are rounded to
//! 15 decimals, the path stops when `C / n_samples ≤ f32::EPSILON`, and the Lasso stops early when alpha
//! grows again. It always works from the Gram matrix `XᵀX`
//! (sklearn does for `LassoLarsIC`; for `lars_path(X, y)` it updates the same quantities from `X`, which
//! differs only by rounding).

/// `np.finfo(np.float32).tiny`, which sklearn adds to the step denominators.
const TINY32: f64 = 1.175_494_350_822_287_5e-38;
/// `np.finfo(np.float32).eps`, sklearn's `equality_tolerance` of the stopping rule.
const EQUALITY_TOLERANCE: f64 = f32::EPSILON as f64;

/// Path method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LarsMethod {
    /// Least-angle regression (never drops a variable).
    Lar,
    /// The Lasso modification (a coefficient crossing zero leaves the active set).
    Lasso,
}

/// A computed path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LarsPath {
    /// Regularisation at each step (`max |Xᵀr| / n_samples`).
    pub alphas: Vec<f64>,
    /// Active variables at the end, in entry order.
    pub active: Vec<usize>,
    /// Coefficients at each step (`coefs[step][feature]`), starting from all zeros.
    pub coefs: Vec<Vec<f64>>,
}

/// `arrayfuncs.min_pos`: the smallest strictly positive value, `f64::MAX` when there is none.
fn min_pos(v: impl Iterator<Item = f64>) -> f64 {
    v.filter(|&x| x > 0.0).fold(f64::MAX, f64::min)
}

/// numpy's `around(x, 15)`: `rint(x · 1e15) / 1e15`.
fn around15(x: f64) -> f64 {
    (x * 1e15).round_ties_even() / 1e15
}

/// Gram matrix `XᵀX` and `Xᵀy` of a row-major `x` (`y.len() × n_cols`).
pub(crate) fn gram_and_cov(x: &[f64], y: &[f64], n_cols: usize) -> (Vec<f64>, Vec<f64>) {
    let mut gram = vec![0.0; n_cols * n_cols];
    let mut cov = vec![0.0; n_cols];
    for (r, &yr) in y.iter().enumerate() {
        let row = &x[r * n_cols..(r + 1) * n_cols];
        for i in 0..n_cols {
            if row[i] == 0.0 {
                continue;
            }
            cov[i] += row[i] * yr;
            for j in 0..n_cols {
                gram[i * n_cols + j] += row[i] * row[j];
            }
        }
    }
    (gram, cov)
}

/// `lars_path(X, y, method=…, max_iter=…, alpha_min=0)` of a row-major `x` (`y.len() × n_cols`).
pub(crate) fn lars_path(
    x: &[f64],
    y: &[f64],
    n_cols: usize,
    method: LarsMethod,
    max_iter: usize,
) -> LarsPath {
    debug_assert_eq!(x.len(), y.len() * n_cols);
    let (gram, cov) = gram_and_cov(x, y, n_cols);
    lars_path_gram(gram, cov, y.len(), n_cols, method, max_iter)
}

/// Swaps rows and columns `a` and `b` of a square row-major matrix.
fn swap_sym(g: &mut [f64], p: usize, a: usize, b: usize) {
    if a == b {
        return;
    }
    for k in 0..p {
        g.swap(a * p + k, b * p + k);
    }
    for k in 0..p {
        g.swap(k * p + a, k * p + b);
    }
}

/// `lars_path_gram(Xy, Gram, n_samples, …)`: the path from `XᵀX` and `Xᵀy`.
pub(crate) fn lars_path_gram(
    mut gram: Vec<f64>,
    cov_full: Vec<f64>,
    n_samples: usize,
    p: usize,
    method: LarsMethod,
    max_iter: usize,
) -> LarsPath {
    let gram_copy = gram.clone();
    let cov_copy = cov_full.clone();
    let mut cov = cov_full;
    let max_features = max_iter.min(p);
    let ld = max_features.max(1);
    let mut l = vec![0.0; ld * ld];
    let mut sign_active = vec![0.0; max_features];
    let mut indices: Vec<usize> = (0..p).collect();
    let mut active: Vec<usize> = Vec::new();
    let mut alphas = vec![0.0];
    let mut coefs = vec![vec![0.0; p]];
    let (mut n_iter, mut n_active) = (0usize, 0usize);
    let mut drop = false;
    let n = n_samples.max(1) as f64;
    loop {
        // np.argmax(|Cov|): the first maximum.
        let (c_idx, c_signed) = cov
            .iter()
            .enumerate()
            .fold(None::<(usize, f64)>, |b, (i, &v)| match b {
                Some((_, bv)) if bv.abs() >= v.abs() || v.is_nan() => b,
                _ => Some((i, v)),
            })
            .unwrap_or((0, 0.0));
        let c = c_signed.abs();
        let alpha = c / n;
        alphas[n_iter] = alpha;
        if alpha <= EQUALITY_TOLERANCE {
            break;
        }
        if n_iter >= max_iter || n_active >= p {
            break;
        }
        if !drop {
            sign_active[n_active] = if c_signed > 0.0 {
                1.0
            } else if c_signed < 0.0 {
                -1.0
            } else {
                0.0
            };
            let (m, nn) = (n_active, c_idx + n_active);
            cov.swap(c_idx, 0);
            indices.swap(nn, m);
            swap_sym(&mut gram, p, m, nn);
            let cdiag = gram[n_active * p + n_active];
            for k in 0..n_active {
                l[n_active * ld + k] = gram[n_active * p + k];
            }
            // Forward substitution: L[:k, :k] z = L[k, :k].
            for i in 0..n_active {
                let mut s = l[n_active * ld + i];
                for k in 0..i {
                    s -= l[i * ld + k] * l[n_active * ld + k];
                }
                l[n_active * ld + i] = s / l[i * ld + i];
            }
            let v: f64 = (0..n_active).map(|k| l[n_active * ld + k] * l[n_active * ld + k]).sum();
            let diag = (cdiag - v).abs().sqrt().max(f64::EPSILON);
            l[n_active * ld + n_active] = diag;
            if diag < 1e-7 {
                // Degenerate regressor: sklearn zeroes its correlation and carries on (keeping the swap).
                cov[0] = 0.0;
                cov.swap(c_idx, 0);
                continue;
            }
            cov.remove(0);
            active.push(indices[n_active]);
            n_active += 1;
        }
        if method == LarsMethod::Lasso && n_iter > 0 && alphas[n_iter - 1] < alpha {
            break;
        }
        let k = n_active;
        let signs = &sign_active[..k];
        let mut ls = chol_solve(&l, ld, k, signs);
        let aa;
        if k == 1 && ls[0] == 0.0 {
            ls[0] = 1.0;
            aa = 1.0;
        } else {
            let mut a = 1.0 / ls.iter().zip(signs).map(|(a, b)| a * b).sum::<f64>().sqrt();
            let mut i = 0;
            while !a.is_finite() && i < 64 {
                let mut lj = l.clone();
                for d in 0..k {
                    lj[d * ld + d] += 2f64.powi(i) * f64::EPSILON;
                }
                ls = chol_solve(&lj, ld, k, signs);
                let tmp = ls.iter().zip(signs).map(|(a, b)| a * b).sum::<f64>().max(f64::EPSILON);
                a = 1.0 / tmp.sqrt();
                i += 1;
            }
            aa = a;
            for v in &mut ls {
                *v *= aa;
            }
        }
        // Correlation of every inactive (permuted) column with the equiangular direction.
        let corr: Vec<f64> =
            (k..p).map(|j| around15((0..k).map(|i| gram[i * p + j] * ls[i]).sum::<f64>())).collect();
        let g1 = min_pos(cov.iter().zip(&corr).map(|(cv, a)| (c - cv) / (aa - a + TINY32)));
        let g2 = min_pos(cov.iter().zip(&corr).map(|(cv, a)| (c + cv) / (aa + a + TINY32)));
        let mut gamma = g1.min(g2).min(c / aa);
        drop = false;
        let coef_prev = coefs[n_iter].clone();
        let z: Vec<f64> = active.iter().zip(&ls).map(|(&a, &w)| -coef_prev[a] / (w + TINY32)).collect();
        let z_pos = min_pos(z.iter().copied());
        let mut idx: Vec<usize> = Vec::new();
        if z_pos < gamma {
            idx = (0..z.len()).rev().filter(|&i| z[i] == z_pos).collect();
            for &i in &idx {
                sign_active[i] = -sign_active[i];
            }
            if method == LarsMethod::Lasso {
                gamma = z_pos;
            }
            drop = true;
        }
        n_iter += 1;
        let mut coef = vec![0.0; p];
        for (&a, &w) in active.iter().zip(&ls) {
            coef[a] = coef_prev[a] + gamma * w;
        }
        for (cv, a) in cov.iter_mut().zip(&corr) {
            *cv -= gamma * a;
        }
        if drop && method == LarsMethod::Lasso {
            for &ii in &idx {
                cholesky_delete(&mut l, ld, n_active, ii);
            }
            n_active -= 1;
            let drop_idx: Vec<usize> = idx.iter().map(|&ii| active.remove(ii)).collect();
            for &ii in &idx {
                for i in ii..n_active {
                    indices.swap(i, i + 1);
                    swap_sym(&mut gram, p, i, i + 1);
                }
            }
            let temp: Vec<f64> = drop_idx
                .iter()
                .map(|&d| cov_copy[d] - (0..p).map(|j| gram_copy[d * p + j] * coef[j]).sum::<f64>())
                .collect();
            cov.splice(0..0, temp);
            for &ii in &idx {
                sign_active.remove(ii);
                sign_active.push(0.0);
            }
        }
        coefs.push(coef);
        alphas.push(0.0);
    }
    alphas.truncate(n_iter + 1);
    coefs.truncate(n_iter + 1);
    LarsPath { alphas, active, coefs }
}

/// LAPACK `potrs` with a lower factor: solves `L Lᵀ x = b` (`L` is `k × k` inside a row stride `ld`).
fn chol_solve(l: &[f64], ld: usize, k: usize, b: &[f64]) -> Vec<f64> {
    let mut z = b.to_vec();
    for i in 0..k {
        for q in 0..i {
            z[i] -= l[i * ld + q] * z[q];
        }
        z[i] /= l[i * ld + i];
    }
    for i in (0..k).rev() {
        for q in i + 1..k {
            z[i] -= l[q * ld + i] * z[q];
        }
        z[i] /= l[i * ld + i];
    }
    z
}

/// `arrayfuncs.cholesky_delete`: removes row/column `go_out` from the lower factor `L[:m, :m]` by shifting
/// the rows up and restoring the triangle with Givens rotations.
fn cholesky_delete(l: &mut [f64], ld: usize, m: usize, go_out: usize) {
    for i in go_out..m.saturating_sub(1) {
        for k in 0..i + 2 {
            l[i * ld + k] = l[(i + 1) * ld + k];
        }
    }
    for i in go_out..m.saturating_sub(1) {
        let (a, b) = (l[i * ld + i], l[i * ld + i + 1]);
        let (mut c, mut s, r) = rotg(a, b);
        l[i * ld + i] = r;
        if r < 0.0 {
            l[i * ld + i] = r.abs();
            c = -c;
            s = -s;
        }
        l[i * ld + i + 1] = 0.0;
        for row in i + 1..m {
            let (x, y) = (l[row * ld + i], l[row * ld + i + 1]);
            l[row * ld + i] = c * x + s * y;
            l[row * ld + i + 1] = c * y - s * x;
        }
    }
}

/// BLAS `drotg`: `(c, s, r)` with `[c s; −s c]·[a; b] = [r; 0]`, `r` carrying the sign of the larger input.
fn rotg(a: f64, b: f64) -> (f64, f64, f64) {
    if b == 0.0 {
        return (1.0, 0.0, a);
    }
    if a == 0.0 {
        return (0.0, 1.0, b);
    }
    let roe = if a.abs() > b.abs() { a } else { b };
    let r = a.hypot(b).copysign(roe);
    (a / r, b / r, r)
}

/// Which criterion [`lasso_lars_ic`] minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum InformationCriterion {
    /// Akaike: `2 · df`.
    Aic,
    /// Bayes: `ln(n) · df`.
    Bic,
}

/// `make_pipeline(StandardScaler(with_mean=False), LassoLarsIC(criterion)).fit(X, y)[1].coef_`, returned
/// as the indices of its non-zero coefficients (what shap keeps). `None` when there are too few rows for
/// sklearn's noise-variance estimate (`n_rows ≤ n_cols + 1`, where sklearn raises).
///
/// Steps: scale each column by its population std (1 for constant columns, as `_is_constant_feature`),
/// centre columns and `y`, take the Lasso path from the Gram matrix, then for every step
/// `n·ln(2πσ²) + RSS/σ² + k·df` with `df` the coefficients above `f64::EPSILON` in magnitude, `k = 2` (AIC)
/// or `ln n` (BIC), and `σ²` the residual variance of the full least-squares fit, `RSS_ols / (n − p − 1)`.
/// The first step with the smallest criterion wins.
pub(crate) fn lasso_lars_ic(
    x: &[f64],
    y: &[f64],
    n_cols: usize,
    criterion: InformationCriterion,
) -> Option<Vec<usize>> {
    let n = y.len();
    let p = n_cols;
    if n <= p + 1 {
        return None;
    }
    let nf = n as f64;
    let mut xs = x.to_vec();
    for j in 0..p {
        let mean = (0..n).map(|r| x[r * p + j]).sum::<f64>() / nf;
        let var = (0..n).map(|r| (x[r * p + j] - mean).powi(2)).sum::<f64>() / nf;
        let eps = f64::EPSILON;
        let constant = var <= nf * eps * var + (nf * mean * eps).powi(2);
        let scale = if constant { 1.0 } else { var.sqrt() };
        for r in 0..n {
            xs[r * p + j] /= scale;
        }
        // Centre (LassoLarsIC's fit_intercept=True preprocessing).
        let m2 = (0..n).map(|r| xs[r * p + j]).sum::<f64>() / nf;
        for r in 0..n {
            xs[r * p + j] -= m2;
        }
    }
    let ym = y.iter().sum::<f64>() / nf;
    let yc: Vec<f64> = y.iter().map(|v| v - ym).collect();
    let (gram, cov) = gram_and_cov(&xs, &yc, p);
    let path = lars_path_gram(gram.clone(), cov.clone(), n, p, LarsMethod::Lasso, 500);
    let rss = |coef: &[f64]| -> f64 {
        (0..n)
            .map(|r| {
                let pred: f64 = (0..p).map(|j| xs[r * p + j] * coef[j]).sum();
                (yc[r] - pred).powi(2)
            })
            .sum()
    };
    let ols = super::linalg::solve_normal(gram, cov, p);
    let noise = rss(&ols) / (n - p - 1) as f64;
    let factor = match criterion {
        InformationCriterion::Aic => 2.0,
        InformationCriterion::Bic => nf.ln(),
    };
    let crits: Vec<f64> = path
        .coefs
        .iter()
        .map(|coef| {
            let df = coef.iter().filter(|c| c.abs() > f64::EPSILON).count() as f64;
            nf * (2.0 * std::f64::consts::PI * noise).ln() + rss(coef) / noise + factor * df
        })
        .collect();
    // np.argmin: the first minimum (a NaN counts as the minimum).
    let mut k = 0;
    for (i, &c) in crits.iter().enumerate().skip(1) {
        if crits[k].is_nan() {
            break;
        }
        if c.is_nan() || c < crits[k] {
            k = i;
        }
    }
    Some((0..p).filter(|&j| path.coefs[k][j] != 0.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(x: &[f64], y: &[f64], p: usize, r: usize) -> Vec<usize> {
        lars_path(x, y, p, LarsMethod::Lar, r).active
    }

    #[test]
    fn orthogonal_columns_enter_by_correlation() {
        // Orthogonal columns: the path adds them by |xⱼᵀy| (here column 2, then 0, then 1).
        let x = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        let y = [2.0, -0.5, 3.0, 7.0];
        assert_eq!(order(&x, &y, 3, 10), vec![2, 0, 1]);
        assert_eq!(order(&x, &y, 3, 2), vec![2, 0]);
    }

    #[test]
    fn correlated_columns_enter_as_in_sklearn() {
        // y = x0 + x1 with x2 ≈ x0: sklearn.linear_model.lars_path(X, y, method="lar")[1] == [0, 1, 2].
        let rows = [[1.0, 0.0, 1.1], [0.0, 1.0, 0.1], [1.0, 1.0, 0.9], [2.0, -1.0, 2.0], [-1.0, 2.0, -1.2]];
        let x: Vec<f64> = rows.iter().flatten().copied().collect();
        let y: Vec<f64> = rows.iter().map(|r| r[0] + r[1]).collect();
        assert_eq!(order(&x, &y, 3, 3), vec![0, 1, 2]);
        assert_eq!(order(&x, &y, 3, 1), vec![0]);
    }

    #[test]
    fn zero_response_selects_nothing() {
        assert!(order(&[1.0, 2.0, 3.0, 4.0], &[0.0, 0.0], 2, 5).is_empty());
    }

    #[test]
    fn lasso_path_matches_sklearn_with_a_drop() {
        // sklearn 1.9.1 `lars_path(X, y, method="lasso")`: column 1 enters at step 1, leaves at step 4 and
        // re-enters at step 6 (7 steps for 4 columns).
        let rows = [
            [2.041, -2.556, 0.418, 0.547],
            [-0.453, -0.216, -2.02, -0.465],
            [-0.865, 3.323, 0.226, 0.838],
            [-0.281, -0.668, -1.055, -0.602],
            [0.482, -0.239, 0.958, 0.359],
            [0.024, 1.546, 0.545, 0.824],
            [-0.183, 0.541, 1.935, 0.11],
        ];
        let x: Vec<f64> = rows.iter().flatten().copied().collect();
        let y = [5.226, -1.498, -3.348, -0.507, 1.128, -0.671, 0.015];
        let want = [
            [0.0, 0.0, 0.0, 0.0],
            [0.0, -0.7961826297874142, 0.0, 0.0],
            [0.5932452252449167, -0.6797001329892823, 0.0, 0.0],
            [1.7625682517328953, -0.5723282462391402, 0.3503734203747945, 0.0],
            [2.8000822733857564, 0.0, 0.3494526646306931, -1.1575135267851446],
            [2.800511478749215, 0.0, 0.3500501245509165, -1.1592272416947311],
            [3.5808138139516257, 0.43067824055408405, 0.34875979394598505, -2.0285449539586353],
        ];
        let want_alphas = [
            3.588522714285715,
            1.2217830633359792,
            0.8915088897448908,
            0.0015360722248655304,
            0.0006595698949906153,
            0.00038579411442485345,
            0.0,
        ];
        let path = lars_path(&x, &y, 4, LarsMethod::Lasso, 500);
        assert_eq!(path.coefs.len(), want.len());
        // 1e-11: the last step is short and ill-conditioned (cond(X) = 83); sklearn's own Gram-based path
        // (`Gram=X.T @ X`) differs from these X-based values by 1.0e-12 there, ours by 1.2e-12.
        for (got, w) in path.coefs.iter().zip(&want) {
            for (a, b) in got.iter().zip(w) {
                assert!((a - b).abs() < 1e-11, "{got:?} vs {w:?}");
            }
        }
        for (a, b) in path.alphas.iter().zip(&want_alphas) {
            assert!((a - b).abs() < 1e-12, "{:?}", path.alphas);
        }
        assert_eq!(path.active, vec![0, 2, 3, 1]);
    }
}
