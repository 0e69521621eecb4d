//! `/api/batteries/{id}/data`: upload (a file in any format the readers accept, as multipart, or JSON
//! samples; one transaction with the alerts it raises, duplicates detected, quality report returned) and read
//! back (time range, channel selection, keyset pagination, downsampling).

use super::batteries::owned;
use super::{check_opt_text, check_text};
use crate::data::{BatteryLog, QualityIssue, QualityReport};
use crate::io::ReadOptions;
use crate::server::auth::AuthUser;
use crate::server::engine::{self, Recorded};
use crate::server::error::{from_rejection, ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::samples::{self, Range, CHANNELS};
use crate::server::state::AppState;
use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State};
use axum::http::{header, StatusCode};
use axum::routing::get;
use axum::Router;
use std::collections::BTreeMap;

/// One sample of a JSON upload. Missing channels may be omitted or `null`.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SampleIn {
    /// Time (s). Stored as given: use one time base per battery (for example Unix seconds).
    pub time_s: f64,
    /// Terminal voltage (V).
    pub voltage_v: Option<f64>,
    /// Current (A), positive = discharge.
    pub current_a: Option<f64>,
    /// Temperature (°C).
    pub temperature_c: Option<f64>,
    /// Cumulative charge capacity (Ah).
    pub charge_capacity_ah: Option<f64>,
    /// Cumulative discharge capacity (Ah).
    pub discharge_capacity_ah: Option<f64>,
    /// Cycle index.
    pub cycle_index: Option<u32>,
    /// Step index.
    pub step_index: Option<u32>,
    /// Further channels by name (for example `temperature_c:tab`, `soc`); `null` where missing.
    #[serde(default)]
    pub channels: BTreeMap<String, Option<f64>>,
}

/// A JSON upload.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SamplesIn {
    /// At least one sample.
    #[schema(min_items = 1)]
    pub samples: Vec<SampleIn>,
    /// Where the samples come from (free text, up to 200 characters).
    #[schema(max_length = 200)]
    pub source_name: Option<String>,
}

/// One group of rows the reader dropped or repaired.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct QualityIssueOut {
    /// Stable code (`unparseable`, `time_backwards`, …).
    pub code: String,
    /// Column concerned.
    pub column: Option<String>,
    /// `dropped_row`, `set_missing`, `repaired` or `flagged`.
    pub action: String,
    /// Rows concerned.
    pub count: u64,
    /// First source line (1-based).
    pub first_line: u64,
    /// Last source line (1-based).
    pub last_line: u64,
    /// Explanation with an example.
    pub detail: String,
}

/// The reader's quality report.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct QualityOut {
    /// Data rows found.
    pub rows_read: u64,
    /// Rows kept.
    pub rows_kept: u64,
    /// Issues by code and column.
    pub issues: Vec<QualityIssueOut>,
}

impl From<&QualityReport> for QualityOut {
    fn from(q: &QualityReport) -> Self {
        let issue = |i: &QualityIssue| QualityIssueOut {
            code: i.code.clone(),
            column: i.column.clone(),
            action: i.action.clone(),
            count: i.count as u64,
            first_line: i.first_line as u64,
            last_line: i.last_line as u64,
            detail: i.detail.clone(),
        };
        QualityOut {
            rows_read: q.rows_read as u64,
            rows_kept: q.rows_kept as u64,
            issues: q.issues.iter().map(issue).collect(),
        }
    }
}

/// What an upload stored.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct UploadOut {
    /// Id of the upload.
    pub upload_id: i64,
    /// Battery.
    pub battery_id: i64,
    /// Source format (`json` for JSON samples).
    pub format: String,
    /// Source name, if known.
    pub source_name: Option<String>,
    /// Samples in the upload.
    pub rows_received: u64,
    /// Samples stored.
    pub rows_inserted: u64,
    /// Samples skipped because the battery already has a sample at that time.
    pub duplicate_rows: u64,
    /// Seconds added to the file's `time_s` (its start time as Unix seconds; 0 when it has none).
    pub time_offset_s: f64,
    /// Channels stored besides the fixed ones (`temperature_c:<name>`, energies, extra channels).
    pub extra_channels: Vec<String>,
    /// Values stored for those channels.
    pub extra_values_inserted: u64,
    /// The reader's quality report: what was dropped or repaired, and why.
    pub quality: QualityOut,
    /// Alerts the rule engine raised, merged, escalated or cleared on this data.
    pub alerts: Recorded,
}

