//! `/api/admin`: user management for the admin role (403 for everyone else).

use super::auth::{user_from_row, UserOut};
use super::PageQuery;
use crate::server::auth::{AuthUser, Role};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath, ApiQuery};
use crate::server::state::AppState;
use axum::extract::State;
use axum::routing::{get, put};
use axum::Router;
use sqlx::Row;

/// One page of users.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct UserPage {
    /// Users by id.
    pub items: Vec<UserOut>,
    /// Page number (from 1).
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Users in total.
    pub total: i64,
}

/// A role change.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RoleIn {
    /// New role.
    pub role: Role,
}

/// Lists every user (admin only).
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(PageQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of users", body = UserPage),
              (status = 400, description = "Bad query", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 403, description = "Not an admin", body = ErrorBody),
              (status = 422, description = "Invalid page", body = ErrorBody)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<ApiJson<UserPage>, ApiError> {
    user.require_admin()?;
    let (page, per_page, offset) = q.resolve()?;
    let total: i64 =
        sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(&state.db.pool).await?.try_get("n")?;
    let rows =
        sqlx::query("SELECT id, username, email, role, created_ms FROM users ORDER BY id LIMIT $1 OFFSET $2")
            .bind(i64::from(per_page))
            .bind(offset)
            .fetch_all(&state.db.pool)
            .await?;
    let items = rows.iter().map(user_from_row).collect::<Result<_, _>>()?;
    Ok(ApiJson(UserPage { items, page, per_page, total }))
}

/// Changes a user's role (admin only).
#[utoipa::path(put, path = "/api/admin/users/{id}/role", tag = "admin", params(("id" = i64, Path, description = "User id")),
    request_body = RoleIn, security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserOut),
              (status = 400, description = "Malformed JSON or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 403, description = "Not an admin", body = ErrorBody),
              (status = 404, description = "No such user", body = ErrorBody),
              (status = 422, description = "Invalid role", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RoleIn>,
) -> Result<ApiJson<UserOut>, ApiError> {
    user.require_admin()?;
    let row = sqlx::query(
        "UPDATE users SET role = $1 WHERE id = $2 RETURNING id, username, email, role, created_ms",
    )
    .bind(body.role.as_str())
    .bind(id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound { resource: "user" })?;
    Ok(ApiJson(user_from_row(&row)?))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/admin/users", get(list_users)).route("/admin/users/{id}/role", put(set_role))
}
