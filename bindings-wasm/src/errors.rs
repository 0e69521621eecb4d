//! Errors at the JS boundary: every failure becomes a real JS `Error` with `name` (the area, such as
//! `ParseError`) and `code` (the core's stable [`battsentinel_core::Error::code`]).
//!
//! Argument type errors raised by the bindings themselves are `TypeError`s with code `invalid_argument`.

use battsentinel_core::{
    alerts::RuleError, explain::ExplainError, features::FeatureError, io::ParseError, models::ModelError,
    thermal::ThermalError, twin::SimError, Error, ParamError,
};
use wasm_bindgen::prelude::*;

/// Builds a JS `Error` with `name`, `message` and `code`.
pub(crate) fn js_error(name: &str, code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name(name);
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

/// A `TypeError` (code `invalid_argument`) for a wrong argument type or shape.
pub(crate) fn type_error(message: impl AsRef<str>) -> JsValue {
    let e = js_sys::TypeError::new(message.as_ref());
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str("invalid_argument"));
    e.into()
}

/// The JS error name of a core error code inside an area: parameter errors are `ParamError` everywhere.
fn name_for(area: &'static str, code: &str) -> &'static str {
    match code {
        "invalid_param" | "inconsistent_params" => "ParamError",
        _ => area,
    }
}

/// Conversion of core errors into thrown JS values.
pub(crate) trait ToJs {
    /// The JS `Error`.
    fn to_js(&self) -> JsValue;
}

macro_rules! area_error {
    ($($ty:ty => $name:literal),* $(,)?) => {$(
        impl ToJs for $ty {
            fn to_js(&self) -> JsValue {
                js_error(name_for($name, self.code()), self.code(), &self.to_string())
            }
        }
    )*};
}

area_error! {
    ParseError => "ParseError",
    ParamError => "ParamError",
    FeatureError => "FeatureError",
    ModelError => "ModelError",
    ExplainError => "ExplainError",
    SimError => "SimError",
    RuleError => "RuleError",
    ThermalError => "ThermalError",
}

impl ToJs for Error {
    fn to_js(&self) -> JsValue {
        match self {
            Error::Parse(e) => e.to_js(),
            Error::Params(e) => e.to_js(),
            Error::Feature(e) => e.to_js(),
            Error::Model(e) => e.to_js(),
            Error::Explain(e) => e.to_js(),
            Error::Sim(e) => e.to_js(),
            Error::Rule(e) => e.to_js(),
            Error::Thermal(e) => e.to_js(),
            other => js_error("BattSentinelError", other.code(), &other.to_string()),
        }
    }
}

/// `Result<T, CoreError>` → `Result<T, JsValue>`.
pub(crate) trait OrThrow<T> {
    /// Maps the error to a JS `Error`.
    fn or_throw(self) -> Result<T, JsValue>;
}

impl<T, E: ToJs> OrThrow<T> for Result<T, E> {
    fn or_throw(self) -> Result<T, JsValue> {
        self.map_err(|e| e.to_js())
    }
}

thread_local! {
    /// An error raised inside a callback the core called (a JS model function, a model prediction): the core
    /// only sees a generic failure, and the bindings rethrow this original error instead.
    static PENDING: std::cell::RefCell<Option<JsValue>> = const { std::cell::RefCell::new(None) };
}

/// Keeps the first error raised inside a callback until the core call returns.
pub(crate) fn stash(e: JsValue) {
    PENDING.with(|p| {
        let mut p = p.borrow_mut();
        if p.is_none() {
            *p = Some(e);
        }
    });
}

/// The stashed callback error, if any (clearing it).
pub(crate) fn take_pending() -> Option<JsValue> {
    PENDING.with(|p| p.borrow_mut().take())
}

/// Maps a core result, preferring an error stashed by a callback over the core's error.
pub(crate) fn or_throw_pending<T, E: ToJs>(r: Result<T, E>) -> Result<T, JsValue> {
    let pending = take_pending();
    match r {
        Ok(v) => Ok(v),
        Err(e) => Err(pending.unwrap_or_else(|| e.to_js())),
    }
}
