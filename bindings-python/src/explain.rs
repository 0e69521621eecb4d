//! Explainers (binding of `battsentinel_core::explain`): `KernelExplainer` over our models or any Python
//! callable (NumPy in, NumPy out), `TreeExplainer` over our forests, `LimeTabularExplainer`, and the
//! `Explanation` / `LimeExplanation` results with SVG plots.
//!
//! A Python callable is a [`Predictor`] whose `predict_into` attaches to the interpreter only for the call: the
//! core builds every synthetic row of a batch (up to the memory budget) with the GIL released, then hands the
//! whole batch to the callable at once; an exception raised by the callable is re-raised unchanged.

use std::sync::{Arc, Mutex};

use battsentinel_core::explain::ExplainError;
use battsentinel_core::explain::{
    plot, Background, Explanation, ExplanationSet, KernelExplainer, KernelShapParams, LimeExplanation,
    LimeParams, LimeTabular, Predictor, TreeEnsemble, TreeExplainer, TreeShapParams,
};
use battsentinel_core::models::iforest::IsolationForest;
use battsentinel_core::models::mlp::{MlpClassifier, MlpRegressor};
use battsentinel_core::models::svm::{OneClassSvm, SvmClassifier};
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use numpy::{PyArray, PyArray1, PyArray2, PyArray3};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

use crate::convert::{array1, array2, from_json_str, ndim, owned, params_from_kwargs, to_json_string};
use crate::errors::PyResultExt;
use crate::models::{
    PyIsolationForest, PyMlpClassifier, PyMlpRegressor, PyOneClassSvm, PyRandomForestClassifier,
    PyRandomForestRegressor, PySvc,
};

/// Where the exception of a failing Python callable waits until the core returns.
type ErrorSlot = Arc<Mutex<Option<PyErr>>>;

/// The model behind an explainer.
pub enum Model {
    /// A Python callable `f(X: ndarray[n, p]) -> ndarray[n] | ndarray[n, d]`.
    Callable {
        /// The callable.
        f: Py<PyAny>,
        /// Outputs per row.
        n_outputs: usize,
        /// The callable's last exception.
        error: ErrorSlot,
    },
    /// One of our forests (exact tree paths in Kernel SHAP, TreeSHAP).
    Trees(TreeEnsemble),
    /// Our MLP regressor.
    MlpRegressor(MlpRegressor),
    /// Our MLP classifier (probabilities).
    MlpClassifier(MlpClassifier),
    /// Our SVC (probabilities).
    Svc(SvmClassifier),
    /// Our isolation forest (`decision_function`).
    IsolationForest(IsolationForest),
    /// Our one-class SVM (`decision_function`).
    OneClassSvm(OneClassSvm),
}

fn predictor_error(e: impl std::fmt::Display) -> ExplainError {
    ExplainError::Predictor { reason: e.to_string() }
}

fn write_1d(out: &mut ArrayViewMut2<'_, f64>, v: ndarray::Array1<f64>) {
    out.column_mut(0).assign(&v);
}

impl Predictor for Model {
    fn costly_calls(&self) -> bool {
        matches!(self, Model::Callable { .. })
    }

    fn n_outputs(&self) -> usize {
        match self {
            Model::Callable { n_outputs, .. } => *n_outputs,
            Model::Trees(t) => t.n_outputs(),
            Model::MlpClassifier(m) => m.classes().len(),
            Model::Svc(m) => m.classes().len(),
            Model::MlpRegressor(_) | Model::IsolationForest(_) | Model::OneClassSvm(_) => 1,
        }
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        match self {
            Model::Callable { f, n_outputs, error } => Python::attach(|py| {
                let r = call_model(py, f, rows, *n_outputs, &mut out);
                r.map_err(|e| {
                    let reason = e.to_string();
                    if let Ok(mut slot) = error.lock() {
                        *slot = Some(e);
                    }
                    ExplainError::Predictor { reason }
                })
            }),
            Model::Trees(t) => t.predict_into(rows, out),
            Model::MlpRegressor(m) => {
                write_1d(&mut out, m.predict(&rows).map_err(predictor_error)?);
                Ok(())
            }
            Model::IsolationForest(m) => {
                write_1d(&mut out, m.decision_function(&rows).map_err(predictor_error)?);
                Ok(())
            }
            Model::OneClassSvm(m) => {
                write_1d(&mut out, m.decision_function(&rows).map_err(predictor_error)?);
                Ok(())
            }
            Model::MlpClassifier(m) => {
                out.assign(&m.predict_proba(&rows).map_err(predictor_error)?);
                Ok(())
            }
            Model::Svc(m) => {
                out.assign(&m.predict_proba(&rows).map_err(predictor_error)?);
                Ok(())
            }
        }
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        match self {
            Model::Trees(t) => Some(t),
            _ => None,
        }
    }
}

