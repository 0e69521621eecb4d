//! Decision trees in flat, scikit-learn-like arrays, grown on histogram-binned data.
//!
//! A fitted tree is stored as parallel arrays indexed by node id (root = 0, ids in depth-first order, left child
//! first), exactly like `sklearn.tree._tree.Tree`. [`TreeView`] is the public read-only view that TreeSHAP and
//! exporters walk.

use serde::{Deserialize, Serialize};

use super::binning::Binned;
use super::ModelError;
use crate::rng;

/// Marker in `children_left` / `children_right` / `feature` for a leaf.
pub const LEAF: i32 = -1;

/// Threshold stored at leaves (undefined, as scikit-learn's `-2.0`).
pub const LEAF_THRESHOLD: f64 = -2.0;

/// One fitted decision tree (owned storage; read it through [`Tree::view`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "TreeFile", into = "TreeFile")]
pub struct Tree {
    n_outputs: usize,
    children_left: Vec<i32>,
    children_right: Vec<i32>,
    feature: Vec<i32>,
    threshold: Vec<f64>,
    /// Leaf values only (row-major, `n_outputs` per leaf, leaves in node order); internal values are derived.
    leaf_value: Vec<f64>,
    n_node_samples: Vec<u32>,
    weighted_n_node_samples: Vec<f64>,
    value: Vec<f64>,
    /// The split of every node packed together for prediction (derived with `value`).
    steps: Vec<Step>,
}

/// One node's split in one 24-byte record, so that a step of a prediction reads one cache line instead of
/// four arrays. A leaf steps to itself (both children are the leaf), which lets several rows walk a tree in
/// lock step until all have stopped.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    threshold: f64,
    feature: u32,
    left: u32,
    right: u32,
}

/// Rows walked through a tree together: independent walks overlap their memory reads.
const LANES: usize = 8;

/// Compact file form of a [`Tree`]: only what cannot be derived. Nodes are in depth-first order, so an
/// internal node's left child is the next node; `feature`/`threshold` are listed for internal nodes only and
/// counts/values for leaves only (internal counts are the sums of their children, internal values the
/// cover-weighted means).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TreeFile {
    n_outputs: usize,
    children_right: Vec<i32>,
    feature: Vec<i32>,
    threshold: Vec<f64>,
    leaf_value: Vec<f64>,
    leaf_n_node_samples: Vec<u32>,
    leaf_weighted_n_node_samples: Vec<f64>,
}

impl From<Tree> for TreeFile {
    fn from(t: Tree) -> TreeFile {
        let internal: Vec<usize> =
            (0..t.children_left.len()).filter(|&i| t.children_left[i] != LEAF).collect();
        let leaves: Vec<usize> = (0..t.children_left.len()).filter(|&i| t.children_left[i] == LEAF).collect();
        TreeFile {
            n_outputs: t.n_outputs,
            feature: internal.iter().map(|&i| t.feature[i]).collect(),
            threshold: internal.iter().map(|&i| t.threshold[i]).collect(),
            leaf_n_node_samples: leaves.iter().map(|&i| t.n_node_samples[i]).collect(),
            leaf_weighted_n_node_samples: leaves.iter().map(|&i| t.weighted_n_node_samples[i]).collect(),
            children_right: t.children_right,
            leaf_value: t.leaf_value,
        }
    }
}

impl TryFrom<TreeFile> for Tree {
    type Error = ModelError;

