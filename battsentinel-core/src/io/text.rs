//! Low-level text helpers: numbers (fast path, decimal comma, missing markers), durations, date-times,
//! encodings, header names and units.

use chrono::NaiveDateTime;

/// Outcome of reading one numeric cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    /// A number (may be NaN when the file says `NaN`).
    Value(f64),
    /// Empty cell or a missing marker (`-`, `N/A`, `NA`, `null`, …).
    Missing,
    /// Not a number.
    Bad,
}

/// Trims ASCII whitespace (and a stray `\r`) from both ends.
#[inline]
pub(crate) fn trim(b: &[u8]) -> &[u8] {
    b.trim_ascii()
}

/// Reads a number. `decimal_comma` turns `3,25` into 3.25.
#[inline]
pub(crate) fn parse_num(field: &[u8], decimal_comma: bool) -> Num {
    let b = trim(field);
    if b.is_empty() {
        return Num::Missing;
    }
    if decimal_comma && b.contains(&b',') {
        if b.len() > 64 {
            return Num::Bad;
        }
        let mut buf = [0u8; 64];
        for (d, &s) in buf.iter_mut().zip(b) {
            *d = if s == b',' { b'.' } else { s };
        }
        return parse_plain(&buf[..b.len()]);
    }
    parse_plain(b)
}

#[inline]
fn parse_plain(b: &[u8]) -> Num {
    // A leading '+' is accepted by fast-float; thousands separators and units are not.
    match fast_float2::parse::<f64, _>(b) {
        Ok(v) => Num::Value(v),
        Err(_) => {
            if is_missing_marker(b) {
                Num::Missing
            } else {
                Num::Bad
            }
        }
    }
}

/// Markers that mean "no value".
pub(crate) fn is_missing_marker(b: &[u8]) -> bool {
    let b = trim(b);
    matches!(
        b,
        b"-" | b"--" | b"N/A" | b"n/a" | b"NA" | b"na" | b"null" | b"NULL" | b"None" | b"none" | b"#N/A"
    ) || b.eq_ignore_ascii_case(b"nan")
}

/// One time cell: a relative number of seconds, or an absolute instant (seconds since the Unix epoch).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum TimeVal {
    Rel(f64),
    Abs(f64),
}

/// Parses `[Nd ]h:mm:ss[.fff]`, `mm:ss`, `N day(s), h:mm:ss` into seconds.
pub(crate) fn parse_duration(field: &[u8]) -> Option<f64> {
    let s = std::str::from_utf8(trim(field)).ok()?;
    if s.is_empty() || !s.contains(':') {
        return None;
    }
    let (days, rest) = match s.find(['d', ' ']) {
        Some(i) => {
            let (d, r) = s.split_at(i);
            let r = r.trim_start_matches(|c: char| c.is_ascii_alphabetic() || c == ',' || c == ' ');
            (d.trim().parse::<f64>().ok()?, r)
        }
        None => (0.0, s),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (h, m, sec) = match parts.as_slice() {
        [h, m, s] => {
            (h.trim().parse::<f64>().ok()?, m.trim().parse::<f64>().ok()?, s.trim().parse::<f64>().ok()?)
        }
        [m, s] => (0.0, m.trim().parse::<f64>().ok()?, s.trim().parse::<f64>().ok()?),
        _ => return None,
    };
    if days < 0.0 || h < 0.0 || m < 0.0 || sec < 0.0 {
        return None;
    }
    let total = days * 86_400.0 + h * 3600.0 + m * 60.0 + sec;
    total.is_finite().then_some(total)
}

const DATETIME_FORMATS: [&str; 8] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y/%m/%d %H:%M:%S%.f",
    "%m/%d/%Y %H:%M:%S%.f",
    "%m/%d/%Y %H:%M",
    "%Y-%m-%d %H:%M",
    "%d.%m.%Y %H:%M:%S%.f",
    "%m/%d/%Y %I:%M:%S %p",
];

