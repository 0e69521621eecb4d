//! `/api/ai`: fault analysis of a battery's stored data with the default fault detector
//! ([`crate::models::detector::FaultDetector`]: per-window fault probabilities, anomaly score, SOH and RUL),
//! stored in `analyses`; and explanations of a stored analysis (exact TreeSHAP and LIME of the window
//! classifier, with SVG plots), computed on first request and stored with it.

use super::batteries::owned;
use crate::explain::{plot, Background, LimeParams, LimeTabular, TreeEnsemble, TreeExplainer};
use crate::models::detector::{AnalyzeParams, DetectorReport, FaultDetector};
use crate::server::auth::AuthUser;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::samples::{self, Range};
use crate::server::state::{now_ms, rfc3339, AppState};
use crate::BatteryLog;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use ndarray::{Array1, Array2};
use sqlx::Row;
use std::collections::BTreeMap;

/// Most samples one analysis reads (narrow the time range for more).
pub(crate) const MAX_ANALYSIS_SAMPLES: u32 = 2_000_000;
/// Name of the model stored with each analysis.
const MODEL: &str = "fault_detector:default";

/// Time range of an analysis.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AnalyzeQuery {
    /// Earliest sample time (s), inclusive.
    pub from_s: Option<f64>,
    /// Latest sample time (s), inclusive.
    pub to_s: Option<f64>,
}

/// One window of an analysis.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct WindowOut {
    /// Start (s, stored time base).
    pub t_start_s: f64,
    /// End (s).
    pub t_end_s: f64,
    /// Cycle of the window, when windows are cycles.
    pub cycle: Option<u32>,
    /// Most likely class (`sensor_fault` when a data check fails).
    pub label: String,
    /// Probability of the most likely class.
    pub confidence: f64,
    /// Probability per fault class.
    pub probabilities: BTreeMap<String, f64>,
    /// Anomaly score (higher = more anomalous).
    pub anomaly_score: f64,
    /// True when the anomaly model flags the window.
    pub is_anomaly: bool,
    /// Failed data checks.
    pub data_checks: Vec<String>,
    /// State of health (fraction), when measurable.
    pub soh: Option<f64>,
}

/// A stored analysis.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct AnalysisOut {
    /// Id (for `GET /api/ai/explain/{analysis_id}`).
    pub analysis_id: i64,
    /// Battery.
    pub battery_id: i64,
    /// Model used.
    pub model: String,
    /// Samples analysed.
    pub samples_used: i64,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Overall verdict (most frequent window label).
    pub verdict: String,
    /// Mean probability per fault class over the windows.
    pub fault_probabilities: BTreeMap<String, f64>,
    /// Highest window anomaly score.
    pub anomaly_score: f64,
    /// Windows flagged as anomalous.
    pub anomalous_windows: u64,
    /// Latest measurable state of health (fraction).
    pub soh: Option<f64>,
    /// Remaining useful life estimate (cycles to the SOH threshold), when the data allow one.
    #[schema(value_type = Option<Object>)]
    pub rul: Option<serde_json::Value>,
    /// Failed data checks over all windows.
    pub data_checks: Vec<String>,
    /// Per-window diagnosis.
    pub windows: Vec<WindowOut>,
}

/// SHAP attribution of the explained window.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ShapOut {
    /// Expected value of the explained class probability over the background.
    pub base_value: f64,
    /// The class probability at the window.
    pub model_output: f64,
    /// Attribution per feature (sums to `model_output − base_value`).
    pub values: Vec<f64>,
}

/// One LIME weight.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct LimeWeight {
    /// Feature.
    pub feature: String,
    /// The condition the instance meets (its bin).
    pub condition: String,
    /// Weight in the local surrogate.
    pub weight: f64,
}

/// LIME surrogate of the explained window.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct LimeOut {
    /// Surrogate intercept.
    pub intercept: f64,
    /// R² of the surrogate on the neighbourhood.
    pub score: f64,
    /// Surrogate prediction at the instance.
    pub local_pred: f64,
    /// Weights, largest magnitude first.
    pub weights: Vec<LimeWeight>,
}

