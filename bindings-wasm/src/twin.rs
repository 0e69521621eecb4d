//! Digital twin: `simulate(cellParams, protocol)` → [`Trace`], and the real-time [`Simulator`] with `step()`.
//!
//! Cell parameters and protocols are JSON objects in the core's serde format (`ecmExampleParams()` gives
//! PyBaMM's `ECM_Example` set to start from); current is positive on discharge.

use battsentinel_core::twin::{
    self as core_twin, CellParams, CellValidParams, InitialState, Input, Protocol,
};
use wasm_bindgen::prelude::*;

use crate::convert::{describe, f64_array, from_js_required, to_js};
use crate::errors::{type_error, OrThrow};
use crate::io::BatteryLog;

#[wasm_bindgen(typescript_custom_section)]
const TS_TWIN: &'static str = r#"
/** Cell parameters (the core's `CellParams`): `capacity_ah`, `ocv`, `r0_ohm`, `r1_ohm`, `c1_farad`, …, `v_min_v`, `v_max_v`. */
export type CellParams = Record<string, any>;
/** Cut-offs of a protocol step. */
export interface Limits {
  voltage_below_v?: number; voltage_above_v?: number; soc_below?: number; soc_above?: number;
  temperature_above_c?: number; current_below_a?: number; time_s?: number;
}
/** One protocol step (`kind` = rest | cc | cv | cccv | power | pulses | hppc | drive_cycle | repeat). */
export type ProtocolStep = { kind: string; [key: string]: any };
/** A test protocol. */
export interface Protocol { dt_s?: number; initial: { soc: number; temperature_c?: number | null }; limits?: Limits; steps: ProtocolStep[]; }
/** Input of one simulator step: a current (A, + = discharge), a held voltage (V) or a power (W). */
export type TwinInput = number | { current_a: number } | { voltage_v: number } | { power_w: number };
/** One output sample of the simulator. */
export interface TwinOutput {
  time_s: number; current_a: number; voltage_v: number; ocv_v: number; soc: number; v_r0_v: number;
  v_rc_v: number[]; r0_ohm: number; r_ohm: number[]; c_farad: number[]; t_cell_c: number; t_jig_c: number;
  q_gen_w: number; power_w: number;
}
"#;

fn cell(params: &JsValue) -> Result<CellValidParams, JsValue> {
    let p: CellParams = from_js_required(params, "cellParams")?;
    p.check().or_throw()
}

/// PyBaMM's `ECM_Example` cell (100 Ah, tables over temperature, current and SoC) as a parameter object.
///
/// # Errors
/// Never.
#[wasm_bindgen(js_name = ecmExampleParams, unchecked_return_type = "CellParams")]
pub fn ecm_example_params() -> Result<JsValue, JsValue> {
    to_js(&CellParams::ecm_example())
}

/// `ECM_Example` with constant R0, R1, C1 and no entropic heat.
///
/// # Errors
/// Never.
#[wasm_bindgen(js_name = ecmExampleConstParams, unchecked_return_type = "CellParams")]
pub fn ecm_example_const_params(
    #[wasm_bindgen(js_name = r0Ohm)] r0_ohm: f64,
    #[wasm_bindgen(js_name = r1Ohm)] r1_ohm: f64,
    #[wasm_bindgen(js_name = c1Farad)] c1_farad: f64,
) -> Result<JsValue, JsValue> {
    to_js(&CellParams::ecm_example_const(r0_ohm, r1_ohm, c1_farad))
}

/// A simulation result in columns (`Float64Array`s).
#[wasm_bindgen]
pub struct Trace {
    inner: core_twin::Trace,
}

