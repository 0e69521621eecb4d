//! `battsentinel inspect FILE` and `battsentinel convert FILE --to csv|json`: what a battery data file holds
//! and its normalised form.

use anyhow::Context;
use battsentinel_core::data::BatteryLog;
use battsentinel_core::io::{self, ParseError, ReadOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The `io` subcommands.
#[derive(clap::Subcommand)]
pub enum IoCommand {
    /// Detect a file's format and show its channels, units, row count, quality report and cycles.
    Inspect(InspectArgs),
    /// Write a file's normalised channels (SI units, current positive = discharge) as CSV or JSON.
    Convert(ConvertArgs),
}

/// Arguments of `inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The file to inspect.
    pub file: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    /// Sheet of a spreadsheet to read.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Sampling interval (s) for files without a time column.
    #[arg(long)]
    pub sample_interval_s: Option<f64>,
}

/// Output format of `convert`.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum To {
    /// CSV with a `# battsentinel` banner (reads back identically).
    Csv,
    /// JSON (serde form of the log, summary or spectrum).
    Json,
}

/// Arguments of `convert`.
#[derive(clap::Args)]
pub struct ConvertArgs {
    /// The file to convert.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: To,
    /// Output file (default: standard output).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Sheet of a spreadsheet to read.
    #[arg(long)]
    pub sheet: Option<String>,
    /// Sampling interval (s) for files without a time column.
    #[arg(long)]
    pub sample_interval_s: Option<f64>,
}

/// Runs an `io` subcommand.
///
/// # Errors
/// When the file cannot be read or parsed, or the output cannot be written.
pub fn run(cmd: IoCommand) -> anyhow::Result<()> {
    match cmd {
        IoCommand::Inspect(a) => inspect(&a),
        IoCommand::Convert(a) => convert(&a),
    }
}

fn options(sheet: &Option<String>, interval: Option<f64>) -> ReadOptions {
    ReadOptions { sheet: sheet.clone(), sample_interval_s: interval, ..ReadOptions::default() }
}

/// What a file turned out to be.
enum Content {
    Log(Box<BatteryLog>),
    Summary(battsentinel_core::data::CycleSummary),
    Eis(battsentinel_core::data::EisSpectrum),
}

fn load(path: &Path, opts: &ReadOptions) -> anyhow::Result<Content> {
    match io::read_path(path, opts) {
        Ok(log) => Ok(Content::Log(Box::new(log))),
        Err(ParseError::NotATimeSeries { format, .. })
            if format.contains("eis") || format.contains("mpt") =>
        {
            Ok(Content::Eis(io::read_eis_path(path, opts)?))
        }
        Err(ParseError::NotATimeSeries { format, .. })
            if format.contains("cycles") || format.contains("summary") =>
        {
            Ok(Content::Summary(io::read_summary_path(path, opts)?))
        }
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| format!("reading {}", path.display())),
    }
}

#[derive(Serialize)]
struct ChannelInfo {
    channel: String,
    unit: String,
    min: Option<f64>,
    max: Option<f64>,
    missing: usize,
}

fn channel_info(name: &str, unit: &str, v: &[f64]) -> ChannelInfo {
    let fin = v.iter().filter(|x| x.is_finite());
    let min = fin.clone().copied().reduce(f64::min);
    let max = fin.copied().reduce(f64::max);
    ChannelInfo {
        channel: name.to_string(),
        unit: unit.to_string(),
        min,
        max,
        missing: v.iter().filter(|x| !x.is_finite()).count(),
    }
}