/// Explanation of one analysis.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct ExplainOut {
    /// Analysis.
    pub analysis_id: i64,
    /// Index of the explained window (the one where the verdict class is most probable).
    pub window: u64,
    /// Explained class (the verdict, or the window's top class when the verdict is not a classifier class).
    pub class: String,
    /// Feature names, aligned with `shap.values`.
    pub feature_names: Vec<String>,
    /// Feature values of the window (missing values replaced by the column mean over the windows).
    pub instance: Vec<f64>,
    /// Exact interventional TreeSHAP against the analysis' windows.
    pub shap: ShapOut,
    /// LIME (seed 0, 2000 samples) fitted on the analysis' windows.
    pub lime: LimeOut,
    /// SHAP waterfall plot (SVG).
    pub shap_svg: String,
    /// LIME bar plot (SVG).
    pub lime_svg: String,
}

fn core(e: impl Into<crate::Error>) -> ApiError {
    ApiError::Analysis(e.into())
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// The battery's samples in range as a log (time relative to the first sample).
async fn load_log(state: &AppState, battery_id: i64, q: &AnalyzeQuery) -> Result<BatteryLog, ApiError> {
    for (name, v) in [("from_s", q.from_s), ("to_s", q.to_s)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(ApiError::invalid(name, "must be a finite number"));
        }
    }
    let range = Range {
        from_s: q.from_s,
        to_s: q.to_s,
        after_s: None,
        channels: (0..samples::CHANNELS.len()).collect(),
        extras: vec![],
    };
    let (series, more) = samples::read_page(&state.db, battery_id, &range, MAX_ANALYSIS_SAMPLES).await?;
    if more {
        return Err(ApiError::invalid(
            "to_s",
            format!("more than {MAX_ANALYSIS_SAMPLES} samples in range; narrow from_s/to_s"),
        ));
    }
    if series.t_s.is_empty() {
        return Err(ApiError::invalid("battery", "no samples in range; upload data first"));
    }
    let t0 = series.t_s[0];
    let mut log = BatteryLog::with_time(series.t_s.iter().map(|t| t - t0).collect());
    let col = |k: usize| -> Option<Vec<f64>> {
        let c = &series.values[k];
        c.iter().any(Option::is_some).then(|| c.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    };
    let icol = |k: usize| -> Option<Vec<Option<u32>>> {
        let c = &series.values[k];
        c.iter()
            .any(Option::is_some)
            .then(|| c.iter().map(|v| v.and_then(|x| u32::try_from(x as i64).ok())).collect())
    };
    log.voltage_v = col(0);
    log.current_a = col(1);
    if let Some(t) = col(2) {
        log.temperatures_c.push(crate::data::Channel::new("temperature", "°C", t));
    }
    log.charge_capacity_ah = col(3);
    log.discharge_capacity_ah = col(4);
    log.cycle_index = icol(5);
    log.step_index = icol(6);
    Ok(log)
}

fn analysis_out(
    id: i64,
    battery_id: i64,
    samples_used: i64,
    created_ms: i64,
    r: &DetectorReport,
) -> Result<AnalysisOut, ApiError> {
    let s = &r.summary;
    let probs = |m: &BTreeMap<crate::twin::faults::FaultKind, f64>| -> BTreeMap<String, f64> {
        m.iter().map(|(k, v)| (k.as_str().to_string(), *v)).collect()
    };
    Ok(AnalysisOut {
        analysis_id: id,
        battery_id,
        model: MODEL.to_string(),
        samples_used,
        created_at: rfc3339(created_ms),
        verdict: s.verdict.as_str().to_string(),
        fault_probabilities: probs(&s.mean_probabilities),
        anomaly_score: finite(s.max_anomaly_score).unwrap_or(0.0),
        anomalous_windows: s.anomalous_windows as u64,
        soh: finite(s.soh_last),
        rul: match &s.rul {
            Some(rul) => Some(
                serde_json::to_value(rul)
                    .map_err(|e| ApiError::Internal { detail: format!("rul json: {e}") })?,
            ),
            None => None,
        },
        data_checks: s.data_checks.clone(),
        windows: r
            .windows
            .iter()
            .map(|w| WindowOut {
                t_start_s: w.t_start_s,
                t_end_s: w.t_end_s,
                cycle: w.span.cycle,
                label: w.label.as_str().to_string(),
                confidence: w.confidence,
                probabilities: probs(&w.probabilities),
                anomaly_score: finite(w.anomaly_score).unwrap_or(0.0),
                is_anomaly: w.is_anomaly,
                data_checks: w.data_checks.clone(),
                soh: finite(w.soh),
            })
            .collect(),
    })
}

/// Analyses one of the caller's batteries over its stored samples (optionally a time range) with the default
/// fault detector, and stores the result.
#[utoipa::path(post, path = "/api/ai/analyze/{battery_id}", tag = "ai",
    params(("battery_id" = i64, Path, description = "Battery id"), AnalyzeQuery),
    security(("bearer" = [])),
    responses((status = 201, description = "Stored analysis", body = AnalysisOut),
              (status = 400, description = "Bad id or query", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 422, description = "No or unusable data in range", body = ErrorBody)))]
