//! Readers: `readBytes(bytes, fileName?, options?)` → [`BatteryLog`], `detectFormat(bytes, fileName?)`.

use battsentinel_core::io::{self as core_io, ReadOptions};
use wasm_bindgen::prelude::*;

use crate::convert::{bytes, f64_array, from_js, opt_string, to_js};
use crate::errors::{js_error, OrThrow};

#[wasm_bindgen(typescript_custom_section)]
const TS_IO: &'static str = r#"
/** Options of `readBytes` (the core's `ReadOptions`, snake_case keys). */
export interface ReadOptions {
  format?: string;
  file_name?: string;
  mapping?: { header: string; channel: string; unit?: string | null }[];
  sheet?: string;
  current_sign?: "charge_positive" | "discharge_positive" | "state_or_signed" | "auto";
  sample_interval_s?: number;
  delimiter?: number;
  strict?: boolean;
}
/** One group of dropped, repaired or flagged rows. */
export interface QualityIssue {
  code: string; column: string | null; action: string; count: number;
  first_line: number; last_line: number; detail: string;
}
/** What a reader did with the rows of a file. */
export interface QualityReport { rows_read: number; rows_kept: number; issues: QualityIssue[]; }
/** Provenance of a log: format, column mapping, sign convention, warnings. */
export interface LogMeta {
  format: string; source_name: string | null;
  mapping: { header: string; channel: string; unit_found: string; scale: number; offset: number }[];
  current_sign: string; info: Record<string, string>; warnings: string[];
}
/** Result of `detectFormat`. */
export interface Detection { format: string; confidence: number; reason: string; }
/** A named channel (temperature or extra column). */
export interface Channel { name: string; unit: string; values: Float64Array; }
"#;

/// A battery time series in library units (s, V, A positive on discharge, °C, Ah, Wh) with its quality
/// report. Columns come out as `Float64Array`s (missing values are NaN).
#[wasm_bindgen]
pub struct BatteryLog {
    pub(crate) inner: battsentinel_core::BatteryLog,
}

impl BatteryLog {
    /// Wraps a core log.
    pub(crate) fn from_core(inner: battsentinel_core::BatteryLog) -> Self {
        Self { inner }
    }
}

fn opt_col(c: &Option<Vec<f64>>) -> Option<js_sys::Float64Array> {
    c.as_deref().map(f64_array)
}

fn opt_index(c: &Option<Vec<Option<u32>>>) -> Option<js_sys::Float64Array> {
    c.as_ref().map(|v| {
        let f: Vec<f64> = v.iter().map(|x| x.map_or(f64::NAN, f64::from)).collect();
        f64_array(&f)
    })
}

fn channels(cs: &[battsentinel_core::Channel]) -> js_sys::Array {
    cs.iter()
        .map(|c| {
            let o = js_sys::Object::new();
            let set = |k: &str, v: JsValue| js_sys::Reflect::set(&o, &JsValue::from_str(k), &v);
            let _ = set("name", JsValue::from_str(&c.name));
            let _ = set("unit", JsValue::from_str(&c.unit));
            let _ = set("values", f64_array(&c.values).into());
            JsValue::from(o)
        })
        .collect()
}

