//! Explanations: `KernelExplainer` (a BattSentinel model or a JS function as the model), `TreeExplainer`,
//! `LimeExplainer`, and `Explanation.toSvg(kind)`.
//!
//! A JS function model is called in batches: `model(rows, nRows, nCols)` receives a row-major
//! `Float64Array` of `nRows × nCols` inputs and returns `nRows × nOutputs` numbers (row-major). If it throws,
//! the explainer rethrows that error.

use std::cell::RefCell;
use std::collections::HashMap;

use battsentinel_core::explain::{
    self as core_explain, plot, Background, ExplainError, FeaturePerturbation, KernelShapParams, LimeParams,
    Predictor, TreeEnsemble, TreeShapParams,
};
use ndarray::{ArrayView2, ArrayViewMut2};
use serde::Deserialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::convert::{cube_out, describe, f64_array, from_js, matrix, rows_out, strings, to_js, vector};
use crate::errors::{or_throw_pending, stash, type_error, OrThrow};
use crate::models::AnyModel;

#[wasm_bindgen(typescript_custom_section)]
const TS_EXPLAIN: &'static str = r#"
/** A model given as a JS function, called in batches: `rows` is row-major `nRows × nCols`; return
 *  `nRows × nOutputs` numbers, row-major. */
export type PredictFn = (rows: Float64Array, nRows: number, nCols: number) => ArrayLike<number>;
/** A model for the explainers: a BattSentinel model object or a `PredictFn`. */
export type ExplainableModel = RandomForestClassifier | RandomForestRegressor | IsolationForest | MlpClassifier
  | MlpRegressor | SvmClassifier | OneClassSvm | PredictFn;
/** Kernel SHAP parameters (the core's `KernelShapParams`). */
export interface KernelShapParams { nsamples?: number | null; seed?: number; link?: "identity" | "logit"; memory_budget_bytes?: number; }
/** Explainer options: feature names, background weights, and the output count of a `PredictFn` (default 1). */
export interface ExplainerOptions { featureNames?: string[]; weights?: ArrayLike<number>; nOutputs?: number; }
/** TreeSHAP's game (shap's `feature_perturbation`): against a background, or from the trees' node covers. */
export type FeaturePerturbation = "interventional" | "tree_path_dependent";
/** TreeExplainer options: as `ExplainerOptions` (weights need a background), plus the perturbation (default:
 *  interventional with a background, tree_path_dependent without). */
export interface TreeExplainerOptions { featureNames?: string[]; weights?: ArrayLike<number>; featurePerturbation?: FeaturePerturbation; }
/** LIME parameters (the core's `LimeParams`). */
export interface LimeParams {
  discretizer?: "quartile" | "decile" | "none"; kernel_width?: number | null;
  feature_selection?: "auto" | "forward_selection" | "highest_weights" | "none";
  num_features?: number; num_samples?: number; seed?: number; mode?: "regression" | "classification";
  replicate_degenerate_bin_quirk?: boolean; sample_around_instance?: boolean;
}
/** Options of `LimeExplainer.explain`. */
export interface LimeExplainOptions { labels?: number[]; nOutputs?: number; }
/** Plot kinds of `Explanation.toSvg`. */
export type ExplanationPlot = "waterfall" | "force";
/** Plot kinds of `ExplanationSet.toSvg`. */
export type ExplanationSetPlot = "bar" | "beeswarm";
"#;

thread_local! {
    static FUNCTIONS: RefCell<HashMap<u32, js_sys::Function>> = RefCell::new(HashMap::new());
    static NEXT_ID: RefCell<u32> = const { RefCell::new(1) };
}

/// A JS function registered for the lifetime of an explainer (the core's [`Predictor`] is `Sync`; the function
/// stays on this thread, the predictor only holds its id).
struct JsPredictor {
    id: u32,
    n_outputs: usize,
}

impl JsPredictor {
    fn new(f: js_sys::Function, n_outputs: usize) -> Self {
        let id = NEXT_ID.with(|n| {
            let mut n = n.borrow_mut();
            *n = n.wrapping_add(1).max(1);
            *n
        });
        FUNCTIONS.with(|m| m.borrow_mut().insert(id, f));
        Self { id, n_outputs }
    }
}

