//! Fault models with one API: `Model.fit(x, y?, params?)`, `predict`, `predictProba`, `scoreSamples`,
//! `toJSON()` (the shared model file format of Rust, Python and JS) and `Model.load(json)`.
//!
//! `x` is an Array of rows (Arrays or `Float64Array`s) or `{data, nRows, nCols}` (row-major); `y` an Array
//! or typed array. Vectors come out as `Float64Array`, matrices as an Array of `Float64Array` rows.

use battsentinel_core::explain::{ExplainError, Predictor, TreeEnsemble};
use battsentinel_core::models::{forest, iforest, mlp, model_kind, svm, ModelError, Persist};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use wasm_bindgen::prelude::*;

use crate::convert::{f64_array, from_js, labels, matrix, rows_out, vector};
use crate::errors::{js_error, type_error, OrThrow};

#[wasm_bindgen(typescript_custom_section)]
const TS_MODELS: &'static str = r#"
/** A feature matrix: an Array of rows, or a row-major `{data, nRows, nCols}`. */
export type Matrix = ArrayLike<number>[] | { data: ArrayLike<number>; nRows: number; nCols: number };
/** Random forest parameters (the core's `RandomForestParams`). */
export interface RandomForestParams {
  n_trees?: number; max_depth?: number | null; min_samples_split?: number; min_samples_leaf?: number;
  max_features?: "auto" | "sqrt" | "log2" | "all" | { fraction: number } | { count: number };
  bootstrap?: boolean; class_weight?: "uniform" | "balanced" | { custom: [number, number][] };
  oob_score?: boolean; max_bins?: number; seed?: number;
}
/** Isolation forest parameters. */
export interface IsolationForestParams { n_trees?: number; max_samples?: number | null; contamination?: number | null; seed?: number; }
/** MLP parameters (the core's `MlpParams`). */
export type MlpParams = Record<string, unknown>;
/** SVM parameters (the core's `SvmParams`). */
export interface SvmParams { c?: number; nu?: number; kernel?: unknown; tol?: number; probability?: boolean; }
"#;

fn labels_out(v: impl IntoIterator<Item = f64>) -> js_sys::Float64Array {
    f64_array(&v.into_iter().collect::<Vec<_>>())
}

fn save<M: Persist>(m: &M) -> Result<String, JsValue> {
    m.save_json().or_throw()
}

fn load<M: Persist>(json: &str) -> Result<M, JsValue> {
    M::load_json(json).or_throw()
}

macro_rules! common_methods {
    ($js:ident, $core:ty) => {
        #[wasm_bindgen]
        impl $js {
            /// The model in the shared JSON format (`{"format": "battsentinel-model", …}`).
            ///
            /// # Errors
            /// `ModelError` if serialisation fails.
            #[wasm_bindgen(js_name = toJSON)]
            pub fn to_json(&self) -> Result<String, JsValue> {
                save(&self.inner)
            }
            /// Loads a model saved by any front-end (`toJSON`, Python `save`, Rust `save_json`).
            ///
            /// # Errors
            /// `ModelError` (`invalid_model_file`, `format_version`, `wrong_model_kind`, `corrupt_model_file`).
            pub fn load(json: &str) -> Result<$js, JsValue> {
                Ok(Self { inner: load::<$core>(json)? })
            }
        }
    };
}

/// Random forest classifier (scikit-learn's defaults and semantics).
#[wasm_bindgen]
pub struct RandomForestClassifier {
    pub(crate) inner: forest::RandomForestClassifier,
}
common_methods!(RandomForestClassifier, forest::RandomForestClassifier);

#[wasm_bindgen]
impl RandomForestClassifier {
    /// Fits to features `x` and integer class labels `y`.
    ///
    /// # Errors
    /// `TypeError` for malformed `x`/`y`; `ParamError`; `ModelError` (`empty_data`, `non_finite`,
    /// `target_length`, `single_class`, …).
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] y: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RandomForestParams | undefined")] params: JsValue,
    ) -> Result<RandomForestClassifier, JsValue> {
        let (x, y) = (matrix(&x, "x")?, ndarray::Array1::from(labels(&y, "y")?));
        let p: forest::RandomForestParams = from_js(&params, "params")?;
        let inner = forest::RandomForestClassifier::fit(&p, &x.view(), &y.view()).or_throw()?;
        Ok(Self { inner })
    }
    /// Most probable class per row.
    ///
    /// # Errors
    /// `ModelError` (`feature_count`, `non_finite`).
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(labels_out(self.inner.predict(&x.view()).or_throw()?.iter().map(|&c| c as f64)))
    }
    /// Class probabilities, one `Float64Array` per row (columns in the order of `classes`).
    ///
    /// # Errors
    /// As `predict`.
    #[wasm_bindgen(js_name = predictProba, unchecked_return_type = "Float64Array[]")]
    pub fn predict_proba(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(rows_out(&self.inner.predict_proba(&x.view()).or_throw()?))
    }
    /// Class labels, in the order of the probability columns.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> js_sys::Float64Array {
        labels_out(self.inner.classes().iter().map(|&c| c as f64))
    }
    /// Number of input features.
    #[wasm_bindgen(getter, js_name = nFeatures)]
    pub fn n_features(&self) -> usize {
        self.inner.n_features()
    }
    /// Impurity-based feature importances (sum 1).
    #[wasm_bindgen(getter, js_name = featureImportances)]
    pub fn feature_importances(&self) -> js_sys::Float64Array {
        f64_array(self.inner.feature_importances())
    }
}

