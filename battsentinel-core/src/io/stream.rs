//! The record loop of the delimited readers: reads the source in blocks (never the whole file), cuts each
//! block at its last line break, and feeds the rows to the row engine — whole runs of plain lines through
//! the fast path ([`super::fast`]), on several threads with the `parallel` feature, any other line through
//! [`Builder::push`] as a split record.
//!
//! Records, skipped lines and line numbers are those of the csv reader (`csv::Reader` with `flexible`,
//! `has_headers(false)`, the layout's delimiter and comment byte): lines are records, blank lines and comment
//! lines are skipped, and a record's line is the csv reader's position (line feeds read before the previous
//! record's terminator, so the line after a CRLF row or a blank line reports as the csv reader reports it).
//! From the first line that holds a quote or a bare carriage return on, the csv reader itself reads the
//! rest (quoted fields may span lines).

use super::engine::{Builder, Record};
use super::error::ParseError;
use super::fast::{self, FastPlan};
use super::options::ReadOptions;
use super::text;
use crate::data::StepKind;
use std::io::Read;

/// Bytes read per block (tiny in unit tests, to exercise lines cut at block ends).
const BLOCK: usize = if cfg!(test) { 512 } else { 8 << 20 };
/// Below this many bytes a run of lines is parsed on one thread.
#[cfg(feature = "parallel")]
const MIN_PARALLEL: usize = if cfg!(test) { 64 } else { 1 << 20 };

/// How the records of a source are read.
pub(crate) struct StreamCfg {
    pub delimiter: u8,
    pub comment: Option<u8>,
    /// 0-based index of the first data line in the file (added to the stream's line numbers).
    pub line0: usize,
    /// Neware 3-level export: cycle and step rows set the context of the record rows below them.
    pub hierarchical: bool,
    /// Length of the whole source in bytes, when known.
    pub size_hint: Option<u64>,
}

/// One line split at the delimiter (no quotes in it).
struct SplitLine<'a> {
    line: &'a [u8],
    bounds: &'a [(usize, usize)],
}

impl Record for SplitLine<'_> {
    #[inline]
    fn field_count(&self) -> usize {
        self.bounds.len()
    }
    #[inline]
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.bounds.get(i).map(|&(s, e)| &self.line[s..e])
    }
}

/// Handles one record: skips blank ones, reads Neware cycle and step rows into the context, pushes the rest.
fn record<Rc: Record + ?Sized>(b: &mut Builder, rec: &Rc, line: usize, hier: bool) -> Result<(), ParseError> {
    if rec.all_blank() {
        return Ok(());
    }
    if hier {
        let f0 = text::trim(rec.field(0).unwrap_or(b""));
        let f1 = text::trim(rec.field(1).unwrap_or(b""));
        if !f0.is_empty() {
            // Cycle row.
            b.context.cycle = std::str::from_utf8(f0).ok().and_then(|x| x.parse().ok());
            return Ok(());
        }
        if !f1.is_empty() {
            // Step row: `,Step Index,Step Number,Step Type,…`.
            b.context.step = std::str::from_utf8(f1).ok().and_then(|x| x.parse().ok());
            b.context.kind = rec.field(3).and_then(super::columns::parse_kind).or(Some(StepKind::Other));
            return Ok(());
        }
    }
    b.push(rec, line)
}

/// Line bookkeeping of the stream, in the csv reader's terms.
#[derive(Debug, Clone, Copy, Default)]
struct Lines {
    /// Line feeds before the current position.
    nl: usize,
    /// Line feeds read when the last record ended: the next record reports line `1 + last_end_nl`.
    last_end_nl: usize,
}

impl Lines {
    fn advance(&mut self, out: &fast::ChunkOut) {
        if let Some(e) = out.last_end_nl {
            self.last_end_nl = self.nl + e;
        }
        self.nl += out.nl;
    }
}

/// Applies a fast-path run to the builder's bookkeeping (the rows themselves are already in its columns).
fn account(b: &mut Builder, out: &fast::ChunkOut, time_before: usize) {
    b.quality.rows_read += out.rows;
    if out.rows > 0 {
        b.time_abs = out.time_abs;
        if time_before == 0 {
            if let Some(t) = out.first_t {
                b.first_abs_row_time = t;
            }
        }
    }
}

