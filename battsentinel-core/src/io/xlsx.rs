//! Spreadsheets (XLSX, XLS, ODS) through `calamine`: the LANHE `Record-Tab` time series, its `Cycle-Tab`
//! summary, and any other sheet through the generic column mapping. Cells become text and go through the
//! same row engine as delimited files; `-` is a missing value.

use super::columns::{column_stats, map_columns};
use super::detect::find_header;
use super::engine::{preamble_info, Builder};
use super::error::ParseError;
use super::options::{Format, ReadOptions};
use crate::data::{BatteryLog, LogMeta};
use calamine::{Data, Reader};
use std::io::Cursor;

/// Sheet names of a workbook, `None` when it cannot be opened.
pub(crate) fn sheet_names(bytes: &[u8]) -> Option<Vec<String>> {
    calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).ok().map(|w| w.sheet_names())
}

fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty | Data::Error(_) => String::new(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => f.to_string(),
        Data::String(s) => s.clone(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => {
            let days = d.as_f64();
            if d.is_duration() {
                return (days * 86_400.0).to_string();
            }
            let base = chrono::NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|d| d.and_hms_opt(0, 0, 0));
            let ms = (days * 86_400_000.0).round();
            match base.and_then(|b| b.checked_add_signed(chrono::TimeDelta::milliseconds(ms as i64))) {
                Some(t) if ms.is_finite() => t.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                _ => days.to_string(),
            }
        }
    }
}

/// Name of the sheet read, its rows as text, and every sheet name of the workbook.
pub(crate) type SheetRows = (String, Vec<Vec<String>>, Vec<String>);

/// All rows of one sheet as text (default: `Record-Tab` when present, else the first sheet).
pub(crate) fn sheet_rows(
    bytes: &[u8],
    sheet: Option<&str>,
    opts: &ReadOptions,
) -> Result<SheetRows, ParseError> {
    let err = |reason: String| ParseError::Spreadsheet { file: opts.file_name.clone(), reason };
    let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| err(e.to_string()))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) => names
            .iter()
            .find(|n| n.as_str() == s)
            .cloned()
            .ok_or_else(|| err(format!("no sheet `{s}` (sheets: {})", names.join(", "))))?,
        None => names
            .iter()
            .find(|n| n.as_str() == "Record-Tab")
            .or_else(|| names.first())
            .cloned()
            .ok_or_else(|| err("workbook has no sheet".into()))?,
    };
    let range = wb.worksheet_range(&name).map_err(|e| err(e.to_string()))?;
    let rows = range.rows().map(|r| r.iter().map(cell_text).collect()).collect();
    Ok((name, rows, names))
}

/// Reads a time series from a spreadsheet.
pub(crate) fn read_log(bytes: &[u8], opts: &ReadOptions) -> Result<BatteryLog, ParseError> {
    let (sheet, rows, names) = sheet_rows(bytes, opts.sheet.as_deref(), opts)?;
    let format = opts.format.unwrap_or(if names.iter().any(|n| n == "Record-Tab") {
        Format::LanheXlsx
    } else {
        Format::Spreadsheet
    });
    if rows.is_empty() {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    let h = find_header(&rows, false).ok_or_else(|| ParseError::BadHeader {
        file: opts.file_name.clone(),
        line: 0,
        reason: format!("no header row found in sheet `{sheet}`"),
    })?;
    let headers = rows[h].clone();
    let sample: Vec<Vec<String>> = rows[h + 1..].iter().take(200).cloned().collect();
    let stats = column_stats(headers.len(), &sample, false);
    let plans = map_columns(&headers, &stats, &sample, &opts.mapping).map_err(|b| {
        ParseError::Params(crate::params::ParamError::invalid(
            "mapping.channel",
            &b.channel,
            &format!("unknown channel for header `{}`", b.header),
        ))
    })?;
    let mut b = Builder::new(plans, opts, false, opts.sample_interval_s, false);
    if !b.has_time_axis() {
        return Err(ParseError::NotATimeSeries {
            file: opts.file_name.clone(),
            format: format.name().to_string(),
            reason: format!("sheet `{sheet}` has no time column (use read_summary for per-cycle sheets)"),
        });
    }
    let mut rec = csv::ByteRecord::new();
    for (i, r) in rows.iter().enumerate().skip(h + 1) {
        if r.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rec.clear();
        for c in r {
            rec.push_field(c.as_bytes());
        }
        b.push(&rec, i + 1)?;
    }
    let mut info = preamble_info(&rows[..h].iter().map(|r| r.join(":")).collect::<Vec<_>>());
    info.insert("sheet".into(), sheet);
    info.insert("sheets".into(), names.join(", "));
    let meta = LogMeta {
        format: format.name().to_string(),
        source_name: opts.file_name.clone(),
        info,
        ..LogMeta::default()
    };
    b.finish(format, opts, meta)
}
