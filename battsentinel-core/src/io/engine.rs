//! The row engine shared by every time-series reader: parses each record according to its column plans,
//! keeps columns aligned, records every dropped or repaired value in the quality report, then normalises
//! time, current sign and sensor faults.

use super::columns::{parse_kind, ColPlan, Role};
use super::error::ParseError;
use super::options::{CurrentSign, Format, ReadOptions};
use super::text::{self, Num, TimeVal};
use crate::data::{BatteryLog, Channel, LogMeta, QualityReport, StepKind};
use csv::ByteRecord;
use std::collections::BTreeMap;

/// Below absolute zero: a disconnected thermocouple (Maccor reads ≈ −2 500 °C).
const DISCONNECTED_BELOW_C: f64 = -273.15;
/// Above this a temperature is physically impossible for a cell log.
const IMPOSSIBLE_ABOVE_C: f64 = 1000.0;

/// The values of one source column (empty for columns that are not stored).
pub(crate) enum Store {
    None,
    F(Vec<f64>),
    U(Vec<Option<u32>>),
    K(Vec<Option<StepKind>>),
}

impl Store {
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn empty_like(&self) -> Self {
        match self {
            Store::None => Store::None,
            Store::F(_) => Store::F(Vec::new()),
            Store::U(_) => Store::U(Vec::new()),
            Store::K(_) => Store::K(Vec::new()),
        }
    }

    /// Removes the last value (undoes one push).
    pub(crate) fn pop(&mut self) {
        match self {
            Store::None => {}
            Store::F(v) => {
                v.pop();
            }
            Store::U(v) => {
                v.pop();
            }
            Store::K(v) => {
                v.pop();
            }
        }
    }

    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn append(&mut self, other: &mut Store) {
        match (self, other) {
            (Store::F(a), Store::F(b)) => a.append(b),
            (Store::U(a), Store::U(b)) => a.append(b),
            (Store::K(a), Store::K(b)) => a.append(b),
            _ => {}
        }
    }

    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    fn clear(&mut self) {
        match self {
            Store::None => {}
            Store::F(v) => v.clear(),
            Store::U(v) => v.clear(),
            Store::K(v) => v.clear(),
        }
    }
}

/// The kept rows so far: the time axis and one store per source column, plus the last step-kind cell read
/// (a cache: consecutive rows usually repeat it).
pub(crate) struct Columns {
    pub time: Vec<f64>,
    pub stores: Vec<Store>,
    pub last_kind: (Vec<u8>, Option<StepKind>),
}

impl Columns {
    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    /// Empty columns of the same shape (for a chunk parsed on another thread).
    pub(crate) fn empty_like(&self) -> Self {
        Self {
            time: Vec::new(),
            stores: self.stores.iter().map(Store::empty_like).collect(),
            last_kind: (Vec::new(), None),
        }
    }

    /// Moves every row of `other` after the rows of `self` (`other` is left empty, its capacity kept), one
    /// column per pool job (the copies are independent).
    #[cfg(feature = "parallel")]
    pub(crate) fn append(&mut self, other: &mut Columns) {
        use rayon::prelude::*;
        rayon::join(
            || self.time.append(&mut other.time),
            || self.stores.par_iter_mut().zip(other.stores.par_iter_mut()).for_each(|(a, b)| a.append(b)),
        );
    }

    /// Room for `more` rows in every column, when the allocator grants it (a refused reservation is
    /// ignored: the columns then grow as they fill).
    pub(crate) fn reserve(&mut self, more: usize) {
        let _ = self.time.try_reserve(more);
        for s in &mut self.stores {
            let _ = match s {
                Store::None => Ok(()),
                Store::F(v) => v.try_reserve(more),
                Store::U(v) => v.try_reserve(more),
                Store::K(v) => v.try_reserve(more),
            };
        }
    }

    #[cfg_attr(not(feature = "parallel"), allow(dead_code))]
    /// Drops every row, keeping the capacity.
    pub(crate) fn clear(&mut self) {
        self.time.clear();
        self.stores.iter_mut().for_each(Store::clear);
    }

    /// The step kind of a cell, through the one-entry cache.
    #[inline]
    pub(crate) fn kind_of(&mut self, field: &[u8]) -> Option<StepKind> {
        if self.last_kind.0 != field {
            self.last_kind = (field.to_vec(), parse_kind(field));
        }
        self.last_kind.1
    }
}

