//! Shared state of the router: the database pool and the configuration. Nothing else lives in the process,
//! so any number of instances can serve the same database.

use super::config::Config;
use super::error::ServerError;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyPool, Executor, SqlSafeStr};
use std::sync::Arc;
use std::time::Duration;

/// Which database the pool talks to. The SQL is the same for both except the schema migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server (production, several instances).
    Postgres,
}

/// The database: a connection pool over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
}

impl Db {
    /// Opens the database at `url`, creating a SQLite file if it does not exist, and applies the migrations.
    ///
    /// # Errors
    /// [`ServerError::Database`] if it cannot be opened, [`ServerError::Migrate`] if the schema cannot be
    /// brought up to date.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, ServerError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let url_full = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url_full)
            .await
            .map_err(|source| ServerError::Database { url: redact(url), source })?;
        let db = Db { pool, backend };
        db.migrator().run(&db.pool).await.map_err(ServerError::Migrate)?;
        Ok(db)
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection (graceful shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn migrator(&self) -> Migrator {
        let steps: [(i64, &'static str, &'static str); 2] = match self.backend {
            Backend::Sqlite => [
                (1, "init", include_str!("../../migrations/sqlite/0001_init.sql")),
                (
                    2,
                    "channels_rules_jobs",
                    include_str!("../../migrations/sqlite/0002_channels_rules_jobs.sql"),
                ),
            ],
            Backend::Postgres => [
                (1, "init", include_str!("../../migrations/postgres/0001_init.sql")),
                (
                    2,
                    "channels_rules_jobs",
                    include_str!("../../migrations/postgres/0002_channels_rules_jobs.sql"),
                ),
            ],
        };
        Migrator::with_migrations(
            steps
                .into_iter()
                .map(|(version, name, sql)| {
                    Migration::new(version, name.into(), MigrationType::Simple, sql.into_sql_str(), false)
                })
                .collect(),
        )
    }

    /// Checks that the database answers.
    pub(crate) async fn ping(&self) -> Result<(), sqlx::Error> {
        let _row: AnyRow = sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
        Ok(())
    }
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{user}:***{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// What every handler gets: the database and the configuration.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Database pool.
    pub db: Db,
    /// Configuration read at start-up.
    pub config: Arc<Config>,
}

impl AppState {
    /// Opens the configured database (see [`Db::connect`]) and wraps it with the configuration.
    ///
    /// # Errors
    /// As [`Db::connect`].
    pub async fn new(config: Config) -> Result<Self, ServerError> {
        let db = Db::connect(&config.database_url, config.db_max_connections).await?;
        Ok(Self { db, config: Arc::new(config) })
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// RFC 3339 form of an epoch-milliseconds time.
pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map(|t| t.to_rfc3339()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn redacts_password() {
        assert_eq!(
            super::redact("postgres://bs:secret@127.0.0.1:5432/x"),
            "postgres://bs:***@127.0.0.1:5432/x"
        );
        assert_eq!(super::redact("sqlite://a.db"), "sqlite://a.db");
    }
}
