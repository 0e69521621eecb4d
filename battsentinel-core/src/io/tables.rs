//! Non-time-series tables: impedance spectra ([`EisSpectrum`]) and per-cycle summaries ([`CycleSummary`]).
//! Both are small, so they are read whole; rows go through the same layout planning as time series.

use super::delimited::plan_layout;
use super::detect::{self, find_header, sniff};
use super::error::ParseError;
use super::options::{Format, ReadOptions};
use super::text::{self, key, parse_unit, split_header, Num};
use crate::data::{Channel, CycleRecord, CycleSummary, EisSpectrum, LogMeta, QualityReport};
use std::collections::BTreeMap;

/// A table as text: headers, rows (with their 1-based source line), and metadata.
struct TextTable {
    format: Format,
    headers: Vec<String>,
    rows: Vec<(usize, Vec<String>)>,
    info: BTreeMap<String, String>,
    decimal_comma: bool,
}

fn load_table(
    bytes: &[u8],
    opts: &ReadOptions,
    default_sheet: Option<&str>,
) -> Result<TextTable, ParseError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    if detect::is_zip(bytes) || detect::is_ole(bytes) {
        let sheet = opts.sheet.as_deref().or(default_sheet);
        let names = super::xlsx::sheet_names(bytes).unwrap_or_default();
        let sheet = sheet.filter(|s| names.iter().any(|n| n == s));
        let (name, rows, _) = super::xlsx::sheet_rows(bytes, sheet, opts)?;
        let h = find_header(&rows, false).ok_or_else(|| ParseError::BadHeader {
            file: opts.file_name.clone(),
            line: 0,
            reason: format!("no header row in sheet `{name}`"),
        })?;
        return Ok(TextTable {
            format: if names.iter().any(|n| n == "Cycle-Tab") {
                Format::LanheXlsx
            } else {
                Format::Spreadsheet
            },
            headers: rows[h].clone(),
            rows: rows.into_iter().enumerate().skip(h + 1).map(|(i, r)| (i + 1, r)).collect(),
            info: BTreeMap::from([("sheet".to_string(), name)]),
            decimal_comma: false,
        });
    }
    let format =
        opts.format.unwrap_or_else(|| detect::detect_prefix(bytes, opts.file_name.as_deref(), true).format);
    let s = sniff(bytes, true)
        .map_err(|e| ParseError::Encoding { file: opts.file_name.clone(), encoding: e.into() })?;
    let lay = plan_layout(&s, format, opts, true)?;
    let rows = (lay.data_line..s.text.len())
        .filter(|&i| !s.text[i].trim().is_empty() && !s.text[i].starts_with('#'))
        .map(|i| (i + 1, detect::split_fields(&s.text[i], lay.delimiter)))
        .collect();
    Ok(TextTable { format, headers: lay.headers, rows, info: lay.info, decimal_comma: lay.decimal_comma })
}

fn num(cell: Option<&String>, dc: bool) -> Num {
    cell.map_or(Num::Missing, |c| text::parse_num(c.as_bytes(), dc))
}

