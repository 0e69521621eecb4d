//! `battsentinel analyze FILE` (fault probabilities, anomalies, SOH/RUL per cycle) and
//! `battsentinel train LABEL=FILE… -o detector.json` (a detector retrained on the user's labelled logs).
//!
//! ```text
//! battsentinel analyze cell.csv                     # table, default detector
//! battsentinel analyze cell.csv --json -o report.json
//! battsentinel train normal=a.csv internal_short=b.csv --manifest more.csv -o detector.json
//! battsentinel analyze cell.csv --model detector.json
//! ```
//! Labelled input: each positional argument is `LABEL=FILE` (any log format `inspect` reads; every window of
//! the file gets the label), and/or `--manifest` names a CSV with a `file,label` header and one row per log
//! (relative paths are relative to the manifest). Labels are the class names of
//! `battsentinel_core::twin::FaultKind` (`normal`, `capacity_fade`, `resistance_rise`, `internal_short`,
//! `overcharge`, `overdischarge`, `cooling_failure`, `thermal_runaway_precursor`, `sensor_fault`,
//! `cell_imbalance`). Unless `--no-twin`, the twin's labelled logs (those of the default detector) are
//! added, so a few user files still give a detector for every class.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use battsentinel_core::io::{read_path, ReadOptions};
use battsentinel_core::models::detector::{
    AnalyzeParams, DetectorReport, FaultDetector, FaultDetectorParams, LabelledRef,
};
use battsentinel_core::models::Persist;
use battsentinel_core::twin::{generate_labelled_logs, CellParams, FaultKind};
use battsentinel_core::BatteryLog;

/// Rows above which progress is reported on stderr.
const LONG_INPUT_ROWS: usize = 100_000;

/// Normalisation options shared by `analyze` and `train`.
#[derive(clap::Args, Clone)]
pub struct ScaleArgs {
    /// Nominal capacity (Ah); default: the log's metadata, else the largest charge passed in a cycle.
    #[arg(long)]
    nominal_ah: Option<f64>,
    /// Lower voltage limit per cell (V), with --v-max; default: inferred from the voltages.
    #[arg(long, requires = "v_max")]
    v_min: Option<f64>,
    /// Upper voltage limit per cell (V), with --v-min.
    #[arg(long, requires = "v_min")]
    v_max: Option<f64>,
    /// Cells in series; default: inferred from the voltage.
    #[arg(long)]
    n_series: Option<usize>,
    /// Window length (s) for logs without cycle numbers.
    #[arg(long, default_value_t = 14_400.0)]
    window_s: f64,
}

impl ScaleArgs {
    fn params(&self) -> AnalyzeParams {
        AnalyzeParams {
            nominal_capacity_ah: self.nominal_ah,
            v_min_v: self.v_min,
            v_max_v: self.v_max,
            n_series: self.n_series,
            window_s: self.window_s,
            ..AnalyzeParams::default()
        }
    }
}

/// Arguments of `battsentinel analyze`.
#[derive(clap::Args)]
pub struct AnalyzeArgs {
    /// Cycler export or log (any format `inspect` reads).
    file: PathBuf,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write the JSON report to this file (the table is still printed unless --json).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Detector file from `battsentinel train` (default: the built-in detector).
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    scale: ScaleArgs,
}

/// Arguments of `battsentinel train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// Labelled logs as `LABEL=FILE`.
    labelled: Vec<String>,
    /// CSV manifest with a `file,label` header.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Output detector file (JSON, shared model format).
    #[arg(short, long)]
    output: PathBuf,
    /// Do not add the twin's labelled logs.
    #[arg(long)]
    no_twin: bool,
    /// Trees of the classifier.
    #[arg(long, default_value_t = 80)]
    n_trees: usize,
    /// Seed of the forests.
    #[arg(long, default_value_t = battsentinel_core::models::detector::DEFAULT_SEED)]
    seed: u64,
    #[command(flatten)]
    scale: ScaleArgs,
}

fn progress(msg: &str) {
    let mut e = std::io::stderr();
    let _ = writeln!(e, "battsentinel: {msg}");
}

