//! The battery data model shared by every module: a columnar [`BatteryLog`].
//!
//! Conventions, fixed for the whole library:
//! - time in seconds (`time_s`, f64) from the start of the log, plus the absolute start time when the
//!   source file has one;
//! - voltage in volts, current in amperes with **positive = discharge** (as PyBaMM), whatever the
//!   source file used;
//! - temperatures in °C, capacities in Ah, energies in Wh;
//! - a missing value is `NaN` (floats) or `None` (integers / kinds); never zero.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a step of the test was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StepKind {
    /// Constant-current (or unspecified) charge.
    Charge,
    /// Discharge.
    Discharge,
    /// Rest, open circuit.
    Rest,
    /// Constant-voltage hold.
    Cv,
    /// Short current pulse (HPPC, DCIR).
    Pulse,
    /// Impedance measurement (EIS).
    Impedance,
    /// Anything the source labels otherwise.
    Other,
}

/// A named channel with its unit, used for temperatures and extra columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Channel {
    /// Name as the log calls it (for example `"TC1"`, `"Aux #1"`, `"dV/dt"`).
    pub name: String,
    /// Unit after normalisation (for example `"°C"`, `"V/s"`, `""` when unitless or unknown).
    pub unit: String,
    /// One value per row; `NaN` where missing.
    #[serde(with = "nan_as_null::vec")]
    pub values: Vec<f64>,
}

impl Channel {
    /// A channel from its parts.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::data::Channel;
    /// let c = Channel::new("TC1", "°C", vec![25.0, 25.5]);
    /// assert_eq!(c.values.len(), 2);
    /// ```
    pub fn new(name: impl Into<String>, unit: impl Into<String>, values: Vec<f64>) -> Self {
        Self { name: name.into(), unit: unit.into(), values }
    }
}

/// How one source column was understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// Header as written in the file.
    pub header: String,
    /// Channel it was mapped to (`"time_s"`, `"voltage_v"`, `"current_a"`, `"temperature:<name>"`,
    /// `"extra:<name>"`, …), or `"ignored"`.
    pub channel: String,
    /// Unit found in the file (for example `"mV"`), empty if none.
    pub unit_found: String,
    /// Multiplier applied to reach the library's unit (1.0 when none).
    pub scale: f64,
    /// Offset added after scaling (for example −273.15 for kelvin).
    pub offset: f64,
}

/// Metadata carried with a log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogMeta {
    /// Detected (or forced) source format, for example `"arbin_csv"`.
    pub format: String,
    /// Name of the source file, when known.
    pub source_name: Option<String>,
    /// Original header → channel mapping, in file order.
    pub mapping: Vec<ColumnMapping>,
    /// How the current sign was normalised (for example `"signed, charge positive → negated"`).
    pub current_sign: String,
    /// Key/value cell and test information from preambles and metadata files.
    pub info: BTreeMap<String, String>,
    /// Warnings raised while reading that are not row-level (row-level issues live in the quality report).
    pub warnings: Vec<String>,
}

/// A group of rows dropped or repaired for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityIssue {
    /// Stable snake_case code, for example `"unparseable"`, `"disconnected_sensor"`, `"time_backwards"`.
    pub code: String,
    /// Column concerned, if any.
    pub column: Option<String>,
    /// What was done: `"dropped_row"`, `"set_missing"`, `"repaired"`, `"flagged"`.
    pub action: String,
    /// Number of rows concerned.
    pub count: usize,
    /// First source line (1-based) concerned.
    pub first_line: usize,
    /// Last source line (1-based) concerned.
    pub last_line: usize,
    /// A human-readable explanation with an example value.
    pub detail: String,
}

/// What happened to the rows of a file while reading it. Nothing is dropped without being listed here.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QualityReport {
    /// Data rows found in the source.
    pub rows_read: usize,
    /// Rows kept in the log.
    pub rows_kept: usize,
    /// Issues, grouped by code and column.
    pub issues: Vec<QualityIssue>,
}