/// A multipart upload: the file (required) and an optional source name.
#[derive(Debug, utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct FileUpload {
    /// The file, in any format the readers accept (Arbin, Maccor, Neware, BioLogic, LANHE, generic CSV,
    /// XLSX, …); its name helps detection.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    /// Where the data comes from (default: the file name), up to 200 characters.
    #[schema(max_length = 200)]
    pub source_name: Option<String>,
}

fn log_from_json(body: &SamplesIn) -> BatteryLog {
    let s = &body.samples;
    let col = |f: fn(&SampleIn) -> Option<f64>| -> Option<Vec<f64>> {
        s.iter().any(|x| f(x).is_some()).then(|| s.iter().map(|x| f(x).unwrap_or(f64::NAN)).collect())
    };
    let icol = |f: fn(&SampleIn) -> Option<u32>| -> Option<Vec<Option<u32>>> {
        s.iter().any(|x| f(x).is_some()).then(|| s.iter().map(f).collect())
    };
    let mut log = BatteryLog::with_time(s.iter().map(|x| x.time_s).collect());
    log.voltage_v = col(|x| x.voltage_v);
    log.current_a = col(|x| x.current_a);
    if let Some(t) = col(|x| x.temperature_c) {
        log.temperatures_c.push(crate::data::Channel::new("temperature", "°C", t));
    }
    log.charge_capacity_ah = col(|x| x.charge_capacity_ah);
    log.discharge_capacity_ah = col(|x| x.discharge_capacity_ah);
    log.cycle_index = icol(|x| x.cycle_index);
    log.step_index = icol(|x| x.step_index);
    let mut names: Vec<&String> = s.iter().flat_map(|x| x.channels.keys()).collect();
    names.sort();
    names.dedup();
    for name in names {
        let values = s.iter().map(|x| x.channels.get(name).copied().flatten().unwrap_or(f64::NAN)).collect();
        match name.strip_prefix("temperature_c:") {
            Some(t) => log.temperatures_c.push(crate::data::Channel::new(t, "°C", values)),
            None => log.extra.push(crate::data::Channel::new(name.as_str(), "", values)),
        }
    }
    log.meta.format = "json".to_string();
    log.quality = QualityReport { rows_read: s.len(), rows_kept: s.len(), issues: vec![] };
    log
}

fn multipart_error(e: axum::extract::multipart::MultipartError, limit: usize) -> ApiError {
    from_rejection(e.status(), e.body_text(), "invalid_multipart", limit)
}

/// The file and source name of a multipart upload.
async fn read_multipart(
    req: Request,
    state: &AppState,
) -> Result<(String, Vec<u8>, Option<String>), ApiError> {
    let limit = state.config.max_upload_bytes;
    let mut mp = Multipart::from_request(req, state)
        .await
        .map_err(|r| from_rejection(r.status(), r.body_text(), "invalid_multipart", limit))?;
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut source: Option<String> = None;
    while let Some(field) = mp.next_field().await.map_err(|e| multipart_error(e, limit))? {
        let part = field.name().map(str::to_string);
        match part.as_deref() {
            Some("file") => {
                if file.is_some() {
                    return Err(ApiError::BadRequest {
                        code: "invalid_multipart",
                        message: "one `file` part per upload".into(),
                    });
                }
                let name = field.file_name().map(str::to_string).unwrap_or_default();
                let name =
                    check_opt_text("file.filename", Some(&name), 255)?.unwrap_or_else(|| "upload".into());
                let bytes = field.bytes().await.map_err(|e| multipart_error(e, limit))?;
                file = Some((name, bytes.to_vec()));
            }
            Some("source_name") => {
                let text = field.text().await.map_err(|e| multipart_error(e, limit))?;
                source = check_opt_text("source_name", Some(&text), 200)?;
            }
            other => {
                return Err(ApiError::BadRequest {
                    code: "invalid_multipart",
                    message: format!(
                        "unknown part `{}` (expected `file` and optional `source_name`)",
                        other.unwrap_or("")
                    ),
                })
            }
        }
    }
    let (name, bytes) = file.ok_or_else(|| ApiError::BadRequest {
        code: "invalid_multipart",
        message: "missing the `file` part".into(),
    })?;
    Ok((name, bytes, source))
}

