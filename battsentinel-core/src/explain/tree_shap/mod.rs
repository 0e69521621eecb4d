//! Exact TreeSHAP over sklearn-like tree arrays: interventional (against a background) and path-dependent
//! (from the trees' node covers, see [`FeaturePerturbation`]), plus SHAP interaction values.
//!
//! **Interventional.**
//! For an instance `x` and one background row `z`, the interventional game is `v(S) = f(x_S, z_S̄)`. A leaf
//! is reached for coalition `S` iff every split on the path where `x` and `z` part ways is decided by the
//! side the coalition picks: the features whose split must follow `x` (set A, |A| = a) are in `S`, those
//! that must follow `z` (set B, |B| = b) are not. That indicator game has the closed-form Shapley values
//! `+(a−1)! b! / (a+b)!` for each feature of A and `−a! (b−1)! / (a+b)!` for each of B, so one walk over
//! the tree that branches only where `x` and `z` disagree gives the exact Shapley values. Averaging over
//! the (weighted) background gives what `shap.TreeExplainer(feature_perturbation="interventional")`
//! computes, and what exact Kernel SHAP computes on the same background, in f64 throughout.
//!
//! **Path-dependent** (`feature_perturbation="tree_path_dependent"`, shap's default without a background):
//! the polynomial-time algorithm of Lundberg et al. 2018 (Algorithm 2), described in `path_dependent.rs`;
//! SHAP interaction values (`shap_interaction_values`) use the same walk with one feature conditioned.

use ndarray::{Array2, Array3, Array4, ArrayView1, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::{Background, ExplainError, Explanation, ExplanationSet, Predictor};
use crate::params::ParamGuard;

mod params;
mod path_dependent;

pub use params::{FeaturePerturbation, TreeShapParams, TreeShapValidParams};
use path_dependent::{Condition, Walk};

/// One decision tree in sklearn's array layout. Node `i` is a leaf iff `children_left[i] == -1`;
/// otherwise go left iff `x[feature[i]] <= threshold[i]` (NaN goes right).
///
/// A deserialised tree is validated like [`Tree::new`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TreeFields", into = "TreeFields")]
pub struct Tree {
    children_left: Vec<i64>,
    children_right: Vec<i64>,
    feature: Vec<i64>,
    threshold: Vec<f64>,
    value: Array2<f64>,
    node_cover: Vec<f64>,
    /// Each node's split packed in one record (derived from the arrays above): a walk reads one cache
    /// line per node instead of four arrays.
    splits: Vec<Split>,
}

/// One node's split: go to `left` iff `x[feature] <= threshold` (NaN goes right); `left == LEAF` for a leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    threshold: f64,
    feature: u32,
    left: u32,
    right: u32,
}

const LEAF: u32 = u32::MAX;

impl Split {
    #[inline]
    fn child(&self, x: &[f64]) -> usize {
        (if x[self.feature as usize] <= self.threshold { self.left } else { self.right }) as usize
    }
}

/// The serialised form of a [`Tree`] (its arrays; the packed splits are derived on load).
#[derive(Serialize, Deserialize)]
struct TreeFields {
    children_left: Vec<i64>,
    children_right: Vec<i64>,
    feature: Vec<i64>,
    threshold: Vec<f64>,
    value: Array2<f64>,
    node_cover: Vec<f64>,
}

impl TryFrom<TreeFields> for Tree {
    type Error = ExplainError;

    fn try_from(f: TreeFields) -> Result<Self, ExplainError> {
        Tree::new(f.children_left, f.children_right, f.feature, f.threshold, f.value, f.node_cover)
    }
}

impl From<Tree> for TreeFields {
    fn from(t: Tree) -> Self {
        TreeFields {
            children_left: t.children_left,
            children_right: t.children_right,
            feature: t.feature,
            threshold: t.threshold,
            value: t.value,
            node_cover: t.node_cover,
        }
    }
}