impl QualityReport {
    /// Rows dropped (`rows_read − rows_kept`).
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::data::QualityReport;
    /// let q = QualityReport { rows_read: 10, rows_kept: 8, issues: vec![] };
    /// assert_eq!(q.rows_dropped(), 2);
    /// ```
    pub fn rows_dropped(&self) -> usize {
        self.rows_read.saturating_sub(self.rows_kept)
    }

    /// Records `count` rows for `code`/`column`, merging with an existing group of the same code,
    /// column and action so that a 6 000-row problem is one entry.
    #[allow(clippy::too_many_arguments)]
    pub fn record(
        &mut self,
        code: &str,
        column: Option<&str>,
        action: &str,
        line: usize,
        count: usize,
        detail: impl FnOnce() -> String,
    ) {
        if let Some(g) = self
            .issues
            .iter_mut()
            .find(|g| g.code == code && g.column.as_deref() == column && g.action == action)
        {
            g.count += count;
            g.first_line = g.first_line.min(line);
            g.last_line = g.last_line.max(line);
        } else {
            self.issues.push(QualityIssue {
                code: code.to_string(),
                column: column.map(str::to_string),
                action: action.to_string(),
                count,
                first_line: line,
                last_line: line,
                detail: detail(),
            });
        }
    }
}

/// A battery time series in columns. Every column has `len()` rows.
///
/// # Examples
/// ```
/// use battsentinel_core::data::BatteryLog;
/// let mut log = BatteryLog::with_time(vec![0.0, 1.0, 2.0]);
/// log.voltage_v = Some(vec![4.1, 4.0, 3.9]);
/// log.current_a = Some(vec![1.0, 1.0, 1.0]); // positive = discharge
/// assert_eq!(log.len(), 3);
/// log.validate().unwrap();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BatteryLog {
    /// Seconds since the first sample (or since the file's own zero).
    #[serde(with = "nan_as_null::vec")]
    pub time_s: Vec<f64>,
    /// Absolute time of `time_s = 0`, as an ISO-8601 date-time without zone, when the file has one.
    pub start_time: Option<chrono::NaiveDateTime>,
    /// Terminal voltage (V).
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub voltage_v: Option<Vec<f64>>,
    /// Current (A), positive = discharge.
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub current_a: Option<Vec<f64>>,
    /// Temperature channels (°C), several allowed, each named.
    pub temperatures_c: Vec<Channel>,
    /// Cycle index as the file numbers it.
    pub cycle_index: Option<Vec<Option<u32>>>,
    /// Step index as the file numbers it.
    pub step_index: Option<Vec<Option<u32>>>,
    /// What each row's step was doing.
    pub step_kind: Option<Vec<Option<StepKind>>>,
    /// Cumulative charge capacity (Ah) as the cycler counts it (usually reset per cycle or step).
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub charge_capacity_ah: Option<Vec<f64>>,
    /// Cumulative discharge capacity (Ah).
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub discharge_capacity_ah: Option<Vec<f64>>,
    /// Cumulative charge energy (Wh).
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub charge_energy_wh: Option<Vec<f64>>,
    /// Cumulative discharge energy (Wh).
    #[serde(default, with = "nan_as_null::opt_vec")]
    pub discharge_energy_wh: Option<Vec<f64>>,
    /// Every other column, kept with its unit.
    pub extra: Vec<Channel>,
    /// Format, mapping, units and warnings.
    pub meta: LogMeta,
    /// What was dropped or repaired, and why.
    pub quality: QualityReport,
}

/// A column whose length does not match `time_s`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column `{column}` has {len} rows but time has {expected}")]
pub struct LengthMismatch {
    /// Column name.
    pub column: String,
    /// Its length.
    pub len: usize,
    /// Length of `time_s`.
    pub expected: usize,
}

impl BatteryLog {
    /// An empty log over the given time axis.
    pub fn with_time(time_s: Vec<f64>) -> Self {
        Self { time_s, ..Self::default() }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.time_s.len()
    }

    /// True when the log has no rows.
    pub fn is_empty(&self) -> bool {
        self.time_s.is_empty()
    }

