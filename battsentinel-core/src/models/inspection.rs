//! Model inspection: permutation importance.

use ndarray::{Array1, ArrayView2};
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::ModelError;
use crate::params::ParamError;
use crate::rng;

/// Score drop when one feature's column is shuffled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PermutationImportance {
    /// Score on the unshuffled data.
    pub baseline: f64,
    /// Mean score drop per feature.
    pub importances_mean: Array1<f64>,
    /// Standard deviation (population, as scikit-learn) of the drop per feature.
    pub importances_std: Array1<f64>,
}

/// Permutation importance (as `sklearn.inspection.permutation_importance`): for every feature and repeat,
/// shuffle that column with a seeded generator and record `baseline − score`.
///
/// # Errors
/// [`ModelError::Params`] if `n_repeats` is 0; any error of `score`.
pub fn permutation_importance(
    x: &ArrayView2<f64>,
    n_repeats: usize,
    seed: u64,
    score: impl Fn(&ArrayView2<f64>) -> Result<f64, ModelError>,
) -> Result<PermutationImportance, ModelError> {
    if n_repeats == 0 {
        return Err(ParamError::invalid("n_repeats", n_repeats, "must be at least 1").into());
    }
    let baseline = score(x)?;
    let mut rng = rng::seeded(seed);
    let nf = x.ncols();
    let mut mean = Array1::zeros(nf);
    let mut std = Array1::zeros(nf);
    let mut xp = x.to_owned();
    let mut order: Vec<usize> = (0..x.nrows()).collect();
    for f in 0..nf {
        let mut drops = Vec::with_capacity(n_repeats);
        for _ in 0..n_repeats {
            order.shuffle(&mut rng);
            for (r, &src) in order.iter().enumerate() {
                xp[[r, f]] = x[[src, f]];
            }
            drops.push(baseline - score(&xp.view())?);
        }
        for r in 0..x.nrows() {
            xp[[r, f]] = x[[r, f]];
        }
        let m = drops.iter().sum::<f64>() / n_repeats as f64;
        mean[f] = m;
        std[f] = (drops.iter().map(|d| (d - m) * (d - m)).sum::<f64>() / n_repeats as f64).sqrt();
    }
    Ok(PermutationImportance { baseline, importances_mean: mean, importances_std: std })
}
