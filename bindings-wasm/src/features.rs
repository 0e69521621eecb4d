//! Per-cycle features: `cycleSummary`, `sohTrend`, `incrementalCapacity`, `dcirEvents`.

use battsentinel_core::features::{
    self as core_features, CycleFeatureParams, DcirParams, Direction, IcaParams, TrendParams,
};
use battsentinel_core::CycleSummary;
use wasm_bindgen::prelude::*;

use crate::convert::{from_js, from_js_required, to_js};
use crate::errors::{type_error, OrThrow};
use crate::io::BatteryLog;

#[wasm_bindgen(typescript_custom_section)]
const TS_FEATURES: &'static str = r#"
/** Parameters of `cycleSummary` (the core's `CycleFeatureParams`). */
export interface CycleFeatureParams {
  capacity_source?: "auto" | "counters" | "integrate";
  nominal_capacity_ah?: number | null;
  full_cycle_fraction?: number;
  temperature_channel?: string | null;
  max_gap_s?: number | null;
  dcir?: { delay_s?: number; min_delta_current_a?: number; direction?: string };
}
/** Features of one cycle; NaN values are `null`. */
export interface CycleRecord {
  cycle: number; label: string | null;
  charge_capacity_ah: number | null; discharge_capacity_ah: number | null;
  charge_energy_wh: number | null; discharge_energy_wh: number | null;
  coulombic_efficiency: number | null; energy_efficiency: number | null;
  voltage_min_v: number | null; voltage_max_v: number | null; voltage_mean_v: number | null;
  temperature_min_c: number | null; temperature_max_c: number | null; temperature_mean_c: number | null;
  duration_s: number | null; dcir_ohm: number | null; soh: number | null;
  extra: Record<string, number>;
}
/** Result of `cycleSummary`. */
export interface CycleSummary { cycles: CycleRecord[]; meta: LogMeta; quality: QualityReport; }
"#;

/// Per-cycle capacity, energy, efficiencies, voltage and temperature statistics, DCIR and SOH of a log.
///
/// # Errors
/// `ParamError` for invalid params; `FeatureError` (`not_enough_data`, `missing_channel`, …).
#[wasm_bindgen(js_name = cycleSummary, unchecked_return_type = "CycleSummary")]
pub fn cycle_summary(
    log: &BatteryLog,
    #[wasm_bindgen(unchecked_param_type = "CycleFeatureParams | undefined")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let p: CycleFeatureParams = from_js(&params, "params")?;
    to_js(&core_features::cycle_summary(&log.inner, &p).or_throw()?)
}

/// The capacity-fade trend of a cycle summary (the object `cycleSummary` returns), with an end-of-life
/// prediction.
///
/// # Errors
/// `ParamError`; `FeatureError` when too few cycles qualify.
#[wasm_bindgen(js_name = sohTrend)]
pub fn soh_trend(
    #[wasm_bindgen(unchecked_param_type = "CycleSummary")] summary: JsValue,
    params: JsValue,
) -> Result<JsValue, JsValue> {
    let s: CycleSummary = from_js_required(&summary, "summary")?;
    let p: TrendParams = from_js(&params, "params")?;
    to_js(&core_features::soh_trend(&s, &p).or_throw()?)
}

/// Incremental capacity dQ/dV of one cycle (`cycle` = `undefined` for the whole log), `direction` =
/// `"charge"` or `"discharge"`.
///
/// # Errors
/// `TypeError` for a bad direction; `FeatureError` (`cycle_not_found`, `not_enough_data`, …).
#[wasm_bindgen(js_name = incrementalCapacity)]
pub fn incremental_capacity(
    log: &BatteryLog,
    cycle: Option<u32>,
    direction: &str,
    params: JsValue,
) -> Result<JsValue, JsValue> {
    let dir: Direction =
        serde_json::from_value(serde_json::Value::String(direction.to_string())).map_err(|_| {
            type_error(format!("direction must be \"charge\" or \"discharge\", got {direction:?}"))
        })?;
    let p: IcaParams = from_js(&params, "params")?;
    to_js(&core_features::incremental_capacity(&log.inner, cycle, dir, &p).or_throw()?)
}

/// The DC internal resistance of every current step of a log.
///
/// # Errors
/// `ParamError`; `FeatureError` (`missing_channel`).
#[wasm_bindgen(js_name = dcirEvents)]
pub fn dcir_events(log: &BatteryLog, params: JsValue) -> Result<JsValue, JsValue> {
    let p: DcirParams = from_js(&params, "params")?;
    to_js(&core_features::dcir_events(&log.inner, &p).or_throw()?)
}
