//! Fault models with scikit-learn conventions (binding of `battsentinel_core::models`): constructors take the
//! core's hyper-parameters as keyword arguments, `fit` returns the estimator, `get_params`/`set_params` work
//! with `sklearn.base.clone`, and every estimator pickles through the core's JSON model format.

use battsentinel_core::models::detector::{AnalyzeParams, FaultDetector};
use battsentinel_core::models::forest::{RandomForestClassifier, RandomForestParams, RandomForestRegressor};
use battsentinel_core::models::iforest::{IsolationForest, IsolationForestParams};
use battsentinel_core::models::metrics;
use battsentinel_core::models::mlp::{MlpClassifier, MlpParams, MlpRegressor};
use battsentinel_core::models::svm::{OneClassSvm, SvmClassifier, SvmParams};
use battsentinel_core::models::Persist;
use battsentinel_core::params::ParamGuard;
use ndarray::{Array1, Array2, ArrayView1};
use numpy::{PyArray1, PyArray2};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use serde_json::Value;

use crate::convert::{
    array1, array2, from_json_str, json_to_py, merge_params, params_from_kwargs, records_frame,
    to_json_string, to_py_obj,
};
use crate::errors::{not_fitted, param_err, PyResultExt};

/// Pickle state: the hyper-parameters and, once fitted, the core's model file.
#[derive(serde::Serialize, serde::Deserialize)]
struct State<P> {
    params: P,
    model: Option<String>,
}

/// sklearn's `max_features` / `class_weight` spellings → the core's serde form (`0.5` → `{"fraction": 0.5}`,
/// `3` → `{"count": 3}`, `None` → `"all"`, `"balanced"`, `{label: weight}` → `{"custom": [[label, weight]]}`).
fn forest_kwargs<'py>(
    py: Python<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    let Some(k) = kwargs else { return Ok(None) };
    let k = k.copy()?;
    if let Some(v) = k.get_item("max_features")? {
        if v.is_none() {
            k.set_item("max_features", "all")?;
        } else if v.is_instance_of::<pyo3::types::PyFloat>() {
            let d = PyDict::new(py);
            d.set_item("fraction", v)?;
            k.set_item("max_features", d)?;
        } else if v.is_instance_of::<pyo3::types::PyInt>() && !v.is_instance_of::<pyo3::types::PyBool>() {
            let d = PyDict::new(py);
            d.set_item("count", v)?;
            k.set_item("max_features", d)?;
        }
    }
    if let Some(v) = k.get_item("class_weight")? {
        if v.is_none() {
            k.set_item("class_weight", "uniform")?;
        } else if let Ok(d) = v.cast::<PyDict>() {
            let pairs: Vec<(usize, f64)> =
                d.iter().map(|(a, b)| Ok((a.extract()?, b.extract()?))).collect::<PyResult<_>>()?;
            let c = PyDict::new(py);
            c.set_item("custom", pairs)?;
            k.set_item("class_weight", c)?;
        }
    }
    Ok(Some(k))
}

fn identity_kwargs<'py>(
    _py: Python<'py>,
    kwargs: Option<&Bound<'py, PyDict>>,
) -> PyResult<Option<Bound<'py, PyDict>>> {
    Ok(kwargs.cloned())
}

