//! Format detection and text sniffing: encoding, lines, delimiter, decimal comma, preamble and header row.

use super::options::{Detection, Format};
use super::text::{self, decode, sniff_encoding, Num, TextEncoding};

/// Bytes read before detection; every header of the known layouts fits well inside.
pub(crate) const PREFIX_LEN: usize = 256 * 1024;
/// Lines examined for detection.
const MAX_LINES: usize = 400;

/// The first lines of a text source.
pub(crate) struct Sniff {
    pub encoding: TextEncoding,
    /// Byte range of each complete line in the prefix (without the line break).
    pub lines: Vec<(usize, usize)>,
    /// Decoded text of each line.
    pub text: Vec<String>,
}

pub(crate) fn is_zip(b: &[u8]) -> bool {
    b.starts_with(b"PK\x03\x04")
}

pub(crate) fn is_ole(b: &[u8]) -> bool {
    b.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1])
}

/// Splits the prefix into lines. When `complete` is false the last (possibly cut) line is left out.
pub(crate) fn sniff(prefix: &[u8], complete: bool) -> Result<Sniff, &'static str> {
    let (encoding, bom) = sniff_encoding(prefix)?;
    let mut lines = Vec::new();
    let mut start = bom;
    for nl in memchr::memchr_iter(b'\n', prefix) {
        if nl < start {
            continue;
        }
        let mut end = nl;
        if end > start && prefix[end - 1] == b'\r' {
            end -= 1;
        }
        lines.push((start, end));
        start = nl + 1;
        if lines.len() >= MAX_LINES {
            break;
        }
    }
    if complete && start < prefix.len() && lines.len() < MAX_LINES {
        let mut end = prefix.len();
        if prefix[end - 1] == b'\r' {
            end -= 1;
        }
        lines.push((start, end));
    }
    let text = lines.iter().map(|&(s, e)| decode(&prefix[s..e], encoding)).collect();
    Ok(Sniff { encoding, lines, text })
}

