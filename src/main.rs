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
    /// Evaluate alert rules over a log, or check a rule file.
    Alerts(cli::alerts::AlertsArgs),
    /// Equivalent-circuit digital twin: simulate protocols.
    Twin(cli::twin::TwinArgs),
    /// Twin identification and estimation: `fit-ecm`, `estimate-soc`, `fit-eis`, `ageing`.
    #[command(flatten)]
    TwinTop(cli::twin::TwinTopCommand),
    /// Train and apply fault models (forest, SVM, isolation forest, MLP) on CSV tables.
    Models(cli::models::ModelsArgs),
    /// Run the REST server (configuration from the environment / `.env`).
    #[cfg(feature = "server")]
    Serve(cli::server::ServerArgs),
    /// Explain a model's predictions: Kernel SHAP, exact TreeSHAP or LIME (JSON + SVG plots).
    Explain(cli::explain::ExplainArgs),
    /// Per-cycle features (capacity, efficiency, DCIR, SOH) and incremental capacity of a file.
    Features(cli::features::FeaturesArgs),
    /// Decode and analyse a thermal image (radiometric FLIR JPEG or scaled/palette image).
    Thermal(cli::thermal::ThermalArgs),
    /// Diagnose a log: fault probabilities, anomalies, SOH and RUL per cycle (table or JSON).
    Analyze(cli::analyze::AnalyzeArgs),
    /// Retrain the fault detector on labelled logs (`LABEL=FILE`, `--manifest`) plus the twin's.
    Train(cli::analyze::TrainArgs),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Io(cmd) => cli::io::run(cmd),
        Command::Version => {
            println!("battsentinel {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Command::Alerts(args) => cli::alerts::run(args),
        Command::Twin(args) => cli::twin::run(args),
        Command::TwinTop(cmd) => cli::twin::run_top(cmd),
        Command::Models(args) => cli::models::run(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => cli::server::run(args),
        Command::Explain(args) => cli::explain::run(args),
        Command::Features(args) => cli::features::run(args),
        Command::Thermal(args) => cli::thermal::run(args),
        Command::Analyze(args) => cli::analyze::run_analyze(args),
        Command::Train(args) => cli::analyze::run_train(args),
    }
}
