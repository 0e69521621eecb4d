//! The BattSentinel REST server (feature `server`): axum + tokio + sqlx, on SQLite (embedded default, a file
//! created on first start) or PostgreSQL (production, several instances behind a load balancer).
//!
//! - [`app`] builds the router (every route under `/api`, see `/api/openapi.json`); tests drive it with
//!   `tower::ServiceExt::oneshot`.
//! - [`serve`] reads nothing itself: give it a [`Config`] (from [`Config::from_env`]), it opens the database,
//!   applies the migrations, binds, logs every request with its `x-request-id`, and shuts down gracefully on
//!   Ctrl-C or SIGTERM (in-flight requests finish, then the pool closes).
//! - State lives only in the database (users, hashed tokens and their revocation, login failures, batteries,
//!   samples and every extra channel, uploads, alert rules and alerts, twin jobs and their results, analyses
//!   and their explanations), so processes are stateless and interchangeable.
//! - Data arrive as a file in any format the readers accept (multipart) or as JSON samples; each upload is
//!   one transaction together with the alerts the rule engine raises on it.
//!
//! Errors are `{"code": …, "message": …}` JSON with a stable `code` ([`ApiError::code`]); a 500 never
//! carries internal detail (it is logged with the request id instead).
//!
//! # Deployment
//! - **One machine**: `battsentinel serve` with the defaults uses `sqlite://battsentinel.db` (created on first
//!   start, WAL mode) and binds 127.0.0.1:5000. Put a TLS-terminating reverse proxy in front.
//! - **Several instances**: point every instance at one PostgreSQL (`DATABASE_URL=postgres://…`), give all of
//!   them the same `SECRET_KEY` (tokens are hashed with it) and `BATTSENTINEL_ENV=production`, and balance
//!   across them with any HTTP load balancer; no sticky sessions are needed. Tokens, their revocation and the
//!   login-failure counters are rows in the database, so a logout or a lock-out on one instance holds on all
//!   of them at once. Migrations run at start-up under PostgreSQL's advisory lock, so instances may start
//!   together. Size `DB_MAX_CONNECTIONS` × instances below the server's `max_connections`.
//! - **Shutdown**: SIGTERM (what orchestrators send) stops accepting, lets in-flight requests finish, then
//!   closes the pool; an upload interrupted mid-way is rolled back, never half-stored.
//! - **Logs**: one span per request with its `x-request-id` (taken from the request or generated, echoed in
//!   the response); `LOG_FORMAT=json` for log collectors.
//!
//! # Examples
//! ```
//! use battsentinel_core::server::{app, AppState, Config};
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let path = std::env::temp_dir().join(format!("bs-doc-{}.db", std::process::id()));
//! let config = Config::development(&format!("sqlite://{}", path.display()));
//! let state = AppState::new(config).await.unwrap(); // creates the file, applies migrations
//! let router = app(state);
//! # drop(router); let _ = std::fs::remove_file(&path);
//! # });
//! ```

mod auth;
mod config;
mod engine;
mod error;
mod extract;
mod routes;
mod samples;
mod state;

pub use auth::{AuthUser, Role};
pub use config::{parse_dotenv, Config, Environment, DEVELOPMENT_SECRET};
pub use error::{ApiError, ConfigError, ErrorBody, InternalDetail, ServerError};
pub use state::{AppState, Backend, Db};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::Response;
use axum::Router;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The router: every route under `/api`, with body limits, CORS from the configuration, request ids and
/// request logging.
pub fn app(state: AppState) -> Router {
    let cfg = state.config.clone();
    let api = Router::new()
        .merge(routes::health::router())
        .merge(routes::auth::router())
        .merge(routes::batteries::router())
        .merge(routes::data::router(cfg.max_upload_bytes))
        .merge(routes::alerts::router())
        .merge(routes::rules::router())
        .merge(routes::twin::router())
        .merge(routes::ai::router())
        .merge(routes::admin::router())
        .merge(routes::openapi::router());
    let mut router = Router::new()
        .nest("/api", api)
        .fallback(|| async { ApiError::NotFound { resource: "route" } })
        .layer(DefaultBodyLimit::max(cfg.max_json_bytes))
        .with_state(state);
    if !cfg.cors_origins.is_empty() {
        let origins: Vec<HeaderValue> = cfg.cors_origins.iter().filter_map(|o| o.parse().ok()).collect();
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                .max_age(Duration::from_secs(600)),
        );
    }
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
                })
                .on_request(())
                .on_response(|res: &Response, latency: Duration, _span: &Span| {
                    if let Some(InternalDetail(detail)) = res.extensions().get::<InternalDetail>() {
                        tracing::error!(status = res.status().as_u16(), detail = %detail, "internal error");
                    }
                    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1e3, "response");
                }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// The OpenAPI document of [`app`], as pretty JSON (also served at `/api/openapi.json`).
pub fn openapi_json() -> String {
    routes::openapi::document().to_pretty_json().unwrap_or_default()
}

/// Installs the global tracing subscriber (text or JSON lines, filter from the configuration). Call once;
/// later calls do nothing.
pub fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_target(false);
    let _ = if config.log_json { builder.json().try_init() } else { builder.try_init() };
}

/// Opens the database, binds `config.bind` and serves until Ctrl-C or SIGTERM, then drains in-flight
/// requests and closes the pool.
///
/// # Errors
/// [`ServerError`] when the database cannot be opened or migrated, or the address cannot be bound.
pub async fn serve(config: Config) -> Result<(), ServerError> {
    let addr = config.bind;
    if config.environment == Environment::Development && config.secret_key == DEVELOPMENT_SECRET {
        tracing::warn!("using the development SECRET_KEY; set SECRET_KEY before deploying");
    }
    let state = AppState::new(config).await?;
    // The default fault detector is trained at first use; train it now, in the background, so that the first
    // analysis does not wait for it.
    tokio::task::spawn_blocking(|| {
        if let Err(e) = crate::models::detector::FaultDetector::default_detector() {
            tracing::error!(error = %e, "default fault detector could not be built");
        }
    });
    let db = state.db.clone();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Io { addr: addr.to_string(), source })?;
    let local = listener.local_addr().map_err(|source| ServerError::Io { addr: addr.to_string(), source })?;
    tracing::info!(%local, backend = ?db.backend(), "battsentinel server listening");
    let res = serve_on(listener, state, shutdown_signal()).await;
    db.close().await;
    tracing::info!("server stopped");
    res
}

/// [`serve`] on a new multi-threaded tokio runtime, blocking until shutdown (what `battsentinel serve` calls).
///
/// # Errors
/// As [`serve`]; [`ServerError::Io`] if the runtime cannot be created.
pub fn serve_blocking(config: Config) -> Result<(), ServerError> {
    let addr = config.bind.to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServerError::Io { addr, source })?;
    runtime.block_on(serve(config))
}

/// Serves `app(state)` on an already bound listener until `shutdown` completes (tests use a channel).
///
/// # Errors
/// [`ServerError::Io`] when serving fails.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServerError::Io { addr, source })
}

/// Completes on Ctrl-C or (on Unix) SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown signal received; draining requests");
}