    /// The first temperature channel, if any.
    pub fn temperature_c(&self) -> Option<&[f64]> {
        self.temperatures_c.first().map(|c| c.values.as_slice())
    }

    /// A temperature or extra channel by name.
    pub fn channel(&self, name: &str) -> Option<&Channel> {
        self.temperatures_c.iter().chain(self.extra.iter()).find(|c| c.name == name)
    }

    /// Checks that every column has as many rows as `time_s`.
    ///
    /// # Errors
    /// [`LengthMismatch`] naming the first column of the wrong length.
    pub fn validate(&self) -> Result<(), LengthMismatch> {
        let n = self.len();
        let check = |column: &str, len: usize| {
            if len == n {
                Ok(())
            } else {
                Err(LengthMismatch { column: column.to_string(), len, expected: n })
            }
        };
        let opt = |c: &Option<Vec<f64>>| c.as_ref().map_or(n, Vec::len);
        check("voltage_v", opt(&self.voltage_v))?;
        check("current_a", opt(&self.current_a))?;
        check("charge_capacity_ah", opt(&self.charge_capacity_ah))?;
        check("discharge_capacity_ah", opt(&self.discharge_capacity_ah))?;
        check("charge_energy_wh", opt(&self.charge_energy_wh))?;
        check("discharge_energy_wh", opt(&self.discharge_energy_wh))?;
        check("cycle_index", self.cycle_index.as_ref().map_or(n, Vec::len))?;
        check("step_index", self.step_index.as_ref().map_or(n, Vec::len))?;
        check("step_kind", self.step_kind.as_ref().map_or(n, Vec::len))?;
        for c in self.temperatures_c.iter().chain(self.extra.iter()) {
            check(&c.name, c.values.len())?;
        }
        Ok(())
    }

    /// The rows at the given indices, as a new log (metadata kept, quality report emptied).
    ///
    /// # Panics
    /// Never on a validated log with in-range indices; an index past the end panics, as slicing does.
    pub fn select_rows(&self, keep: &[usize]) -> BatteryLog {
        let pick = |v: &Vec<f64>| keep.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let pick_opt = |v: &Option<Vec<f64>>| v.as_ref().map(pick);
        let pick_ch = |cs: &Vec<Channel>| {
            cs.iter()
                .map(|c| Channel { name: c.name.clone(), unit: c.unit.clone(), values: pick(&c.values) })
                .collect()
        };
        BatteryLog {
            time_s: pick(&self.time_s),
            start_time: self.start_time,
            voltage_v: pick_opt(&self.voltage_v),
            current_a: pick_opt(&self.current_a),
            temperatures_c: pick_ch(&self.temperatures_c),
            cycle_index: self.cycle_index.as_ref().map(|v| keep.iter().map(|&i| v[i]).collect()),
            step_index: self.step_index.as_ref().map(|v| keep.iter().map(|&i| v[i]).collect()),
            step_kind: self.step_kind.as_ref().map(|v| keep.iter().map(|&i| v[i]).collect()),
            charge_capacity_ah: pick_opt(&self.charge_capacity_ah),
            discharge_capacity_ah: pick_opt(&self.discharge_capacity_ah),
            charge_energy_wh: pick_opt(&self.charge_energy_wh),
            discharge_energy_wh: pick_opt(&self.discharge_energy_wh),
            extra: pick_ch(&self.extra),
            meta: self.meta.clone(),
            quality: QualityReport::default(),
        }
    }
}

