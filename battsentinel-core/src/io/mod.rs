//! Readers for cycler exports and battery logs, with format detection and a data-quality report.
//!
//! # Tour
//! - [`read_bytes`], [`read`] (any `impl Read`, streamed) and [`read_path`] (feature `fs`) return a
//!   [`BatteryLog`] in library units: seconds, volts, amperes with **positive = discharge**, °C, Ah, Wh.
//! - [`detect`] says which [`Format`] a file is, how sure, and why, from its first bytes and name.
//! - [`read_eis_bytes`] / [`read_summary_bytes`] (and `_path`) read impedance spectra and per-cycle tables.
//! - [`write_csv`] / [`write_json`] write a log back out (the CSV reads back identically).
//!
//! Every read fills [`crate::data::QualityReport`]: rows read and kept, and each group of dropped, repaired
//! or flagged rows with its reason (`unparseable`, `missing_time`, `short_row`, `disconnected_sensor`,
//! `time_backwards`, `time_duplicate`). A row is dropped only when its time cannot be read; other unreadable
//! cells become missing (NaN). Nothing at all readable is an error ([`ParseError::BadValue`] with line and
//! column), never an empty log; [`ReadOptions::strict`] makes every unreadable cell an error.
//!
//! Formats: Arbin CSV (+ `_Metadata.csv` sidecar with [`read_path`]), Maccor text (both dialects, signed or
//! unsigned-with-State current, Latin-1), Neware flat and 3-level exports, PEC, LANHE XLSX (`calamine`; also
//! XLS / ODS), BioLogic CSV and `.mpt`, Bitrode (with or without header), LabVIEW `.lvm` (no time column:
//! sampled every [`LVM_SAMPLE_INTERVAL_S`] unless [`ReadOptions::sample_interval_s`] says otherwise),
//! batteryarchive.org, PyBaMM drive cycles and traces, two-column measured traces, and a generic reader for
//! any delimited text (delimiter, quoting, decimal comma, encoding, preamble and header sniffed; English and
//! Spanish header aliases; units from headers; the old `timestamp,voltage[,current,temperature]` files).
//!
//! Performance: the input is streamed in blocks of 8 MiB (only the first 256 KiB are held for detection,
//! never the whole file as text). Lines of plain cells are split and parsed in one pass straight into the
//! columns (in parallel with the `parallel` feature); other lines go through the general row engine, and
//! from the first quoted field on, csv's `ByteRecord` reader. Results do not depend on the path taken.

mod columns;
mod delimited;
mod detect;
mod engine;
mod error;
mod fast;
mod options;
mod stream;
mod tables;
mod text;
mod write;
mod xlsx;

pub use delimited::LVM_SAMPLE_INTERVAL_S;
pub use error::ParseError;
pub use options::{CurrentSign, Detection, Format, MappingOverride, ReadOptions};
pub use tables::{read_eis_bytes, read_summary_bytes};
pub use write::{write_csv, write_json};

use crate::data::BatteryLog;
#[cfg(feature = "fs")]
use crate::data::{CycleSummary, EisSpectrum};
use std::io::Read;

/// Detects the format of a file from its first bytes (256 KiB are plenty; fewer work for most layouts) and,
/// optionally, its file name.
///
/// # Examples
/// ```
/// use battsentinel_core::io::{detect, Format};
/// let d = detect(b"Data_Point,Test_Time,DateTime,Step_Time,Step_Index,Cycle_Index,Current,Voltage,Charge_Capacity\n", None);
/// assert_eq!(d.format, Format::ArbinCsv);
/// assert_eq!(d.confidence, 1.0);
/// ```
pub fn detect(bytes_prefix: &[u8], file_name: Option<&str>) -> Detection {
    detect::detect_prefix(bytes_prefix, file_name, bytes_prefix.len() < detect::PREFIX_LEN)
}

