//! Passwords (argon2id), opaque bearer tokens stored hashed in the database, and the [`AuthUser`]
//! extractor that every protected handler takes.
//!
//! A token is 32 random bytes (hex). The database keeps only `SHA-256(SECRET_KEY ‖ token)`, with its expiry
//! and revocation time, so a stolen database does not yield usable tokens and a logout on one instance is
//! seen by every other instance at once.

use super::error::ApiError;
use super::state::{now_ms, AppState};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Role of a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An ordinary user: sees only what they own.
    User,
    /// May also list users and change roles.
    Admin,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub(crate) fn parse(s: &str) -> Role {
        if s == "admin" {
            Role::Admin
        } else {
            Role::User
        }
    }
}

/// The authenticated caller, resolved from `Authorization: Bearer <token>` against the `sessions` table.
/// Missing, unknown, expired and revoked tokens all answer 401.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// User id.
    pub id: i64,
    /// User name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Id of the session (token) used.
    pub session_id: i64,
}

impl AuthUser {
    /// 403 unless the caller is an admin.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`].
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(ApiError::unauthorized)?;
        let hash = token_hash(&state.config.secret_key, token);
        let row = sqlx::query(
            "SELECT s.id AS sid, u.id AS uid, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.revoked_ms IS NULL AND s.expires_ms > $2",
        )
        .bind(hash)
        .bind(now_ms())
        .fetch_optional(&state.db.pool)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
        Ok(AuthUser {
            id: row.try_get("uid")?,
            username: row.try_get("username")?,
            role: Role::parse(&row.try_get::<String, _>("role")?),
            session_id: row.try_get("sid")?,
        })
    }
}

/// A fresh random token (64 hex characters).
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the database stores for a token.
pub(crate) fn token_hash(secret: &str, token: &str) -> String {
    let mut h = Sha256::new();
    h.update((secret.len() as u64).to_le_bytes());
    h.update(secret.as_bytes());
    h.update(token.as_bytes());
    hex(&h.finalize())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// argon2id PHC string of `password` (random salt), computed off the async threads.
pub(crate) async fn hash_password(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal { detail: format!("argon2 hash: {e}") })
    })
    .await
    .map_err(|e| ApiError::Internal { detail: format!("hash task: {e}") })?
}

/// True when `password` matches the PHC string `hash`, computed off the async threads.
pub(crate) async fn verify_password(password: String, hash: String) -> Result<bool, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default().verify_password(password.as_bytes(), hash.as_str()).is_ok()
    })
    .await
    .map_err(|e| ApiError::Internal { detail: format!("verify task: {e}") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_and_hashes_are_keyed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(token_hash("k1", &a), token_hash("k2", &a));
        assert_eq!(token_hash("k1", &a), token_hash("k1", &a));
    }

    #[tokio::test]
    async fn argon2id_round_trip() {
        let h = hash_password("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse".into(), h.clone()).await.unwrap());
        assert!(!verify_password("wrong".into(), h).await.unwrap());
    }
}
