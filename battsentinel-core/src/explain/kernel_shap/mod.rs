//! Kernel SHAP exactly as `shap.KernelExplainer` (0.51) computes it.
//!
//! Steps per instance (see `shared/reference/xai/ALGORITHMS.md` §2): varying-player detection with numpy's
//! `allclose` tolerances; the coalition design of [`CoalitionPlan`] (complete enumeration of the subset sizes
//! that fit in the budget, seeded paired sampling of the rest); one model evaluation per coalition and
//! background row, in batches that respect the memory budget (in parallel with feature `parallel`); the
//! background-weighted mean per coalition; the link; and the weighted least-squares fit with the efficiency
//! constraint imposed by eliminating the last player, so Σφ = link(f(x)) − link(E f) exactly.

mod params;
mod plan;

pub use params::{KernelShapParams, KernelShapValidParams, L1Reg, DEFAULT_MEMORY_BUDGET_BYTES};
pub use plan::{auto_nsamples, CoalitionPlan};

use ndarray::{Array2, ArrayView1, ArrayView2};

use super::background::check_finite;
use super::lars::{self, InformationCriterion, LarsMethod};
use super::linalg::solve_normal;
use super::{Background, ExplainError, Explanation, ExplanationSet, Predictor, TreeEnsemble};
use crate::numeric::dot;
use crate::params::ParamGuard;

/// Kernel SHAP explainer over any batch [`Predictor`] and a (weighted) [`Background`].
///
/// # Examples
/// ```
/// use battsentinel_core::explain::{Background, FnPredictor, KernelExplainer, KernelShapParams};
/// use ndarray::array;
/// // f(x) = 3 x0 − x1: SHAP values are coef · (x − mean(background)).
/// let model = FnPredictor::new(1, |rows, mut out| {
///     for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
///         o[0] = 3.0 * r[0] - r[1];
///     }
/// });
/// let bg = Background::new(array![[0.0, 0.0], [2.0, 4.0]]).unwrap();
/// let explainer = KernelExplainer::new(model, bg, &KernelShapParams::default()).unwrap();
/// let e = explainer.explain(array![3.0, 1.0].view()).unwrap();
/// assert!((e.values[[0, 0]] - 3.0 * (3.0 - 1.0)).abs() < 1e-12);
/// assert!((e.values[[1, 0]] + (1.0 - 2.0)).abs() < 1e-12);
/// ```
pub struct KernelExplainer<P> {
    model: P,
    background: Background,
    groups: Vec<Vec<usize>>,
    names: Vec<String>,
    params: KernelShapValidParams,
    fnull: Vec<f64>,
    expected_value: Vec<f64>,
}

