//! `FaultDetector`: the battery pipeline on top of the estimators — windowed features of a [`BatteryLog`] →
//! fault-class probabilities (random forest), an anomaly score (isolation forest fitted on healthy windows)
//! and SOH / remaining useful life with a prediction interval.
//!
//! # Classes
//! [`FaultKind::ALL`]: `normal`, `capacity_fade`, `resistance_rise` (internal or contact resistance),
//! `internal_short` (self-discharge), `overcharge`, `overdischarge`, `cooling_failure` (overheating),
//! `thermal_runaway_precursor` (self-heating), `sensor_fault`, `cell_imbalance` (needs per-cell voltages).
//!
//! # Windows and features
//! A log is cut into windows: one per cycle when it has a cycle index, otherwise windows of
//! [`AnalyzeParams::window_s`] advancing by half a window. Values are normalised by a [`LogScale`]
//! (nominal capacity, per-cell voltage window, cells in series — given, read from `meta.info`, or
//! inferred), so cells of any size and series packs share one model. The 31 features ([`FEATURE_NAMES`]):
//! normalised voltage max/min/mean/std; mean discharge and charge C-rate; charge passed in each direction
//! (fraction of nominal) and their ratio (coulombic efficiency); resistance from current steps > C/10
//! (median |ΔV/ΔI| per cell × capacity, Ω·Ah); mean voltage slope over the second half of rests
//! (1/h); voltage noise (median |second difference|) and largest jump; temperature rise, rise per
//! mean-square C-rate, largest and mean-at-rest dT/dt over 5-minute lags (K/h), temperature noise and jump;
//! missing-value fractions of V, I, T; out-of-range fractions of V and T; longest stuck run of V under
//! current and of T; the spread of per-cell voltages (max and mean, normalised). A missing quantity gets a
//! neutral value (0) and an indicator feature.
//!
//! # Decision
//! - **Probabilities**: the random forest's `predict_proba` over the classes, for every window.
//! - **Data-quality checks** take precedence: a window with a non-positive or impossible voltage, ≥ 20 %
//!   missing voltage or current, a temperature channel ≥ 50 % missing (or disconnected, as the reader
//!   reports) or temperatures outside [−50, 150] °C is labelled `sensor_fault` whatever the model says, and
//!   the checks that fired are listed. Such data cannot support a cell diagnosis.
//! - **Anomaly score**: `−score_samples` of an isolation forest fitted once on the healthy training windows
//!   (about 0.35–0.5 for typical windows, higher = more unusual); `is_anomaly` when the scikit-learn
//!   `decision_function` (threshold at the healthy windows' 2 % quantile) is negative.
//! - **Verdict** of the log: the most frequent non-normal label when it covers at least a third of the
//!   windows, else `normal`.
//!
//! # SOH and RUL
//! SOH of a window = charge discharged in it / nominal capacity, when the window discharges at least half of
//! the nominal capacity (else missing). With at least three such windows, [`crate::features::soh_trend`]
//! fits linear, exponential and power-law fade curves against the cycle number on the early part of life and
//! extrapolates the cycle at SOH 80 % with a residual-bootstrap prediction interval ([`RulEstimate`]).
//! [`soh_rul_from_summary`] does the same from a per-cycle summary file.
//!
//! # Default detector
//! [`FaultDetector::default_detector`] trains, deterministically and once per process, on logs from the
//! twin's fault generator ([`crate::twin::generate_labelled_logs`], `ECM_Example` cell, seed
//! [`DEFAULT_SEED`]); it needs no file system and works on wasm32.

mod features;

pub use features::{LogScale, WindowSpan, FEATURE_NAMES, N_FEATURES};

use std::collections::BTreeMap;
use std::sync::OnceLock;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use super::forest::{RandomForestClassifier, RandomForestParams};
use super::iforest::{IsolationForest, IsolationForestParams};
use super::persist::Persist;
use super::ModelError;
use crate::data::{BatteryLog, CycleRecord, CycleSummary};
use crate::features::{soh_trend, CycleSelect, FeatureError, TrendParams};
use crate::params::{in_range, positive, ParamError, ParamGuard};
use crate::twin::{generate_labelled_logs, CellParams, FaultGenParams, FaultKind};
use crate::Result;

/// Seed of the default detector's training data and models.
pub const DEFAULT_SEED: u64 = 2026;

