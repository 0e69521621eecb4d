//! `/api/batteries`: the caller's batteries, paginated. Another user's battery answers 404, as a missing one.

use super::{check_opt_positive, check_opt_text, check_text, PageQuery};
use crate::server::auth::AuthUser;
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::{now_ms, rfc3339, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sqlx::Row;

/// A battery as sent by the client (create and full update).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BatteryIn {
    /// Display name, 1–200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Chemistry (for example `NMC`, `LFP`), up to 64 characters.
    #[schema(max_length = 64)]
    pub chemistry: Option<String>,
    /// Serial number, up to 128 characters.
    #[schema(max_length = 128)]
    pub serial_number: Option<String>,
    /// Rated capacity (Ah), > 0.
    #[schema(exclusive_minimum = 0.0)]
    pub nominal_capacity_ah: Option<f64>,
    /// Nominal voltage (V), > 0.
    #[schema(exclusive_minimum = 0.0)]
    pub nominal_voltage_v: Option<f64>,
}

/// A stored battery.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct BatteryOut {
    /// Id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Chemistry.
    pub chemistry: Option<String>,
    /// Serial number.
    pub serial_number: Option<String>,
    /// Rated capacity (Ah).
    pub nominal_capacity_ah: Option<f64>,
    /// Nominal voltage (V).
    pub nominal_voltage_v: Option<f64>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update (RFC 3339).
    pub updated_at: String,
}

/// One page of batteries.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct BatteryPage {
    /// The batteries of this page, by id.
    pub items: Vec<BatteryOut>,
    /// Page number (from 1).
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Total number of the caller's batteries.
    pub total: i64,
}

macro_rules! columns {
    () => {
        "id, name, chemistry, serial_number, nominal_capacity_ah, nominal_voltage_v, created_ms, updated_ms"
    };
}

fn from_row(row: &sqlx::any::AnyRow) -> Result<BatteryOut, sqlx::Error> {
    Ok(BatteryOut {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        chemistry: row.try_get("chemistry")?,
        serial_number: row.try_get("serial_number")?,
        nominal_capacity_ah: row.try_get("nominal_capacity_ah")?,
        nominal_voltage_v: row.try_get("nominal_voltage_v")?,
        created_at: rfc3339(row.try_get("created_ms")?),
        updated_at: rfc3339(row.try_get("updated_ms")?),
    })
}

struct Valid {
    name: String,
    chemistry: Option<String>,
    serial_number: Option<String>,
    nominal_capacity_ah: Option<f64>,
    nominal_voltage_v: Option<f64>,
}

fn validate(b: BatteryIn) -> Result<Valid, ApiError> {
    Ok(Valid {
        name: check_text("name", &b.name, 1, 200)?,
        chemistry: check_opt_text("chemistry", b.chemistry.as_deref(), 64)?,
        serial_number: check_opt_text("serial_number", b.serial_number.as_deref(), 128)?,
        nominal_capacity_ah: check_opt_positive("nominal_capacity_ah", b.nominal_capacity_ah)?,
        nominal_voltage_v: check_opt_positive("nominal_voltage_v", b.nominal_voltage_v)?,
    })
}

/// The caller's battery `id`, or 404 (also when it belongs to someone else).
pub(crate) async fn owned(state: &AppState, user: &AuthUser, id: i64) -> Result<BatteryOut, ApiError> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " FROM batteries WHERE id = $1 AND owner_id = $2"))
        .bind(id)
        .bind(user.id)
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or(ApiError::NotFound { resource: "battery" })?;
    Ok(from_row(&row)?)
}

/// Lists the caller's batteries.
#[utoipa::path(get, path = "/api/batteries", tag = "batteries", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of batteries", body = BatteryPage),
              (status = 400, description = "Bad query", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 422, description = "Invalid page", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<ApiJson<BatteryPage>, ApiError> {
    let (page, per_page, offset) = q.resolve()?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM batteries WHERE owner_id = $1")
        .bind(user.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    let rows = sqlx::query(concat!(
        "SELECT ",
        columns!(),
        " FROM batteries WHERE owner_id = $1 ORDER BY id LIMIT $2 OFFSET $3"
    ))
    .bind(user.id)
    .bind(i64::from(per_page))
    .bind(offset)
    .fetch_all(&state.db.pool)
    .await?;
    let items = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    Ok(ApiJson(BatteryPage { items, page, per_page, total }))
}

/// Registers a battery for the caller.
#[utoipa::path(post, path = "/api/batteries", tag = "batteries", request_body = BatteryIn, security(("bearer" = [])),
    responses((status = 201, description = "Created", body = BatteryOut),
              (status = 400, description = "Malformed JSON", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 422, description = "Invalid field", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<BatteryIn>,
) -> Result<(StatusCode, ApiJson<BatteryOut>), ApiError> {
    let v = validate(body)?;
    let now = now_ms();
    let row = sqlx::query(concat!(
        "INSERT INTO batteries (owner_id, name, chemistry, serial_number, nominal_capacity_ah, \
             nominal_voltage_v, created_ms, updated_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
        columns!()
    ))
    .bind(user.id)
    .bind(v.name)
    .bind(v.chemistry)
    .bind(v.serial_number)
    .bind(v.nominal_capacity_ah)
    .bind(v.nominal_voltage_v)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?;
    Ok((StatusCode::CREATED, ApiJson(from_row(&row)?)))
}

/// One of the caller's batteries.
#[utoipa::path(get, path = "/api/batteries/{id}", tag = "batteries", params(("id" = i64, Path, description = "Battery id")),
    security(("bearer" = [])),
    responses((status = 200, description = "The battery", body = BatteryOut),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody)))]
pub(crate) async fn get_one(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<BatteryOut>, ApiError> {
    Ok(ApiJson(owned(&state, &user, id).await?))
}

/// Replaces the fields of one of the caller's batteries.
#[utoipa::path(put, path = "/api/batteries/{id}", tag = "batteries", params(("id" = i64, Path, description = "Battery id")),
    request_body = BatteryIn, security(("bearer" = [])),
    responses((status = 200, description = "Updated", body = BatteryOut),
              (status = 400, description = "Malformed JSON or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 422, description = "Invalid field", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<BatteryIn>,
) -> Result<ApiJson<BatteryOut>, ApiError> {
    let v = validate(body)?;
    let row = sqlx::query(concat!(
        "UPDATE batteries SET name = $1, chemistry = $2, serial_number = $3, nominal_capacity_ah = $4, \
             nominal_voltage_v = $5, updated_ms = $6 WHERE id = $7 AND owner_id = $8 RETURNING ",
        columns!()
    ))
    .bind(v.name)
    .bind(v.chemistry)
    .bind(v.serial_number)
    .bind(v.nominal_capacity_ah)
    .bind(v.nominal_voltage_v)
    .bind(now_ms())
    .bind(id)
    .bind(user.id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound { resource: "battery" })?;
    Ok(ApiJson(from_row(&row)?))
}

/// Deletes one of the caller's batteries with its data, uploads and alerts.
#[utoipa::path(delete, path = "/api/batteries/{id}", tag = "batteries", params(("id" = i64, Path, description = "Battery id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let n = sqlx::query("DELETE FROM batteries WHERE id = $1 AND owner_id = $2")
        .bind(id)
        .bind(user.id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound { resource: "battery" });
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/batteries", get(list).post(create))
        .route("/batteries/{id}", get(get_one).put(update).delete(delete))
}
