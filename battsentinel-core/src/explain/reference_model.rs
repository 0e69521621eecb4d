//! Models in the JSON format of the reference cases (`shared/reference/xai/cases/*/model.json`): linear
//! regression, multinomial logistic (softmax probabilities), and sklearn decision trees (regressor, or
//! classifier with class probabilities as leaf values), plus forests given as a list of such trees.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde::Deserialize;

use super::tree_shap::{Tree, TreeEnsemble};
use super::{ExplainError, Predictor};

/// A model loaded from the reference JSON format.
#[derive(Debug, Clone, PartialEq)]
pub enum ReferenceModel {
    /// `f(x) = intercept + Σ coef_i x_i`.
    Linear {
        /// Coefficients.
        coef: Vec<f64>,
        /// Intercept.
        intercept: f64,
    },
    /// `s_k = intercept_k + Σ coef_ki x_i`, `p = softmax(s)`.
    MultinomialLogistic {
        /// Coefficients, one row per class.
        coef: Vec<Vec<f64>>,
        /// Intercept per class.
        intercept: Vec<f64>,
    },
    /// One tree or a forest (leaf values averaged).
    Trees(TreeEnsemble),
}

#[derive(Deserialize)]
struct RawNode {
    id: usize,
    feature: i64,
    threshold: Option<f64>,
    left: i64,
    right: i64,
    value: RawValue,
    #[serde(default)]
    n_node_samples: Option<f64>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawValue {
    Scalar(f64),
    Vector(Vec<f64>),
}

#[derive(Deserialize)]
struct RawTree {
    #[serde(default)]
    root: usize,
    nodes: Vec<RawNode>,
}

#[derive(Deserialize)]
struct RawModel {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<String>,
    #[serde(default)]
    coef: Option<serde_json::Value>,
    #[serde(default)]
    intercept: Option<serde_json::Value>,
    #[serde(default)]
    tree: Option<RawTree>,
    #[serde(default)]
    trees: Option<Vec<RawTree>>,
}

fn tree_from_raw(raw: &RawTree) -> Result<Tree, ExplainError> {
    let n = raw.nodes.len();
    if raw.root != 0 {
        return Err(ExplainError::InvalidTree { node: raw.root, reason: "root must be node 0" });
    }
    let d = match raw.nodes.first().map(|r| &r.value) {
        Some(RawValue::Vector(v)) => v.len(),
        _ => 1,
    };
    let (mut cl, mut cr, mut feat, mut thr) = (vec![-1; n], vec![-1; n], vec![-1; n], vec![f64::NAN; n]);
    let mut value = Array2::zeros((n, d));
    let mut cover = vec![0.0; n];
    for node in &raw.nodes {
        let i = node.id;
        if i >= n {
            return Err(ExplainError::InvalidTree { node: i, reason: "node id out of range" });
        }
        cl[i] = node.left;
        cr[i] = node.right;
        feat[i] = node.feature;
        thr[i] = node.threshold.unwrap_or(f64::NAN);
        match &node.value {
            RawValue::Scalar(v) if d == 1 => value[[i, 0]] = *v,
            RawValue::Vector(v) if v.len() == d => {
                value.row_mut(i).iter_mut().zip(v).for_each(|(a, b)| *a = *b)
            }
            _ => {
                return Err(ExplainError::InvalidTree {
                    node: i,
                    reason: "leaf value has the wrong number of outputs",
                })
            }
        }
        cover[i] = node.n_node_samples.unwrap_or(0.0);
    }
    Tree::new(cl, cr, feat, thr, value, cover)
}

impl ReferenceModel {
    /// Parses a model description; returns it with its feature names.
    ///
    /// # Errors
    /// [`ExplainError::Json`] for malformed JSON, [`ExplainError::UnsupportedModel`] for other `type`s
    /// (e.g. `explicit_function`, which is code, not data), [`ExplainError::InvalidTree`] for bad trees.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::explain::{Predictor, ReferenceModel};
    /// use ndarray::array;
    /// let (m, names) = ReferenceModel::from_json(
    ///     r#"{"type":"linear","features":["a","b"],"coef":[2.0,-1.0],"intercept":0.5}"#).unwrap();
    /// assert_eq!(names, vec!["a", "b"]);
    /// assert_eq!(m.predict(array![[1.0, 1.0]].view()).unwrap()[[0, 0]], 1.5);
    /// ```
    pub fn from_json(text: &str) -> Result<(Self, Vec<String>), ExplainError> {
        let raw: RawModel = serde_json::from_str(text)?;
        let p = raw.features.len();
        let model = match raw.kind.as_str() {
            "linear" => {
                let coef: Vec<f64> = serde_json::from_value(raw.coef.unwrap_or_default())?;
                let intercept: f64 = serde_json::from_value(raw.intercept.unwrap_or_default())?;
                if coef.len() != p {
                    return Err(ExplainError::ShapeMismatch { what: "coef", expected: p, got: coef.len() });
                }
                ReferenceModel::Linear { coef, intercept }
            }
            "multinomial_logistic" => {
                let coef: Vec<Vec<f64>> = serde_json::from_value(raw.coef.unwrap_or_default())?;
                let intercept: Vec<f64> = serde_json::from_value(raw.intercept.unwrap_or_default())?;
                if coef.len() != intercept.len() || coef.is_empty() {
                    return Err(ExplainError::ShapeMismatch {
                        what: "intercept",
                        expected: coef.len(),
                        got: intercept.len(),
                    });
                }
                if let Some(row) = coef.iter().find(|r| r.len() != p) {
                    return Err(ExplainError::ShapeMismatch {
                        what: "coef row",
                        expected: p,
                        got: row.len(),
                    });
                }
                ReferenceModel::MultinomialLogistic { coef, intercept }
            }
            "decision_tree_regressor"
            | "decision_tree_classifier"
            | "random_forest_regressor"
            | "random_forest_classifier" => {
                let raws: Vec<RawTree> = match (raw.tree, raw.trees) {
                    (Some(t), None) => vec![t],
                    (None, Some(ts)) => ts,
                    _ => {
                        return Err(ExplainError::UnsupportedModel {
                            kind: format!("{} without exactly one of tree/trees", raw.kind),
                        })
                    }
                };
                let trees = raws.iter().map(tree_from_raw).collect::<Result<Vec<_>, _>>()?;
                let d = trees.first().map(Tree::n_outputs).unwrap_or(1);
                let scale = 1.0 / trees.len().max(1) as f64;
                ReferenceModel::Trees(TreeEnsemble::new(trees, scale, vec![0.0; d], p)?)
            }
            other => return Err(ExplainError::UnsupportedModel { kind: other.to_string() }),
        };
        Ok((model, raw.features))
    }

