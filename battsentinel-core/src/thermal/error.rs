//! Errors of the `thermal` module.

/// Errors raised by `thermal`: decoding, radiometric metadata, analysis parameters and rendering.
///
/// Every variant has a stable snake_case [`ThermalError::code`]; malformed input never panics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ThermalError {
    /// Invalid parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
    /// The input ended before a structure was complete.
    #[error("truncated {what}: needed {needed} bytes at offset {offset}, only {available} available")]
    Truncated {
        /// The structure being read (`"jpeg segment"`, `"fff directory"`, ...).
        what: &'static str,
        /// Offset (within that structure's buffer) where the read started.
        offset: usize,
        /// Bytes needed from `offset`.
        needed: usize,
        /// Bytes available from `offset`.
        available: usize,
    },
    /// A structure does not start with the expected signature.
    #[error("bad signature for {what} at offset {offset}")]
    BadSignature {
        /// The structure (`"jpeg"`, `"fff"`, `"flir raw record"`, ...).
        what: &'static str,
        /// Offset of the signature.
        offset: usize,
    },
    /// A JPEG carries no FLIR APP1 segment (not a radiometric FLIR image).
    #[error("no FLIR APP1 segment: not a radiometric FLIR JPEG")]
    NotRadiometric,
    /// A FLIR APP1 segment of the multi-segment FFF container is missing or inconsistent.
    #[error("FLIR APP1 segment {index} of {total} is missing or inconsistent")]
    MissingSegment {
        /// Zero-based segment index.
        index: usize,
        /// Number of segments announced by the container.
        total: usize,
    },
    /// A required FFF record is absent.
    #[error("FFF record `{record}` is missing")]
    MissingRecord {
        /// Record name (`"raw_data"`, `"camera_info"`).
        record: &'static str,
    },
    /// A structural field has an impossible value (record offset past the end, unknown byte order, ...).
    #[error("invalid FFF field `{field}` = {value}")]
    InvalidField {
        /// Field name.
        field: &'static str,
        /// The value read.
        value: u64,
    },
    /// A physical metadata value is absurd (emissivity 0, NaN Planck constant, ...).
    #[error("absurd metadata `{field}` = {value}: {reason}")]
    BadMetadata {
        /// Field name.
        field: &'static str,
        /// The value read.
        value: f64,
        /// What is allowed.
        reason: &'static str,
    },
    /// Image dimensions that are zero, too large, or disagree with the data.
    #[error("bad image dimensions {width}x{height}: {reason}")]
    BadDimensions {
        /// Width in pixels.
        width: u64,
        /// Height in pixels.
        height: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// An embedded or standalone image could not be decoded.
    #[error("cannot decode {format} image")]
    Decode {
        /// `"png"`, `"jpeg"`, `"tiff"` or `"image"` when guessed.
        format: &'static str,
        /// The decoder's error.
        #[source]
        source: image::ImageError,
    },
    /// The image format or pixel type is not supported here.
    #[error("unsupported image: {what}")]
    Unsupported {
        /// What was found (`"colour type Rgba32F"`, `"format gif"`, ...).
        what: String,
    },
    /// A non-radiometric image was given without a temperature scale.
    #[error("image is not radiometric: give a temperature scale (min/max for colour images, gain/offset for 16-bit data)")]
    NoTemperatureScale,
    /// The image has no valid (finite) temperature.
    #[error("image has no valid temperature")]
    NoValidPixels,
    /// Encoding the output image failed.
    #[error("cannot encode {format} image")]
    Encode {
        /// Output format.
        format: &'static str,
        /// The encoder's error.
        #[source]
        source: image::ImageError,
    },
    /// Reading a file failed.
    #[cfg(feature = "fs")]
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ThermalError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::thermal::{read_thermal_bytes, ReadThermalOptions};
    /// let err = read_thermal_bytes(&[0xFF, 0xD8, 0xFF], &ReadThermalOptions::default()).unwrap_err();
    /// assert_eq!(err.code(), "thermal_truncated");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            ThermalError::Params(e) => e.code(),
            ThermalError::Truncated { .. } => "thermal_truncated",
            ThermalError::BadSignature { .. } => "thermal_bad_signature",
            ThermalError::NotRadiometric => "thermal_not_radiometric",
            ThermalError::MissingSegment { .. } => "thermal_missing_segment",
            ThermalError::MissingRecord { .. } => "thermal_missing_record",
            ThermalError::InvalidField { .. } => "thermal_invalid_field",
            ThermalError::BadMetadata { .. } => "thermal_bad_metadata",
            ThermalError::BadDimensions { .. } => "thermal_bad_dimensions",
            ThermalError::Decode { .. } => "thermal_decode",
            ThermalError::Unsupported { .. } => "thermal_unsupported",
            ThermalError::NoTemperatureScale => "thermal_no_temperature_scale",
            ThermalError::NoValidPixels => "thermal_no_valid_pixels",
            ThermalError::Encode { .. } => "thermal_encode",
            #[cfg(feature = "fs")]
            ThermalError::Io { .. } => "thermal_io",
        }
    }
}
