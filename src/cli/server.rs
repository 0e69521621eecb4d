//! `battsentinel serve`: the REST server (feature `server`, on by default).

use battsentinel_core::server::{init_tracing, serve_blocking, Config};

/// Runs the BattSentinel REST API. Configuration comes from the environment and `.env` (`DATABASE_URL`,
/// `SECRET_KEY`, `BATTSENTINEL_ENV`, `HOST`, `PORT`, `CORS_ORIGINS`, `MAX_UPLOAD_BYTES`, `LOG_LEVEL`, …);
/// the options below override it.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    /// Bind address (overrides HOST).
    #[arg(long)]
    pub host: Option<std::net::IpAddr>,
    /// Port (overrides PORT).
    #[arg(long)]
    pub port: Option<u16>,
    /// Database URL, `sqlite://file.db` or `postgres://…` (overrides DATABASE_URL).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Print the OpenAPI document and exit.
    #[arg(long)]
    pub print_openapi: bool,
}

/// Starts the server and blocks until Ctrl-C or SIGTERM.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    if args.print_openapi {
        println!("{}", battsentinel_core::server::openapi_json());
        return Ok(());
    }
    let mut config = Config::from_env()?;
    if let Some(h) = args.host {
        config.bind.set_ip(h);
    }
    if let Some(p) = args.port {
        config.bind.set_port(p);
    }
    if let Some(u) = args.database_url {
        anyhow::ensure!(
            u.starts_with("sqlite:") || u.starts_with("postgres://") || u.starts_with("postgresql://"),
            "--database-url must be sqlite://… or postgres://…"
        );
        config.database_url = u;
    }
    init_tracing(&config);
    serve_blocking(config)?;
    Ok(())
}