/// Random forest regressor.
#[wasm_bindgen]
pub struct RandomForestRegressor {
    pub(crate) inner: forest::RandomForestRegressor,
}
common_methods!(RandomForestRegressor, forest::RandomForestRegressor);

#[wasm_bindgen]
impl RandomForestRegressor {
    /// Fits to features `x` and targets `y`.
    ///
    /// # Errors
    /// As `RandomForestClassifier.fit`.
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] y: JsValue,
        #[wasm_bindgen(unchecked_param_type = "RandomForestParams | undefined")] params: JsValue,
    ) -> Result<RandomForestRegressor, JsValue> {
        let (x, y) = (matrix(&x, "x")?, ndarray::Array1::from(vector(&y, "y")?));
        let p: forest::RandomForestParams = from_js(&params, "params")?;
        let inner = forest::RandomForestRegressor::fit(&p, &x.view(), &y.view()).or_throw()?;
        Ok(Self { inner })
    }
    /// Mean prediction of the trees per row.
    ///
    /// # Errors
    /// `ModelError` (`feature_count`, `non_finite`).
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(f64_array(&self.inner.predict(&x.view()).or_throw()?.to_vec()))
    }
    /// Number of input features.
    #[wasm_bindgen(getter, js_name = nFeatures)]
    pub fn n_features(&self) -> usize {
        self.inner.n_features()
    }
    /// Impurity-based feature importances (sum 1).
    #[wasm_bindgen(getter, js_name = featureImportances)]
    pub fn feature_importances(&self) -> js_sys::Float64Array {
        f64_array(self.inner.feature_importances())
    }
}

/// Isolation forest anomaly detector (scikit-learn's score convention).
#[wasm_bindgen]
pub struct IsolationForest {
    pub(crate) inner: iforest::IsolationForest,
}
common_methods!(IsolationForest, iforest::IsolationForest);

#[wasm_bindgen]
impl IsolationForest {
    /// Fits to `x` (unsupervised).
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ModelError`.
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "IsolationForestParams | undefined")] params: JsValue,
    ) -> Result<IsolationForest, JsValue> {
        let x = matrix(&x, "x")?;
        let p: iforest::IsolationForestParams = from_js(&params, "params")?;
        Ok(Self { inner: iforest::IsolationForest::fit(&p, &x.view()).or_throw()? })
    }
    /// Anomaly score per row (lower = more abnormal, as scikit-learn's `score_samples`).
    ///
    /// # Errors
    /// `ModelError` (`feature_count`, `non_finite`).
    #[wasm_bindgen(js_name = scoreSamples)]
    pub fn score_samples(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(f64_array(&self.inner.score_samples(&x.view()).or_throw()?.to_vec()))
    }
    /// `scoreSamples − offset` (negative = outlier).
    ///
    /// # Errors
    /// As `scoreSamples`.
    #[wasm_bindgen(js_name = decisionFunction)]
    pub fn decision_function(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(f64_array(&self.inner.decision_function(&x.view()).or_throw()?.to_vec()))
    }
    /// `1` inlier, `-1` outlier.
    ///
    /// # Errors
    /// As `scoreSamples`.
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(labels_out(self.inner.predict(&x.view()).or_throw()?.iter().map(|&c| f64::from(c))))
    }
}

/// Multi-layer perceptron classifier.
#[wasm_bindgen]
pub struct MlpClassifier {
    pub(crate) inner: mlp::MlpClassifier,
}
common_methods!(MlpClassifier, mlp::MlpClassifier);

#[wasm_bindgen]
impl MlpClassifier {
    /// Fits to `x` and integer labels `y`.
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ModelError`.
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] y: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MlpParams | undefined")] params: JsValue,
    ) -> Result<MlpClassifier, JsValue> {
        let (x, y) = (matrix(&x, "x")?, ndarray::Array1::from(labels(&y, "y")?));
        let p: mlp::MlpParams = from_js(&params, "params")?;
        Ok(Self { inner: mlp::MlpClassifier::fit(&p, &x.view(), &y.view()).or_throw()? })
    }
    /// Most probable class per row.
    ///
    /// # Errors
    /// `ModelError`.
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(labels_out(self.inner.predict(&x.view()).or_throw()?.iter().map(|&c| c as f64)))
    }
    /// Class probabilities, one `Float64Array` per row.
    ///
    /// # Errors
    /// `ModelError`.
    #[wasm_bindgen(js_name = predictProba, unchecked_return_type = "Float64Array[]")]
    pub fn predict_proba(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(rows_out(&self.inner.predict_proba(&x.view()).or_throw()?))
    }
    /// Class labels.
    #[wasm_bindgen(getter)]
    pub fn classes(&self) -> js_sys::Float64Array {
        labels_out(self.inner.classes().iter().map(|&c| c as f64))
    }
}

