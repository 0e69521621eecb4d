//! The battery fault detector (`FaultDetector`): per-window fault-class probabilities, anomaly score, data
//! checks, SOH and RUL of a `BatteryLog`, as the core's `models::detector::FaultDetector`.

use battsentinel_core::models::detector::{self as core_detector, AnalyzeParams};
use battsentinel_core::models::Persist;
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, to_js};
use crate::errors::OrThrow;
use crate::io::BatteryLog;
use crate::models::RandomForestClassifier;

#[wasm_bindgen(typescript_custom_section)]
const TS_DETECTOR: &'static str = r#"
/** A fault class of the detector (the core's `FaultKind`). */
export type FaultKind = "normal" | "capacity_fade" | "resistance_rise" | "internal_short" | "overcharge"
  | "overdischarge" | "cooling_failure" | "thermal_runaway_precursor" | "sensor_fault" | "cell_imbalance";
/** Options of `FaultDetector.analyze` (the core's `AnalyzeParams`). */
export interface AnalyzeParams {
  nominal_capacity_ah?: number | null; v_min_v?: number | null; v_max_v?: number | null;
  n_series?: number | null; window_s?: number; threshold_soh?: number;
}
/** Hyper-parameters of a fault detector (the core's `FaultDetectorParams`). */
export interface FaultDetectorParams { n_trees: number; min_samples_leaf: number; anomaly_trees: number; contamination: number; seed: number; }
/** The diagnosis of one window. */
export interface WindowReport {
  start_row: number; end_row: number; cycle: number | null; t_start_s: number; t_end_s: number;
  label: FaultKind; confidence: number; probabilities: Record<FaultKind, number>;
  anomaly_score: number; is_anomaly: boolean; data_checks: string[]; soh: number | null;
  /** Feature values in the order of `DetectorReport.feature_names` (`null` = missing). */
  features: (number | null)[];
}
/** Remaining useful life from a fade fit. */
export interface RulEstimate {
  model: string; threshold_soh: number; cycle_at_threshold: number | null; cycle_lower: number | null;
  cycle_upper: number | null; interval_level: number; last_cycle: number; remaining_cycles: number | null;
  n_fit_points: number; holdout_soh_rmse: number | null;
}
/** The normalisation used for a log (the core's `LogScale`). */
export type LogScale = Record<string, unknown>;
/** Summary of a log. */
export interface DetectorSummary {
  n_windows: number; verdict: FaultKind; label_counts: Partial<Record<FaultKind, number>>;
  anomalous_windows: number; max_anomaly_score: number; mean_probabilities: Record<FaultKind, number>;
  soh_last: number | null; rul: RulEstimate | null; scale: LogScale; data_checks: string[];
}
/** Result of `FaultDetector.analyze`. */
export interface DetectorReport {
  classes: FaultKind[]; feature_names: string[]; windows: WindowReport[]; summary: DetectorSummary;
}
"#;

/// A fitted fault detector: a random forest over window features and an isolation forest on healthy windows.
#[wasm_bindgen]
pub struct FaultDetector {
    inner: core_detector::FaultDetector,
}

#[wasm_bindgen]
impl FaultDetector {
    /// The default detector, trained deterministically on the twin's fault generator (once per module
    /// instance; the first call takes a few seconds).
    ///
    /// # Errors
    /// The core's error if training fails (a build defect).
    #[wasm_bindgen(js_name = default)]
    pub fn default_detector() -> Result<FaultDetector, JsValue> {
        let d = core_detector::FaultDetector::default_detector().or_throw()?;
        Ok(Self { inner: d.clone() })
    }
    /// Analyses a log: per-window probabilities of every class, anomaly scores, data checks and SOH, and a
    /// summary with the verdict and the RUL, as a plain object in the core's serde format.
    ///
    /// # Errors
    /// `ParamError` for bad `params`; `ModelError` (`empty_data`, `non_finite`); `FeatureError`
    /// (`missing_channel`, `not_enough_data`, `length_mismatch`).
    #[wasm_bindgen(unchecked_return_type = "DetectorReport")]
    pub fn analyze(
        &self,
        log: &BatteryLog,
        #[wasm_bindgen(unchecked_param_type = "AnalyzeParams | undefined")] params: JsValue,
    ) -> Result<JsValue, JsValue> {
        let p: AnalyzeParams = from_js(&params, "params")?;
        to_js(&self.inner.analyze(&log.inner, &p).or_throw()?)
    }
    /// The classes the window classifier was trained on, in the order of its probability columns.
    #[wasm_bindgen(getter, unchecked_return_type = "FaultKind[]")]
    pub fn classes(&self) -> Vec<String> {
        self.inner.classes().iter().map(|c| c.as_str().to_string()).collect()
    }
    /// Feature names, in column order.
    #[wasm_bindgen(getter, js_name = featureNames)]
    pub fn feature_names(&self) -> Vec<String> {
        self.inner.feature_names().to_vec()
    }
    /// A copy of the window classifier (for `TreeExplainer`: its input is a row of `WindowReport.features`;
    /// its class labels index `FaultKind`s in the order of `classes`).
    #[wasm_bindgen(getter)]
    pub fn classifier(&self) -> RandomForestClassifier {
        RandomForestClassifier { inner: self.inner.classifier().clone() }
    }
    /// The hyper-parameters.
    ///
    /// # Errors
    /// Never in practice (serialisation of plain numbers).
    #[wasm_bindgen(getter, unchecked_return_type = "FaultDetectorParams")]
    pub fn params(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.params())
    }
    /// Number of windows the detector was trained on.
    #[wasm_bindgen(getter, js_name = nTrainingWindows)]
    pub fn n_training_windows(&self) -> usize {
        self.inner.n_training_windows()
    }
    /// The detector in the shared JSON format (`{"format": "battsentinel-model", "kind": "fault_detector", …}`).
    ///
    /// # Errors
    /// `ModelError` if serialisation fails.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        self.inner.save_json().or_throw()
    }
    /// Loads a detector saved by any front-end (`toJSON`, Python `save`, Rust `save_json`).
    ///
    /// # Errors
    /// `ModelError` (`invalid_model_file`, `format_version`, `wrong_model_kind`, `corrupt_model_file`).
    pub fn load(json: &str) -> Result<FaultDetector, JsValue> {
        Ok(Self { inner: core_detector::FaultDetector::load_json(json).or_throw()? })
    }
}
