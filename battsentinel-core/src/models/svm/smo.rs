//! Sequential minimal optimisation for the SVM duals (C-SVC and one-class), as libsvm solves them.
//!
//! The problem is `min ½ αᵀQα + pᵀα` subject to `yᵀα = Δ` and `0 ≤ αₜ ≤ Cₜ`, with
//! `Q_st = y_s y_t K(x_s, x_t)` and `y ∈ {−1, +1}`. Each iteration changes two variables:
//! the working set is chosen with second-order information (Fan, Chen & Lin, "Working set selection
//! using second order information for training support vector machines", JMLR 6, 2005, WSS 3), the pair
//! is solved analytically and clipped to the box, and the gradient `G = Qα + p` is updated with the two
//! kernel rows. The solver stops when the maximal violation `m(α) − M(α)` falls below `eps`, and `ρ` is
//! the mean of `y_t G_t` over the free variables (the midpoint of the feasible interval when none is
//! free) — the rules of the LIBSVM paper (Chang & Lin, 2011, §4.1–4.3).
//!
//! Kernel rows are computed when first needed and kept in a least-recently-used cache with a byte
//! budget (libsvm's design). Differences from libsvm: no shrinking (libsvm shrinks inactive variables
//! by default; that changes the iteration path, not the optimum), and kernel values are kept in `f64`
//! where libsvm caches `f32`.

use super::SvmKernel;

/// `τ`: the curvature used when `K_ii + K_tt − 2K_it ≤ 0` (libsvm's `TAU`).
const TAU: f64 = 1e-12;

/// Kernel-row cache budget (libsvm's default `cache_size` is 200 MB).
#[cfg(not(target_arch = "wasm32"))]
const CACHE_BYTES: usize = 200 << 20;
#[cfg(target_arch = "wasm32")]
const CACHE_BYTES: usize = 64 << 20;

/// Training rows, row-major, with the kernel.
pub(crate) struct Rows<'a> {
    pub x: &'a [f64],
    pub d: usize,
    pub kernel: SvmKernel,
}

impl Rows<'_> {
    fn len(&self) -> usize {
        self.x.len().checked_div(self.d).unwrap_or(0)
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }

    /// `K(x_i, x_t)` for every `t`.
    fn kernel_row(&self, i: usize, out: &mut [f64]) {
        let xi = self.row(i);
        for (t, o) in out.iter_mut().enumerate() {
            *o = self.kernel.eval(xi, self.row(t));
        }
    }
}

/// Kernel rows computed on demand, least recently used evicted beyond the budget.
struct RowCache {
    rows: Vec<Option<Box<[f64]>>>,
    last_used: Vec<u64>,
    clock: u64,
    held: usize,
    max_rows: usize,
}

impl RowCache {
    fn new(n: usize) -> Self {
        let max_rows = (CACHE_BYTES / (n.max(1) * std::mem::size_of::<f64>())).max(2);
        RowCache { rows: vec![None; n], last_used: vec![0; n], clock: 0, held: 0, max_rows }
    }

    /// Makes row `i` present, never evicting row `keep`.
    fn ensure(&mut self, rows: &Rows<'_>, i: usize, keep: usize) {
        self.clock += 1;
        self.last_used[i] = self.clock;
        if self.rows[i].is_some() {
            return;
        }
        let mut buf = None;
        if self.held >= self.max_rows {
            let victim = (0..self.rows.len())
                .filter(|&t| t != i && t != keep && self.rows[t].is_some())
                .min_by_key(|&t| self.last_used[t]);
            if let Some(v) = victim {
                buf = self.rows[v].take();
                self.held -= 1;
            }
        }
        let mut row = buf.unwrap_or_else(|| vec![0.0; self.rows.len()].into_boxed_slice());
        rows.kernel_row(i, &mut row);
        self.rows[i] = Some(row);
        self.held += 1;
    }

    fn get(&self, i: usize) -> &[f64] {
        self.rows[i].as_deref().unwrap_or(&[])
    }
}