/// Calls `f` on `rows` (copied into a new float64 array) and writes its output into `out`.
fn call_model(
    py: Python<'_>,
    f: &Py<PyAny>,
    rows: ArrayView2<'_, f64>,
    n_outputs: usize,
    out: &mut ArrayViewMut2<'_, f64>,
) -> PyResult<()> {
    let x = PyArray2::from_array(py, &rows);
    let y = f.bind(py).call1((x,))?;
    let n = rows.nrows();
    match ndim(&y)? {
        1 if n_outputs == 1 => {
            let a = array1(&y, "model output")?;
            let v = a.as_array();
            if v.len() != n {
                return Err(PyValueError::new_err(format!("model returned {} rows for {n} inputs", v.len())));
            }
            out.column_mut(0).assign(&v);
        }
        2 => {
            let a = array2(&y, "model output")?;
            let v = a.as_array();
            if v.dim() != (n, n_outputs) {
                return Err(PyValueError::new_err(format!(
                    "model returned shape {:?} for {n} inputs, expected ({n}, {n_outputs})",
                    v.dim()
                )));
            }
            out.assign(&v);
        }
        d => {
            return Err(PyValueError::new_err(format!(
                "model output must be 1-D or 2-D (n_samples[, n_outputs]), got {d} dimensions"
            )))
        }
    }
    Ok(())
}

/// Our estimator or a callable → a [`Model`]; also whether its output is a single unnamed column (1-D).
fn model_of(
    py: Python<'_>,
    obj: &Bound<'_, PyAny>,
    data: ArrayView2<'_, f64>,
    error: &ErrorSlot,
) -> PyResult<(Model, bool)> {
    if let Ok(m) = obj.cast::<PyRandomForestClassifier>() {
        let t = TreeEnsemble::try_from(m.borrow().fitted()?).py()?;
        return Ok((Model::Trees(t), false));
    }
    if let Ok(m) = obj.cast::<PyRandomForestRegressor>() {
        let t = TreeEnsemble::try_from(m.borrow().fitted()?).py()?;
        return Ok((Model::Trees(t), true));
    }
    if let Ok(m) = obj.cast::<PyMlpRegressor>() {
        return Ok((Model::MlpRegressor(m.borrow().fitted()?.clone()), true));
    }
    if let Ok(m) = obj.cast::<PyMlpClassifier>() {
        return Ok((Model::MlpClassifier(m.borrow().fitted()?.clone()), false));
    }
    if let Ok(m) = obj.cast::<PySvc>() {
        return Ok((Model::Svc(m.borrow().fitted()?.clone()), false));
    }
    if let Ok(m) = obj.cast::<PyIsolationForest>() {
        return Ok((Model::IsolationForest(m.borrow().fitted()?.clone()), true));
    }
    if let Ok(m) = obj.cast::<PyOneClassSvm>() {
        return Ok((Model::OneClassSvm(m.borrow().fitted()?.clone()), true));
    }
    if !obj.is_callable() {
        return Err(PyTypeError::new_err(format!(
            "model must be a battsentinel estimator or a callable f(X) -> ndarray, got {}",
            obj.get_type().name()?
        )));
    }
    // One call on the first background row tells the output shape.
    let probe = PyArray2::from_array(py, &data.slice(ndarray::s![0..1.min(data.nrows()), ..]));
    let y = obj.call1((probe,))?;
    let (n_outputs, squeeze) = match ndim(&y)? {
        1 => (1, true),
        2 => (y.getattr("shape")?.get_item(1)?.extract::<usize>()?, false),
        d => {
            return Err(PyValueError::new_err(format!(
                "model output must be 1-D or 2-D (n_samples[, n_outputs]), got {d} dimensions"
            )))
        }
    };
    Ok((Model::Callable { f: obj.clone().unbind(), n_outputs, error: error.clone() }, squeeze))
}

/// Background / training data and feature names (from DataFrame columns when not given).
fn data_and_names(
    data: &Bound<'_, PyAny>,
    names: Option<Vec<String>>,
) -> PyResult<(Array2<f64>, Option<Vec<String>>)> {
    let names = match names {
        Some(n) => Some(n),
        None if data.hasattr("columns")? => Some(
            data.getattr("columns")?
                .call_method0("tolist")?
                .try_iter()?
                .map(|c| c?.str()?.extract::<String>())
                .collect::<PyResult<_>>()?,
        ),
        None => None,
    };
    let a = array2(data, "data")?;
    Ok((owned(a.as_array()), names))
}