impl Tree {
    /// Builds and validates a tree. `value` is `n_nodes × n_outputs`; `node_cover` the training samples (or
    /// weight) per node (used by path-dependent algorithms; kept for completeness).
    ///
    /// # Errors
    /// [`ExplainError::InvalidTree`] for inconsistent lengths, child indices out of range or not after
    /// their parent (which also rules out cycles), or a split without a feature.
    pub fn new(
        children_left: Vec<i64>,
        children_right: Vec<i64>,
        feature: Vec<i64>,
        threshold: Vec<f64>,
        value: Array2<f64>,
        node_cover: Vec<f64>,
    ) -> Result<Self, ExplainError> {
        let n = children_left.len();
        if n == 0 {
            return Err(ExplainError::InvalidTree { node: 0, reason: "no nodes" });
        }
        if children_right.len() != n
            || feature.len() != n
            || threshold.len() != n
            || value.nrows() != n
            || node_cover.len() != n
        {
            return Err(ExplainError::InvalidTree { node: 0, reason: "arrays of different lengths" });
        }
        if value.ncols() == 0 {
            return Err(ExplainError::InvalidTree { node: 0, reason: "no outputs" });
        }
        if u32::try_from(n).is_err() {
            return Err(ExplainError::InvalidTree { node: 0, reason: "more than 2^32 - 1 nodes" });
        }
        for i in 0..n {
            let (l, r) = (children_left[i], children_right[i]);
            if l == -1 {
                if !value.row(i).iter().all(|v| v.is_finite()) {
                    return Err(ExplainError::InvalidTree { node: i, reason: "non-finite leaf value" });
                }
                continue;
            }
            let ok = |c: i64| c > i as i64 && (c as usize) < n;
            if !ok(l) || !ok(r) {
                return Err(ExplainError::InvalidTree {
                    node: i,
                    reason: "child index out of range or not after its parent",
                });
            }
            if feature[i] < 0 || u32::try_from(feature[i]).is_err() {
                return Err(ExplainError::InvalidTree { node: i, reason: "split without a feature" });
            }
            if threshold[i].is_nan() {
                return Err(ExplainError::InvalidTree { node: i, reason: "NaN threshold" });
            }
        }
        // Row-major values: the coalition walk reads each leaf's outputs as one slice.
        let value = if value.is_standard_layout() { value } else { value.as_standard_layout().into_owned() };
        // Checked above: node indices and split features fit in u32.
        let splits = (0..n)
            .map(|i| {
                if children_left[i] == -1 {
                    Split { threshold: f64::NAN, feature: 0, left: LEAF, right: LEAF }
                } else {
                    Split {
                        threshold: threshold[i],
                        feature: feature[i] as u32,
                        left: children_left[i] as u32,
                        right: children_right[i] as u32,
                    }
                }
            })
            .collect();
        Ok(Self { children_left, children_right, feature, threshold, value, node_cover, splits })
    }

    /// The outputs of leaf `node`.
    #[inline]
    fn leaf_values(&self, node: usize) -> &[f64] {
        let d = self.value.ncols();
        self.value.as_slice().map_or(&[][..], |v| &v[node * d..(node + 1) * d])
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.children_left.len()
    }

    /// Number of outputs per leaf.
    pub fn n_outputs(&self) -> usize {
        self.value.ncols()
    }

    /// Largest feature index used plus one.
    pub fn min_features(&self) -> usize {
        self.feature.iter().filter(|&&f| f >= 0).map(|&f| f as usize + 1).max().unwrap_or(0)
    }

    /// Per-node training cover.
    pub fn node_cover(&self) -> &[f64] {
        &self.node_cover
    }

    #[inline]
    fn child(&self, node: usize, x: &[f64]) -> usize {
        self.splits[node].child(x)
    }

    /// Index of the leaf reached by `x`.
    pub fn leaf(&self, x: &[f64]) -> usize {
        let mut node = 0;
        while self.children_left[node] != -1 {
            node = self.child(node, x);
        }
        node
    }
}

/// A sum (or average) of trees: `f(x) = offset + scale · Σ_t tree_t(x)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    trees: Vec<Tree>,
    scale: f64,
    offset: Vec<f64>,
    n_features: usize,
}