    fn try_from(f: TreeFile) -> Result<Tree, ModelError> {
        let n = f.children_right.len();
        let n_leaves = f.children_right.iter().filter(|&&r| r == LEAF).count();
        if f.feature.len() != n - n_leaves
            || f.threshold.len() != n - n_leaves
            || f.leaf_n_node_samples.len() != n_leaves
            || f.leaf_weighted_n_node_samples.len() != n_leaves
        {
            return Err(ModelError::Corrupt {
                reason: "compact tree arrays of inconsistent length".to_string(),
            });
        }
        let mut t = Tree {
            n_outputs: f.n_outputs,
            children_left: Vec::with_capacity(n),
            children_right: f.children_right,
            feature: Vec::with_capacity(n),
            threshold: Vec::with_capacity(n),
            leaf_value: f.leaf_value,
            n_node_samples: vec![0; n],
            weighted_n_node_samples: vec![0.0; n],
            value: Vec::new(),
            steps: Vec::new(),
        };
        let (mut ki, mut kl) = (0, 0);
        for i in 0..n {
            if t.children_right[i] == LEAF {
                t.children_left.push(LEAF);
                t.feature.push(LEAF);
                t.threshold.push(LEAF_THRESHOLD);
                t.n_node_samples[i] = f.leaf_n_node_samples[kl];
                t.weighted_n_node_samples[i] = f.leaf_weighted_n_node_samples[kl];
                kl += 1;
            } else {
                t.children_left.push(i as i32 + 1);
                t.feature.push(f.feature[ki]);
                t.threshold.push(f.threshold[ki]);
                ki += 1;
            }
        }
        for i in (0..n).rev() {
            let (l, r) = (t.children_left[i], t.children_right[i]);
            if l != LEAF {
                if r <= i as i32 + 1 || r as usize >= n {
                    return Err(ModelError::Corrupt {
                        reason: format!("node {i}: right child {r} out of order"),
                    });
                }
                let (l, r) = (l as usize, r as usize);
                t.n_node_samples[i] = t.n_node_samples[l].saturating_add(t.n_node_samples[r]);
                t.weighted_n_node_samples[i] = t.weighted_n_node_samples[l] + t.weighted_n_node_samples[r];
            }
        }
        Ok(t)
    }
}

/// Read-only view of one tree, with the array layout of scikit-learn's `tree_` (and of the tree JSON in
/// `shared/reference/xai`).
///
/// With `n = n_nodes()` and `d = n_outputs()`:
/// - `children_left[i]`, `children_right[i]`: child node ids, [`LEAF`] (−1) for a leaf;
/// - `feature[i]`: the split feature (column index), −1 at leaves;
/// - `threshold[i]`: go left iff `x[feature[i]] <= threshold[i]`; −2.0 at leaves;
/// - `value[i*d .. (i+1)*d]`: node value — class probabilities (classifiers, each row sums to 1) or the mean
///   target (regressors, d = 1), for internal nodes as well as leaves;
/// - `n_node_samples[i]`: distinct training rows reaching the node;
/// - `weighted_n_node_samples[i]`: their total weight (bootstrap multiplicity × class weight) — the node
///   *cover* TreeSHAP uses (`weighted_n_node_samples[left] + [right] == [parent]`).
#[derive(Debug, Clone, Copy)]
pub struct TreeView<'a> {
    /// Left child per node, −1 at leaves.
    pub children_left: &'a [i32],
    /// Right child per node, −1 at leaves.
    pub children_right: &'a [i32],
    /// Split feature per node, −1 at leaves.
    pub feature: &'a [i32],
    /// Split threshold per node (go left iff `x[feature] <= threshold`), −2.0 at leaves.
    pub threshold: &'a [f64],
    /// Node values, `n_nodes × n_outputs`, row-major.
    pub value: &'a [f64],
    /// Distinct training rows per node.
    pub n_node_samples: &'a [u32],
    /// Weighted training samples per node (cover).
    pub weighted_n_node_samples: &'a [f64],
    /// Outputs per node (number of classes, or 1).
    pub n_outputs: usize,
}

