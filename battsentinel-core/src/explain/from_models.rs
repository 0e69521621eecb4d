//! Conversions from the crate's own tree models (`crate::models`) to [`TreeEnsemble`], so TreeSHAP and the
//! Kernel SHAP tree fast path run directly over our forests (explain depends on models, not the reverse).

use ndarray::Array2;

use super::tree_shap::{Tree, TreeEnsemble};
use super::ExplainError;
use crate::models::forest::{RandomForestClassifier, RandomForestRegressor};
use crate::models::tree::TreeView;

impl TryFrom<TreeView<'_>> for Tree {
    type Error = ExplainError;

    fn try_from(v: TreeView<'_>) -> Result<Self, ExplainError> {
        let n = v.n_nodes();
        let d = v.n_outputs;
        let value = Array2::from_shape_vec((n, d), v.value.to_vec()).map_err(|_| {
            ExplainError::InvalidTree { node: 0, reason: "value array is not n_nodes × n_outputs" }
        })?;
        Tree::new(
            v.children_left.iter().map(|&c| i64::from(c)).collect(),
            v.children_right.iter().map(|&c| i64::from(c)).collect(),
            v.feature.iter().map(|&f| i64::from(f)).collect(),
            v.threshold.to_vec(),
            value,
            v.weighted_n_node_samples.to_vec(),
        )
    }
}

fn forest<'a>(
    trees: impl Iterator<Item = TreeView<'a>>,
    n_features: usize,
) -> Result<TreeEnsemble, ExplainError> {
    let trees = trees.map(Tree::try_from).collect::<Result<Vec<_>, _>>()?;
    let d = trees.first().map(Tree::n_outputs).unwrap_or(1);
    let scale = 1.0 / trees.len().max(1) as f64;
    TreeEnsemble::new(trees, scale, vec![0.0; d], n_features)
}

/// The forest's mean prediction `(1/T) Σ_t tree_t(x)`, exactly as `RandomForestRegressor::predict`.
impl TryFrom<&RandomForestRegressor> for TreeEnsemble {
    type Error = ExplainError;

    fn try_from(m: &RandomForestRegressor) -> Result<Self, ExplainError> {
        forest(m.trees().iter().map(|t| t.view()), m.n_features())
    }
}

/// The forest's class probabilities, exactly as `RandomForestClassifier::predict_proba` (one output per class).
impl TryFrom<&RandomForestClassifier> for TreeEnsemble {
    type Error = ExplainError;

    fn try_from(m: &RandomForestClassifier) -> Result<Self, ExplainError> {
        forest(m.trees().iter().map(|t| t.view()), m.n_features())
    }
}