impl TreeEnsemble {
    /// An ensemble over `n_features` inputs. A random forest uses `scale = 1 / n_trees`, a single tree 1.
    ///
    /// # Errors
    /// [`ExplainError::Empty`] without trees; [`ExplainError::ShapeMismatch`] when trees disagree on the
    /// number of outputs, `offset` has the wrong length, or a tree uses a feature ≥ `n_features`.
    pub fn new(
        trees: Vec<Tree>,
        scale: f64,
        offset: Vec<f64>,
        n_features: usize,
    ) -> Result<Self, ExplainError> {
        let first = trees.first().ok_or(ExplainError::Empty { what: "tree ensemble" })?;
        let d = first.n_outputs();
        for t in &trees {
            if t.n_outputs() != d {
                return Err(ExplainError::ShapeMismatch {
                    what: "tree outputs",
                    expected: d,
                    got: t.n_outputs(),
                });
            }
            if t.min_features() > n_features {
                return Err(ExplainError::ShapeMismatch {
                    what: "tree features",
                    expected: n_features,
                    got: t.min_features(),
                });
            }
        }
        if offset.len() != d {
            return Err(ExplainError::ShapeMismatch {
                what: "ensemble offset",
                expected: d,
                got: offset.len(),
            });
        }
        if !scale.is_finite() {
            return Err(crate::params::ParamError::invalid("scale", scale, "must be finite").into());
        }
        Ok(Self { trees, scale, offset, n_features })
    }

    /// The trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    fn predict_row(&self, x: &[f64], out: &mut [f64]) {
        let mut acc = vec![0.0; out.len()];
        for t in &self.trees {
            let leaf = t.leaf(x);
            for (a, v) in acc.iter_mut().zip(t.value.row(leaf)) {
                *a += v;
            }
        }
        for ((o, a), b) in out.iter_mut().zip(&acc).zip(&self.offset) {
            *o = b + self.scale * a;
        }
    }
}

impl Predictor for TreeEnsemble {
    fn n_outputs(&self) -> usize {
        self.offset.len()
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        if rows.ncols() != self.n_features {
            return Err(ExplainError::ShapeMismatch {
                what: "rows",
                expected: self.n_features,
                got: rows.ncols(),
            });
        }
        let mut buf = vec![0.0; self.n_features];
        let mut o = vec![0.0; self.n_outputs()];
        for (r, mut dst) in rows.rows().into_iter().zip(out.rows_mut()) {
            buf.iter_mut().zip(r).for_each(|(b, v)| *b = *v);
            self.predict_row(&buf, &mut o);
            dst.iter_mut().zip(&o).for_each(|(d, v)| *d = *v);
        }
        Ok(())
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        Some(self)
    }
}

impl TreeEnsemble {
    /// `E_b f(x_S, b_S̄)` for every coalition mask (bit `p` = player `p` takes x's value), exactly, from the
    /// tree paths: for each background row and tree, the leaves reachable under some coalition and the sets
    /// of players that must / must not be in the coalition to reach them. `player_of[f]` is the player of
    /// feature `f`, or `None` when the feature always takes the background value (non-varying).
    /// Returns `masks.len() × n_outputs` values. Needs at most 64 players.
    pub(crate) fn coalition_values(
        &self,
        x: &[f64],
        bg: ArrayView2<'_, f64>,
        weights: &[f64],
        player_of: &[Option<usize>],
        m: usize,
        masks: &[u64],
    ) -> Vec<f64> {
        let d = self.n_outputs();
        let mut ey = vec![0.0; masks.len() * d];
        // Each outcome is a constraint pair (A must be in, B must be out): one ternary digit per player
        // (0 out, 1 in, 2 free). Small games accumulate into a dense table over the 3^m pairs (one add per
        // leaf reached) and then push every free digit into both of its values, leaving the 2^m masks.
        let dense =
            u32::try_from(m).ok().and_then(|m| 3usize.checked_pow(m)).filter(|&n| n * d <= DENSE_PAIRS);
        let mut pow3 = vec![1usize; m];
        for i in 1..m {
            pow3[i] = pow3[i - 1].wrapping_mul(3);
        }
        let all_free = pow3.iter().fold(0usize, |acc, &p| acc.wrapping_add(2usize.wrapping_mul(p)));
        if let Some(n_pairs) = dense {
            let mut table = vec![0.0; n_pairs * d];
            self.walk_background(x, bg, weights, player_of, &pow3, all_free, &mut |_, _, idx, leaf, c| {
                for (acc, v) in table[idx * d..(idx + 1) * d].iter_mut().zip(leaf) {
                    *acc += c * v;
                }
            });
            // Digit i free (2) → add into the same pair with digit i = 0 and = 1.
            for &p in &pow3 {
                // idx = (high · 3 + digit) · p + low.
                for high in (0..n_pairs).step_by(3 * p) {
                    for low in high * d..(high + p) * d {
                        let v = table[low + 2 * p * d];
                        table[low + p * d] += v;
                        table[low] += v;
                    }
                }
            }
            for (i, &s) in masks.iter().enumerate() {
                let idx: usize =
                    pow3.iter().enumerate().filter(|(j, _)| s >> j & 1 == 1).map(|(_, &p)| p).sum();
                ey[i * d..(i + 1) * d].copy_from_slice(&table[idx * d..(idx + 1) * d]);
            }
        } else {
            let mut outcomes: std::collections::BTreeMap<(u64, u64), Vec<f64>> =
                std::collections::BTreeMap::new();
            self.walk_background(x, bg, weights, player_of, &pow3, all_free, &mut |a, b, _, leaf, c| {
                let e = outcomes.entry((a, b)).or_insert_with(|| vec![0.0; d]);
                for (acc, v) in e.iter_mut().zip(leaf) {
                    *acc += c * v;
                }
            });
            for ((a, b), val) in &outcomes {
                for (i, &s) in masks.iter().enumerate() {
                    if a & !s == 0 && b & s == 0 {
                        for k in 0..d {
                            ey[i * d + k] += val[k];
                        }
                    }
                }
            }
        }
        for i in 0..masks.len() {
            for k in 0..d {
                ey[i * d + k] += self.offset[k];
            }
        }
        ey
    }