/// One cycle's summary: what a cycler's per-cycle export holds and what [`crate::features`] computes from a
/// log. Missing quantities are `NaN`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CycleRecord {
    /// Cycle number as the source numbers it.
    pub cycle: u32,
    /// Label of the cycle when the source has one (for example `"Capacity check"`, `"HPPC"`).
    pub label: Option<String>,
    /// Charge capacity (Ah).
    #[serde(with = "nan_as_null::scalar")]
    pub charge_capacity_ah: f64,
    /// Discharge capacity (Ah).
    #[serde(with = "nan_as_null::scalar")]
    pub discharge_capacity_ah: f64,
    /// Charge energy (Wh).
    #[serde(with = "nan_as_null::scalar")]
    pub charge_energy_wh: f64,
    /// Discharge energy (Wh).
    #[serde(with = "nan_as_null::scalar")]
    pub discharge_energy_wh: f64,
    /// Coulombic efficiency, discharge / charge capacity (fraction, not %).
    #[serde(with = "nan_as_null::scalar")]
    pub coulombic_efficiency: f64,
    /// Energy efficiency, discharge / charge energy (fraction).
    #[serde(with = "nan_as_null::scalar")]
    pub energy_efficiency: f64,
    /// Minimum voltage (V).
    #[serde(with = "nan_as_null::scalar")]
    pub voltage_min_v: f64,
    /// Maximum voltage (V).
    #[serde(with = "nan_as_null::scalar")]
    pub voltage_max_v: f64,
    /// Mean voltage (V).
    #[serde(with = "nan_as_null::scalar")]
    pub voltage_mean_v: f64,
    /// Minimum temperature (°C).
    #[serde(with = "nan_as_null::scalar")]
    pub temperature_min_c: f64,
    /// Maximum temperature (°C).
    #[serde(with = "nan_as_null::scalar")]
    pub temperature_max_c: f64,
    /// Mean temperature (°C).
    #[serde(with = "nan_as_null::scalar")]
    pub temperature_mean_c: f64,
    /// Duration (s).
    #[serde(with = "nan_as_null::scalar")]
    pub duration_s: f64,
    /// Direct-current internal resistance from current steps (Ω).
    #[serde(with = "nan_as_null::scalar")]
    pub dcir_ohm: f64,
    /// Capacity retention against the reference capacity (fraction; 1.0 = new).
    #[serde(with = "nan_as_null::scalar")]
    pub soh: f64,
    /// Any other per-cycle quantity, with its unit in the key (for example `"q_dis_mah"`).
    pub extra: BTreeMap<String, f64>,
}

impl CycleRecord {
    /// A record for `cycle` with every quantity missing.
    pub fn empty(cycle: u32) -> Self {
        Self {
            cycle,
            label: None,
            charge_capacity_ah: f64::NAN,
            discharge_capacity_ah: f64::NAN,
            charge_energy_wh: f64::NAN,
            discharge_energy_wh: f64::NAN,
            coulombic_efficiency: f64::NAN,
            energy_efficiency: f64::NAN,
            voltage_min_v: f64::NAN,
            voltage_max_v: f64::NAN,
            voltage_mean_v: f64::NAN,
            temperature_min_c: f64::NAN,
            temperature_max_c: f64::NAN,
            temperature_mean_c: f64::NAN,
            duration_s: f64::NAN,
            dcir_ohm: f64::NAN,
            soh: f64::NAN,
            extra: BTreeMap::new(),
        }
    }
}

/// A per-cycle table, read from a summary file or computed from a log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CycleSummary {
    /// One record per cycle, in file (or cycle) order.
    pub cycles: Vec<CycleRecord>,
    /// Format, mapping and warnings.
    pub meta: LogMeta,
    /// What was dropped or repaired, and why.
    pub quality: QualityReport,
}

/// An impedance spectrum (EIS). `z_imag_ohm` is the imaginary part with its own sign (capacitive < 0).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EisSpectrum {
    /// Frequency (Hz).
    #[serde(with = "nan_as_null::vec")]
    pub frequency_hz: Vec<f64>,
    /// Real part of the impedance (Ω).
    #[serde(with = "nan_as_null::vec")]
    pub z_real_ohm: Vec<f64>,
    /// Imaginary part of the impedance (Ω), capacitive negative.
    #[serde(with = "nan_as_null::vec")]
    pub z_imag_ohm: Vec<f64>,
    /// Other columns of the export.
    pub extra: Vec<Channel>,
    /// Format, mapping and warnings.
    pub meta: LogMeta,
    /// What was dropped or repaired, and why.
    pub quality: QualityReport,
}