pub(crate) async fn analyze(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(battery_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<AnalyzeQuery>,
) -> Result<(StatusCode, ApiJson<AnalysisOut>), ApiError> {
    let battery = owned(&state, &user, battery_id).await?;
    let log = load_log(&state, battery.id, &q).await?;
    let samples_used = i64::try_from(log.len()).unwrap_or(i64::MAX);
    let params =
        AnalyzeParams { nominal_capacity_ah: battery.nominal_capacity_ah, ..AnalyzeParams::default() };
    let report = tokio::task::spawn_blocking(move || {
        FaultDetector::default_detector().and_then(|d| d.analyze(&log, &params))
    })
    .await
    .map_err(|e| ApiError::Internal { detail: format!("analysis task: {e}") })?
    .map_err(core)?;
    let json = serde_json::to_string(&report)
        .map_err(|e| ApiError::Internal { detail: format!("report json: {e}") })?;
    let now = now_ms();
    let id: i64 = sqlx::query(
        "INSERT INTO analyses (battery_id, model, samples_used, result_json, created_ms) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(battery.id)
    .bind(MODEL)
    .bind(samples_used)
    .bind(json)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?
    .try_get("id")?;
    Ok((StatusCode::CREATED, ApiJson(analysis_out(id, battery.id, samples_used, now, &report)?)))
}

/// SHAP and LIME for a stored report (CPU-bound).
fn explain_report(analysis_id: i64, r: &DetectorReport) -> Result<ExplainOut, ApiError> {
    let detector = FaultDetector::default_detector().map_err(core)?;
    let n = r.windows.len();
    if n < 2 {
        return Err(ApiError::invalid(
            "analysis",
            "an explanation needs at least 2 windows (cycles) as background; analyse a longer range",
        ));
    }
    let p = detector.feature_names().len();
    let mut x = Array2::<f64>::zeros((n, p));
    for (i, w) in r.windows.iter().enumerate() {
        for j in 0..p {
            x[[i, j]] = w.features.get(j).copied().unwrap_or(f64::NAN);
        }
    }
    for j in 0..p {
        let vals: Vec<f64> = x.column(j).iter().copied().filter(|v| v.is_finite()).collect();
        let mean = if vals.is_empty() { 0.0 } else { vals.iter().sum::<f64>() / vals.len() as f64 };
        x.column_mut(j).mapv_inplace(|v| if v.is_finite() { v } else { mean });
    }
    let classes: Vec<crate::twin::faults::FaultKind> = detector.classes();
    let verdict = r.summary.verdict;
    let (output, window) = match classes.iter().position(|c| *c == verdict) {
        Some(j) => {
            let best = r
                .windows
                .iter()
                .enumerate()
                .max_by(|a, b| {
                    let pa = a.1.probabilities.get(&verdict).copied().unwrap_or(0.0);
                    let pb = b.1.probabilities.get(&verdict).copied().unwrap_or(0.0);
                    pa.total_cmp(&pb)
                })
                .map_or(0, |(i, _)| i);
            (j, best)
        }
        None => {
            let best = r
                .windows
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.confidence.total_cmp(&b.1.confidence))
                .map_or(0, |(i, _)| i);
            let label = r.windows[best].label;
            (classes.iter().position(|c| *c == label).unwrap_or(0), best)
        }
    };
    let names = detector.feature_names().to_vec();
    let instance: Array1<f64> = x.row(window).to_owned();
    let ensemble = TreeEnsemble::try_from(detector.classifier()).map_err(core)?;
    let background = Background::new(x.clone()).map_err(core)?;
    let shap = TreeExplainer::new(&ensemble, &background)
        .and_then(|e| e.with_feature_names(names.clone()))
        .and_then(|e| e.explain(instance.view()))
        .map_err(core)?;
    let lime = LimeTabular::fit(x.view(), names.clone(), &LimeParams::default().seed(0).num_samples(2000))
        .and_then(|l| l.explain(instance.view(), &ensemble, &[output]))
        .map_err(core)?;
    let shap_svg = plot::waterfall_svg(&shap, output, 12).map_err(core)?;
    let lime_svg = plot::lime_bar_svg(&lime);
    let local = lime.models.first().ok_or_else(|| ApiError::Internal { detail: "lime: no model".into() })?;
    Ok(ExplainOut {
        analysis_id,
        window: window as u64,
        class: classes.get(output).map_or("normal", |c| c.as_str()).to_string(),
        feature_names: names.clone(),
        instance: instance.to_vec(),
        shap: ShapOut {
            base_value: shap.base_values.get(output).copied().unwrap_or(0.0),
            model_output: shap.model_output.get(output).copied().unwrap_or(0.0),
            values: shap.output_values(output),
        },
        lime: LimeOut {
            intercept: local.intercept,
            score: local.score,
            local_pred: local.local_pred,
            weights: local
                .local_exp
                .iter()
                .map(|&(f, w)| LimeWeight {
                    feature: names.get(f).cloned().unwrap_or_default(),
                    condition: lime.feature_labels.get(f).cloned().unwrap_or_default(),
                    weight: w,
                })
                .collect(),
        },
        shap_svg,
        lime_svg,
    })
}

/// SHAP and LIME explanations (with SVG plots) of one of the caller's stored analyses: why the window
/// classifier gave the verdict class on the window where it is most probable. Computed on first request,
/// then stored.
#[utoipa::path(get, path = "/api/ai/explain/{analysis_id}", tag = "ai",
    params(("analysis_id" = i64, Path, description = "Analysis id")),
    security(("bearer" = [])),
    responses((status = 200, description = "Explanation", body = ExplainOut),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such analysis for this user", body = ErrorBody),
              (status = 422, description = "The analysis cannot be explained (fewer than 2 windows)", body = ErrorBody)))]