impl TreeView<'_> {
    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.children_left.len()
    }

    /// Whether node `i` is a leaf.
    pub fn is_leaf(&self, i: usize) -> bool {
        self.children_left[i] == LEAF
    }

    /// The value row of node `i`.
    pub fn node_value(&self, i: usize) -> &[f64] {
        &self.value[i * self.n_outputs..(i + 1) * self.n_outputs]
    }

    /// Leaf reached by the row `x` (which must have at least `max(feature)+1` entries).
    pub fn apply(&self, x: &[f64]) -> usize {
        let mut node = 0usize;
        while self.children_left[node] != LEAF {
            let f = self.feature[node] as usize;
            node = if x[f] <= self.threshold[node] {
                self.children_left[node] as usize
            } else {
                self.children_right[node] as usize
            };
        }
        node
    }

    /// Maximum depth (root alone = 0).
    pub fn max_depth(&self) -> usize {
        let mut depth = vec![0usize; self.n_nodes()];
        let mut best = 0;
        for i in 0..self.n_nodes() {
            if !self.is_leaf(i) {
                for c in [self.children_left[i] as usize, self.children_right[i] as usize] {
                    depth[c] = depth[i] + 1;
                    best = best.max(depth[c]);
                }
            }
        }
        best
    }
}

impl Tree {
    /// The read-only array view.
    pub fn view(&self) -> TreeView<'_> {
        TreeView {
            children_left: &self.children_left,
            children_right: &self.children_right,
            feature: &self.feature,
            threshold: &self.threshold,
            value: &self.value,
            n_node_samples: &self.n_node_samples,
            weighted_n_node_samples: &self.weighted_n_node_samples,
            n_outputs: self.n_outputs,
        }
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.children_left.len()
    }

    /// Value row of the leaf reached by `x`.
    #[inline]
    pub(crate) fn leaf_value_of(&self, x: &[f64]) -> &[f64] {
        let mut node = 0usize;
        loop {
            let s = self.steps[node];
            let next = if x[s.feature as usize] <= s.threshold { s.left } else { s.right } as usize;
            if next == node {
                break;
            }
            node = next;
        }
        &self.value[node * self.n_outputs..(node + 1) * self.n_outputs]
    }

    /// Adds the leaf value row of every row of `data` (row-major, `nf` columns) to the matching row of `acc`
    /// (`n_outputs` per row). Walks [`LANES`] rows in lock step, so that their dependent node reads overlap;
    /// the result is the same as [`Self::leaf_value_of`] row by row.
    pub(crate) fn add_leaf_values(&self, data: &[f64], nf: usize, acc: &mut [f64]) {
        let d = self.n_outputs;
        let steps = &self.steps[..];
        let mut rows = data.chunks_exact(nf * LANES);
        let mut accs = acc.chunks_exact_mut(d * LANES);
        for (x, a) in (&mut rows).zip(&mut accs) {
            let mut node = [0u32; LANES];
            loop {
                let mut moved = 0u32;
                for (l, nd) in node.iter_mut().enumerate() {
                    let s = steps[*nd as usize];
                    let next = if x[l * nf + s.feature as usize] <= s.threshold { s.left } else { s.right };
                    moved |= next ^ *nd;
                    *nd = next;
                }
                if moved == 0 {
                    break;
                }
            }
            for (l, &nd) in node.iter().enumerate() {
                let v = &self.value[nd as usize * d..(nd as usize + 1) * d];
                for (o, &v) in a[l * d..(l + 1) * d].iter_mut().zip(v) {
                    *o += v;
                }
            }
        }
        for (x, a) in rows.remainder().chunks_exact(nf).zip(accs.into_remainder().chunks_exact_mut(d)) {
            for (o, &v) in a.iter_mut().zip(self.leaf_value_of(x)) {
                *o += v;
            }
        }
    }

    /// Checks structure after deserialisation and rebuilds internal node values from the leaves
    /// (cover-weighted mean of the children, children before parents).
    pub(crate) fn restore(&mut self, n_features: usize) -> Result<(), ModelError> {
        let n = self.children_left.len();
        let corrupt = |reason: String| ModelError::Corrupt { reason };
        if n == 0
            || self.children_right.len() != n
            || self.feature.len() != n
            || self.threshold.len() != n
            || self.n_node_samples.len() != n
            || self.weighted_n_node_samples.len() != n
            || self.n_outputs == 0
        {
            return Err(corrupt(format!("tree arrays of unequal length ({n} nodes)")));
        }
        let n_leaves = self.children_left.iter().filter(|&&c| c == LEAF).count();
        if self.leaf_value.len() != n_leaves * self.n_outputs {
            return Err(corrupt(format!("{} leaf values for {n_leaves} leaves", self.leaf_value.len())));
        }
        for i in 0..n {
            let (l, r) = (self.children_left[i], self.children_right[i]);
            if l == LEAF {
                if r != LEAF {
                    return Err(corrupt(format!("node {i}: only one child")));
                }
                continue;
            }
            // depth-first ids: children come after their parent, so walks terminate
            let ok = |c: i32| c > i as i32 && (c as usize) < n;
            let f = self.feature[i];
            if !ok(l) || !ok(r) || f < 0 || f as usize >= n_features || !self.threshold[i].is_finite() {
                return Err(corrupt(format!("node {i}: bad children ({l}, {r}) or feature {f}")));
            }
        }
        self.derive_values();
        Ok(())
    }

    /// Node values from the leaf values: leaves copied, internal nodes the cover-weighted mean of their
    /// children (children have larger ids, so a reverse sweep sees them first).
    fn derive_values(&mut self) {
        let n = self.children_left.len();
        let d = self.n_outputs;
        let mut value = vec![0.0; n * d];
        let mut next_leaf = 0;
        for i in 0..n {
            if self.children_left[i] == LEAF {
                value[i * d..(i + 1) * d]
                    .copy_from_slice(&self.leaf_value[next_leaf * d..(next_leaf + 1) * d]);
                next_leaf += 1;
            }
        }
        for i in (0..n).rev() {
            if self.children_left[i] != LEAF {
                let (l, r) = (self.children_left[i] as usize, self.children_right[i] as usize);
                let (wl, wr) = (self.weighted_n_node_samples[l], self.weighted_n_node_samples[r]);
                let w = wl + wr;
                for k in 0..d {
                    value[i * d + k] = if w > 0.0 {
                        (wl * value[l * d + k] + wr * value[r * d + k]) / w
                    } else {
                        0.5 * (value[l * d + k] + value[r * d + k])
                    };
                }
            }
        }
        self.value = value;
        self.steps = (0..n)
            .map(|i| {
                if self.children_left[i] == LEAF {
                    Step { threshold: f64::INFINITY, feature: 0, left: i as u32, right: i as u32 }
                } else {
                    Step {
                        threshold: self.threshold[i],
                        feature: self.feature[i] as u32,
                        left: self.children_left[i] as u32,
                        right: self.children_right[i] as u32,
                    }
                }
            })
            .collect();
    }
}