/// Reads a battery time series from bytes. See [`read`].
///
/// # Errors
/// As [`read`].
///
/// # Examples
/// ```
/// use battsentinel_core::io::{read_bytes, ReadOptions};
/// let csv = b"timestamp,voltage,current\n2024-01-01 00:00:00,4.10,1.5\n2024-01-01 00:00:10,4.08,1.5\n";
/// let log = read_bytes(csv, &ReadOptions::default()).unwrap();
/// assert_eq!(log.time_s, vec![0.0, 10.0]);
/// assert_eq!(log.voltage_v.as_deref(), Some(&[4.10, 4.08][..]));
/// assert_eq!(log.quality.rows_kept, 2);
/// ```
pub fn read_bytes(bytes: &[u8], opts: &ReadOptions) -> Result<BatteryLog, ParseError> {
    read_sized(bytes, opts, Some(bytes.len() as u64))
}

/// Reads a battery time series from any reader, streaming: only the first 256 KiB are buffered for
/// detection, the rest is parsed record by record (spreadsheets are read whole, as their container needs).
///
/// # Errors
/// [`ParseError::Empty`] without data; [`ParseError::Encoding`] for UTF-16; [`ParseError::BadHeader`] when a
/// layout's header is missing; [`ParseError::NotATimeSeries`] for EIS spectra, per-cycle summaries, parameter
/// tables, or tables without time (unless [`ReadOptions::sample_interval_s`]); [`ParseError::BadValue`] when
/// no row could be read (or on the first bad cell with [`ReadOptions::strict`]); [`ParseError::Io`] on read
/// failures; [`ParseError::Spreadsheet`] for broken workbooks.
///
/// # Examples
/// ```
/// use battsentinel_core::io::{read, ReadOptions};
/// let data: &[u8] = b"Tiempo (min);Voltaje (V);Corriente (mA)\n0;3,70;-500\n1;3,72;-500\n";
/// let log = read(data, &ReadOptions::default()).unwrap();
/// assert_eq!(log.time_s, vec![0.0, 60.0]);
/// // Voltage rises while the current is negative: already positive = discharge (this is a charge).
/// assert_eq!(log.current_a.as_deref(), Some(&[-0.5, -0.5][..]));
/// ```
pub fn read<R: Read>(r: R, opts: &ReadOptions) -> Result<BatteryLog, ParseError> {
    read_sized(r, opts, None)
}

/// As [`read`], with the source's length in bytes when known (a file's, a slice's): the reader then sizes
/// the columns once from the rows per byte of the first block instead of growing them by doubling (each
/// growth copies every column).
fn read_sized<R: Read>(
    mut r: R,
    opts: &ReadOptions,
    size_hint: Option<u64>,
) -> Result<BatteryLog, ParseError> {
    let io_err = |source| ParseError::Io { file: opts.file_name.clone(), source };
    let mut prefix = vec![0u8; detect::PREFIX_LEN];
    let mut n = 0;
    while n < prefix.len() {
        match r.read(&mut prefix[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io_err(e)),
        }
    }
    prefix.truncate(n);
    let complete = n < detect::PREFIX_LEN;
    if prefix.iter().all(u8::is_ascii_whitespace) && complete {
        return Err(ParseError::Empty { file: opts.file_name.clone() });
    }
    if detect::is_zip(&prefix) || detect::is_ole(&prefix) {
        r.read_to_end(&mut prefix).map_err(io_err)?;
        return xlsx::read_log(&prefix, opts);
    }
    let format = match opts.format {
        Some(f) => f,
        None => detect::detect_prefix(&prefix, opts.file_name.as_deref(), complete).format,
    };
    let not_ts = |reason: &str| ParseError::NotATimeSeries {
        file: opts.file_name.clone(),
        format: format.name().to_string(),
        reason: reason.to_string(),
    };
    match format {
        Format::EisCsv => Err(not_ts("impedance spectrum: use read_eis_bytes / read_eis_path")),
        Format::BiologicMpt if memchr::memmem::find(&prefix, b"freq/Hz").is_some() => {
            Err(not_ts("impedance spectrum: use read_eis_bytes / read_eis_path"))
        }
        f if f.is_summary() => Err(not_ts("per-cycle summary: use read_summary_bytes / read_summary_path")),
        Format::PybammTable => Err(not_ts("parameter table (OCV / entropic coefficient), not a time series")),
        Format::LanheXlsx | Format::Spreadsheet => Err(ParseError::Spreadsheet {
            file: opts.file_name.clone(),
            reason: "not a spreadsheet container (XLSX / XLS / ODS)".into(),
        }),
        _ => delimited::read_log(&prefix, complete, r, format, opts, size_hint),
    }
}