/// Multi-layer perceptron regressor.
#[wasm_bindgen]
pub struct MlpRegressor {
    pub(crate) inner: mlp::MlpRegressor,
}
common_methods!(MlpRegressor, mlp::MlpRegressor);

#[wasm_bindgen]
impl MlpRegressor {
    /// Fits to `x` and targets `y`.
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ModelError`.
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] y: JsValue,
        #[wasm_bindgen(unchecked_param_type = "MlpParams | undefined")] params: JsValue,
    ) -> Result<MlpRegressor, JsValue> {
        let (x, y) = (matrix(&x, "x")?, ndarray::Array1::from(vector(&y, "y")?));
        let p: mlp::MlpParams = from_js(&params, "params")?;
        Ok(Self { inner: mlp::MlpRegressor::fit(&p, &x.view(), &y.view()).or_throw()? })
    }
    /// Prediction per row.
    ///
    /// # Errors
    /// `ModelError`.
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(f64_array(&self.inner.predict(&x.view()).or_throw()?.to_vec()))
    }
}

/// Support vector classifier (libsvm's SMO algorithm) with Platt probabilities.
#[wasm_bindgen]
pub struct SvmClassifier {
    pub(crate) inner: svm::SvmClassifier,
}
common_methods!(SvmClassifier, svm::SvmClassifier);

#[wasm_bindgen]
impl SvmClassifier {
    /// Fits to `x` and integer labels `y`.
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ModelError` (`svm_failed`, …).
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] y: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SvmParams | undefined")] params: JsValue,
    ) -> Result<SvmClassifier, JsValue> {
        let (x, y) = (matrix(&x, "x")?, ndarray::Array1::from(labels(&y, "y")?));
        let p: svm::SvmParams = from_js(&params, "params")?;
        Ok(Self { inner: svm::SvmClassifier::fit(&p, &x.view(), &y.view()).or_throw()? })
    }
    /// Predicted class per row.
    ///
    /// # Errors
    /// `ModelError`.
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(labels_out(self.inner.predict(&x.view()).or_throw()?.iter().map(|&c| c as f64)))
    }
    /// Platt class probabilities, one `Float64Array` per row.
    ///
    /// # Errors
    /// `ModelError` (also when fitted without `probability`).
    #[wasm_bindgen(js_name = predictProba, unchecked_return_type = "Float64Array[]")]
    pub fn predict_proba(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(rows_out(&self.inner.predict_proba(&x.view()).or_throw()?))
    }
}

/// One-class SVM novelty detector.
#[wasm_bindgen]
pub struct OneClassSvm {
    pub(crate) inner: svm::OneClassSvm,
}
common_methods!(OneClassSvm, svm::OneClassSvm);