macro_rules! estimator {
    (
        $(#[$doc:meta])*
        $py:ident, $name:literal, $params:ty, $model:ty, $kwargs:path, $etype:literal,
        { $($extra:tt)* }
    ) => {
        $(#[$doc])*
        #[pyclass(name = $name, module = "battsentinel")]
        pub struct $py {
            /// Hyper-parameters.
            pub params: $params,
            /// The keyword arguments as given (returned by `get_params`, so that `sklearn.base.clone` sees the
            /// very objects it passed).
            raw: Py<PyDict>,
            /// The fitted model.
            pub model: Option<$model>,
        }

        impl $py {
            /// The fitted model, or `NotFittedError`.
            pub fn fitted(&self) -> PyResult<&$model> {
                self.model.as_ref().ok_or_else(|| not_fitted($name))
            }
        }

        #[pymethods]
        impl $py {
            #[new]
            #[pyo3(signature = (**params))]
            fn new(py: Python<'_>, params: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
                let k = $kwargs(py, params)?;
                let p: $params = params_from_kwargs(k.as_ref(), concat!($name, " parameters"))?;
                p.check_ref().py()?;
                let raw = match params {
                    Some(d) => d.copy()?.unbind(),
                    None => PyDict::new(py).unbind(),
                };
                Ok(Self { params: p, raw, model: None })
            }

            /// The hyper-parameters as a dict (scikit-learn's `get_params`; `deep` is accepted and ignored).
            #[pyo3(signature = (deep = true))]
            fn get_params<'py>(&self, py: Python<'py>, deep: bool) -> PyResult<Bound<'py, PyAny>> {
                let _ = deep;
                let v = serde_json::to_value(&self.params)
                    .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
                let d = json_to_py(py, &v)?;
                for (k, x) in self.raw.bind(py).iter() {
                    d.set_item(k, x)?;
                }
                Ok(d)
            }

            /// Updates hyper-parameters (unknown names raise `ParamError`) and returns the estimator. A fitted
            /// model is kept until the next `fit`.
            #[pyo3(signature = (**params))]
            fn set_params<'py>(slf: Bound<'py, Self>, params: Option<&Bound<'py, PyDict>>) -> PyResult<Bound<'py, Self>> {
                let k = $kwargs(slf.py(), params)?;
                let p: $params = merge_params(&slf.borrow().params, k.as_ref(), concat!($name, " parameters"))?;
                p.check_ref().py()?;
                if let Some(given) = params {
                    slf.borrow().raw.bind(slf.py()).update(given.as_mapping())?;
                }
                slf.borrow_mut().params = p;
                Ok(slf)
            }

            /// The fitted model in the core's JSON model format (readable by the CLI, the server and the
            /// browser package).
            fn to_json(&self) -> PyResult<String> {
                self.fitted()?.save_json().py()
            }

            /// A fitted estimator from the JSON of `to_json` (or any front-end's model file).
            #[staticmethod]
            fn from_json(text: &str) -> PyResult<Self> {
                let model = <$model>::load_json(text).py()?;
                let params = serde_json::from_str::<Value>(text)
                    .ok()
                    .and_then(|v| v.get("model").and_then(|m| m.get("params")).cloned())
                    .and_then(|p| serde_json::from_value::<$params>(p).ok())
                    .unwrap_or_default();
                let raw = Python::attach(|py| PyDict::new(py).unbind());
                Ok(Self { params, raw, model: Some(model) })
            }

            #[classattr]
            fn _estimator_type() -> &'static str {
                $etype
            }

            fn __getstate__(&self) -> PyResult<String> {
                let model = self.model.as_ref().map(|m| m.save_json()).transpose().py()?;
                to_json_string(&State { params: self.params.clone(), model })
            }

            fn __setstate__(&mut self, state: &str) -> PyResult<()> {
                let s: State<$params> = from_json_str(state, concat!($name, " state"))?;
                self.model = s.model.map(|m| <$model>::load_json(&m)).transpose().py()?;
                self.params = s.params;
                Python::attach(|py| self.raw.bind(py).clear());
                Ok(())
            }

            fn __repr__(&self) -> String {
                let p = serde_json::to_value(&self.params).unwrap_or(Value::Null);
                let args = match p {
                    Value::Object(m) => m.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
                    _ => String::new(),
                };
                format!("{}({args})", $name)
            }

            $($extra)*
        }
    };
}

fn usize_array(py: Python<'_>, a: Array1<usize>) -> Bound<'_, PyArray1<i64>> {
    PyArray1::from_vec(py, a.iter().map(|&v| v as i64).collect())
}

fn classes_array<'py>(py: Python<'py>, c: &[usize]) -> Bound<'py, PyArray1<i64>> {
    PyArray1::from_vec(py, c.iter().map(|&v| v as i64).collect())
}

fn accuracy(y: &[usize], p: &Array1<usize>) -> PyResult<f64> {
    metrics::accuracy(&ArrayView1::from(y), &p.view()).py()
}