/// One record of a delimited source: its fields, in order.
pub(crate) trait Record {
    /// Number of fields.
    fn field_count(&self) -> usize;
    /// Field `i` (raw bytes), `None` past the end.
    fn field(&self, i: usize) -> Option<&[u8]>;
    /// True when every field is blank.
    fn all_blank(&self) -> bool {
        (0..self.field_count()).all(|i| self.field(i).is_none_or(|f| text::trim(f).is_empty()))
    }
}

impl Record for ByteRecord {
    #[inline]
    fn field_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn field(&self, i: usize) -> Option<&[u8]> {
        self.get(i)
    }
}

/// Values injected by the Neware hierarchical reader from cycle and step rows.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowContext {
    pub cycle: Option<u32>,
    pub step: Option<u32>,
    pub kind: Option<StepKind>,
}

/// Cycle, step and step-kind columns filled from [`RowContext`].
type ContextColumns = (Vec<Option<u32>>, Vec<Option<u32>>, Vec<Option<StepKind>>);

/// First unreadable cell, kept to report when nothing at all could be read.
struct FirstBad {
    line: usize,
    column: String,
    value: String,
}

pub(crate) struct Builder {
    pub(crate) plans: Vec<ColPlan>,
    pub(crate) cols: Columns,
    pub(crate) time_col: Option<usize>,
    pub(crate) abs_col: Option<usize>,
    /// The absolute-time column provides the time axis.
    pub(crate) abs_is_time: bool,
    pub(crate) interval_s: Option<f64>,
    pub(crate) decimal_comma: bool,
    strict: bool,
    file: Option<String>,
    /// Whether the time cells read so far are absolute instants (decided by the first kept row).
    pub(crate) time_abs: Option<bool>,
    pub(crate) first_abs: Option<f64>,
    pub(crate) first_abs_row_time: f64,
    ctx: Option<ContextColumns>,
    pub(crate) context: RowContext,
    pub(crate) quality: QualityReport,
    first_bad: Option<FirstBad>,
    ncols: usize,
}

impl Builder {
    pub(crate) fn new(
        plans: Vec<ColPlan>,
        opts: &ReadOptions,
        decimal_comma: bool,
        interval_s: Option<f64>,
        with_context: bool,
    ) -> Self {
        let time_col = plans.iter().position(|p| p.role == Role::Time);
        let abs_col = plans.iter().position(|p| p.role == Role::AbsTime);
        let stores = plans
            .iter()
            .map(|p| match p.role {
                Role::Time | Role::AbsTime | Role::Ignored => Store::None,
                Role::Cycle | Role::Step => Store::U(Vec::new()),
                Role::Kind => Store::K(Vec::new()),
                _ => Store::F(Vec::new()),
            })
            .collect();
        let has = |r: Role| plans.iter().any(|p| p.role == r);
        let ctx = (with_context && !(has(Role::Cycle) || has(Role::Step) || has(Role::Kind)))
            .then(|| (Vec::new(), Vec::new(), Vec::new()));
        Self {
            ncols: plans.len(),
            abs_is_time: time_col.is_none() && abs_col.is_some(),
            plans,
            cols: Columns { time: Vec::new(), stores, last_kind: (Vec::new(), None) },
            time_col,
            abs_col,
            interval_s,
            decimal_comma,
            strict: opts.strict,
            file: opts.file_name.clone(),
            time_abs: None,
            first_abs: None,
            first_abs_row_time: 0.0,
            ctx,
            context: RowContext::default(),
            quality: QualityReport::default(),
            first_bad: None,
        }
    }

    /// True when the plan has a time axis (a time column, an absolute-time column, or a sampling interval).
    pub(crate) fn has_time_axis(&self) -> bool {
        self.time_col.is_some() || self.abs_col.is_some() || self.interval_s.is_some()
    }

    fn bad(&mut self, line: usize, col: usize, value: &[u8], action: &str) -> Result<(), ParseError> {
        let header = self.plans[col].header.clone();
        let v = String::from_utf8_lossy(value).into_owned();
        if self.strict {
            return Err(ParseError::BadValue { file: self.file.clone(), line, column: header, value: v });
        }
        if self.first_bad.is_none() {
            self.first_bad = Some(FirstBad { line, column: header.clone(), value: v.clone() });
        }
        self.quality.record("unparseable", Some(&header), action, line, 1, || {
            format!("value `{v}` is not a number (first at line {line})")
        });
        Ok(())
    }

