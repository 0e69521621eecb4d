//! The batch-predictor abstraction every explainer works over, and the link functions.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use serde::{Deserialize, Serialize};

use super::ExplainError;

/// A model that maps a batch of rows (`n × n_features`) to `n × n_outputs` outputs.
///
/// Implemented for [`FnPredictor`] (wrap any closure) and for the imported reference models in
/// [`crate::explain::reference_model`]. `Sync` so that batches can be evaluated in parallel.
pub trait Predictor: Sync {
    /// Number of outputs per row (1 for a scalar regressor, the number of classes for probabilities).
    fn n_outputs(&self) -> usize;

    /// Writes the predictions for `rows` into `out` (`rows.nrows() × n_outputs`, zero-initialised).
    ///
    /// # Errors
    /// Whatever the model reports (e.g. a wrong number of columns).
    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError>;

    /// The model as a tree ensemble, when it is one: Kernel SHAP then evaluates every coalition exactly
    /// through the trees' paths instead of building synthetic rows (same values, much faster).
    fn tree_ensemble(&self) -> Option<&crate::explain::TreeEnsemble> {
        None
    }

    /// Whether every call has a large fixed cost (a call into Python or JavaScript). Kernel SHAP then
    /// evaluates as few, large batches as the memory budget allows; otherwise (the default) it keeps each
    /// batch of synthetic rows near 1 MB, so the rows are built and read in cache.
    fn costly_calls(&self) -> bool {
        false
    }

    /// Convenience: allocates and returns the predictions.
    ///
    /// # Errors
    /// As [`Predictor::predict_into`].
    fn predict(&self, rows: ArrayView2<'_, f64>) -> Result<Array2<f64>, ExplainError> {
        let mut out = Array2::zeros((rows.nrows(), self.n_outputs()));
        self.predict_into(rows, out.view_mut())?;
        Ok(out)
    }
}

/// Wraps a closure `Fn(rows, out)` as a [`Predictor`] with a fixed number of outputs.
///
/// # Examples
/// ```
/// use battsentinel_core::explain::{FnPredictor, Predictor};
/// use ndarray::array;
/// let model = FnPredictor::new(1, |rows, mut out| {
///     for (r, mut o) in rows.rows().into_iter().zip(out.rows_mut()) {
///         o[0] = 2.0 * r[0] + r[1];
///     }
/// });
/// let y = model.predict(array![[1.0, 1.0], [0.0, 3.0]].view()).unwrap();
/// assert_eq!(y[[0, 0]], 3.0);
/// assert_eq!(y[[1, 0]], 3.0);
/// ```
pub struct FnPredictor<F> {
    n_outputs: usize,
    f: F,
}

impl<F> FnPredictor<F>
where
    F: Fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync,
{
    /// A predictor with `n_outputs` outputs computed by `f(rows, out)`.
    pub fn new(n_outputs: usize, f: F) -> Self {
        Self { n_outputs, f }
    }
}

impl<F> Predictor for FnPredictor<F>
where
    F: Fn(ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + Sync,
{
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        (self.f)(rows, out);
        Ok(())
    }
}

impl<P: Predictor + ?Sized> Predictor for &P {
    fn n_outputs(&self) -> usize {
        (**self).n_outputs()
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        (**self).predict_into(rows, out)
    }

    fn tree_ensemble(&self) -> Option<&crate::explain::TreeEnsemble> {
        (**self).tree_ensemble()
    }

    fn costly_calls(&self) -> bool {
        (**self).costly_calls()
    }
}

/// The link that maps the model output to the space where SHAP values add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    /// `f(x) = x`.
    #[default]
    Identity,
    /// `f(p) = ln(q / (1 − q))` with `q = clip(p, 1e-15, 1 − 1e-15)`, as shap; applied to the
    /// background-averaged output.
    Logit,
}

impl Link {
    /// Applies the link to output `output` with value `v`.
    ///
    /// # Errors
    /// [`ExplainError::LinkDomain`] for the logit link when `v` is not in `[0, 1]`.
    pub fn apply(self, v: f64, output: usize) -> Result<f64, ExplainError> {
        match self {
            Link::Identity => Ok(v),
            Link::Logit => {
                if !(0.0..=1.0).contains(&v) {
                    return Err(ExplainError::LinkDomain { output, value: v });
                }
                let q = v.clamp(1e-15, 1.0 - 1e-15);
                Ok((q / (1.0 - q)).ln())
            }
        }
    }
}
