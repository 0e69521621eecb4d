//! Header → channel mapping: English and Spanish aliases, units read from the header, format-specific rules
//! (Maccor `Aux #n` + `Units` pairs, Neware's step `Time` versus `Cumulative Time`), and user overrides.

use super::options::MappingOverride;
use super::text::{self, key, name_is_temperature, parse_unit, split_header, Num, Quantity, Unit};
use crate::data::{ColumnMapping, StepKind};

/// What a source column becomes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Role {
    /// Elapsed time (numbers × scale, durations, or date-times turned relative).
    Time,
    /// Absolute date-time (or epoch seconds): gives `start_time`, and the time axis when there is no `Time`.
    AbsTime,
    Voltage,
    Current,
    Temperature(String),
    Cycle,
    Step,
    Kind,
    ChargeCapacity,
    DischargeCapacity,
    /// One capacity column for both directions (`Capacity(Ah)`, `Amp-hr`): split after the current sign is
    /// known (step kind, else the sign of the current, else of the capacity).
    Capacity,
    ChargeEnergy,
    DischargeEnergy,
    /// Another numeric column.
    Extra(String),
    /// Another time-like column (numbers × scale or durations), in seconds.
    ExtraTime(String),
    Ignored,
}

/// How one source column is read.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColPlan {
    pub header: String,
    pub role: Role,
    pub unit_found: String,
    pub unit_si: String,
    pub scale: f64,
    pub offset: f64,
}

impl ColPlan {
    fn new(header: &str, role: Role, unit_found: &str, unit: Option<Unit>) -> Self {
        let (unit_si, scale, offset) = match unit {
            Some(u) => (u.si.to_string(), u.scale, u.offset),
            None => (unit_found.to_string(), 1.0, 0.0),
        };
        Self { header: header.to_string(), role, unit_found: unit_found.to_string(), unit_si, scale, offset }
    }

    /// The mapping entry reported in [`crate::data::LogMeta::mapping`].
    pub fn mapping(&self) -> ColumnMapping {
        let channel = match &self.role {
            Role::Time => "time_s".to_string(),
            Role::AbsTime => "datetime".to_string(),
            Role::Voltage => "voltage_v".to_string(),
            Role::Current => "current_a".to_string(),
            Role::Temperature(n) => format!("temperature:{n}"),
            Role::Cycle => "cycle_index".to_string(),
            Role::Step => "step_index".to_string(),
            Role::Kind => "step_kind".to_string(),
            Role::ChargeCapacity => "charge_capacity_ah".to_string(),
            Role::DischargeCapacity => "discharge_capacity_ah".to_string(),
            Role::Capacity => "capacity_ah".to_string(),
            Role::ChargeEnergy => "charge_energy_wh".to_string(),
            Role::DischargeEnergy => "discharge_energy_wh".to_string(),
            Role::Extra(n) | Role::ExtraTime(n) => format!("extra:{n}"),
            Role::Ignored => "ignored".to_string(),
        };
        ColumnMapping {
            header: self.header.clone(),
            channel,
            unit_found: self.unit_found.clone(),
            scale: self.scale,
            offset: self.offset,
        }
    }
}

/// What the first data rows of a column look like.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ColStats {
    pub nonempty: usize,
    pub numeric: usize,
    pub durations: usize,
    pub datetimes: usize,
}

impl ColStats {
    pub fn is_text(&self) -> bool {
        self.nonempty > 0 && self.numeric == 0 && self.durations == 0 && self.datetimes == 0
    }
}

/// Statistics of every column over sample rows.
pub(crate) fn column_stats(ncols: usize, sample: &[Vec<String>], decimal_comma: bool) -> Vec<ColStats> {
    let mut st = vec![ColStats::default(); ncols];
    for row in sample {
        for (s, cell) in st.iter_mut().zip(row) {
            let b = cell.as_bytes();
            if text::trim(b).is_empty() || text::is_missing_marker(b) {
                continue;
            }
            s.nonempty += 1;
            match text::parse_num(b, decimal_comma) {
                Num::Value(_) => s.numeric += 1,
                Num::Missing => {}
                Num::Bad => {
                    if text::parse_duration(b).is_some() {
                        s.durations += 1;
                    } else if text::parse_datetime(b).is_some() {
                        s.datetimes += 1;
                    }
                }
            }
        }
    }
    st
}

