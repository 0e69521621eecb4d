//! Options of the readers: [`ReadOptions`], the [`Format`] list, explicit column mappings and the current
//! sign convention.

use serde::{Deserialize, Serialize};

/// A file layout the readers know. Every layout of `shared/data/MANIFEST.md` sections A–D has a variant;
/// anything else delimited goes through [`Format::Generic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Format {
    /// Arbin CSV export (`Data_Point,Test_Time,…,Charge_Capacity,…`), current positive on charge.
    ArbinCsv,
    /// Maccor text export in either dialect (`Test (Sec)` / `Test (Min)` or `TestTime d hh:mm:ss`), tab
    /// separated, signed `Amps` or unsigned `Amps` with a `State` column (C/D/R/O).
    MaccorText,
    /// Neware flat CSV (`DataPoint,Cycle Index,Step Index,Step Type,Time,Cumulative Time,…`).
    NewareCsv,
    /// Neware "regular" 3-level export: cycle rows, step rows (one leading empty cell), record rows (two).
    NewareHierarchical,
    /// PEC CSV: `key:,value` preamble, then a table in mV / mA / mAh / mWh.
    PecCsv,
    /// LANHE / LAND XLSX with a `Record-Tab` (time series) and a `Cycle-Tab` (per-cycle summary) sheet.
    LanheXlsx,
    /// Any other spreadsheet (XLSX, XLS, ODS) read through the generic column mapping.
    Spreadsheet,
    /// BioLogic EC-Lab / Modulo-Bat semicolon-separated export (`time/s`, `Ecell/V`, `I/mA`, …).
    BiologicCsv,
    /// BioLogic EC-Lab ASCII `.mpt` (`Nb header lines : N`), for example a PEIS spectrum.
    BiologicMpt,
    /// Bitrode CSV, with or without its header row (duplicate `Loop` columns, trailing comma).
    BitrodeCsv,
    /// LabVIEW `.lvm` thermocouple log: tab separated, leading empty column, no time column.
    LabviewLvm,
    /// batteryarchive.org time-series schema (`Date_Time,Test_Time (s),Cycle_Index,Current (A),…`).
    BatteryArchive,
    /// batteryarchive.org per-cycle schema (`Cycle_Index,Start_Time,End_Time,Test_Time (s),…`).
    BatteryArchiveCycles,
    /// battery-data-toolkit per-cycle summary (`Cycle_Index,Cycle_Label,…,Q_chg,Q_dis,CE,…`).
    BatteryDataSummary,
    /// Headerless `frequency,Z_real,Z_imag` impedance spectrum (impedance.py layout).
    EisCsv,
    /// PyBaMM drive cycle: `#` comment lines, then `time [s],current [A]`, current positive on discharge.
    PybammDriveCycle,
    /// PyBaMM-style simulated trace (`time_s,current_A,voltage_V,…`), current positive on discharge.
    PybammTrace,
    /// PyBaMM parameter table that is not a time series (`SoC,OCV [V]`, `OCV [V],Temperature [degC],dUdT`).
    PybammTable,
    /// Headerless two-column measured trace `t[s]<TAB>value` (voltage, or temperature rise when the file
    /// name says so).
    TwoColumnTrace,
    /// The CSV written by [`crate::io::write_csv`] (first line `# battsentinel`).
    BattSentinelCsv,
    /// Any delimited text: delimiter, decimal comma, encoding, preamble and header row are sniffed and
    /// headers are mapped by English and Spanish aliases; also the old system's `timestamp,voltage[,…]`.
    Generic,
}