impl Drop for JsPredictor {
    fn drop(&mut self) {
        FUNCTIONS.with(|m| m.borrow_mut().remove(&self.id));
    }
}

impl Predictor for JsPredictor {
    fn n_outputs(&self) -> usize {
        self.n_outputs
    }

    fn costly_calls(&self) -> bool {
        true
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        mut out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        let f = FUNCTIONS.with(|m| m.borrow().get(&self.id).cloned());
        let fail = |e: JsValue| {
            stash(e);
            ExplainError::UnsupportedModel { kind: "the model function failed".into() }
        };
        let f = f.ok_or_else(|| fail(type_error("the explainer was freed")))?;
        let (n, p) = rows.dim();
        let flat: Vec<f64> = rows.iter().copied().collect();
        let result = f
            .call3(
                &JsValue::NULL,
                &f64_array(&flat).into(),
                &JsValue::from(n as u32),
                &JsValue::from(p as u32),
            )
            .map_err(fail)?;
        let values = vector(&result, "model function result").map_err(fail)?;
        if values.len() != out.len() {
            return Err(fail(type_error(format!(
                "the model function returned {} values for {n} rows, expected {n} × {} = {}",
                values.len(),
                self.n_outputs,
                out.len()
            ))));
        }
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
        Ok(())
    }
}

/// A model for the explainers: one of ours or a JS function.
enum AnyPredictor {
    Model(Box<AnyModel>),
    Js(JsPredictor),
}

impl Predictor for AnyPredictor {
    fn n_outputs(&self) -> usize {
        match self {
            AnyPredictor::Model(m) => m.n_outputs(),
            AnyPredictor::Js(f) => f.n_outputs(),
        }
    }

    fn predict_into(
        &self,
        rows: ArrayView2<'_, f64>,
        out: ArrayViewMut2<'_, f64>,
    ) -> Result<(), ExplainError> {
        match self {
            AnyPredictor::Model(m) => m.predict_into(rows, out),
            AnyPredictor::Js(f) => f.predict_into(rows, out),
        }
    }

    fn tree_ensemble(&self) -> Option<&TreeEnsemble> {
        match self {
            AnyPredictor::Model(m) => m.tree_ensemble(),
            AnyPredictor::Js(_) => None,
        }
    }

    fn costly_calls(&self) -> bool {
        matches!(self, AnyPredictor::Js(_))
    }
}

#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct Options {
    feature_names: Option<Vec<String>>,
    weights: Option<Vec<f64>>,
    n_outputs: Option<usize>,
    labels: Option<Vec<usize>>,
}

fn predictor(model: &JsValue, n_outputs: Option<usize>) -> Result<AnyPredictor, JsValue> {
    if let Some(f) = model.dyn_ref::<js_sys::Function>() {
        let d = n_outputs.unwrap_or(1);
        if d == 0 {
            return Err(type_error("nOutputs must be at least 1"));
        }
        return Ok(AnyPredictor::Js(JsPredictor::new(f.clone(), d)));
    }
    if !model.is_object() {
        return Err(type_error(format!(
            "model must be a BattSentinel model or a function, got {}",
            describe(model)
        )));
    }
    AnyModel::from_js(model).map(|m| AnyPredictor::Model(Box::new(m)))
}

fn background(data: &JsValue, weights: Option<Vec<f64>>) -> Result<Background, JsValue> {
    let x = matrix(data, "background")?;
    match weights {
        Some(w) => Background::weighted(x, w).or_throw(),
        None => Background::new(x).or_throw(),
    }
}

/// The explanation of one instance: `values[player][output]` add up to `modelOutput − baseValues`.
#[wasm_bindgen]
pub struct Explanation {
    inner: core_explain::Explanation,
}

