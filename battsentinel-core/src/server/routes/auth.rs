//! `/api/auth`: register, login (rate-limited), logout (server-side revocation), me.

use super::check_text;
use crate::server::auth::{hash_password, new_token, token_hash, verify_password, AuthUser, Role};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::ApiJson;
use crate::server::state::{now_ms, rfc3339, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use sqlx::Row;
use std::sync::OnceLock;

/// Sign-up request.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RegisterIn {
    /// 3–64 characters: letters, digits, `_`, `-`, `.`.
    #[schema(min_length = 3, max_length = 64, pattern = "^[A-Za-z0-9_.-]{3,64}$")]
    pub username: String,
    /// 8–256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub password: String,
    /// Optional e-mail address.
    #[schema(max_length = 254)]
    pub email: Option<String>,
}

/// Login request.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginIn {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
}

/// A user, as the API shows it (never the password hash).
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct UserOut {
    /// Id.
    pub id: i64,
    /// User name.
    pub username: String,
    /// E-mail, if given.
    pub email: Option<String>,
    /// Role.
    pub role: Role,
    /// Creation time (RFC 3339).
    pub created_at: String,
}

/// A successful login.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct LoginOut {
    /// Bearer token for `Authorization: Bearer <token>`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Expiry (RFC 3339).
    pub expires_at: String,
    /// The user.
    pub user: UserOut,
}

pub(crate) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<UserOut, sqlx::Error> {
    Ok(UserOut {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        email: row.try_get("email")?,
        role: Role::parse(&row.try_get::<String, _>("role")?),
        created_at: rfc3339(row.try_get("created_ms")?),
    })
}

fn check_username(u: &str) -> Result<(), ApiError> {
    let n = u.chars().count();
    if !(3..=64).contains(&n) || !u.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ApiError::invalid("username", "must be 3 to 64 letters, digits, `_`, `-` or `.`"));
    }
    Ok(())
}

/// Creates an account. User names listed in `ADMIN_USERNAMES` get the admin role.
#[utoipa::path(post, path = "/api/auth/register", tag = "auth", request_body = RegisterIn,
    responses((status = 201, description = "Created", body = UserOut),
              (status = 400, description = "Malformed JSON", body = ErrorBody),
              (status = 409, description = "User name taken", body = ErrorBody),
              (status = 422, description = "Invalid field", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterIn>,
) -> Result<(StatusCode, ApiJson<UserOut>), ApiError> {
    check_username(&body.username)?;
    let n = body.password.chars().count();
    if !(8..=256).contains(&n) {
        return Err(ApiError::invalid("password", "must be 8 to 256 characters"));
    }
    let email = match body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        None => None,
        Some(e) => {
            let e = check_text("email", e, 3, 254)?;
            if !e.contains('@') || e.contains(char::is_whitespace) {
                return Err(ApiError::invalid("email", "not an e-mail address"));
            }
            Some(e)
        }
    };
    let role = if state.config.admin_usernames.contains(&body.username) { Role::Admin } else { Role::User };
    let hash = hash_password(body.password).await?;
    let res = sqlx::query(
        "INSERT INTO users (username, email, password_hash, role, created_ms) VALUES ($1, $2, $3, $4, $5) \
         RETURNING id, username, email, role, created_ms",
    )
    .bind(&body.username)
    .bind(email)
    .bind(hash)
    .bind(role.as_str())
    .bind(now_ms())
    .fetch_one(&state.db.pool)
    .await;
    match res {
        Ok(row) => Ok((StatusCode::CREATED, ApiJson(user_from_row(&row)?))),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(ApiError::Conflict { code: "username_taken", message: "this user name is taken".into() })
        }
        Err(e) => Err(e.into()),
    }
}

/// A hash to verify against when the user does not exist, so that timing does not reveal user names.
async fn dummy_hash() -> Result<&'static str, ApiError> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.as_str());
    }
    let h = hash_password(new_token()).await?;
    Ok(DUMMY.get_or_init(|| h).as_str())
}

