//! Streaming reader for every delimited-text layout: plans the layout from the prefix (preamble, header,
//! delimiter, synthetic headers for headerless files), then feeds csv `ByteRecord`s to the row engine
//! without ever holding the whole file.

use super::columns::{column_stats, map_columns, ColPlan};
use super::detect::{find_header, sniff, sniff_decimal_comma, sniff_delimiter, split_fields, Sniff};
use super::engine::{preamble_info, Builder};
use super::error::ParseError;
use super::options::{Format, MappingOverride, ReadOptions};
use super::stream::{read_records, StreamCfg};
use super::text;
use crate::data::{BatteryLog, LogMeta};
use std::collections::BTreeMap;
use std::io::Read;

/// Default sampling interval of the LabVIEW thermocouple logs (`datalib/tempdata.py` of nissan-leaf-data).
pub const LVM_SAMPLE_INTERVAL_S: f64 = 3.0;

const BITRODE_HEADERS: [&str; 15] = [
    "Exclude",
    "Time(s)",
    "Cycle",
    "Loop",
    "Loop",
    "Loop",
    "Step",
    "StepTime(s)",
    "Current(A)",
    "Voltage(V)",
    "Power(W)",
    "Capacity(Ah)",
    "Energy(Wh)",
    "Mode",
    "Data",
];

/// How a text source is laid out.
pub(crate) struct Layout {
    pub delimiter: u8,
    pub headers: Vec<String>,
    /// Index (0-based) of the header line, `None` for synthetic headers.
    pub header_line: Option<usize>,
    /// Index (0-based) of the first data line.
    pub data_line: usize,
    pub decimal_comma: bool,
    pub info: BTreeMap<String, String>,
    /// Format-level mappings (after the user's).
    pub overrides: Vec<MappingOverride>,
    pub interval_s: Option<f64>,
    pub warnings: Vec<String>,
    /// First data rows, split into fields.
    pub sample: Vec<Vec<String>>,
    pub comment: Option<u8>,
}