#[wasm_bindgen]
impl Explanation {
    /// Player (feature) names.
    #[wasm_bindgen(getter, js_name = featureNames)]
    pub fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names.clone()
    }
    /// Expected value per output (link space).
    #[wasm_bindgen(getter, js_name = baseValues)]
    pub fn base_values(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.base_values)
    }
    /// Model output per output (link space).
    #[wasm_bindgen(getter, js_name = modelOutput)]
    pub fn model_output(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.model_output)
    }
    /// Attributions, one `Float64Array` (over outputs) per player.
    #[wasm_bindgen(getter, unchecked_return_type = "Float64Array[]")]
    pub fn values(&self) -> js_sys::Array {
        rows_out(&self.inner.values)
    }
    /// Attributions of every player for one output.
    ///
    /// # Errors
    /// `ExplainError` (`explain_output_out_of_range`).
    #[wasm_bindgen(js_name = outputValues)]
    pub fn output_values(&self, output: usize) -> Result<js_sys::Float64Array, JsValue> {
        if output >= self.inner.n_outputs() {
            return Err(ExplainError::OutputOutOfRange { output, n_outputs: self.inner.n_outputs() })
                .or_throw();
        }
        Ok(f64_array(&self.inner.output_values(output)))
    }
    /// The explained instance.
    #[wasm_bindgen(getter)]
    pub fn instance(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.instance)
    }
    /// An SVG plot: `"waterfall"` (default; `maxDisplay` rows, default 10) or `"force"`, for `output`
    /// (default 0).
    ///
    /// # Errors
    /// `TypeError` for an unknown kind; `ExplainError` (`explain_output_out_of_range`).
    #[wasm_bindgen(js_name = toSvg)]
    pub fn to_svg(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ExplanationPlot | undefined")] kind: Option<String>,
        output: Option<usize>,
        #[wasm_bindgen(js_name = maxDisplay)] max_display: Option<usize>,
    ) -> Result<String, JsValue> {
        let output = output.unwrap_or(0);
        match kind.as_deref().unwrap_or("waterfall") {
            "waterfall" => plot::waterfall_svg(&self.inner, output, max_display.unwrap_or(10)).or_throw(),
            "force" => plot::force_svg(&self.inner, output).or_throw(),
            k => Err(type_error(format!("unknown plot kind {k:?}: use \"waterfall\" or \"force\""))),
        }
    }
    /// The explanation in the core's JSON format.
    ///
    /// # Errors
    /// `ExplainError` if serialisation fails.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.inner).map_err(ExplainError::from).or_throw()
    }
}

/// Explanations of many instances from one explainer.
#[wasm_bindgen]
pub struct ExplanationSet {
    inner: core_explain::ExplanationSet,
}

#[wasm_bindgen]
impl ExplanationSet {
    /// Number of instances.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    /// The explanation of instance `i` (`undefined` when out of range).
    pub fn get(&self, i: usize) -> Option<Explanation> {
        self.inner.get(i).map(|inner| Explanation { inner })
    }
    /// Global importance: mean |φ| per player for one output.
    ///
    /// # Errors
    /// `ExplainError` (`explain_output_out_of_range`).
    #[wasm_bindgen(js_name = meanAbs)]
    pub fn mean_abs(&self, output: Option<usize>) -> Result<js_sys::Float64Array, JsValue> {
        Ok(f64_array(&self.inner.mean_abs(output.unwrap_or(0)).or_throw()?))
    }
    /// An SVG plot: `"bar"` (default) or `"beeswarm"` (`maxDisplay` rows, default 10).
    ///
    /// # Errors
    /// `TypeError` for an unknown kind; `ExplainError`.
    #[wasm_bindgen(js_name = toSvg)]
    pub fn to_svg(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ExplanationSetPlot | undefined")] kind: Option<String>,
        output: Option<usize>,
        #[wasm_bindgen(js_name = maxDisplay)] max_display: Option<usize>,
    ) -> Result<String, JsValue> {
        let output = output.unwrap_or(0);
        match kind.as_deref().unwrap_or("bar") {
            "bar" => plot::bar_svg(&self.inner, output).or_throw(),
            "beeswarm" => plot::beeswarm_svg(&self.inner, output, max_display.unwrap_or(10)).or_throw(),
            k => Err(type_error(format!("unknown plot kind {k:?}: use \"bar\" or \"beeswarm\""))),
        }
    }
    /// The set in the core's JSON format.
    ///
    /// # Errors
    /// `ExplainError` if serialisation fails.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.inner).map_err(ExplainError::from).or_throw()
    }
}

