//! Small dense linear algebra used by the explainers (normal equations of a few dozen unknowns).

/// Solves `a · x = b` for a square row-major `n × n` matrix by LU with partial pivoting (as LAPACK's
/// `gesv`, which `np.linalg.solve` calls). Returns `None` when the matrix is exactly singular.
pub(crate) fn lu_solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Option<Vec<f64>> {
    for k in 0..n {
        let mut p = k;
        let mut best = a[k * n + k].abs();
        for i in (k + 1)..n {
            let v = a[i * n + k].abs();
            if v > best {
                best = v;
                p = i;
            }
        }
        if best == 0.0 || !best.is_finite() {
            return None;
        }
        if p != k {
            for j in 0..n {
                a.swap(k * n + j, p * n + j);
            }
            b.swap(k, p);
        }
        let pivot = a[k * n + k];
        for i in (k + 1)..n {
            let l = a[i * n + k] / pivot;
            if l != 0.0 {
                for j in (k + 1)..n {
                    a[i * n + j] -= l * a[k * n + j];
                }
                b[i] -= l * b[k];
            }
            a[i * n + k] = l;
        }
    }
    let mut x = b;
    for k in (0..n).rev() {
        let mut s = x[k];
        for j in (k + 1)..n {
            s -= a[k * n + j] * x[j];
        }
        x[k] = s / a[k * n + k];
    }
    Some(x)
}

/// Minimum-norm least-squares solution of the symmetric positive semi-definite system `a · x = b`
/// through a Jacobi eigendecomposition and a pseudo-inverse (relative cut-off `1e-12 · λ_max`), the
/// fallback when [`lu_solve`] finds the normal equations singular (shap falls back to `lstsq`).
pub(crate) fn sym_pinv_solve(a: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut m = a.to_vec();
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..100 {
        let mut off = 0.0;
        for i in 0..n {
            for j in (i + 1)..n {
                off += m[i * n + j] * m[i * n + j];
            }
        }
        if off < 1e-30 {
            break;
        }
        for p in 0..n {
            for q in (p + 1)..n {
                let apq = m[p * n + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q * n + q] - m[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let akp = m[k * n + p];
                    let akq = m[k * n + q];
                    m[k * n + p] = c * akp - s * akq;
                    m[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let apk = m[p * n + k];
                    let aqk = m[q * n + k];
                    m[p * n + k] = c * apk - s * aqk;
                    m[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let vkp = v[k * n + p];
                    let vkq = v[k * n + q];
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let lmax = (0..n).map(|i| m[i * n + i].abs()).fold(0.0, f64::max);
    let cut = 1e-12 * lmax;
    let mut x = vec![0.0; n];
    for e in 0..n {
        let lam = m[e * n + e];
        if lam.abs() <= cut || lam == 0.0 {
            continue;
        }
        let proj: f64 = (0..n).map(|k| v[k * n + e] * b[k]).sum::<f64>() / lam;
        for k in 0..n {
            x[k] += proj * v[k * n + e];
        }
    }
    x
}

/// Solves the symmetric normal equations, LU first, pseudo-inverse if singular.
pub(crate) fn solve_normal(a: Vec<f64>, b: Vec<f64>, n: usize) -> Vec<f64> {
    match lu_solve(a.clone(), b.clone(), n) {
        Some(x) if x.iter().all(|v| v.is_finite()) => x,
        _ => sym_pinv_solve(&a, &b, n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lu_solves_small_system() {
        let a = vec![4.0, 1.0, 2.0, 1.0, 3.0, 0.0, 2.0, 0.0, 5.0];
        let x = lu_solve(a, vec![7.0, 4.0, 7.0], 3).unwrap();
        for (got, want) in x.iter().zip([1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-14);
        }
    }

    #[test]
    fn pinv_gives_min_norm_on_singular() {
        // [[1,1],[1,1]] x = [2,2] -> min-norm solution (1, 1).
        let x = solve_normal(vec![1.0, 1.0, 1.0, 1.0], vec![2.0, 2.0], 2);
        assert!((x[0] - 1.0).abs() < 1e-12 && (x[1] - 1.0).abs() < 1e-12);
    }
}
