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
    /// Battery data files: `inspect`, `convert`.
    #[command(flatten)]
    Io(cli::io::IoCommand),
    /// Print the library version and enabled features.
    Version,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Io(cmd) => cli::io::run(cmd),
        Command::Version => {
            println!("battsentinel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
    }
}