/// Kernel SHAP (as `shap.KernelExplainer`) over a BattSentinel model or a JS function.
#[wasm_bindgen]
pub struct KernelExplainer {
    inner: core_explain::KernelExplainer<AnyPredictor>,
}

#[wasm_bindgen]
impl KernelExplainer {
    /// Builds the explainer; evaluates the model once on the whole background.
    ///
    /// # Errors
    /// `TypeError` for a model that is neither ours nor a function, or a malformed background;
    /// `ParamError`; `ExplainError`; whatever the model function throws.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "ExplainableModel")] model: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] background_data: JsValue,
        #[wasm_bindgen(unchecked_param_type = "KernelShapParams | undefined")] params: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ExplainerOptions | undefined")] options: JsValue,
    ) -> Result<KernelExplainer, JsValue> {
        let o: Options = from_js(&options, "options")?;
        let p: KernelShapParams = from_js(&params, "params")?;
        let model = predictor(&model, o.n_outputs)?;
        let bg = background(&background_data, o.weights)?;
        let mut inner = or_throw_pending(core_explain::KernelExplainer::new(model, bg, &p))?;
        if let Some(names) = o.feature_names {
            inner = inner.with_feature_names(names).or_throw()?;
        }
        Ok(Self { inner })
    }
    /// Expected value per output (link space).
    #[wasm_bindgen(getter, js_name = expectedValue)]
    pub fn expected_value(&self) -> js_sys::Float64Array {
        f64_array(self.inner.expected_value())
    }
    /// Explains one instance.
    ///
    /// # Errors
    /// `TypeError`; `ExplainError` (`explain_shape_mismatch`, …); whatever the model function throws.
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] x: JsValue,
    ) -> Result<Explanation, JsValue> {
        let x = ndarray::Array1::from(vector(&x, "x")?);
        Ok(Explanation { inner: or_throw_pending(self.inner.explain(x.view()))? })
    }
    /// Explains every row of `xs` (instance `i` uses seed `seed + i`).
    ///
    /// # Errors
    /// As `explain`.
    #[wasm_bindgen(js_name = explainRows)]
    pub fn explain_rows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] xs: JsValue,
    ) -> Result<ExplanationSet, JsValue> {
        let xs = matrix(&xs, "xs")?;
        Ok(ExplanationSet { inner: or_throw_pending(self.inner.explain_rows(xs.view()))? })
    }
}

/// Options of `TreeExplainer`: feature names, background weights and shap's `feature_perturbation`.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
struct TreeOptions {
    feature_names: Option<Vec<String>>,
    weights: Option<Vec<f64>>,
    feature_perturbation: Option<FeaturePerturbation>,
}

/// Exact TreeSHAP over a random forest: interventional (against a background) or path-dependent (from the
/// trees' node covers, no background), and SHAP interaction values (path-dependent).
#[wasm_bindgen]
pub struct TreeExplainer {
    model: TreeEnsemble,
    background: Option<Background>,
    params: TreeShapParams,
    names: Option<Vec<String>>,
}

impl TreeExplainer {
    fn core(&self) -> Result<core_explain::TreeExplainer<'_>, JsValue> {
        let e = core_explain::TreeExplainer::with_params(&self.model, self.background.as_ref(), &self.params)
            .or_throw()?;
        match &self.names {
            Some(n) => e.with_feature_names(n.clone()).or_throw(),
            None => Ok(e),
        }
    }
}

