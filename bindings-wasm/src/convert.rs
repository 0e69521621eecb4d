//! Argument and result conversion between JS values and core types. No logic beyond conversion and type
//! checks with clear messages.

use ndarray::{Array2, ArrayView3};
use serde::{de::DeserializeOwned, Serialize};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::errors::{js_error, type_error};

/// Bytes from a `Uint8Array`, `ArrayBuffer` or any `ArrayBufferView`.
pub(crate) fn bytes(v: &JsValue, what: &str) -> Result<Vec<u8>, JsValue> {
    if let Some(a) = v.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(a.to_vec());
    }
    if let Some(b) = v.dyn_ref::<js_sys::ArrayBuffer>() {
        return Ok(js_sys::Uint8Array::new(b).to_vec());
    }
    if js_sys::ArrayBuffer::is_view(v) {
        let view: &js_sys::Object = v.unchecked_ref();
        let get = |k: &str| js_sys::Reflect::get(view, &JsValue::from_str(k)).ok();
        if let (Some(buf), Some(off), Some(len)) = (get("buffer"), get("byteOffset"), get("byteLength")) {
            if let (Some(buf), Some(off), Some(len)) =
                (buf.dyn_ref::<js_sys::ArrayBuffer>(), off.as_f64(), len.as_f64())
            {
                return Ok(
                    js_sys::Uint8Array::new_with_byte_offset_and_length(buf, off as u32, len as u32).to_vec()
                );
            }
        }
    }
    Err(type_error(format!("{what} must be a Uint8Array or an ArrayBuffer, got {}", describe(v))))
}

/// A short description of a JS value's type for error messages.
pub(crate) fn describe(v: &JsValue) -> String {
    if v.is_undefined() {
        "undefined".into()
    } else if v.is_null() {
        "null".into()
    } else if v.is_string() {
        "a string".into()
    } else if v.as_f64().is_some() {
        "a number".into()
    } else if js_sys::Array::is_array(v) {
        "an Array".into()
    } else if v.is_function() {
        "a function".into()
    } else {
        v.js_typeof().as_string().unwrap_or_else(|| "a value".into())
    }
}

/// An optional string argument.
pub(crate) fn opt_string(v: &JsValue, what: &str) -> Result<Option<String>, JsValue> {
    if v.is_undefined() || v.is_null() {
        Ok(None)
    } else {
        v.as_string()
            .map(Some)
            .ok_or_else(|| type_error(format!("{what} must be a string, got {}", describe(v))))
    }
}

/// Parameters or another serde value from a JS object (`undefined` / `null` → `Default`). The object goes
/// through JSON, so keys and values are exactly the core's serde format.
pub(crate) fn from_js<T: DeserializeOwned + Default>(v: &JsValue, what: &str) -> Result<T, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(T::default());
    }
    from_js_required(v, what)
}

/// As [`from_js`] for a required value.
pub(crate) fn from_js_required<T: DeserializeOwned>(v: &JsValue, what: &str) -> Result<T, JsValue> {
    if v.is_undefined() || v.is_null() || v.is_function() {
        return Err(type_error(format!("{what} must be an object, got {}", describe(v))));
    }
    let text = js_sys::JSON::stringify(v)
        .map_err(|_| type_error(format!("{what} cannot be converted to JSON")))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| js_error("ParamError", "invalid_param", &format!("{what}: {e}")))
}

/// A serde value as a plain JS object (via JSON: NaN becomes `null`, as the core's serde format says).
pub(crate) fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsValue> {
    let text = serde_json::to_string(v)
        .map_err(|e| js_error("BattSentinelError", "serialization", &e.to_string()))?;
    js_sys::JSON::parse(&text)
}

/// A `Float64Array` copy of a slice.
pub(crate) fn f64_array(v: &[f64]) -> js_sys::Float64Array {
    js_sys::Float64Array::from(v)
}

/// A vector of numbers from a `Float64Array` (or any typed array) or an Array of numbers.
pub(crate) fn vector(v: &JsValue, what: &str) -> Result<Vec<f64>, JsValue> {
    if let Some(a) = v.dyn_ref::<js_sys::Float64Array>() {
        return Ok(a.to_vec());
    }
    if js_sys::ArrayBuffer::is_view(v) && !v.is_instance_of::<js_sys::DataView>() {
        return Ok(js_sys::Float64Array::new(v).to_vec());
    }
    if let Some(a) = v.dyn_ref::<js_sys::Array>() {
        let mut out = Vec::with_capacity(a.length() as usize);
        for (i, x) in a.iter().enumerate() {
            match x.as_f64() {
                Some(f) => out.push(f),
                None if x.is_null() => out.push(f64::NAN),
                None => {
                    return Err(type_error(format!("{what}[{i}] must be a number, got {}", describe(&x))));
                }
            }
        }
        return Ok(out);
    }
    Err(type_error(format!("{what} must be a Float64Array or an Array of numbers, got {}", describe(v))))
}