/// The explained rows: a 1-D instance or a 2-D batch; returns the batch and whether a single row was given.
fn rows_of<'py>(x: &Bound<'py, PyAny>) -> PyResult<(Array2<f64>, bool)> {
    if ndim(x)? == 1 {
        let a = array1(x, "X")?;
        Ok((owned(a.as_array()).insert_axis(Axis(0)), true))
    } else {
        let a = array2(x, "X")?;
        Ok((owned(a.as_array()), false))
    }
}

/// Raises the callable's own exception when the core reports that the model failed.
fn explain_err(slot: &ErrorSlot, e: ExplainError) -> PyErr {
    if matches!(e, ExplainError::Predictor { .. }) {
        if let Some(err) = slot.lock().ok().and_then(|mut s| s.take()) {
            return err;
        }
    }
    crate::errors::to_py(e.into())
}

/// SHAP (or LIME-free) attributions of one or many instances, as `shap.Explanation`.
///
/// `values` is `(n, n_features)` for single-output models and `(n, n_features, n_outputs)` otherwise (without
/// the leading axis when one instance was explained); `base_values` the expected value per row (and output);
/// `data` the explained rows; `model_output` the model output (link space). `to_svg(kind)` draws
/// `"waterfall"`, `"force"`, `"bar"` or `"beeswarm"` plots; in Jupyter an explanation displays as SVG.
#[pyclass(name = "Explanation", module = "battsentinel")]
#[derive(Clone)]
pub struct PyExplanation {
    set: ExplanationSet,
    single: bool,
    squeeze: bool,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ExplanationState {
    set: ExplanationSet,
    single: bool,
    squeeze: bool,
}

impl PyExplanation {
    fn one(&self, i: usize) -> PyResult<Explanation> {
        self.set.get(i).ok_or_else(|| PyIndexError::new_err(format!("explanation {i} out of range")))
    }
}

#[pymethods]
impl PyExplanation {
    /// An empty explanation (used by pickle); explanations come from the explainers.
    #[new]
    fn new() -> Self {
        Self {
            set: ExplanationSet::from_explanations(&[], Vec::new(), Vec::new()),
            single: false,
            squeeze: false,
        }
    }

    /// Attributions (see the class docs for the shape).
    #[getter]
    fn values<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        let v = self.set.values.clone();
        match (self.single, self.squeeze) {
            (true, true) => {
                PyArray1::from_owned_array(py, v.index_axis(Axis(0), 0).column(0).to_owned()).into_any()
            }
            (true, false) => PyArray2::from_owned_array(py, v.index_axis(Axis(0), 0).to_owned()).into_any(),
            (false, true) => PyArray2::from_owned_array(py, v.index_axis(Axis(2), 0).to_owned()).into_any(),
            (false, false) => PyArray3::from_owned_array(py, v).into_any(),
        }
    }