#[wasm_bindgen]
impl OneClassSvm {
    /// Fits to `x` (unsupervised).
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ModelError`.
    pub fn fit(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "SvmParams | undefined")] params: JsValue,
    ) -> Result<OneClassSvm, JsValue> {
        let x = matrix(&x, "x")?;
        let p: svm::SvmParams = from_js(&params, "params")?;
        Ok(Self { inner: svm::OneClassSvm::fit(&p, &x.view()).or_throw()? })
    }
    /// Inlier score per row.
    ///
    /// # Errors
    /// `ModelError`.
    #[wasm_bindgen(js_name = scoreSamples)]
    pub fn score_samples(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(f64_array(&self.inner.score_samples(&x.view()).or_throw()?.to_vec()))
    }
    /// `1` inlier, `-1` outlier.
    ///
    /// # Errors
    /// `ModelError`.
    pub fn predict(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] x: JsValue,
    ) -> Result<js_sys::Float64Array, JsValue> {
        let x = matrix(&x, "x")?;
        Ok(labels_out(self.inner.predict(&x.view()).or_throw()?.iter().map(|&c| f64::from(c))))
    }
}

/// Any of the models above, recovered from a JS model object through its `toJSON()` (the shared file
/// format names the kind), as a batch [`Predictor`] for the explainers.
pub(crate) enum AnyModel {
    /// A forest, evaluated through its trees (Kernel SHAP's exact tree fast path applies).
    Trees(TreeEnsemble),
    Iforest(iforest::IsolationForest),
    MlpClassifier(mlp::MlpClassifier),
    MlpRegressor(mlp::MlpRegressor),
    Svm(svm::SvmClassifier),
    OneClassSvm(svm::OneClassSvm),
}

impl AnyModel {
    /// The model behind a JS model object (any class of this module).
    pub(crate) fn from_js(v: &JsValue) -> Result<AnyModel, JsValue> {
        let f = js_sys::Reflect::get(v, &JsValue::from_str("toJSON")).unwrap_or(JsValue::UNDEFINED);
        let f: &js_sys::Function = wasm_bindgen::JsCast::dyn_ref(&f).ok_or_else(|| {
            type_error("model must be a BattSentinel model (RandomForestClassifier, …) or a function")
        })?;
        let json =
            f.call0(v)?.as_string().ok_or_else(|| type_error("model.toJSON() did not return a string"))?;
        let kind = model_kind(&json).or_throw()?;
        let trees = |e: Result<TreeEnsemble, ExplainError>| e.or_throw().map(AnyModel::Trees);
        match kind.as_str() {
            "random_forest_classifier" => {
                trees(TreeEnsemble::try_from(&load::<forest::RandomForestClassifier>(&json)?))
            }
            "random_forest_regressor" => {
                trees(TreeEnsemble::try_from(&load::<forest::RandomForestRegressor>(&json)?))
            }
            "isolation_forest" => Ok(AnyModel::Iforest(load(&json)?)),
            "mlp_classifier" => Ok(AnyModel::MlpClassifier(load(&json)?)),
            "mlp_regressor" => Ok(AnyModel::MlpRegressor(load(&json)?)),
            "svm_classifier" => Ok(AnyModel::Svm(load(&json)?)),
            "one_class_svm" => Ok(AnyModel::OneClassSvm(load(&json)?)),
            other => Err(js_error(
                "ModelError",
                "wrong_model_kind",
                &format!("model kind `{other}` cannot be explained"),
            )),
        }
    }

    /// The forest as a tree ensemble (TreeSHAP).
    pub(crate) fn into_trees(self) -> Result<TreeEnsemble, JsValue> {
        match self {
            AnyModel::Trees(t) => Ok(t),
            _ => Err(type_error("TreeExplainer needs a RandomForestClassifier or RandomForestRegressor")),
        }
    }
}

fn copy_out(
    src: Result<Array2<f64>, ModelError>,
    mut out: ArrayViewMut2<'_, f64>,
) -> Result<(), ExplainError> {
    let src = src.map_err(|e| {
        crate::errors::stash(crate::errors::ToJs::to_js(&e));
        ExplainError::UnsupportedModel { kind: format!("model prediction failed: {e}") }
    })?;
    if src.dim() != out.dim() {
        return Err(ExplainError::ShapeMismatch {
            what: "model output",
            expected: out.ncols(),
            got: src.ncols(),
        });
    }
    out.assign(&src);
    Ok(())
}

fn column(v: Result<ndarray::Array1<f64>, ModelError>) -> Result<Array2<f64>, ModelError> {
    v.map(|a| a.insert_axis(ndarray::Axis(1)))
}

impl Predictor for AnyModel {
    fn n_outputs(&self) -> usize {
        match self {
            AnyModel::Trees(t) => t.n_outputs(),
            AnyModel::MlpClassifier(m) => m.classes().len(),
            AnyModel::Svm(m) => m.classes().len(),
            AnyModel::Iforest(_) | AnyModel::MlpRegressor(_) | AnyModel::OneClassSvm(_) => 1,
        }
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        match self {
            AnyModel::Trees(t) => t.predict_into(rows, out),
            AnyModel::MlpClassifier(m) => copy_out(m.predict_proba(&rows), out),
            AnyModel::Svm(m) => copy_out(m.predict_proba(&rows), out),
            AnyModel::Iforest(m) => copy_out(column(m.score_samples(&rows)), out),
            AnyModel::MlpRegressor(m) => copy_out(column(m.predict(&rows)), out),
            AnyModel::OneClassSvm(m) => copy_out(column(m.score_samples(&rows)), out),
        }
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        match self {
            AnyModel::Trees(t) => Some(t),
            _ => None,
        }
    }
}
