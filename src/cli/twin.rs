//! `battsentinel twin …`: run the equivalent-circuit digital twin.

use std::path::PathBuf;

use anyhow::Context;
use battsentinel_core::twin::{simulate, CellParams, Protocol};

/// Equivalent-circuit (Thevenin) digital twin.
#[derive(clap::Args)]
pub struct TwinArgs {
    #[command(subcommand)]
    command: TwinCommand,
}

#[derive(clap::Subcommand)]
enum TwinCommand {
    /// Simulate a protocol (TOML or JSON) and write the trace as CSV (PyBaMM trace columns).
    Simulate {
        /// Protocol file (`.toml` or `.json`).
        protocol: PathBuf,
        /// Cell parameters (`.toml` or `.json`); default PyBaMM's ECM_Example.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Output CSV; default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
    /// Write the built-in ECM_Example cell parameters (TOML) as a starting point.
    Params {
        /// Output file; default standard output.
        #[arg(short = 'o', long)]
        output: Option<PathBuf>,
    },
}

fn load<T: serde::de::DeserializeOwned>(path: &PathBuf) -> anyhow::Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    } else {
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// Runs the `twin` subcommand.
pub fn run(args: TwinArgs) -> anyhow::Result<()> {
    match args.command {
        TwinCommand::Simulate { protocol, params, output } => {
            let protocol: Protocol = load(&protocol)?;
            let cell = match params {
                Some(p) => load::<CellParams>(&p)?,
                None => CellParams::ecm_example(),
            };
            let cell = cell.check()?;
            let t0 = std::time::Instant::now();
            let trace = simulate(&cell, &protocol)?;
            let elapsed = t0.elapsed();
            match output {
                Some(path) => {
                    let f = std::fs::File::create(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                    trace.write_csv(std::io::BufWriter::new(f))?;
                }
                None => trace.write_csv(std::io::stdout().lock())?,
            }
            eprintln!(
                "{} rows, {:.1} s simulated in {:.3} ms, ended by {:?}; V {:.4} → {:.4} V, SoC {:.4} → {:.4}",
                trace.len(),
                trace.time_s.last().copied().unwrap_or(0.0),
                elapsed.as_secs_f64() * 1e3,
                trace.end_reason,
                trace.voltage_v.first().copied().unwrap_or(f64::NAN),
                trace.voltage_v.last().copied().unwrap_or(f64::NAN),
                trace.soc.first().copied().unwrap_or(f64::NAN),
                trace.soc.last().copied().unwrap_or(f64::NAN),
            );
            Ok(())
        }
        TwinCommand::Params { output } => {
            let text = toml::to_string(&CellParams::ecm_example())?;
            match output {
                Some(path) => {
                    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?
                }
                None => print!("{text}"),
            }
            Ok(())
        }
    }
}
