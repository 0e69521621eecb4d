//! `/api/digital-twin/{battery_id}`: equivalent-circuit simulations ([`crate::twin::simulate`]) run in the
//! background. The job and its result live in the `twin_jobs` table, so any instance answers the status of
//! a job another instance started. A job left `queued`/`running` by an instance that stopped is reported as
//! failed (`interrupted`) once it has not been updated for [`STALE_AFTER_MS`].

use super::batteries::owned;
use crate::server::auth::AuthUser;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::{now_ms, rfc3339, AppState, Db};
use crate::twin::{simulate as run_simulation, CellParams, CellValidParams, Protocol, Step, Trace};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sqlx::Row;

/// Most output samples one simulation may produce (its time budget over `dt_s`).
pub(crate) const MAX_TWIN_SAMPLES: f64 = 2_000_000.0;
/// Points of the trace kept in a result (evenly spaced, the last sample always included).
pub(crate) const RESULT_POINTS: usize = 1000;
/// A queued or running job not updated for this long is reported as interrupted.
pub(crate) const STALE_AFTER_MS: i64 = 15 * 60 * 1000;

/// A simulation request.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SimulateIn {
    /// The test protocol (`twin::Protocol`: `dt_s`, `initial = {soc, temperature_c}`, `limits`, `steps` with
    /// `kind` = `rest`, `cc`, `cv`, `cccv`, `power`, `pulses`, `hppc`, `drive_cycle` or `repeat`).
    #[schema(value_type = Object)]
    pub protocol: serde_json::Value,
    /// Cell parameters (`twin::CellParams`, SI units in the names); default PyBaMM's `ECM_Example` (100 Ah).
    #[schema(value_type = Option<Object>)]
    pub params: Option<serde_json::Value>,
}

/// Every trace column the result keeps, downsampled to at most 1000 points.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct TraceOut {
    /// Time (s).
    pub time_s: Vec<f64>,
    /// Current (A), positive = discharge.
    pub current_a: Vec<f64>,
    /// Terminal voltage (V).
    pub voltage_v: Vec<f64>,
    /// State of charge (fraction).
    pub soc: Vec<f64>,
    /// Cell temperature (°C).
    pub t_cell_c: Vec<f64>,
}

/// Result of a finished simulation.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct TwinResult {
    /// Why the run ended (`duration`, `voltage_below`, `voltage_above`, `soc_below`, …).
    pub end_reason: String,
    /// Simulated time (s).
    pub duration_s: f64,
    /// Output samples of the full trace.
    pub samples: u64,
    /// SoC at the end.
    pub final_soc: f64,
    /// Lowest terminal voltage (V).
    pub min_voltage_v: f64,
    /// Highest terminal voltage (V).
    pub max_voltage_v: f64,
    /// Highest cell temperature (°C).
    pub max_t_cell_c: f64,
    /// Net charge delivered (Ah, positive = discharged), trapezoidal.
    pub discharged_ah: f64,
    /// Net energy delivered (Wh, positive = discharged), trapezoidal.
    pub discharged_wh: f64,
    /// Wall-clock time of the simulation (ms).
    pub compute_ms: f64,
    /// The trace, at most 1000 points.
    pub trace: TraceOut,
}

/// A simulation job.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct JobOut {
    /// Job id.
    pub job_id: i64,
    /// Battery.
    pub battery_id: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub status: String,
    /// 0 until the job ends, then 1 (the simulator runs as one piece).
    pub progress: f64,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last status change (RFC 3339).
    pub updated_at: String,
    /// Why it failed (`failed` only).
    pub error: Option<ErrorBody>,
    /// The result (`done` only).
    pub result: Option<TwinResult>,
}

/// Query of the status endpoint.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct StatusQuery {
    /// A job of this battery (default: its latest job).
    pub job_id: Option<i64>,
}

fn path_error(field: &str, e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let field = if path == "." { field.to_string() } else { format!("{field}.{path}") };
    ApiError::invalid(field, e.inner().to_string())
}

