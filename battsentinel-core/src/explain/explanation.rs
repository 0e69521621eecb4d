//! Explanation results: per-instance values, sets of explanations and global importance.

use ndarray::{Array2, Array3, Axis};
use serde::{Deserialize, Serialize};

use super::ExplainError;

/// The explanation of one instance: `values[[player, output]]` add up to `model_output − base_values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Names of the players (features, or feature groups).
    pub feature_names: Vec<String>,
    /// Expected (base) value per output, in link space.
    pub base_values: Vec<f64>,
    /// Model output per output, in link space (`link(f(x))`).
    pub model_output: Vec<f64>,
    /// Attribution per player and output (`n_players × n_outputs`).
    pub values: Array2<f64>,
    /// The explained instance (all feature columns).
    pub instance: Vec<f64>,
}

impl Explanation {
    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.values.ncols()
    }

    /// Attributions for one output.
    pub fn output_values(&self, output: usize) -> Vec<f64> {
        self.values.column(output).to_vec()
    }
}

/// Explanations of many instances sharing one explainer (`values[[instance, player, output]]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExplanationSet {
    /// Names of the players.
    pub feature_names: Vec<String>,
    /// Expected (base) value per output, in link space.
    pub base_values: Vec<f64>,
    /// Model output per instance and output, in link space.
    pub model_output: Array2<f64>,
    /// Attributions, `n_instances × n_players × n_outputs`.
    pub values: Array3<f64>,
    /// The explained instances.
    pub instances: Array2<f64>,
}

impl ExplanationSet {
    /// Builds the set from per-instance explanations (all from the same explainer).
    pub fn from_explanations(
        list: &[Explanation],
        feature_names: Vec<String>,
        base_values: Vec<f64>,
    ) -> Self {
        let n = list.len();
        let (p, d) = list.first().map(|e| e.values.dim()).unwrap_or((feature_names.len(), base_values.len()));
        let cols = list.first().map(|e| e.instance.len()).unwrap_or(0);
        let mut values = Array3::zeros((n, p, d));
        let mut model_output = Array2::zeros((n, d));
        let mut instances = Array2::zeros((n, cols));
        for (i, e) in list.iter().enumerate() {
            values.index_axis_mut(Axis(0), i).assign(&e.values);
            for (k, v) in e.model_output.iter().enumerate() {
                model_output[[i, k]] = *v;
            }
            for (k, v) in e.instance.iter().enumerate() {
                instances[[i, k]] = *v;
            }
        }
        Self { feature_names, base_values, model_output, values, instances }
    }

    /// Number of explained instances.
    pub fn len(&self) -> usize {
        self.values.len_of(Axis(0))
    }

    /// Whether no instance was explained.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The explanation of instance `i`, or `None` when out of range.
    pub fn get(&self, i: usize) -> Option<Explanation> {
        if i >= self.len() {
            return None;
        }
        Some(Explanation {
            feature_names: self.feature_names.clone(),
            base_values: self.base_values.clone(),
            model_output: self.model_output.row(i).to_vec(),
            values: self.values.index_axis(Axis(0), i).to_owned(),
            instance: self.instances.row(i).to_vec(),
        })
    }

    /// Global importance: mean |φ| over the instances, per player, for one output (the bar chart of shap).
    ///
    /// # Errors
    /// [`ExplainError::OutputOutOfRange`] when `output` does not exist.
    pub fn mean_abs(&self, output: usize) -> Result<Vec<f64>, ExplainError> {
        let d = self.values.len_of(Axis(2));
        if output >= d {
            return Err(ExplainError::OutputOutOfRange { output, n_outputs: d });
        }
        let n = self.len().max(1) as f64;
        Ok((0..self.values.len_of(Axis(1)))
            .map(|j| {
                self.values.index_axis(Axis(1), j).column(output).iter().map(|v| v.abs()).sum::<f64>() / n
            })
            .collect())
    }
}