estimator! {
    /// Random forest classifier (scikit-learn's `RandomForestClassifier` semantics, histogram splits).
    ///
    /// Keyword arguments (the core's `RandomForestParams`): `n_trees` (100), `max_depth` (None),
    /// `min_samples_split` (2), `min_samples_leaf` (1), `max_features` ("auto" = sqrt; also "sqrt", "log2",
    /// None = all, a float fraction or an int count), `bootstrap` (True), `class_weight` (None, "balanced" or
    /// {label: weight}), `oob_score` (False), `max_bins` (255), `seed` (0). Labels are non-negative integers.
    PyRandomForestClassifier, "RandomForestClassifier", RandomForestParams, RandomForestClassifier, forest_kwargs, "classifier",
    {
        /// Fits on `X` (n_samples × n_features) and integer labels `y`; returns the estimator. The GIL is
        /// released while fitting.
        #[allow(non_snake_case)]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let p = slf.borrow().params.clone();
            let (xv, yv) = (x.as_array(), ArrayView1::from(&y[..]));
            let m = slf.py().detach(|| RandomForestClassifier::fit(&p, &xv, &yv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Class probabilities, n_samples × n_classes (columns in the order of `classes_`).
        #[allow(non_snake_case)]
        fn predict_proba<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict_proba(&xv)).py()?;
            Ok(numpy::PyArray2::from_owned_array(py, p).into_any())
        }

        /// Most probable class per row.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            Ok(usize_array(py, p).into_any())
        }

        /// Accuracy on (`X`, `y`).
        #[allow(non_snake_case)]
        fn score(&self, py: Python<'_>, X: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let (xv, yv) = (x.as_array(), ArrayView1::from(&y[..]));
            py.detach(|| m.score(&xv, &yv)).py()
        }

        /// Class labels seen in `fit`, sorted.
        #[getter]
        fn classes_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
            Ok(classes_array(py, self.fitted()?.classes()))
        }

        /// Number of feature columns seen in `fit`.
        #[getter]
        fn n_features_in_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_features())
        }

        /// Impurity-based feature importances (sum 1).
        #[getter]
        fn feature_importances_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
            Ok(PyArray1::from_slice(py, self.fitted()?.feature_importances()))
        }

        /// Out-of-bag accuracy (with `oob_score=True`), else None.
        #[getter]
        fn oob_score_(&self) -> PyResult<Option<f64>> {
            Ok(self.fitted()?.oob_score())
        }
    }
}

estimator! {
    /// Random forest regressor (scikit-learn's `RandomForestRegressor` semantics). Keyword arguments as
    /// `RandomForestClassifier` (`max_features` "auto" = all features).
    PyRandomForestRegressor, "RandomForestRegressor", RandomForestParams, RandomForestRegressor, forest_kwargs, "regressor",
    {
        /// Fits on `X` and real targets `y`; returns the estimator.
        #[allow(non_snake_case)]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
            let x = array2(X, "X")?;
            let y = array1(y, "y")?;
            let p = slf.borrow().params.clone();
            let (xv, yv) = (x.as_array(), y.as_array());
            let m = slf.py().detach(|| RandomForestRegressor::fit(&p, &xv, &yv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Mean prediction of the trees per row.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, p).into_any())
        }

        /// R² on (`X`, `y`).
        #[allow(non_snake_case)]
        fn score(&self, py: Python<'_>, X: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let y = array1(y, "y")?;
            let (xv, yv) = (x.as_array(), y.as_array());
            py.detach(|| m.score(&xv, &yv)).py()
        }

        /// Number of feature columns seen in `fit`.
        #[getter]
        fn n_features_in_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_features())
        }

        /// Impurity-based feature importances (sum 1).
        #[getter]
        fn feature_importances_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<f64>>> {
            Ok(PyArray1::from_slice(py, self.fitted()?.feature_importances()))
        }
    }
}

estimator! {
    /// Isolation forest for anomaly detection (scikit-learn's `IsolationForest` conventions: `score_samples`
    /// is the negated anomaly score, `predict` gives +1 inlier / −1 outlier).
    ///
    /// Keyword arguments: `n_trees` (100), `max_samples` (None = min(256, n)), `contamination` (None = offset
    /// −0.5), `seed` (0).
    PyIsolationForest, "IsolationForest", IsolationForestParams, IsolationForest, identity_kwargs, "outlier_detector",
    {
        /// Fits on reference rows `X` (`y` is ignored); returns the estimator.
        #[allow(non_snake_case)]
        #[pyo3(signature = (X, y = None))]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
            let _ = y;
            let x = array2(X, "X")?;
            let p = slf.borrow().params.clone();
            let xv = x.as_array();
            let m = slf.py().detach(|| IsolationForest::fit(&p, &xv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Opposite of the anomaly score (lower = more abnormal), as scikit-learn.
        #[allow(non_snake_case)]
        fn score_samples<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.score_samples(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, s).into_any())
        }

        /// `score_samples − offset_` (negative = outlier).
        #[allow(non_snake_case)]
        fn decision_function<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.decision_function(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, s).into_any())
        }

        /// +1 for inliers, −1 for outliers.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.predict(&xv)).py()?;
            Ok(PyArray1::from_vec(py, s.iter().map(|&v| i64::from(v)).collect()).into_any())
        }

        /// The decision offset.
        #[getter]
        fn offset_(&self) -> PyResult<f64> {
            Ok(self.fitted()?.offset())
        }

        /// Number of feature columns seen in `fit`.
        #[getter]
        fn n_features_in_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_features())
        }
    }
}