/// Reads an impedance spectrum from bytes: headerless `freq,Z_real,Z_imag` (impedance.py), BioLogic `.mpt`
/// (`freq/Hz`, `Re(Z)/Ohm`, `-Im(Z)/Ohm`, negated back to Im(Z)), or any table with frequency, real and
/// imaginary columns. Impedances are in Ω (mΩ scaled), capacitive imaginary parts negative.
///
/// # Errors
/// [`ParseError::MissingColumn`] when frequency, real or imaginary part is absent; [`ParseError::Empty`],
/// [`ParseError::BadHeader`], [`ParseError::Encoding`] as for time series.
///
/// # Examples
/// ```
/// use battsentinel_core::io::{read_eis_bytes, ReadOptions};
/// let s = read_eis_bytes(b"1000,0.02,-0.001\n100,0.021,-0.002\n10,0.025,-0.004\n0.1,0.04,-0.01\n", &ReadOptions::default()).unwrap();
/// assert_eq!(s.frequency_hz.len(), 4);
/// assert_eq!(s.z_imag_ohm[0], -0.001);
/// ```
pub fn read_eis_bytes(bytes: &[u8], opts: &ReadOptions) -> Result<EisSpectrum, ParseError> {
    let mut o = opts.clone();
    if o.format.is_none() {
        let d = detect::detect_prefix(bytes, opts.file_name.as_deref(), true);
        o.format = Some(
            if d.format == Format::TwoColumnTrace || d.format == Format::Generic && d.confidence < 0.5 {
                Format::EisCsv
            } else {
                d.format
            },
        );
    }
    let t = load_table(bytes, &o, None)?;
    let (mut f, mut re, mut im) = (None, None, None);
    let mut im_sign = 1.0;
    let mut scales = vec![(1.0, String::new()); t.headers.len()];
    for (i, h) in t.headers.iter().enumerate() {
        let (name, unit) = split_header(h);
        let k = key(&name);
        let u = parse_unit(&unit, false);
        scales[i] = match (u, unit.to_lowercase().as_str()) {
            (Some(u), _) => (u.scale, u.si.to_string()),
            (None, "khz") => (1e3, "Hz".to_string()),
            (None, "hz") => (1.0, "Hz".to_string()),
            _ => (1.0, unit.clone()),
        };
        if f.is_none() && (k.starts_with("freq") || k == "f") {
            f = Some(i);
        } else if re.is_none()
            && matches!(k.as_str(), "rez" | "zreal" | "zre" | "real" | "zr" | "z" | "zrealohm")
        {
            re = Some(i);
        } else if im.is_none() && matches!(k.as_str(), "imz" | "zimag" | "zim" | "imag" | "zi" | "zimagohm") {
            im = Some(i);
            if name.trim_start().starts_with('-') {
                im_sign = -1.0;
            }
        }
    }
    let missing = |c: &str| ParseError::MissingColumn { file: opts.file_name.clone(), column: c.to_string() };
    let f = f.ok_or_else(|| missing("frequency_hz"))?;
    let re = re.ok_or_else(|| missing("z_real_ohm"))?;
    let im = im.ok_or_else(|| missing("z_imag_ohm"))?;
    let mut s = EisSpectrum::default();
    let extra_cols: Vec<usize> = (0..t.headers.len())
        .filter(|&i| i != f && i != re && i != im && !t.headers[i].trim().is_empty())
        .filter(|&i| {
            t.rows.iter().take(20).any(|(_, r)| matches!(num(r.get(i), t.decimal_comma), Num::Value(_)))
        })
        .collect();
    let mut extras: Vec<Vec<f64>> = vec![Vec::new(); extra_cols.len()];
    let mut q = QualityReport::default();
    for (line, r) in &t.rows {
        q.rows_read += 1;
        let get = |i: usize| match num(r.get(i), t.decimal_comma) {
            Num::Value(v) => Some(v * scales[i].0),
            _ => None,
        };
        match (get(f), get(re), get(im)) {
            (Some(fv), Some(rv), Some(iv)) if fv.is_finite() && rv.is_finite() && iv.is_finite() => {
                s.frequency_hz.push(fv);
                s.z_real_ohm.push(rv);
                s.z_imag_ohm.push(iv * im_sign);
                for (e, &c) in extras.iter_mut().zip(&extra_cols) {
                    e.push(get(c).unwrap_or(f64::NAN));
                }
            }
            _ => {
                if opts.strict {
                    return Err(ParseError::BadValue {
                        file: opts.file_name.clone(),
                        line: *line,
                        column: t.headers[f].clone(),
                        value: r.join(","),
                    });
                }
                q.record("unparseable", None, "dropped_row", *line, 1, || {
                    format!("row without numeric frequency / Re(Z) / Im(Z): `{}`", r.join(","))
                });
            }
        }
    }
    if s.frequency_hz.is_empty() {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    q.rows_kept = s.frequency_hz.len();
    s.extra = extra_cols
        .iter()
        .zip(extras)
        .map(|(&c, v)| Channel::new(t.headers[c].trim(), scales[c].1.clone(), v))
        .collect();
    let mut mapping = Vec::new();
    for (i, ch) in [(f, "frequency_hz"), (re, "z_real_ohm"), (im, "z_imag_ohm")] {
        mapping.push(crate::data::ColumnMapping {
            header: t.headers[i].clone(),
            channel: ch.to_string(),
            unit_found: split_header(&t.headers[i]).1,
            scale: scales[i].0 * if i == im { im_sign } else { 1.0 },
            offset: 0.0,
        });
    }
    s.meta = LogMeta {
        format: t.format.name().to_string(),
        source_name: opts.file_name.clone(),
        mapping,
        info: t.info,
        ..LogMeta::default()
    };
    s.quality = q;
    Ok(s)
}

#[derive(Clone, Copy, PartialEq)]
enum SumField {
    Cycle,
    Label,
    ChgCap,
    DisCap,
    ChgE,
    DisE,
    Ce,
    Ee,
    Vmin,
    Vmax,
    Vavg,
    Tmin,
    Tmax,
    Tavg,
    Duration,
    Dcir,
    Soh,
    Extra,
}

fn summary_field(header: &str) -> (SumField, f64) {
    use SumField::*;
    // A whole header that names a field is not split into name and unit: `V_min`, `T_min` and
    // `Voltage_min` are minima, not quantities in minutes.
    let (name, unit) = match summary_name(header.trim()) {
        Extra => {
            let (name, unit) = split_header(header);
            // `I_min`, `P_min`: a `_min` suffix on a name that is not a time is the minimum of that quantity.
            let statistic = unit.eq_ignore_ascii_case("min")
                && header.trim().ends_with(&format!("_{unit}"))
                && !matches!(key(&name).as_str(), "time" | "duration" | "tiempo" | "steptime" | "testtime");
            if statistic {
                (header.trim().to_string(), String::new())
            } else {
                (name, unit)
            }
        }
        _ => (header.trim().to_string(), String::new()),
    };
    let f = summary_name(&name);
    let u = parse_unit(&unit, matches!(f, Tmin | Tmax | Tavg));
    let mut scale = u.map_or(1.0, |u| u.scale);
    if matches!(f, Ce | Ee) && unit.trim() == "%" {
        scale = 0.01;
    }
    // Capacity columns that carry an energy unit (`… (mWh)`).
    let f = match (f, u.map(|u| u.quantity)) {
        (ChgCap, Some(text::Quantity::Energy)) => ChgE,
        (DisCap, Some(text::Quantity::Energy)) => DisE,
        (f, _) => f,
    };
    (f, scale)
}

/// The field a header name (without unit) stands for; [`SumField::Extra`] when none.
fn summary_name(name: &str) -> SumField {
    use SumField::*;
    // Exact names of the battery-data-toolkit summary first (`Q_chg` is Ah, `q_chg` is normalised).
    let exact = match name.trim() {
        "Q_chg" => Some(ChgCap),
        "Q_dis" => Some(DisCap),
        "E_chg" => Some(ChgE),
        "E_dis" => Some(DisE),
        "CE" => Some(Ce),
        "EE" => Some(Ee),
        "V_min" => Some(Vmin),
        "V_max" => Some(Vmax),
        "V_avg" => Some(Vavg),
        "T_min" => Some(Tmin),
        "T_max" => Some(Tmax),
        "T_avg" => Some(Tavg),
        "tsecs_cycle" => Some(Duration),
        "q_chg" | "q_dis" | "e_chg" | "e_dis" => Some(Extra),
        _ => None,
    };
    let k = key(name);
    exact.unwrap_or(match k.as_str() {
        "cycleindex" | "cycle" | "cycleid" | "cyclenumber" | "ciclo" | "cyc" => Cycle,
        "cyclelabel" | "label" => Label,
        "chargecapacity" | "capc" | "chgcap" | "chargecap" | "capacidaddecarga" | "qcharge" => ChgCap,
        "dischargecapacity" | "capd" | "dchgcap" | "dischargecap" | "capacidaddedescarga" | "qdischarge" => {
            DisCap
        }
        "chargeenergy" | "energyc" | "chgenergy" | "energiadecarga" | "energycharge" => ChgE,
        "dischargeenergy" | "energyd" | "dchgenergy" | "energiadedescarga" | "energydischarge" => DisE,
        "ce" | "coulombicefficiency" | "efficiency" | "chgdchgeff" | "eficiencia" => Ce,
        "ee" | "energyefficiency" => Ee,
        "minvoltage" | "vmin" | "voltagemin" | "voltajemin" | "tensionmin" => Vmin,
        "maxvoltage" | "vmax" | "voltagemax" => Vmax,
        "meanvoltage" | "avgvoltage" | "vavg" | "voltagemean" => Vavg,
        "mintemperature" | "tmin" | "temperaturemin" | "tempmin" | "temperaturamin" => Tmin,
        "maxtemperature" | "tmax" => Tmax,
        "meantemperature" | "avgtemperature" | "tavg" => Tavg,
        "duration" | "cycletime" | "cycleduration" => Duration,
        "dcir" | "internalresistance" => Dcir,
        "soh" => Soh,
        _ => Extra,
    })
}

/// Reads a per-cycle summary from bytes: battery-data-toolkit `*-summary.csv`, batteryarchive.org cycle
/// data, LANHE `Cycle-Tab` (XLSX), or any table with a cycle column. Capacities in Ah, energies in Wh,
/// efficiencies as fractions; every other numeric column goes to [`CycleRecord::extra`] under its header.
///
/// # Errors
/// [`ParseError::MissingColumn`] without a cycle column; [`ParseError::Empty`], [`ParseError::BadHeader`],
/// [`ParseError::Spreadsheet`] otherwise.
///
/// # Examples
/// ```
/// use battsentinel_core::io::{read_summary_bytes, ReadOptions};
/// let csv = b"Cycle_Index,Discharge_Capacity (mAh)\n1,1290\n2,1285\n";
/// let s = read_summary_bytes(csv, &ReadOptions::default()).unwrap();
/// assert_eq!(s.cycles.len(), 2);
/// assert!((s.cycles[0].discharge_capacity_ah - 1.29).abs() < 1e-12);
/// ```
pub fn read_summary_bytes(bytes: &[u8], opts: &ReadOptions) -> Result<CycleSummary, ParseError> {
    let t = load_table(bytes, opts, Some("Cycle-Tab"))?;
    let fields: Vec<(SumField, f64)> = t.headers.iter().map(|h| summary_field(h)).collect();
    let mut taken: Vec<SumField> = Vec::new();
    let fields: Vec<(SumField, f64)> = fields
        .into_iter()
        .map(|(f, s)| {
            if f != SumField::Extra && taken.contains(&f) {
                (SumField::Extra, s)
            } else {
                taken.push(f);
                (f, s)
            }
        })
        .collect();
    let cyc = fields
        .iter()
        .position(|(f, _)| *f == SumField::Cycle)
        .ok_or_else(|| ParseError::MissingColumn { file: opts.file_name.clone(), column: "cycle".into() })?;
    let mut out = CycleSummary::default();
    let mut q = QualityReport::default();
    for (line, r) in &t.rows {
        q.rows_read += 1;
        let cycle = match num(r.get(cyc), t.decimal_comma) {
            Num::Value(v) if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= f64::from(u32::MAX) => {
                v as u32
            }
            _ => {
                if opts.strict {
                    return Err(ParseError::BadValue {
                        file: opts.file_name.clone(),
                        line: *line,
                        column: t.headers[cyc].clone(),
                        value: r.get(cyc).cloned().unwrap_or_default(),
                    });
                }
                q.record("unparseable", Some(&t.headers[cyc]), "dropped_row", *line, 1, || {
                    format!("cycle number `{}` is not a whole number", r.get(cyc).map_or("", |s| s.as_str()))
                });
                continue;
            }
        };
        let mut rec = CycleRecord::empty(cycle);
        for (i, (f, scale)) in fields.iter().enumerate() {
            if *f == SumField::Label {
                rec.label = r.get(i).map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                continue;
            }
            let v = match num(r.get(i), t.decimal_comma) {
                Num::Value(v) => v * scale,
                Num::Missing => f64::NAN,
                Num::Bad => continue,
            };
            let slot = match f {
                SumField::ChgCap => &mut rec.charge_capacity_ah,
                SumField::DisCap => &mut rec.discharge_capacity_ah,
                SumField::ChgE => &mut rec.charge_energy_wh,
                SumField::DisE => &mut rec.discharge_energy_wh,
                SumField::Ce => &mut rec.coulombic_efficiency,
                SumField::Ee => &mut rec.energy_efficiency,
                SumField::Vmin => &mut rec.voltage_min_v,
                SumField::Vmax => &mut rec.voltage_max_v,
                SumField::Vavg => &mut rec.voltage_mean_v,
                SumField::Tmin => &mut rec.temperature_min_c,
                SumField::Tmax => &mut rec.temperature_max_c,
                SumField::Tavg => &mut rec.temperature_mean_c,
                SumField::Duration => &mut rec.duration_s,
                SumField::Dcir => &mut rec.dcir_ohm,
                SumField::Soh => &mut rec.soh,
                SumField::Extra => {
                    if !t.headers[i].trim().is_empty() {
                        rec.extra.insert(t.headers[i].trim().to_string(), v);
                    }
                    continue;
                }
                SumField::Cycle | SumField::Label => continue,
            };
            *slot = v;
        }
        out.cycles.push(rec);
    }
    if out.cycles.is_empty() {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    q.rows_kept = out.cycles.len();
    out.meta = LogMeta {
        format: t.format.name().to_string(),
        source_name: opts.file_name.clone(),
        mapping: t
            .headers
            .iter()
            .zip(&fields)
            .map(|(h, (f, s))| crate::data::ColumnMapping {
                header: h.clone(),
                channel: summary_channel(*f, h),
                unit_found: split_header(h).1,
                scale: *s,
                offset: 0.0,
            })
            .collect(),
        info: t.info,
        ..LogMeta::default()
    };
    out.quality = q;
    Ok(out)
}

fn summary_channel(f: SumField, h: &str) -> String {
    use SumField::*;
    match f {
        Cycle => "cycle",
        Label => "label",
        ChgCap => "charge_capacity_ah",
        DisCap => "discharge_capacity_ah",
        ChgE => "charge_energy_wh",
        DisE => "discharge_energy_wh",
        Ce => "coulombic_efficiency",
        Ee => "energy_efficiency",
        Vmin => "voltage_min_v",
        Vmax => "voltage_max_v",
        Vavg => "voltage_mean_v",
        Tmin => "temperature_min_c",
        Tmax => "temperature_max_c",
        Tavg => "temperature_mean_c",
        Duration => "duration_s",
        Dcir => "dcir_ohm",
        Soh => "soh",
        Extra => return format!("extra:{}", h.trim()),
    }
    .to_string()
}