/// The solved dual.
pub(crate) struct Solution {
    pub alpha: Vec<f64>,
    pub rho: f64,
    /// SMO iterations; the solver stops at `max(10⁷, 100·n)` unconverged, as libsvm.
    pub iterations: usize,
}

/// Solves the dual for labels `y` (±1), linear term `p`, upper bounds `c` and a feasible start `alpha`.
pub(crate) fn solve(rows: &Rows<'_>, y: &[f64], p: &[f64], c: &[f64], alpha: Vec<f64>, eps: f64) -> Solution {
    solve_in(rows, y, p, c, alpha, eps, RowCache::new(rows.len()))
}

fn solve_in(
    rows: &Rows<'_>,
    y: &[f64],
    p: &[f64],
    c: &[f64],
    mut alpha: Vec<f64>,
    eps: f64,
    mut cache: RowCache,
) -> Solution {
    let n = rows.len();
    let qd: Vec<f64> = (0..n).map(|t| rows.kernel.eval(rows.row(t), rows.row(t))).collect();
    let mut g = p.to_vec();
    for j in 0..n {
        if alpha[j] > 0.0 {
            cache.ensure(rows, j, j);
            let (kj, a) = (cache.get(j), alpha[j] * y[j]);
            for ((gt, &yt), &k) in g.iter_mut().zip(y).zip(kj) {
                *gt += a * yt * k;
            }
        }
    }
    let max_iter = 10_000_000usize.max(100 * n);
    let mut iterations = 0;
    while iterations < max_iter {
        let Some((i, j)) = select_working_set(rows, &mut cache, y, c, &alpha, &g, &qd, eps) else {
            break;
        };
        iterations += 1;
        cache.ensure(rows, i, j);
        cache.ensure(rows, j, i);
        let (ki, kj) = (cache.get(i), cache.get(j));
        let (old_i, old_j) = (alpha[i], alpha[j]);
        let (ci, cj) = (c[i], c[j]);
        let mut quad = qd[i] + qd[j] - 2.0 * ki[j];
        if quad <= 0.0 {
            quad = TAU;
        }
        let (mut ai, mut aj) = (old_i, old_j);
        if y[i] != y[j] {
            let delta = (-g[i] - g[j]) / quad;
            let diff = ai - aj;
            ai += delta;
            aj += delta;
            if diff > 0.0 {
                if aj < 0.0 {
                    aj = 0.0;
                    ai = diff;
                }
            } else if ai < 0.0 {
                ai = 0.0;
                aj = -diff;
            }
            if diff > ci - cj {
                if ai > ci {
                    ai = ci;
                    aj = ci - diff;
                }
            } else if aj > cj {
                aj = cj;
                ai = cj + diff;
            }
        } else {
            let delta = (g[i] - g[j]) / quad;
            let sum = ai + aj;
            ai -= delta;
            aj += delta;
            clip_fixed_sum(&mut ai, &mut aj, ci, sum);
            clip_fixed_sum(&mut aj, &mut ai, cj, sum);
        }
        alpha[i] = ai;
        alpha[j] = aj;
        // G_t += Q_ti·Δα_i + Q_tj·Δα_j, with Q_ts = y_t·y_s·K_ts.
        let (di, dj) = (y[i] * (ai - old_i), y[j] * (aj - old_j));
        for (((gt, &yt), &a), &b) in g.iter_mut().zip(y).zip(ki).zip(kj) {
            *gt += yt * (di * a + dj * b);
        }
    }
    let rho = calculate_rho(y, c, &alpha, &g);
    Solution { alpha, rho, iterations }
}

/// Clips a pair moving along `first + second = sum` at `first`'s side of the box: past its upper bound
/// `c_first` when the sum allows it, else `second` below zero.
fn clip_fixed_sum(first: &mut f64, second: &mut f64, c_first: f64, sum: f64) {
    if sum > c_first {
        if *first > c_first {
            *first = c_first;
            *second = sum - c_first;
        }
    } else if *second < 0.0 {
        *second = 0.0;
        *first = sum;
    }
}