/// Hyper-parameters of a [`FaultDetector`] (unchecked builder with defaults; [`FaultDetectorParams::check`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultDetectorParams {
    /// Trees of the classifier (default 80).
    pub n_trees: usize,
    /// Minimum windows per leaf (default 1).
    pub min_samples_leaf: usize,
    /// Trees of the isolation forest (default 100).
    pub anomaly_trees: usize,
    /// Fraction of healthy windows above the anomaly threshold (default 0.02).
    pub contamination: f64,
    /// Seed of both forests.
    pub seed: u64,
}

impl Default for FaultDetectorParams {
    fn default() -> Self {
        Self { n_trees: 80, min_samples_leaf: 1, anomaly_trees: 100, contamination: 0.02, seed: DEFAULT_SEED }
    }
}

impl FaultDetectorParams {
    /// Checks the parameters.
    ///
    /// # Errors
    /// [`ParamError`] naming the first bad one.
    pub fn check(&self) -> Result<&Self, ParamError> {
        if !(1..=2000).contains(&self.n_trees) {
            return Err(ParamError::invalid("n_trees", self.n_trees, "must be in 1..=2000"));
        }
        if self.min_samples_leaf == 0 {
            return Err(ParamError::invalid("min_samples_leaf", self.min_samples_leaf, "must be >= 1"));
        }
        if !(1..=2000).contains(&self.anomaly_trees) {
            return Err(ParamError::invalid("anomaly_trees", self.anomaly_trees, "must be in 1..=2000"));
        }
        in_range("contamination", self.contamination, 1e-4, 0.5)?;
        Ok(self)
    }
}

/// Options of [`FaultDetector::analyze`]: normalisation overrides and the window length. Unknown values are
/// read from the log's `meta.info` or inferred (see [`LogScale`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AnalyzeParams {
    /// Nominal capacity (Ah).
    pub nominal_capacity_ah: Option<f64>,
    /// Lower voltage limit per cell (V).
    pub v_min_v: Option<f64>,
    /// Upper voltage limit per cell (V).
    pub v_max_v: Option<f64>,
    /// Cells in series.
    pub n_series: Option<usize>,
    /// Window length (s) for logs without a cycle index (default 14 400 = 4 h).
    pub window_s: f64,
    /// SOH threshold of end of life for the RUL (default 0.8).
    pub threshold_soh: f64,
}

impl Default for AnalyzeParams {
    fn default() -> Self {
        Self {
            nominal_capacity_ah: None,
            v_min_v: None,
            v_max_v: None,
            n_series: None,
            window_s: 14_400.0,
            threshold_soh: 0.8,
        }
    }
}

impl AnalyzeParams {
    /// Checks the options.
    ///
    /// # Errors
    /// [`ParamError`] naming the first bad one (a voltage window needs both limits, lower < upper).
    pub fn check(&self) -> Result<&Self, ParamError> {
        if let Some(q) = self.nominal_capacity_ah {
            positive("nominal_capacity_ah", q)?;
        }
        match (self.v_min_v, self.v_max_v) {
            (None, None) => {}
            (Some(lo), Some(hi)) if lo.is_finite() && hi.is_finite() && 0.0 < lo && lo < hi => {}
            other => {
                return Err(ParamError::invalid("v_min_v", other, "give both limits, 0 < v_min_v < v_max_v"))
            }
        }
        if self.n_series == Some(0) {
            return Err(ParamError::invalid("n_series", 0, "must be >= 1"));
        }
        positive("window_s", self.window_s)?;
        in_range("threshold_soh", self.threshold_soh, 0.05, 1.0)?;
        Ok(self)
    }
}