    /// True when the Neware hierarchical reader injects cycle and step context into every row.
    pub(crate) fn has_context(&self) -> bool {
        self.ctx.is_some()
    }

    /// Reads one record (source line `line`, 1-based).
    pub(crate) fn push<Rc: Record + ?Sized>(&mut self, rec: &Rc, line: usize) -> Result<(), ParseError> {
        self.quality.rows_read += 1;
        let nfields = rec.field_count();
        if nfields < self.ncols {
            self.quality.record("short_row", None, "repaired", line, 1, || {
                format!("row has {} fields, header has {}: missing fields set missing", nfields, self.ncols)
            });
        }
        // Time decides whether the row is kept.
        let t = if let Some(tc) = self.time_col.or(if self.abs_is_time { self.abs_col } else { None }) {
            let field = rec.field(tc).unwrap_or(b"");
            let scale = self.plans[tc].scale;
            let parsed = if self.abs_is_time {
                match text::parse_num(field, self.decimal_comma) {
                    Num::Value(v) if v.is_finite() && v > 1e8 => Some(TimeVal::Abs(v)),
                    Num::Value(v) if v.is_finite() => Some(TimeVal::Rel(v * scale)),
                    _ => text::parse_time(field, scale, self.decimal_comma),
                }
            } else {
                text::parse_time(field, scale, self.decimal_comma)
            };
            match parsed {
                Some(tv) => {
                    let (is_abs, v) = match tv {
                        TimeVal::Abs(v) => (true, v),
                        TimeVal::Rel(v) => (false, v),
                    };
                    match self.time_abs {
                        None => self.time_abs = Some(is_abs),
                        Some(a) if a != is_abs => {
                            self.bad(line, tc, field, "dropped_row")?;
                            return Ok(());
                        }
                        _ => {}
                    }
                    v
                }
                None => {
                    if text::trim(field).is_empty() || text::is_missing_marker(field) {
                        let header = self.plans[tc].header.clone();
                        if self.strict {
                            return Err(ParseError::BadValue {
                                file: self.file.clone(),
                                line,
                                column: header,
                                value: String::new(),
                            });
                        }
                        self.quality.record("missing_time", Some(&header), "dropped_row", line, 1, || {
                            "row without a time value".to_string()
                        });
                    } else {
                        self.bad(line, tc, field, "dropped_row")?;
                    }
                    return Ok(());
                }
            }
        } else {
            self.cols.time.len() as f64 * self.interval_s.unwrap_or(1.0)
        };
        if self.cols.time.is_empty() {
            self.first_abs_row_time = t;
        }
        self.cols.time.push(t);
        if let (Some(ac), false, None) = (self.abs_col, self.abs_is_time, self.first_abs) {
            let f = rec.field(ac).unwrap_or(b"");
            self.first_abs = match text::parse_num(f, self.decimal_comma) {
                Num::Value(v) if v.is_finite() && v > 1e8 => Some(v),
                _ => text::parse_datetime(f).map(text::epoch_s),
            };
            if self.first_abs.is_some() {
                self.first_abs_row_time = t;
            }
        }
        for i in 0..self.ncols {
            let field = rec.field(i).unwrap_or(b"");
            match &mut self.cols.stores[i] {
                Store::None => {}
                Store::F(v) => {
                    let p = &self.plans[i];
                    let x = match p.role {
                        Role::ExtraTime(_) => match text::parse_time(field, p.scale, self.decimal_comma) {
                            Some(TimeVal::Rel(s)) => Some(s),
                            _ if text::trim(field).is_empty() || text::is_missing_marker(field) => {
                                Some(f64::NAN)
                            }
                            _ => None,
                        },
                        _ => match text::parse_num(field, self.decimal_comma) {
                            Num::Value(x) => Some(x * p.scale + p.offset),
                            Num::Missing => Some(f64::NAN),
                            Num::Bad => None,
                        },
                    };
                    match x {
                        Some(x) => v.push(x),
                        None => {
                            v.push(f64::NAN);
                            self.bad(line, i, field, "set_missing")?;
                        }
                    }
                }
                Store::U(v) => match text::parse_num(field, self.decimal_comma) {
                    Num::Value(x)
                        if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) =>
                    {
                        v.push(Some(x as u32))
                    }
                    Num::Missing => v.push(None),
                    _ => {
                        v.push(None);
                        self.bad(line, i, field, "set_missing")?;
                    }
                },
                Store::K(v) => {
                    if self.cols.last_kind.0 != field {
                        self.cols.last_kind = (field.to_vec(), parse_kind(field));
                    }
                    v.push(self.cols.last_kind.1);
                }
            }
        }
        if let Some((c, s, k)) = &mut self.ctx {
            c.push(self.context.cycle);
            s.push(self.context.step);
            k.push(self.context.kind);
        }
        Ok(())
    }

    /// Assembles the log: relative time, start time, sign normalisation, sensor checks, time checks.
    pub(crate) fn finish(
        self,
        format: Format,
        opts: &ReadOptions,
        mut meta: LogMeta,
    ) -> Result<BatteryLog, ParseError> {
        let Builder {
            plans,
            cols: Columns { stores, mut time, .. },
            time_abs,
            first_abs,
            first_abs_row_time,
            ctx,
            mut quality,
            ..
        } = self;
        if quality.rows_read == 0 {
            return Err(ParseError::Empty { file: opts.file_name.clone() });
        }
        if time.is_empty() {
            let fb =
                self.first_bad.unwrap_or(FirstBad { line: 0, column: String::new(), value: String::new() });
            return Err(ParseError::BadValue {
                file: opts.file_name.clone(),
                line: fb.line,
                column: fb.column,
                value: fb.value,
            });
        }
        let mut log = BatteryLog::default();
        if time_abs == Some(true) {
            let t0 = time[0];
            log.start_time = text::from_epoch_s(t0);
            for t in &mut time {
                *t -= t0;
            }
        } else if let Some(a) = first_abs {
            log.start_time = text::from_epoch_s(a - first_abs_row_time);
        }
        meta.mapping = plans.iter().map(ColPlan::mapping).collect();
        let mut kinds: Option<Vec<Option<StepKind>>> = None;
        let mut single_capacity: Option<(String, String, Vec<f64>)> = None;
        for (p, s) in plans.into_iter().zip(stores) {
            match (p.role, s) {
                (Role::Voltage, Store::F(v)) => log.voltage_v = Some(v),
                (Role::Current, Store::F(v)) => log.current_a = Some(v),
                (Role::Temperature(name), Store::F(v)) => {
                    log.temperatures_c.push(Channel::new(name, "°C", v))
                }
                (Role::ChargeCapacity, Store::F(v)) => log.charge_capacity_ah = Some(v),
                (Role::DischargeCapacity, Store::F(v)) => log.discharge_capacity_ah = Some(v),
                (Role::Capacity, Store::F(v)) => {
                    single_capacity = Some((p.header.trim().to_string(), p.unit_si, v))
                }
                (Role::ChargeEnergy, Store::F(v)) => log.charge_energy_wh = Some(v),
                (Role::DischargeEnergy, Store::F(v)) => log.discharge_energy_wh = Some(v),
                (Role::Extra(name), Store::F(v)) => log.extra.push(Channel::new(name, p.unit_si, v)),
                (Role::ExtraTime(name), Store::F(v)) => log.extra.push(Channel::new(name, "s", v)),
                (Role::Cycle, Store::U(v)) => log.cycle_index = Some(v),
                (Role::Step, Store::U(v)) => log.step_index = Some(v),
                (Role::Kind, Store::K(v)) => kinds = Some(v),
                _ => {}
            }
        }
        if let Some((c, s, k)) = ctx {
            log.cycle_index = Some(c);
            log.step_index = Some(s);
            kinds = Some(k);
        }
        log.step_kind = kinds;
        log.time_s = time;
        let sign = opts.current_sign.unwrap_or(format.current_sign());
        meta.current_sign = normalise_current(&mut log, sign);
        if let Some((header, unit, cap)) = single_capacity {
            if log.charge_capacity_ah.is_some() || log.discharge_capacity_ah.is_some() {
                // Separate counters exist: the combined column stays an extra channel.
                for m in meta
                    .mapping
                    .iter_mut()
                    .filter(|m| m.channel == "capacity_ah" && m.header.trim() == header)
                {
                    m.channel = format!("extra:{header}");
                }
                log.extra.push(Channel::new(header, unit, cap));
            } else {
                let (chg, dis) = split_capacity(&cap, log.current_a.as_deref(), log.step_kind.as_deref());
                log.charge_capacity_ah = Some(chg);
                log.discharge_capacity_ah = Some(dis);
            }
        }
        sensor_checks(&mut log, &mut quality);
        time_checks(&log.time_s, &mut quality);
        quality.rows_kept = log.len();
        log.meta = meta;
        log.quality = quality;
        log.validate().map_err(|e| ParseError::BadHeader {
            file: opts.file_name.clone(),
            line: 0,
            reason: e.to_string(),
        })?;
        Ok(log)
    }
}