impl Tree {
    /// Exports the tree in the node-list JSON of `shared/reference/xai` (`{"root", "rule", "nodes": [{"id",
    /// "feature", "threshold", "left", "right", "value", "n_node_samples"}]}`; `threshold` null and `feature`
    /// −1 at leaves; `value` a number for one output, else an array), which TreeSHAP and model import share.
    pub fn to_reference_json(&self) -> serde_json::Value {
        let v = self.view();
        let nodes: Vec<serde_json::Value> = (0..v.n_nodes())
            .map(|i| {
                let value = if v.n_outputs == 1 {
                    serde_json::json!(v.value[i])
                } else {
                    serde_json::json!(v.node_value(i))
                };
                let threshold =
                    if v.is_leaf(i) { serde_json::Value::Null } else { serde_json::json!(v.threshold[i]) };
                serde_json::json!({
                    "id": i,
                    "feature": v.feature[i],
                    "threshold": threshold,
                    "left": v.children_left[i],
                    "right": v.children_right[i],
                    "value": value,
                    "n_node_samples": v.n_node_samples[i],
                    "weighted_n_node_samples": v.weighted_n_node_samples[i],
                })
            })
            .collect();
        serde_json::json!({"root": 0, "rule": "go left iff x[feature] <= threshold; leaf iff left == -1", "nodes": nodes})
    }