/// What the general path did with one line.
enum Step {
    /// Consumed this many bytes.
    Line(usize),
    /// The line needs the csv reader.
    Csv,
}

/// Reads one line (at the start of `data`) the general way.
fn general_line(
    b: &mut Builder,
    data: &[u8],
    lines: &mut Lines,
    cfg: &StreamCfg,
    bounds: &mut Vec<(usize, usize)>,
) -> Result<Step, ParseError> {
    let (len, content, lf, crlf) = match memchr::memchr(b'\n', data) {
        Some(k) => {
            let c = &data[..k];
            match c.strip_suffix(b"\r") {
                Some(c) => (k + 1, c, true, true),
                None => (k + 1, c, true, false),
            }
        }
        None => (data.len(), data.strip_suffix(b"\r").unwrap_or(data), false, false),
    };
    if content.is_empty() || Some(content[0]) == cfg.comment {
        // Blank or comment line: not a record.
        lines.nl += usize::from(lf);
        return Ok(Step::Line(len));
    }
    if memchr::memchr2(b'"', b'\r', content).is_some() {
        return Ok(Step::Csv);
    }
    bounds.clear();
    let mut s = 0;
    for d in memchr::memchr_iter(cfg.delimiter, content) {
        bounds.push((s, d));
        s = d + 1;
    }
    bounds.push((s, content.len()));
    let line = 1 + lines.last_end_nl + cfg.line0;
    record(b, &SplitLine { line: content, bounds }, line, cfg.hierarchical)?;
    lines.last_end_nl = lines.nl + usize::from(lf && !crlf);
    lines.nl += usize::from(lf);
    Ok(Step::Line(len))
}

fn csv_error(e: csv::Error, opts: &ReadOptions, line0: usize) -> ParseError {
    let line = e.position().map(|p| p.line() as usize + line0).unwrap_or(0);
    match e.into_kind() {
        csv::ErrorKind::Io(source) => ParseError::Io { file: opts.file_name.clone(), source },
        other => ParseError::BadValue {
            file: opts.file_name.clone(),
            line,
            column: String::new(),
            value: format!("{other:?}"),
        },
    }
}

/// Reads the rest of the stream (`pending`, then `rest`) with the csv reader, from a line start.
fn read_csv<R: Read>(
    b: &mut Builder,
    pending: &[u8],
    rest: R,
    lines: Lines,
    cfg: &StreamCfg,
    opts: &ReadOptions,
) -> Result<(), ParseError> {
    // The csv reader starts in the state it is in after any record: a leading line feed is skipped as a
    // blank line (and keeps a byte-order mark at this point from being stripped). Its line numbers then
    // count that line feed: shift them to the stream's.
    let src = std::io::Cursor::new(&b"\n"[..]).chain(pending).chain(rest);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(cfg.delimiter)
        .comment(cfg.comment)
        .buffer_capacity(1 << 20)
        .from_reader(src);
    let shift = cfg.line0 + lines.nl;
    let mut rec = csv::ByteRecord::new();
    let mut first = true;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(e, opts, shift.saturating_sub(1))),
        }
        let line = if first {
            1 + lines.last_end_nl + cfg.line0
        } else {
            rec.position().map(|p| p.line() as usize).unwrap_or(1) - 1 + shift
        };
        first = false;
        record(b, &rec, line, cfg.hierarchical)?;
    }
    Ok(())
}

/// Appends up to `want` more bytes from `r` to `buf`; `true` at the end of the input. Reads into the
/// vector's spare capacity (`Read::take` + `read_to_end`, which retries interrupted reads itself), so the
/// block is not zeroed first.
fn fill<R: Read>(r: &mut R, buf: &mut Vec<u8>, want: usize, opts: &ReadOptions) -> Result<bool, ParseError> {
    buf.reserve(want);
    let mut left = want as u64;
    while left > 0 {
        match r.by_ref().take(left).read_to_end(buf) {
            Ok(0) => return Ok(true),
            Ok(k) => left -= k as u64,
            Err(source) => return Err(ParseError::Io { file: opts.file_name.clone(), source }),
        }
    }
    Ok(false)
}