/// Uploads data for one of the caller's batteries: a file in any format the readers accept
/// (`multipart/form-data` with a `file` part; its name helps format detection), or JSON samples. The upload
/// is one transaction, together with the alerts the rule engine raises on it: it lands whole or not at all.
/// Earlier data is kept (uploads append); samples at a time the battery already has are skipped and counted;
/// the same samples uploaded twice answer 409.
#[utoipa::path(post, path = "/api/batteries/{id}/data", tag = "data",
    params(("id" = i64, Path, description = "Battery id")),
    request_body(content(
        (SamplesIn = "application/json"),
        (FileUpload = "multipart/form-data"),
    )),
    security(("bearer" = [])),
    responses((status = 201, description = "Stored", body = UploadOut),
              (status = 400, description = "Malformed JSON, multipart or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 409, description = "Same samples already uploaded", body = ErrorBody),
              (status = 413, description = "Body larger than MAX_UPLOAD_BYTES", body = ErrorBody),
              (status = 415, description = "Unsupported content type", body = ErrorBody),
              (status = 422, description = "Invalid samples or unreadable file", body = ErrorBody)))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    req: Request,
) -> Result<(StatusCode, ApiJson<UploadOut>), ApiError> {
    let battery = owned(&state, &user, id).await?;
    let limit = state.config.max_upload_bytes as u64;
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let (log, source_name) = if content_type.starts_with("application/json") {
        let body = match ApiJson::<SamplesIn>::from_request(req, &state).await {
            Ok(ApiJson(b)) => b,
            Err(ApiError::PayloadTooLarge { .. }) => {
                return Err(ApiError::PayloadTooLarge { limit_bytes: limit })
            }
            Err(e) => return Err(e),
        };
        let source = check_opt_text("source_name", body.source_name.as_deref(), 200)?;
        for name in body.samples.iter().flat_map(|x| x.channels.keys()) {
            check_text("samples[].channels", name, 1, samples::MAX_CHANNEL_NAME)?;
        }
        (log_from_json(&body), source)
    } else if content_type.starts_with("multipart/form-data") {
        let (file_name, bytes, source) = read_multipart(req, &state).await?;
        let opts = ReadOptions { file_name: Some(file_name.clone()), ..ReadOptions::default() };
        let log = tokio::task::spawn_blocking(move || crate::io::read_bytes(&bytes, &opts))
            .await
            .map_err(|e| ApiError::Internal { detail: format!("reader task: {e}") })??;
        (log, Some(source.unwrap_or(file_name)))
    } else {
        return Err(ApiError::UnsupportedMediaType {
            message: "send a file as multipart/form-data (part `file`) or application/json samples"
                .to_string(),
        });
    };
    let parsed = std::time::Instant::now();
    let rules = engine::rule_set_for(&state.db, battery.id, battery.chemistry.as_deref()).await?;
    let battery_id = battery.id;
    let (log, rows, evaluated) = tokio::task::spawn_blocking(move || {
        let rows = samples::rows_from_log(&log)?;
        let evaluated = engine::evaluate(&rules, &log, battery_id, rows.offset_s)?;
        Ok::<_, ApiError>((log, rows, evaluated))
    })
    .await
    .map_err(|e| ApiError::Internal { detail: format!("evaluation task: {e}") })??;
    let evaluated_at = std::time::Instant::now();
    let stored = samples::store(
        &state.db,
        battery.id,
        user.id,
        &rows,
        source_name.as_deref(),
        &log.meta.format,
        &log.quality,
        &evaluated,
    )
    .await?;
    let received = rows.len() as u64;
    let store_s = evaluated_at.elapsed().as_secs_f64();
    tracing::info!(
        battery_id,
        upload_id = stored.upload_id,
        rows = received,
        rows_inserted = stored.rows_inserted,
        evaluate_ms = (evaluated_at - parsed).as_secs_f64() * 1e3,
        store_ms = store_s * 1e3,
        store_rows_per_s = received as f64 / store_s.max(1e-9),
        "upload stored"
    );
    Ok((
        StatusCode::CREATED,
        ApiJson(UploadOut {
            upload_id: stored.upload_id,
            battery_id: battery.id,
            format: log.meta.format.clone(),
            source_name,
            rows_received: received,
            rows_inserted: stored.rows_inserted,
            duplicate_rows: received - stored.rows_inserted,
            time_offset_s: rows.offset_s,
            extra_channels: rows.extras.iter().map(|e| e.name.clone()).collect(),
            extra_values_inserted: stored.extra_values_inserted,
            quality: QualityOut::from(&log.quality),
            alerts: stored.alerts,
        }),
    ))
}

/// Query of `GET /batteries/{id}/data`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct DataQuery {
    /// Earliest time (s), inclusive.
    pub from_s: Option<f64>,
    /// Latest time (s), inclusive.
    pub to_s: Option<f64>,
    /// Keyset cursor: only samples strictly after this time (use the previous page's `next_after_s`).
    pub after_s: Option<f64>,
    /// Comma-separated channels (default all): voltage_v, current_a, temperature_c, charge_capacity_ah,
    /// discharge_capacity_ah, cycle_index, step_index, and the battery's other stored channels
    /// (`temperature_c:<name>`, energies, extra channels; see `extra_channels` of an upload).
    pub channels: Option<String>,
    /// Page size, 1–10000 (default 1000). Ignored when downsampling.
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
    /// Downsample to at most this many points (1–10000): bucket means over the range.
    #[param(minimum = 1, maximum = 10000)]
    pub max_points: Option<u32>,
}