/// Splits one capacity column used for both directions into charge and discharge counters (Ah, ≥ 0).
///
/// The direction of a row is its step kind (charge/CV or discharge) when known, else the sign of the
/// normalised current (positive = discharge) when it is above 0.1 % of the file's largest current. Rows without either (rests) take the sign of the capacity when
/// the column is signed (its sign matched to the current's on the other rows), else the direction of the last
/// active row: the counter holds its value through a rest. The counter of the other direction is 0 on that
/// row (a counter reset, as cyclers that count per step write it); missing values stay missing.
fn split_capacity(
    cap: &[f64],
    current: Option<&[f64]>,
    kinds: Option<&[Option<StepKind>]>,
) -> (Vec<f64>, Vec<f64>) {
    // A current below 0.1 % of the file's largest is noise around zero (a Bitrode rest reads ±0.01 A at 30 A
    // pulses): its sign must not flip the direction, or the held counter would be re-counted on every flip.
    let i_max =
        current.map_or(0.0, |c| c.iter().filter(|x| x.is_finite()).fold(0.0f64, |m, x| m.max(x.abs())));
    let active_a = (1e-3 * i_max).max(1e-9);
    // +1: discharge, −1: charge, 0: unknown.
    let dir_of = |k: usize| -> f64 {
        match kinds.and_then(|ks| ks[k]) {
            Some(StepKind::Discharge) => return 1.0,
            Some(StepKind::Charge | StepKind::Cv) => return -1.0,
            // A rest holds the counter of the step before it, whatever the noise on the current.
            Some(StepKind::Rest) => return 0.0,
            _ => {}
        }
        match current.map(|c| c[k]) {
            Some(i) if i.is_finite() && i.abs() > active_a => i.signum(),
            _ => 0.0,
        }
    };
    // Is the capacity signed, and does its sign follow the discharge direction (+1) or the charge one (−1)?
    let mut agree = 0.0;
    for (k, q) in cap.iter().enumerate() {
        if q.is_finite() && *q != 0.0 {
            agree += q.signum() * dir_of(k);
        }
    }
    let signed = cap.iter().any(|q| *q < 0.0) && cap.iter().any(|q| *q > 0.0);
    let mut chg = vec![f64::NAN; cap.len()];
    let mut dis = vec![f64::NAN; cap.len()];
    let mut last = 0.0;
    for (k, q) in cap.iter().enumerate() {
        let mut d = dir_of(k);
        if d == 0.0 && signed && q.is_finite() && *q != 0.0 && agree != 0.0 {
            d = q.signum() * agree.signum();
        }
        if d == 0.0 {
            d = last;
        }
        last = d;
        if !q.is_finite() || d == 0.0 {
            continue;
        }
        if d > 0.0 {
            dis[k] = q.abs();
            chg[k] = 0.0;
        } else {
            chg[k] = q.abs();
            dis[k] = 0.0;
        }
    }
    (chg, dis)
}