pub(crate) async fn explain(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(analysis_id): ApiPath<i64>,
) -> Result<ApiJson<ExplainOut>, ApiError> {
    let row = sqlx::query(
        "SELECT a.result_json, a.explanation_json FROM analyses a JOIN batteries b ON b.id = a.battery_id \
         WHERE a.id = $1 AND b.owner_id = $2",
    )
    .bind(analysis_id)
    .bind(user.id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound { resource: "analysis" })?;
    if let Some(cached) = row.try_get::<Option<String>, _>("explanation_json")? {
        let out = serde_json::from_str(&cached)
            .map_err(|e| ApiError::Internal { detail: format!("stored explanation json: {e}") })?;
        return Ok(ApiJson(out));
    }
    let report: DetectorReport = serde_json::from_str(&row.try_get::<String, _>("result_json")?)
        .map_err(|e| ApiError::Internal { detail: format!("stored report json: {e}") })?;
    let out = tokio::task::spawn_blocking(move || explain_report(analysis_id, &report))
        .await
        .map_err(|e| ApiError::Internal { detail: format!("explain task: {e}") })??;
    let json = serde_json::to_string(&out)
        .map_err(|e| ApiError::Internal { detail: format!("explanation json: {e}") })?;
    sqlx::query("UPDATE analyses SET explanation_json = $1 WHERE id = $2")
        .bind(json)
        .bind(analysis_id)
        .execute(&state.db.pool)
        .await?;
    Ok(ApiJson(out))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/ai/analyze/{battery_id}", post(analyze))
        .route("/ai/explain/{analysis_id}", get(explain))
}