    /// Expected value(s) of the model over the background, per row (and output).
    #[getter]
    fn base_values<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let b = &self.set.base_values;
        let n = self.set.len();
        Ok(match (self.single, self.squeeze) {
            (true, true) => b.first().copied().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
            (true, false) => PyArray1::from_slice(py, b).into_any(),
            (false, true) => {
                PyArray1::from_vec(py, vec![b.first().copied().unwrap_or(f64::NAN); n]).into_any()
            }
            (false, false) => {
                let a = Array2::from_shape_fn((n, b.len()), |(_, k)| b[k]);
                PyArray2::from_owned_array(py, a).into_any()
            }
        })
    }

    /// The model output of each explained row, in link space (`base_values + values.sum(features)`).
    #[getter]
    fn model_output<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        let o = self.set.model_output.clone();
        match (self.single, self.squeeze) {
            (true, true) => PyArray1::from_vec(py, vec![o[[0, 0]]]).into_any(),
            (true, false) => PyArray1::from_owned_array(py, o.row(0).to_owned()).into_any(),
            (false, true) => PyArray1::from_owned_array(py, o.column(0).to_owned()).into_any(),
            (false, false) => PyArray2::from_owned_array(py, o).into_any(),
        }
    }

    /// The explained rows.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> Bound<'py, PyAny> {
        if self.single {
            PyArray1::from_owned_array(py, self.set.instances.row(0).to_owned()).into_any()
        } else {
            PyArray2::from_owned_array(py, self.set.instances.clone()).into_any()
        }
    }

    /// Names of the features (players).
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.set.feature_names.clone()
    }

    /// Mean |SHAP value| per feature for one output (global importance).
    #[pyo3(signature = (output = 0))]
    fn mean_abs<'py>(&self, py: Python<'py>, output: usize) -> PyResult<Bound<'py, PyArray1<f64>>> {
        Ok(PyArray1::from_vec(py, self.set.mean_abs(output).py()?))
    }

    /// An SVG plot: `kind` is `"waterfall"` or `"force"` (one row: `row`, default 0) or `"bar"` /
    /// `"beeswarm"` (all rows); `output` selects the model output; `max_display` the number of features shown.
    #[pyo3(signature = (kind = "waterfall", output = 0, row = 0, max_display = 10))]
    fn to_svg(&self, kind: &str, output: usize, row: usize, max_display: usize) -> PyResult<String> {
        match kind {
            "waterfall" => plot::waterfall_svg(&self.one(row)?, output, max_display).py(),
            "force" => plot::force_svg(&self.one(row)?, output).py(),
            "bar" => plot::bar_svg(&self.set, output).py(),
            "beeswarm" => plot::beeswarm_svg(&self.set, output, max_display).py(),
            k => Err(crate::errors::param_err(format!(
                "unknown plot kind {k:?}: expected \"waterfall\", \"force\", \"bar\" or \"beeswarm\""
            ))),
        }
    }

    /// Jupyter display: a waterfall plot for one row, a bar plot of mean |SHAP| for many.
    fn _repr_svg_(&self) -> PyResult<String> {
        if self.set.len() == 1 {
            self.to_svg("waterfall", 0, 0, 10)
        } else {
            self.to_svg("bar", 0, 0, 10)
        }
    }

    /// Number of explained rows.
    fn __len__(&self) -> usize {
        self.set.len()
    }

    /// The explanation of row `i`.
    fn __getitem__(&self, i: isize) -> PyResult<Self> {
        let n = self.set.len() as isize;
        let k = if i < 0 { i + n } else { i };
        if k < 0 || k >= n {
            return Err(PyIndexError::new_err(format!("explanation index {i} out of range ({n} rows)")));
        }
        let e = self.one(k as usize)?;
        let set = ExplanationSet::from_explanations(
            &[e],
            self.set.feature_names.clone(),
            self.set.base_values.clone(),
        );
        Ok(Self { set, single: true, squeeze: self.squeeze })
    }

    fn __repr__(&self) -> String {
        format!(
            "Explanation(rows={}, features={}, outputs={})",
            self.set.len(),
            self.set.feature_names.len(),
            self.set.base_values.len()
        )
    }

    fn __getstate__(&self) -> PyResult<String> {
        to_json_string(&ExplanationState {
            set: self.set.clone(),
            single: self.single,
            squeeze: self.squeeze,
        })
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        let s: ExplanationState = from_json_str(state, "explanation state")?;
        self.set = s.set;
        self.single = s.single;
        self.squeeze = s.squeeze;
        Ok(())
    }
}

/// Kernel SHAP as `shap.KernelExplainer` computes it (exact when `2^M − 2` coalitions fit in `nsamples`).
///
/// `model` is a battsentinel estimator (forests use exact tree paths) or any callable `f(X) -> ndarray`, for
/// example a scikit-learn `model.predict_proba`; `data` the background rows (array or DataFrame), optionally
/// weighted by `weights`; `link` `"identity"` or `"logit"`. Keyword arguments: `nsamples` (None = auto),
/// `seed` (0), `memory_budget_bytes` (256 MiB: how many synthetic rows go to the model per call), `l1_reg`
/// (`False` (default), `"num_features(r)"`, `"aic"` or `"bic"`, as shap's).
#[pyclass(name = "KernelExplainer", module = "battsentinel")]
pub struct PyKernelExplainer {
    inner: KernelExplainer<Model>,
    error: ErrorSlot,
    squeeze: bool,
    args: Py<PyTuple>,
    kwargs: Py<PyDict>,
}

