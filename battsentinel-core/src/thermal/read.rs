//! Reading thermal images from bytes: radiometric FLIR JPEG/FFF, scaled 16-bit PNG/TIFF, palette images.

use serde::{Deserialize, Serialize};

use super::flir::{decode_flir, decode_limited, FlirFrame};
use super::frame::{TemperatureSource, ThermalImage};
use super::palette::{InverseLut, Palette};
use super::radiometry::{RadiometricParams, ZERO_CELSIUS_K};
use super::ThermalError;
use crate::params::ParamError;

/// User overrides of the scene parameters stored by the camera (`None` keeps the camera's value).
///
/// Battery packs rarely have the default emissivity 0.95: painted or wrapped cells are ~0.9–0.95, bare
/// aluminium far lower.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SceneOverrides {
    /// Object emissivity, (0, 1].
    pub emissivity: Option<f64>,
    /// Object distance (m).
    pub object_distance_m: Option<f64>,
    /// Reflected apparent temperature (°C).
    pub reflected_temp_c: Option<f64>,
    /// Atmospheric temperature (°C).
    pub atmospheric_temp_c: Option<f64>,
    /// Relative humidity (fraction in [0, 1]).
    pub relative_humidity: Option<f64>,
}

impl SceneOverrides {
    /// Applies the overrides to the camera's parameters.
    pub fn apply(&self, mut p: RadiometricParams) -> RadiometricParams {
        if let Some(v) = self.emissivity {
            p.emissivity = v;
        }
        if let Some(v) = self.object_distance_m {
            p.object_distance_m = v;
        }
        if let Some(v) = self.reflected_temp_c {
            p.reflected_temp_c = v;
        }
        if let Some(v) = self.atmospheric_temp_c {
            p.atmospheric_temp_c = v;
        }
        if let Some(v) = self.relative_humidity {
            p.relative_humidity = v;
        }
        p
    }
}

/// Linear scale of integer samples: `T (°C) = gain · value + offset_c`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegerScale {
    /// °C per count (non-zero, finite).
    pub gain: f64,
    /// °C at count 0.
    pub offset_c: f64,
}

impl IntegerScale {
    /// Centi-kelvin (value 29315 = 20 °C), common in thermal exports.
    pub const CENTI_KELVIN: IntegerScale = IntegerScale { gain: 0.01, offset_c: -ZERO_CELSIUS_K };
    /// Deci-kelvin (value 2931 ≈ 20 °C).
    pub const DECI_KELVIN: IntegerScale = IntegerScale { gain: 0.1, offset_c: -ZERO_CELSIUS_K };
}

/// Temperature scale of a rendered (non-radiometric) image: the palette's coldest colour is `min_c`, its
/// hottest `max_c` (read them off the image's scale bar).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColourScale {
    /// Palette; `None` picks the one whose colours fit the image best.
    #[serde(default)]
    pub palette: Option<Palette>,
    /// Temperature of the coldest colour (°C).
    pub min_c: f64,
    /// Temperature of the hottest colour (°C).
    pub max_c: f64,
    /// Pixels farther than this RGB distance from every palette colour are treated as overlay (NaN);
    /// default 40.
    #[serde(default = "default_colour_distance")]
    pub max_colour_distance: f64,
}

fn default_colour_distance() -> f64 {
    40.0
}

impl ColourScale {
    /// A scale from `min_c` to `max_c` with automatic palette detection.
    pub fn new(min_c: f64, max_c: f64) -> Self {
        ColourScale { palette: None, min_c, max_c, max_colour_distance: default_colour_distance() }
    }
}

/// Options of [`read_thermal_bytes`]. The default reads radiometric images only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReadThermalOptions {
    /// Overrides of the camera's scene parameters (radiometric images).
    pub scene: SceneOverrides,
    /// Scale for single-channel integer images holding temperatures (e.g. centi-kelvin 16-bit PNG/TIFF).
    pub integer_scale: Option<IntegerScale>,
    /// Scale for colour-mapped images (approximate temperatures).
    pub colour_scale: Option<ColourScale>,
}