fn channels(log: &BatteryLog) -> Vec<ChannelInfo> {
    let mut out = vec![channel_info("time_s", "s", &log.time_s)];
    for (n, u, c) in [
        ("voltage_v", "V", &log.voltage_v),
        ("current_a", "A (+ = discharge)", &log.current_a),
        ("charge_capacity_ah", "Ah", &log.charge_capacity_ah),
        ("discharge_capacity_ah", "Ah", &log.discharge_capacity_ah),
        ("charge_energy_wh", "Wh", &log.charge_energy_wh),
        ("discharge_energy_wh", "Wh", &log.discharge_energy_wh),
    ] {
        if let Some(v) = c {
            out.push(channel_info(n, u, v));
        }
    }
    for (n, c) in [("cycle_index", &log.cycle_index), ("step_index", &log.step_index)] {
        if let Some(v) = c {
            let f: Vec<f64> = v.iter().map(|x| x.map_or(f64::NAN, f64::from)).collect();
            out.push(channel_info(n, "", &f));
        }
    }
    for c in &log.temperatures_c {
        out.push(channel_info(&format!("temperature:{}", c.name), "°C", &c.values));
    }
    for c in &log.extra {
        out.push(channel_info(&format!("extra:{}", c.name), &c.unit, &c.values));
    }
    out
}

/// Per-cycle rows, time span and voltage range (capacity and energy features live in `features`).
#[derive(Serialize)]
struct CycleRow {
    cycle: u32,
    rows: usize,
    duration_s: f64,
    voltage_min_v: f64,
    voltage_max_v: f64,
}

fn cycles(log: &BatteryLog) -> Vec<CycleRow> {
    let Some(ci) = &log.cycle_index else { return Vec::new() };
    let mut map: BTreeMap<u32, (usize, f64, f64, f64, f64)> = BTreeMap::new();
    for (i, c) in ci.iter().enumerate() {
        let Some(c) = c else { continue };
        let v = log.voltage_v.as_ref().map_or(f64::NAN, |v| v[i]);
        let t = log.time_s[i];
        let e = map.entry(*c).or_insert((0, t, t, f64::INFINITY, f64::NEG_INFINITY));
        e.0 += 1;
        e.1 = e.1.min(t);
        e.2 = e.2.max(t);
        if v.is_finite() {
            e.3 = e.3.min(v);
            e.4 = e.4.max(v);
        }
    }
    map.into_iter()
        .map(|(cycle, (rows, t0, t1, vmin, vmax))| CycleRow {
            cycle,
            rows,
            duration_s: t1 - t0,
            voltage_min_v: if vmin.is_finite() { vmin } else { f64::NAN },
            voltage_max_v: if vmax.is_finite() { vmax } else { f64::NAN },
        })
        .collect()
}

fn detection(path: &Path) -> anyhow::Result<io::Detection> {
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = Vec::new();
    std::io::Read::by_ref(&mut f).take(256 * 1024).read_to_end(&mut buf)?;
    if buf.len() == 256 * 1024 && (buf.starts_with(b"PK") || buf.starts_with(&[0xD0, 0xCF])) {
        buf = std::fs::read(path)?;
    }
    Ok(io::detect(&buf, path.file_name().and_then(|s| s.to_str())))
}

use std::io::Read as _;