/// Reads a battery time series from a file, streaming it through a buffered reader. The file name helps
/// detection and is quoted in errors. For Arbin CSVs a sidecar `<stem>_Metadata.csv` next to the file is
/// read into [`crate::data::LogMeta::info`] (keys prefixed `metadata.`).
///
/// # Errors
/// [`ParseError::Io`] when the file cannot be opened or read; otherwise as [`read`].
///
/// # Examples
/// ```no_run
/// use battsentinel_core::io::{read_path, ReadOptions};
/// let log = read_path("tests/data/io/arbin_example.csv", &ReadOptions::default())?;
/// println!("{} rows, format {}", log.len(), log.meta.format);
/// # Ok::<(), battsentinel_core::io::ParseError>(())
/// ```
#[cfg(feature = "fs")]
pub fn read_path(path: impl AsRef<std::path::Path>, opts: &ReadOptions) -> Result<BatteryLog, ParseError> {
    let p = path.as_ref();
    let o = with_name(opts, p);
    let f = std::fs::File::open(p).map_err(|source| ParseError::Io { file: o.file_name.clone(), source })?;
    let size = f.metadata().ok().map(|m| m.len());
    let mut log = read_sized(std::io::BufReader::with_capacity(1 << 20, f), &o, size)?;
    if log.meta.format == Format::ArbinCsv.name() {
        if let (Some(stem), Some(dir)) = (p.file_stem().and_then(|s| s.to_str()), p.parent()) {
            let side = dir.join(format!("{stem}_Metadata.csv"));
            if let Ok(bytes) = std::fs::read(&side) {
                for (k, v) in arbin_metadata(&bytes) {
                    log.meta.info.insert(format!("metadata.{k}"), v);
                }
                log.meta.info.insert("metadata_file".into(), side.display().to_string());
            }
        }
    }
    Ok(log)
}

#[cfg(feature = "fs")]
fn with_name(opts: &ReadOptions, p: &std::path::Path) -> ReadOptions {
    let mut o = opts.clone();
    if o.file_name.is_none() {
        o.file_name = p.file_name().map(|s| s.to_string_lossy().into_owned());
    }
    o
}

#[cfg(feature = "fs")]
fn read_file(p: &std::path::Path, o: &ReadOptions) -> Result<Vec<u8>, ParseError> {
    std::fs::read(p).map_err(|source| ParseError::Io { file: o.file_name.clone(), source })
}

/// Reads an impedance spectrum from a file. See [`read_eis_bytes`].
///
/// # Errors
/// [`ParseError::Io`] when the file cannot be read; otherwise as [`read_eis_bytes`].
#[cfg(feature = "fs")]
pub fn read_eis_path(
    path: impl AsRef<std::path::Path>,
    opts: &ReadOptions,
) -> Result<EisSpectrum, ParseError> {
    let o = with_name(opts, path.as_ref());
    read_eis_bytes(&read_file(path.as_ref(), &o)?, &o)
}

/// Reads a per-cycle summary from a file. See [`read_summary_bytes`].
///
/// # Errors
/// [`ParseError::Io`] when the file cannot be read; otherwise as [`read_summary_bytes`].
#[cfg(feature = "fs")]
pub fn read_summary_path(
    path: impl AsRef<std::path::Path>,
    opts: &ReadOptions,
) -> Result<CycleSummary, ParseError> {
    let o = with_name(opts, path.as_ref());
    read_summary_bytes(&read_file(path.as_ref(), &o)?, &o)
}

/// Key/value pairs of an Arbin `_Metadata.csv` (header row, then one row of values).
#[cfg(feature = "fs")]
fn arbin_metadata(bytes: &[u8]) -> Vec<(String, String)> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
    let mut rows = rdr.records().filter_map(Result::ok);
    let (Some(h), Some(v)) = (rows.next(), rows.next()) else {
        return Vec::new();
    };
    h.iter()
        .zip(v.iter())
        .filter(|(k, v)| !k.trim().is_empty() && !v.trim().is_empty())
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autotraits() {
        fn is<T: Send + Sync + Clone + std::fmt::Debug>() {}
        is::<ReadOptions>();
        is::<Detection>();
        fn is_err<T: Send + Sync + std::error::Error>() {}
        is_err::<ParseError>();
    }
}