/// Class labels (non-negative integers).
pub(crate) fn labels(v: &JsValue, what: &str) -> Result<Vec<usize>, JsValue> {
    vector(v, what)?
        .into_iter()
        .enumerate()
        .map(|(i, x)| {
            if x >= 0.0 && x.fract() == 0.0 && x < 4.0e9 {
                Ok(x as usize)
            } else {
                Err(type_error(format!("{what}[{i}] must be a non-negative integer class label, got {x}")))
            }
        })
        .collect()
}

/// A matrix from an Array of rows (each an Array of numbers or a typed array), or from
/// `{data: Float64Array | number[], nRows, nCols}` (row-major).
pub(crate) fn matrix(v: &JsValue, what: &str) -> Result<Array2<f64>, JsValue> {
    if let Some(rows) = v.dyn_ref::<js_sys::Array>() {
        let n = rows.length() as usize;
        let mut data = Vec::new();
        let mut cols = None;
        for (i, r) in rows.iter().enumerate() {
            let row = vector(&r, &format!("{what}[{i}]"))?;
            match cols {
                None => cols = Some(row.len()),
                Some(c) if c != row.len() => {
                    return Err(type_error(format!(
                        "{what}: row {i} has {} values but row 0 has {c} (rows must have equal length)",
                        row.len()
                    )));
                }
                _ => {}
            }
            data.extend(row);
        }
        let cols = cols.unwrap_or(0);
        return Array2::from_shape_vec((n, cols), data).map_err(|e| type_error(format!("{what}: {e}")));
    }
    if v.is_object() && !v.is_function() && !js_sys::ArrayBuffer::is_view(v) {
        let get = |k: &str| js_sys::Reflect::get(v, &JsValue::from_str(k)).unwrap_or(JsValue::UNDEFINED);
        let data = vector(&get("data"), &format!("{what}.data"))?;
        let dim = |k: &str| {
            get(k)
                .as_f64()
                .filter(|x| *x >= 0.0 && x.fract() == 0.0)
                .map(|x| x as usize)
                .ok_or_else(|| type_error(format!("{what}.{k} must be a non-negative integer")))
        };
        let (r, c) = (dim("nRows")?, dim("nCols")?);
        if r.checked_mul(c) != Some(data.len()) {
            return Err(type_error(format!(
                "{what}: data has {} values, nRows × nCols = {r} × {c}",
                data.len()
            )));
        }
        return Array2::from_shape_vec((r, c), data).map_err(|e| type_error(format!("{what}: {e}")));
    }
    Err(type_error(format!("{what} must be an Array of rows or {{data, nRows, nCols}}, got {}", describe(v))))
}

/// A matrix as an Array of `Float64Array` rows.
pub(crate) fn rows_out(m: &Array2<f64>) -> js_sys::Array {
    m.rows().into_iter().map(|r| JsValue::from(f64_array(&r.to_vec()))).collect()
}

/// A 3-D array `[i][j][k]` as an Array of Arrays of `Float64Array`s over the last axis.
pub(crate) fn cube_out(a: ArrayView3<'_, f64>) -> js_sys::Array {
    a.outer_iter()
        .map(|m| {
            JsValue::from(
                m.rows()
                    .into_iter()
                    .map(|r| JsValue::from(f64_array(&r.to_vec())))
                    .collect::<js_sys::Array>(),
            )
        })
        .collect()
}

/// A list of strings from a JS Array.
pub(crate) fn strings(v: &JsValue, what: &str) -> Result<Vec<String>, JsValue> {
    let a = v
        .dyn_ref::<js_sys::Array>()
        .ok_or_else(|| type_error(format!("{what} must be an Array of strings, got {}", describe(v))))?;
    a.iter()
        .enumerate()
        .map(|(i, s)| {
            s.as_string()
                .ok_or_else(|| type_error(format!("{what}[{i}] must be a string, got {}", describe(&s))))
        })
        .collect()
}