/// WSS 3: `i` maximises `−y_t G_t` over `I_up`; `j` minimises `−b²/a` over `t ∈ I_low` with
/// `b = m(α) + y_t G_t > 0`, `a = K_ii + K_tt − 2K_it`. `None` when `m(α) − M(α) < eps`. Ties go to the
/// last index, as libsvm's `>=` comparisons.
#[allow(clippy::too_many_arguments)]
fn select_working_set(
    rows: &Rows<'_>,
    cache: &mut RowCache,
    y: &[f64],
    c: &[f64],
    alpha: &[f64],
    g: &[f64],
    qd: &[f64],
    eps: f64,
) -> Option<(usize, usize)> {
    let mut gmax = f64::NEG_INFINITY;
    let mut gmax_idx = None;
    for t in 0..y.len() {
        let v = if y[t] > 0.0 {
            if alpha[t] >= c[t] {
                continue;
            }
            -g[t]
        } else {
            if alpha[t] <= 0.0 {
                continue;
            }
            g[t]
        };
        if v >= gmax {
            gmax = v;
            gmax_idx = Some(t);
        }
    }
    let i = gmax_idx?;
    cache.ensure(rows, i, i);
    let ki = cache.get(i);
    let mut gmax2 = f64::NEG_INFINITY;
    let mut best = None;
    let mut obj_min = f64::INFINITY;
    for t in 0..y.len() {
        // `yg` = y_t·G_t for t ∈ I_low; the violation with i is `gmax + yg`.
        let yg = if y[t] > 0.0 {
            if alpha[t] <= 0.0 {
                continue;
            }
            g[t]
        } else {
            if alpha[t] >= c[t] {
                continue;
            }
            -g[t]
        };
        if yg >= gmax2 {
            gmax2 = yg;
        }
        let grad_diff = gmax + yg;
        if grad_diff > 0.0 {
            let quad = qd[i] + qd[t] - 2.0 * ki[t];
            let obj = -(grad_diff * grad_diff) / if quad > 0.0 { quad } else { TAU };
            if obj <= obj_min {
                best = Some(t);
                obj_min = obj;
            }
        }
    }
    if gmax + gmax2 < eps {
        return None;
    }
    best.map(|j| (i, j))
}

