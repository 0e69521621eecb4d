//! Server configuration from the environment and an optional `.env` file.

use super::error::ConfigError;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;

/// The secret used when none is configured. Accepted only in development.
pub const DEVELOPMENT_SECRET: &str = "battsentinel-development-secret-do-not-use-in-production";

/// Where the server runs: `development` allows the built-in secret, `production` refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// Local use: a missing `SECRET_KEY` falls back to [`DEVELOPMENT_SECRET`] with a warning.
    Development,
    /// Deployment: `SECRET_KEY` must be set, at least 32 characters and not the development secret.
    Production,
}

/// Everything the server reads at start-up. Build it with [`Config::from_env`] (process environment plus
/// `.env`) or [`Config::from_lookup`] (any key → value source, used by tests).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `BATTSENTINEL_ENV` | `development` | `development` or `production` |
/// | `DATABASE_URL` | `sqlite://battsentinel.db` | `sqlite://<file>` (created on first start) or `postgres://…` |
/// | `SECRET_KEY` | development secret | keys the token hashes; required (≥ 32 chars) in production |
/// | `HOST`, `PORT` | `127.0.0.1`, `5000` | bind address |
/// | `CORS_ORIGINS` | empty (no CORS) | comma-separated allowed origins |
/// | `MAX_UPLOAD_BYTES` | 52428800 (50 MiB) | body limit of data uploads |
/// | `MAX_JSON_BYTES` | 1048576 (1 MiB) | body limit of every other request |
/// | `TOKEN_TTL_S` | 86400 | lifetime of a login token |
/// | `LOGIN_MAX_FAILURES`, `LOGIN_WINDOW_S` | 5, 900 | failed logins per user name allowed per window |
/// | `ADMIN_USERNAMES` | empty | user names that get the admin role when they register or log in |
/// | `DB_MAX_CONNECTIONS` | 8 | pool size |
/// | `LOG_LEVEL` (or `RUST_LOG`) | `info` | tracing filter |
/// | `LOG_FORMAT` | `text` | `text` or `json` |
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Development or production.
    pub environment: Environment,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Key for token hashing.
    pub secret_key: String,
    /// Bind address.
    pub bind: SocketAddr,
    /// Allowed CORS origins; empty means no cross-origin access.
    pub cors_origins: Vec<String>,
    /// Body limit of data uploads (bytes).
    pub max_upload_bytes: usize,
    /// Body limit of other requests (bytes).
    pub max_json_bytes: usize,
    /// Token lifetime (s).
    pub token_ttl_s: u64,
    /// Failed logins allowed per user name within [`Config::login_window_s`].
    pub login_max_failures: u32,
    /// Rate-limit window (s).
    pub login_window_s: u64,
    /// User names granted the admin role.
    pub admin_usernames: Vec<String>,
    /// Database pool size.
    pub db_max_connections: u32,
    /// tracing filter directive.
    pub log_level: String,
    /// Logs as JSON lines instead of text.
    pub log_json: bool,
}

impl Config {
    /// The development defaults with the given database URL (what tests use).
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::server::Config;
    /// let c = Config::development("sqlite://test.db");
    /// assert_eq!(c.bind.port(), 5000);
    /// ```
    pub fn development(database_url: &str) -> Self {
        Self {
            environment: Environment::Development,
            database_url: database_url.to_string(),
            secret_key: DEVELOPMENT_SECRET.to_string(),
            bind: SocketAddr::from(([127, 0, 0, 1], 5000)),
            cors_origins: Vec::new(),
            max_upload_bytes: 50 * 1024 * 1024,
            max_json_bytes: 1024 * 1024,
            token_ttl_s: 86_400,
            login_max_failures: 5,
            login_window_s: 900,
            admin_usernames: Vec::new(),
            db_max_connections: 8,
            log_level: "info".to_string(),
            log_json: false,
        }
    }

