//! Server errors: start-up failures ([`ServerError`]) and request failures ([`ApiError`], turned into a
//! `{code, message}` JSON response).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A configuration value that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable holds a value that cannot be parsed or is out of range.
    #[error("invalid configuration `{key}` = {value:?}: {reason}")]
    Invalid {
        /// Variable name.
        key: String,
        /// Its value.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// Production without a proper secret.
    #[error("refusing to start in production: {reason}")]
    InsecureSecret {
        /// What is wrong with `SECRET_KEY`.
        reason: &'static str,
    },
    /// The `.env` file cannot be read or parsed.
    #[error(".env line {line}: {reason}")]
    DotEnv {
        /// 1-based line (0 when the file could not be read).
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

impl ConfigError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::Invalid { .. } => "invalid_config",
            ConfigError::InsecureSecret { .. } => "insecure_secret",
            ConfigError::DotEnv { .. } => "invalid_dotenv",
        }
    }
}

/// The server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened.
    #[error("cannot open database {url}")]
    Database {
        /// The URL with any password removed.
        url: String,
        /// Driver error.
        #[source]
        source: sqlx::Error,
    },
    /// The schema migrations failed.
    #[error("database migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// Binding or serving the socket failed.
    #[error("cannot serve on {addr}")]
    Io {
        /// Bind address.
        addr: String,
        /// OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ServerError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            ServerError::Config(e) => e.code(),
            ServerError::Database { .. } => "database_unavailable",
            ServerError::Migrate(_) => "migration_failed",
            ServerError::Io { .. } => "io_error",
        }
    }
}

/// Why a request failed. Every variant maps to one HTTP status and a stable `code`; the response body is
/// `{"code": …, "message": …}`. [`ApiError::Internal`] never puts its detail into the body: the detail is
/// attached as an [`InternalDetail`] response extension, which the request logger records.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The body is not valid JSON or the request is malformed (400).
    #[error("{message}")]
    BadRequest {
        /// Stable code (`invalid_json`, `invalid_query`, `invalid_path`, `invalid_multipart`).
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// A field is well-formed JSON but not acceptable (422).
    #[error("invalid `{field}`: {reason}")]
    Invalid {
        /// Field name, dotted path for nested fields.
        field: String,
        /// What is allowed.
        reason: String,
    },
    /// Missing, invalid, expired or revoked token, or wrong credentials (401).
    #[error("{message}")]
    Unauthorized {
        /// Stable code (`unauthorized`, `invalid_credentials`).
        code: &'static str,
        /// Explanation.
        message: &'static str,
    },
    /// Authenticated but not allowed (403): admin-only endpoints.
    #[error("this action needs the admin role")]
    Forbidden,
    /// No such resource for this user (404). Another user's resource answers the same.
    #[error("{resource} not found")]
    NotFound {
        /// Resource kind (`battery`, `alert`, …).
        resource: &'static str,
    },
    /// The request conflicts with stored state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code (`username_taken`, `duplicate_upload`).
        code: &'static str,
        /// Explanation.
        message: String,
    },
    /// The body exceeds the configured limit (413): `MAX_UPLOAD_BYTES` for data uploads, `MAX_JSON_BYTES`
    /// for everything else.
    #[error("request body exceeds the limit of {limit_bytes} bytes")]
    PayloadTooLarge {
        /// The limit that applies to this route (bytes).
        limit_bytes: u64,
    },
    /// The content type is not accepted here (415).
    #[error("{message}")]
    UnsupportedMediaType {
        /// What is accepted.
        message: String,
    },
    /// An uploaded file could not be read (422, the reader's own code).
    #[error(transparent)]
    Parse(#[from] crate::io::ParseError),
    /// An alert rule is not valid (422, the rule engine's own code; the message names rule and field).
    #[error(transparent)]
    Rule(#[from] crate::alerts::RuleError),
    /// Twin parameters or protocol are not valid (422, the simulator's own code).
    #[error(transparent)]
    Simulation(#[from] crate::twin::SimError),
    /// Invalid parameters (422, the parameter's own code).
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// Analysis or explanation of stored data failed on the data (422, the library's own code).
    #[error(transparent)]
    Analysis(crate::Error),
    /// Too many failed logins (429).
    #[error("too many failed logins; retry in {retry_after_s} s")]
    RateLimited {
        /// Seconds until the oldest counted failure leaves the window.
        retry_after_s: u64,
    },
    /// Something failed on the server (500). `detail` is logged, never returned.
    #[error("internal server error")]
    Internal {
        /// What failed, for the log.
        detail: String,
    },
}

/// The internal detail of a 500 response, kept as a response extension for the logger.
#[derive(Debug, Clone)]
pub struct InternalDetail(pub String);

/// JSON body of every error response.
#[derive(Debug, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

impl ApiError {
    /// Stable snake_case code, as sent in the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. } => code,
            ApiError::Invalid { .. } => "invalid_field",
            ApiError::Unauthorized { code, .. } => code,
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::Parse(e) => e.code(),
            ApiError::Rule(e) => e.code(),
            ApiError::Simulation(e) => e.code(),
            ApiError::Params(e) => e.code(),
            ApiError::Analysis(e) => e.code(),
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::Internal { .. } => "internal",
        }
    }

    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Invalid { .. }
            | ApiError::Parse(_)
            | ApiError::Rule(_)
            | ApiError::Simulation(_)
            | ApiError::Params(_)
            | ApiError::Analysis(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 422 for `field`.
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Invalid { field: field.into(), reason: reason.into() }
    }

    /// The standard 401.
    pub(crate) fn unauthorized() -> Self {
        ApiError::Unauthorized { code: "unauthorized", message: "missing, invalid, expired or revoked token" }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::Internal { detail: format!("database: {e}") }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal { .. } => "internal server error".to_string(),
            other => other.to_string(),
        };
        let body = ErrorBody { code: self.code().to_string(), message };
        let mut res = (status, axum::Json(body)).into_response();
        match self {
            ApiError::Internal { detail } => {
                res.extensions_mut().insert(InternalDetail(detail));
            }
            ApiError::RateLimited { retry_after_s } => {
                res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_s));
            }
            ApiError::Unauthorized { .. } => {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        res
    }
}

/// Maps an axum extractor rejection (its status) onto the API's error codes.
pub(crate) fn from_rejection(
    status: StatusCode,
    text: String,
    code_400: &'static str,
    limit_bytes: usize,
) -> ApiError {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge { limit_bytes: limit_bytes as u64 },
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType { message: text },
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::Invalid { field: "body".to_string(), reason: text },
        s if s.is_client_error() => ApiError::BadRequest { code: code_400, message: text },
        _ => ApiError::Internal { detail: text },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_detail_is_not_in_the_body() {
        let res = ApiError::Internal { detail: "secret path /var/db".into() }.into_response();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            res.extensions().get::<InternalDetail>().map(|d| d.0.as_str()),
            Some("secret path /var/db")
        );
    }

    #[test]
    fn codes_and_statuses() {
        let cases = [
            (ApiError::NotFound { resource: "battery" }, 404, "not_found"),
            (ApiError::invalid("name", "empty"), 422, "invalid_field"),
            (ApiError::RateLimited { retry_after_s: 3 }, 429, "rate_limited"),
            (ApiError::PayloadTooLarge { limit_bytes: 10 }, 413, "payload_too_large"),
            (ApiError::unauthorized(), 401, "unauthorized"),
            (ApiError::Forbidden, 403, "forbidden"),
        ];
        for (e, status, code) in cases {
            assert_eq!(e.status().as_u16(), status);
            assert_eq!(e.code(), code);
        }
    }
}