/// Applies the sign convention; returns the description stored in the metadata.
fn normalise_current(log: &mut BatteryLog, sign: CurrentSign) -> String {
    let Some(cur) = log.current_a.as_mut() else {
        return "no current column".to_string();
    };
    let negate = |c: &mut Vec<f64>| c.iter_mut().for_each(|x| *x = -*x);
    match sign {
        CurrentSign::ChargePositive => {
            negate(cur);
            "signed, charge positive in the source → negated (positive = discharge)".to_string()
        }
        CurrentSign::DischargePositive => "signed, discharge positive in the source → kept".to_string(),
        CurrentSign::StateOrSigned => {
            if cur.iter().any(|&x| x < 0.0) {
                negate(cur);
                "signed (negative values present), charge positive → negated".to_string()
            } else if let Some(k) = &log.step_kind {
                for (x, k) in cur.iter_mut().zip(k) {
                    match k {
                        Some(StepKind::Discharge) => *x = x.abs(),
                        Some(StepKind::Charge | StepKind::Cv) => *x = -x.abs(),
                        _ => {}
                    }
                }
                "unsigned with State column: D → +, C → −".to_string()
            } else {
                "unsigned, no State column: kept as discharge positive".to_string()
            }
        }
        CurrentSign::Auto => {
            let mut score = 0.0;
            if let Some(k) = &log.step_kind {
                for (x, k) in cur.iter().zip(k) {
                    match k {
                        Some(StepKind::Charge | StepKind::Cv) => score += x.signum(),
                        Some(StepKind::Discharge) => score -= x.signum(),
                        _ => {}
                    }
                }
            }
            if score == 0.0 {
                if let Some(v) = &log.voltage_v {
                    for i in 1..v.len() {
                        let dv = v[i] - v[i - 1];
                        if dv.is_finite() && cur[i].is_finite() && cur[i] != 0.0 {
                            score += cur[i].signum() * dv.signum();
                        }
                    }
                }
            }
            if score > 0.0 {
                negate(cur);
                "inferred charge positive (current positive while charging / voltage rising) → negated"
                    .to_string()
            } else {
                "inferred discharge positive → kept".to_string()
            }
        }
    }
}

