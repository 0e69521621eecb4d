//! Writers: the normalised CSV (read back exactly by [`crate::io::read_bytes`] as
//! [`crate::io::Format::BattSentinelCsv`]) and JSON (the serde form of [`BatteryLog`]).

use crate::data::{BatteryLog, StepKind};
use std::io::Write;

fn kind_name(k: StepKind) -> &'static str {
    match k {
        StepKind::Charge => "charge",
        StepKind::Discharge => "discharge",
        StepKind::Rest => "rest",
        StepKind::Cv => "cv",
        StepKind::Pulse => "pulse",
        StepKind::Impedance => "impedance",
        StepKind::Other => "other",
    }
}

fn esc(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes a log as CSV in library units: a `# battsentinel` banner (and `# start_time:` when known), then
/// columns named by channel (`time_s`, `voltage_v`, `current_a` positive = discharge, `cycle_index`,
/// `step_index`, `step_kind`, capacities, energies, `temperature:<name>`, `extra:<name> [unit]`). Missing
/// values are empty cells. Reading the output back gives the same columns.
///
/// # Errors
/// Any error of the writer.
///
/// # Examples
/// ```
/// use battsentinel_core::{data::BatteryLog, io::{read_bytes, write_csv, ReadOptions}};
/// let mut log = BatteryLog::with_time(vec![0.0, 1.0]);
/// log.voltage_v = Some(vec![4.1, 4.0]);
/// let mut out = Vec::new();
/// write_csv(&log, &mut out).unwrap();
/// let back = read_bytes(&out, &ReadOptions::default()).unwrap();
/// assert_eq!(back.voltage_v, log.voltage_v);
/// ```
pub fn write_csv(log: &BatteryLog, w: impl Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    writeln!(w, "# battsentinel v1: SI units, current positive = discharge")?;
    if let Some(t) = log.start_time {
        writeln!(w, "# start_time: {}", t.format("%Y-%m-%dT%H:%M:%S%.f"))?;
    }
    enum Col<'a> {
        F(&'a [f64]),
        U(&'a [Option<u32>]),
        K(&'a [Option<StepKind>]),
    }
    let mut cols: Vec<(String, Col)> = vec![("time_s".into(), Col::F(&log.time_s))];
    for (name, c) in [
        ("voltage_v", &log.voltage_v),
        ("current_a", &log.current_a),
        ("charge_capacity_ah", &log.charge_capacity_ah),
        ("discharge_capacity_ah", &log.discharge_capacity_ah),
        ("charge_energy_wh", &log.charge_energy_wh),
        ("discharge_energy_wh", &log.discharge_energy_wh),
    ] {
        if let Some(v) = c {
            cols.push((name.into(), Col::F(v)));
        }
    }
    if let Some(v) = &log.cycle_index {
        cols.push(("cycle_index".into(), Col::U(v)));
    }
    if let Some(v) = &log.step_index {
        cols.push(("step_index".into(), Col::U(v)));
    }
    if let Some(v) = &log.step_kind {
        cols.push(("step_kind".into(), Col::K(v)));
    }
    for c in &log.temperatures_c {
        cols.push((format!("temperature:{}", c.name), Col::F(&c.values)));
    }
    for c in &log.extra {
        let h = if c.unit.is_empty() {
            format!("extra:{}", c.name)
        } else {
            format!("extra:{} [{}]", c.name, c.unit)
        };
        cols.push((h, Col::F(&c.values)));
    }
    let header: Vec<String> = cols.iter().map(|(h, _)| esc(h)).collect();
    writeln!(w, "{}", header.join(","))?;
    let mut line = String::new();
    for i in 0..log.len() {
        line.clear();
        for (j, (_, c)) in cols.iter().enumerate() {
            if j > 0 {
                line.push(',');
            }
            match c {
                Col::F(v) => {
                    if let Some(x) = v.get(i).filter(|x| x.is_finite()) {
                        line.push_str(&x.to_string());
                    }
                }
                Col::U(v) => {
                    if let Some(Some(x)) = v.get(i) {
                        line.push_str(&x.to_string());
                    }
                }
                Col::K(v) => {
                    if let Some(Some(k)) = v.get(i) {
                        line.push_str(kind_name(*k));
                    }
                }
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    w.flush()
}

/// Writes a log as JSON (the serde form of [`BatteryLog`]; missing values become `null`).
///
/// # Errors
/// Any error of the writer or the serializer.
///
/// # Examples
/// ```
/// use battsentinel_core::{data::BatteryLog, io::write_json};
/// let mut out = Vec::new();
/// write_json(&BatteryLog::with_time(vec![0.0]), &mut out).unwrap();
/// assert!(String::from_utf8(out).unwrap().contains("\"time_s\":[0.0]"));
/// ```
pub fn write_json(log: &BatteryLog, w: impl Write) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(w);
    serde_json::to_writer(&mut w, log).map_err(std::io::Error::other)?;
    w.flush()
}