#[wasm_bindgen]
impl TreeExplainer {
    /// Builds the explainer over a `RandomForestClassifier` or `RandomForestRegressor`. With a background the
    /// default is interventional; without one, tree_path_dependent (as shap's `"auto"`);
    /// `options.featurePerturbation` chooses explicitly.
    ///
    /// # Errors
    /// `TypeError` for another model, or weights without a background; `ParamError` (`invalid_param`) for
    /// interventional without a background or tree_path_dependent with one; `ExplainError`
    /// (`explain_shape_mismatch`, `explain_invalid_tree`, …).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "RandomForestClassifier | RandomForestRegressor")]
        model: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Matrix | null | undefined")] background_data: JsValue,
        #[wasm_bindgen(unchecked_param_type = "TreeExplainerOptions | undefined")] options: JsValue,
    ) -> Result<TreeExplainer, JsValue> {
        let o: TreeOptions = from_js(&options, "options")?;
        if model.is_function() || !model.is_object() {
            return Err(type_error(format!(
                "TreeExplainer needs a RandomForestClassifier or RandomForestRegressor, got {}",
                describe(&model)
            )));
        }
        let model = AnyModel::from_js(&model)?.into_trees()?;
        let background = if background_data.is_undefined() || background_data.is_null() {
            if o.weights.is_some() {
                return Err(type_error("options.weights need background data"));
            }
            None
        } else {
            Some(background(&background_data, o.weights)?)
        };
        let mut params = TreeShapParams::default();
        if let Some(p) = o.feature_perturbation {
            params = params.feature_perturbation(p);
        }
        let me = Self { model, background, params, names: o.feature_names };
        me.core()?;
        Ok(me)
    }
    /// Expected value per output: the weighted mean prediction over the background (interventional) or the
    /// cover-weighted mean leaf value (tree_path_dependent).
    ///
    /// # Errors
    /// Never after construction.
    #[wasm_bindgen(getter, js_name = expectedValue)]
    pub fn expected_value(&self) -> Result<js_sys::Float64Array, JsValue> {
        Ok(f64_array(self.core()?.expected_value()))
    }
    /// `"interventional"` or `"tree_path_dependent"`.
    ///
    /// # Errors
    /// Never after construction.
    #[wasm_bindgen(getter, js_name = featurePerturbation, unchecked_return_type = "FeaturePerturbation")]
    pub fn feature_perturbation(&self) -> Result<String, JsValue> {
        Ok(self.core()?.feature_perturbation().as_str().to_string())
    }
    /// Explains one instance.
    ///
    /// # Errors
    /// `TypeError`; `ExplainError` (`explain_shape_mismatch`).
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] x: JsValue,
    ) -> Result<Explanation, JsValue> {
        let x = ndarray::Array1::from(vector(&x, "x")?);
        Ok(Explanation { inner: self.core()?.explain(x.view()).or_throw()? })
    }
    /// Explains every row.
    ///
    /// # Errors
    /// As `explain`.
    #[wasm_bindgen(js_name = explainRows)]
    pub fn explain_rows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] xs: JsValue,
    ) -> Result<ExplanationSet, JsValue> {
        let xs = matrix(&xs, "xs")?;
        Ok(ExplanationSet { inner: self.core()?.explain_rows(xs.view()).or_throw()? })
    }
    /// SHAP interaction values of one instance (tree_path_dependent only, as shap): `iv[i][j]` is a
    /// `Float64Array` over outputs; row `i` adds up to the SHAP value of feature `i`, the whole matrix to
    /// `modelOutput − expectedValue`.
    ///
    /// # Errors
    /// `TypeError`; `ParamError` (`invalid_param`) for an interventional explainer; `ExplainError`
    /// (`explain_shape_mismatch`).
    #[wasm_bindgen(js_name = interactionValues, unchecked_return_type = "Float64Array[][]")]
    pub fn interaction_values(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] x: JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        let x = ndarray::Array1::from(vector(&x, "x")?);
        Ok(cube_out(self.core()?.interaction_values(x.view()).or_throw()?.view()))
    }
    /// SHAP interaction values of every row: `iv[r][i][j]` is a `Float64Array` over outputs.
    ///
    /// # Errors
    /// As `interactionValues`.
    #[wasm_bindgen(js_name = interactionValuesRows, unchecked_return_type = "Float64Array[][][]")]
    pub fn interaction_values_rows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] xs: JsValue,
    ) -> Result<js_sys::Array, JsValue> {
        let xs = matrix(&xs, "xs")?;
        let iv = self.core()?.interaction_values_rows(xs.view()).or_throw()?;
        Ok(iv.outer_iter().map(|a| JsValue::from(cube_out(a))).collect())
    }
}

/// A LIME explanation: one local surrogate per explained label.
#[wasm_bindgen]
pub struct LimeExplanation {
    inner: core_explain::LimeExplanation,
}