/// Parses an ISO-8601 or common cycler date-time (US month/day order for slashes). A zone suffix (`Z`,
/// `+01:00`) is converted to UTC.
pub(crate) fn parse_datetime(field: &[u8]) -> Option<NaiveDateTime> {
    let s = std::str::from_utf8(trim(field)).ok()?;
    if s.len() < 8 || !s.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    for f in DATETIME_FORMATS {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.naive_utc());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    None
}

/// Seconds since the Unix epoch of a naive date-time.
pub(crate) fn epoch_s(t: NaiveDateTime) -> f64 {
    let u = t.and_utc();
    u.timestamp() as f64 + f64::from(u.timestamp_subsec_nanos()) * 1e-9
}

/// The naive date-time of an epoch second count.
pub(crate) fn from_epoch_s(s: f64) -> Option<NaiveDateTime> {
    if !s.is_finite() {
        return None;
    }
    // Epoch seconds in f64 resolve ~0.2 µs today: round to the microsecond.
    let mut secs = s.floor();
    let mut micros = ((s - secs) * 1e6).round();
    if micros >= 1e6 {
        secs += 1.0;
        micros = 0.0;
    }
    chrono::DateTime::from_timestamp(secs as i64, micros as u32 * 1000).map(|d| d.naive_utc())
}

/// Reads a time cell: a number (scaled to seconds by `scale`), a duration, or a date-time.
pub(crate) fn parse_time(field: &[u8], scale: f64, decimal_comma: bool) -> Option<TimeVal> {
    match parse_num(field, decimal_comma) {
        Num::Value(v) if v.is_finite() => Some(TimeVal::Rel(v * scale)),
        Num::Value(_) | Num::Missing => None,
        Num::Bad => parse_duration(field)
            .map(TimeVal::Rel)
            .or_else(|| parse_datetime(field).map(|t| TimeVal::Abs(epoch_s(t)))),
    }
}

/// Text encoding of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TextEncoding {
    Utf8,
    /// ISO-8859-1 / Windows-1252.
    Latin1,
}

/// Decodes bytes to text with the given encoding (lossy for broken UTF-8).
pub(crate) fn decode(b: &[u8], enc: TextEncoding) -> String {
    match enc {
        TextEncoding::Utf8 => String::from_utf8_lossy(b).into_owned(),
        TextEncoding::Latin1 => encoding_rs::WINDOWS_1252.decode_without_bom_handling(b).0.into_owned(),
    }
}

/// Detects the encoding of a prefix: BOM, valid UTF-8 (a character cut at the end of the prefix is allowed),
/// else Latin-1. UTF-16 is reported as `Err`.
pub(crate) fn sniff_encoding(prefix: &[u8]) -> Result<(TextEncoding, usize), &'static str> {
    if prefix.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Ok((TextEncoding::Utf8, 3));
    }
    if prefix.starts_with(&[0xFF, 0xFE]) || prefix.starts_with(&[0xFE, 0xFF]) {
        return Err("UTF-16");
    }
    match std::str::from_utf8(prefix) {
        Ok(_) => Ok((TextEncoding::Utf8, 0)),
        Err(e) if e.error_len().is_none() => Ok((TextEncoding::Utf8, 0)),
        Err(_) => Ok((TextEncoding::Latin1, 0)),
    }
}

/// Physical quantity a unit measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantity {
    Voltage,
    Current,
    Charge,
    Energy,
    Time,
    Temperature,
    Resistance,
    Power,
}

/// A recognised unit: quantity, `si = raw * scale + offset`, and the library unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Unit {
    pub quantity: Quantity,
    pub scale: f64,
    pub offset: f64,
    pub si: &'static str,
}

const fn u(quantity: Quantity, scale: f64, offset: f64, si: &'static str) -> Unit {
    Unit { quantity, scale, offset, si }
}