impl<P: Predictor> KernelExplainer<P> {
    /// Builds the explainer: one model call on the whole background gives `E f` and the expected value.
    ///
    /// # Errors
    /// [`ExplainError::Params`] for invalid params, [`ExplainError::ShapeMismatch`] when the model returns
    /// the wrong number of rows, [`ExplainError::NonFinite`] for NaN outputs, [`ExplainError::LinkDomain`]
    /// for a logit link on non-probabilities.
    pub fn new(model: P, background: Background, params: &KernelShapParams) -> Result<Self, ExplainError> {
        let params = params.check_ref()?.clone();
        let p = background.n_features();
        let groups = (0..p).map(|j| vec![j]).collect();
        let names = (0..p).map(|j| format!("x{j}")).collect();
        let f0 = predict_checked(&model, background.data())?;
        let d = model.n_outputs();
        let mut fnull = vec![0.0; d];
        for (row, w) in f0.rows().into_iter().zip(background.weights()) {
            for (a, v) in fnull.iter_mut().zip(row) {
                *a += w * v;
            }
        }
        let expected_value = fnull
            .iter()
            .enumerate()
            .map(|(k, v)| params.link().apply(*v, k))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { model, background, groups, names, params, fnull, expected_value })
    }

    /// Names the features (one name per background column).
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when the count differs from the number of players.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, ExplainError> {
        if names.len() != self.groups.len() {
            return Err(ExplainError::ShapeMismatch {
                what: "feature names",
                expected: self.groups.len(),
                got: names.len(),
            });
        }
        self.names = names;
        Ok(self)
    }

    /// Feature groups: each group (a list of columns, e.g. a one-hot categorical) is one player.
    ///
    /// # Errors
    /// [`ExplainError::InvalidGroup`] for an empty group or a column out of range;
    /// [`ExplainError::ShapeMismatch`] when `names` and `groups` differ in length.
    pub fn with_groups(mut self, groups: Vec<Vec<usize>>, names: Vec<String>) -> Result<Self, ExplainError> {
        let p = self.background.n_features();
        if names.len() != groups.len() {
            return Err(ExplainError::ShapeMismatch {
                what: "group names",
                expected: groups.len(),
                got: names.len(),
            });
        }
        for (g, cols) in groups.iter().enumerate() {
            if cols.is_empty() {
                return Err(ExplainError::InvalidGroup { group: g, column: usize::MAX, n_features: p });
            }
            if let Some(&c) = cols.iter().find(|&&c| c >= p) {
                return Err(ExplainError::InvalidGroup { group: g, column: c, n_features: p });
            }
        }
        self.groups = groups;
        self.names = names;
        Ok(self)
    }

    /// Expected value per output, in link space (`link(Σ w_b f(b))`).
    pub fn expected_value(&self) -> &[f64] {
        &self.expected_value
    }

    /// Background-weighted mean of the raw model output.
    pub fn fnull(&self) -> &[f64] {
        &self.fnull
    }

    /// Names of the players.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// The validated parameters.
    pub fn params(&self) -> &KernelShapValidParams {
        &self.params
    }

    /// Explains one instance (all coalition batches evaluated in parallel with feature `parallel`).
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when `x` has the wrong length; [`ExplainError::BudgetTooSmall`] when
    /// the memory budget cannot hold one coalition; model and link errors.
    pub fn explain(&self, x: ArrayView1<'_, f64>) -> Result<Explanation, ExplainError> {
        self.explain_with(x, self.params.seed(), self.threads())
    }

    /// Explains every row of `xs` (with feature `parallel`: over instances for tree ensembles, whose exact
    /// paths build no synthetic rows; otherwise one instance at a time with its coalitions split evenly over
    /// the threads, which keeps every thread busy whatever the number of instances and keeps the synthetic
    /// rows of all threads together within the memory budget). Instance `i` uses seed `seed + i`, so the
    /// result does not depend on the thread count.
    ///
    /// # Errors
    /// As [`KernelExplainer::explain`].
    pub fn explain_rows(&self, xs: ArrayView2<'_, f64>) -> Result<ExplanationSet, ExplainError> {
        let seed = self.params.seed();
        let n = xs.nrows();
        #[cfg(feature = "parallel")]
        let list: Vec<Explanation> = {
            use rayon::prelude::*;
            let threads = self.threads();
            if n >= threads && threads > 1 && self.uses_tree_paths() {
                (0..n)
                    .into_par_iter()
                    .map(|i| self.explain_with(xs.row(i), seed.wrapping_add(i as u64), 1))
                    .collect::<Result<_, _>>()?
            } else {
                (0..n)
                    .map(|i| self.explain_with(xs.row(i), seed.wrapping_add(i as u64), threads))
                    .collect::<Result<_, _>>()?
            }
        };
        #[cfg(not(feature = "parallel"))]
        let list: Vec<Explanation> = (0..n)
            .map(|i| self.explain_with(xs.row(i), seed.wrapping_add(i as u64), 1))
            .collect::<Result<_, _>>()?;
        Ok(ExplanationSet::from_explanations(&list, self.names.clone(), self.expected_value.clone()))
    }

    /// The tree ensemble whose exact paths value the coalitions (no synthetic rows), when the model has one
    /// over the background's features and at most `m` ≤ 64 players vary.
    fn path_trees(&self, m: usize) -> Option<&TreeEnsemble> {
        self.model.tree_ensemble().filter(|t| m <= 64 && t.n_features() == self.background.n_features())
    }

    /// Whether every instance is valued by exact tree paths (at most every group varies).
    #[cfg(feature = "parallel")]
    fn uses_tree_paths(&self) -> bool {
        self.path_trees(self.groups.len()).is_some()
    }

    fn threads(&self) -> usize {
        #[cfg(feature = "parallel")]
        {
            rayon::current_num_threads().max(1)
        }
        #[cfg(not(feature = "parallel"))]
        {
            1
        }
    }

    /// Coalitions held at once per worker so that `workers` workers stay within the memory budget.
    /// Bytes one coalition's synthetic rows and their outputs take.
    fn bytes_per_coalition(&self) -> usize {
        self.background.n_rows()
            * (self.background.n_features() + self.model.n_outputs())
            * std::mem::size_of::<f64>()
    }

    fn chunk_coalitions(&self, workers: usize) -> Result<usize, ExplainError> {
        let per = self.bytes_per_coalition();
        let budget = self.params.memory_budget_bytes();
        if per > budget {
            return Err(ExplainError::BudgetTooSmall { budget_bytes: budget, needed_bytes: per });
        }
        Ok((budget / per / workers.max(1)).max(1))
    }

    /// Coalitions per model call that keep the synthetic rows and outputs within about 1 MB, so they are
    /// written and read in cache (models without [`Predictor::costly_calls`]).
    fn cache_chunk(&self) -> usize {
        ((1 << 20) / self.bytes_per_coalition().max(1)).max(1)
    }

    fn explain_with(
        &self,
        x: ArrayView1<'_, f64>,
        seed: u64,
        workers: usize,
    ) -> Result<Explanation, ExplainError> {
        let p = self.background.n_features();
        if x.len() != p {
            return Err(ExplainError::ShapeMismatch { what: "instance", expected: p, got: x.len() });
        }
        let link = self.params.link();
        let d = self.model.n_outputs();
        let bg = self.background.data();
        // Varying players: np.allclose(x_j, bg[:, j], rtol=1e-5, atol=1e-8, equal_nan=True) fails for a column.
        let varying: Vec<usize> = (0..self.groups.len())
            .filter(|&g| {
                self.groups[g].iter().any(|&j| {
                    let xv = x[j];
                    bg.column(j).iter().any(|&b| {
                        if xv.is_nan() {
                            !b.is_nan()
                        } else {
                            {
                                let close = (xv - b).abs() <= 1e-8 + 1e-5 * b.abs();
                                !close
                            }
                        }
                    })
                })
            })
            .collect();
        let x2 = x.to_owned().insert_axis(ndarray::Axis(0));
        let fx_raw = predict_checked(&self.model, x2.view())?;
        let fx: Vec<f64> = (0..d).map(|k| link.apply(fx_raw[[0, k]], k)).collect::<Result<_, _>>()?;
        let m = varying.len();
        let mut values = Array2::zeros((self.groups.len(), d));
        if m == 1 {
            for k in 0..d {
                values[[varying[0], k]] = fx[k] - self.expected_value[k];
            }
        } else if m >= 2 {
            let budget = self.params.nsamples().unwrap_or_else(|| auto_nsamples(m));
            let plan = CoalitionPlan::build(m, budget, seed);
            let ey = self.evaluate(x, &varying, &plan, workers)?;
            for k in 0..d {
                let phi = self.solve(&plan, &ey, d, k, fx[k])?;
                for (i, &g) in varying.iter().enumerate() {
                    values[[g, k]] = phi[i];
                }
            }
        }
        Ok(Explanation {
            feature_names: self.names.clone(),
            base_values: self.expected_value.clone(),
            model_output: fx,
            values,
            instance: x.to_vec(),
        })
    }

    /// `ey[k, d]`: background-weighted mean model output for every coalition of the plan.
    fn evaluate(
        &self,
        x: ArrayView1<'_, f64>,
        varying: &[usize],
        plan: &CoalitionPlan,
        workers: usize,
    ) -> Result<Vec<f64>, ExplainError> {
        let n_masks = plan.n_masks();
        let d = self.model.n_outputs();
        let budget_chunk = self.chunk_coalitions(1)?;
        if let Some(trees) = self.path_trees(plan.m) {
            // Exact path decomposition: no synthetic rows at all.
            let mut player_of = vec![None; x.len()];
            for (i, &g) in varying.iter().enumerate() {
                for &j in &self.groups[g] {
                    player_of[j] = Some(i);
                }
            }
            let masks: Vec<u64> = (0..n_masks)
                .map(|k| plan.mask(k).iter().enumerate().fold(0u64, |acc, (i, &z)| acc | (u64::from(z) << i)))
                .collect();
            let xv = x.to_vec();
            return Ok(trees.coalition_values(
                &xv,
                self.background.data(),
                self.background.weights(),
                &player_of,
                plan.m,
                &masks,
            ));
        }
        let parallel = workers > 1 && budget_chunk >= workers && n_masks > 1;
        // Every coalition costs the same (one model call on `n` rows), so one equal range per worker balances
        // the work with the fewest model calls (a Python callable pays a fixed cost per call).
        let chunk = if parallel {
            (budget_chunk / workers).min(n_masks.div_ceil(workers)).max(1)
        } else {
            budget_chunk.min(n_masks)
        };
        let chunk = if self.model.costly_calls() { chunk } else { chunk.min(self.cache_chunk()).max(1) };
        let ranges: Vec<(usize, usize)> =
            (0..n_masks).step_by(chunk).map(|a| (a, (a + chunk).min(n_masks))).collect();
        let run = |&(a, b): &(usize, usize)| self.evaluate_range(x, varying, plan, a, b);
        let parts: Vec<Vec<f64>> = if parallel {
            #[cfg(feature = "parallel")]
            {
                use rayon::prelude::*;
                ranges.par_iter().map(run).collect::<Result<_, _>>()?
            }
            #[cfg(not(feature = "parallel"))]
            {
                ranges.iter().map(run).collect::<Result<_, _>>()?
            }
        } else {
            ranges.iter().map(run).collect::<Result<_, _>>()?
        };
        let mut ey = Vec::with_capacity(n_masks * d);
        for part in parts {
            ey.extend(part);
        }
        Ok(ey)
    }

    fn evaluate_range(
        &self,
        x: ArrayView1<'_, f64>,
        varying: &[usize],
        plan: &CoalitionPlan,
        a: usize,
        b: usize,
    ) -> Result<Vec<f64>, ExplainError> {
        let bg = self.background.data();
        let (n, p) = bg.dim();
        let d = self.model.n_outputs();
        let rows = (b - a) * n;
        // Built into uninitialised capacity (no zero fill), in one pass per coalition: every value is a
        // bit blend of the background's and the instance's. The coalition's per-column choice repeats every
        // `p` values, so it is laid out once for `SYNTH_ROWS` rows (a multiple of any vector width) and the
        // background is blended in pieces of that many rows.
        let bg_std = bg.as_standard_layout();
        let bg_rows = bg_std.as_slice().unwrap_or(&[]);
        let mut data: Vec<f64> = Vec::with_capacity(rows * p);
        let span = SYNTH_ROWS * p;
        // Per value of the pattern: all ones where the coalition takes x, and x's value there.
        let mut take = vec![0u64; span];
        let mut xs = vec![0.0; span];
        for (xv, j) in xs.iter_mut().zip((0..p).cycle()) {
            *xv = x[j];
        }
        let mut column_take = vec![0u64; p];
        for k in a..b {
            let mask = plan.mask(k);
            column_take.fill(0);
            for (i, &g) in varying.iter().enumerate() {
                if mask[i] == 1 {
                    for &j in self.groups[g].iter().filter(|&&j| j < p) {
                        column_take[j] = u64::MAX;
                    }
                }
            }
            for (t, &c) in take.iter_mut().zip(column_take.iter().cycle()) {
                *t = c;
            }
            for piece in bg_rows.chunks(span.max(1)) {
                data.extend(
                    piece
                        .iter()
                        .zip(&take)
                        .zip(&xs)
                        .map(|((bv, &t), xv)| f64::from_bits((bv.to_bits() & !t) | (xv.to_bits() & t))),
                );
            }
        }
        let got = data.len();
        let synth = Array2::from_shape_vec((rows, p), data).map_err(|_| ExplainError::ShapeMismatch {
            what: "synthetic row values",
            expected: rows * p,
            got,
        })?;
        let y = predict_shape_checked(&self.model, synth.view())?;
        let y = y.as_standard_layout();
        let ys = y.as_slice().unwrap_or(&[]);
        let w = self.background.weights();
        let mut ey = vec![0.0; (b - a) * d];
        if d == 1 {
            // One output: a dot product per coalition (interleaved lanes, no serial dependency).
            for (e, yc) in ey.iter_mut().zip(ys.chunks_exact(n)) {
                *e = dot(yc, w);
            }
        } else if d > 1 {
            for (e, yc) in ey.chunks_exact_mut(d).zip(ys.chunks_exact(n * d)) {
                for (yr, &wj) in yc.chunks_exact(d).zip(w) {
                    for (acc, v) in e.iter_mut().zip(yr) {
                        *acc += v * wj;
                    }
                }
            }
        }
        // A NaN or infinite output makes its coalition's weighted mean non-finite (the weights are finite and
        // non-negative, and even 0·∞ is NaN), so the outputs are searched only then, for the typed error
        // naming the row.
        if !ey.iter().fold(true, |ok, v| ok & v.is_finite()) {
            check_finite(y.view(), "model output")?;
        }
        Ok(ey)
    }

    /// Constrained weighted least squares for output `k` (shap's `solve`): the players selected by
    /// [`L1Reg`] (all by default), the last of them eliminated through the efficiency constraint.
    fn solve(
        &self,
        plan: &CoalitionPlan,
        ey: &[f64],
        d: usize,
        k: usize,
        fx: f64,
    ) -> Result<Vec<f64>, ExplainError> {
        let link = self.params.link();
        let m = plan.m;
        let n_masks = plan.n_masks();
        let base = self.expected_value[k];
        let delta = fx - base;
        let ey_adj: Vec<f64> = (0..n_masks)
            .map(|s| Ok(link.apply(ey[s * d + k], k)? - base))
            .collect::<Result<_, ExplainError>>()?;
        let order: Vec<usize> = match self.params.l1_reg() {
            L1Reg::None => (0..m).collect(),
            reg => l1_selection(plan, &ey_adj, delta, reg)?,
        };
        let mut phi = vec![0.0; m];
        let Some((&last, cols)) = order.split_last() else {
            return Ok(phi);
        };
        let q = cols.len();
        // The design column by column (z_c − z_last per coalition), then the normal equations as dot
        // products of whole columns: (Zᵀ W Z)_ij = (w ⊙ z_i)·z_j, (Zᵀ W y)_i = (w ⊙ z_i)·y.
        let mut z = vec![0.0; q * n_masks];
        let mut y2 = vec![0.0; n_masks];
        for (s, ys) in y2.iter_mut().enumerate() {
            let mask = plan.mask(s);
            let zl = f64::from(mask[last]);
            *ys = ey_adj[s] - zl * delta;
            for (i, &c) in cols.iter().enumerate() {
                z[i * n_masks + s] = f64::from(mask[c]) - zl;
            }
        }
        let wz: Vec<f64> = z
            .chunks_exact(n_masks.max(1))
            .flat_map(|col| col.iter().zip(&plan.kernel_weights).map(|(v, w)| v * w))
            .collect();
        let mut ata = vec![0.0; q * q];
        let mut atb = vec![0.0; q];
        for i in 0..q {
            let wzi = &wz[i * n_masks..(i + 1) * n_masks];
            atb[i] = dot(wzi, &y2);
            for j in i..q {
                let v = dot(wzi, &z[j * n_masks..(j + 1) * n_masks]);
                ata[i * q + j] = v;
                ata[j * q + i] = v;
            }
        }
        let beta = solve_normal(ata, atb, q);
        for (&c, &b) in cols.iter().zip(&beta) {
            phi[c] = b;
        }
        phi[last] = delta - beta.iter().sum::<f64>();
        for v in &mut phi {
            if v.abs() < 1e-10 {
                *v = 0.0;
            }
        }
        Ok(phi)
    }
}