    /// Imports a tree from the node-list JSON of `shared/reference/xai` (e.g. a scikit-learn tree exported
    /// there). Node cover is `weighted_n_node_samples` when present, else `n_node_samples`; internal node
    /// values are re-derived from the leaves as for fitted trees.
    ///
    /// # Errors
    /// [`ModelError::Json`] if the JSON does not match, [`ModelError::Corrupt`] if the structure is invalid
    /// for `n_features` columns.
    pub fn from_reference_json(json: &serde_json::Value, n_features: usize) -> Result<Tree, ModelError> {
        #[derive(Deserialize)]
        struct Node {
            id: usize,
            feature: i32,
            threshold: Option<f64>,
            left: i32,
            right: i32,
            value: serde_json::Value,
            n_node_samples: u32,
            weighted_n_node_samples: Option<f64>,
        }
        #[derive(Deserialize)]
        struct Nodes {
            nodes: Vec<Node>,
        }
        let parsed: Nodes =
            serde_json::from_value(json.clone()).map_err(|source| ModelError::Json { source })?;
        let mut nodes = parsed.nodes;
        nodes.sort_by_key(|n| n.id);
        let n_outputs = match nodes.first().map(|n| &n.value) {
            Some(serde_json::Value::Array(a)) => a.len(),
            _ => 1,
        };
        let mut t = Tree {
            n_outputs,
            children_left: Vec::new(),
            children_right: Vec::new(),
            feature: Vec::new(),
            threshold: Vec::new(),
            leaf_value: Vec::new(),
            n_node_samples: Vec::new(),
            weighted_n_node_samples: Vec::new(),
            value: Vec::new(),
            steps: Vec::new(),
        };
        for (i, node) in nodes.iter().enumerate() {
            if node.id != i {
                return Err(ModelError::Corrupt {
                    reason: format!("node ids are not 0..n (found {})", node.id),
                });
            }
            let leaf = node.left == LEAF;
            t.children_left.push(node.left);
            t.children_right.push(node.right);
            t.feature.push(if leaf { LEAF } else { node.feature });
            t.threshold.push(if leaf { LEAF_THRESHOLD } else { node.threshold.unwrap_or(f64::NAN) });
            t.n_node_samples.push(node.n_node_samples);
            t.weighted_n_node_samples
                .push(node.weighted_n_node_samples.unwrap_or(node.n_node_samples as f64));
            if leaf {
                let vals: Vec<f64> = match &node.value {
                    serde_json::Value::Array(a) => a.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect(),
                    v => vec![v.as_f64().unwrap_or(f64::NAN)],
                };
                if vals.len() != n_outputs || vals.iter().any(|v| !v.is_finite()) {
                    return Err(ModelError::Corrupt { reason: format!("node {i}: bad value") });
                }
                t.leaf_value.extend(vals);
            }
        }
        t.restore(n_features)?;
        Ok(t)
    }
}

/// What a tree predicts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Task {
    /// Class probabilities over `n_classes`.
    Classification { n_classes: usize },
    /// A scalar mean.
    Regression,
}

impl Task {
    /// Statistics per sample: slot 0 = 1 (row count), then weighted class one-hot or `[w, w·y, w·y²]`.
    pub(crate) fn stride(self) -> usize {
        match self {
            Task::Classification { n_classes } => 1 + n_classes,
            Task::Regression => 4,
        }
    }

    fn n_outputs(self) -> usize {
        match self {
            Task::Classification { n_classes } => n_classes,
            Task::Regression => 1,
        }
    }

    /// Total weight of a stats vector.
    #[inline]
    fn weight(self, s: &[f64]) -> f64 {
        match self {
            Task::Classification { .. } => s[1..].iter().sum(),
            Task::Regression => s[1],
        }
    }