    /// [`coalition_walk`] of every tree against all background rows at once.
    #[allow(clippy::too_many_arguments)]
    fn walk_background<S: FnMut(u64, u64, usize, &[f64], f64)>(
        &self,
        x: &[f64],
        bg: ArrayView2<'_, f64>,
        weights: &[f64],
        player_of: &[Option<usize>],
        pow3: &[usize],
        all_free: usize,
        sink: &mut S,
    ) {
        let n_features = bg.ncols();
        // Backgrounds are kept row-major: no copy then.
        let z = bg.as_standard_layout();
        let z = z.as_slice().unwrap_or(&[]);
        let c: Vec<f64> = weights.iter().map(|w| w * self.scale).collect();
        let ctx = CoalitionWalk { x, z, n_features, c: &c, player_of, pow3 };
        let mut rows: Vec<usize> = Vec::with_capacity(bg.nrows());
        for t in &self.trees {
            rows.clear();
            rows.extend(0..bg.nrows());
            coalition_walk(t, 0, &ctx, &mut rows, (0, 0, all_free), sink);
        }
    }
}

/// Largest dense table of constraint pairs × outputs in [`TreeEnsemble::coalition_values`] (8 MB of f64):
/// 3^10 pairs of a 10-feature game with two outputs take 118 098.
const DENSE_PAIRS: usize = 1 << 20;

/// What stays fixed during the tree walks of [`coalition_walk`].
struct CoalitionWalk<'a> {
    x: &'a [f64],
    /// Background rows, row-major.
    z: &'a [f64],
    n_features: usize,
    /// Background weight × ensemble scale, per row.
    c: &'a [f64],
    player_of: &'a [Option<usize>],
    /// `3^p` per player (wrapping: unused beyond the dense table's size).
    pow3: &'a [usize],
}

impl CoalitionWalk<'_> {
    /// Reorders `rows` so that the background rows going left at `split` come first; returns their count.
    fn partition(&self, split: &Split, rows: &mut [usize]) -> usize {
        let (f, nf) = (split.feature as usize, self.n_features);
        let mut left = 0;
        for k in 0..rows.len() {
            let r = rows[k];
            if self.z[r * nf + f] <= split.threshold {
                rows.swap(left, k);
                left += 1;
            }
        }
        left
    }
}