/// The diagnosis of one window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowReport {
    /// Rows and cycle of the window.
    #[serde(flatten)]
    pub span: WindowSpan,
    /// Time of the first row (s).
    pub t_start_s: f64,
    /// Time of the last row (s).
    pub t_end_s: f64,
    /// The diagnosis: the most probable class, or `sensor_fault` when a data-quality check fired.
    pub label: FaultKind,
    /// Probability of the model's most probable class.
    pub confidence: f64,
    /// Probability of every class (all classes of [`FaultKind::ALL`]; 0 for classes not trained).
    pub probabilities: BTreeMap<FaultKind, f64>,
    /// Anomaly score, higher = more unusual (`−score_samples` of the isolation forest, in (0, 1]).
    pub anomaly_score: f64,
    /// True when the isolation forest puts the window outside the healthy reference.
    pub is_anomaly: bool,
    /// Data-quality checks that fired (`voltage_out_of_range`, `voltage_missing`, `current_missing`,
    /// `temperature_missing`, `temperature_disconnected`, `temperature_out_of_range`).
    pub data_checks: Vec<String>,
    /// State of health (discharged charge / nominal capacity); `null` when the window does not discharge at
    /// least half the nominal capacity.
    #[serde(with = "crate::data::nan_as_null::scalar")]
    pub soh: f64,
    /// The window's features, in the order of [`FEATURE_NAMES`] (for explanations).
    pub features: Vec<f64>,
}

/// The cycle at which SOH reaches the threshold, extrapolated from a fade fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RulEstimate {
    /// Fade model used (lowest AICc): `linear`, `exponential` or `power_law`.
    pub model: String,
    /// SOH threshold (fraction).
    pub threshold_soh: f64,
    /// Predicted cycle at the threshold; `None` when the fitted curve never reaches it.
    pub cycle_at_threshold: Option<f64>,
    /// Lower bound of the prediction interval (cycle).
    pub cycle_lower: Option<f64>,
    /// Upper bound of the prediction interval (cycle); `None` = unbounded.
    pub cycle_upper: Option<f64>,
    /// Interval level (e.g. 0.9).
    pub interval_level: f64,
    /// Last cycle with an SOH.
    pub last_cycle: u32,
    /// Remaining cycles, `cycle_at_threshold − last_cycle` (≥ 0).
    pub remaining_cycles: Option<f64>,
    /// Points used for the fit.
    pub n_fit_points: usize,
    /// RMSE of the fitted curve's SOH at the points after the fitted ones (hold-out error); `None` when
    /// every point was fitted.
    pub holdout_soh_rmse: Option<f64>,
}

/// Summary of a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorSummary {
    /// Number of windows.
    pub n_windows: usize,
    /// The log's diagnosis (see the module docs).
    pub verdict: FaultKind,
    /// Windows per label.
    pub label_counts: BTreeMap<FaultKind, usize>,
    /// Windows flagged as anomalous.
    pub anomalous_windows: usize,
    /// Largest anomaly score.
    pub max_anomaly_score: f64,
    /// Mean probability of each class over the windows.
    pub mean_probabilities: BTreeMap<FaultKind, f64>,
    /// Last finite window SOH.
    #[serde(with = "crate::data::nan_as_null::scalar")]
    pub soh_last: f64,
    /// Remaining useful life, when at least three windows have an SOH and the fit succeeds.
    pub rul: Option<RulEstimate>,
    /// The normalisation used.
    pub scale: LogScale,
    /// Data-quality checks that fired in any window.
    pub data_checks: Vec<String>,
}

/// Result of [`FaultDetector::analyze`]: one row per window and a summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectorReport {
    /// Class names in index order (as [`FaultKind::ALL`]).
    pub classes: Vec<FaultKind>,
    /// Feature names, in column order.
    pub feature_names: Vec<String>,
    /// Per-window diagnosis.
    pub windows: Vec<WindowReport>,
    /// Log summary.
    pub summary: DetectorSummary,
}

/// A labelled log for training.
#[derive(Debug, Clone, Copy)]
pub struct LabelledRef<'a> {
    /// The log.
    pub log: &'a BatteryLog,
    /// Its class (every window of the log gets it).
    pub label: FaultKind,
}

/// A fitted fault detector: a random forest over window features and an isolation forest on healthy windows.
///
/// # Examples
/// ```
/// use battsentinel_core::models::detector::{AnalyzeParams, FaultDetector};
/// use battsentinel_core::twin::{simulate_fault, CellParams, CyclingSchedule, Fault};
/// let detector = FaultDetector::default_detector()?;
/// let log = simulate_fault(&CellParams::ecm_example(), &Fault::Overcharge { v_end_v: 4.35 }, &CyclingSchedule::default())?;
/// let report = detector.analyze(&log, &AnalyzeParams::default())?;
/// assert_eq!(report.summary.verdict.as_str(), "overcharge");
/// # Ok::<(), battsentinel_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultDetector {
    params: FaultDetectorParams,
    feature_names: Vec<String>,
    classifier: RandomForestClassifier,
    anomaly: IsolationForest,
    n_training_windows: usize,
}