    /// The split proxy to maximise (Σ_children proxy): Σ_k w_k² / W (Gini) or (Σwy)² / Σw (MSE).
    #[inline]
    fn proxy(self, s: &[f64]) -> f64 {
        match self {
            Task::Classification { .. } => {
                let w: f64 = s[1..].iter().sum();
                if w <= 0.0 {
                    0.0
                } else {
                    s[1..].iter().map(|v| v * v).sum::<f64>() / w
                }
            }
            Task::Regression => {
                if s[1] <= 0.0 {
                    0.0
                } else {
                    s[2] * s[2] / s[1]
                }
            }
        }
    }

    /// Impurity (Gini or variance) of a stats vector.
    fn impurity(self, s: &[f64]) -> f64 {
        let w = self.weight(s);
        if w <= 0.0 {
            return 0.0;
        }
        match self {
            Task::Classification { .. } => 1.0 - s[1..].iter().map(|v| (v / w) * (v / w)).sum::<f64>(),
            Task::Regression => {
                let mean = s[2] / w;
                (s[3] / w - mean * mean).max(0.0)
            }
        }
    }

    /// Node value from a stats vector.
    fn value(self, s: &[f64], out: &mut Vec<f64>) {
        let w = self.weight(s);
        match self {
            Task::Classification { n_classes } => {
                for k in 0..n_classes {
                    out.push(if w > 0.0 { s[1 + k] / w } else { 1.0 / n_classes as f64 });
                }
            }
            Task::Regression => out.push(if w > 0.0 { s[2] / w } else { 0.0 }),
        }
    }
}

/// Tree growing settings (already validated).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowConfig {
    pub task: Task,
    pub max_depth: usize,
    pub min_samples_split: usize,
    pub min_samples_leaf: usize,
    pub max_features: usize,
}

struct Pending {
    start: usize,
    end: usize,
    depth: usize,
    parent: Option<(usize, bool)>,
}

