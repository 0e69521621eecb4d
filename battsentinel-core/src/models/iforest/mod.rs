//! Isolation forest with scikit-learn's scoring: `score_samples(x) = −2^(−E[h(x)] / c(ψ))`, where `h` is
//! the path length (leaf depth + `c(leaf size)`), `ψ = min(256, n)` the subsample size per tree and `c(n)`
//! the average unsuccessful-search path length of a binary search tree. `decision_function = score_samples −
//! offset`, with `offset = −0.5` (contamination "auto") or the contamination quantile of the training scores.
//! Fit it once on healthy reference data; scoring new data does not refit.

use ndarray::{Array1, ArrayView2};
use rand::{seq::index::sample, Rng as _};
use serde::{Deserialize, Serialize};

use super::forest::map_indices;
use super::persist::Persist;
use super::tree::LEAF;
use super::validate::{check_features, check_predict};
use super::ModelError;
use crate::params::{ParamError, ParamGuard};
use crate::rng;

/// Validated isolation-forest parameters; build them with [`IsolationForestParams`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IsolationForestValidParams {
    n_trees: usize,
    max_samples: Option<usize>,
    contamination: Option<f64>,
    seed: u64,
}

impl Default for IsolationForestValidParams {
    fn default() -> Self {
        IsolationForestValidParams { n_trees: 100, max_samples: None, contamination: None, seed: 0 }
    }
}

impl IsolationForestValidParams {
    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.n_trees
    }
    /// Rows per tree (`None` = `min(256, n)`).
    pub fn max_samples(&self) -> Option<usize> {
        self.max_samples
    }
    /// Expected outlier fraction (`None` = scikit-learn's "auto", offset −0.5).
    pub fn contamination(&self) -> Option<f64> {
        self.contamination
    }
    /// Seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }
}

/// Isolation-forest parameters (defaults as scikit-learn: 100 trees, `max_samples` "auto" = min(256, n),
/// contamination "auto"; seed 0).
///
/// # Examples
/// ```
/// use battsentinel_core::models::iforest::{IsolationForest, IsolationForestParams};
/// use ndarray::{array, Array2};
/// let healthy = Array2::from_shape_fn((200, 2), |(i, j)| ((i * 7 + j * 3) % 17) as f64 / 17.0);
/// let model = IsolationForest::fit(&IsolationForestParams::default().seed(3), &healthy.view())?;
/// let s = model.score_samples(&array![[0.5, 0.5], [9.0, -9.0]].view())?;
/// assert!(s[1] < s[0]); // lower = more abnormal
/// # Ok::<(), battsentinel_core::models::ModelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IsolationForestParams(IsolationForestValidParams);

impl IsolationForestParams {
    /// Number of trees (≥ 1).
    pub fn n_trees(mut self, n: usize) -> Self {
        self.0.n_trees = n;
        self
    }
    /// Rows drawn (without replacement) per tree, ≥ 2; `None` = min(256, n).
    pub fn max_samples(mut self, n: Option<usize>) -> Self {
        self.0.max_samples = n;
        self
    }
    /// Expected outlier fraction in (0, 0.5]; `None` = "auto".
    pub fn contamination(mut self, c: Option<f64>) -> Self {
        self.0.contamination = c;
        self
    }
    /// Seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
}

impl ParamGuard for IsolationForestParams {
    type Checked = IsolationForestValidParams;

    fn check_ref(&self) -> Result<&IsolationForestValidParams, ParamError> {
        let p = &self.0;
        if p.n_trees == 0 {
            return Err(ParamError::invalid("n_trees", p.n_trees, "must be at least 1"));
        }
        if let Some(m) = p.max_samples {
            if m < 2 {
                return Err(ParamError::invalid("max_samples", m, "must be at least 2"));
            }
        }
        if let Some(c) = p.contamination {
            if !(c > 0.0 && c <= 0.5) {
                return Err(ParamError::invalid("contamination", c, "must be in (0, 0.5]"));
            }
        }
        Ok(p)
    }

    fn check(self) -> Result<IsolationForestValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for IsolationForestValidParams {
    type Checked = IsolationForestValidParams;

    fn check_ref(&self) -> Result<&IsolationForestValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<IsolationForestValidParams, ParamError> {
        Ok(self)
    }
}

/// One isolation tree: sklearn-like arrays; `path[i]` at a leaf is `depth + c(n_leaf)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ITree {
    children_left: Vec<i32>,
    children_right: Vec<i32>,
    feature: Vec<i32>,
    threshold: Vec<f64>,
    path: Vec<f64>,
}

