//! The `battsentinel` command-line program. Each area's subcommand lives in `src/cli/<area>.rs`.

mod cli;

use clap::{Parser, Subcommand};

/// BattSentinel: lithium-ion battery analytics.
#[derive(Parser)]
#[command(name = "battsentinel", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the library version and enabled features.
    Version,
    /// Run the REST server (configuration from the environment / `.env`).
    #[cfg(feature = "server")]
    Serve(cli::server::ServerArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Version => {
            println!("battsentinel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        #[cfg(feature = "server")]
        Command::Serve(args) => cli::server::run(args),
    }
}