/// Disconnected or impossible temperatures become missing, grouped into one issue per kind of fault.
fn sensor_checks(log: &mut BatteryLog, q: &mut QualityReport) {
    let mut disconnected: Vec<(String, usize, usize, usize, f64)> = Vec::new();
    for ch in &mut log.temperatures_c {
        let (mut n, mut first, mut last, mut example) = (0usize, usize::MAX, 0usize, f64::NAN);
        for (i, x) in ch.values.iter_mut().enumerate() {
            if *x < DISCONNECTED_BELOW_C || *x > IMPOSSIBLE_ABOVE_C {
                if n == 0 {
                    example = *x;
                }
                n += 1;
                first = first.min(i);
                last = i;
                *x = f64::NAN;
            }
        }
        if n > 0 {
            disconnected.push((ch.name.clone(), n, first, last, example));
        }
    }
    if disconnected.is_empty() {
        return;
    }
    let names: Vec<&str> = disconnected.iter().map(|d| d.0.as_str()).collect();
    let count = disconnected.iter().map(|d| d.1).max().unwrap_or(0);
    let first = disconnected.iter().map(|d| d.2).min().unwrap_or(0);
    let last = disconnected.iter().map(|d| d.3).max().unwrap_or(0);
    let example = disconnected[0].4;
    let detail = format!(
        "{} temperature channel(s) read outside [−273.15, 1000] °C (e.g. {example:.1} °C): disconnected sensor, set missing",
        names.len()
    );
    q.issues.push(crate::data::QualityIssue {
        code: "disconnected_sensor".to_string(),
        column: Some(names.join(", ")),
        action: "set_missing".to_string(),
        count,
        first_line: first + 1,
        last_line: last + 1,
        detail,
    });
}

/// Duplicate and backwards timestamps are flagged (kept: the cycler wrote them).
fn time_checks(t: &[f64], q: &mut QualityReport) {
    for i in 1..t.len() {
        if t[i] < t[i - 1] {
            q.record("time_backwards", Some("time_s"), "flagged", i + 1, 1, || {
                format!("time goes back from {} s to {} s (row {})", t[i - 1], t[i], i + 1)
            });
        } else if t[i] == t[i - 1] {
            q.record("time_duplicate", Some("time_s"), "flagged", i + 1, 1, || {
                format!("time {} s repeated (row {})", t[i], i + 1)
            });
        }
    }
}

/// Key/value pairs from a preamble (`key:,value`, `key: value`, `key<TAB>value`).
pub(crate) fn preamble_info(lines: &[String]) -> BTreeMap<String, String> {
    let mut info = BTreeMap::new();
    for l in lines {
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(i) = l.find(':') {
            let k = l[..i].trim().trim_matches(',').trim();
            let v = l[i + 1..].trim().trim_matches(|c| c == ',' || c == '\t').trim();
            if !k.is_empty() && !v.is_empty() && k.len() < 80 {
                info.insert(k.to_string(), v.to_string());
            }
        }
    }
    info
}