/// Walks tree `t` from `node` for the instance `x` against the background rows `rows` together, splitting
/// where a player decides: every leaf reached goes to `sink(A, B, ternary index of (A, B), leaf values,
/// Σ weights of the rows that reach it this way)`. `(a, b, idx)`: the players that must be in / out of
/// the coalition so far, and the pair's ternary index. Rows that share a path and a constraint pair are
/// walked once; they part where their own values lead to different children. The walk reorders `rows`
/// (never changes the set).
fn coalition_walk<S: FnMut(u64, u64, usize, &[f64], f64)>(
    t: &Tree,
    mut node: usize,
    w: &CoalitionWalk<'_>,
    mut rows: &mut [usize],
    (a, mut b, mut idx): (u64, u64, usize),
    sink: &mut S,
) {
    // Steps that do not branch continue in the loop; where the rows or the coalition split, one side
    // recurses and the loop continues on the other.
    loop {
        if rows.is_empty() {
            return;
        }
        let split = &t.splits[node];
        if split.left == LEAF {
            let c: f64 = rows.iter().map(|&r| w.c[r]).sum();
            return sink(a, b, idx, t.leaf_values(node), c);
        }
        let decided_by_x = match w.player_of[split.feature as usize] {
            None => false,
            Some(p) => {
                let bit = 1u64 << p;
                if a & bit != 0 {
                    true
                } else if b & bit != 0 {
                    false
                } else {
                    // Undecided player: rows whose own child equals x's go on unchanged; the others reach
                    // x's child when p is in (A) and their own child when p is out (B).
                    let cx = split.child(w.x);
                    let n_left = w.partition(split, rows);
                    let (l, r) = std::mem::take(&mut rows).split_at_mut(n_left);
                    let (same, diff, cz) = if cx == split.left as usize {
                        (l, r, split.right as usize)
                    } else {
                        (r, l, split.left as usize)
                    };
                    coalition_walk(t, cx, w, same, (a, b, idx), sink);
                    coalition_walk(t, cx, w, diff, (a | bit, b, idx.wrapping_sub(w.pow3[p])), sink);
                    b |= bit;
                    idx = idx.wrapping_sub(2usize.wrapping_mul(w.pow3[p]));
                    node = cz;
                    rows = diff;
                    continue;
                }
            }
        };
        if decided_by_x {
            node = split.child(w.x);
            continue;
        }
        // The rows' own values decide.
        let n_left = w.partition(split, rows);
        let (l, r) = std::mem::take(&mut rows).split_at_mut(n_left);
        coalition_walk(t, split.left as usize, w, l, (a, b, idx), sink);
        node = split.right as usize;
        rows = r;
    }
}

/// Exact TreeSHAP explainer for a [`TreeEnsemble`]: interventional against a [`Background`], or
/// path-dependent from the trees' node covers (see [`FeaturePerturbation`]).
///
/// # Examples
/// ```
/// use battsentinel_core::explain::{Background, FeaturePerturbation, Tree, TreeEnsemble, TreeExplainer, TreeShapParams};
/// use ndarray::array;
/// // Stump: x0 <= 0.5 -> 1.0, else 3.0; 3 training samples went left, 1 right.
/// let tree = Tree::new(vec![1, -1, -1], vec![2, -1, -1], vec![0, -1, -1], vec![0.5, f64::NAN, f64::NAN],
///     array![[1.5], [1.0], [3.0]], vec![4.0, 3.0, 1.0]).unwrap();
/// let model = TreeEnsemble::new(vec![tree], 1.0, vec![0.0], 2).unwrap();
/// // Interventional: against a background.
/// let bg = Background::new(array![[0.0, 0.0], [1.0, 0.0]]).unwrap();
/// let e = TreeExplainer::new(&model, &bg).unwrap().explain(array![1.0, 5.0].view()).unwrap();
/// assert_eq!(e.base_values, vec![2.0]);
/// assert_eq!(e.values[[0, 0]], 1.0);
/// assert_eq!(e.values[[1, 0]], 0.0);
/// // Path-dependent: no background, the expected value is the cover-weighted mean leaf (0.75·1 + 0.25·3).
/// let params = TreeShapParams::default().feature_perturbation(FeaturePerturbation::TreePathDependent);
/// let pd = TreeExplainer::with_params(&model, None, &params).unwrap();
/// let e = pd.explain(array![1.0, 5.0].view()).unwrap();
/// assert_eq!(e.base_values, vec![1.5]);
/// assert_eq!(e.values[[0, 0]], 1.5);
/// // Interaction values: rows add up to the SHAP values.
/// let iv = pd.interaction_values(array![1.0, 5.0].view()).unwrap();
/// assert_eq!(iv[[0, 0, 0]] + iv[[0, 1, 0]], 1.5);
/// ```
pub struct TreeExplainer<'a> {
    model: &'a TreeEnsemble,
    background: Option<&'a Background>,
    perturbation: FeaturePerturbation,
    expected_value: Vec<f64>,
    names: Vec<String>,
    depth: usize,
    /// Precomputed factors W(a, b) = a! b! / (a + b + 1)!, indexed [a][b].
    w: Vec<Vec<f64>>,
}

impl<'a> TreeExplainer<'a> {
    /// Interventional TreeSHAP against `background`; the expected value is the weighted mean prediction
    /// over the background.
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when the background has a different number of features.
    pub fn new(model: &'a TreeEnsemble, background: &'a Background) -> Result<Self, ExplainError> {
        Self::with_params(model, Some(background), &TreeShapParams::default())
    }