const TIME_MAIN: &[&str] = &[
    "testtime",
    "totaltime",
    "cumulativetime",
    "elapsedtime",
    "runtime",
    "tiempototal",
    "tiempotranscurrido",
    "xvalue",
];
const TIME_PLAIN: &[&str] = &["time", "tiempo", "t", "times", "timesec"];
const ABS_TIME: &[&str] = &[
    "datetime",
    "date",
    "timestamp",
    "fecha",
    "fechahora",
    "realtime",
    "systime",
    "dpttime",
    "datetimeutc",
    "absolutetime",
];
const STEP_TIME: &[&str] = &["steptime", "tiempodepaso", "tiempodelpaso"];
const VOLTAGE: &[&str] = &[
    "voltage",
    "volts",
    "volt",
    "ecell",
    "ewe",
    "v",
    "voltaje",
    "tension",
    "potential",
    "potencial",
    "cellvoltage",
    "u",
    "vcell",
    "voltajedecelda",
];
const CURRENT: &[&str] = &["current", "amps", "amp", "i", "corriente", "intensidad", "icell"];
const CYCLE: &[&str] =
    &["cycleindex", "cycle", "cyc", "cyclenumber", "ciclo", "numerodeciclo", "cycleid", "cyclenr"];
const STEP: &[&str] = &["stepindex", "step", "ns", "paso", "stepid", "stepnr", "numerodepaso"];
const KIND: &[&str] = &[
    "steptype",
    "state",
    "mode",
    "stepstate",
    "status",
    "tipodepaso",
    "estado",
    "tipo",
    "steptypename",
    "md",
];
const CHG_CAP: &[&str] =
    &["chargecapacity", "chgcap", "qcharge", "capacidaddecarga", "chargeah", "capacitycharge"];
const DIS_CAP: &[&str] = &[
    "dischargecapacity",
    "dchgcap",
    "qdischarge",
    "capacidaddedescarga",
    "dischargeah",
    "capacitydischarge",
];
const CHG_E: &[&str] = &["chargeenergy", "chgenergy", "energycharge", "energiadecarga"];
const DIS_E: &[&str] = &["dischargeenergy", "dchgenergy", "energydischarge", "energiadedescarga"];
const CAPACITY: &[&str] = &["capacity", "amphr", "capacidad", "ahr"];
const ENERGY: &[&str] = &["energy", "watthr", "energia", "whr"];

/// Unit implied by a name that carries none (`Amps`, `Volts`, `Amp-hr`, `Watt-hr`).
fn implied_unit(k: &str) -> Option<&'static str> {
    match k {
        "amps" | "amp" => Some("A"),
        "volts" | "volt" => Some("V"),
        "amphr" | "ahr" => Some("Ah"),
        "watthr" | "whr" => Some("Wh"),
        _ => None,
    }
}

/// Parses a user channel string (`voltage_v`, `temperature:TC1`, `extra:x`, …).
fn role_from_channel(channel: &str, header: &str) -> Option<Role> {
    let name_or = |n: &str| if n.is_empty() { header.to_string() } else { n.to_string() };
    Some(match channel {
        "time_s" | "time" => Role::Time,
        "datetime" | "start_time" => Role::AbsTime,
        "voltage_v" | "voltage" => Role::Voltage,
        "current_a" | "current" => Role::Current,
        "cycle_index" | "cycle" => Role::Cycle,
        "step_index" | "step" => Role::Step,
        "step_kind" => Role::Kind,
        "charge_capacity_ah" => Role::ChargeCapacity,
        "discharge_capacity_ah" => Role::DischargeCapacity,
        "capacity_ah" => Role::Capacity,
        "charge_energy_wh" => Role::ChargeEnergy,
        "discharge_energy_wh" => Role::DischargeEnergy,
        "ignored" => Role::Ignored,
        "temperature" | "temperature_c" => Role::Temperature(header.to_string()),
        c => {
            if let Some(n) = c.strip_prefix("temperature:") {
                Role::Temperature(name_or(n))
            } else if let Some(n) = c.strip_prefix("extra:") {
                Role::Extra(name_or(n))
            } else {
                return None;
            }
        }
    })
}