#[pymethods]
impl PyKernelExplainer {
    #[new]
    #[pyo3(signature = (model, data, link = "identity", feature_names = None, weights = None, **params))]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        data: &Bound<'_, PyAny>,
        link: &str,
        feature_names: Option<Vec<String>>,
        weights: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let kwargs = match params {
            Some(p) => p.copy()?,
            None => PyDict::new(py),
        };
        let args = PyTuple::new(py, [model.clone(), data.clone()])?;
        let all = PyDict::new(py);
        all.set_item("link", link)?;
        all.set_item("feature_names", feature_names.clone())?;
        if let Some(w) = weights {
            all.set_item("weights", w)?;
        }
        all.update(kwargs.as_mapping())?;
        let pk = kwargs.copy()?;
        pk.set_item("link", link)?;
        let p: KernelShapParams = params_from_kwargs(Some(&pk), "KernelExplainer parameters")?;
        let (bg, names) = data_and_names(data, feature_names)?;
        let background = match weights {
            Some(w) => Background::weighted(bg, array1(w, "weights")?.as_array().to_vec()),
            None => Background::new(bg),
        }
        .py()?;
        let error: ErrorSlot = Arc::new(Mutex::new(None));
        let (m, squeeze) = model_of(py, model, background.data(), &error)?;
        let slot = error.clone();
        let mut inner =
            py.detach(|| KernelExplainer::new(m, background, &p)).map_err(|e| explain_err(&slot, e))?;
        if let Some(n) = names {
            inner = inner.with_feature_names(n).py()?;
        }
        Ok(Self { inner, error, squeeze, args: args.unbind(), kwargs: all.unbind() })
    }

    /// Expected model output over the background (a float for single-output models).
    #[getter]
    fn expected_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.inner.expected_value();
        if self.squeeze {
            Ok(e[0].into_pyobject(py)?.into_any())
        } else {
            Ok(PyArray1::from_slice(py, e).into_any())
        }
    }

    /// Feature names.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().to_vec()
    }

    /// Explains one row (1-D) or every row (2-D) of `X`; returns an `Explanation`. The GIL is released except
    /// while a Python model callable runs.
    #[allow(non_snake_case)]
    fn explain(&self, py: Python<'_>, X: &Bound<'_, PyAny>) -> PyResult<PyExplanation> {
        let (rows, single) = rows_of(X)?;
        let inner = &self.inner;
        let set = py.detach(|| inner.explain_rows(rows.view())).map_err(|e| explain_err(&self.error, e))?;
        Ok(PyExplanation { set, single, squeeze: self.squeeze })
    }

    /// Same as `explain`.
    #[allow(non_snake_case)]
    fn __call__(&self, py: Python<'_>, X: &Bound<'_, PyAny>) -> PyResult<PyExplanation> {
        self.explain(py, X)
    }

    /// SHAP values as an array, as `shap.KernelExplainer.shap_values`: `(n, n_features)` or
    /// `(n, n_features, n_outputs)` (without the first axis for a single 1-D row).
    #[allow(non_snake_case)]
    fn shap_values<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.explain(py, X)?.values(py))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.borrow();
        let rebuild = py.import("battsentinel._battsentinel")?.getattr("_rebuild")?;
        PyTuple::new(
            py,
            [
                rebuild,
                PyTuple::new(
                    py,
                    [
                        slf.get_type().into_any(),
                        me.args.bind(py).clone().into_any(),
                        me.kwargs.bind(py).clone().into_any(),
                    ],
                )?
                .into_any(),
            ],
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "KernelExplainer(features={}, outputs={})",
            self.inner.feature_names().len(),
            self.inner.expected_value().len()
        )
    }
}

/// Exact TreeSHAP over one of our forests: interventional against the background rows `data` (equal to exact
/// Kernel SHAP on the same background, much faster), or path-dependent from the trees' node covers without
/// `data` (`feature_perturbation="tree_path_dependent"`, shap's default without data; also gives
/// `shap_interaction_values`).
#[pyclass(name = "TreeExplainer", module = "battsentinel")]
pub struct PyTreeExplainer {
    trees: TreeEnsemble,
    background: Option<Background>,
    params: TreeShapParams,
    names: Vec<String>,
    squeeze: bool,
    args: Py<PyTuple>,
    kwargs: Py<PyDict>,
}

impl PyTreeExplainer {
    fn core(&self) -> Result<TreeExplainer<'_>, ExplainError> {
        TreeExplainer::with_params(&self.trees, self.background.as_ref(), &self.params)?
            .with_feature_names(self.names.clone())
    }
}