    /// Path-dependent TreeSHAP (no background); the expected value is the cover-weighted mean leaf value.
    ///
    /// # Errors
    /// [`ExplainError::InvalidTree`] when a node cover is not finite and positive.
    pub fn path_dependent(model: &'a TreeEnsemble) -> Result<Self, ExplainError> {
        Self::with_params(model, None, &TreeShapParams::default())
    }

    /// Builds the explainer from parameters: `feature_perturbation` "auto" (unset) is interventional with a
    /// background and tree_path_dependent without.
    ///
    /// # Errors
    /// [`ExplainError::Params`] for interventional without a background or tree_path_dependent with one;
    /// [`ExplainError::ShapeMismatch`] when the background has a different number of features;
    /// [`ExplainError::InvalidTree`] for path-dependent on a tree without positive node covers.
    pub fn with_params(
        model: &'a TreeEnsemble,
        background: Option<&'a Background>,
        params: &TreeShapParams,
    ) -> Result<Self, ExplainError> {
        let perturbation = params.check_ref()?.resolve(background.is_some())?;
        let d = model.n_outputs();
        let mut ev = vec![0.0; d];
        match background {
            Some(background) => {
                if background.n_features() != model.n_features {
                    return Err(ExplainError::ShapeMismatch {
                        what: "background",
                        expected: model.n_features,
                        got: background.n_features(),
                    });
                }
                let f0 = model.predict(background.data())?;
                for (row, w) in f0.rows().into_iter().zip(background.weights()) {
                    for (a, v) in ev.iter_mut().zip(row) {
                        *a += w * v;
                    }
                }
            }
            None => {
                let mut acc = vec![0.0; d];
                for t in &model.trees {
                    path_dependent::check_covers(t)?;
                    path_dependent::expected_value(t, &mut acc);
                }
                for ((e, a), o) in ev.iter_mut().zip(&acc).zip(&model.offset) {
                    *e = o + model.scale * a;
                }
            }
        }
        let depth = model.trees.iter().map(max_depth).max().unwrap_or(0) + 1;
        let mut w = vec![vec![0.0; depth + 1]; depth + 1];
        for (a, row) in w.iter_mut().enumerate() {
            for (b, v) in row.iter_mut().enumerate() {
                // a! b! / (a+b+1)! = 1 / ((a+b+1) · C(a+b, a))
                let mut c = 1.0f64;
                for i in 0..a.min(b) {
                    c = c * (a + b - i) as f64 / (i + 1) as f64;
                }
                *v = 1.0 / ((a + b + 1) as f64 * c.round());
            }
        }
        let names = (0..model.n_features).map(|j| format!("x{j}")).collect();
        Ok(Self { model, background, perturbation, expected_value: ev, names, depth, w })
    }

    /// The perturbation in use.
    pub fn feature_perturbation(&self) -> FeaturePerturbation {
        self.perturbation
    }

