//! `/api/alerts`: the caller's alerts (filters: battery, severity, unread, source), manual alerts, mark as
//! read. Alerts with `source = "rule"` are raised by the rule engine when data arrives (see
//! `/api/batteries/{id}/rules`).

use super::batteries::owned;
use super::{check_text, PageQuery};
use crate::server::auth::AuthUser;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::{now_ms, rfc3339, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::Router;
use sqlx::Row;

/// Alert severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Severity {
    /// For information.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    fn parse(s: &str) -> Severity {
        match s {
            "critical" => Severity::Critical,
            "warning" => Severity::Warning,
            _ => Severity::Info,
        }
    }
}

/// Where an alert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AlertSource {
    /// Created through `POST /api/alerts`.
    Manual,
    /// Raised by the rule engine on uploaded data.
    Rule,
}

/// A manual alert.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AlertIn {
    /// One of the caller's batteries.
    pub battery_id: i64,
    /// Severity.
    pub severity: Severity,
    /// Short title, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Message, up to 2000 characters.
    #[schema(max_length = 2000)]
    pub message: Option<String>,
}

/// A stored alert.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct AlertOut {
    /// Id.
    pub id: i64,
    /// Battery.
    pub battery_id: i64,
    /// Severity.
    pub severity: Severity,
    /// Title.
    pub title: String,
    /// Message.
    pub message: String,
    /// `manual` (created through the API) or `rule` (raised by the rule engine on uploaded data).
    pub source: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// When it was marked read (RFC 3339), or null.
    pub read_at: Option<String>,
    /// Rule that raised it (rule alerts).
    pub rule_id: Option<String>,
    /// Dedup key: one open alert per key and battery (rule alerts).
    pub dedup_key: Option<String>,
    /// `cell`, `pack`, `sensor`, `model` or `twin` (rule alerts).
    pub category: Option<String>,
    /// Upload whose data raised it (rule alerts).
    pub upload_id: Option<i64>,
    /// Data time (s) when the condition began (rule alerts).
    pub onset_t_s: Option<f64>,
    /// Data time (s) when the condition cleared, or null while it holds (rule alerts).
    pub cleared_t_s: Option<f64>,
    /// Episodes counted on this alert (1 + episodes merged by cooldown and dedup).
    pub occurrences: i64,
    /// Values that triggered it (rule alerts).
    #[schema(value_type = Option<Vec<Object>>)]
    pub trigger_values: Option<serde_json::Value>,
}

/// One page of alerts.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct AlertPage {
    /// Alerts, newest first.
    pub items: Vec<AlertOut>,
    /// Page number (from 1).
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Matching alerts in total.
    pub total: i64,
}

/// Filters of `GET /alerts`.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertsQuery {
    /// Only this battery's alerts.
    pub battery_id: Option<i64>,
    /// Only this severity.
    pub severity: Option<Severity>,
    /// `true`: only unread alerts.
    pub unread: Option<bool>,
    /// Only alerts of this source: `manual` or `rule`.
    pub source: Option<AlertSource>,
    /// Page number, from 1 (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