/// Recognises a unit string. `C` alone is a temperature only when `temperature_context` is true (it is a
/// coulomb elsewhere); a degree sign always means temperature.
pub(crate) fn parse_unit(raw: &str, temperature_context: bool) -> Option<Unit> {
    let had_degree = raw.contains('°') || raw.contains('º');
    let k: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '°' && *c != 'º' && *c != '·' && *c != '-')
        .collect::<String>()
        .to_lowercase()
        .replace(['µ', 'μ'], "u")
        .replace('ω', "ohm")
        .replace(".h", "h");
    use Quantity::*;
    let unit = match k.as_str() {
        "v" | "volt" | "volts" => u(Voltage, 1.0, 0.0, "V"),
        "mv" => u(Voltage, 1e-3, 0.0, "V"),
        "uv" => u(Voltage, 1e-6, 0.0, "V"),
        "a" | "amp" | "amps" => u(Current, 1.0, 0.0, "A"),
        "ma" => u(Current, 1e-3, 0.0, "A"),
        "ua" => u(Current, 1e-6, 0.0, "A"),
        "ah" | "a.h" | "ahr" => u(Charge, 1.0, 0.0, "Ah"),
        "mah" | "ma.h" => u(Charge, 1e-3, 0.0, "Ah"),
        "uah" => u(Charge, 1e-6, 0.0, "Ah"),
        "wh" | "w.h" | "whr" => u(Energy, 1.0, 0.0, "Wh"),
        "mwh" | "mw.h" => u(Energy, 1e-3, 0.0, "Wh"),
        "kwh" => u(Energy, 1e3, 0.0, "Wh"),
        "s" | "sec" | "secs" | "second" | "seconds" | "seg" | "segundos" => u(Time, 1.0, 0.0, "s"),
        "ms" => u(Time, 1e-3, 0.0, "s"),
        "min" | "mins" | "minute" | "minutes" | "minutos" => u(Time, 60.0, 0.0, "s"),
        "h" | "hr" | "hrs" | "hour" | "hours" | "horas" => u(Time, 3600.0, 0.0, "s"),
        "d" | "day" | "days" => u(Time, 86_400.0, 0.0, "s"),
        "degc" | "celsius" => u(Temperature, 1.0, 0.0, "°C"),
        "c" if had_degree || temperature_context => u(Temperature, 1.0, 0.0, "°C"),
        "k" | "kelvin" if had_degree || temperature_context || k == "kelvin" => {
            u(Temperature, 1.0, -273.15, "°C")
        }
        "f" | "degf" if had_degree || temperature_context || k == "degf" => {
            u(Temperature, 5.0 / 9.0, -32.0 * 5.0 / 9.0, "°C")
        }
        "ohm" | "ohms" => u(Resistance, 1.0, 0.0, "Ω"),
        "mohm" | "mo" | "mohms" => u(Resistance, 1e-3, 0.0, "Ω"),
        "w" | "watt" | "watts" => u(Power, 1.0, 0.0, "W"),
        "mw" => u(Power, 1e-3, 0.0, "W"),
        "kw" => u(Power, 1e3, 0.0, "W"),
        _ => return None,
    };
    Some(unit)
}

/// Splits a header into its name and unit: `Voltage (mV)`, `Current(A)`, `time [s]`, `Ecell/V`,
/// `current_A` (suffix only when it is a recognised unit).
pub(crate) fn split_header(h: &str) -> (String, String) {
    let t = h.trim().trim_start_matches('#').trim();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if t.ends_with(close) {
            if let Some(i) = t.rfind(open) {
                let name = t[..i].trim();
                let unit = t[i + 1..t.len() - 1].trim();
                if !name.is_empty() {
                    return (name.to_string(), unit.to_string());
                }
            }
        }
    }
    if let Some(i) = t.find('/') {
        let (name, unit) = (t[..i].trim(), t[i + 1..].trim());
        let derivative = name.len() <= 2 && unit == "dt";
        if !name.is_empty() && !unit.is_empty() && !derivative {
            return (name.to_string(), unit.to_string());
        }
    }
    if let Some(i) = t.rfind('_') {
        let (name, unit) = (&t[..i], &t[i + 1..]);
        let temp = name_is_temperature(name);
        if !name.is_empty() && !unit.is_empty() && parse_unit(unit, temp).is_some() && unit.len() <= 4 {
            return (name.to_string(), unit.to_string());
        }
    }
    (t.to_string(), String::new())
}