/// Grows one tree on the rows `samples` (distinct indices into `binned`), whose per-row statistics are
/// `stats[i*stride..]`. Adds the weighted impurity decrease per feature to `importance`.
pub(crate) fn grow(
    binned: &Binned,
    stats: &[f64],
    mut samples: Vec<u32>,
    cfg: &GrowConfig,
    seed: u64,
    importance: &mut [f64],
) -> Tree {
    let task = cfg.task;
    let s = task.stride();
    let n_features = binned.codes.len();
    let mut rng = rng::seeded(seed);
    let mut feats: Vec<usize> = (0..n_features).collect();
    let max_bins = (0..n_features).map(|f| binned.n_bins(f)).max().unwrap_or(1);
    let mut hist = vec![0.0f64; max_bins * s];
    let mut total = vec![0.0f64; s];
    let mut left = vec![0.0f64; s];

    let mut tree = Tree {
        n_outputs: task.n_outputs(),
        children_left: Vec::new(),
        children_right: Vec::new(),
        feature: Vec::new(),
        threshold: Vec::new(),
        leaf_value: Vec::new(),
        n_node_samples: Vec::new(),
        weighted_n_node_samples: Vec::new(),
        value: Vec::new(),
        steps: Vec::new(),
    };
    let n = samples.len();
    let mut stack = vec![Pending { start: 0, end: n, depth: 0, parent: None }];
    while let Some(p) = stack.pop() {
        let id = tree.children_left.len();
        if let Some((parent, is_left)) = p.parent {
            if is_left {
                tree.children_left[parent] = id as i32;
            } else {
                tree.children_right[parent] = id as i32;
            }
        }
        let node = &mut samples[p.start..p.end];
        total.iter_mut().for_each(|v| *v = 0.0);
        for &i in node.iter() {
            let row = &stats[i as usize * s..(i as usize + 1) * s];
            for (t, v) in total.iter_mut().zip(row) {
                *t += v;
            }
        }
        let n_node = node.len();
        let w_node = task.weight(&total);
        let impurity = task.impurity(&total);
        tree.children_left.push(LEAF);
        tree.children_right.push(LEAF);
        tree.feature.push(LEAF);
        tree.threshold.push(LEAF_THRESHOLD);
        tree.n_node_samples.push(n_node as u32);
        tree.weighted_n_node_samples.push(w_node);
        task.value(&total, &mut tree.value);

        let can_split = p.depth < cfg.max_depth
            && n_node >= cfg.min_samples_split
            && n_node >= 2 * cfg.min_samples_leaf
            && impurity > 1e-12;
        if !can_split {
            continue;
        }

        // best split over at least `max_features` non-constant features (drawn without replacement)
        let mut best: Option<(usize, usize, f64)> = None;
        let mut visited = 0;
        let mut j = 0;
        while j < n_features && visited < cfg.max_features {
            let k = rng::index(&mut rng, j, n_features);
            feats.swap(j, k);
            let f = feats[j];
            j += 1;
            let codes = &binned.codes[f];
            let (mut lo, mut hi) = (u8::MAX, 0u8);
            for &i in node.iter() {
                let c = codes[i as usize];
                lo = lo.min(c);
                hi = hi.max(c);
                let base = c as usize * s;
                let row = &stats[i as usize * s..(i as usize + 1) * s];
                for (h, v) in hist[base..base + s].iter_mut().zip(row) {
                    *h += v;
                }
            }
            let (lo, hi) = (lo as usize, hi as usize);
            if lo == hi {
                hist[lo * s..(lo + 1) * s].iter_mut().for_each(|v| *v = 0.0);
                continue;
            }
            visited += 1;
            left.iter_mut().for_each(|v| *v = 0.0);
            let mut right = total.clone();
            for b in lo..hi {
                let h = &hist[b * s..(b + 1) * s];
                if h[0] == 0.0 {
                    continue;
                }
                for t in 0..s {
                    left[t] += h[t];
                    right[t] = total[t] - left[t];
                }
                let (nl, nr) = (left[0] as usize, n_node - left[0] as usize);
                if nl < cfg.min_samples_leaf {
                    continue;
                }
                if nr < cfg.min_samples_leaf {
                    break;
                }
                let score = task.proxy(&left) + task.proxy(&right);
                if best.is_none_or(|(_, _, bs)| score > bs) {
                    best = Some((f, b, score));
                }
            }
            hist[lo * s..(hi + 1) * s].iter_mut().for_each(|v| *v = 0.0);
        }
        let Some((f, b, _)) = best else { continue };

        // importance: weighted impurity decrease, from exact child sums
        let codes = &binned.codes[f];
        let mut lsum = vec![0.0f64; s];
        let mut rsum = vec![0.0f64; s];
        // partition: rows with code <= b first
        let (mut a, mut z) = (0usize, node.len());
        while a < z {
            if codes[node[a] as usize] as usize <= b {
                a += 1;
            } else {
                z -= 1;
                node.swap(a, z);
            }
        }
        for (idx, &i) in node.iter().enumerate() {
            let row = &stats[i as usize * s..(i as usize + 1) * s];
            let target = if idx < a { &mut lsum } else { &mut rsum };
            for (t, v) in target.iter_mut().zip(row) {
                *t += v;
            }
        }
        importance[f] += w_node * impurity
            - task.weight(&lsum) * task.impurity(&lsum)
            - task.weight(&rsum) * task.impurity(&rsum);
        tree.feature[id] = f as i32;
        tree.threshold[id] = binned.edges[f][b];
        let mid = p.start + a;
        stack.push(Pending { start: mid, end: p.end, depth: p.depth + 1, parent: Some((id, false)) });
        stack.push(Pending { start: p.start, end: mid, depth: p.depth + 1, parent: Some((id, true)) });
    }
    let d = tree.n_outputs;
    for i in 0..tree.children_left.len() {
        if tree.children_left[i] == LEAF {
            let v = &tree.value[i * d..(i + 1) * d];
            tree.leaf_value.extend_from_slice(v);
        }
    }
    // internal covers and values are stored derived (as after loading), so fitted and reloaded trees are
    // bit-identical
    for i in (0..tree.children_left.len()).rev() {
        if tree.children_left[i] != LEAF {
            let (l, r) = (tree.children_left[i] as usize, tree.children_right[i] as usize);
            tree.weighted_n_node_samples[i] =
                tree.weighted_n_node_samples[l] + tree.weighted_n_node_samples[r];
        }
    }
    tree.derive_values();
    tree
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn lock_step_walks_reach_the_leaves_of_single_walks() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let n = 300;
        let x = ndarray::Array2::from_shape_fn((n, 3), |_| rng.gen_range(-1.0..1.0));
        let mut stats = Vec::new();
        for r in x.outer_iter() {
            let c = usize::from(r[0] * r[1] > 0.0) + usize::from(r[2] > 0.5);
            stats.push(1.0);
            stats.extend((0..3).map(|k| f64::from(u8::from(k == c))));
        }
        let cfg = GrowConfig {
            task: Task::Classification { n_classes: 3 },
            max_depth: usize::MAX,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: 3,
        };
        let tree =
            grow(&Binned::fit(&x.view(), 255), &stats, (0..n as u32).collect(), &cfg, 1, &mut [0.0; 3]);
        assert!(tree.view().max_depth() >= 4);
        // Rows past a multiple of the lane count, NaN (goes right) and infinite cells included.
        let mut q = x.slice(ndarray::s![..61, ..]).to_owned();
        q[[5, 0]] = f64::NAN;
        q[[17, 2]] = f64::INFINITY;
        q[[60, 1]] = f64::NEG_INFINITY;
        let data = q.as_slice().unwrap();
        let mut acc = vec![1.0; 61 * 3];
        tree.add_leaf_values(data, 3, &mut acc);
        for (r, a) in data.chunks_exact(3).zip(acc.chunks_exact(3)) {
            let single: Vec<f64> = tree.leaf_value_of(r).iter().map(|v| v + 1.0).collect();
            assert_eq!(a, &single[..]);
            assert_eq!(tree.leaf_value_of(r), tree.view().node_value(tree.view().apply(r)));
        }
    }

    #[test]
    fn grows_exact_split_and_view_is_consistent() {
        let x = array![[0.0, 5.0], [1.0, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let y = [0usize, 0, 1, 1];
        let binned = Binned::fit(&x.view(), 255);
        let task = Task::Classification { n_classes: 2 };
        let mut stats = Vec::new();
        for &c in &y {
            stats.extend_from_slice(&[1.0, (c == 0) as u8 as f64, (c == 1) as u8 as f64]);
        }
        let cfg = GrowConfig {
            task,
            max_depth: usize::MAX,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_features: 2,
        };
        let mut imp = vec![0.0; 2];
        let mut tree = grow(&binned, &stats, (0..4).collect(), &cfg, 1, &mut imp);
        let v = tree.view();
        assert_eq!(v.n_nodes(), 3);
        assert_eq!(v.feature[0], 0);
        assert_eq!(v.threshold[0], 1.5);
        assert_eq!(v.children_left, &[1, -1, -1]);
        assert_eq!(v.children_right, &[2, -1, -1]);
        assert_eq!(v.node_value(0), &[0.5, 0.5]);
        assert_eq!(v.node_value(1), &[1.0, 0.0]);
        assert_eq!(v.weighted_n_node_samples, &[4.0, 2.0, 2.0]);
        assert_eq!(imp, vec![2.0, 0.0]);
        assert_eq!(v.apply(&[1.5, 0.0]), 1);
        assert_eq!(v.max_depth(), 1);
        let before = tree.clone();
        tree.value.clear();
        tree.restore(2).unwrap();
        assert_eq!(tree, before);
    }
}