fn strs(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// Key/value pairs of a Maccor preamble (`key:<TAB>value` pairs).
fn maccor_info(lines: &[String]) -> BTreeMap<String, String> {
    let mut info = BTreeMap::new();
    for l in lines {
        let f: Vec<&str> = l.split('\t').map(str::trim).collect();
        for w in f.windows(2) {
            if let Some(k) = w[0].strip_suffix(':') {
                if !w[1].is_empty() && !w[1].ends_with(':') {
                    info.insert(k.trim().to_string(), w[1].to_string());
                }
            }
        }
    }
    info
}

fn header_error(opts: &ReadOptions, line: usize, reason: &str) -> ParseError {
    ParseError::BadHeader { file: opts.file_name.clone(), line, reason: reason.to_string() }
}

/// Plans the layout of a text source of the given format from its first lines.
pub(crate) fn plan_layout(
    s: &Sniff,
    format: Format,
    opts: &ReadOptions,
    complete: bool,
) -> Result<Layout, ParseError> {
    let t = &s.text;
    let first_data = |from: usize| {
        (from..t.len()).find(|&i| !t[i].trim().is_empty() && !t[i].starts_with('#')).unwrap_or(t.len())
    };
    let mut lay = Layout {
        delimiter: b',',
        headers: Vec::new(),
        header_line: None,
        data_line: 0,
        decimal_comma: false,
        info: BTreeMap::new(),
        overrides: Vec::new(),
        interval_s: None,
        warnings: Vec::new(),
        sample: Vec::new(),
        comment: None,
    };
    let mut synthetic: Option<Vec<String>> = None;
    match format {
        Format::MaccorText => {
            lay.delimiter = b'\t';
            let h = t
                .iter()
                .position(|l| l.starts_with("Rec#"))
                .ok_or_else(|| header_error(opts, 0, "Maccor header row `Rec#…` not found"))?;
            lay.info = maccor_info(&t[..h]);
            lay.header_line = Some(h);
        }
        Format::PecCsv => {
            let h = t
                .iter()
                .position(|l| l.starts_with("Test,Cell,Rack"))
                .ok_or_else(|| header_error(opts, 0, "PEC header row `Test,Cell,Rack,…` not found"))?;
            let end = t.iter().position(|l| l.starts_with('#')).unwrap_or(h);
            lay.info = preamble_info(&t[..end]);
            lay.header_line = Some(h);
            lay.overrides.push(MappingOverride::new("Real Time", "datetime", None));
        }
        Format::BiologicMpt => {
            lay.delimiter = b'\t';
            let n = t
                .iter()
                .take(5)
                .find_map(|l| {
                    l.strip_prefix("Nb header lines :").and_then(|v| v.trim().parse::<usize>().ok())
                })
                .ok_or_else(|| header_error(opts, 2, "`Nb header lines : N` not found"))?;
            if n == 0 || n > t.len() {
                return Err(header_error(opts, 2, "header line count out of range"));
            }
            lay.info = preamble_info(&t[..n - 1]);
            lay.header_line = Some(n - 1);
        }
        Format::NewareHierarchical => {
            if t.len() < 3 {
                return Err(header_error(opts, 1, "Neware 3-level export needs three header lines"));
            }
            lay.info.insert("cycle_header".into(), t[0].clone());
            lay.info.insert("step_header".into(), t[1].clone());
            lay.header_line = Some(2);
        }
        Format::PybammDriveCycle => {
            let c = t.iter().take_while(|l| l.starts_with('#')).count();
            if c > 0 && t[c - 1].contains("time") {
                lay.headers = split_fields(t[c - 1].trim_start_matches('#').trim(), b',');
                lay.data_line = first_data(c);
                lay.info = BTreeMap::from([("comment".to_string(), t[..c - 1].join(" "))]);
            } else {
                lay.header_line = Some(first_data(0));
            }
            lay.comment = Some(b'#');
        }
        Format::BitrodeCsv => {
            let d = first_data(0);
            if t.get(d).is_some_and(|l| l.starts_with("Exclude")) {
                lay.header_line = Some(d);
            } else {
                synthetic = Some(strs(&BITRODE_HEADERS));
                lay.data_line = d;
                lay.warnings.push("headerless Bitrode file: standard Bitrode column order assumed".into());
            }
            lay.overrides.push(MappingOverride::new("Data", "ignored", None));
            lay.overrides.push(MappingOverride::new("Exclude", "ignored", None));
        }
        Format::LabviewLvm => {
            lay.delimiter = b'\t';
            let ends: Vec<usize> = t
                .iter()
                .enumerate()
                .filter(|(_, l)| l.starts_with("***End_of_Header***"))
                .map(|(i, _)| i)
                .collect();
            if let Some(&e) = ends.last() {
                lay.header_line = Some(first_data(e + 1));
            } else {
                let d = first_data(0);
                let n = t.get(d).map(|l| split_fields(l, b'\t').len()).unwrap_or(0);
                let mut h = Vec::with_capacity(n);
                for i in 0..n {
                    let empty_first = i == 0 && t.get(d).is_some_and(|l| l.starts_with('\t'));
                    h.push(if empty_first { String::new() } else { format!("TC{} (°C)", h.len()) });
                }
                if h.first().is_some_and(|s| !s.is_empty()) {
                    h = (1..=n).map(|i| format!("TC{i} (°C)")).collect();
                }
                synthetic = Some(h);
                lay.data_line = d;
                lay.interval_s = Some(LVM_SAMPLE_INTERVAL_S);
                lay.warnings.push(format!(
                    "LabVIEW log without a time column: channels read as thermocouples TC1…TCn in °C, sampled every {} s (set ReadOptions::sample_interval_s to change)",
                    opts.sample_interval_s.unwrap_or(LVM_SAMPLE_INTERVAL_S)
                ));
            }
        }
        Format::TwoColumnTrace => {
            let d = first_data(0);
            lay.delimiter = sniff_delimiter(t);
            let name = opts.file_name.as_deref().unwrap_or("").to_lowercase();
            let second = if name.contains("temp") { "temperature_rise [K]" } else { "voltage [V]" };
            if name.contains("temp") {
                lay.overrides.push(MappingOverride::new(second, "extra:temperature_rise", Some("K")));
            }
            synthetic = Some(strs(&["time [s]", second]));
            lay.data_line = d;
        }
        Format::EisCsv => {
            let d = first_data(0);
            lay.delimiter = sniff_delimiter(t);
            synthetic = Some(strs(&["frequency [Hz]", "z_real [Ohm]", "z_imag [Ohm]"]));
            lay.data_line = d;
        }
        _ => {
            lay.comment = Some(b'#');
        }
    }
    if let Some(d) = opts.delimiter {
        lay.delimiter = d;
    } else if !matches!(
        format,
        Format::MaccorText
            | Format::BiologicMpt
            | Format::LabviewLvm
            | Format::TwoColumnTrace
            | Format::EisCsv
            | Format::PybammDriveCycle
            | Format::PecCsv
            | Format::NewareHierarchical
    ) {
        lay.delimiter = sniff_delimiter(t);
    }
    let split = |i: usize| split_fields(&t[i], lay.delimiter);
    if lay.header_line.is_none() && lay.headers.is_empty() && synthetic.is_none() {
        // Generic: find the header after any preamble.
        let start = first_data(0);
        let rows: Vec<Vec<String>> = (start..t.len()).map(split).collect();
        lay.decimal_comma = sniff_decimal_comma(t, lay.delimiter);
        let header_only = rows.len() == 1
            && find_header(&[rows[0].clone(), vec![String::from("0"); rows[0].len()]], false) == Some(0);
        match find_header(&rows, lay.decimal_comma).or(header_only.then_some(0)) {
            Some(h) => {
                lay.header_line = Some(start + h);
                if h > 0 {
                    lay.info = preamble_info(&t[start..start + h]);
                }
            }
            None => {
                let n = rows.first().map(Vec::len).unwrap_or(0);
                synthetic = Some((1..=n).map(|i| format!("column_{i}")).collect());
                lay.data_line = start;
                lay.warnings.push("no header row: columns named column_1, column_2, …".into());
            }
        }
    }
    if let Some(h) = lay.header_line {
        if h >= t.len() {
            return Err(header_error(opts, h + 1, "header row not found in the first 256 KiB"));
        }
        lay.headers = split(h);
        lay.data_line = h + 1;
    } else if let Some(sy) = synthetic {
        lay.headers = sy;
    }
    if format == Format::BattSentinelCsv {
        // Headers are channel names (`extra:<name> [unit]`): map them exactly.
        for h in &lay.headers {
            let channel = match (h.rfind(" ["), h.ends_with(']')) {
                (Some(i), true) => &h[..i],
                _ => h.as_str(),
            };
            lay.overrides.push(MappingOverride::new(h, channel, None));
        }
        if let Some(t) =
            t.iter().take_while(|l| l.starts_with('#')).find_map(|l| l.strip_prefix("# start_time:"))
        {
            lay.info.insert("start_time".into(), t.trim().to_string());
        }
    }
    if !lay.decimal_comma {
        lay.decimal_comma = sniff_decimal_comma(&t[lay.data_line.min(t.len())..], lay.delimiter);
    }
    lay.sample = (lay.data_line..t.len().min(lay.data_line + 200))
        .filter(|&i| !t[i].trim().is_empty())
        .map(split)
        .filter(|r| format != Format::NewareHierarchical || r.len() > 1 && r[0].is_empty() && r[1].is_empty())
        .collect();
    // Headerless files may have more fields than the synthetic header list.
    if lay.header_line.is_none() {
        let n = lay.sample.iter().map(Vec::len).max().unwrap_or(0);
        while lay.headers.len() < n {
            let k = lay.headers.len() + 1;
            lay.headers.push(if format == Format::BitrodeCsv && k == 16 {
                String::new()
            } else {
                format!("column_{k}")
            });
        }
    }
    if lay.data_line >= t.len() && !complete {
        return Err(header_error(opts, lay.data_line, "no data line in the first 256 KiB"));
    }
    Ok(lay)
}

/// Builds the column plans of a layout.
pub(crate) fn plans_for(lay: &Layout, opts: &ReadOptions) -> Result<Vec<ColPlan>, ParseError> {
    let stats = column_stats(lay.headers.len(), &lay.sample, lay.decimal_comma);
    let mut ov = opts.mapping.clone();
    ov.extend(lay.overrides.iter().cloned());
    map_columns(&lay.headers, &stats, &lay.sample, &ov).map_err(|b| {
        ParseError::Params(crate::params::ParamError::invalid(
            "mapping.channel",
            &b.channel,
            &format!("unknown channel for header `{}`", b.header),
        ))
    })
}

/// Reads a time series from a text source: `prefix` holds the first bytes, `rest` the remainder.
pub(crate) fn read_log<R: Read>(
    prefix: &[u8],
    complete: bool,
    rest: R,
    format: Format,
    opts: &ReadOptions,
    size_hint: Option<u64>,
) -> Result<BatteryLog, ParseError> {
    let s = sniff(prefix, complete)
        .map_err(|enc| ParseError::Encoding { file: opts.file_name.clone(), encoding: enc.to_string() })?;
    if s.lines.is_empty() {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    let lay = plan_layout(&s, format, opts, complete)?;
    let plans = plans_for(&lay, opts)?;
    if let Some(i) = opts.sample_interval_s {
        if !(i.is_finite() && i > 0.0) {
            return Err(
                crate::params::ParamError::invalid("sample_interval_s", i, "must be finite and > 0").into()
            );
        }
    }
    let interval = opts.sample_interval_s.or(lay.interval_s);
    let hier = format == Format::NewareHierarchical;
    let mut b = Builder::new(plans, opts, lay.decimal_comma, interval, hier);
    if !b.has_time_axis() {
        return Err(ParseError::NotATimeSeries {
            file: opts.file_name.clone(),
            format: format.name().to_string(),
            reason: "no time column; set ReadOptions::sample_interval_s for evenly sampled data".into(),
        });
    }
    let start = s.lines.get(lay.data_line).map(|l| l.0).unwrap_or(prefix.len());
    let cfg = StreamCfg {
        delimiter: lay.delimiter,
        comment: lay.comment,
        line0: lay.data_line,
        hierarchical: hier,
        size_hint,
    };
    read_records(&mut b, &prefix[start..], rest, &cfg, opts)?;
    let mut meta = LogMeta {
        format: format.name().to_string(),
        source_name: opts.file_name.clone(),
        info: lay.info,
        warnings: lay.warnings,
        ..LogMeta::default()
    };
    if s.encoding == text::TextEncoding::Latin1 {
        meta.info.insert("encoding".into(), "ISO-8859-1".into());
    }
    if lay.decimal_comma {
        meta.info.insert("decimal_separator".into(), ",".into());
    }
    let mut log = b.finish(format, opts, meta)?;
    if format == Format::BattSentinelCsv && log.start_time.is_none() {
        log.start_time = log.meta.info.get("start_time").and_then(|t| text::parse_datetime(t.as_bytes()));
    }
    Ok(log)
}