    /// Names the features.
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] for the wrong count.
    pub fn with_feature_names(mut self, names: Vec<String>) -> Result<Self, ExplainError> {
        if names.len() != self.model.n_features {
            return Err(ExplainError::ShapeMismatch {
                what: "feature names",
                expected: self.model.n_features,
                got: names.len(),
            });
        }
        self.names = names;
        Ok(self)
    }

    /// Expected value per output: the weighted mean prediction over the background (interventional) or the
    /// cover-weighted mean leaf value (path-dependent).
    pub fn expected_value(&self) -> &[f64] {
        &self.expected_value
    }

    /// SHAP values of one instance.
    ///
    /// # Errors
    /// [`ExplainError::ShapeMismatch`] when `x` has the wrong length.
    pub fn explain(&self, x: ArrayView1<'_, f64>) -> Result<Explanation, ExplainError> {
        let p = self.model.n_features;
        if x.len() != p {
            return Err(ExplainError::ShapeMismatch { what: "instance", expected: p, got: x.len() });
        }
        let d = self.model.n_outputs();
        let xv = x.to_vec();
        let phi = match self.background {
            Some(bg) => self.interventional_phi(&xv, bg),
            None => {
                self.path_dependent_phi(&xv, Condition::None, &mut path_dependent::path_buffer(self.depth))
            }
        };
        let mut values = Array2::zeros((p, d));
        for j in 0..p {
            for k in 0..d {
                values[[j, k]] = self.model.scale * phi[j * d + k];
            }
        }
        let mut out = vec![0.0; d];
        self.model.predict_row(&xv, &mut out);
        Ok(Explanation {
            feature_names: self.names.clone(),
            base_values: self.expected_value.clone(),
            model_output: out,
            values,
            instance: xv,
        })
    }

    /// Σ over trees of the path-dependent values (unscaled), `p · d` feature-major.
    fn path_dependent_phi(
        &self,
        x: &[f64],
        condition: Condition,
        buf: &mut Vec<path_dependent::PathElem>,
    ) -> Vec<f64> {
        let d = self.model.n_outputs();
        let mut phi = vec![0.0; self.model.n_features * d];
        for tree in &self.model.trees {
            Walk { tree, x, condition, phi: &mut phi, buf }.run();
        }
        phi
    }

    /// SHAP interaction values of one instance, `n_features × n_features × n_outputs` (path-dependent, as
    /// `shap.TreeExplainer(model).shap_interaction_values`): `Φ_ij` for `i ≠ j` is half the Shapley
    /// interaction index, `Φ_ii = φ_i − Σ_{j≠i} Φ_ij`; rows add up to the SHAP values and the whole matrix to
    /// `f(x) − E`.
    ///
    /// # Errors
    /// [`ExplainError::Params`] for an interventional explainer (shap supports interaction values only
    /// path-dependent); [`ExplainError::ShapeMismatch`] when `x` has the wrong length.
    pub fn interaction_values(&self, x: ArrayView1<'_, f64>) -> Result<Array3<f64>, ExplainError> {
        self.require_path_dependent()?;
        let p = self.model.n_features;
        if x.len() != p {
            return Err(ExplainError::ShapeMismatch { what: "instance", expected: p, got: x.len() });
        }
        let d = self.model.n_outputs();
        let xv = x.to_vec();
        let s = self.model.scale;
        let mut buf = path_dependent::path_buffer(self.depth);
        let mut out = Array3::zeros((p, p, d));
        let mut on = vec![0.0; p * d];
        let mut off = vec![0.0; p * d];
        let mut phi = vec![0.0; p * d];
        for tree in &self.model.trees {
            Walk { tree, x: &xv, condition: Condition::None, phi: &mut phi, buf: &mut buf }.run();
            for i in path_dependent::split_features(tree) {
                on.iter_mut().for_each(|v| *v = 0.0);
                off.iter_mut().for_each(|v| *v = 0.0);
                Walk { tree, x: &xv, condition: Condition::On(i), phi: &mut on, buf: &mut buf }.run();
                Walk { tree, x: &xv, condition: Condition::Off(i), phi: &mut off, buf: &mut buf }.run();
                for j in 0..p {
                    if j == i {
                        continue;
                    }
                    for k in 0..d {
                        out[[i, j, k]] += s * (on[j * d + k] - off[j * d + k]) / 2.0;
                    }
                }
            }
        }
        for i in 0..p {
            for k in 0..d {
                let off_diag: f64 = (0..p).filter(|&j| j != i).map(|j| out[[i, j, k]]).sum();
                out[[i, i, k]] = s * phi[i * d + k] - off_diag;
            }
        }
        Ok(out)
    }

    /// Interaction values of every row, `n_rows × n_features × n_features × n_outputs` (in parallel over rows
    /// with feature `parallel`).
    ///
    /// # Errors
    /// As [`TreeExplainer::interaction_values`].
    pub fn interaction_values_rows(&self, xs: ArrayView2<'_, f64>) -> Result<Array4<f64>, ExplainError> {
        self.require_path_dependent()?;
        let p = self.model.n_features;
        let d = self.model.n_outputs();
        #[cfg(feature = "parallel")]
        let list: Vec<Array3<f64>> = {
            use rayon::prelude::*;
            (0..xs.nrows())
                .into_par_iter()
                .map(|i| self.interaction_values(xs.row(i)))
                .collect::<Result<_, _>>()?
        };
        #[cfg(not(feature = "parallel"))]
        let list: Vec<Array3<f64>> =
            (0..xs.nrows()).map(|i| self.interaction_values(xs.row(i))).collect::<Result<_, _>>()?;
        let mut out = Array4::zeros((list.len(), p, p, d));
        for (mut dst, src) in out.outer_iter_mut().zip(&list) {
            dst.assign(src);
        }
        Ok(out)
    }

    fn require_path_dependent(&self) -> Result<(), ExplainError> {
        match self.perturbation {
            FeaturePerturbation::TreePathDependent => Ok(()),
            other => Err(crate::params::ParamError::invalid(
                "feature_perturbation",
                other.as_str(),
                "SHAP interaction values need tree_path_dependent (no background), as in shap",
            )
            .into()),
        }
    }

    /// Interventional values (unscaled), `p · d` feature-major.
    fn interventional_phi(&self, xv: &[f64], background: &Background) -> Vec<f64> {
        let p = self.model.n_features;
        let d = self.model.n_outputs();
        let mut phi = vec![0.0; p * d];
        let mut tmp = vec![0.0; p * d];
        let mut state = vec![0u8; p];
        let mut path = Vec::with_capacity(64);
        let bg = background.data();
        let mut z = vec![0.0; p];
        for (zi, &wz) in bg.rows().into_iter().zip(background.weights()) {
            z.iter_mut().zip(zi).for_each(|(a, b)| *a = *b);
            tmp.iter_mut().for_each(|v| *v = 0.0);
            for t in &self.model.trees {
                self.walk(t, 0, xv, &z, &mut state, &mut path, 0, 0, &mut tmp, d);
            }
            for (a, v) in phi.iter_mut().zip(&tmp) {
                *a += wz * v;
            }
        }
        phi
    }

    /// Explains every row (in parallel over instances with feature `parallel`).
    ///
    /// # Errors
    /// As [`TreeExplainer::explain`].
    pub fn explain_rows(&self, xs: ArrayView2<'_, f64>) -> Result<ExplanationSet, ExplainError> {
        #[cfg(feature = "parallel")]
        let list: Vec<Explanation> = {
            use rayon::prelude::*;
            (0..xs.nrows()).into_par_iter().map(|i| self.explain(xs.row(i))).collect::<Result<_, _>>()?
        };
        #[cfg(not(feature = "parallel"))]
        let list: Vec<Explanation> =
            (0..xs.nrows()).map(|i| self.explain(xs.row(i))).collect::<Result<_, _>>()?;
        Ok(ExplanationSet::from_explanations(&list, self.names.clone(), self.expected_value.clone()))
    }

    /// Depth-first walk; `state[f]` is 0 (undecided), 1 (follows x) or 2 (follows z).
    #[allow(clippy::too_many_arguments)]
    fn walk(
        &self,
        t: &Tree,
        node: usize,
        x: &[f64],
        z: &[f64],
        state: &mut [u8],
        path: &mut Vec<usize>,
        a: usize,
        b: usize,
        phi: &mut [f64],
        d: usize,
    ) {
        if t.children_left[node] == -1 {
            if a + b == 0 {
                return;
            }
            let v = t.value.row(node);
            let wa = if a > 0 { self.w[a - 1][b] } else { 0.0 };
            let wb = if b > 0 { self.w[a][b - 1] } else { 0.0 };
            for &f in path.iter() {
                let c = if state[f] == 1 { wa } else { -wb };
                for (k, val) in v.iter().enumerate() {
                    phi[f * d + k] += c * val;
                }
            }
            return;
        }
        let f = t.feature[node] as usize;
        let cx = t.child(node, x);
        match state[f] {
            1 => self.walk(t, cx, x, z, state, path, a, b, phi, d),
            2 => {
                let cz = t.child(node, z);
                self.walk(t, cz, x, z, state, path, a, b, phi, d)
            }
            _ => {
                let cz = t.child(node, z);
                if cx == cz {
                    self.walk(t, cx, x, z, state, path, a, b, phi, d);
                } else {
                    path.push(f);
                    state[f] = 1;
                    self.walk(t, cx, x, z, state, path, a + 1, b, phi, d);
                    state[f] = 2;
                    self.walk(t, cz, x, z, state, path, a, b + 1, phi, d);
                    state[f] = 0;
                    path.pop();
                }
            }
        }
    }
}

fn max_depth(t: &Tree) -> usize {
    let mut depth = vec![0usize; t.n_nodes()];
    let mut best = 0;
    for i in 0..t.n_nodes() {
        if t.children_left[i] != -1 {
            let (l, r) = (t.children_left[i] as usize, t.children_right[i] as usize);
            depth[l] = depth[i] + 1;
            depth[r] = depth[i] + 1;
            best = best.max(depth[i] + 1);
        }
    }
    best
}