impl Format {
    /// Stable snake_case name, as stored in [`crate::data::LogMeta::format`].
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::io::Format;
    /// assert_eq!(Format::ArbinCsv.name(), "arbin_csv");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            Format::ArbinCsv => "arbin_csv",
            Format::MaccorText => "maccor_text",
            Format::NewareCsv => "neware_csv",
            Format::NewareHierarchical => "neware_hierarchical",
            Format::PecCsv => "pec_csv",
            Format::LanheXlsx => "lanhe_xlsx",
            Format::Spreadsheet => "spreadsheet",
            Format::BiologicCsv => "biologic_csv",
            Format::BiologicMpt => "biologic_mpt",
            Format::BitrodeCsv => "bitrode_csv",
            Format::LabviewLvm => "labview_lvm",
            Format::BatteryArchive => "battery_archive",
            Format::BatteryArchiveCycles => "battery_archive_cycles",
            Format::BatteryDataSummary => "battery_data_summary",
            Format::EisCsv => "eis_csv",
            Format::PybammDriveCycle => "pybamm_drive_cycle",
            Format::PybammTrace => "pybamm_trace",
            Format::PybammTable => "pybamm_table",
            Format::TwoColumnTrace => "two_column_trace",
            Format::BattSentinelCsv => "battsentinel_csv",
            Format::Generic => "generic",
        }
    }

    /// Every format, in declaration order.
    pub const ALL: [Format; 21] = [
        Format::ArbinCsv,
        Format::MaccorText,
        Format::NewareCsv,
        Format::NewareHierarchical,
        Format::PecCsv,
        Format::LanheXlsx,
        Format::Spreadsheet,
        Format::BiologicCsv,
        Format::BiologicMpt,
        Format::BitrodeCsv,
        Format::LabviewLvm,
        Format::BatteryArchive,
        Format::BatteryArchiveCycles,
        Format::BatteryDataSummary,
        Format::EisCsv,
        Format::PybammDriveCycle,
        Format::PybammTrace,
        Format::PybammTable,
        Format::TwoColumnTrace,
        Format::BattSentinelCsv,
        Format::Generic,
    ];

    /// How current is signed in this layout, before normalisation to positive = discharge.
    pub fn current_sign(self) -> CurrentSign {
        match self {
            Format::ArbinCsv
            | Format::NewareCsv
            | Format::NewareHierarchical
            | Format::PecCsv
            | Format::LanheXlsx
            | Format::BiologicCsv
            | Format::BitrodeCsv
            | Format::BatteryArchive => CurrentSign::ChargePositive,
            Format::MaccorText => CurrentSign::StateOrSigned,
            Format::PybammDriveCycle | Format::PybammTrace | Format::BattSentinelCsv => {
                CurrentSign::DischargePositive
            }
            _ => CurrentSign::Auto,
        }
    }

    /// True for layouts that hold a per-cycle table ([`crate::io::read_summary_bytes`]).
    pub fn is_summary(self) -> bool {
        matches!(self, Format::BatteryArchiveCycles | Format::BatteryDataSummary)
    }

    /// True for impedance spectra ([`crate::io::read_eis_bytes`]).
    pub fn is_eis(self) -> bool {
        matches!(self, Format::EisCsv | Format::BiologicMpt)
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the source signs its current column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum CurrentSign {
    /// Charge positive, discharge negative (most cyclers): negated on import.
    ChargePositive,
    /// Discharge positive (PyBaMM): kept.
    DischargePositive,
    /// Maccor: if any current is negative the column is signed (charge positive, negated); otherwise it is
    /// unsigned and the `State` column decides (D → +, C → −, R/O kept).
    StateOrSigned,
    /// Infer: charge positive if current is positive on rows labelled charge, or if voltage rises while
    /// current is positive; otherwise kept as discharge positive. The decision is written to
    /// [`crate::data::LogMeta::current_sign`].
    Auto,
}

/// An explicit mapping of one source header to a channel, overriding detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingOverride {
    /// Header as written in the file (for headerless files, `column_1`, `column_2`, …).
    pub header: String,
    /// Target channel, as in [`crate::data::ColumnMapping::channel`]: `time_s`, `datetime`, `voltage_v`,
    /// `current_a`, `temperature:<name>`, `cycle_index`, `step_index`, `step_kind`, `charge_capacity_ah`,
    /// `discharge_capacity_ah`, `charge_energy_wh`, `discharge_energy_wh`, `extra:<name>` or `ignored`.
    pub channel: String,
    /// Unit of the source values (for example `"mV"`, `"min"`, `"K"`); `None` keeps the unit read from the
    /// header, or the channel's own unit.
    pub unit: Option<String>,
}

impl MappingOverride {
    /// A mapping from its parts.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::io::MappingOverride;
    /// let m = MappingOverride::new("U", "voltage_v", Some("mV"));
    /// assert_eq!(m.channel, "voltage_v");
    /// ```
    pub fn new(header: &str, channel: &str, unit: Option<&str>) -> Self {
        Self { header: header.to_string(), channel: channel.to_string(), unit: unit.map(str::to_string) }
    }
}

/// Options of every reader. `ReadOptions::default()` detects everything.
///
/// # Examples
/// ```
/// use battsentinel_core::io::{Format, ReadOptions};
/// let opts = ReadOptions { format: Some(Format::Generic), file_name: Some("log.csv".into()), ..Default::default() };
/// assert!(opts.mapping.is_empty());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadOptions {
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
    /// Name of the source file; helps detection (extension, `temperature` in a trace name) and is quoted in
    /// errors.
    pub file_name: Option<String>,
    /// Explicit header → channel mappings, applied after detection.
    pub mapping: Vec<MappingOverride>,
    /// Sheet to read from a spreadsheet (default: `Record-Tab` for LANHE, else the first sheet).
    pub sheet: Option<String>,
    /// Override the current sign convention of the format.
    pub current_sign: Option<CurrentSign>,
    /// Sampling interval (s) for files without a time column. LabVIEW `.lvm` thermocouple logs default to
    /// 3 s (as the source's `datalib/tempdata.py`); other files without time are rejected without it.
    pub sample_interval_s: Option<f64>,
    /// Force the field delimiter (for example `b';'`).
    pub delimiter: Option<u8>,
    /// Turn any unreadable value into an error instead of a quality-report entry.
    pub strict: bool,
}

/// Result of [`crate::io::detect`]: the format, how sure, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    /// The format.
    pub format: Format,
    /// Confidence in [0, 1]: 1.0 for a unique signature (for example Maccor's `Today's Date` line),
    /// lower for heuristics, 0.0 when nothing matched and only the generic reader can try.
    pub confidence: f64,
    /// Human-readable reason.
    pub reason: String,
}
