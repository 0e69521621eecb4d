//! Alert engine: `AlertEngine` (streaming `push(tS, values)` and batch `evaluate(log)`), `evaluateAlerts`,
//! and the default Li-ion rule set.
//!
//! Rules are given as `undefined` (the default Li-ion rules for NMC), `"nmc"` / `"lfp"` (the default rules
//! for that chemistry), a TOML rule file (string), or a rule-set object in the core's JSON format.

use battsentinel_core::alerts::{self as core_alerts, Chemistry, EngineParams, RuleSet, Sample};
use wasm_bindgen::prelude::*;

use crate::convert::{describe, from_js, from_js_required, strings, to_js, vector};
use crate::errors::{js_error, type_error, OrThrow};
use crate::io::BatteryLog;

#[wasm_bindgen(typescript_custom_section)]
const TS_ALERTS: &'static str = r#"
/** Rules: `undefined` (default NMC rules), `"nmc"` | `"lfp"`, a TOML rule file, or a rule-set object. */
export type Rules = undefined | "nmc" | "lfp" | string | Record<string, any>;
/** Engine parameters (the core's `EngineParams`). */
export interface EngineParams { battery_id?: string | null; tags?: string[]; max_gap_s?: number; max_window_samples?: number; }
/** One event of the alert stream. */
export interface AlertEvent {
  kind: "raised" | "escalated" | "cleared"; alert_id: number; t_s: number; onset_t_s: number; rule_id: string;
  dedup_key: string; severity: string; category: string; battery_id: string | null;
  values: { name: string; value: number | null }[]; suppressed_episodes: number;
}
"#;

fn rules(v: &JsValue) -> Result<RuleSet, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(RuleSet::default_li_ion(Chemistry::Nmc));
    }
    if let Some(s) = v.as_string() {
        return match s.trim() {
            "nmc" => Ok(RuleSet::default_li_ion(Chemistry::Nmc)),
            "lfp" => Ok(RuleSet::default_li_ion(Chemistry::Lfp)),
            _ => RuleSet::from_toml_str(&s).or_throw(),
        };
    }
    if v.is_object() && !v.is_function() {
        let text = js_sys::JSON::stringify(v)
            .map_err(|_| type_error("rules cannot be converted to JSON"))?
            .as_string()
            .unwrap_or_default();
        return RuleSet::from_json_str(&text).or_throw();
    }
    Err(type_error(format!(
        "rules must be \"nmc\", \"lfp\", a TOML string or a rule-set object, got {}",
        describe(v)
    )))
}

/// The default Li-ion rule set for `chemistry` (`"nmc"`, default, or `"lfp"`) as a rule-set object.
///
/// # Errors
/// `TypeError` for an unknown chemistry.
#[wasm_bindgen(js_name = defaultRules)]
pub fn default_rules(chemistry: Option<String>) -> Result<JsValue, JsValue> {
    let c = match chemistry.as_deref().unwrap_or("nmc") {
        "nmc" => Chemistry::Nmc,
        "lfp" => Chemistry::Lfp,
        other => return Err(type_error(format!("chemistry must be \"nmc\" or \"lfp\", got {other:?}"))),
    };
    to_js(&RuleSet::default_li_ion(c))
}

/// The signals a log provides to the alert engine (`voltage_v`, `current_a`, `temperature_c:<name>`, …).
#[wasm_bindgen(js_name = logSignals)]
pub fn log_signals(log: &BatteryLog) -> Vec<String> {
    core_alerts::log_signals(&log.inner)
}

/// Evaluates rules over a whole log: the events of streaming its rows, in order.
///
/// # Errors
/// `RuleError` naming the rule and field of an invalid rule; `ParamError`.
#[wasm_bindgen(js_name = evaluateAlerts, unchecked_return_type = "AlertEvent[]")]
pub fn evaluate_alerts(
    log: &BatteryLog,
    #[wasm_bindgen(unchecked_param_type = "Rules")] rule_set: JsValue,
    #[wasm_bindgen(unchecked_param_type = "EngineParams | undefined")] params: JsValue,
) -> Result<JsValue, JsValue> {
    let r = rules(&rule_set)?;
    let p: EngineParams = from_js(&params, "params")?;
    to_js(&core_alerts::evaluate(&r, &log.inner, p).or_throw()?)
}

/// A streaming alert engine with memory bounded by the rule windows.
#[wasm_bindgen]
pub struct AlertEngine {
    inner: core_alerts::AlertEngine,
}