/// Splits one line into fields, honouring double quotes.
pub(crate) fn split_fields(line: &str, delim: u8) -> Vec<String> {
    let d = delim as char;
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if quoted && chars.peek() == Some(&'"') {
                cur.push('"');
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else if c == d && !quoted {
            out.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    out.push(cur);
    out
}

fn is_numeric(s: &str, decimal_comma: bool) -> bool {
    matches!(text::parse_num(s.as_bytes(), decimal_comma), Num::Value(_))
}

/// Fraction of non-empty fields that are numbers.
fn numeric_fraction(fields: &[String], decimal_comma: bool) -> f64 {
    let ne: Vec<&String> = fields.iter().filter(|f| !f.trim().is_empty()).collect();
    if ne.is_empty() {
        return 0.0;
    }
    ne.iter().filter(|f| is_numeric(f, decimal_comma)).count() as f64 / ne.len() as f64
}

/// Chooses the delimiter: the candidate with a constant non-zero count over the last data lines (tab, then
/// semicolon, then comma, then pipe).
pub(crate) fn sniff_delimiter(text: &[String]) -> u8 {
    let data: Vec<&String> =
        text.iter().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).rev().take(30).collect();
    let mut best: Option<(u8, usize)> = None;
    for d in [b'\t', b';', b',', b'|'] {
        let counts: Vec<usize> = data.iter().map(|l| split_fields(l, d).len() - 1).collect();
        let Some(&c0) = counts.first() else { continue };
        if c0 > 0 && counts.iter().all(|&c| c == c0) {
            match best {
                None => best = Some((d, c0)),
                Some((bd, _)) if bd == b',' && d == b'|' => {}
                _ => {}
            }
            if best.is_some() {
                break;
            }
        }
    }
    if let Some((d, _)) = best {
        return d;
    }
    // No constant count: the most frequent candidate.
    let mut max = (b',', 0usize);
    for d in [b'\t', b';', b',', b'|'] {
        let c: usize = data.iter().map(|l| l.matches(d as char).count()).sum();
        if c > max.1 {
            max = (d, c);
        }
    }
    max.0
}

/// True when numbers use a decimal comma (`3,25` with a `;` or tab delimiter).
pub(crate) fn sniff_decimal_comma(text: &[String], delim: u8) -> bool {
    if delim == b',' {
        return false;
    }
    let mut comma = 0;
    let mut dot = 0;
    for l in text.iter().rev().take(30) {
        for f in split_fields(l, delim) {
            let f = f.trim();
            let b = f.as_bytes();
            if b.iter().filter(|&&c| c == b',').count() == 1
                && b.iter().all(|c| c.is_ascii_digit() || matches!(c, b',' | b'-' | b'+' | b'e' | b'E'))
            {
                comma += 1;
            } else if f.contains('.') && is_numeric(f, false) {
                dot += 1;
            }
        }
    }
    comma > 0 && comma >= dot
}

/// Index of the header row: a line of mostly non-numeric fields followed by lines with about as many
/// fields that are mostly numeric. `None` when the data start without a header.
pub(crate) fn find_header(rows: &[Vec<String>], decimal_comma: bool) -> Option<usize> {
    let limit = rows.len().min(120);
    for i in 0..limit {
        let r = &rows[i];
        let ne = r.iter().filter(|f| !f.trim().is_empty()).count();
        if ne == 0 || r[0].trim_start().starts_with('#') && ne == 1 {
            continue;
        }
        if numeric_fraction(r, decimal_comma) >= 0.5 {
            continue;
        }
        let next: Vec<&Vec<String>> = rows[i + 1..].iter().take(3).collect();
        if next.is_empty() {
            continue;
        }
        let ok = next.iter().all(|n| {
            n.len() + 1 >= r.len() && n.len() <= r.len() + 1 && numeric_fraction(n, decimal_comma) >= 0.5
        });
        if ok && r.len() >= 2 {
            return Some(i);
        }
    }
    None
}

/// True when every row of the first lines is numeric.
fn all_numeric(rows: &[Vec<String>]) -> bool {
    !rows.is_empty()
        && rows.iter().take(50).all(|r| {
            r.iter().filter(|f| !f.trim().is_empty()).count() > 0
                && r.iter().filter(|f| !f.trim().is_empty()).all(|f| is_numeric(f, false))
        })
}

/// Detects the format of a source from its first bytes and (optionally) its file name.
pub(crate) fn detect_prefix(prefix: &[u8], file_name: Option<&str>, complete: bool) -> Detection {
    let name = file_name.unwrap_or("").to_lowercase();
    let det = |format, confidence, reason: &str| Detection { format, confidence, reason: reason.to_string() };
    if prefix.iter().all(u8::is_ascii_whitespace) {
        return det(Format::Generic, 0.0, "empty input");
    }
    if is_zip(prefix) || is_ole(prefix) {
        // Opens only when the whole workbook was given.
        if let Some(sheets) = super::xlsx::sheet_names(prefix) {
            if sheets.iter().any(|s| s == "Record-Tab") {
                return det(Format::LanheXlsx, 1.0, "spreadsheet with a `Record-Tab` sheet (LANHE)");
            }
        }
        return det(Format::Spreadsheet, 0.7, "spreadsheet container (zip / OLE)");
    }
    let Ok(s) = sniff(prefix, complete) else {
        return det(Format::Generic, 0.0, "unsupported encoding (UTF-16)");
    };
    let t = &s.text;
    let l0 = t.first().map(String::as_str).unwrap_or("");
    let l1 = t.get(1).map(String::as_str).unwrap_or("");
    if l0.starts_with("Today's Date") {
        return det(Format::MaccorText, 1.0, "first line starts with `Today's Date` (Maccor)");
    }
    if l0.starts_with("EC-Lab ASCII FILE") || l0.starts_with("BT-Lab ASCII FILE") {
        return det(Format::BiologicMpt, 1.0, "`EC-Lab ASCII FILE` banner");
    }
    if l0.starts_with("LabVIEW Measurement") {
        return det(Format::LabviewLvm, 1.0, "`LabVIEW Measurement` banner");
    }
    if l0.starts_with("# battsentinel") {
        return det(Format::BattSentinelCsv, 1.0, "`# battsentinel` banner");
    }
    if l0.starts_with("Cycle Index") && l1.starts_with(",Step Index") {
        return det(
            Format::NewareHierarchical,
            1.0,
            "cycle header then `,Step Index` step header (Neware 3-level)",
        );
    }
    if t.iter().take(80).any(|l| l.starts_with("Test,Cell,Rack")) {
        return det(Format::PecCsv, 1.0, "`Test,Cell,Rack,…` table after a `key:,value` preamble (PEC)");
    }
    // First line that is not a comment.
    let first = t.iter().position(|l| !l.starts_with('#') && !l.trim().is_empty()).unwrap_or(0);
    let h = t.get(first).map(String::as_str).unwrap_or("");
    let has = |s: &str| h.contains(s);
    if has("Data_Point") && has("Test_Time") && has("Charge_Capacity") {
        return det(Format::ArbinCsv, 1.0, "`Data_Point`, `Test_Time`, `Charge_Capacity` headers (Arbin)");
    }
    if has("DataPoint") && has("Step Type") && (has("Cumulative Time") || has("Current(A)")) {
        return det(Format::NewareCsv, 1.0, "`DataPoint`, `Step Type` headers (Neware)");
    }
    if h.starts_with("Exclude,Time(s)") || has("Loop,Loop") {
        return det(Format::BitrodeCsv, 1.0, "`Exclude,Time(s),…,Loop,Loop` header (Bitrode)");
    }
    if has("Date_Time") && has("Test_Time (s)") {
        return det(Format::BatteryArchive, 1.0, "`Date_Time`, `Test_Time (s)` headers (batteryarchive.org)");
    }
    if h.starts_with("Cycle_Index,Start_Time,End_Time") {
        return det(
            Format::BatteryArchiveCycles,
            1.0,
            "`Cycle_Index,Start_Time,End_Time` (batteryarchive.org cycles)",
        );
    }
    if has("Cycle_Index") && has("Cycle_Label") && has("Q_dis") {
        return det(
            Format::BatteryDataSummary,
            1.0,
            "`Cycle_Label`, `Q_dis` headers (battery-data-toolkit summary)",
        );
    }
    if has("Ecell/V") || h.starts_with(";mode;ox") || (has(";") && has("time/s") && has("I/mA")) {
        return det(Format::BiologicCsv, 1.0, "`Ecell/V` / `time/s;…;I/mA` headers (BioLogic)");
    }
    if h.starts_with("time_s,") && has("current_A") {
        return det(Format::PybammTrace, 1.0, "`time_s,current_A,…` header (PyBaMM trace)");
    }
    let comments: Vec<&String> = t.iter().take_while(|l| l.starts_with('#')).collect();
    if comments.last().is_some_and(|c| c.contains("time [s]")) || h.starts_with("time [s],current [A]") {
        return det(Format::PybammDriveCycle, 1.0, "`time [s],current [A]` header (PyBaMM drive cycle)");
    }
    let header_text = comments.last().map(|c| c.as_str()).unwrap_or(h);
    if header_text.contains("OCV [V]") && !header_text.contains("time") {
        return det(Format::PybammTable, 0.9, "`OCV [V]` table without time (PyBaMM parameter table)");
    }
    // Headerless layouts.
    let delim = sniff_delimiter(t);
    let rows: Vec<Vec<String>> = t
        .iter()
        .skip(first)
        .filter(|l| !l.trim().is_empty())
        .take(60)
        .map(|l| split_fields(l, delim))
        .collect();
    if let Some(r0) = rows.first() {
        let f0 = r0[0].trim();
        if (f0 == "No" || f0 == "Yes") && r0.len() >= 14 && rows.iter().all(|r| r.len() == r0.len()) {
            return det(
                Format::BitrodeCsv,
                0.9,
                "headerless rows starting with `No`/`Yes`, 15 fields (Bitrode)",
            );
        }
    }
    if name.ends_with(".lvm") {
        return det(Format::LabviewLvm, 0.9, "`.lvm` file name (LabVIEW)");
    }
    if all_numeric(&rows) {
        let n = rows[0].len();
        let same = rows.iter().all(|r| r.len() == n);
        if same && delim == b'\t' && rows[0][0].trim().is_empty() && n >= 2 {
            return det(
                Format::LabviewLvm,
                0.7,
                "headerless tab-separated numbers with a leading empty column (LabVIEW)",
            );
        }
        if same && n == 3 {
            let f: Vec<f64> = rows.iter().filter_map(|r| r[0].trim().parse::<f64>().ok()).collect();
            let (lo, hi) = f.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let monotonic = f.windows(2).all(|w| w[1] > w[0]) || f.windows(2).all(|w| w[1] < w[0]);
            if lo > 0.0 && monotonic && (hi / lo > 100.0 || !complete) {
                return det(
                    Format::EisCsv,
                    0.8,
                    "headerless 3 numeric columns, first spanning decades (EIS)",
                );
            }
        }
        if same && n == 2 {
            return det(Format::TwoColumnTrace, 0.8, "headerless 2 numeric columns (measured trace)");
        }
        return det(Format::Generic, 0.3, "headerless numeric table");
    }
    det(Format::Generic, 0.5, "delimited text with a header row; columns mapped by alias")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiters() {
        let t: Vec<String> = ["a;b;c", "1,5;2,5;3", "1,6;2,6;3"].iter().map(|s| s.to_string()).collect();
        assert_eq!(sniff_delimiter(&t), b';');
        assert!(sniff_decimal_comma(&t, b';'));
        let t: Vec<String> = ["a,b", "1.5,2", "1.5,3"].iter().map(|s| s.to_string()).collect();
        assert_eq!(sniff_delimiter(&t), b',');
    }

    #[test]
    fn header_after_preamble() {
        let rows: Vec<Vec<String>> = ["Cell: A1", "Operator: x", "", "t,v", "0,3.1", "1,3.2", "2,3.3"]
            .iter()
            .map(|l| split_fields(l, b','))
            .collect();
        assert_eq!(find_header(&rows, false), Some(3));
    }

    #[test]
    fn quoted_fields() {
        assert_eq!(split_fields(r#"a,"b,c",d"#, b','), vec!["a", "b,c", "d"]);
    }
}
