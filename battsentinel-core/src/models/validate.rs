//! Input checks shared by every estimator: non-empty, finite, consistent shapes.

use ndarray::{ArrayView1, ArrayView2};

use super::ModelError;

/// Checks a feature matrix: at least one row and column, every value finite.
pub(crate) fn check_features(x: &ArrayView2<f64>) -> Result<(), ModelError> {
    let (n_rows, n_cols) = x.dim();
    if n_rows == 0 || n_cols == 0 {
        return Err(ModelError::EmptyData { n_rows, n_cols });
    }
    for (row, r) in x.outer_iter().enumerate() {
        for (column, &value) in r.iter().enumerate() {
            if !value.is_finite() {
                return Err(ModelError::NonFinite { what: "features", row, column, value });
            }
        }
    }
    Ok(())
}

/// Checks features for prediction against the fitted column count.
pub(crate) fn check_predict(x: &ArrayView2<f64>, n_features: usize) -> Result<(), ModelError> {
    if x.ncols() != n_features {
        return Err(ModelError::FeatureCount { expected: n_features, found: x.ncols() });
    }
    if x.nrows() == 0 {
        return Ok(());
    }
    check_features(x)
}

/// Checks that there are as many targets as rows.
pub(crate) fn check_len(n_rows: usize, n_targets: usize) -> Result<(), ModelError> {
    if n_rows != n_targets {
        return Err(ModelError::TargetLength { n_rows, n_targets });
    }
    Ok(())
}

/// Checks regression targets: right length, finite.
pub(crate) fn check_regression_targets(n_rows: usize, y: &ArrayView1<f64>) -> Result<(), ModelError> {
    check_len(n_rows, y.len())?;
    for (row, &value) in y.iter().enumerate() {
        if !value.is_finite() {
            return Err(ModelError::NonFinite { what: "targets", row, column: 0, value });
        }
    }
    Ok(())
}

/// Sorted distinct class labels and, per row, the index of its label in that list.
///
/// # Errors
/// [`ModelError::TargetLength`], [`ModelError::SingleClass`].
pub(crate) fn encode_classes(
    n_rows: usize,
    y: &ArrayView1<usize>,
) -> Result<(Vec<usize>, Vec<usize>), ModelError> {
    check_len(n_rows, y.len())?;
    let mut classes: Vec<usize> = y.to_vec();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return Err(ModelError::SingleClass { class: classes.first().copied().unwrap_or(0) });
    }
    let encoded = y.iter().map(|label| classes.binary_search(label).unwrap_or(0)).collect();
    Ok((classes, encoded))
}
