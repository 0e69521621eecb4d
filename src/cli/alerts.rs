//! `battsentinel alerts`: evaluate alert rules over a log, or check a rule file.

use anyhow::Context;
use battsentinel_core::alerts::{evaluate, AlertEvent, Chemistry, EngineParams, RuleSet};
use battsentinel_core::BatteryLog;
use std::path::{Path, PathBuf};

/// Evaluate alert rules over a battery log and print the events, or check a rule file.
#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AlertsArgs {
    #[command(subcommand)]
    command: Option<AlertsCommand>,
    /// The log: any cycler export the io readers understand, or a `BatteryLog` serialized as JSON (`.json`).
    file: Option<PathBuf>,
    /// Rule file (TOML, or JSON with a `.json` extension). Default: the built-in Li-ion rules.
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Chemistry profile of the built-in rules (`nmc`, `lfp`), or of a rule file that defines it.
    #[arg(long)]
    chemistry: Option<String>,
    /// Battery id (rules are filtered by their scope).
    #[arg(long)]
    battery: Option<String>,
    /// Gap threshold (s): windows and timers restart after a longer step.
    #[arg(long, default_value_t = 300.0)]
    max_gap_s: f64,
    /// Print the events as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Subcommand, Debug)]
enum AlertsCommand {
    /// Validate a rule file and list its rules.
    CheckRules {
        /// Rule file (TOML, or JSON with a `.json` extension).
        rules: PathBuf,
    },
    /// Print the built-in default rule file (TOML).
    DefaultRules,
}

fn load_rules(path: &Path) -> anyhow::Result<RuleSet> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let set = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        RuleSet::from_json_str(&text)
    } else {
        RuleSet::from_toml_str(&text)
    };
    set.map_err(|e| anyhow::anyhow!("{} [{}]: {e}", path.display(), e.code()))
}

fn read_log(path: &Path) -> anyhow::Result<BatteryLog> {
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let log = if is_json {
        // A `BatteryLog` serialized as JSON (what `io::write_json` writes, or another program built).
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str::<BatteryLog>(&text).with_context(|| format!("parsing {}", path.display()))?
    } else {
        battsentinel_core::io::read_path(path, &battsentinel_core::io::ReadOptions::default())
            .map_err(|e| anyhow::anyhow!("{} [{}]: {e}", path.display(), e.code()))?
    };
    log.validate()?;
    Ok(log)
}

fn fmt_values(e: &AlertEvent) -> String {
    e.values
        .iter()
        .map(|v| match v.value {
            Some(x) => format!("{}={x:.6}", v.name),
            None => format!("{}=NA", v.name),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Runs the subcommand.
///
/// # Errors
/// Unreadable or invalid files, with the rule and field named for rule files.
pub fn run(args: AlertsArgs) -> anyhow::Result<()> {
    match args.command {
        Some(AlertsCommand::CheckRules { rules }) => {
            let set = load_rules(&rules)?;
            println!("{}: {} rules, {} params, valid", rules.display(), set.rules.len(), set.params.len());
            for r in &set.rules {
                println!("  {:<32} {:<8} {:<7} {}", r.id, r.severity.as_str(), r.category.as_str(), r.title);
            }
            return Ok(());
        }
        Some(AlertsCommand::DefaultRules) => {
            print!("{}", battsentinel_core::alerts::DEFAULT_RULES_TOML);
            return Ok(());
        }
        None => {}
    }
    let file = args.file.context("missing FILE (or a subcommand: check-rules, default-rules)")?;
    let mut rules = match &args.rules {
        Some(p) => load_rules(p)?,
        None => RuleSet::default_li_ion(Chemistry::Nmc),
    };
    if let Some(chem) = &args.chemistry {
        rules = rules.with_profile(chem)?;
    }
    let log = read_log(&file)?;
    let mut params = EngineParams::default().max_gap_s(args.max_gap_s);
    if let Some(b) = &args.battery {
        params = params.battery_id(b.clone());
    }
    let events = evaluate(&rules, &log, params)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&events)?);
        return Ok(());
    }
    println!(
        "{:>12}  {:<9} {:<8} {:<7} {:<5} {:<30} values",
        "t_s", "event", "severity", "category", "id", "rule"
    );
    for e in &events {
        let kind = match e.kind {
            battsentinel_core::alerts::AlertEventKind::Raised => "raised",
            battsentinel_core::alerts::AlertEventKind::Escalated => "escalated",
            battsentinel_core::alerts::AlertEventKind::Cleared => "cleared",
        };
        println!(
            "{:>12.3}  {:<9} {:<8} {:<7} {:<5} {:<30} {}",
            e.t_s,
            kind,
            e.severity.as_str(),
            e.category.as_str(),
            e.alert_id,
            e.rule_id,
            fmt_values(e)
        );
    }
    println!("{} events over {} rows", events.len(), log.len());
    Ok(())
}
