//! Test support for the server: a fresh database per test (a SQLite file, or a new PostgreSQL database when
//! `TEST_DATABASE_URL` is set), and small request helpers over `app().oneshot(..)`.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use battsentinel_core::server::{app, AppState, Config};
use serde_json::Value;
use sqlx::{Connection, Executor, Row};
use std::sync::atomic::{AtomicU32, Ordering};
use tower::ServiceExt;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh, empty database URL.
pub async fn fresh_database_url() -> String {
    sqlx::any::install_default_drivers();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("bs_test_{}_{n}_{nanos}", std::process::id());
    match std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
        Some(base) => {
            let mut conn = sqlx::AnyConnection::connect(&base).await.expect("connect to TEST_DATABASE_URL");
            conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .expect("create database");
            conn.close().await.unwrap();
            let (prefix, _) = base.rsplit_once('/').expect("URL with a database name");
            format!("{prefix}/{name}")
        }
        None => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            format!("sqlite://{}", path.display())
        }
    }
}

/// A test server: configuration, state and router over a fresh database.
pub struct TestApp {
    pub url: String,
    pub state: AppState,
    pub router: Router,
}

impl TestApp {
    pub async fn new() -> Self {
        Self::with(|_| {}).await
    }

    pub async fn with(tweak: impl FnOnce(&mut Config)) -> Self {
        let url = fresh_database_url().await;
        Self::on(&url, tweak).await
    }

    /// Another instance on an existing database.
    pub async fn on(url: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::development(url);
        config.db_max_connections = 4;
        tweak(&mut config);
        let state = AppState::new(config).await.expect("open test database");
        let router = app(state.clone());
        Self { url: url.to_string(), state, router }
    }

    /// Sends a request; returns status, headers and the body as JSON (`Null` when empty or not JSON).
    pub async fn send(&self, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.unwrap();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        (status, headers, json)
    }

    /// A JSON request (or none when `body` is `None`).
    pub async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let req = match body {
            Some(v) => {
                b.header(header::CONTENT_TYPE, "application/json").body(Body::from(v.to_string())).unwrap()
            }
            None => b.body(Body::empty()).unwrap(),
        };
        let (s, _, v) = self.send(req).await;
        (s, v)
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        ctype: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let mut b = Request::builder().method(method).uri(uri).header(header::CONTENT_TYPE, ctype);
        if let Some(t) = token {
            b = b.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let (s, _, v) = self.send(b.body(Body::from(body)).unwrap()).await;
        (s, v)
    }

    /// A `multipart/form-data` request with the given parts: `(name, file name, bytes)`.
    pub async fn multipart(
        &self,
        uri: &str,
        token: Option<&str>,
        parts: &[(&str, Option<&str>, &[u8])],
    ) -> (StatusCode, Value) {
        let boundary = "bs-test-boundary-7d1f0a";
        let mut body = Vec::new();
        for (name, file, bytes) in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match file {
                Some(f) => body.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                         Content-Type: application/octet-stream\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.raw("POST", uri, token, &format!("multipart/form-data; boundary={boundary}"), body).await
    }

    /// Registers `name` with a fixed password and logs in; returns the token.
    pub async fn user(&self, name: &str) -> String {
        let creds = serde_json::json!({"username": name, "password": "correct horse battery"});
        let (s, v) = self.call("POST", "/api/auth/register", None, Some(creds.clone())).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let (s, v) = self.call("POST", "/api/auth/login", None, Some(creds)).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        v["token"].as_str().unwrap().to_string()
    }

    /// Creates a battery; returns its id.
    pub async fn battery(&self, token: &str, name: &str) -> i64 {
        let (s, v) =
            self.call("POST", "/api/batteries", Some(token), Some(serde_json::json!({"name": name}))).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["id"].as_i64().unwrap()
    }

    /// Rows in `table`, counted with a separate connection (what is really in the database).
    pub async fn count(&self, table: &str) -> i64 {
        let mut conn = sqlx::AnyConnection::connect(&self.url).await.unwrap();
        let n: i64 = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) AS n FROM {table}")))
            .fetch_one(&mut conn)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
        conn.close().await.unwrap();
        n
    }
}