estimator! {
    /// Multi-layer perceptron regressor (Adam, L2 penalty; scikit-learn's `MLPRegressor` conventions).
    ///
    /// Keyword arguments: `hidden_layer_sizes` ([100]), `activation` ("relu" / "tanh"), `learning_rate`
    /// (1e-3), `alpha` (1e-4), `batch_size` (None), `max_epochs` (200), `tol` (1e-4), `n_iter_no_change` (10),
    /// `early_stopping` (False), `validation_fraction` (0.1), `standardize_target` (True; False trains on the
    /// raw target as scikit-learn does), `seed` (0).
    PyMlpRegressor, "MLPRegressor", MlpParams, MlpRegressor, identity_kwargs, "regressor",
    {
        /// Fits on `X` and real targets `y`; returns the estimator.
        #[allow(non_snake_case)]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
            let x = array2(X, "X")?;
            let y = array1(y, "y")?;
            let p = slf.borrow().params.clone();
            let (xv, yv) = (x.as_array(), y.as_array());
            let m = slf.py().detach(|| MlpRegressor::fit(&p, &xv, &yv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Predicted values.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, p).into_any())
        }

        /// R² on (`X`, `y`).
        #[allow(non_snake_case)]
        fn score(&self, py: Python<'_>, X: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let y = array1(y, "y")?;
            let (xv, yv) = (x.as_array(), y.as_array());
            py.detach(|| m.score(&xv, &yv)).py()
        }

        /// Epochs run by `fit`.
        #[getter]
        fn n_iter_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_epochs())
        }

        /// Number of feature columns seen in `fit`.
        #[getter]
        fn n_features_in_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_features())
        }
    }
}

estimator! {
    /// Multi-layer perceptron classifier (softmax output; keyword arguments as `MLPRegressor`).
    PyMlpClassifier, "MLPClassifier", MlpParams, MlpClassifier, identity_kwargs, "classifier",
    {
        /// Fits on `X` and integer labels `y`; returns the estimator.
        #[allow(non_snake_case)]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let p = slf.borrow().params.clone();
            let (xv, yv) = (x.as_array(), ArrayView1::from(&y[..]));
            let m = slf.py().detach(|| MlpClassifier::fit(&p, &xv, &yv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Class probabilities, n_samples × n_classes.
        #[allow(non_snake_case)]
        fn predict_proba<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict_proba(&xv)).py()?;
            Ok(numpy::PyArray2::from_owned_array(py, p).into_any())
        }

        /// Most probable class per row.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            Ok(usize_array(py, p).into_any())
        }

        /// Accuracy on (`X`, `y`).
        #[allow(non_snake_case)]
        fn score(&self, py: Python<'_>, X: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            accuracy(&y, &p)
        }

        /// Class labels seen in `fit`, sorted.
        #[getter]
        fn classes_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
            Ok(classes_array(py, self.fitted()?.classes()))
        }

        /// Epochs run by `fit`.
        #[getter]
        fn n_iter_(&self) -> PyResult<usize> {
            Ok(self.fitted()?.n_epochs())
        }
    }
}