/// `ρ`: mean of `y_t G_t` over free variables, else the midpoint of the bounds the KKT conditions give.
fn calculate_rho(y: &[f64], c: &[f64], alpha: &[f64], g: &[f64]) -> f64 {
    let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut sum, mut free) = (0.0, 0usize);
    for t in 0..y.len() {
        let yg = y[t] * g[t];
        if alpha[t] >= c[t] {
            if y[t] < 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else if alpha[t] <= 0.0 {
            if y[t] > 0.0 {
                ub = ub.min(yg);
            } else {
                lb = lb.max(yg);
            }
        } else {
            free += 1;
            sum += yg;
        }
    }
    if free > 0 {
        sum / free as f64
    } else {
        (ub + lb) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two points per class on a line: the maximal-margin solution is known in closed form.
    #[test]
    fn linear_two_point_problem_has_the_closed_form_solution() {
        // x = −1 (y = −1) and x = +1 (y = +1), linear kernel, C large: w = 1, b = 0, α = ½ each.
        let x = [-1.0, 1.0];
        let rows = Rows { x: &x, d: 1, kernel: SvmKernel::Linear };
        let s = solve(&rows, &[-1.0, 1.0], &[-1.0, -1.0], &[10.0, 10.0], vec![0.0, 0.0], 1e-6);
        assert!(s.iterations < 10);
        assert!((s.alpha[0] - 0.5).abs() < 1e-9 && (s.alpha[1] - 0.5).abs() < 1e-9, "{:?}", s.alpha);
        assert!(s.rho.abs() < 1e-9);
    }

    #[test]
    fn box_constraint_binds_when_c_is_small() {
        let x = [-1.0, 1.0];
        let rows = Rows { x: &x, d: 1, kernel: SvmKernel::Linear };
        let s = solve(&rows, &[-1.0, 1.0], &[-1.0, -1.0], &[0.1, 0.1], vec![0.0, 0.0], 1e-6);
        assert_eq!(s.alpha, vec![0.1, 0.1]);
    }

    #[test]
    fn a_cache_of_two_rows_gives_the_same_solution_as_a_full_one() {
        let n = 40;
        let x: Vec<f64> = (0..n * 2).map(|k| ((k * 37 % 23) as f64 - 11.0) / 7.0).collect();
        let y: Vec<f64> =
            (0..n).map(|t| if x[2 * t] + 0.3 * x[2 * t + 1] > 0.0 { 1.0 } else { -1.0 }).collect();
        let rows = Rows { x: &x, d: 2, kernel: SvmKernel::Rbf { gamma: 0.7 } };
        let (p, c) = (vec![-1.0; n], vec![1.0; n]);
        let full = solve(&rows, &y, &p, &c, vec![0.0; n], 1e-6);
        let mut small = RowCache::new(n);
        small.max_rows = 2;
        let tight = solve_in(&rows, &y, &p, &c, vec![0.0; n], 1e-6, small);
        assert!(full.iterations > 10 && full.iterations < 10_000);
        assert_eq!(full.iterations, tight.iterations);
        assert_eq!(full.alpha, tight.alpha);
        assert_eq!(full.rho, tight.rho);
        // Feasible: yᵀα = 0 and 0 ≤ α ≤ C.
        let ya: f64 = full.alpha.iter().zip(&y).map(|(a, y)| a * y).sum();
        assert!(ya.abs() < 1e-12, "yᵀα = {ya}");
        assert!(full.alpha.iter().all(|&a| (0.0..=1.0).contains(&a)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        /// On random problems the solution is feasible and optimal: with the gradient recomputed from
        /// scratch, the largest violation `max_{I_up} −y_t G_t − min_{I_low} −y_t G_t` is below `eps`.
        #[test]
        fn solutions_are_feasible_and_satisfy_kkt(
            n in 2usize..40,
            d in 1usize..4,
            seed in 0u64..1_000,
            c in 0.05f64..20.0,
            gamma in 0.05f64..3.0,
        ) {
            use rand::Rng as _;
            let mut g = crate::rng::seeded(seed);
            let x: Vec<f64> = (0..n * d).map(|_| g.gen_range(-2.0..2.0)).collect();
            let mut y: Vec<f64> = (0..n).map(|_| if g.gen_bool(0.5) { 1.0 } else { -1.0 }).collect();
            y[0] = 1.0;
            y[1] = -1.0;
            let rows = Rows { x: &x, d, kernel: SvmKernel::Rbf { gamma } };
            let eps = 1e-6;
            let s = solve(&rows, &y, &vec![-1.0; n], &vec![c; n], vec![0.0; n], eps);
            let ya: f64 = s.alpha.iter().zip(&y).map(|(a, y)| a * y).sum();
            proptest::prop_assert!(ya.abs() < 1e-9 * c * n as f64);
            proptest::prop_assert!(s.alpha.iter().all(|&a| (0.0..=c).contains(&a)));
            let mut up = f64::NEG_INFINITY;
            let mut low = f64::INFINITY;
            for t in 0..n {
                let grad: f64 = -1.0
                    + (0..n).map(|u| y[t] * y[u] * s.alpha[u] * rows.kernel.eval(rows.row(t), rows.row(u))).sum::<f64>();
                let v = -y[t] * grad;
                let in_up = (y[t] > 0.0 && s.alpha[t] < c) || (y[t] < 0.0 && s.alpha[t] > 0.0);
                let in_low = (y[t] < 0.0 && s.alpha[t] < c) || (y[t] > 0.0 && s.alpha[t] > 0.0);
                if in_up {
                    up = up.max(v);
                }
                if in_low {
                    low = low.min(v);
                }
            }
            proptest::prop_assert!(up - low < eps * 1.01 + 1e-9, "violation {}", up - low);
        }
    }
}