impl ITree {
    #[inline]
    fn path_length(&self, x: &[f64]) -> f64 {
        let mut node = 0usize;
        while self.children_left[node] != LEAF {
            node = if x[self.feature[node] as usize] <= self.threshold[node] {
                self.children_left[node] as usize
            } else {
                self.children_right[node] as usize
            };
        }
        self.path[node]
    }
}

/// Average path length of an unsuccessful BST search among `n` points (scikit-learn's
/// `_average_path_length`).
pub fn average_path_length(n: usize) -> f64 {
    match n {
        0 | 1 => 0.0,
        2 => 1.0,
        _ => {
            let nf = n as f64;
            2.0 * ((nf - 1.0).ln() + 0.577_215_664_901_532_9) - 2.0 * (nf - 1.0) / nf
        }
    }
}

/// A fitted isolation forest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolationForest {
    params: IsolationForestValidParams,
    n_features: usize,
    max_samples: usize,
    offset: f64,
    trees: Vec<ITree>,
}

fn build_tree(x: &ArrayView2<f64>, rows: &mut [usize], max_depth: usize, seed: u64) -> ITree {
    let mut rng = rng::seeded(seed);
    let nf = x.ncols();
    let mut t = ITree {
        children_left: Vec::new(),
        children_right: Vec::new(),
        feature: Vec::new(),
        threshold: Vec::new(),
        path: Vec::new(),
    };
    // (start, end, depth, parent, is_left)
    let mut stack = vec![(0usize, rows.len(), 0usize, usize::MAX, false)];
    let mut feats: Vec<usize> = (0..nf).collect();
    while let Some((start, end, depth, parent, is_left)) = stack.pop() {
        let id = t.children_left.len();
        if parent != usize::MAX {
            if is_left {
                t.children_left[parent] = id as i32;
            } else {
                t.children_right[parent] = id as i32;
            }
        }
        t.children_left.push(LEAF);
        t.children_right.push(LEAF);
        t.feature.push(LEAF);
        t.threshold.push(-2.0);
        t.path.push(depth as f64 + average_path_length(end - start));
        if depth >= max_depth || end - start < 2 {
            continue;
        }
        let node = &mut rows[start..end];
        // draw features without replacement until one is not constant in the node
        let mut split = None;
        for j in 0..nf {
            let k = rng::index(&mut rng, j, nf);
            feats.swap(j, k);
            let f = feats[j];
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for &r in node.iter() {
                let v = x[[r, f]];
                lo = lo.min(v);
                hi = hi.max(v);
            }
            if hi > lo {
                let mut thr = lo + rng.gen::<f64>() * (hi - lo);
                if thr >= hi {
                    thr = lo;
                }
                split = Some((f, thr));
                break;
            }
        }
        let Some((f, thr)) = split else { continue };
        let (mut a, mut z) = (0usize, node.len());
        while a < z {
            if x[[node[a], f]] <= thr {
                a += 1;
            } else {
                z -= 1;
                node.swap(a, z);
            }
        }
        t.feature[id] = f as i32;
        t.threshold[id] = thr;
        t.path[id] = depth as f64;
        stack.push((start + a, end, depth + 1, id, false));
        stack.push((start, start + a, depth + 1, id, true));
    }
    t
}

impl IsolationForest {
    /// Fits on (healthy) reference rows `x`.
    ///
    /// # Errors
    /// [`ModelError::Params`], [`ModelError::EmptyData`], [`ModelError::NonFinite`],
    /// [`ModelError::TooFewSamples`] (fewer than 2 rows).
    pub fn fit<P: ParamGuard<Checked = IsolationForestValidParams>>(
        params: &P,
        x: &ArrayView2<f64>,
    ) -> Result<Self, ModelError> {
        let p = params.check_ref()?;
        check_features(x)?;
        let n = x.nrows();
        if n < 2 {
            return Err(ModelError::TooFewSamples { what: "isolation forest", needed: 2, found: n });
        }
        let psi = p.max_samples.unwrap_or(256).min(n);
        let max_depth = (psi.max(2) as f64).log2().ceil() as usize;
        let mut master = rng::seeded(p.seed);
        let seeds: Vec<(u64, u64)> = (0..p.n_trees).map(|_| (master.gen(), master.gen())).collect();
        let xs = x.as_standard_layout();
        let xv = xs.view();
        let trees = map_indices(p.n_trees, |t| {
            let mut r = rng::seeded(seeds[t].0);
            let mut rows = sample(&mut r, n, psi).into_vec();
            build_tree(&xv, &mut rows, max_depth, seeds[t].1)
        });
        let mut model = IsolationForest {
            params: p.clone(),
            n_features: x.ncols(),
            max_samples: psi,
            offset: -0.5,
            trees,
        };
        if let Some(c) = p.contamination {
            let mut s = model.score_samples(x)?.to_vec();
            s.sort_by(f64::total_cmp);
            model.offset = percentile_linear(&s, 100.0 * c);
        }
        Ok(model)
    }