#[wasm_bindgen]
impl Trace {
    /// Number of rows.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> usize {
        self.inner.len()
    }
    /// Time (s).
    #[wasm_bindgen(getter, js_name = timeS)]
    pub fn time_s(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.time_s)
    }
    /// Current (A), positive = discharge.
    #[wasm_bindgen(getter, js_name = currentA)]
    pub fn current_a(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.current_a)
    }
    /// Terminal voltage (V).
    #[wasm_bindgen(getter, js_name = voltageV)]
    pub fn voltage_v(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.voltage_v)
    }
    /// Open-circuit voltage (V).
    #[wasm_bindgen(getter, js_name = ocvV)]
    pub fn ocv_v(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.ocv_v)
    }
    /// State of charge.
    #[wasm_bindgen(getter)]
    pub fn soc(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.soc)
    }
    /// Cell temperature (°C).
    #[wasm_bindgen(getter, js_name = tCellC)]
    pub fn t_cell_c(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.t_cell_c)
    }
    /// Heat generation (W).
    #[wasm_bindgen(getter, js_name = qGenW)]
    pub fn q_gen_w(&self) -> js_sys::Float64Array {
        f64_array(&self.inner.q_gen_w)
    }
    /// Why the run ended (`"duration"`, `"voltage_below"`, …).
    ///
    /// # Errors
    /// Never.
    #[wasm_bindgen(getter, js_name = endReason)]
    pub fn end_reason(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.end_reason)
    }
    /// Cut-offs met: `{time_s, step, reason}`.
    ///
    /// # Errors
    /// Never.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.events)
    }
    /// The trace as a `BatteryLog` (to analyse it like a measured file).
    #[wasm_bindgen(js_name = toBatteryLog)]
    pub fn to_battery_log(&self) -> BatteryLog {
        BatteryLog::from_core(self.inner.to_battery_log())
    }
    /// Every column, in the core's JSON format.
    ///
    /// # Errors
    /// Never for finite traces.
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Result<String, JsValue> {
        serde_json::to_string(&self.inner).map_err(|e| type_error(e.to_string()))
    }
}

/// Runs a protocol on a cell.
///
/// # Errors
/// `ParamError` for invalid cell parameters or protocol fields; `SimError` (`invalid_dt`,
/// `soc_outside_table`, `invalid_protocol`, …).
#[wasm_bindgen]
pub fn simulate(
    #[wasm_bindgen(js_name = cellParams, unchecked_param_type = "CellParams")] cell_params: JsValue,
    #[wasm_bindgen(unchecked_param_type = "Protocol")] protocol: JsValue,
) -> Result<Trace, JsValue> {
    let cell = cell(&cell_params)?;
    let protocol: Protocol = from_js_required(&protocol, "protocol")?;
    Ok(Trace { inner: core_twin::simulate(&cell, &protocol).or_throw()? })
}

/// A real-time cell: one input sample in, one output sample out.
#[wasm_bindgen]
pub struct Simulator {
    inner: core_twin::Simulator,
}

#[wasm_bindgen]
impl Simulator {
    /// A cell at `initial` (`{soc, temperature_c?}`).
    ///
    /// # Errors
    /// `ParamError`; `SimError` (`soc_outside_table`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(js_name = cellParams, unchecked_param_type = "CellParams")] cell_params: JsValue,
        #[wasm_bindgen(unchecked_param_type = "{ soc: number; temperature_c?: number | null }")]
        initial: JsValue,
    ) -> Result<Simulator, JsValue> {
        let cell = cell(&cell_params)?;
        let init: InitialState = from_js_required(&initial, "initial")?;
        Ok(Self { inner: core_twin::Simulator::new(cell, init).or_throw()? })
    }
    /// Advances `dtS` seconds with `input` held (a number is a current in A, + = discharge).
    ///
    /// # Errors
    /// `TypeError` for a malformed input; `SimError` (`invalid_dt`, `non_finite_input`, `no_solution`, …).
    #[wasm_bindgen(unchecked_return_type = "TwinOutput")]
    pub fn step(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "TwinInput")] input: JsValue,
        #[wasm_bindgen(js_name = dtS)] dt_s: f64,
    ) -> Result<JsValue, JsValue> {
        let input = match input.as_f64() {
            Some(current_a) => Input::Current { current_a },
            None if input.is_object() => from_js_required(&input, "input")?,
            None => {
                return Err(type_error(format!(
                    "input must be a number (A) or {{current_a | voltage_v | power_w}}, got {}",
                    describe(&input)
                )))
            }
        };
        to_js(&self.inner.step(input, dt_s).or_throw()?)
    }
    /// The current output (voltage etc. at zero current change).
    ///
    /// # Errors
    /// Never.
    #[wasm_bindgen(getter, unchecked_return_type = "TwinOutput")]
    pub fn output(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.output())
    }
    /// The state: `{time_s, soc, v_rc_v, t_cell_c, t_jig_c}`.
    ///
    /// # Errors
    /// Never.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> Result<JsValue, JsValue> {
        to_js(self.inner.state())
    }
}