fn read_log(file: &Path) -> Result<BatteryLog> {
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > 8 * 1024 * 1024 {
        progress(&format!("reading {} ({} MB)…", file.display(), size / (1024 * 1024)));
    }
    read_path(file, &ReadOptions::default()).with_context(|| format!("reading {}", file.display()))
}

fn pct(p: f64) -> String {
    format!("{:5.1}", 100.0 * p)
}

fn opt(x: Option<f64>, digits: usize) -> String {
    x.filter(|v| v.is_finite()).map_or_else(|| "-".to_string(), |v| format!("{v:.digits$}"))
}

/// The table printed by `analyze`.
fn print_table(file: &Path, r: &DetectorReport) {
    let s = &r.summary;
    println!("{}: {} windows, verdict {}", file.display(), s.n_windows, s.verdict);
    println!(
        "scale: {:.4} Ah nominal ({}), {:.2}–{:.2} V per cell ({}), {} in series ({})",
        s.scale.nominal_capacity_ah,
        s.scale.sources[0],
        s.scale.v_min_v,
        s.scale.v_max_v,
        s.scale.sources[1],
        s.scale.n_series,
        s.scale.sources[2]
    );
    println!(
        "{:>6} {:>10} {:>10} {:>27} {:>6} {:>6} {:>7} {:>6}  data checks / next most likely",
        "window", "t_start_s", "t_end_s", "label", "conf%", "SOH", "anomaly", "flag"
    );
    for (k, w) in r.windows.iter().enumerate() {
        let mut ranked: Vec<(&FaultKind, &f64)> = w.probabilities.iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(a.1));
        let next = ranked
            .iter()
            .filter(|(c, _)| **c != w.label)
            .take(2)
            .map(|(c, p)| format!("{c} {:.0}%", 100.0 * **p))
            .collect::<Vec<_>>()
            .join(", ");
        let name = match w.span.cycle {
            Some(c) => format!("c{c}"),
            None => format!("w{}", k + 1),
        };
        println!(
            "{:>6} {:>10.0} {:>10.0} {:>27} {:>6} {:>6} {:>7.3} {:>6}  {}",
            name,
            w.t_start_s,
            w.t_end_s,
            w.label.as_str(),
            pct(w.confidence),
            opt(Some(w.soh), 3),
            w.anomaly_score,
            if w.is_anomaly { "ANOM" } else { "" },
            if w.data_checks.is_empty() { next } else { w.data_checks.join(", ") }
        );
    }
    println!("mean probabilities:");
    let mut mean: Vec<_> = s.mean_probabilities.iter().collect();
    mean.sort_by(|a, b| b.1.total_cmp(a.1));
    for (c, p) in mean.iter().filter(|(_, p)| **p >= 0.005) {
        println!("  {:<27} {}%", c.as_str(), pct(**p));
    }
    println!(
        "anomalous windows: {} of {} (max score {:.3})",
        s.anomalous_windows, s.n_windows, s.max_anomaly_score
    );
    println!("SOH (last window): {}", opt(Some(s.soh_last), 3));
    match &s.rul {
        Some(rul) => println!(
            "RUL: SOH {:.0}% at cycle {} [{}, {}] ({:.0}% interval, {} model, {} points); remaining {} cycles after cycle {}",
            100.0 * rul.threshold_soh,
            opt(rul.cycle_at_threshold, 0),
            opt(rul.cycle_lower, 0),
            opt(rul.cycle_upper, 0),
            100.0 * rul.interval_level,
            rul.model,
            rul.n_fit_points,
            opt(rul.remaining_cycles, 0),
            rul.last_cycle
        ),
        None => println!("RUL: not estimated (needs at least 3 windows with a full discharge)"),
    }
    if !s.data_checks.is_empty() {
        println!("data checks: {}", s.data_checks.join(", "));
    }
}

fn load_detector(model: Option<&Path>, n_rows: usize) -> Result<FaultDetector> {
    match model {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            FaultDetector::load_json(&text).with_context(|| format!("loading detector {}", p.display()))
        }
        None => {
            if n_rows > LONG_INPUT_ROWS {
                progress("building the default detector…");
            }
            Ok(FaultDetector::default_detector()?.clone())
        }
    }
}