/// Exchanges credentials for a bearer token. After `LOGIN_MAX_FAILURES` failures for a user name within
/// `LOGIN_WINDOW_S`, answers 429 with `Retry-After` (counted in the database, so across instances).
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginIn,
    responses((status = 200, description = "Logged in", body = LoginOut),
              (status = 400, description = "Malformed JSON", body = ErrorBody),
              (status = 401, description = "Wrong user name or password", body = ErrorBody),
              (status = 422, description = "Invalid field", body = ErrorBody),
              (status = 429, description = "Too many failed logins", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginIn>,
) -> Result<ApiJson<LoginOut>, ApiError> {
    if body.username.chars().count() > 64 || body.password.chars().count() > 256 {
        return Err(ApiError::Unauthorized {
            code: "invalid_credentials",
            message: "wrong user name or password",
        });
    }
    let cfg = &state.config;
    let now = now_ms();
    let window_ms = i64::try_from(cfg.login_window_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let since = now.saturating_sub(window_ms);
    sqlx::query("DELETE FROM login_failures WHERE username = $1 AND at_ms <= $2")
        .bind(&body.username)
        .bind(since)
        .execute(&state.db.pool)
        .await?;
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(at_ms) AS oldest FROM login_failures WHERE username = $1 AND at_ms > $2",
    )
    .bind(&body.username)
    .bind(since)
    .fetch_one(&state.db.pool)
    .await?;
    let failures: i64 = row.try_get("n")?;
    if failures >= i64::from(cfg.login_max_failures) {
        let oldest: Option<i64> = row.try_get("oldest")?;
        let wait_ms = oldest.unwrap_or(now).saturating_add(window_ms).saturating_sub(now).max(1000);
        return Err(ApiError::RateLimited {
            retry_after_s: u64::try_from((wait_ms + 999) / 1000).unwrap_or(1),
        });
    }
    let user = sqlx::query(
        "SELECT id, username, email, role, created_ms, password_hash FROM users WHERE username = $1",
    )
    .bind(&body.username)
    .fetch_optional(&state.db.pool)
    .await?;
    let stored = match &user {
        Some(row) => row.try_get::<String, _>("password_hash")?,
        None => dummy_hash().await?.to_string(),
    };
    let ok = verify_password(body.password, stored).await? && user.is_some();
    let Some(row) = user.filter(|_| ok) else {
        sqlx::query("INSERT INTO login_failures (username, at_ms) VALUES ($1, $2)")
            .bind(&body.username)
            .bind(now)
            .execute(&state.db.pool)
            .await?;
        return Err(ApiError::Unauthorized {
            code: "invalid_credentials",
            message: "wrong user name or password",
        });
    };
    let mut user = user_from_row(&row)?;
    sqlx::query("DELETE FROM login_failures WHERE username = $1")
        .bind(&user.username)
        .execute(&state.db.pool)
        .await?;
    if user.role != Role::Admin && cfg.admin_usernames.contains(&user.username) {
        sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
            .bind(user.id)
            .execute(&state.db.pool)
            .await?;
        user.role = Role::Admin;
    }
    let token = new_token();
    let ttl_ms = i64::try_from(cfg.token_ttl_s.saturating_mul(1000)).unwrap_or(i64::MAX);
    let expires = now.saturating_add(ttl_ms);
    sqlx::query("INSERT INTO sessions (user_id, token_hash, created_ms, expires_ms) VALUES ($1, $2, $3, $4)")
        .bind(user.id)
        .bind(token_hash(&cfg.secret_key, &token))
        .bind(now)
        .bind(expires)
        .execute(&state.db.pool)
        .await?;
    Ok(ApiJson(LoginOut { token, token_type: "Bearer".into(), expires_at: rfc3339(expires), user }))
}

/// Revokes the token used for this request (stored server-side: every instance refuses it afterwards).
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204, description = "Logged out"),
              (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn logout(State(state): State<AppState>, user: AuthUser) -> Result<StatusCode, ApiError> {
    sqlx::query("UPDATE sessions SET revoked_ms = $1 WHERE id = $2")
        .bind(now_ms())
        .bind(user.session_id)
        .execute(&state.db.pool)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The current user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, description = "The user", body = UserOut),
              (status = 401, description = "Not logged in", body = ErrorBody)))]
pub(crate) async fn me(State(state): State<AppState>, user: AuthUser) -> Result<ApiJson<UserOut>, ApiError> {
    let row = sqlx::query("SELECT id, username, email, role, created_ms FROM users WHERE id = $1")
        .bind(user.id)
        .fetch_one(&state.db.pool)
        .await?;
    Ok(ApiJson(user_from_row(&row)?))
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
}