static DEFAULT: OnceLock<FaultDetector> = OnceLock::new();
static BUILD: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Windows and feature rows of a log.
fn featurize(
    log: &BatteryLog,
    a: &AnalyzeParams,
) -> Result<(Vec<WindowSpan>, LogScale, Vec<[f64; N_FEATURES]>)> {
    if log.is_empty() {
        return Err(ModelError::EmptyData { n_rows: 0, n_cols: 0 }.into());
    }
    log.validate().map_err(FeatureError::from)?;
    if log.time_s.iter().any(|t| !t.is_finite()) {
        let row = log.time_s.iter().position(|t| !t.is_finite()).unwrap_or(0);
        return Err(ModelError::NonFinite { what: "features", row, column: 0, value: log.time_s[row] }.into());
    }
    if log.current_a.is_none() {
        return Err(
            FeatureError::MissingChannel { channel: "current_a", needed_for: "fault detection" }.into()
        );
    }
    let spans = features::windows(log, a.window_s, 10);
    if spans.is_empty() {
        return Err(FeatureError::NotEnoughData {
            what: "fault detection windows",
            needed: 10,
            found: log.len(),
        }
        .into());
    }
    let window = a.v_min_v.zip(a.v_max_v);
    let scale = features::resolve_scale(log, a.nominal_capacity_ah, window, a.n_series, &spans)?;
    let rows = spans.iter().map(|w| features::window_features(log, &scale, w)).collect();
    Ok((spans, scale, rows))
}

fn to_matrix(rows: &[[f64; N_FEATURES]]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), N_FEATURES), |(i, j)| rows[i][j])
}

