//! Fast path of the delimited readers: whole lines of plain cells are split and parsed in one pass over the
//! bytes, numbers go straight into the column vectors, and nothing is allocated per cell.
//!
//! A line takes the fast path only when the row engine would keep it without a remark: every time cell
//! readable, every stored cell a number or empty, no quotes, the header's field count or more. Anything else
//! (a short row, an unreadable cell, a quoted field, a bare carriage return) stops the chunk at that line, so
//! the caller hands it to [`super::engine::Builder::push`], which records it in the quality report exactly
//! as before. The values are those of [`text::parse_num`]: numbers with at most 19 digits and a decimal
//! exponent within ±22 are converted exactly (one correctly rounded multiplication or division of two exact
//! doubles, the same result as fast-float), every other cell goes through `parse_num` itself.

use super::columns::Role;
use super::engine::{Builder, Columns, Store};
use super::text::{self, Num};

/// How the fast path reads one source column.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FastCol {
    /// Not stored (ignored, or the absolute-time column once its first value is known).
    Skip,
    /// The time axis: relative seconds × scale (or absolute epoch seconds when `abs` and > 1e8).
    Time { scale: f64, abs: bool },
    /// A numeric channel: `x × scale + offset`.
    F { scale: f64, offset: f64 },
    /// A time-like extra channel: `x × scale`.
    ExtraTime { scale: f64 },
    /// Cycle or step index (non-negative integer).
    U,
    /// Step kind (text).
    K,
}

/// The fast-path reading of a layout.
#[derive(Debug, Clone)]
pub(crate) struct FastPlan {
    cols: Vec<FastCol>,
    has_time: bool,
    interval_s: f64,
    delim: u8,
    dec: u8,
    decimal_comma: bool,
    comment: Option<u8>,
}

impl FastPlan {
    /// The plan for a builder's columns. `None` when the fast path cannot apply (the Neware hierarchical
    /// reader injects context into rows).
    pub(crate) fn new(b: &Builder, delim: u8, comment: Option<u8>) -> Option<Self> {
        if b.has_context() {
            return None;
        }
        let time_col = b.time_col.or(if b.abs_is_time { b.abs_col } else { None });
        let cols = b
            .plans
            .iter()
            .zip(&b.cols.stores)
            .enumerate()
            .map(|(i, (p, s))| {
                if Some(i) == time_col {
                    return FastCol::Time { scale: p.scale, abs: b.abs_is_time };
                }
                match (s, &p.role) {
                    (Store::None, _) => FastCol::Skip,
                    (Store::F(_), Role::ExtraTime(_)) => FastCol::ExtraTime { scale: p.scale },
                    (Store::F(_), _) => FastCol::F { scale: p.scale, offset: p.offset },
                    (Store::U(_), _) => FastCol::U,
                    (Store::K(_), _) => FastCol::K,
                }
            })
            .collect();
        Some(Self {
            cols,
            has_time: time_col.is_some(),
            interval_s: b.interval_s.unwrap_or(1.0),
            delim,
            dec: if b.decimal_comma { b',' } else { b'.' },
            decimal_comma: b.decimal_comma,
            comment,
        })
    }

    /// True when rows can be parsed on other threads and appended later (the time axis does not depend on
    /// the row's index).
    #[cfg(feature = "parallel")]
    pub(crate) fn chunkable(&self) -> bool {
        self.has_time
    }
}

/// The fast path may run now: the first absolute time (kept from the first row that has one) is known or
/// not needed.
pub(crate) fn ready(b: &Builder) -> bool {
    b.abs_col.is_none() || b.abs_is_time || b.first_abs.is_some()
}

/// What one fast-path run over a chunk did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChunkOut {
    /// Bytes consumed: the chunk's lines before the first line the fast path left alone.
    pub end: usize,
    /// Line feeds in the consumed bytes.
    pub nl: usize,
    /// Line feeds consumed when the last row ended (its record terminator read), relative to the chunk.
    pub last_end_nl: Option<usize>,
    /// Rows parsed and pushed.
    pub rows: usize,
    /// Whether the time cells were absolute (from the first row, when the caller did not know yet).
    pub time_abs: Option<bool>,
    /// Time of the first row parsed.
    pub first_t: Option<f64>,
}