/// An error in a user mapping.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BadOverride {
    pub header: String,
    pub channel: String,
}

/// Maps `headers` to column plans.
pub(crate) fn map_columns(
    headers: &[String],
    stats: &[ColStats],
    sample: &[Vec<String>],
    overrides: &[MappingOverride],
) -> Result<Vec<ColPlan>, BadOverride> {
    let n = headers.len();
    let mut plans: Vec<Option<ColPlan>> = vec![None; n];
    // Time candidates: (priority, column).
    let mut time_cands: Vec<(u8, usize)> = Vec::new();
    let mut abs_cands: Vec<usize> = Vec::new();
    let stat = |i: usize| stats.get(i).copied().unwrap_or_default();

    for (i, h) in headers.iter().enumerate() {
        let synthetic = format!("column_{}", i + 1);
        if let Some(o) = overrides.iter().find(|o| o.header.trim() == h.trim() || o.header == synthetic) {
            let role = role_from_channel(o.channel.trim(), h.trim())
                .ok_or_else(|| BadOverride { header: o.header.clone(), channel: o.channel.clone() })?;
            let (_, unit_in_header) = split_header(h);
            let unit_str = o.unit.clone().unwrap_or(unit_in_header);
            let temp = matches!(role, Role::Temperature(_));
            let mut unit = parse_unit(&unit_str, temp);
            if matches!(role, Role::Extra(_)) && unit.is_some_and(|u| u.quantity == Quantity::Temperature) {
                unit = None;
            }
            plans[i] = Some(ColPlan::new(h, role, &unit_str, unit));
            continue;
        }
        let st = stat(i);
        let (name, mut unit_str) = split_header(h);
        let k = key(&name);
        // Maccor: `Aux #n` followed by a ` Units` column holding the unit in each row.
        if headers.get(i + 1).is_some_and(|u| key(u) == "units") && unit_str.is_empty() {
            if let Some(v) =
                sample.iter().filter_map(|r| r.get(i + 1)).map(|s| s.trim()).find(|s| !s.is_empty())
            {
                unit_str = v.to_string();
            }
        }
        if k == "units" {
            plans[i] = Some(ColPlan::new(h, Role::Ignored, "", None));
            continue;
        }
        if unit_str.is_empty() {
            if let Some(u) = implied_unit(&k) {
                unit_str = u.to_string();
            }
        }
        let temp_ctx = name_is_temperature(&name) || k.starts_with("aux");
        let unit = parse_unit(&unit_str, temp_ctx);
        let q = unit.map(|u| u.quantity);
        let plan = |role: Role| Some(ColPlan::new(h, role, &unit_str, unit));
        if h.trim().is_empty() {
            plans[i] = if st.nonempty == 0 || st.is_text() {
                Some(ColPlan::new(h, Role::Ignored, "", None))
            } else {
                Some(ColPlan::new(h, Role::Extra(synthetic), &unit_str, unit))
            };
            continue;
        }
        let timeish = q == Some(Quantity::Time) || (q.is_none() && unit_str.is_empty());
        if TIME_MAIN.contains(&k.as_str()) && timeish || (k == "test" && q == Some(Quantity::Time)) {
            time_cands.push((0, i));
            plans[i] = plan(Role::Time);
        } else if TIME_PLAIN.contains(&k.as_str()) && timeish {
            if st.datetimes > 0 && st.numeric == 0 {
                abs_cands.push(i);
                plans[i] = plan(Role::AbsTime);
            } else {
                time_cands.push((1, i));
                plans[i] = plan(Role::Time);
            }
        } else if ABS_TIME.contains(&k.as_str()) {
            abs_cands.push(i);
            plans[i] = plan(Role::AbsTime);
        } else if STEP_TIME.contains(&k.as_str())
            || ((STEP.contains(&k.as_str()) || CYCLE.contains(&k.as_str())) && q == Some(Quantity::Time))
        {
            plans[i] = plan(Role::ExtraTime(h.trim().to_string()));
        } else if q == Some(Quantity::Temperature) || (temp_ctx && q.is_none() && !st.is_text()) {
            if k.starts_with("control") {
                plans[i] = plan(Role::Extra(h.trim().to_string()));
            } else {
                plans[i] = plan(Role::Temperature(name.trim().to_string()));
            }
        } else if VOLTAGE.contains(&k.as_str()) && (q.is_none() || q == Some(Quantity::Voltage)) {
            plans[i] = plan(Role::Voltage);
        } else if CURRENT.contains(&k.as_str()) && (q.is_none() || q == Some(Quantity::Current)) {
            plans[i] = plan(Role::Current);
        } else if CYCLE.contains(&k.as_str()) && !st.is_text() {
            plans[i] = plan(Role::Cycle);
        } else if STEP.contains(&k.as_str()) && !st.is_text() {
            plans[i] = plan(Role::Step);
        } else if KIND.contains(&k.as_str()) && st.is_text() {
            plans[i] = plan(Role::Kind);
        } else if (CHG_CAP.contains(&k.as_str()) || CHG_E.contains(&k.as_str())) && !st.is_text() {
            let role = if q == Some(Quantity::Energy) || (q.is_none() && CHG_E.contains(&k.as_str())) {
                Role::ChargeEnergy
            } else {
                Role::ChargeCapacity
            };
            plans[i] = plan(role);
        } else if (DIS_CAP.contains(&k.as_str()) || DIS_E.contains(&k.as_str())) && !st.is_text() {
            let role = if q == Some(Quantity::Energy) || (q.is_none() && DIS_E.contains(&k.as_str())) {
                Role::DischargeEnergy
            } else {
                Role::DischargeCapacity
            };
            plans[i] = plan(role);
        } else if CAPACITY.contains(&k.as_str())
            && !st.is_text()
            && (q.is_none() || q == Some(Quantity::Charge))
        {
            plans[i] = plan(Role::Capacity);
        } else if st.is_text() {
            plans[i] = Some(ColPlan::new(h, Role::Ignored, &unit_str, None));
        } else if q == Some(Quantity::Time) || (st.durations > 0 && st.numeric == 0) {
            plans[i] = plan(Role::ExtraTime(h.trim().to_string()));
        } else {
            let _ = ENERGY;
            plans[i] = plan(Role::Extra(h.trim().to_string()));
        }
    }

    // The best elapsed-time column wins; other candidates become extra time channels.
    time_cands.sort_by_key(|&(p, i)| (p, i));
    for &(_, i) in time_cands.iter().skip(1) {
        if let Some(p) = plans[i].as_mut() {
            p.role = Role::ExtraTime(p.header.trim().to_string());
        }
    }
    for &i in abs_cands.iter().skip(1) {
        if let Some(p) = plans[i].as_mut() {
            p.role = Role::Ignored;
        }
    }
    // One column per core channel; later duplicates become extras.
    let mut seen: Vec<std::mem::Discriminant<Role>> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(n);
    for p in plans.into_iter().flatten() {
        let mut p = p;
        let core =
            !matches!(p.role, Role::Extra(_) | Role::ExtraTime(_) | Role::Temperature(_) | Role::Ignored);
        if core {
            let d = std::mem::discriminant(&p.role);
            if seen.contains(&d) {
                p.role = Role::Extra(p.header.trim().to_string());
            } else {
                seen.push(d);
            }
        }
        if let Role::Extra(nm) | Role::ExtraTime(nm) | Role::Temperature(nm) = &mut p.role {
            let base = nm.clone();
            let mut j = 2;
            while names.contains(nm) {
                *nm = format!("{base} ({j})");
                j += 1;
            }
            names.push(nm.clone());
        }
        if let Role::Extra(_) = p.role {
            // A temperature difference in K is not shifted by −273.15.
            if p.offset != 0.0 {
                p.unit_si = p.unit_found.clone();
                p.scale = 1.0;
                p.offset = 0.0;
            }
        }
        out.push(p);
    }
    Ok(out)
}