    /// Anomaly score per row as scikit-learn's `score_samples` (in [−1, 0); lower = more abnormal).
    ///
    /// # Errors
    /// [`ModelError::FeatureCount`], [`ModelError::NonFinite`].
    pub fn score_samples(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        check_predict(x, self.n_features)?;
        let xs = x.as_standard_layout();
        let nf = self.n_features;
        let data = xs.as_slice().unwrap_or(&[]);
        let n = xs.nrows();
        let c = average_path_length(self.max_samples);
        const CHUNK: usize = 512;
        let parts = map_indices(n.div_ceil(CHUNK), |k| {
            let (r0, r1) = (k * CHUNK, ((k + 1) * CHUNK).min(n));
            let mut out = vec![0.0; r1 - r0];
            for t in &self.trees {
                for (r, o) in (r0..r1).zip(out.iter_mut()) {
                    *o += t.path_length(&data[r * nf..(r + 1) * nf]);
                }
            }
            let inv = 1.0 / self.trees.len() as f64;
            out.iter_mut().for_each(|o| *o = -(2f64.powf(-(*o * inv) / c)));
            out
        });
        Ok(Array1::from(parts.concat()))
    }

    /// `score_samples − offset`: negative for outliers.
    ///
    /// # Errors
    /// As [`Self::score_samples`].
    pub fn decision_function(&self, x: &ArrayView2<f64>) -> Result<Array1<f64>, ModelError> {
        Ok(self.score_samples(x)? - self.offset)
    }

    /// `-1` for outliers, `1` for inliers (scikit-learn's convention).
    ///
    /// # Errors
    /// As [`Self::score_samples`].
    pub fn predict(&self, x: &ArrayView2<f64>) -> Result<Array1<i8>, ModelError> {
        Ok(self.decision_function(x)?.mapv(|d| if d < 0.0 { -1 } else { 1 }))
    }

    /// The threshold subtracted in [`Self::decision_function`].
    pub fn offset(&self) -> f64 {
        self.offset
    }

    /// Number of features the model was fitted on.
    pub fn n_features(&self) -> usize {
        self.n_features
    }
}

/// numpy's default (linear) percentile of sorted values.
fn percentile_linear(sorted: &[f64], q: f64) -> f64 {
    let pos = q / 100.0 * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let frac = pos - i as f64;
    if i + 1 < sorted.len() {
        sorted[i] + frac * (sorted[i + 1] - sorted[i])
    } else {
        sorted[sorted.len() - 1]
    }
}

impl Persist for IsolationForest {
    const KIND: &'static str = "isolation_forest";

    fn restore(&mut self) -> Result<(), ModelError> {
        let bad = |reason: &str| ModelError::Corrupt { reason: reason.to_string() };
        if self.trees.is_empty() || self.max_samples < 2 || !self.offset.is_finite() {
            return Err(bad("isolation forest header"));
        }
        for t in &self.trees {
            let n = t.children_left.len();
            if n == 0 || [t.children_right.len(), t.feature.len(), t.threshold.len(), t.path.len()] != [n; 4]
            {
                return Err(bad("isolation tree arrays of unequal length"));
            }
            for i in 0..n {
                let (l, r) = (t.children_left[i], t.children_right[i]);
                if l != LEAF {
                    let ok = |c: i32| c > i as i32 && (c as usize) < n;
                    let f = t.feature[i];
                    if !ok(l) || !ok(r) || f < 0 || f as usize >= self.n_features {
                        return Err(bad("isolation tree node out of range"));
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn average_path_length_matches_sklearn() {
        // sklearn.ensemble._iforest._average_path_length([256]) = 10.244770920119917
        assert_abs_diff_eq!(average_path_length(256), 10.244_770_920_119_917, epsilon = 1e-12);
        assert_eq!(average_path_length(1), 0.0);
        assert_eq!(average_path_length(2), 1.0);
    }

    #[test]
    fn percentile_matches_numpy() {
        // np.percentile([1,2,3,4], 10) = 1.3
        assert_abs_diff_eq!(percentile_linear(&[1.0, 2.0, 3.0, 4.0], 10.0), 1.3, epsilon = 1e-12);
    }
}