impl ReadThermalOptions {
    /// Validates the options.
    ///
    /// # Errors
    /// [`ParamError`] naming the first invalid option.
    pub fn check_ref(&self) -> Result<(), ParamError> {
        if let Some(s) = self.integer_scale {
            if !(s.gain.is_finite() && s.gain != 0.0) {
                return Err(ParamError::invalid("integer_scale.gain", s.gain, "must be finite and non-zero"));
            }
            if !s.offset_c.is_finite() {
                return Err(ParamError::invalid("integer_scale.offset_c", s.offset_c, "must be finite"));
            }
        }
        if let Some(s) = self.colour_scale {
            if !(s.min_c.is_finite() && s.max_c.is_finite() && s.min_c < s.max_c) {
                return Err(ParamError::Inconsistent {
                    reason: format!(
                        "colour_scale needs finite min_c < max_c, got {} and {}",
                        s.min_c, s.max_c
                    ),
                });
            }
            if !(s.max_colour_distance.is_finite() && s.max_colour_distance >= 0.0) {
                return Err(ParamError::invalid(
                    "colour_scale.max_colour_distance",
                    s.max_colour_distance,
                    "must be finite and >= 0",
                ));
            }
        }
        Ok(())
    }
}

/// Reads a thermal image from bytes.
///
/// - A JPEG with FLIR APP1 segments, or a bare FFF file, is decoded radiometrically: raw counts are converted
///   to °C with the camera's Planck constants and scene parameters (overridable in `options.scene`).
/// - A single-channel 8/16-bit PNG, JPEG or TIFF with `options.integer_scale` holds temperatures directly.
/// - Any PNG/JPEG/TIFF with `options.colour_scale` is mapped back through a palette; the result is labelled
///   approximate ([`ThermalImage::is_approximate`]).
///
/// # Errors
/// [`ThermalError::NoTemperatureScale`] for a non-radiometric image without a scale;
/// [`ThermalError::Unsupported`] for other formats or pixel types; the decoding errors of
/// [`decode_flir`](super::decode_flir); [`ThermalError::Decode`] for a corrupt PNG/JPEG/TIFF;
/// [`ThermalError::BadMetadata`] for absurd scene values; [`ThermalError::Params`] for invalid options.
///
/// # Examples
/// ```
/// use battsentinel_core::thermal::{read_thermal_bytes, IntegerScale, ReadThermalOptions};
/// // A 2x1 16-bit PNG in centi-kelvin: 293.15 K and 303.15 K.
/// let img = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(2, 1, vec![29315, 30315]).unwrap();
/// let mut png = std::io::Cursor::new(Vec::new());
/// image::DynamicImage::ImageLuma16(img).write_to(&mut png, image::ImageFormat::Png).unwrap();
/// let options = ReadThermalOptions { integer_scale: Some(IntegerScale::CENTI_KELVIN), ..Default::default() };
/// let t = read_thermal_bytes(png.get_ref(), &options).unwrap();
/// assert!((t.temperatures_c[1] - 30.0).abs() < 1e-9);
/// ```
pub fn read_thermal_bytes(data: &[u8], options: &ReadThermalOptions) -> Result<ThermalImage, ThermalError> {
    options.check_ref()?;
    let radiometric = if data.starts_with(b"FFF\0") || data.starts_with(b"AFF\0") {
        true
    } else if data.starts_with(&[0xFF, 0xD8]) {
        // A corrupt marker structure is an error here, whatever the image holds.
        match decode_flir(data) {
            Ok(frame) => return from_flir(frame, &options.scene),
            Err(ThermalError::NotRadiometric) => false,
            Err(e) => return Err(e),
        }
    } else {
        false
    };
    if radiometric {
        return from_flir(decode_flir(data)?, &options.scene);
    }
    let format = if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        image::ImageFormat::Png
    } else if data.starts_with(&[0xFF, 0xD8]) {
        image::ImageFormat::Jpeg
    } else if data.starts_with(b"II*\0") || data.starts_with(b"MM\0*") {
        image::ImageFormat::Tiff
    } else {
        return Err(ThermalError::Unsupported {
            what: "unknown format (expected PNG, JPEG, TIFF or FLIR FFF)".to_string(),
        });
    };
    let name = match format {
        image::ImageFormat::Png => "png",
        image::ImageFormat::Jpeg => "jpeg",
        _ => "tiff",
    };
    if options.integer_scale.is_none() && options.colour_scale.is_none() {
        return Err(ThermalError::NoTemperatureScale);
    }
    let img = decode_limited(data, format, name)?;
    if let Some(scale) = options.integer_scale {
        return from_integer(img, scale);
    }
    match options.colour_scale {
        Some(scale) => from_palette(img, scale),
        None => Err(ThermalError::NoTemperatureScale),
    }
}

/// Reads a thermal image from a file; see [`read_thermal_bytes`].
///
/// # Errors
/// [`ThermalError::Io`] if the file cannot be read, otherwise as [`read_thermal_bytes`].
#[cfg(feature = "fs")]
pub fn read_thermal_path(
    path: impl AsRef<std::path::Path>,
    options: &ReadThermalOptions,
) -> Result<ThermalImage, ThermalError> {
    let path = path.as_ref();
    let data = std::fs::read(path)
        .map_err(|source| ThermalError::Io { path: path.display().to_string(), source })?;
    read_thermal_bytes(&data, options)
}