    /// Reads the configuration from the process environment, completed by a `.env` file in the working
    /// directory when there is one (the environment wins).
    ///
    /// # Errors
    /// [`ConfigError`] for an unreadable `.env`, a malformed value, or a missing/default secret in
    /// production.
    pub fn from_env() -> Result<Self, ConfigError> {
        let dotenv = match std::fs::read_to_string(Path::new(".env")) {
            Ok(text) => parse_dotenv(&text)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(ConfigError::DotEnv { line: 0, reason: e.to_string() }),
        };
        Self::from_lookup(|key| std::env::var(key).ok().or_else(|| dotenv.get(key).cloned()))
    }

    /// Reads the configuration from any key → value source.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] for a malformed value; [`ConfigError::InsecureSecret`] in production with a
    /// missing, short or default `SECRET_KEY`.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::server::Config;
    /// let prod = |k: &str| match k {
    ///     "BATTSENTINEL_ENV" => Some("production".to_string()),
    ///     _ => None,
    /// };
    /// assert!(Config::from_lookup(prod).is_err()); // no SECRET_KEY in production
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let mut c = Self::development("sqlite://battsentinel.db");
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        if let Some(v) = get("BATTSENTINEL_ENV") {
            c.environment = match v.to_ascii_lowercase().as_str() {
                "development" | "dev" => Environment::Development,
                "production" | "prod" => Environment::Production,
                _ => return Err(invalid("BATTSENTINEL_ENV", &v, "expected development or production")),
            };
        }
        if let Some(v) = get("DATABASE_URL") {
            if !(v.starts_with("sqlite:") || v.starts_with("postgres://") || v.starts_with("postgresql://")) {
                return Err(invalid("DATABASE_URL", &v, "expected sqlite://… or postgres://…"));
            }
            c.database_url = v;
        }
        match get("SECRET_KEY") {
            Some(v) => c.secret_key = v,
            None if c.environment == Environment::Production => {
                return Err(ConfigError::InsecureSecret { reason: "SECRET_KEY is not set" })
            }
            None => {}
        }
        if c.environment == Environment::Production {
            if c.secret_key == DEVELOPMENT_SECRET {
                return Err(ConfigError::InsecureSecret { reason: "SECRET_KEY is the development default" });
            }
            if c.secret_key.chars().count() < 32 {
                return Err(ConfigError::InsecureSecret {
                    reason: "SECRET_KEY is shorter than 32 characters",
                });
            }
        }
        let host = get("HOST").unwrap_or_else(|| "127.0.0.1".to_string());
        let port: u16 = parse(&get, "PORT", 5000)?;
        let ip: std::net::IpAddr =
            host.parse().map_err(|_| invalid("HOST", &host, "expected an IP address such as 127.0.0.1"))?;
        c.bind = SocketAddr::new(ip, port);
        if let Some(v) = get("CORS_ORIGINS") {
            c.cors_origins = split_list(&v);
            for o in &c.cors_origins {
                if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
                    return Err(invalid("CORS_ORIGINS", o, "expected origins like https://app.example.com"));
                }
            }
        }
        c.max_upload_bytes = parse(&get, "MAX_UPLOAD_BYTES", c.max_upload_bytes)?;
        c.max_json_bytes = parse(&get, "MAX_JSON_BYTES", c.max_json_bytes)?;
        c.token_ttl_s = parse(&get, "TOKEN_TTL_S", c.token_ttl_s)?;
        c.login_max_failures = parse(&get, "LOGIN_MAX_FAILURES", c.login_max_failures)?;
        c.login_window_s = parse(&get, "LOGIN_WINDOW_S", c.login_window_s)?;
        c.db_max_connections = parse(&get, "DB_MAX_CONNECTIONS", c.db_max_connections)?;
        if c.token_ttl_s == 0 || c.db_max_connections == 0 || c.max_upload_bytes == 0 || c.max_json_bytes == 0
        {
            return Err(invalid(
                "TOKEN_TTL_S/DB_MAX_CONNECTIONS/MAX_*_BYTES",
                "0",
                "must be greater than zero",
            ));
        }
        if let Some(v) = get("ADMIN_USERNAMES") {
            c.admin_usernames = split_list(&v);
        }
        if let Some(v) = get("LOG_LEVEL").or_else(|| get("RUST_LOG")) {
            c.log_level = v;
        }
        if let Some(v) = get("LOG_FORMAT") {
            c.log_json = match v.as_str() {
                "json" => true,
                "text" => false,
                _ => return Err(invalid("LOG_FORMAT", &v, "expected text or json")),
            };
        }
        Ok(c)
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> ConfigError {
    ConfigError::Invalid { key: key.to_string(), value: value.to_string(), reason: reason.to_string() }
}