/// shap's `l1_reg` selection on the augmented problem `X = √w_aug · [Z ; Z − 1]`,
/// `y = √w_aug · [ey_adj ; ey_adj − Δ]` with `w_aug = [w·(M − |z|) ; w·|z|]`: for `"num_features(r)"` the
/// first `r` entrants of its 'lar' path in entry order; for `"aic"`/`"bic"` the non-zero coefficients of
/// `LassoLarsIC` (after `StandardScaler(with_mean=False)`) in index order.
fn l1_selection(
    plan: &CoalitionPlan,
    ey_adj: &[f64],
    delta: f64,
    reg: L1Reg,
) -> Result<Vec<usize>, ExplainError> {
    let m = plan.m;
    let n = plan.n_masks();
    let mut x = vec![0.0; 2 * n * m];
    let mut y = vec![0.0; 2 * n];
    for s in 0..n {
        let mask = plan.mask(s);
        let size = mask.iter().map(|&z| f64::from(z)).sum::<f64>();
        let w = plan.kernel_weights[s];
        let (top, bottom) = ((w * (m as f64 - size)).sqrt(), (w * size).sqrt());
        for j in 0..m {
            let z = f64::from(mask[j]);
            x[s * m + j] = top * z;
            x[(n + s) * m + j] = bottom * (z - 1.0);
        }
        y[s] = top * ey_adj[s];
        y[n + s] = bottom * (ey_adj[s] - delta);
    }
    let criterion = match reg {
        L1Reg::None => return Ok((0..m).collect()),
        L1Reg::NumFeatures(r) => return Ok(lars::lars_path(&x, &y, m, LarsMethod::Lar, r).active),
        L1Reg::Aic => InformationCriterion::Aic,
        L1Reg::Bic => InformationCriterion::Bic,
    };
    lars::lasso_lars_ic(&x, &y, m, criterion).ok_or(ExplainError::TooFewSamples {
        what: "l1_reg aic/bic noise-variance estimate (coalitions × 2)",
        got: 2 * n,
        needed: m + 2,
    })
}