    /// Number of input features.
    pub fn n_features(&self) -> usize {
        match self {
            ReferenceModel::Linear { coef, .. } => coef.len(),
            ReferenceModel::MultinomialLogistic { coef, .. } => coef[0].len(),
            ReferenceModel::Trees(t) => t.n_features(),
        }
    }
}

impl Predictor for ReferenceModel {
    fn n_outputs(&self) -> usize {
        match self {
            ReferenceModel::Linear { .. } => 1,
            ReferenceModel::MultinomialLogistic { intercept, .. } => intercept.len(),
            ReferenceModel::Trees(t) => t.n_outputs(),
        }
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        let p = self.n_features();
        if rows.ncols() != p {
            return Err(ExplainError::ShapeMismatch { what: "rows", expected: p, got: rows.ncols() });
        }
        match self {
            ReferenceModel::Linear { coef, intercept } => {
                for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                    let mut s = *intercept;
                    for (c, v) in coef.iter().zip(r) {
                        s += c * v;
                    }
                    o[0] = s;
                }
            }
            ReferenceModel::MultinomialLogistic { coef, intercept } => {
                let k = intercept.len();
                let mut s = vec![0.0; k];
                for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
                    for c in 0..k {
                        let mut acc = intercept[c];
                        for (cf, v) in coef[c].iter().zip(r) {
                            acc += cf * v;
                        }
                        s[c] = acc;
                    }
                    let mx = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                    let mut tot = 0.0;
                    for v in &mut s {
                        *v = (*v - mx).exp();
                        tot += *v;
                    }
                    for c in 0..k {
                        o[c] = s[c] / tot;
                    }
                }
            }
            ReferenceModel::Trees(t) => t.predict_into(rows, out)?,
        }
        Ok(())
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        match self {
            ReferenceModel::Trees(t) => Some(t),
            _ => None,
        }
    }
}