impl FaultDetector {
    /// Fits a detector on labelled logs (every window of a log carries the log's label), normalising each
    /// log with `analyze` (as [`FaultDetector::analyze`] does).
    ///
    /// # Errors
    /// [`ParamError`] for bad parameters; the errors of [`FaultDetector::analyze`] for an unusable log;
    /// [`ModelError::SingleClass`] when all windows share one label; [`ModelError::TooFewSamples`] when fewer
    /// than two windows are `normal` (the anomaly model's reference).
    pub fn fit(
        params: &FaultDetectorParams,
        logs: &[LabelledRef<'_>],
        analyze: &AnalyzeParams,
    ) -> Result<Self> {
        Self::fit_with(params, logs, |_| analyze.clone())
    }

    /// As [`FaultDetector::fit`], with the analysis options of log `k` given by `analyze(k)` (for example
    /// user logs with a known capacity mixed with twin logs that carry their own scale).
    ///
    /// # Errors
    /// As [`FaultDetector::fit`].
    pub fn fit_with(
        params: &FaultDetectorParams,
        logs: &[LabelledRef<'_>],
        analyze: impl Fn(usize) -> AnalyzeParams,
    ) -> Result<Self> {
        params.check()?;
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for (k, l) in logs.iter().enumerate() {
            let a = analyze(k);
            a.check()?;
            let (_, _, r) = featurize(l.log, &a)?;
            labels.extend(std::iter::repeat_n(l.label.index(), r.len()));
            rows.extend(r);
        }
        if rows.is_empty() {
            return Err(ModelError::EmptyData { n_rows: 0, n_cols: N_FEATURES }.into());
        }
        let x = to_matrix(&rows);
        let y = Array1::from(labels.clone());
        let fp = RandomForestParams::default()
            .n_trees(params.n_trees)
            .min_samples_leaf(params.min_samples_leaf)
            .seed(params.seed);
        let classifier = RandomForestClassifier::fit(&fp, &x.view(), &y.view())?;
        let normal: Vec<usize> =
            (0..labels.len()).filter(|&i| labels[i] == FaultKind::Normal.index()).collect();
        if normal.len() < 2 {
            return Err(ModelError::TooFewSamples {
                what: "anomaly model (normal windows)",
                needed: 2,
                found: normal.len(),
            }
            .into());
        }
        let xn = x.select(ndarray::Axis(0), &normal);
        let ip = IsolationForestParams::default()
            .n_trees(params.anomaly_trees)
            .contamination(Some(params.contamination))
            .seed(params.seed ^ 0xa5a5);
        let anomaly = IsolationForest::fit(&ip, &xn.view())?;
        Ok(Self {
            params: params.clone(),
            feature_names: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            classifier,
            anomaly,
            n_training_windows: rows.len(),
        })
    }

    /// Generates labelled logs with the twin ([`generate_labelled_logs`] on `cell`) and fits on them.
    ///
    /// # Errors
    /// As [`generate_labelled_logs`] and [`FaultDetector::fit`].
    pub fn fit_twin(params: &FaultDetectorParams, cell: &CellParams, gen: &FaultGenParams) -> Result<Self> {
        let logs = generate_labelled_logs(cell, gen)?;
        let refs: Vec<LabelledRef<'_>> =
            logs.iter().map(|l| LabelledRef { log: &l.log, label: l.label }).collect();
        Self::fit(params, &refs, &AnalyzeParams::default())
    }

    /// The parameters of the default detector's training data: 24 logs per class of 2 cycles, seed
    /// [`DEFAULT_SEED`].
    pub fn default_training() -> FaultGenParams {
        FaultGenParams::default().logs_per_class(24).seed(DEFAULT_SEED)
    }

    /// The default detector, trained deterministically on the twin at first use (then cached for the
    /// process): [`FaultDetectorParams::default`] on [`FaultDetector::default_training`] logs of
    /// [`CellParams::ecm_example`]. No file system needed.
    ///
    /// # Errors
    /// Never in practice (the training inputs are fixed); a failure would be a build defect, returned as
    /// the underlying error.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::models::detector::FaultDetector;
    /// let d = FaultDetector::default_detector()?;
    /// assert_eq!(d.feature_names().len(), 31);
    /// # Ok::<(), battsentinel_core::Error>(())
    /// ```
    pub fn default_detector() -> Result<&'static FaultDetector> {
        if let Some(d) = DEFAULT.get() {
            return Ok(d);
        }
        // One build at a time: concurrent first callers wait for it instead of training in parallel.
        let _guard = BUILD.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(d) = DEFAULT.get() {
            return Ok(d);
        }
        let d = Self::fit_twin(
            &FaultDetectorParams::default(),
            &CellParams::ecm_example(),
            &Self::default_training(),
        )?;
        Ok(DEFAULT.get_or_init(|| d))
    }

    /// Feature names, in column order.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The classes the classifier was trained on.
    pub fn classes(&self) -> Vec<FaultKind> {
        self.classifier.classes().iter().filter_map(|&i| FaultKind::ALL.get(i).copied()).collect()
    }

    /// The window classifier (for explanations: its input is a row of [`WindowReport::features`]).
    pub fn classifier(&self) -> &RandomForestClassifier {
        &self.classifier
    }

    /// The anomaly model.
    pub fn anomaly_model(&self) -> &IsolationForest {
        &self.anomaly
    }

    /// The hyper-parameters.
    pub fn params(&self) -> &FaultDetectorParams {
        &self.params
    }

    /// Number of windows the detector was trained on.
    pub fn n_training_windows(&self) -> usize {
        self.n_training_windows
    }

    /// Analyses a log: per-window fault probabilities, anomaly scores, data checks and SOH, and a summary
    /// with the verdict and the RUL.
    ///
    /// # Errors
    /// [`ModelError::EmptyData`] for an empty log; [`FeatureError::LengthMismatch`] when columns differ in
    /// length; [`ModelError::NonFinite`] for a non-finite time; [`FeatureError::MissingChannel`] without
    /// voltage or current; [`FeatureError::NotEnoughData`] with fewer than 2 positive finite voltages or no
    /// window of 10 rows; [`ParamError`] for bad options.
    pub fn analyze(&self, log: &BatteryLog, params: &AnalyzeParams) -> Result<DetectorReport> {
        params.check()?;
        let (spans, scale, rows) = featurize(log, params)?;
        let x = to_matrix(&rows);
        let proba = self.classifier.predict_proba(&x.view())?;
        let scores = self.anomaly.score_samples(&x.view())?;
        let offset = self.anomaly.offset();
        let classes = self.classifier.classes().to_vec();
        let mut windows = Vec::with_capacity(spans.len());
        for (k, span) in spans.into_iter().enumerate() {
            let mut probabilities: BTreeMap<FaultKind, f64> =
                FaultKind::ALL.iter().map(|c| (*c, 0.0)).collect();
            let (mut best, mut best_p) = (FaultKind::Normal, -1.0);
            for (j, &c) in classes.iter().enumerate() {
                let kind = FaultKind::ALL.get(c).copied().unwrap_or(FaultKind::Normal);
                let p = proba[[k, j]];
                probabilities.insert(kind, p);
                if p > best_p {
                    (best, best_p) = (kind, p);
                }
            }
            let f = &rows[k];
            let checks = features::data_checks(log, &scale, &span, f);
            let label = if checks.is_empty() { best } else { FaultKind::SensorFault };
            let soh = if f[6] >= 0.5 { f[6] } else { f64::NAN };
            windows.push(WindowReport {
                t_start_s: log.time_s[span.start_row],
                t_end_s: log.time_s[span.end_row.saturating_sub(1)],
                span,
                label,
                confidence: best_p,
                probabilities,
                anomaly_score: -scores[k],
                is_anomaly: scores[k] - offset < 0.0,
                data_checks: checks,
                soh,
                features: f.to_vec(),
            });
        }
        let summary = summarize(&windows, scale, params);
        Ok(DetectorReport {
            classes: FaultKind::ALL.to_vec(),
            feature_names: self.feature_names.clone(),
            windows,
            summary,
        })
    }
}

fn summarize(windows: &[WindowReport], scale: LogScale, params: &AnalyzeParams) -> DetectorSummary {
    let n = windows.len();
    let mut label_counts: BTreeMap<FaultKind, usize> = BTreeMap::new();
    let mut mean: BTreeMap<FaultKind, f64> = FaultKind::ALL.iter().map(|c| (*c, 0.0)).collect();
    let mut checks: Vec<String> = Vec::new();
    for w in windows {
        *label_counts.entry(w.label).or_default() += 1;
        for (c, p) in &w.probabilities {
            *mean.entry(*c).or_default() += p / n as f64;
        }
        for c in &w.data_checks {
            if !checks.contains(c) {
                checks.push(c.clone());
            }
        }
    }
    let verdict = label_counts
        .iter()
        .filter(|(k, _)| **k != FaultKind::Normal)
        .max_by_key(|(k, c)| (**c, std::cmp::Reverse(**k)))
        .filter(|(_, c)| 3 * **c >= n)
        .map_or(FaultKind::Normal, |(k, _)| *k);
    let soh_last = windows.iter().rev().map(|w| w.soh).find(|s| s.is_finite()).unwrap_or(f64::NAN);
    let records: Vec<CycleRecord> = windows
        .iter()
        .enumerate()
        .filter(|(_, w)| w.soh.is_finite())
        .map(|(k, w)| {
            let mut r = CycleRecord::empty(w.span.cycle.unwrap_or(k as u32 + 1));
            r.discharge_capacity_ah = w.soh * scale.nominal_capacity_ah;
            r
        })
        .collect();
    let rul = rul_from_records(records, Some(scale.nominal_capacity_ah), params.threshold_soh);
    DetectorSummary {
        n_windows: n,
        verdict,
        label_counts,
        anomalous_windows: windows.iter().filter(|w| w.is_anomaly).count(),
        max_anomaly_score: windows.iter().map(|w| w.anomaly_score).fold(0.0, f64::max),
        mean_probabilities: mean,
        soh_last,
        rul,
        scale,
        data_checks: checks,
    }
}

fn rul_from_records(records: Vec<CycleRecord>, nominal: Option<f64>, threshold: f64) -> Option<RulEstimate> {
    if records.len() < 3 {
        return None;
    }
    let summary = CycleSummary { cycles: records, ..CycleSummary::default() };
    let mut tp = TrendParams::default().select(CycleSelect::All).threshold_soh(threshold).fit_fraction(1.0);
    if let Some(q) = nominal {
        tp = tp.nominal_capacity_ah(q);
    }
    rul_from_trend(&summary, &tp)
}

fn rul_from_trend(summary: &CycleSummary, tp: &TrendParams) -> Option<RulEstimate> {
    let tr = soh_trend(summary, tp).ok()?;
    let fit = tr.best_fit()?;
    let last_cycle = tr.points.last()?.cycle;
    let n_fit_points = tr.points.iter().filter(|p| p.used_for_fit).count();
    Some(RulEstimate {
        model: serde_json::to_value(fit.model)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        threshold_soh: tr.threshold_soh,
        cycle_at_threshold: fit.cycle_at_threshold,
        cycle_lower: fit.cycle_lower,
        cycle_upper: fit.cycle_upper,
        interval_level: tp.check_ref().map(|p| p.interval_level()).unwrap_or(0.9),
        last_cycle,
        remaining_cycles: fit.cycle_at_threshold.map(|c| (c - f64::from(last_cycle)).max(0.0)),
        n_fit_points,
        holdout_soh_rmse: fit.holdout_rmse,
    })
}

/// SOH per capacity check and the cycle of SOH = `threshold_soh` from a per-cycle summary (for example
/// `io::read_summary_path` of a cycler's summary export), fitted on the first `fit_fraction` of the checks
/// (see [`crate::features::trend`] for the method: capacity check-ups selected automatically, three fade
/// models, lowest AICc, residual-bootstrap interval).
///
/// # Errors
/// [`FeatureError::NotEnoughData`] (fewer than 3 usable points) or a fit failure, as
/// [`crate::features::soh_trend`]; [`ParamError`] for bad parameters.
///
/// # Examples
/// ```
/// use battsentinel_core::data::{CycleRecord, CycleSummary};
/// use battsentinel_core::models::detector::soh_rul_from_summary;
/// let cycles = (0..8u32)
///     .map(|k| { let mut r = CycleRecord::empty(1 + 50 * k); r.discharge_capacity_ah = 2.0 - 0.01 * f64::from(k); r })
///     .collect();
/// let s = CycleSummary { cycles, ..Default::default() };
/// let rul = soh_rul_from_summary(&s, 0.8, 0.5)?;
/// let c = rul.cycle_at_threshold.unwrap();
/// assert!((c - 2001.0).abs() < 5.0, "{c}");
/// # Ok::<(), battsentinel_core::Error>(())
/// ```
pub fn soh_rul_from_summary(
    summary: &CycleSummary,
    threshold_soh: f64,
    fit_fraction: f64,
) -> Result<RulEstimate> {
    let tp = TrendParams::default().threshold_soh(threshold_soh).fit_fraction(fit_fraction);
    tp.check_ref()?;
    let tr = soh_trend(summary, &tp)?;
    let fit = tr.best_fit().ok_or(FeatureError::NotEnoughData {
        what: "SOH fade fit",
        needed: 3,
        found: tr.points.iter().filter(|p| p.used_for_fit).count(),
    })?;
    let _ = fit;
    rul_from_trend(summary, &tp).ok_or_else(|| {
        FeatureError::NotEnoughData { what: "SOH fade fit", needed: 3, found: tr.points.len() }.into()
    })
}

impl Persist for FaultDetector {
    const KIND: &'static str = "fault_detector";

