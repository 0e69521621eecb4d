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
    /// Decode and analyse a thermal image (radiometric FLIR JPEG or scaled/palette image).
    Thermal(cli::thermal::ThermalArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Version => {
            println!("battsentinel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Thermal(args) => cli::thermal::run(args),
    }
}