/// Feeds every record of the stream (`head`, then `rest`) to the builder.
///
/// The source is read in blocks of [`BLOCK`] bytes cut at their last line break. While the fast path parses
/// a block (on the pool's threads with `parallel`), this thread reads the next block into a second buffer
/// that starts with the current block's unfinished last line, so reading the source overlaps parsing.
pub(crate) fn read_records<R: Read>(
    b: &mut Builder,
    head: &[u8],
    mut rest: R,
    cfg: &StreamCfg,
    opts: &ReadOptions,
) -> Result<(), ParseError> {
    #[cfg(test)]
    if tests::REFERENCE.with(std::cell::Cell::get) {
        return tests::reference(b, head, rest, cfg, opts);
    }
    let plan = FastPlan::new(b, cfg.delimiter, cfg.comment);
    let mut par = Parallel::default();
    let mut buf: Vec<u8> = Vec::with_capacity(BLOCK.max(head.len()));
    buf.extend_from_slice(head);
    // The next block (read ahead while the fast path parses this one) and whether the source ended there.
    let mut next: Vec<u8> = Vec::new();
    let mut next_eof: Option<Result<bool, ParseError>> = None;
    let mut eof = false;
    let mut lines = Lines::default();
    let mut bounds = Vec::new();
    let mut first_block = true;
    // Bytes of the stream consumed by finished blocks, and whether the columns were sized from the hint.
    let (mut consumed, mut sized) = (0u64, false);
    loop {
        // Top up the block; a line longer than the block grows it.
        if !eof && buf.len() < BLOCK {
            let want = BLOCK - buf.len();
            eof = fill(&mut rest, &mut buf, want, opts)?;
        }
        while !eof && memchr::memchr(b'\n', &buf).is_none() {
            let want = buf.len().max(BLOCK);
            eof = fill(&mut rest, &mut buf, want, opts)?;
        }
        if first_block {
            // The csv reader drops a UTF-8 byte-order mark at the start of its input.
            if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
                buf.drain(..3);
            }
            first_block = false;
        }
        let end = if eof { buf.len() } else { memchr::memrchr(b'\n', &buf).map_or(0, |k| k + 1) };
        let mut pos = 0;
        while pos < end {
            if let Some(plan) = plan.as_ref().filter(|_| fast::ready(b)) {
                let at_eof = eof && end == buf.len();
                let used = if eof || next_eof.is_some() {
                    par.run(b, plan, &buf[pos..end], at_eof, &mut lines, || ()).0
                } else {
                    // The first fast run of the block reads the next block meanwhile.
                    next.clear();
                    next.extend_from_slice(&buf[end..]);
                    let want = BLOCK.saturating_sub(next.len());
                    let (used, read) = par.run(b, plan, &buf[pos..end], at_eof, &mut lines, || {
                        fill(&mut rest, &mut next, want, opts)
                    });
                    next_eof = Some(read);
                    used
                };
                pos += used;
                if pos >= end {
                    break;
                }
            }
            match general_line(b, &buf[pos..end], &mut lines, cfg, &mut bounds)? {
                Step::Line(len) => pos += len,
                Step::Csv => {
                    return match next_eof {
                        // The rest of the stream is this block from `pos`, then the block read ahead
                        // (which starts with this block's bytes after `end`), then the source.
                        Some(read) => {
                            read?;
                            let mut joined = buf[pos..end].to_vec();
                            joined.extend_from_slice(&next);
                            read_csv(b, &joined, rest, lines, cfg, opts)
                        }
                        None => read_csv(b, &buf[pos..], rest, lines, cfg, opts),
                    };
                }
            }
        }
        if eof {
            return Ok(());
        }
        consumed += pos as u64;
        if !sized {
            // Size the columns for the whole source from the rows per byte so far (5 % over), once.
            if let Some(total) = cfg.size_hint.filter(|_| b.cols.time.len() >= 64) {
                let rows = b.cols.time.len() as f64;
                let left = total.saturating_sub(consumed) as f64;
                let more = (rows / consumed.max(1) as f64 * left * 1.05) as usize + 1024;
                b.cols.reserve(more);
                sized = true;
            }
        }
        match next_eof.take() {
            Some(read) => {
                eof = read?;
                std::mem::swap(&mut buf, &mut next);
            }
            None => {
                buf.drain(..pos);
            }
        }
    }
}