    fn restore(&mut self) -> Result<(), ModelError> {
        self.classifier.restore()?;
        self.anomaly.restore()?;
        if self.feature_names.len() != N_FEATURES
            || self.classifier.n_features() != N_FEATURES
            || self.anomaly.n_features() != N_FEATURES
        {
            return Err(ModelError::Corrupt {
                reason: format!("a fault detector needs {N_FEATURES} features (this file has others)"),
            });
        }
        if self.classifier.classes().iter().any(|&c| c >= FaultKind::ALL.len()) {
            return Err(ModelError::Corrupt { reason: "class index outside the fault classes".to_string() });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autotraits() {
        fn ok<T: Send + Sync + Clone + std::fmt::Debug>() {}
        ok::<FaultDetector>();
        ok::<DetectorReport>();
    }

    #[test]
    fn windows_without_cycles_slide_by_half() {
        let mut log = BatteryLog::with_time((0..1000).map(|k| f64::from(k) * 60.0).collect());
        log.voltage_v = Some(vec![3.7; 1000]);
        log.current_a = Some(vec![0.0; 1000]);
        let w = features::windows(&log, 14_400.0, 10);
        assert_eq!(w[0].start_row, 0);
        assert_eq!(w[0].end_row, 240);
        assert_eq!(w[1].start_row, 120);
        assert_eq!(w.last().unwrap().end_row, 1000);
    }
}