/// Runs `battsentinel analyze`.
///
/// # Errors
/// Unreadable file or model, or a log the detector cannot use (no voltage/current, too short).
pub fn run_analyze(args: AnalyzeArgs) -> Result<()> {
    let log = read_log(&args.file)?;
    let detector = load_detector(args.model.as_deref(), log.len())?;
    if log.len() > LONG_INPUT_ROWS {
        progress(&format!("analysing {} rows…", log.len()));
    }
    let report = detector
        .analyze(&log, &args.scale.params())
        .with_context(|| format!("analysing {}", args.file.display()))?;
    if let Some(out) = &args.output {
        std::fs::write(out, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_table(&args.file, &report);
    }
    Ok(())
}

fn parse_manifest(path: &Path) -> Result<Vec<(FaultKind, PathBuf)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let header: Vec<String> = lines
        .next()
        .map(|(_, l)| l.split(',').map(|h| h.trim().to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let (Some(fi), Some(li)) =
        (header.iter().position(|h| h == "file"), header.iter().position(|h| h == "label"))
    else {
        bail!("{}: the manifest needs a header with `file` and `label` columns", path.display());
    };
    let mut out = Vec::new();
    for (n, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let (Some(f), Some(l)) = (cells.get(fi), cells.get(li)) else {
            bail!("{}:{}: expected `file,label` columns", path.display(), n + 1);
        };
        let kind = FaultKind::from_name(l)
            .with_context(|| format!("{}:{}: unknown label `{l}`", path.display(), n + 1))?;
        out.push((kind, base.join(f)));
    }
    Ok(out)
}

/// Runs `battsentinel train`.
///
/// # Errors
/// Unreadable files, unknown labels, a malformed manifest, or training data the detector cannot fit.
pub fn run_train(args: TrainArgs) -> Result<()> {
    let mut items: Vec<(FaultKind, PathBuf)> = Vec::new();
    for a in &args.labelled {
        let Some((label, file)) = a.split_once('=') else {
            bail!("`{a}`: expected LABEL=FILE (labels: {})", labels());
        };
        let kind = FaultKind::from_name(label)
            .with_context(|| format!("unknown label `{label}` (labels: {})", labels()))?;
        items.push((kind, PathBuf::from(file)));
    }
    if let Some(m) = &args.manifest {
        items.extend(parse_manifest(m)?);
    }
    if items.is_empty() && args.no_twin {
        bail!("no training data: give LABEL=FILE arguments, --manifest, or drop --no-twin");
    }
    let mut logs: Vec<(FaultKind, BatteryLog)> = Vec::new();
    for (k, (kind, file)) in items.iter().enumerate() {
        progress(&format!("[{}/{}] reading {} ({kind})", k + 1, items.len(), file.display()));
        logs.push((*kind, read_log(file)?));
    }
    let twin = if args.no_twin {
        Vec::new()
    } else {
        progress("simulating the twin's labelled logs…");
        generate_labelled_logs(&CellParams::ecm_example(), &FaultDetector::default_training())?
    };
    let user_params = args.scale.params();
    let params =
        FaultDetectorParams { n_trees: args.n_trees, seed: args.seed, ..FaultDetectorParams::default() };
    // User logs are normalised with the given options; twin logs carry their own scale in `meta.info`.
    let mut refs: Vec<LabelledRef<'_>> =
        logs.iter().map(|(k, l)| LabelledRef { log: l, label: *k }).collect();
    refs.extend(twin.iter().map(|l| LabelledRef { log: &l.log, label: l.label }));
    progress(&format!("fitting on {} logs…", refs.len()));
    let detector = FaultDetector::fit_with(&params, &refs, |i| {
        if i < logs.len() {
            user_params.clone()
        } else {
            AnalyzeParams::default()
        }
    })?;
    std::fs::write(&args.output, detector.save_json()?)
        .with_context(|| format!("writing {}", args.output.display()))?;
    println!(
        "trained on {} windows from {} logs ({} classes); saved {}",
        detector.n_training_windows(),
        refs.len(),
        detector.classes().len(),
        args.output.display()
    );
    Ok(())
}

fn labels() -> String {
    FaultKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")
}