/// Fast-path runs, split over the threads of the rayon pool when the `parallel` feature is on.
#[derive(Default)]
struct Parallel {
    /// Columns of the pieces after the first (reused from block to block).
    #[cfg(feature = "parallel")]
    spare: Vec<super::engine::Columns>,
}

impl Parallel {
    /// Parses as many lines of `data` as the fast path takes, running `side` on this thread meanwhile (after
    /// the parse without `parallel`); returns the bytes consumed (whole lines) and what `side` returned.
    fn run<T>(
        &mut self,
        b: &mut Builder,
        plan: &FastPlan,
        data: &[u8],
        at_eof: bool,
        lines: &mut Lines,
        side: impl FnOnce() -> T,
    ) -> (usize, T) {
        #[cfg(feature = "parallel")]
        {
            let threads = rayon::current_num_threads();
            if threads > 1 && plan.chunkable() && data.len() >= MIN_PARALLEL {
                return self.run_parallel(b, plan, data, at_eof, lines, threads, side);
            }
        }
        let before = b.cols.time.len();
        let out = fast::parse_chunk(plan, data, at_eof, &mut b.cols, b.time_abs);
        account(b, &out, before);
        lines.advance(&out);
        (out.end, side())
    }

    /// Cuts `data` into one piece per thread at line breaks and parses them as jobs of the rayon pool while
    /// this thread runs `side`; the first piece goes straight into the builder's columns, the others into
    /// spare columns appended afterwards, in order (column by column on the pool). A piece that stops early
    /// (a line for the general path) ends the run there: the caller handles that line, and the next run
    /// starts after it (the later pieces' work is dropped, which only costs time).
    #[cfg(feature = "parallel")]
    #[allow(clippy::too_many_arguments)]
    fn run_parallel<T>(
        &mut self,
        b: &mut Builder,
        plan: &FastPlan,
        data: &[u8],
        at_eof: bool,
        lines: &mut Lines,
        threads: usize,
        side: impl FnOnce() -> T,
    ) -> (usize, T) {
        let mut cuts = vec![0usize];
        for k in 1..threads {
            let target = data.len() * k / threads;
            let last = *cuts.last().unwrap_or(&0);
            if target <= last {
                continue;
            }
            if let Some(j) = memchr::memchr(b'\n', &data[target..]) {
                let c = target + j + 1;
                if c < data.len() {
                    cuts.push(c);
                }
            }
        }
        cuts.push(data.len());
        let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect();
        while self.spare.len() < pieces.len() - 1 {
            self.spare.push(b.cols.empty_like());
        }
        let time_abs = b.time_abs;
        let before = b.cols.time.len();
        let last = pieces.len() - 1;
        let mut outs = vec![fast::ChunkOut::default(); pieces.len()];
        let side_out = {
            let (first_out, tail_outs) = outs.split_at_mut(1);
            let cols = &mut b.cols;
            let spare = &mut self.spare[..last];
            // In place: `side` may hold what is not `Send` (the caller's reader); the pieces are pool jobs.
            rayon::in_place_scope(|s| {
                let head = pieces[0];
                let first_out = &mut first_out[0];
                s.spawn(move |_| {
                    *first_out = fast::parse_chunk(plan, head, at_eof && last == 0, cols, time_abs)
                });
                for (k, ((piece, c), out)) in
                    pieces[1..].iter().zip(spare.iter_mut()).zip(tail_outs).enumerate()
                {
                    s.spawn(move |_| {
                        c.clear();
                        *out = fast::parse_chunk(plan, piece, at_eof && k + 1 == last, c, time_abs);
                    });
                }
                side()
            })
        };
        let first_out = outs[0];
        account(b, &first_out, before);
        lines.advance(&first_out);
        let mut used = first_out.end;
        if used < pieces[0].len() {
            return (used, side_out);
        }
        for (k, out) in outs[1..].iter().enumerate() {
            // Rows whose time cells disagree with the kept rows on absolute versus relative time are left
            // to the general path, which reports them.
            let agrees = out.rows == 0 || b.time_abs.is_none() || out.time_abs == b.time_abs;
            if !agrees {
                return (used, side_out);
            }
            let before = b.cols.time.len();
            b.cols.append(&mut self.spare[k]);
            account(b, out, before);
            lines.advance(out);
            used += out.end;
            if out.end < pieces[k + 1].len() {
                return (used, side_out);
            }
        }
        (used, side_out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{read_bytes, Format, ReadOptions};
    use rand::{Rng, SeedableRng};
    use std::cell::Cell;

    thread_local! {
        /// Read with the reference loop (every record through csv's reader) instead.
        pub(super) static REFERENCE: Cell<bool> = const { Cell::new(false) };
    }

    /// The record loop as it was before the fast path: csv's reader over the whole stream.
    pub(super) fn reference<R: Read>(
        b: &mut Builder,
        head: &[u8],
        rest: R,
        cfg: &StreamCfg,
        opts: &ReadOptions,
    ) -> Result<(), ParseError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(cfg.delimiter)
            .comment(cfg.comment)
            .from_reader(head.chain(rest));
        let mut rec = csv::ByteRecord::new();
        loop {
            match rdr.read_byte_record(&mut rec) {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(csv_error(e, opts, cfg.line0)),
            }
            let line = rec.position().map(|p| p.line() as usize).unwrap_or(0) + cfg.line0;
            record(b, &rec, line, cfg.hierarchical)?;
        }
    }

    fn both(data: &[u8], opts: &ReadOptions) -> (String, String) {
        let fast = format!("{:?}", read_bytes(data, opts));
        REFERENCE.with(|r| r.set(true));
        let reference = format!("{:?}", read_bytes(data, opts));
        REFERENCE.with(|r| r.set(false));
        (fast, reference)
    }

    fn cell(rng: &mut impl Rng) -> String {
        match rng.gen_range(0..40) {
            0 => String::new(),
            1 => "NA".into(),
            2 => "abc".into(),
            3 => " 2.5 ".into(),
            4 => ".5".into(),
            5 => "+1.25".into(),
            6 => "-0".into(),
            7 => "1e400".into(),
            8 => "12345678901234567890.5".into(),
            9 => "nan".into(),
            10 => "3.2e-5".into(),
            11 => "\"4.5\"".into(),
            12 => "1.".into(),
            _ => format!("{:.*}", rng.gen_range(0..9), rng.gen_range(-1e4..1e4)),
        }
    }

    /// A messy file: blank, comment, whitespace-only and empty-field lines, short and long rows, bad and
    /// missing cells, unusual numbers, CRLF and LF endings, occasionally quotes, bare CRs, date-times, a
    /// step-kind column and a byte-order mark.
    fn messy(rng: &mut impl Rng) -> Vec<u8> {
        let mut s = String::new();
        if rng.gen_bool(0.1) {
            s.push('\u{feff}');
        }
        let crlf = rng.gen_bool(0.5);
        let nl = if crlf { "\r\n" } else { "\n" };
        s.push_str("Test_Time(s),Voltage(V),Current(A),Temperature (C),Cycle_Index,State,Note");
        s.push_str(nl);
        let rows = rng.gen_range(1..400);
        let mut t = 0.0f64;
        let rare = |rng: &mut rand_chacha::ChaCha8Rng, p: f64| rng.gen_bool(p);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(rng.gen());
        let messiness = [0.0, 0.002, 0.02, 0.1][rng.gen_range(0..4)];
        for _ in 0..rows {
            t += r2.gen_range(0.0..2.0);
            let line = if rare(&mut r2, messiness) {
                match r2.gen_range(0..9) {
                    0 => String::new(),
                    1 => "# a comment, with \"quotes\"".into(),
                    2 => "   ".into(),
                    3 => ",,,,,,".into(),
                    4 => format!("{t:.3},3.5"),
                    5 => format!("{t:.3},3.5,1,25,1,C,x,extra,more"),
                    6 => format!("2024-01-01 00:00:{:02},3.5,1,25,1,D,", r2.gen_range(0..60)),
                    7 => format!("{t:.3},3.5\r1,25,1,C,"),
                    _ => ",3.6,1,25,1,R,".to_string(),
                }
            } else {
                let mut f = vec![format!("{t:.4}")];
                for _ in 0..3 {
                    f.push(if rare(&mut r2, messiness * 3.0) {
                        cell(&mut r2)
                    } else {
                        format!("{:.5}", r2.gen_range(-5.0..5.0))
                    });
                }
                f.push(if rare(&mut r2, messiness) { cell(&mut r2) } else { r2.gen_range(1..5).to_string() });
                f.push(["C", "D", "R", "CC Chg"][r2.gen_range(0..4)].into());
                f.push(if rare(&mut r2, messiness) { "free text".into() } else { String::new() });
                f.join(",")
            };
            s.push_str(&line);
            s.push_str(if rare(&mut r2, messiness) { "\n" } else { nl });
        }
        if rng.gen_bool(0.5) {
            while s.ends_with('\n') || s.ends_with('\r') {
                s.pop();
            }
        }
        s.into_bytes()
    }

    #[test]
    fn same_log_as_the_csv_reader_on_messy_files() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        for k in 0..600 {
            let data = messy(&mut rng);
            for strict in [false, true] {
                let opts = ReadOptions { format: Some(Format::Generic), strict, ..ReadOptions::default() };
                let (fast, reference) = both(&data, &opts);
                assert_eq!(fast, reference, "case {k} strict {strict}:\n{}", String::from_utf8_lossy(&data));
            }
        }
    }

