//! One JSON model format for Rust, Python and JS: an envelope with a format name, a format version and the
//! model kind around the model's own serde representation.
//!
//! ```json
//! {"format": "battsentinel-model", "format_version": 1, "kind": "random_forest_classifier", "model": {…}}
//! ```
//! A file with another `format_version` is refused with [`ModelError::FormatVersion`]; a file of another
//! kind with [`ModelError::WrongKind`].

use serde::{de::DeserializeOwned, Deserialize, Serialize};

use super::ModelError;

/// Name in the `format` field of every model file.
pub const FORMAT_NAME: &str = "battsentinel-model";

/// Version of the model file format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
struct EnvelopeOut<'a, M> {
    format: &'a str,
    format_version: u32,
    kind: &'a str,
    model: &'a M,
}

#[derive(Deserialize)]
struct EnvelopeIn {
    format: String,
    format_version: u32,
    kind: String,
    model: serde_json::Value,
}

/// Reads the envelope of a model file: `(kind, model JSON)`, after checking format name and version.
pub(crate) fn open_envelope(json: &str) -> Result<(String, serde_json::Value), ModelError> {
    let env: EnvelopeIn = serde_json::from_str(json).map_err(|source| ModelError::Json { source })?;
    if env.format != FORMAT_NAME {
        return Err(ModelError::WrongKind { expected: FORMAT_NAME.to_string(), found: env.format });
    }
    if env.format_version != FORMAT_VERSION {
        return Err(ModelError::FormatVersion { found: env.format_version, expected: FORMAT_VERSION });
    }
    Ok((env.kind, env.model))
}

/// A model that saves to and loads from the shared JSON format.
pub trait Persist: Serialize + DeserializeOwned {
    /// The `kind` string of this model in the file envelope.
    const KIND: &'static str;

    /// Checks the loaded model's internal consistency and rebuilds derived state.
    ///
    /// # Errors
    /// [`ModelError::Corrupt`] when the arrays do not fit together.
    fn restore(&mut self) -> Result<(), ModelError>;

    /// Serialises the model, inside the versioned envelope, to a JSON string.
    ///
    /// # Errors
    /// [`ModelError::Json`] if serialisation fails (it does not for finite models).
    fn save_json(&self) -> Result<String, ModelError> {
        let env = EnvelopeOut {
            format: FORMAT_NAME,
            format_version: FORMAT_VERSION,
            kind: Self::KIND,
            model: self,
        };
        serde_json::to_string(&env).map_err(|source| ModelError::Json { source })
    }

    /// Loads a model saved by [`Persist::save_json`] (from any front-end).
    ///
    /// # Errors
    /// [`ModelError::Json`] (not JSON / schema mismatch), [`ModelError::FormatVersion`],
    /// [`ModelError::WrongKind`], [`ModelError::Corrupt`].
    fn load_json(json: &str) -> Result<Self, ModelError> {
        let (kind, value) = open_envelope(json)?;
        if kind != Self::KIND {
            return Err(ModelError::WrongKind { expected: Self::KIND.to_string(), found: kind });
        }
        let mut model: Self = serde_json::from_value(value).map_err(|source| ModelError::Json { source })?;
        model.restore()?;
        Ok(model)
    }
}

/// Reads only the `kind` of a model file (after checking format and version).
///
/// # Errors
/// As [`Persist::load_json`].
pub fn model_kind(json: &str) -> Result<String, ModelError> {
    open_envelope(json).map(|(kind, _)| kind)
}