/// Upper bound of the simulated time of `steps` (s); infinite when a step cannot end.
fn budget_s(steps: &[Step], capacity_ah: f64) -> f64 {
    steps
        .iter()
        .map(|s| match s {
            Step::Rest { duration_s, .. }
            | Step::Cc { duration_s, .. }
            | Step::Cv { duration_s, .. }
            | Step::Power { duration_s, .. } => *duration_s,
            Step::Cccv { duration_s, .. } => 2.0 * duration_s,
            Step::Pulses { pulse_s, rest_s, count, .. } => f64::from(*count) * (pulse_s + rest_s),
            Step::Hppc { pulse_s, pulse_rest_s, discharge_current_a, soc_step, rest_s, levels, .. } => {
                let drop_s = soc_step * 3600.0 * capacity_ah / discharge_current_a.abs();
                f64::from(*levels) * (2.0 * pulse_s + pulse_rest_s + drop_s + rest_s)
            }
            Step::DriveCycle { profile, .. } => profile.time_s.last().copied().unwrap_or(0.0),
            Step::Repeat { count, steps } => f64::from(*count) * budget_s(steps, capacity_ah),
        })
        .map(|d| if d.is_finite() { d.max(0.0) } else { f64::INFINITY })
        .sum()
}

fn parse_request(body: SimulateIn) -> Result<(CellValidParams, Protocol), ApiError> {
    let protocol: Protocol =
        serde_path_to_error::deserialize(body.protocol).map_err(|e| path_error("protocol", e))?;
    let params: CellParams = match body.params {
        None => CellParams::ecm_example(),
        Some(v) => serde_path_to_error::deserialize(v).map_err(|e| path_error("params", e))?,
    };
    let capacity_ah = params.capacity_ah;
    let params = params.check()?;
    if !(protocol.dt_s.is_finite() && protocol.dt_s > 0.0) {
        return Err(ApiError::invalid("protocol.dt_s", "must be a positive number"));
    }
    let mut budget = budget_s(&protocol.steps, capacity_ah);
    if let Some(t) = protocol.limits.time_s.filter(|t| t.is_finite() && *t >= 0.0) {
        budget = budget.min(t);
    }
    if budget / protocol.dt_s > MAX_TWIN_SAMPLES {
        return Err(ApiError::invalid(
            "protocol",
            format!("the run may last {budget:.0} s, over {MAX_TWIN_SAMPLES} samples of dt_s; shorten it or raise dt_s"),
        ));
    }
    Ok((params, protocol))
}

fn integrate(t: &[f64], y: impl Fn(usize) -> f64) -> f64 {
    (1..t.len()).map(|i| 0.5 * (y(i) + y(i - 1)) * (t[i] - t[i - 1])).sum()
}

fn summarize(trace: &Trace, compute_ms: f64) -> TwinResult {
    let n = trace.len();
    let stride = n.div_ceil(RESULT_POINTS).max(1);
    let mut keep: Vec<usize> = (0..n).step_by(stride).collect();
    if n > 0 && keep.last() != Some(&(n - 1)) {
        keep.push(n - 1);
    }
    let pick = |c: &[f64]| keep.iter().map(|&i| c[i]).collect::<Vec<_>>();
    let fold = |c: &[f64], f: fn(f64, f64) -> f64, init: f64| c.iter().copied().fold(init, f);
    let t = &trace.time_s;
    TwinResult {
        end_reason: serde_json::to_value(trace.end_reason)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default(),
        duration_s: match (t.first(), t.last()) {
            (Some(a), Some(b)) => b - a,
            _ => 0.0,
        },
        samples: n as u64,
        final_soc: trace.soc.last().copied().unwrap_or(f64::NAN),
        min_voltage_v: fold(&trace.voltage_v, f64::min, f64::INFINITY),
        max_voltage_v: fold(&trace.voltage_v, f64::max, f64::NEG_INFINITY),
        max_t_cell_c: fold(&trace.t_cell_c, f64::max, f64::NEG_INFINITY),
        discharged_ah: integrate(t, |i| trace.current_a[i]) / 3600.0,
        discharged_wh: integrate(t, |i| trace.current_a[i] * trace.voltage_v[i]) / 3600.0,
        compute_ms,
        trace: TraceOut {
            time_s: pick(&trace.time_s),
            current_a: pick(&trace.current_a),
            voltage_v: pick(&trace.voltage_v),
            soc: pick(&trace.soc),
            t_cell_c: pick(&trace.t_cell_c),
        },
    }
}

