//! WebAssembly bindings for BattSentinel: a thin layer that converts arguments, calls `battsentinel-core`, and
//! throws JS `Error`s with `name` and `code`.

use wasm_bindgen::prelude::*;

/// The package version.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