#[pymethods]
impl PyTreeExplainer {
    #[new]
    #[pyo3(signature = (model, data = None, feature_names = None, weights = None, feature_perturbation = None))]
    fn new(
        py: Python<'_>,
        model: &Bound<'_, PyAny>,
        data: Option<&Bound<'_, PyAny>>,
        feature_names: Option<Vec<String>>,
        weights: Option<&Bound<'_, PyAny>>,
        feature_perturbation: Option<String>,
    ) -> PyResult<Self> {
        let (background, names) = match data {
            Some(data) => {
                let (bg, names) = data_and_names(data, feature_names.clone())?;
                let background = match weights {
                    Some(w) => Background::weighted(bg, array1(w, "weights")?.as_array().to_vec()),
                    None => Background::new(bg),
                }
                .py()?;
                (Some(background), names)
            }
            None if weights.is_some() => {
                return Err(PyValueError::new_err("weights need background data"));
            }
            None => (None, feature_names.clone()),
        };
        let perturbation = match feature_perturbation.as_deref() {
            None | Some("auto") => serde_json::Value::Null,
            Some(p) => serde_json::Value::String(p.to_string()),
        };
        let params: TreeShapParams = crate::convert::from_json_value(
            serde_json::json!({ "feature_perturbation": perturbation }),
            "TreeExplainer",
        )?;
        let error: ErrorSlot = Arc::new(Mutex::new(None));
        let empty = Array2::<f64>::zeros((0, 0));
        let (m, squeeze) = match model.cast::<PyRandomForestClassifier>().is_ok() || model.cast::<PyRandomForestRegressor>().is_ok() {
            true => model_of(py, model, empty.view(), &error)?,
            false => {
                return Err(PyTypeError::new_err(
                    "TreeExplainer needs a battsentinel RandomForestClassifier or RandomForestRegressor; use KernelExplainer for other models",
                ))
            }
        };
        let Model::Trees(trees) = m else {
            return Err(PyTypeError::new_err("not a tree model"));
        };
        let names = names.unwrap_or_else(|| (0..trees.n_features()).map(|j| format!("x{j}")).collect());
        let kwargs = PyDict::new(py);
        kwargs.set_item("feature_names", feature_names)?;
        if let Some(w) = weights {
            kwargs.set_item("weights", w)?;
        }
        kwargs.set_item("feature_perturbation", feature_perturbation)?;
        let data_arg = match data {
            Some(d) => d.clone(),
            None => py.None().into_bound(py),
        };
        let args = PyTuple::new(py, [model.clone(), data_arg])?;
        let me =
            Self { trees, background, params, names, squeeze, args: args.unbind(), kwargs: kwargs.unbind() };
        // Validates the shapes and the perturbation once.
        me.core().py()?;
        Ok(me)
    }

    /// Expected model output: the mean over the background (interventional) or the cover-weighted mean leaf
    /// value (tree_path_dependent).
    #[getter]
    fn expected_value<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.core().py()?;
        let e = t.expected_value();
        if self.squeeze {
            Ok(e[0].into_pyobject(py)?.into_any())
        } else {
            Ok(PyArray1::from_slice(py, e).into_any())
        }
    }

    /// `"interventional"` or `"tree_path_dependent"`.
    #[getter]
    fn feature_perturbation(&self) -> PyResult<&'static str> {
        Ok(self.core().py()?.feature_perturbation().as_str())
    }

    /// SHAP interaction values (tree_path_dependent only, as shap): `(M, M)` for one row of a regressor,
    /// `(n, M, M)` for many, with a trailing class axis for a classifier. Rows add up to the SHAP values.
    #[allow(non_snake_case)]
    fn shap_interaction_values<'py>(
        &self,
        py: Python<'py>,
        X: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (rows, single) = rows_of(X)?;
        let iv = py.detach(|| self.core()?.interaction_values_rows(rows.view())).py()?;
        Ok(match (single, self.squeeze) {
            (true, true) => {
                PyArray::from_owned_array(py, iv.index_axis(Axis(0), 0).index_axis(Axis(2), 0).to_owned())
                    .into_any()
            }
            (true, false) => PyArray::from_owned_array(py, iv.index_axis(Axis(0), 0).to_owned()).into_any(),
            (false, true) => PyArray::from_owned_array(py, iv.index_axis(Axis(3), 0).to_owned()).into_any(),
            (false, false) => PyArray::from_owned_array(py, iv).into_any(),
        })
    }

    /// Explains one row (1-D) or every row (2-D) of `X` (in parallel, GIL released).
    #[allow(non_snake_case)]
    fn explain(&self, py: Python<'_>, X: &Bound<'_, PyAny>) -> PyResult<PyExplanation> {
        let (rows, single) = rows_of(X)?;
        let set = py.detach(|| self.core()?.explain_rows(rows.view())).py()?;
        Ok(PyExplanation { set, single, squeeze: self.squeeze })
    }

    /// Same as `explain`.
    #[allow(non_snake_case)]
    fn __call__(&self, py: Python<'_>, X: &Bound<'_, PyAny>) -> PyResult<PyExplanation> {
        self.explain(py, X)
    }

    /// SHAP values as an array (shapes as `KernelExplainer.shap_values`).
    #[allow(non_snake_case)]
    fn shap_values<'py>(&self, py: Python<'py>, X: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.explain(py, X)?.values(py))
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyTuple>> {
        let py = slf.py();
        let me = slf.borrow();
        let rebuild = py.import("battsentinel._battsentinel")?.getattr("_rebuild")?;
        PyTuple::new(
            py,
            [
                rebuild,
                PyTuple::new(
                    py,
                    [
                        slf.get_type().into_any(),
                        me.args.bind(py).clone().into_any(),
                        me.kwargs.bind(py).clone().into_any(),
                    ],
                )?
                .into_any(),
            ],
        )
    }
}