#[wasm_bindgen]
impl BatteryLog {
    /// Number of rows.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    /// Time (s) from the start.
    #[wasm_bindgen(getter, js_name = timeS)]
    pub fn time_s(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.time_s)
    }
    /// Voltage (V), if the file has it.
    #[wasm_bindgen(getter, js_name = voltageV)]
    pub fn voltage_v(&self) -> Option<js_sys::Float64Array> {
        opt_col(&self.inner.voltage_v)
    }
    /// Current (A), positive = discharge.
    #[wasm_bindgen(getter, js_name = currentA)]
    pub fn current_a(&self) -> Option<js_sys::Float64Array> {
        opt_col(&self.inner.current_a)
    }
    /// The first temperature channel (°C).
    #[wasm_bindgen(getter, js_name = temperatureC)]
    pub fn temperature_c(&self) -> Option<js_sys::Float64Array> {
        self.inner.temperature_c().map(f64_array)
    }
    /// Every temperature channel: `{name, unit, values}`.
    #[wasm_bindgen(getter, unchecked_return_type = "Channel[]")]
    pub fn temperatures(&self) -> js_sys::Array {
        channels(&self.inner.temperatures_c)
    }
    /// Extra channels kept from the file: `{name, unit, values}`.
    #[wasm_bindgen(getter, unchecked_return_type = "Channel[]")]
    pub fn extra(&self) -> js_sys::Array {
        channels(&self.inner.extra)
    }
    /// Cycle number per row (NaN where unknown).
    #[wasm_bindgen(getter, js_name = cycleIndex)]
    pub fn cycle_index(&self) -> Option<js_sys::Float64Array> {
        opt_index(&self.inner.cycle_index)
    }
    /// Step number per row (NaN where unknown).
    #[wasm_bindgen(getter, js_name = stepIndex)]
    pub fn step_index(&self) -> Option<js_sys::Float64Array> {
        opt_index(&self.inner.step_index)
    }
    /// Cumulative charge capacity (Ah).
    #[wasm_bindgen(getter, js_name = chargeCapacityAh)]
    pub fn charge_capacity_ah(&self) -> Option<js_sys::Float64Array> {
        opt_col(&self.inner.charge_capacity_ah)
    }
    /// Cumulative discharge capacity (Ah).
    #[wasm_bindgen(getter, js_name = dischargeCapacityAh)]
    pub fn discharge_capacity_ah(&self) -> Option<js_sys::Float64Array> {
        opt_col(&self.inner.discharge_capacity_ah)
    }
    /// The data-quality report.
    #[wasm_bindgen(getter, unchecked_return_type = "QualityReport")]
    pub fn quality(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.quality)
    }
    /// Format, column mapping, sign convention and warnings.
    #[wasm_bindgen(getter, unchecked_return_type = "LogMeta")]
    pub fn meta(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.meta)
    }
    /// The log in the core's JSON format (the same as `battsentinel` writes).
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.inner)
            .map_err(|e| js_error("ParseError", "serialization", &e.to_string()))
    }
    /// A log from the core's JSON format.
    ///
    /// # Errors
    /// `ParseError` (`bad_value`) when the text is not a log, `log_length_mismatch` when columns differ in length.
    #[wasm_bindgen(js_name = fromJSON)]
    pub fn from_json(json: &str) -> Result<BatteryLog, JsValue> {
        let inner: battsentinel_core::BatteryLog =
            serde_json::from_str(json).map_err(|e| js_error("ParseError", "bad_value", &e.to_string()))?;
        inner.validate().map_err(|e| js_error("FeatureError", "log_length_mismatch", &e.to_string()))?;
        Ok(Self { inner })
    }
    /// Per-cycle features (see `cycleSummary`).
    #[wasm_bindgen(js_name = cycleSummary, unchecked_return_type = "CycleSummary")]
    pub fn cycle_summary(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CycleFeatureParams")] params: JsValue,
    ) -> Result<JsValue, JsValue> {
        crate::features::cycle_summary(self, params)
    }
}

/// Reads a cycler export (Arbin, Maccor, Neware, PEC, LANHE XLSX, BioLogic, Bitrode, LabVIEW, generic CSV…)
/// from bytes. The file name helps detection and is quoted in errors.
///
/// # Errors
/// `TypeError` (`invalid_argument`) for bytes that are not a `Uint8Array`/`ArrayBuffer`; `ParseError` with the
/// core's code (`empty`, `bad_header`, `bad_value`, `not_a_time_series`, …) for unreadable files.
#[wasm_bindgen(js_name = readBytes)]
pub fn read_bytes(
    #[wasm_bindgen(js_name = bytes, unchecked_param_type = "Uint8Array | ArrayBuffer")] data: JsValue,
    #[wasm_bindgen(js_name = fileName, unchecked_param_type = "string | undefined")] file_name: JsValue,
    #[wasm_bindgen(unchecked_param_type = "ReadOptions | undefined")] options: JsValue,
) -> Result<BatteryLog, JsValue> {
    let data = bytes(&data, "bytes")?;
    let mut opts: ReadOptions = from_js(&options, "options")?;
    if let Some(name) = opt_string(&file_name, "fileName")? {
        opts.file_name = Some(name);
    }
    core_io::read_bytes(&data, &opts).or_throw().map(BatteryLog::from_core)
}

/// Detects the format of a file from its first bytes and name: `{format, confidence, reason}`.
///
/// # Errors
/// `TypeError` for bytes of the wrong type.
#[wasm_bindgen(js_name = detectFormat, unchecked_return_type = "Detection")]
pub fn detect_format(
    #[wasm_bindgen(js_name = bytes, unchecked_param_type = "Uint8Array | ArrayBuffer")] data: JsValue,
    #[wasm_bindgen(js_name = fileName, unchecked_param_type = "string | undefined")] file_name: JsValue,
) -> Result<JsValue, JsValue> {
    let data = bytes(&data, "bytes")?;
    let name = opt_string(&file_name, "fileName")?;
    to_js(&core_io::detect(&data[..data.len().min(256 * 1024)], name.as_deref()))
}