#[wasm_bindgen]
impl LimeExplanation {
    /// Model prediction at the instance, per output.
    #[wasm_bindgen(getter)]
    pub fn predicted(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.predicted)
    }
    /// The surrogates: `{label, used_features, intercept, local_exp, score, local_pred}`.
    ///
    /// # Errors
    /// Never for finite results.
    #[wasm_bindgen(getter)]
    pub fn models(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.models)
    }
    /// `[label, weight]` pairs of the first surrogate (lime's `as_list()`).
    ///
    /// # Errors
    /// Never for finite results.
    #[wasm_bindgen(js_name = asList, unchecked_return_type = "[string, number][]")]
    pub fn as_list(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.as_list())
    }
    /// A horizontal bar chart (SVG) of the first surrogate's weights.
    #[wasm_bindgen(js_name = toSvg)]
    pub fn to_svg(&self) -> String {
        plot::lime_bar_svg(&self.inner)
    }
    /// The explanation in the core's JSON format.
    ///
    /// # Errors
    /// `ExplainError` if serialisation fails.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.inner).map_err(ExplainError::from).or_throw()
    }
}

/// LIME tabular (as `lime` 0.2.0.1), seeded.
#[wasm_bindgen]
pub struct LimeExplainer {
    inner: core_explain::LimeTabular,
}

#[wasm_bindgen]
impl LimeExplainer {
    /// Fits the discretiser statistics on `training`.
    ///
    /// # Errors
    /// `TypeError`; `ParamError`; `ExplainError` (`explain_empty_input`, `explain_non_finite`, …).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "Matrix")] training: JsValue,
        #[wasm_bindgen(js_name = featureNames, unchecked_param_type = "string[]")] feature_names: JsValue,
        #[wasm_bindgen(unchecked_param_type = "LimeParams | undefined")] params: JsValue,
    ) -> Result<LimeExplainer, JsValue> {
        let x = matrix(&training, "training")?;
        let names = strings(&feature_names, "featureNames")?;
        let p: LimeParams = from_js(&params, "params")?;
        Ok(Self { inner: core_explain::LimeTabular::fit(x.view(), names, &p).or_throw()? })
    }
    /// Explains `x` for `model` (ours or a function; `options.labels` default `[0]` for regression, `[1]`
    /// for classification).
    ///
    /// # Errors
    /// `TypeError`; `ExplainError`; whatever the model function throws.
    pub fn explain(
        &self,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] x: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ExplainableModel")] model: JsValue,
        #[wasm_bindgen(unchecked_param_type = "LimeExplainOptions | undefined")] options: JsValue,
    ) -> Result<LimeExplanation, JsValue> {
        let o: Options = from_js(&options, "options")?;
        let x = ndarray::Array1::from(vector(&x, "x")?);
        let model = predictor(&model, o.n_outputs)?;
        let labels = o.labels.unwrap_or_else(|| vec![usize::from(model.n_outputs() > 1)]);
        Ok(LimeExplanation { inner: or_throw_pending(self.inner.explain(x.view(), &model, &labels))? })
    }
    /// Explains every row of `xs` (row `i` with seed `seed + i`, so row 0 is what `explain` gives).
    ///
    /// # Errors
    /// As `explain`.
    #[wasm_bindgen(js_name = explainRows)]
    pub fn explain_rows(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Matrix")] xs: JsValue,
        #[wasm_bindgen(unchecked_param_type = "ExplainableModel")] model: JsValue,
        #[wasm_bindgen(unchecked_param_type = "LimeExplainOptions | undefined")] options: JsValue,
    ) -> Result<Vec<LimeExplanation>, JsValue> {
        let o: Options = from_js(&options, "options")?;
        let xs = matrix(&xs, "xs")?;
        let model = predictor(&model, o.n_outputs)?;
        let labels = o.labels.unwrap_or_else(|| vec![usize::from(model.n_outputs() > 1)]);
        let all = or_throw_pending(self.inner.explain_rows(xs.view(), &model, &labels))?;
        Ok(all.into_iter().map(|inner| LimeExplanation { inner }).collect())
    }
}
