//! Path-dependent TreeSHAP (Lundberg, Erion & Lee 2018, "Consistent individualized feature attribution for
//! tree ensembles", Algorithm 2) and SHAP interaction values on top of it.
//!
//! The game is `v(S) = E[f(x) | x_S]` as the tree itself estimates it: at a split on a feature of `S` follow
//! `x`'s branch, at any other split go both ways, weighting each child by its share of the parent's training
//! cover. One depth-first walk keeps, for the features met on the path to the current node, the fraction of
//! "zero" paths (feature not in `S`: product of cover ratios) and "one" paths (feature in `S`: 1 if `x` goes
//! this way, else 0), plus the permutation weights of every subset size of those features (EXTEND adds a
//! feature, UNWIND removes one). At a leaf, a feature's Shapley value gains the leaf value times the summed
//! weights with that feature removed, times `one − zero`. A feature split twice on a path is first unwound,
//! and its fractions carry over.
//!
//! Interaction values follow the same walk with one feature `i` conditioned: "on" (always follows `x`,
//! never enters the path) or "off" (always splits by cover); `Φ_ij = (φ_j|i on − φ_j|i off) / 2` for
//! `j ≠ i` and `Φ_ii = φ_i − Σ_{j≠i} Φ_ij`, which is what `shap.TreeExplainer.shap_interaction_values`
//! computes.

use super::Tree;

/// Marks the root element of a path (no feature).
const ROOT: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
pub(super) struct PathElem {
    feature: usize,
    zero: f64,
    one: f64,
    weight: f64,
}

/// Conditioning of one feature for interaction values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Condition {
    /// Plain SHAP values.
    None,
    /// Feature always follows `x` (in every coalition).
    On(usize),
    /// Feature always splits by cover (in no coalition).
    Off(usize),
}

impl Condition {
    fn feature(self) -> Option<usize> {
        match self {
            Condition::None => None,
            Condition::On(f) | Condition::Off(f) => Some(f),
        }
    }
}

/// Adds a feature with its zero/one fractions to the path `buf[start..]`.
fn extend(buf: &mut Vec<PathElem>, start: usize, zero: f64, one: f64, feature: usize) {
    let l = buf.len() - start;
    buf.push(PathElem { feature, zero, one, weight: if l == 0 { 1.0 } else { 0.0 } });
    let path = &mut buf[start..];
    let denom = (l + 1) as f64;
    for i in (0..l).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / denom;
        path[i].weight = zero * path[i].weight * (l - i) as f64 / denom;
    }
}

/// Removes element `k` (≥ 1) of the path `buf[start..]`, undoing its EXTEND on the weights.
fn unwind(buf: &mut Vec<PathElem>, start: usize, k: usize) {
    let path = &mut buf[start..];
    let l = path.len() - 1;
    let (zero, one) = (path[k].zero, path[k].one);
    let denom = (l + 1) as f64;
    let mut n = path[l].weight;
    for j in (0..l).rev() {
        if one != 0.0 {
            let tmp = path[j].weight;
            path[j].weight = n * denom / ((j + 1) as f64 * one);
            n = tmp - path[j].weight * zero * (l - j) as f64 / denom;
        } else {
            path[j].weight = path[j].weight * denom / (zero * (l - j) as f64);
        }
    }
    for j in k..l {
        path[j].feature = path[j + 1].feature;
        path[j].zero = path[j + 1].zero;
        path[j].one = path[j + 1].one;
    }
    buf.pop();
}

/// Sum of the path weights with element `k` removed (UNWIND without changing the path).
fn unwound_sum(path: &[PathElem], k: usize) -> f64 {
    let l = path.len() - 1;
    let (zero, one) = (path[k].zero, path[k].one);
    let denom = (l + 1) as f64;
    let mut n = path[l].weight;
    let mut total = 0.0;
    for j in (0..l).rev() {
        if one != 0.0 {
            let tmp = n * denom / ((j + 1) as f64 * one);
            total += tmp;
            n = path[j].weight - tmp * zero * (l - j) as f64 / denom;
        } else {
            total += path[j].weight * denom / (zero * (l - j) as f64);
        }
    }
    total
}

/// One tree's walk state: the instance, the conditioning, and where to add `φ[feature · d + output]`.
pub(super) struct Walk<'a> {
    pub(super) tree: &'a Tree,
    pub(super) x: &'a [f64],
    pub(super) condition: Condition,
    pub(super) phi: &'a mut [f64],
    pub(super) buf: &'a mut Vec<PathElem>,
}

