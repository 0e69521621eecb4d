//! The REST server alone, without the CLI (what `battsentinel serve` runs), for the server's fuzzing and
//! load scripts: `scripts/server-schemathesis.sh`, `benches/server_load.sh`.
//!
//! Run with: cargo run -p battsentinel-core --features server --example serve_api
//! (configuration from the environment and `.env`, as `battsentinel serve`).

#[cfg(feature = "server")]
fn main() -> Result<(), Box<dyn std::error::Error>> {
    use battsentinel_core::server::{init_tracing, serve_blocking, Config};
    let config = Config::from_env()?;
    init_tracing(&config);
    serve_blocking(config)?;
    Ok(())
}

#[cfg(not(feature = "server"))]
fn main() {
    eprintln!("build with --features server");
}