#[wasm_bindgen]
impl AlertEngine {
    /// Compiles `rules` against the stream's `signals` (names, in the order of `push`'s values).
    ///
    /// # Errors
    /// `TypeError`; `RuleError`; `ParamError`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string[]")] signals: JsValue,
        #[wasm_bindgen(unchecked_param_type = "Rules")] rule_set: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EngineParams | undefined")] params: JsValue,
    ) -> Result<AlertEngine, JsValue> {
        let signals = strings(&signals, "signals")?;
        let r = rules(&rule_set)?;
        let p: EngineParams = from_js(&params, "params")?;
        Ok(Self { inner: core_alerts::AlertEngine::new(&r, &signals, p).or_throw()? })
    }
    /// An engine whose signals are the columns of `log`.
    ///
    /// # Errors
    /// As the constructor.
    #[wasm_bindgen(js_name = forLog)]
    pub fn for_log(
        log: &BatteryLog,
        #[wasm_bindgen(unchecked_param_type = "Rules")] rule_set: JsValue,
        #[wasm_bindgen(unchecked_param_type = "EngineParams | undefined")] params: JsValue,
    ) -> Result<AlertEngine, JsValue> {
        let r = rules(&rule_set)?;
        let p: EngineParams = from_js(&params, "params")?;
        Ok(Self { inner: core_alerts::AlertEngine::for_log(&r, &log.inner, p).or_throw()? })
    }
    /// The signal names, in sample order.
    #[wasm_bindgen(getter)]
    pub fn signals(&self) -> Vec<String> {
        self.inner.signals().to_vec()
    }
    /// Signals named by the rules that the stream does not carry.
    #[wasm_bindgen(getter, js_name = unboundSignals)]
    pub fn unbound_signals(&self) -> Vec<String> {
        self.inner.unbound_signals().to_vec()
    }
    /// Feeds one sample (time in s, one value per signal; `NaN`/`null` = missing) and returns its events.
    ///
    /// # Errors
    /// `TypeError` for non-numeric values.
    #[wasm_bindgen(unchecked_return_type = "AlertEvent[]")]
    pub fn push(
        &mut self,
        #[wasm_bindgen(js_name = tS)] t_s: f64,
        #[wasm_bindgen(unchecked_param_type = "ArrayLike<number>")] values: JsValue,
    ) -> Result<JsValue, JsValue> {
        let values = vector(&values, "values")?;
        to_js(&self.inner.push(&Sample { t_s, values: &values }))
    }
    /// Streams every row of `log` through the engine and returns the events.
    ///
    /// # Errors
    /// Never for finite events.
    #[wasm_bindgen(unchecked_return_type = "AlertEvent[]")]
    pub fn evaluate(&mut self, log: &BatteryLog) -> Result<JsValue, JsValue> {
        to_js(&self.inner.evaluate(&log.inner))
    }
    /// Counters: samples, duplicates, out-of-order, invalid times, gaps, window evictions.
    ///
    /// # Errors
    /// Never.
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.stats())
    }
    /// Dedup keys of the alerts currently raised.
    #[wasm_bindgen(js_name = activeKeys)]
    pub fn active_keys(&self) -> Vec<String> {
        self.inner.active_keys().into_iter().map(str::to_string).collect()
    }
    /// Back to the state right after construction.
    pub fn reset(&mut self) {
        self.inner.reset();
    }
    /// The complete streaming state (rules, signals, parameters, windows, timers, latches, active alerts,
    /// counters) as a plain object; `JSON.stringify` it to store it, `AlertEngine.fromSnapshot` resumes it
    /// with identical events.
    ///
    /// # Errors
    /// Never.
    #[wasm_bindgen(unchecked_return_type = "EngineSnapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        to_js(&self.inner.snapshot())
    }
    /// Resumes an engine from `snapshot()` (the object or its JSON text).
    ///
    /// # Errors
    /// `TypeError` for a value that is neither; `ParamError` for text that is not a snapshot; `RuleError`
    /// (code `invalid_snapshot`, naming the field) for a state that does not fit its rules.
    #[wasm_bindgen(js_name = fromSnapshot)]
    pub fn from_snapshot(
        #[wasm_bindgen(unchecked_param_type = "EngineSnapshot | string")] snapshot: JsValue,
    ) -> Result<AlertEngine, JsValue> {
        let snap: core_alerts::EngineSnapshot = match snapshot.as_string() {
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                js_error("ParamError", "invalid_param", &format!("alert engine snapshot: {e}"))
            })?,
            None if snapshot.is_object() => from_js_required(&snapshot, "alert engine snapshot")?,
            None => {
                return Err(type_error(format!(
                    "an alert engine snapshot is an object or its JSON text, got {}",
                    describe(&snapshot)
                )))
            }
        };
        Ok(Self { inner: core_alerts::AlertEngine::from_snapshot(snap).or_throw()? })
    }
}