impl Walk<'_> {
    /// Adds this tree's path-dependent SHAP values (under the conditioning) to `phi`.
    pub(super) fn run(&mut self) {
        self.buf.clear();
        self.recurse(0, 0, 1.0, 1.0, ROOT, 1.0);
    }

    #[allow(clippy::too_many_arguments)]
    fn recurse(&mut self, node: usize, pstart: usize, zero: f64, one: f64, feature: usize, cond_frac: f64) {
        let start = self.buf.len();
        self.buf.extend_from_within(pstart..start);
        if self.condition.feature() != Some(feature) {
            extend(self.buf, start, zero, one, feature);
        }
        let t = self.tree;
        if t.children_left[node] == -1 {
            let d = t.value.ncols();
            let v = t.value.row(node);
            let path = &self.buf[start..];
            for k in 1..path.len() {
                let e = path[k];
                let c = unwound_sum(path, k) * (e.one - e.zero) * cond_frac;
                for (o, val) in v.iter().enumerate() {
                    self.phi[e.feature * d + o] += c * val;
                }
            }
            self.buf.truncate(start);
            return;
        }
        let f = t.feature[node] as usize;
        let hot = t.child(node, self.x);
        let cold = if hot == t.children_left[node] as usize {
            t.children_right[node] as usize
        } else {
            t.children_left[node] as usize
        };
        let cover = t.node_cover[node];
        let (hot_zero, cold_zero) = (t.node_cover[hot] / cover, t.node_cover[cold] / cover);
        let (mut in_zero, mut in_one) = (1.0, 1.0);
        if let Some(k) = (1..self.buf.len() - start).find(|&k| self.buf[start + k].feature == f) {
            in_zero = self.buf[start + k].zero;
            in_one = self.buf[start + k].one;
            unwind(self.buf, start, k);
        }
        let (hot_cond, cold_cond) = match self.condition {
            Condition::On(c) if c == f => (cond_frac, 0.0),
            Condition::Off(c) if c == f => (cond_frac * hot_zero, cond_frac * cold_zero),
            _ => (cond_frac, cond_frac),
        };
        if hot_cond != 0.0 {
            self.recurse(hot, start, in_zero * hot_zero, in_one, f, hot_cond);
        }
        if cold_cond != 0.0 {
            self.recurse(cold, start, in_zero * cold_zero, 0.0, f, cold_cond);
        }
        self.buf.truncate(start);
    }
}

/// A fresh path buffer for a tree of the given depth.
pub(super) fn path_buffer(depth: usize) -> Vec<PathElem> {
    Vec::with_capacity((depth + 2) * (depth + 3) / 2)
}

/// `Σ_leaves Π(cover ratios on the path) · value`: `v(∅)` of the path-dependent game, which is the
/// cover-weighted mean leaf value when every node's cover is the sum of its children's.
pub(super) fn expected_value(t: &Tree, out: &mut [f64]) {
    fn go(t: &Tree, node: usize, w: f64, out: &mut [f64]) {
        if t.children_left[node] == -1 {
            for (o, v) in out.iter_mut().zip(t.value.row(node)) {
                *o += w * v;
            }
            return;
        }
        let (l, r) = (t.children_left[node] as usize, t.children_right[node] as usize);
        let c = t.node_cover[node];
        go(t, l, w * t.node_cover[l] / c, out);
        go(t, r, w * t.node_cover[r] / c, out);
    }
    go(t, 0, 1.0, out);
}

/// The distinct features a tree splits on, ascending.
pub(super) fn split_features(t: &Tree) -> Vec<usize> {
    let mut f: Vec<usize> =
        t.feature.iter().zip(&t.children_left).filter(|(_, &l)| l != -1).map(|(&f, _)| f as usize).collect();
    f.sort_unstable();
    f.dedup();
    f
}

/// Checks what the path-dependent walk divides by: every node's cover is finite and positive.
pub(super) fn check_covers(t: &Tree) -> Result<(), super::ExplainError> {
    match t.node_cover.iter().position(|c| !(c.is_finite() && *c > 0.0)) {
        Some(node) => Err(super::ExplainError::InvalidTree {
            node,
            reason: "tree_path_dependent needs a finite positive node cover at every node",
        }),
        None => Ok(()),
    }
}