/// Lower-case ASCII key of a name, Spanish accents folded, punctuation dropped: `Cycle_Index` → `cycleindex`,
/// `Tensión` → `tension`, `Cyc#` → `cyc`.
pub(crate) fn key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' | 'ü' | 'Ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// True when a name reads as a temperature (`Temperature`, `T1`, `AuxTemp`, `t_cell`, `temperatura`).
pub(crate) fn name_is_temperature(name: &str) -> bool {
    let k = key(name);
    if k.contains("temp") {
        return true;
    }
    let b = k.as_bytes();
    (b.first() == Some(&b't') && (b.len() == 1 || b[1..].iter().all(u8::is_ascii_digit)))
        || k.starts_with("tcell")
        || k.starts_with("tjig")
        || k.starts_with("tsurf")
        || k.starts_with("tamb")
        || (k.starts_with("tc") && k.len() <= 4 && b[2..].iter().all(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn numbers() {
        assert_eq!(parse_num(b" 3.5 ", false), Num::Value(3.5));
        assert_eq!(parse_num(b"-9.63E-05", false), Num::Value(-9.63e-5));
        assert_eq!(parse_num(b"3,25", true), Num::Value(3.25));
        assert_eq!(parse_num(b"", false), Num::Missing);
        assert_eq!(parse_num(b"N/A", false), Num::Missing);
        assert_eq!(parse_num(b"-", false), Num::Missing);
        assert_eq!(parse_num(b"abc", false), Num::Bad);
    }

    #[test]
    fn durations() {
        assert_relative_eq!(parse_duration(b"  0d 00:00:5.05000019073486").unwrap(), 5.05000019073486);
        assert_relative_eq!(parse_duration(b"1d 01:02:03").unwrap(), 86_400.0 + 3723.0);
        assert_relative_eq!(parse_duration(b"144:01:18").unwrap(), 144.0 * 3600.0 + 78.0);
        assert_relative_eq!(parse_duration(b"01:30").unwrap(), 90.0);
        assert_eq!(parse_duration(b"12"), None);
    }

    #[test]
    fn datetimes() {
        let t = parse_datetime(b"2010-09-02 14:35:40").unwrap();
        assert_eq!(t.to_string(), "2010-09-02 14:35:40");
        let t = parse_datetime(b"05/05/2021 15:36:22.757").unwrap();
        assert_eq!(t.to_string(), "2021-05-05 15:36:22.757");
        assert!(parse_datetime(b"2024-01-01T00:00:00Z").is_some());
        assert_eq!(from_epoch_s(epoch_s(t)).unwrap(), t);
    }

    #[test]
    fn headers_and_units() {
        assert_eq!(split_header("Voltage (mV)"), ("Voltage".into(), "mV".into()));
        assert_eq!(split_header("Current(A)"), ("Current".into(), "A".into()));
        assert_eq!(split_header("Ecell/V"), ("Ecell".into(), "V".into()));
        assert_eq!(split_header("current_A"), ("current".into(), "A".into()));
        assert_eq!(split_header("t_cell_C"), ("t_cell".into(), "C".into()));
        assert_eq!(split_header("dV/dt"), ("dV/dt".into(), "".into()));
        assert_eq!(split_header("time [s]"), ("time".into(), "s".into()));
        assert_eq!(key("Tensión"), "tension");
        let k = parse_unit("K", true).unwrap();
        assert_relative_eq!(300.0 * k.scale + k.offset, 26.85, epsilon = 1e-9);
        assert_eq!(parse_unit("C", false), None);
        assert_eq!(parse_unit("°C", false).unwrap().quantity, Quantity::Temperature);
        assert_relative_eq!(parse_unit("mA.h", false).unwrap().scale, 1e-3);
        assert!(name_is_temperature("T1"));
        assert!(!name_is_temperature("time"));
    }
}
