//! `GET /api/health`: liveness and database reachability.

use crate::server::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};

/// Health report.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok` or `degraded`.
    pub status: String,
    /// `ok` or `unreachable`.
    pub database: String,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// Server version.
    pub version: String,
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/api/health", tag = "health",
    responses((status = 200, description = "Up", body = Health),
              (status = 503, description = "Database unreachable", body = Health)))]
pub(crate) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let db_ok = state.db.ping().await.is_ok();
    let backend = match state.db.backend() {
        crate::server::state::Backend::Sqlite => "sqlite",
        crate::server::state::Backend::Postgres => "postgres",
    };
    let body = Health {
        status: if db_ok { "ok" } else { "degraded" }.to_string(),
        database: if db_ok { "ok" } else { "unreachable" }.to_string(),
        backend: backend.to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
    };
    (if db_ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, Json(body))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/health", get(health))
}