estimator! {
    /// Support-vector classifier (C-SVC, one-vs-one, Platt probabilities; libsvm's SMO algorithm).
    ///
    /// Keyword arguments: `c` (1.0), `kernel` ({"rbf": {"gamma": 0.1}}, "linear" or
    /// {"polynomial": {"coef0": .., "degree": ..}}), `tol` (1e-3), `probability` (True), `nu` (0.5, one-class).
    PySvc, "SVC", SvmParams, SvmClassifier, identity_kwargs, "classifier",
    {
        /// Fits on `X` and integer labels `y`; returns the estimator.
        #[allow(non_snake_case)]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let p = slf.borrow().params.clone();
            let (xv, yv) = (x.as_array(), ArrayView1::from(&y[..]));
            let m = slf.py().detach(|| SvmClassifier::fit(&p, &xv, &yv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Platt-scaled class probabilities (needs `probability=True`).
        #[allow(non_snake_case)]
        fn predict_proba<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict_proba(&xv)).py()?;
            Ok(numpy::PyArray2::from_owned_array(py, p).into_any())
        }

        /// Pairwise decision values, n_samples × n_pairs.
        #[allow(non_snake_case)]
        fn decision_function<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.decision_function(&xv)).py()?;
            Ok(numpy::PyArray2::from_owned_array(py, p).into_any())
        }

        /// Predicted class per row (one-vs-one vote).
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            Ok(usize_array(py, p).into_any())
        }

        /// Accuracy on (`X`, `y`).
        #[allow(non_snake_case)]
        fn score(&self, py: Python<'_>, X: &Bound<'_, PyAny>, y: &Bound<'_, PyAny>) -> PyResult<f64> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let y = crate::convert::labels(y, "y")?;
            let xv = x.as_array();
            let p = py.detach(|| m.predict(&xv)).py()?;
            accuracy(&y, &p)
        }

        /// Class labels seen in `fit`, sorted.
        #[getter]
        fn classes_<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyArray1<i64>>> {
            Ok(classes_array(py, self.fitted()?.classes()))
        }
    }
}

estimator! {
    /// One-class SVM (ν-SVM) for novelty detection: `predict` gives +1 inlier / −1 outlier. Keyword arguments
    /// as `SVC` (`nu`, `kernel`, `tol`).
    PyOneClassSvm, "OneClassSVM", SvmParams, OneClassSvm, identity_kwargs, "outlier_detector",
    {
        /// Fits on reference rows `X` (`y` is ignored); returns the estimator.
        #[allow(non_snake_case)]
        #[pyo3(signature = (X, y = None))]
        fn fit<'py>(slf: Bound<'py, Self>, X: &Bound<'py, PyAny>, y: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, Self>> {
            let _ = y;
            let x = array2(X, "X")?;
            let p = slf.borrow().params.clone();
            let xv = x.as_array();
            let m = slf.py().detach(|| OneClassSvm::fit(&p, &xv)).py()?;
            slf.borrow_mut().model = Some(m);
            Ok(slf)
        }

        /// Signed distance to the boundary (positive = inlier).
        #[allow(non_snake_case)]
        fn decision_function<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.decision_function(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, s).into_any())
        }

        /// Raw inlier score.
        #[allow(non_snake_case)]
        fn score_samples<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.score_samples(&xv)).py()?;
            Ok(PyArray1::from_owned_array(py, s).into_any())
        }

        /// +1 for inliers, −1 for outliers.
        #[allow(non_snake_case)]
        fn predict<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
            let m = self.fitted()?;
            let x = array2(X, "X")?;
            let xv = x.as_array();
            let s = py.detach(|| m.predict(&xv)).py()?;
            Ok(PyArray1::from_vec(py, s.iter().map(|&v| i64::from(v)).collect()).into_any())
        }
    }
}

/// The battery fault detector: window features of a log → fault probabilities (random forest), anomaly score
/// (isolation forest), data-quality checks, SOH and RUL (binding of `models::detector::FaultDetector`).
///
/// `FaultDetector.default()` is the detector trained on the digital twin's labelled fault logs (built at the
/// first call of the process, then shared). `analyze(log, **params)` returns a dict: `windows` (DataFrame, one
/// row per window: `start_row`, `end_row`, `cycle`, `t_start_s`, `t_end_s`, `label`, `confidence`,
/// `probabilities.<class>`, `anomaly_score`, `is_anomaly`, `data_checks`, `soh`), `features` (n_windows ×
/// n_features array, the classifier's input, for explanations), `feature_names`, `classes` and `summary` (a
/// dict: `verdict`, `label_counts`, `anomalous_windows`, `rul`, ...). Keyword arguments (the core's
/// `AnalyzeParams`): `nominal_capacity_ah`, `v_min_v`, `v_max_v`, `n_series`, `window_s`, `threshold_soh`.
/// Pickles through the core's JSON model format.
#[pyclass(name = "FaultDetector", module = "battsentinel")]
pub struct PyFaultDetector {
    inner: FaultDetector,
}