/// As [`predict_checked`], with the rows split into blocks of `block` rows predicted on all threads when
/// feature `parallel` is on and the model has no fixed cost per call (a Python or JavaScript model is
/// called once). The outputs are the same either way.
pub(crate) fn predict_checked_blocks<P: Predictor + ?Sized>(
    model: &P,
    rows: ArrayView2<'_, f64>,
    block: usize,
) -> Result<Array2<f64>, ExplainError> {
    #[cfg(feature = "parallel")]
    if !model.costly_calls() && rows.nrows() > block && rayon::current_num_threads() > 1 {
        use rayon::prelude::*;
        let mut out = Array2::zeros((rows.nrows(), model.n_outputs()));
        let parts: Vec<_> = rows
            .axis_chunks_iter(ndarray::Axis(0), block)
            .zip(out.axis_chunks_iter_mut(ndarray::Axis(0), block))
            .collect();
        parts.into_par_iter().try_for_each(|(r, o)| model.predict_into(r, o))?;
        check_finite(out.view(), "model output")?;
        return Ok(out);
    }
    #[cfg(not(feature = "parallel"))]
    let _ = block;
    predict_checked(model, rows)
}

/// Rows per piece of the synthetic-row blend (see `evaluate_range`).
const SYNTH_ROWS: usize = 8;

/// Calls the model and checks the output shape and finiteness.
pub(crate) fn predict_checked<P: Predictor + ?Sized>(
    model: &P,
    rows: ArrayView2<'_, f64>,
) -> Result<Array2<f64>, ExplainError> {
    let out = predict_shape_checked(model, rows)?;
    check_finite(out.view(), "model output")?;
    Ok(out)
}

/// Calls the model and checks the output shape only: the caller checks finiteness (e.g. through sums
/// that any non-finite output makes non-finite).
fn predict_shape_checked<P: Predictor + ?Sized>(
    model: &P,
    rows: ArrayView2<'_, f64>,
) -> Result<Array2<f64>, ExplainError> {
    let out = model.predict(rows)?;
    if out.nrows() != rows.nrows() {
        return Err(ExplainError::ShapeMismatch {
            what: "model output rows",
            expected: rows.nrows(),
            got: out.nrows(),
        });
    }
    Ok(out)
}