/// A LIME explanation: the weighted linear surrogate per explained label.
#[pyclass(name = "LimeExplanation", module = "battsentinel")]
#[derive(Clone)]
pub struct PyLimeExplanation {
    inner: LimeExplanation,
}

#[pymethods]
impl PyLimeExplanation {
    /// An empty explanation (used by pickle).
    #[new]
    fn new() -> Self {
        Self {
            inner: LimeExplanation {
                predicted: Vec::new(),
                models: Vec::new(),
                feature_labels: Vec::new(),
                instance: Vec::new(),
            },
        }
    }

    /// `(feature label, weight)` pairs of the first label, largest |weight| first (lime's `as_list()`).
    #[pyo3(signature = (label = None))]
    fn as_list(&self, label: Option<usize>) -> PyResult<Vec<(String, f64)>> {
        let m = match label {
            None => self.inner.models.first(),
            Some(l) => self.inner.models.iter().find(|m| m.label == l),
        }
        .ok_or_else(|| PyIndexError::new_err("label was not explained"))?;
        Ok(m.local_exp.iter().map(|&(f, w)| (self.inner.feature_labels[f].clone(), w)).collect())
    }

    /// `{label: [(feature index, weight), ...]}` (lime's `local_exp`).
    #[getter]
    fn local_exp(&self) -> std::collections::BTreeMap<usize, Vec<(usize, f64)>> {
        self.inner.models.iter().map(|m| (m.label, m.local_exp.clone())).collect()
    }

    /// `{label: intercept}` of the surrogates.
    #[getter]
    fn intercept(&self) -> std::collections::BTreeMap<usize, f64> {
        self.inner.models.iter().map(|m| (m.label, m.intercept)).collect()
    }

    /// `{label: weighted R²}` of the surrogates on the neighbourhood.
    #[getter]
    fn score(&self) -> std::collections::BTreeMap<usize, f64> {
        self.inner.models.iter().map(|m| (m.label, m.score)).collect()
    }

    /// `{label: surrogate prediction at the instance}`.
    #[getter]
    fn local_pred(&self) -> std::collections::BTreeMap<usize, f64> {
        self.inner.models.iter().map(|m| (m.label, m.local_pred)).collect()
    }

    /// The model's prediction at the instance, per output.
    #[getter]
    fn predict_proba<'py>(&self, py: Python<'py>) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, &self.inner.predicted)
    }

    /// A horizontal bar chart of the first label's weights (SVG).
    fn to_svg(&self) -> String {
        plot::lime_bar_svg(&self.inner)
    }

    fn _repr_svg_(&self) -> String {
        self.to_svg()
    }

    fn __getstate__(&self) -> PyResult<String> {
        to_json_string(&self.inner)
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        self.inner = from_json_str(state, "LIME explanation state")?;
        Ok(())
    }
}

/// LIME for tabular data as `lime.lime_tabular.LimeTabularExplainer` computes it, seeded.
///
/// `training_data` (array or DataFrame) sets the discretiser statistics; `training_labels` (one class label
/// per training row, as lime's) is needed by `discretizer="entropy"` and ignored otherwise. Keyword
/// arguments (the core's `LimeParams`): `mode` ("regression" / "classification"), `discretizer`
/// ("quartile", "decile", "entropy", "none"), `kernel_width` (None = 0.75·√M), `feature_selection`
/// ("auto", "forward_selection", "highest_weights", "lasso_path", "none"), `num_features` (10),
/// `num_samples` (5000), `seed` (0), `replicate_degenerate_bin_quirk`,
/// `sample_around_instance`.
#[pyclass(name = "LimeTabularExplainer", module = "battsentinel")]
pub struct PyLimeTabularExplainer {
    inner: LimeTabular,
    mode: String,
}