async fn set_status(db: &Db, id: i64, status: &str, progress: f64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE twin_jobs SET status = $1, progress = $2, updated_ms = $3 WHERE id = $4")
        .bind(status)
        .bind(progress)
        .bind(now_ms())
        .bind(id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Runs one job to its end and records the outcome.
async fn run_job(db: Db, id: i64, params: CellValidParams, protocol: Protocol) -> Result<(), sqlx::Error> {
    set_status(&db, id, "running", 0.0).await?;
    let outcome = tokio::task::spawn_blocking(move || {
        let start = std::time::Instant::now();
        run_simulation(&params, &protocol).map(|trace| summarize(&trace, start.elapsed().as_secs_f64() * 1e3))
    })
    .await;
    let (status, result, code, message) = match outcome {
        Ok(Ok(result)) => match serde_json::to_string(&result) {
            Ok(json) => ("done", Some(json), None, None),
            Err(e) => ("failed", None, Some("internal"), Some(format!("result json: {e}"))),
        },
        Ok(Err(e)) => ("failed", None, Some(e.code()), Some(e.to_string())),
        Err(e) => {
            tracing::error!(job = id, error = %e, "twin job panicked");
            ("failed", None, Some("internal"), Some("the simulation failed".to_string()))
        }
    };
    sqlx::query(
        "UPDATE twin_jobs SET status = $1, progress = 1.0, result_json = $2, error_code = $3, error = $4, \
         updated_ms = $5 WHERE id = $6",
    )
    .bind(status)
    .bind(result)
    .bind(code)
    .bind(message)
    .bind(now_ms())
    .bind(id)
    .execute(&db.pool)
    .await?;
    Ok(())
}

const JOB_COLUMNS: &str =
    "id, battery_id, status, progress, result_json, error_code, error, created_ms, updated_ms";

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<JobOut, ApiError> {
    let status: String = row.try_get("status")?;
    let result = match row.try_get::<Option<String>, _>("result_json")? {
        Some(j) => Some(
            serde_json::from_str(&j)
                .map_err(|e| ApiError::Internal { detail: format!("twin result json: {e}") })?,
        ),
        None => None,
    };
    let error =
        match (row.try_get::<Option<String>, _>("error_code")?, row.try_get::<Option<String>, _>("error")?) {
            (Some(code), message) => Some(ErrorBody { code, message: message.unwrap_or_default() }),
            _ => None,
        };
    Ok(JobOut {
        job_id: row.try_get("id")?,
        battery_id: row.try_get("battery_id")?,
        status,
        progress: row.try_get("progress")?,
        created_at: rfc3339(row.try_get("created_ms")?),
        updated_at: rfc3339(row.try_get("updated_ms")?),
        error,
        result,
    })
}

/// Starts a simulation of the twin of one of the caller's batteries; it runs in the background. Poll
/// `GET /api/digital-twin/{battery_id}/status` for its progress and result.
#[utoipa::path(post, path = "/api/digital-twin/{battery_id}/simulate", tag = "twin",
    params(("battery_id" = i64, Path, description = "Battery id")),
    request_body = SimulateIn, security(("bearer" = [])),
    responses((status = 202, description = "Accepted; the job runs in the background", body = JobOut),
              (status = 400, description = "Malformed JSON or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 422, description = "Invalid protocol or parameters", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn simulate(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(battery_id): ApiPath<i64>,
    ApiJson(body): ApiJson<SimulateIn>,
) -> Result<(StatusCode, ApiJson<JobOut>), ApiError> {
    let battery = owned(&state, &user, battery_id).await?;
    let request = serde_json::json!({"protocol": body.protocol, "params": body.params}).to_string();
    let (params, protocol) = tokio::task::spawn_blocking(move || parse_request(body))
        .await
        .map_err(|e| ApiError::Internal { detail: format!("twin request task: {e}") })??;
    let now = now_ms();
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO twin_jobs (battery_id, status, progress, request_json, created_ms, updated_ms) \
         VALUES ($1, 'queued', 0.0, $2, $3, $3) RETURNING {JOB_COLUMNS}"
    )))
    .bind(battery.id)
    .bind(request)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?;
    let job = job_from_row(&row)?;
    let db = state.db.clone();
    let id = job.job_id;
    tokio::spawn(async move {
        if let Err(e) = run_job(db, id, params, protocol).await {
            tracing::error!(job = id, error = %e, "twin job could not record its outcome");
        }
    });
    Ok((StatusCode::ACCEPTED, ApiJson(job)))
}