fn parse<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
    default: T,
) -> Result<T, ConfigError> {
    match get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| invalid(key, &v, "not a valid non-negative integer")),
    }
}

fn split_list(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Parses `.env` text: `KEY=VALUE` lines, `#` comments, optional `export ` prefix, optional single or double
/// quotes around the value.
///
/// # Errors
/// [`ConfigError::DotEnv`] naming the first line that is not `KEY=VALUE`.
pub fn parse_dotenv(text: &str) -> Result<HashMap<String, String>, ConfigError> {
    let mut out = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((k, v)) = line.split_once('=') else {
            return Err(ConfigError::DotEnv { line: i + 1, reason: "expected KEY=VALUE".to_string() });
        };
        let k = k.trim();
        if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ConfigError::DotEnv { line: i + 1, reason: format!("invalid key `{k}`") });
        }
        let v = v.trim();
        let v = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|&(a, b)| v.strip_prefix(a).and_then(|s| s.strip_suffix(b)))
            .unwrap_or(v);
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn defaults_are_development_on_loopback_5000() {
        let c = Config::from_lookup(lookup(&[])).unwrap();
        assert_eq!(c.environment, Environment::Development);
        assert_eq!(c.bind.to_string(), "127.0.0.1:5000");
        assert_eq!(c.database_url, "sqlite://battsentinel.db");
        assert_eq!(c.secret_key, DEVELOPMENT_SECRET);
    }

    #[test]
    fn production_refuses_missing_default_or_short_secret() {
        for secret in [None, Some(DEVELOPMENT_SECRET), Some("short")] {
            let mut pairs = vec![("BATTSENTINEL_ENV", "production")];
            if let Some(s) = secret {
                pairs.push(("SECRET_KEY", s));
            }
            let e = Config::from_lookup(lookup(&pairs)).unwrap_err();
            assert!(matches!(e, ConfigError::InsecureSecret { .. }), "{e}");
        }
        let ok = Config::from_lookup(lookup(&[
            ("BATTSENTINEL_ENV", "production"),
            ("SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ]))
        .unwrap();
        assert_eq!(ok.environment, Environment::Production);
    }

    #[test]
    fn values_are_parsed_and_validated() {
        let c = Config::from_lookup(lookup(&[
            ("PORT", "8080"),
            ("HOST", "0.0.0.0"),
            ("CORS_ORIGINS", "https://a.example, http://localhost:3000"),
            ("MAX_UPLOAD_BYTES", "1000"),
            ("DATABASE_URL", "postgres://u:p@127.0.0.1/db"),
        ]))
        .unwrap();
        assert_eq!(c.bind.to_string(), "0.0.0.0:8080");
        assert_eq!(c.cors_origins, vec!["https://a.example", "http://localhost:3000"]);
        assert_eq!(c.max_upload_bytes, 1000);
        for bad in
            [("PORT", "80000"), ("HOST", "localhost:1"), ("DATABASE_URL", "mysql://x"), ("TOKEN_TTL_S", "0")]
        {
            assert!(Config::from_lookup(lookup(&[bad])).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dotenv_lines() {
        let m = parse_dotenv("# c\nexport A=1\nB = \"two words\"\n\nC='x=y'\n").unwrap();
        assert_eq!(m["A"], "1");
        assert_eq!(m["B"], "two words");
        assert_eq!(m["C"], "x=y");
        let e = parse_dotenv("A=1\nnot a pair\n").unwrap_err();
        assert!(matches!(e, ConfigError::DotEnv { line: 2, .. }));
    }
}