/// Samples in columns.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DataOut {
    /// Battery.
    pub battery_id: i64,
    /// Channels returned, in `series`.
    pub channels: Vec<String>,
    /// Time (s) of each point.
    pub time_s: Vec<f64>,
    /// One array per channel, aligned with `time_s`; `null` where missing.
    pub series: BTreeMap<String, Vec<Option<f64>>>,
    /// True when the points are bucket means.
    pub downsampled: bool,
    /// Cursor for the next page (`after_s`), or null on the last page.
    pub next_after_s: Option<f64>,
}

fn resolve(q: &DataQuery, known_extras: &[String]) -> Result<(Range, Vec<String>, u32), ApiError> {
    for (name, v) in [("from_s", q.from_s), ("to_s", q.to_s), ("after_s", q.after_s)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(ApiError::invalid(name, "must be a finite number"));
        }
    }
    if let (Some(a), Some(b)) = (q.from_s, q.to_s) {
        if a > b {
            return Err(ApiError::invalid("to_s", "must not be before from_s"));
        }
    }
    let mut names: Vec<String> = Vec::new();
    let mut channels = Vec::new();
    let mut extras = Vec::new();
    match q.channels.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => {
            channels = (0..CHANNELS.len()).collect();
            extras = known_extras.to_vec();
            names = CHANNELS.iter().map(|c| c.to_string()).chain(extras.iter().cloned()).collect();
        }
        Some(list) => {
            for name in list.split(',').map(str::trim) {
                if names.iter().any(|n| n == name) {
                    continue;
                }
                if let Some(i) = CHANNELS.iter().position(|c| *c == name) {
                    channels.push(i);
                } else if known_extras.iter().any(|e| e == name) {
                    extras.push(name.to_string());
                } else {
                    return Err(ApiError::invalid("channels", format!("unknown channel `{name}`")));
                }
                names.push(name.to_string());
            }
        }
    }
    let limit = q.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    if q.max_points.is_some_and(|m| !(1..=10_000).contains(&m)) {
        return Err(ApiError::invalid("max_points", "must be between 1 and 10000"));
    }
    if q.max_points.is_some() && q.after_s.is_some() {
        return Err(ApiError::invalid("after_s", "cannot be combined with max_points"));
    }
    Ok((Range { from_s: q.from_s, to_s: q.to_s, after_s: q.after_s, channels, extras }, names, limit))
}

/// Reads samples of one of the caller's batteries.
#[utoipa::path(get, path = "/api/batteries/{id}/data", tag = "data",
    params(("id" = i64, Path, description = "Battery id"), DataQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "Samples", body = DataOut),
              (status = 400, description = "Bad query or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 422, description = "Invalid query value", body = ErrorBody)))]
pub(crate) async fn read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DataQuery>,
) -> Result<ApiJson<DataOut>, ApiError> {
    let battery = owned(&state, &user, id).await?;
    let known: Vec<String> =
        samples::extra_channels(&state.db, battery.id).await?.into_iter().map(|(name, _)| name).collect();
    let (range, names, limit) = resolve(&q, &known)?;
    let (series, next, downsampled) = match q.max_points {
        Some(m) => (samples::read_downsampled(&state.db, battery.id, &range, m).await?, None, true),
        None => {
            let (s, more) = samples::read_page(&state.db, battery.id, &range, limit).await?;
            let next = if more { s.t_s.last().copied() } else { None };
            (s, next, false)
        }
    };
    let mut by_name: BTreeMap<String, Vec<Option<f64>>> = range
        .channels
        .iter()
        .map(|&c| CHANNELS[c].to_string())
        .zip(series.values)
        .chain(range.extras.iter().cloned().zip(series.extra_values))
        .collect();
    let series_map = names.iter().filter_map(|n| by_name.remove_entry(n)).collect();
    Ok(ApiJson(DataOut {
        battery_id: battery.id,
        series: series_map,
        channels: names,
        time_s: series.t_s,
        downsampled,
        next_after_s: next,
    }))
}

pub(crate) fn router(max_upload_bytes: usize) -> Router<AppState> {
    Router::new()
        .route("/batteries/{id}/data", get(read).post(upload).layer(DefaultBodyLimit::max(max_upload_bytes)))
}