/// Powers of ten that are exact doubles.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// Appends the decimal digits starting at `*i` to `m` (wrapping; callers reject more than 19 digits) and
/// returns how many there were.
#[inline(always)]
fn digit_run(b: &[u8], i: &mut usize, m: &mut u64) -> usize {
    let start = *i;
    while let Some(d) = b.get(*i).map(|c| c.wrapping_sub(b'0')).filter(|&d| d <= 9) {
        *m = m.wrapping_mul(10).wrapping_add(u64::from(d));
        *i += 1;
    }
    *i - start
}

/// Parses a plain decimal number (`-12.5`, `3`, `6.6e-4`) starting at `*p`, stopping at the first byte that
/// cannot continue it. Returns `None` (and leaves `*p`) when the text is not of that simple form or the
/// value cannot be computed exactly with one floating-point operation; the caller then uses `parse_num`.
#[inline(always)]
fn plain_number(b: &[u8], p: &mut usize, dec: u8) -> Option<f64> {
    let n = b.len();
    let mut i = *p;
    let neg = i < n && b[i] == b'-';
    i += usize::from(neg);
    let mut m: u64 = 0;
    let int_digits = digit_run(b, &mut i, &mut m);
    if int_digits == 0 {
        return None;
    }
    let mut digits = int_digits;
    let mut exp: i32 = 0;
    if i < n && b[i] == dec {
        i += 1;
        let frac = digit_run(b, &mut i, &mut m);
        if frac == 0 {
            return None;
        }
        digits += frac;
        exp = -(frac as i32);
    }
    if digits > 19 {
        return None;
    }
    if i < n && (b[i] | 0x20) == b'e' {
        i += 1;
        let eneg = i < n && b[i] == b'-';
        if i < n && (b[i] == b'-' || b[i] == b'+') {
            i += 1;
        }
        let e_start = i;
        let mut e: i32 = 0;
        while i < n && i - e_start < 4 {
            let d = b[i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            e = e * 10 + i32::from(d);
            i += 1;
        }
        if i == e_start || (i < n && b[i].is_ascii_digit()) {
            return None;
        }
        exp += if eneg { -e } else { e };
    }
    if m > (1u64 << 53) {
        return None;
    }
    let x = m as f64;
    let v = if exp == 0 {
        x
    } else if (-22..0).contains(&exp) {
        x / POW10[(-exp) as usize]
    } else if (1..=22).contains(&exp) {
        x * POW10[exp as usize]
    } else if m == 0 {
        0.0
    } else {
        return None;
    };
    *p = i;
    Some(if neg { -v } else { v })
}

/// Advances `*p` to the end of the field starting there. `false` on a quote (the csv reader's rules apply).
#[inline(always)]
fn skip_field(b: &[u8], p: &mut usize, delim: u8) -> bool {
    let mut i = *p;
    while i < b.len() {
        let c = b[i];
        if c == delim || c == b'\n' || c == b'\r' {
            break;
        }
        if c == b'"' {
            return false;
        }
        i += 1;
    }
    *p = i;
    true
}

/// Reads the numeric cell starting at `*p`, leaving `*p` at its end. `None` on a quote.
#[inline(always)]
fn number_cell(plan: &FastPlan, b: &[u8], p: &mut usize) -> Option<Num> {
    let start = *p;
    if let Some(v) = plain_number(b, p, plan.dec) {
        let at = *p;
        if at == b.len() || b[at] == plan.delim || b[at] == b'\n' || b[at] == b'\r' {
            return Some(Num::Value(v));
        }
        *p = start;
    }
    if !skip_field(b, p, plan.delim) {
        return None;
    }
    Some(text::parse_num(&b[start..*p], plan.decimal_comma))
}

/// Parses whole lines of `data` (complete lines; the last one may lack its terminator only when `at_eof`)
/// into `cols`, stopping before the first line the fast path cannot take. Blank lines and comment lines are
/// skipped as the csv reader skips them. `time_abs` is what the kept rows so far say about the time cells.
pub(crate) fn parse_chunk(
    plan: &FastPlan,
    data: &[u8],
    at_eof: bool,
    cols: &mut Columns,
    time_abs: Option<bool>,
) -> ChunkOut {
    let b = data;
    let n = b.len();
    let mut out = ChunkOut { time_abs, ..ChunkOut::default() };
    let mut p = 0usize;
    while p < n {
        let line_start = p;
        let c0 = b[p];
        if c0 == b'\n' {
            out.nl += 1;
            p += 1;
            out.end = p;
            continue;
        }
        if c0 == b'\r' {
            if p + 1 < n && b[p + 1] == b'\n' {
                out.nl += 1;
                p += 2;
                out.end = p;
                continue;
            }
            break;
        }
        if Some(c0) == plan.comment {
            match memchr::memchr(b'\n', &b[p..]) {
                Some(k) => {
                    p += k + 1;
                    out.nl += 1;
                    out.end = p;
                    continue;
                }
                None => break,
            }
        }
        let mut t = if plan.has_time { f64::NAN } else { cols.time.len() as f64 * plan.interval_s };
        let mut any_value = plan.has_time;
        let mut pushed = 0usize;
        let mut ok = true;
        for (i, col) in plan.cols.iter().enumerate() {
            if i > 0 {
                if p < n && b[p] == plan.delim {
                    p += 1;
                } else {
                    ok = false;
                    break;
                }
            }
            match *col {
                FastCol::Skip => {
                    if !skip_field(b, &mut p, plan.delim) {
                        ok = false;
                        break;
                    }
                }
                FastCol::Time { scale, abs } => {
                    let v = match number_cell(plan, b, &mut p) {
                        Some(Num::Value(v)) if v.is_finite() => v,
                        _ => {
                            ok = false;
                            break;
                        }
                    };
                    let is_abs = abs && v > 1e8;
                    match out.time_abs {
                        None => out.time_abs = Some(is_abs),
                        Some(a) if a != is_abs => {
                            ok = false;
                            break;
                        }
                        _ => {}
                    }
                    t = if is_abs { v } else { v * scale };
                }
                FastCol::F { scale, offset } => {
                    let x = match number_cell(plan, b, &mut p) {
                        Some(Num::Value(x)) => {
                            any_value = true;
                            x * scale + offset
                        }
                        Some(Num::Missing) => f64::NAN,
                        _ => {
                            ok = false;
                            break;
                        }
                    };
                    if let Store::F(v) = &mut cols.stores[i] {
                        v.push(x);
                    }
                    pushed = i + 1;
                }
                FastCol::ExtraTime { scale } => {
                    let x = match number_cell(plan, b, &mut p) {
                        Some(Num::Value(x)) if x.is_finite() => {
                            any_value = true;
                            x * scale
                        }
                        Some(Num::Missing) => f64::NAN,
                        _ => {
                            ok = false;
                            break;
                        }
                    };
                    if let Store::F(v) = &mut cols.stores[i] {
                        v.push(x);
                    }
                    pushed = i + 1;
                }
                FastCol::U => {
                    let x = match number_cell(plan, b, &mut p) {
                        Some(Num::Value(x))
                            if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) =>
                        {
                            any_value = true;
                            Some(x as u32)
                        }
                        Some(Num::Missing) => None,
                        _ => {
                            ok = false;
                            break;
                        }
                    };
                    if let Store::U(v) = &mut cols.stores[i] {
                        v.push(x);
                    }
                    pushed = i + 1;
                }
                FastCol::K => {
                    let s = p;
                    if !skip_field(b, &mut p, plan.delim) {
                        ok = false;
                        break;
                    }
                    let k = cols.kind_of(&b[s..p]);
                    if let Store::K(v) = &mut cols.stores[i] {
                        v.push(k);
                    }
                    pushed = i + 1;
                }
            }
        }
        // Fields past the header's count are not read; the line must end cleanly.
        let mut term_lf = false;
        if ok {
            match memchr::memchr3(b'\n', b'\r', b'"', &b[p..]) {
                Some(k) => {
                    p += k;
                    match b[p] {
                        b'\n' => {
                            term_lf = true;
                            p += 1;
                        }
                        b'\r' if p + 1 < n && b[p + 1] == b'\n' => p += 2,
                        b'\r' if p + 1 == n && at_eof => p += 1,
                        _ => ok = false,
                    }
                }
                None if at_eof => p = n,
                None => ok = false,
            }
        }
        if !ok || !any_value {
            for s in &mut cols.stores[..pushed] {
                s.pop();
            }
            // `time_abs` may have been set by this line alone.
            if out.rows == 0 {
                out.time_abs = time_abs;
            }
            out.end = line_start;
            break;
        }
        if out.first_t.is_none() {
            out.first_t = Some(t);
        }
        cols.time.push(t);
        out.rows += 1;
        if term_lf {
            out.nl += 1;
            out.last_end_nl = Some(out.nl);
        } else {
            // A CRLF row ends at its `\r`: the csv reader counts the `\n` with the next record.
            out.last_end_nl = Some(out.nl);
            if b[p - 1] == b'\n' {
                out.nl += 1;
            }
        }
        out.end = p;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(s: &str) -> Option<f64> {
        match text::parse_num(s.as_bytes(), false) {
            Num::Value(v) => Some(v),
            _ => None,
        }
    }

    #[test]
    fn plain_numbers_match_parse_num_bit_for_bit() {
        let cases = [
            "0",
            "-0",
            "0.0000",
            "1",
            "42",
            "3.1999334",
            "-1.1000816",
            "0.00152778",
            "1499006353",
            "-6.659617e-4",
            "8.157235E-4",
            "1e22",
            "1e-22",
            "123456789012345678",
            "9007199254740992",
            "9007199254740993",
            "0.017033404",
            "29.048247",
            "7156771.5197",
            "5e+3",
            "4.9406564584124654e-3",
            "1234567.8901234",
            "0.1",
            "0.2",
            "0.3",
            "2.2250738585072014",
            "1.7976931348623157",
        ];
        for c in cases {
            let mut p = 0;
            if let Some(v) = plain_number(c.as_bytes(), &mut p, b'.') {
                assert_eq!(p, c.len(), "{c}");
                assert_eq!(v.to_bits(), reference(c).unwrap().to_bits(), "{c}");
            }
        }
        let mut p = 0;
        assert_eq!(plain_number(b"3.5", &mut p, b'.'), Some(3.5));
    }

    #[test]
    fn unusual_forms_are_left_to_parse_num() {
        for c in ["", "-", ".5", "1.", "+1", "1e", "1e+", "1e99999", "nan", "12345678901234567890", "1e400"] {
            let mut p = 0;
            assert_eq!(plain_number(c.as_bytes(), &mut p, b'.'), None, "{c}");
            assert_eq!(p, 0);
        }
        let mut p = 0;
        assert_eq!(plain_number(b"3,25", &mut p, b','), Some(3.25));
    }

    #[test]
    fn random_decimals_match_parse_num() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200_000 {
            let int_digits: u32 = rng.gen_range(1..10);
            let int: u64 = rng.gen_range(0..10u64.pow(int_digits));
            let frac_digits = rng.gen_range(0..11usize);
            let frac: u64 = rng.gen_range(0..10u64.pow(frac_digits as u32).max(1));
            let mut s = if rng.gen_bool(0.3) { format!("-{int}") } else { int.to_string() };
            if frac_digits > 0 {
                s.push_str(&format!(".{frac:0frac_digits$}"));
            }
            if rng.gen_bool(0.2) {
                s.push_str(&format!("e{}", rng.gen_range(-30..30)));
            }
            let mut p = 0;
            if let Some(v) = plain_number(s.as_bytes(), &mut p, b'.') {
                assert_eq!(v.to_bits(), reference(&s).unwrap().to_bits(), "{s}");
            }
        }
    }
}