macro_rules! columns {
    () => {
        "id, battery_id, severity, title, message, source, created_ms, read_ms, rule_id, dedup_key, category, \
         upload_id, onset_t_s, cleared_t_s, occurrences, trigger_json"
    };
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<AlertOut, sqlx::Error> {
    Ok(AlertOut {
        id: row.try_get("id")?,
        battery_id: row.try_get("battery_id")?,
        severity: Severity::parse(&row.try_get::<String, _>("severity")?),
        title: row.try_get("title")?,
        message: row.try_get("message")?,
        source: row.try_get("source")?,
        created_at: rfc3339(row.try_get("created_ms")?),
        read_at: row.try_get::<Option<i64>, _>("read_ms")?.map(rfc3339),
        rule_id: row.try_get("rule_id")?,
        dedup_key: row.try_get("dedup_key")?,
        category: row.try_get("category")?,
        upload_id: row.try_get("upload_id")?,
        onset_t_s: row.try_get("onset_t_s")?,
        cleared_t_s: row.try_get("cleared_t_s")?,
        occurrences: row.try_get("occurrences")?,
        trigger_values: row
            .try_get::<Option<String>, _>("trigger_json")?
            .and_then(|j| serde_json::from_str(&j).ok()),
    })
}

/// The caller's alerts, newest first.
#[utoipa::path(get, path = "/api/alerts", tag = "alerts", params(AlertsQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of alerts", body = AlertPage),
              (status = 400, description = "Bad query", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 422, description = "Invalid page", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AlertsQuery>,
) -> Result<ApiJson<AlertPage>, ApiError> {
    let (page, per_page, offset) = PageQuery { page: q.page, per_page: q.per_page }.resolve()?;
    let filter = "FROM alerts WHERE owner_id = $1 AND ($2 IS NULL OR battery_id = $2) \
                  AND ($3 IS NULL OR severity = $3) AND ($4 = 0 OR read_ms IS NULL) \
                  AND ($5 IS NULL OR source = $5)";
    let source = q.source.map(|s| match s {
        AlertSource::Manual => "manual",
        AlertSource::Rule => "rule",
    });
    let severity = q.severity.map(Severity::as_str);
    let unread = i64::from(q.unread.unwrap_or(false));
    let total: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n {filter}")))
        .bind(user.id)
        .bind(q.battery_id)
        .bind(severity)
        .bind(unread)
        .bind(source)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {} {filter} ORDER BY id DESC LIMIT $6 OFFSET $7",
        columns!()
    )))
    .bind(user.id)
    .bind(q.battery_id)
    .bind(severity)
    .bind(unread)
    .bind(source)
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    Ok(ApiJson(AlertPage { items, page, per_page, total }))
}

/// Creates an alert on one of the caller's batteries.
#[utoipa::path(post, path = "/api/alerts", tag = "alerts", request_body = AlertIn, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = AlertOut),
              (status = 400, description = "Malformed JSON", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 422, description = "Invalid field", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<AlertIn>,
) -> Result<(StatusCode, ApiJson<AlertOut>), ApiError> {
    let title = check_text("title", &body.title, 1, 200)?;
    let message = match body.message.as_deref() {
        None | Some("") => String::new(),
        Some(m) => check_text("message", m, 0, 2000)?,
    };
    let battery = owned(&state, &user, body.battery_id).await?;
    let row = sqlx::query(concat!(
        "INSERT INTO alerts (owner_id, battery_id, severity, title, message, source, created_ms) \
         VALUES ($1, $2, $3, $4, $5, 'manual', $6) RETURNING ",
        columns!()
    ))
    .bind(user.id)
    .bind(battery.id)
    .bind(body.severity.as_str())
    .bind(title)
    .bind(message)
    .bind(now_ms())
    .fetch_one(&state.db.pool)
    .await?;
    Ok((StatusCode::CREATED, ApiJson(from_row(&row)?)))
}

/// Marks one of the caller's alerts as read (idempotent: the first read time is kept).
#[utoipa::path(put, path = "/api/alerts/{id}/read", tag = "alerts", params(("id" = i64, Path, description = "Alert id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The alert", body = AlertOut),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such alert for this user", body = ErrorBody)))]
pub(crate) async fn mark_read(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<AlertOut>, ApiError> {
    let row = sqlx::query(concat!(
        "UPDATE alerts SET read_ms = COALESCE(read_ms, $1) WHERE id = $2 AND owner_id = $3 RETURNING ",
        columns!()
    ))
    .bind(now_ms())
    .bind(id)
    .bind(user.id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound { resource: "alert" })?;
    Ok(ApiJson(from_row(&row)?))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/alerts", get(list).post(create)).route("/alerts/{id}/read", put(mark_read))
}