/// JSON has no NaN: missing values (`NaN`) are written as `null` and read back as `NaN`, so every type here
/// round-trips through JSON without turning "missing" into an error or a zero.
pub(crate) mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    fn opt(v: f64) -> Option<f64> {
        v.is_finite().then_some(v)
    }

    pub(crate) mod scalar {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
            opt(*v).serialize(s)
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
        }
    }

    pub(crate) mod vec {
        use super::*;
        pub(crate) fn serialize<S: Serializer>(v: &[f64], s: S) -> Result<S::Ok, S::Error> {
            s.collect_seq(v.iter().map(|x| opt(*x)))
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
            Ok(Vec::<Option<f64>>::deserialize(d)?.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
        }
    }

    pub(crate) mod opt_vec {
        use super::*;
        #[allow(clippy::ref_option)]
        pub(crate) fn serialize<S: Serializer>(v: &Option<Vec<f64>>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(v) => s.serialize_some(&v.iter().map(|x| opt(*x)).collect::<Vec<_>>()),
                None => s.serialize_none(),
            }
        }
        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<f64>>, D::Error> {
            Ok(Option::<Vec<Option<f64>>>::deserialize(d)?
                .map(|v| v.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn autotraits() {
        fn is<T: Send + Sync + Clone + std::fmt::Debug>() {}
        is::<BatteryLog>();
        is::<QualityReport>();
    }

    #[test]
    fn length_mismatch_is_reported() {
        let mut log = BatteryLog::with_time(vec![0.0, 1.0]);
        log.voltage_v = Some(vec![4.0]);
        let e = log.validate().unwrap_err();
        assert_eq!(e.column, "voltage_v");
        assert_eq!((e.len, e.expected), (1, 2));
    }

    #[test]
    fn quality_groups_by_code() {
        let mut q = QualityReport { rows_read: 100, rows_kept: 97, issues: vec![] };
        for line in [5, 9, 7] {
            q.record("unparseable", Some("Voltage"), "dropped_row", line, 1, || "x".into());
        }
        assert_eq!(q.issues.len(), 1);
        assert_eq!(q.issues[0].count, 3);
        assert_eq!((q.issues[0].first_line, q.issues[0].last_line), (5, 9));
        assert_eq!(q.rows_dropped(), 3);
    }

    #[test]
    fn missing_values_round_trip_through_json() {
        let mut log = BatteryLog::with_time(vec![0.0, 1.0]);
        log.voltage_v = Some(vec![f64::NAN, 3.9]);
        log.temperatures_c.push(Channel::new("T", "°C", vec![25.0, f64::NAN]));
        let json = serde_json::to_string(&log).unwrap();
        assert!(json.contains("[null,3.9]"), "{json}");
        let back: BatteryLog = serde_json::from_str(&json).unwrap();
        assert!(back.voltage_v.as_ref().unwrap()[0].is_nan());
        assert_eq!(back.voltage_v.as_ref().unwrap()[1], 3.9);
        assert!(back.temperatures_c[0].values[1].is_nan());
        let rec = CycleRecord::empty(3);
        let back: CycleRecord = serde_json::from_str(&serde_json::to_string(&rec).unwrap()).unwrap();
        assert_eq!(back.cycle, 3);
        assert!(back.soh.is_nan() && back.dcir_ohm.is_nan());
    }

    #[test]
    fn select_rows_keeps_columns_aligned() {
        let mut log = BatteryLog::with_time(vec![0.0, 1.0, 2.0]);
        log.voltage_v = Some(vec![4.0, 3.9, 3.8]);
        log.cycle_index = Some(vec![Some(1), Some(1), Some(2)]);
        let sub = log.select_rows(&[0, 2]);
        assert_eq!(sub.time_s, vec![0.0, 2.0]);
        assert_eq!(sub.voltage_v, Some(vec![4.0, 3.8]));
        assert_eq!(sub.cycle_index, Some(vec![Some(1), Some(2)]));
        sub.validate().unwrap();
    }
}