#[pymethods]
impl PyFaultDetector {
    /// The default detector (see the class docs); the GIL is released while it is trained at first use.
    #[staticmethod]
    fn default(py: Python<'_>) -> PyResult<Self> {
        let d = py.detach(FaultDetector::default_detector).py()?;
        Ok(Self { inner: d.clone() })
    }

    /// Analyses a log (see the class docs); the GIL is released during the analysis.
    #[pyo3(signature = (log, **params))]
    fn analyze<'py>(
        &self,
        py: Python<'py>,
        log: &crate::io::PyBatteryLog,
        params: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let p: AnalyzeParams = params_from_kwargs(params, "FaultDetector.analyze parameters")?;
        let (d, l) = (&self.inner, &log.inner);
        let report = py.detach(|| d.analyze(l, &p)).py()?;
        let n_feat = report.feature_names.len();
        let mut feats = Vec::with_capacity(report.windows.len() * n_feat);
        let mut rows = Vec::with_capacity(report.windows.len());
        for w in &report.windows {
            feats.extend_from_slice(&w.features);
            let mut v = serde_json::to_value(w).map_err(|e| param_err(e.to_string()))?;
            if let Value::Object(m) = &mut v {
                m.remove("features");
            }
            rows.push(v);
        }
        let x = Array2::from_shape_vec((report.windows.len(), n_feat), feats)
            .map_err(|e| param_err(e.to_string()))?;
        let out = PyDict::new(py);
        // Columns in the struct's order (JSON maps sort their keys).
        let mut order: Vec<String> =
            ["start_row", "end_row", "cycle", "t_start_s", "t_end_s", "label", "confidence"]
                .map(String::from)
                .into();
        if let Some(m) = rows.first().and_then(|r| r.get("probabilities")).and_then(Value::as_object) {
            order.extend(m.keys().map(|k| format!("probabilities.{k}")));
        }
        order.extend(["anomaly_score", "is_anomaly", "data_checks", "soh"].map(String::from));
        let frame = records_frame(py, &rows)?;
        let frame = if rows.is_empty() { frame } else { frame.get_item(order)? };
        out.set_item("windows", frame)?;
        out.set_item("features", PyArray2::from_owned_array(py, x))?;
        out.set_item("feature_names", report.feature_names.clone())?;
        out.set_item("classes", to_py_obj(py, &report.classes)?)?;
        out.set_item("summary", to_py_obj(py, &report.summary)?)?;
        Ok(out)
    }

    /// Feature names, in column order.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().to_vec()
    }

    /// The classes the classifier was trained on.
    #[getter]
    fn classes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py_obj(py, &self.inner.classes())
    }

    /// Number of windows the detector was trained on.
    #[getter]
    fn n_training_windows(&self) -> usize {
        self.inner.n_training_windows()
    }

    /// The window classifier as a fitted `RandomForestClassifier` (for example to explain `features` rows).
    #[getter]
    fn classifier(&self) -> PyResult<PyRandomForestClassifier> {
        PyRandomForestClassifier::from_json(&self.inner.classifier().save_json().py()?)
    }

    /// The detector in the core's JSON model format (readable by the CLI and the server).
    fn to_json(&self) -> PyResult<String> {
        self.inner.save_json().py()
    }

    /// A detector from the JSON of `to_json`.
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        Ok(Self { inner: FaultDetector::load_json(text).py()? })
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let f = slf.get_type().getattr("from_json")?;
        let json = slf.borrow().to_json()?;
        PyTuple::new(py, [f, PyTuple::new(py, [json])?.into_any()])
    }

    fn __repr__(&self) -> String {
        format!("FaultDetector(n_training_windows={})", self.inner.n_training_windows())
    }
}

/// Registers the estimators.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFaultDetector>()?;
    m.add_class::<PyRandomForestClassifier>()?;
    m.add_class::<PyRandomForestRegressor>()?;
    m.add_class::<PyIsolationForest>()?;
    m.add_class::<PyMlpRegressor>()?;
    m.add_class::<PyMlpClassifier>()?;
    m.add_class::<PySvc>()?;
    m.add_class::<PyOneClassSvm>()?;
    Ok(())
}