/// Status, progress and result of the latest (or the given) simulation of one of the caller's batteries.
#[utoipa::path(get, path = "/api/digital-twin/{battery_id}/status", tag = "twin",
    params(("battery_id" = i64, Path, description = "Battery id"), StatusQuery),
    security(("bearer" = [])),
    responses((status = 200, description = "The job", body = JobOut),
              (status = 400, description = "Bad id or query", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery or job for this user", body = ErrorBody)))]
pub(crate) async fn status(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(battery_id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> Result<ApiJson<JobOut>, ApiError> {
    let battery = owned(&state, &user, battery_id).await?;
    let stale_before = now_ms() - STALE_AFTER_MS;
    sqlx::query(
        "UPDATE twin_jobs SET status = 'failed', progress = 1.0, error_code = 'interrupted', \
         error = 'the server running this job stopped; start it again', updated_ms = $1 \
         WHERE battery_id = $2 AND status IN ('queued', 'running') AND updated_ms < $3",
    )
    .bind(now_ms())
    .bind(battery.id)
    .bind(stale_before)
    .execute(&state.db.pool)
    .await?;
    let row = match q.job_id {
        Some(job) => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM twin_jobs WHERE battery_id = $1 AND id = $2"
            )))
            .bind(battery.id)
            .bind(job)
            .fetch_optional(&state.db.pool)
            .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {JOB_COLUMNS} FROM twin_jobs WHERE battery_id = $1 ORDER BY id DESC LIMIT 1"
            )))
            .bind(battery.id)
            .fetch_optional(&state.db.pool)
            .await?
        }
    };
    let row = row.ok_or(ApiError::NotFound { resource: "twin job" })?;
    Ok(ApiJson(job_from_row(&row)?))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/digital-twin/{battery_id}/simulate", post(simulate))
        .route("/digital-twin/{battery_id}/status", get(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_bounds_composite_steps() {
        let p: Protocol = serde_json::from_value(serde_json::json!({
            "initial": {"soc": 0.9},
            "steps": [
                {"kind": "cc", "current_a": 10.0, "duration_s": 100.0},
                {"kind": "repeat", "count": 3, "steps": [
                    {"kind": "pulses", "current_a": 5.0, "pulse_s": 10.0, "rest_s": 20.0, "count": 2}]}
            ]
        }))
        .unwrap();
        assert_eq!(budget_s(&p.steps, 100.0), 100.0 + 3.0 * 2.0 * 30.0);
    }

    #[test]
    fn too_long_runs_are_refused() {
        let body = SimulateIn {
            protocol: serde_json::json!({"dt_s": 0.001, "initial": {"soc": 0.9},
                "steps": [{"kind": "rest", "duration_s": 1e7}]}),
            params: None,
        };
        assert!(matches!(parse_request(body), Err(ApiError::Invalid { .. })));
        let bad =
            SimulateIn { protocol: serde_json::json!({"initial": {"soc": "x"}, "steps": []}), params: None };
        match parse_request(bad) {
            Err(ApiError::Invalid { field, .. }) => assert_eq!(field, "protocol.initial.soc"),
            other => panic!("{other:?}"),
        }
    }
}
