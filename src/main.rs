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
    /// Evaluate alert rules over a log, or check a rule file.
    Alerts(cli::alerts::AlertsArgs),
    /// Equivalent-circuit digital twin: simulate protocols.
    Twin(cli::twin::TwinArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Version => {
            println!("battsentinel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Alerts(args) => cli::alerts::run(args),
        Command::Twin(args) => cli::twin::run(args),
    }
}