/// Converts a decoded FLIR frame to temperatures with the (overridden) camera parameters.
///
/// # Errors
/// [`ThermalError::BadMetadata`] if the overridden parameters are absurd.
pub fn flir_to_image(frame: FlirFrame, scene: &SceneOverrides) -> Result<ThermalImage, ThermalError> {
    from_flir(frame, scene)
}

fn from_flir(frame: FlirFrame, scene: &SceneOverrides) -> Result<ThermalImage, ThermalError> {
    let params = scene.apply(frame.meta.radiometric);
    let model = params.check()?;
    let temperatures_c = model.celsius_from_counts(&frame.counts);
    Ok(ThermalImage {
        width: frame.meta.raw_width,
        height: frame.meta.raw_height,
        temperatures_c,
        source: TemperatureSource::Radiometric { params },
        raw_counts: Some(frame.counts),
        flir: Some(frame.meta),
    })
}

fn from_integer(img: image::DynamicImage, scale: IntegerScale) -> Result<ThermalImage, ThermalError> {
    let (width, height) = (img.width() as usize, img.height() as usize);
    let to_c = |v: f64| scale.gain * v + scale.offset_c;
    let temperatures_c: Vec<f64> = match img {
        image::DynamicImage::ImageLuma16(b) => b.into_raw().into_iter().map(|v| to_c(f64::from(v))).collect(),
        image::DynamicImage::ImageLuma8(b) => b.into_raw().into_iter().map(|v| to_c(f64::from(v))).collect(),
        other => {
            return Err(ThermalError::Unsupported {
                what: format!(
                    "colour type {:?} with an integer scale (expected 8/16-bit grey)",
                    other.color()
                ),
            })
        }
    };
    Ok(ThermalImage {
        width,
        height,
        temperatures_c,
        source: TemperatureSource::ScaledInteger { gain: scale.gain, offset_c: scale.offset_c },
        raw_counts: None,
        flir: None,
    })
}

fn from_palette(img: image::DynamicImage, scale: ColourScale) -> Result<ThermalImage, ThermalError> {
    let (width, height) = (img.width() as usize, img.height() as usize);
    let span = scale.max_c - scale.min_c;
    // 16-bit grey keeps its full resolution on the grey scale.
    if let (image::DynamicImage::ImageLuma16(b), None | Some(Palette::Grey)) = (&img, scale.palette) {
        let temperatures_c =
            b.as_raw().iter().map(|&v| scale.min_c + span * f64::from(v) / 65535.0).collect();
        return Ok(ThermalImage {
            width,
            height,
            temperatures_c,
            source: TemperatureSource::Palette {
                palette: Palette::Grey,
                min_c: scale.min_c,
                max_c: scale.max_c,
                mean_colour_distance: 0.0,
                unmatched_px: 0,
            },
            raw_counts: None,
            flir: None,
        });
    }
    let rgb = img.into_rgb8();
    let pixels: Vec<[u8; 3]> = rgb.pixels().map(|p| p.0).collect();
    let palette = match scale.palette {
        Some(p) => p,
        None => detect_palette(&pixels),
    };
    let mut inv = InverseLut::new(palette);
    let mut unmatched_px = 0usize;
    let mut distance_sum = 0.0;
    let temperatures_c = pixels
        .iter()
        .map(|&c| {
            let (idx, d) = inv.lookup(c);
            distance_sum += d;
            if d > scale.max_colour_distance {
                unmatched_px += 1;
                f64::NAN
            } else {
                scale.min_c + span * f64::from(idx) / 255.0
            }
        })
        .collect();
    Ok(ThermalImage {
        width,
        height,
        temperatures_c,
        source: TemperatureSource::Palette {
            palette,
            min_c: scale.min_c,
            max_c: scale.max_c,
            mean_colour_distance: distance_sum / pixels.len().max(1) as f64,
            unmatched_px,
        },
        raw_counts: None,
        flir: None,
    })
}

/// The palette with the smallest mean colour distance over (a sample of) the pixels.
fn detect_palette(pixels: &[[u8; 3]]) -> Palette {
    let step = (pixels.len() / 4096).max(1);
    let mut best = (Palette::Iron, f64::INFINITY);
    for p in Palette::ALL {
        let mut inv = InverseLut::new(p);
        let d: f64 = pixels.iter().step_by(step).map(|&c| inv.lookup(c).1).sum();
        if d < best.1 {
            best = (p, d);
        }
    }
    best.0
}