#[pymethods]
impl PyLimeTabularExplainer {
    #[new]
    #[pyo3(signature = (training_data = None, feature_names = None, training_labels = None, **params))]
    fn new(
        py: Python<'_>,
        training_data: Option<&Bound<'_, PyAny>>,
        feature_names: Option<Vec<String>>,
        training_labels: Option<&Bound<'_, PyAny>>,
        params: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let p: LimeParams = params_from_kwargs(params, "LimeTabularExplainer parameters")?;
        let mode = match params.and_then(|d| d.get_item("mode").ok().flatten()) {
            Some(m) => m.extract::<String>()?,
            None => "regression".to_string(),
        };
        let Some(training_data) = training_data else {
            // Pickle creates an empty explainer, then restores the state.
            let empty = Array2::<f64>::zeros((1, 1));
            let inner =
                LimeTabular::fit_with_labels(empty.view(), Some(&[0.0]), vec!["x0".into()], &p).py()?;
            return Ok(Self { inner, mode });
        };
        let (x, names) = data_and_names(training_data, feature_names)?;
        let names = names.unwrap_or_else(|| (0..x.ncols()).map(|j| format!("x{j}")).collect());
        let labels = training_labels.map(|l| array1(l, "training_labels")).transpose()?;
        let labels = labels.as_ref().map(|l| l.as_array().to_vec());
        let inner =
            py.detach(|| LimeTabular::fit_with_labels(x.view(), labels.as_deref(), names, &p)).py()?;
        Ok(Self { inner, mode })
    }

    /// Explains one row: `predict_fn` is a battsentinel estimator or a callable (probabilities for
    /// classification, values for regression); `labels` the outputs to explain (default: 1 for
    /// classification, 0 for regression).
    #[pyo3(signature = (data_row, predict_fn, labels = None))]
    fn explain_instance(
        &self,
        py: Python<'_>,
        data_row: &Bound<'_, PyAny>,
        predict_fn: &Bound<'_, PyAny>,
        labels: Option<Vec<usize>>,
    ) -> PyResult<PyLimeExplanation> {
        let xs = owned(array1(data_row, "data_row")?.as_array()).insert_axis(Axis(0));
        let mut all = self.explain_rows(py, xs, predict_fn, labels)?;
        all.pop().ok_or_else(|| PyValueError::new_err("data_row is empty"))
    }

    /// Explains every row of `data` (array or DataFrame); row `i` with seed `seed + i`, so row 0 is what
    /// `explain_instance` gives. Our own models explain the rows on all cores; a Python callable is
    /// called for one row at a time.
    #[pyo3(signature = (data, predict_fn, labels = None))]
    fn explain_instances(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
        predict_fn: &Bound<'_, PyAny>,
        labels: Option<Vec<usize>>,
    ) -> PyResult<Vec<PyLimeExplanation>> {
        let (xs, _) = data_and_names(data, None)?;
        self.explain_rows(py, xs, predict_fn, labels)
    }
    fn __getstate__(&self) -> PyResult<String> {
        to_json_string(&(&self.inner, &self.mode))
    }

    fn __setstate__(&mut self, state: &str) -> PyResult<()> {
        let (inner, mode): (LimeTabular, String) = from_json_str(state, "LIME explainer state")?;
        self.inner = inner;
        self.mode = mode;
        Ok(())
    }
}

impl PyLimeTabularExplainer {
    /// The rows of `xs` explained through the core's `explain_rows` (columns checked before the model is
    /// probed with rows it cannot take).
    fn explain_rows(
        &self,
        py: Python<'_>,
        xs: Array2<f64>,
        predict_fn: &Bound<'_, PyAny>,
        labels: Option<Vec<usize>>,
    ) -> PyResult<Vec<PyLimeExplanation>> {
        let labels = labels.unwrap_or_else(|| vec![usize::from(self.mode == "classification")]);
        let p = self.inner.feature_names().len();
        if xs.ncols() != p {
            let e = ExplainError::ShapeMismatch { what: "instances (columns)", expected: p, got: xs.ncols() };
            return Err(crate::errors::to_py(e.into()));
        }
        if xs.nrows() == 0 {
            return Ok(Vec::new());
        }
        let error: ErrorSlot = Arc::new(Mutex::new(None));
        let (model, _) = model_of(py, predict_fn, xs.view(), &error)?;
        let inner = &self.inner;
        let all = py
            .detach(|| inner.explain_rows(xs.view(), &model, &labels))
            .map_err(|e| explain_err(&error, e))?;
        Ok(all.into_iter().map(|inner| PyLimeExplanation { inner }).collect())
    }
}

/// `cls(*args, **kwargs)`: how explainers holding a model come back from pickle.
#[pyfunction]
fn _rebuild<'py>(
    cls: &Bound<'py, PyAny>,
    args: &Bound<'py, PyTuple>,
    kwargs: &Bound<'py, PyDict>,
) -> PyResult<Bound<'py, PyAny>> {
    cls.call(args, Some(kwargs))
}

/// Registers the explainers.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyExplanation>()?;
    m.add_class::<PyKernelExplainer>()?;
    m.add_class::<PyTreeExplainer>()?;
    m.add_class::<PyLimeExplanation>()?;
    m.add_class::<PyLimeTabularExplainer>()?;
    m.add_function(wrap_pyfunction!(_rebuild, m)?)?;
    Ok(())
}