    #[test]
    fn same_log_as_the_csv_reader_on_arbin_layout() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let header = "Data_Point,Test_Time,DateTime,Step_Time,Step_Index,Cycle_Index,Current,Voltage,Charge_Capacity,Discharge_Capacity,Charge_Energy,Discharge_Energy,dV/dt,Internal_Resistance,Temperature\r\n";
        for k in 0..40 {
            let mut s = String::from(header);
            let mut t = 0.0;
            for i in 0..rng.gen_range(1..300) {
                t += 5.0 + rng.gen_range(0.0..0.01);
                let mut line = format!(
                    "{},{:.4},{},{:.4},{},{},{:.7},{:.7},{:.8},{:.8},{:.7},{:.7},{:.6e},{:.9},{:.6}\r\n",
                    i + 1,
                    t,
                    1_499_006_353 + t as u64,
                    t % 3600.0,
                    2 + i % 3,
                    1 + i / 100,
                    rng.gen_range(-1.2..1.2),
                    rng.gen_range(2.9..3.6),
                    rng.gen_range(0.0..1.1),
                    rng.gen_range(0.0..1.1),
                    rng.gen_range(0.0..4.0),
                    rng.gen_range(0.0..4.0),
                    rng.gen_range(-1e-3..1e-3),
                    rng.gen_range(0.01..0.02),
                    rng.gen_range(20.0..40.0)
                );
                if k % 4 == 1 && rng.gen_bool(0.02) {
                    line = line.replacen(",2,", ",x,", 1);
                }
                if k % 4 == 2 && rng.gen_bool(0.02) {
                    line = line.replace("e-", "e-999");
                }
                if k % 4 == 3 && i == 0 {
                    line = line.replacen(",1499006", ",x1499006", 1);
                }
                s.push_str(&line);
            }
            let opts = ReadOptions::default();
            let (fast, reference) = both(s.as_bytes(), &opts);
            assert_eq!(fast, reference, "case {k}");
            assert!(fast.starts_with("Ok("), "case {k}: {fast}");
        }
    }
}