/// Reads a step-kind cell (`CC Chg`, `CC DChg`, `Rest`, `CHRG`, `DCHG`, Maccor `C`/`D`/`R`/`O`, LANHE
/// `C_CC`, `D_CC`, `R`, Spanish `carga`/`descarga`/`reposo`).
pub(crate) fn parse_kind(b: &[u8]) -> Option<StepKind> {
    let t = text::trim(b);
    if t.is_empty() {
        return None;
    }
    let s = String::from_utf8_lossy(t).to_lowercase();
    let kind = match s.as_str() {
        "c" => StepKind::Charge,
        "d" => StepKind::Discharge,
        "r" => StepKind::Rest,
        "o" | "s" => StepKind::Other,
        _ if s.contains("rest")
            || s.contains("pause")
            || s.contains("reposo")
            || s.contains("relax")
            || s == "ocv" =>
        {
            StepKind::Rest
        }
        _ if s.contains("eis") || s.contains("imped") => StepKind::Impedance,
        _ if s.contains("pulse") || s.contains("pulso") => StepKind::Pulse,
        _ if s.contains("dchg") || s.contains("dis") || s.contains("descarga") || s.starts_with("d_") => {
            StepKind::Discharge
        }
        _ if (s.starts_with("cv") || s.contains(" cv") || s.contains("_cv")) && !s.contains("cccv") => {
            StepKind::Cv
        }
        _ if s.contains("chg")
            || s.contains("charge")
            || s.contains("chrg")
            || s.contains("carga")
            || s.starts_with("c_") =>
        {
            StepKind::Charge
        }
        _ => StepKind::Other,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(headers: &[&str], sample: &[&[&str]]) -> Vec<Role> {
        let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
        let s: Vec<Vec<String>> = sample.iter().map(|r| r.iter().map(|c| c.to_string()).collect()).collect();
        let st = column_stats(h.len(), &s, false);
        map_columns(&h, &st, &s, &[]).unwrap().into_iter().map(|p| p.role).collect()
    }

    #[test]
    fn spanish_aliases() {
        let r = roles(
            &["tiempo (min)", "voltaje (mV)", "corriente (mA)", "temperatura (°C)", "ciclo"],
            &[&["1", "3700", "500", "25", "1"]],
        );
        assert_eq!(
            r,
            vec![
                Role::Time,
                Role::Voltage,
                Role::Current,
                Role::Temperature("temperatura".into()),
                Role::Cycle
            ]
        );
    }

    #[test]
    fn neware_prefers_cumulative_time() {
        let r = roles(&["Time", "Cumulative Time", "Voltage(V)"], &[&["00:01:00", "00:02:00", "3.1"]]);
        assert_eq!(r, vec![Role::ExtraTime("Time".into()), Role::Time, Role::Voltage]);
    }

    #[test]
    fn kinds() {
        assert_eq!(parse_kind(b"CC DChg"), Some(StepKind::Discharge));
        assert_eq!(parse_kind(b"CC Chg"), Some(StepKind::Charge));
        assert_eq!(parse_kind(b"CV Chg"), Some(StepKind::Cv));
        assert_eq!(parse_kind(b"CCCV Chg"), Some(StepKind::Charge));
        assert_eq!(parse_kind(b"REST"), Some(StepKind::Rest));
        assert_eq!(parse_kind(b"D"), Some(StepKind::Discharge));
        assert_eq!(parse_kind(b" "), None);
    }
}