fn inspect(a: &InspectArgs) -> anyhow::Result<()> {
    let opts = options(&a.sheet, a.sample_interval_s);
    let det = detection(&a.file)?;
    let content = load(&a.file, &opts)?;
    let mut out = std::io::stdout().lock();
    match content {
        Content::Log(log) => {
            let ch = channels(&log);
            let cyc = cycles(&log);
            if a.json {
                let v = serde_json::json!({
                    "file": a.file.display().to_string(),
                    "detection": det,
                    "format": log.meta.format,
                    "rows": log.len(),
                    "start_time": log.start_time,
                    "current_sign": log.meta.current_sign,
                    "channels": ch,
                    "mapping": log.meta.mapping,
                    "info": log.meta.info,
                    "warnings": log.meta.warnings,
                    "quality": log.quality,
                    "cycles": cyc,
                });
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(());
            }
            writeln!(out, "file:     {}", a.file.display())?;
            writeln!(
                out,
                "format:   {} (confidence {:.2}: {})",
                log.meta.format, det.confidence, det.reason
            )?;
            writeln!(out, "rows:     {} read, {} kept", log.quality.rows_read, log.quality.rows_kept)?;
            if let Some(t) = log.start_time {
                writeln!(out, "start:    {t}")?;
            }
            writeln!(out, "current:  {}", log.meta.current_sign)?;
            for w in &log.meta.warnings {
                writeln!(out, "warning:  {w}")?;
            }
            writeln!(out, "\nchannels:")?;
            for c in &ch {
                let f = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:.6}"));
                writeln!(
                    out,
                    "  {:<34} {:<18} {:>16} … {:<16} missing {}",
                    c.channel,
                    c.unit,
                    f(c.min),
                    f(c.max),
                    c.missing
                )?;
            }
            writeln!(out, "\nmapping (header → channel, unit found, scale):")?;
            for m in &log.meta.mapping {
                writeln!(out, "  {:<34} → {:<30} {:<8} ×{}", m.header, m.channel, m.unit_found, m.scale)?;
            }
            writeln!(out, "\nquality:")?;
            if log.quality.issues.is_empty() {
                writeln!(out, "  no issues")?;
            }
            for q in &log.quality.issues {
                writeln!(
                    out,
                    "  {:<20} {:<28} {:<12} {:>7} rows (lines/rows {}–{}): {}",
                    q.code,
                    q.column.as_deref().unwrap_or("-"),
                    q.action,
                    q.count,
                    q.first_line,
                    q.last_line,
                    q.detail
                )?;
            }
            if !cyc.is_empty() {
                writeln!(
                    out,
                    "\ncycles:\n  {:>6} {:>8} {:>12} {:>8} {:>8}",
                    "cycle", "rows", "duration_s", "V_min", "V_max"
                )?;
                for c in &cyc {
                    writeln!(
                        out,
                        "  {:>6} {:>8} {:>12.1} {:>8.4} {:>8.4}",
                        c.cycle, c.rows, c.duration_s, c.voltage_min_v, c.voltage_max_v
                    )?;
                }
            }
        }
        Content::Summary(s) => {
            if a.json {
                let v = serde_json::json!({ "detection": det, "summary": s });
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(());
            }
            writeln!(
                out,
                "file:     {}\nformat:   {} (per-cycle summary)\ncycles:   {}",
                a.file.display(),
                s.meta.format,
                s.cycles.len()
            )?;
            writeln!(
                out,
                "\n  {:>6} {:<16} {:>12} {:>12} {:>8}",
                "cycle", "label", "Q_chg_Ah", "Q_dis_Ah", "CE"
            )?;
            for c in &s.cycles {
                writeln!(
                    out,
                    "  {:>6} {:<16} {:>12.6} {:>12.6} {:>8.4}",
                    c.cycle,
                    c.label.as_deref().unwrap_or(""),
                    c.charge_capacity_ah,
                    c.discharge_capacity_ah,
                    c.coulombic_efficiency
                )?;
            }
        }
        Content::Eis(s) => {
            if a.json {
                let v = serde_json::json!({ "detection": det, "spectrum": s });
                writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
                return Ok(());
            }
            let n = s.frequency_hz.len();
            let (fmin, fmax) =
                s.frequency_hz.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            writeln!(
                out,
                "file:     {}\nformat:   {} (impedance spectrum)\npoints:   {n}\nfrequency: {fmin:.4e} … {fmax:.4e} Hz",
                a.file.display(),
                s.meta.format
            )?;
        }
    }
    Ok(())
}

fn convert(a: &ConvertArgs) -> anyhow::Result<()> {
    let opts = options(&a.sheet, a.sample_interval_s);
    let content = load(&a.file, &opts)?;
    let sink: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => Box::new(std::io::stdout().lock()),
    };
    match (content, a.to) {
        (Content::Log(log), To::Csv) => io::write_csv(&log, sink)?,
        (Content::Log(log), To::Json) => io::write_json(&log, sink)?,
        (Content::Summary(s), To::Json) => serde_json::to_writer(sink, &s)?,
        (Content::Eis(s), To::Json) => serde_json::to_writer(sink, &s)?,
        (_, To::Csv) => {
            anyhow::bail!("CSV output is for time series; use --to json for summaries and spectra")
        }
    }
    Ok(())
}
