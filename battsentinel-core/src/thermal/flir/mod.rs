//! Radiometric FLIR files: the JPEG APP1 "FLIR" container, the FFF record directory, the raw thermal image and
//! the camera-info record.
//!
//! Layout (all offsets in bytes):
//! - **APP1 segments.** Each starts `"FLIR\0"`, a format byte, the segment index and the index of the last
//!   segment; the payloads after these 8 bytes, concatenated in index order, form one FFF file.
//! - **FFF header** (64 bytes): magic `"FFF\0"` (or `"AFF\0"`), creator (16 bytes), version (u32 at 20; its
//!   value, 100..199, tells the byte order), directory offset (u32 at 24), number of entries (u32 at 28).
//! - **Directory entries** (32 bytes): record type (u16 at 0; 1 = raw data, 0x20 = camera info), subtype,
//!   version, index id, data offset (u32 at 12), data length (u32 at 16), parent, object number, checksum.
//! - **Records** open with the word 2 in their own byte order. Raw data: width (u16 at 2), height (u16 at 4),
//!   pixels from byte 32 as little/big-endian u16, a PNG (16-bit grey, usually with the bytes of each sample
//!   swapped) or a TIFF. Camera info: floats for emissivity (0x20), object distance (0x24), reflected (0x28),
//!   atmospheric (0x2C) and IR-window (0x30) temperatures in K, window transmission (0x34), relative humidity
//!   (0x3C), Planck R1 (0x58), B (0x5C), F (0x60), atmospheric α1, α2, β1, β2, X (0x70..0x80), camera range
//!   (0x90, 0x94, K), strings for camera model (0xD4), part (0xF4), serial (0x104), lens (0x170), then Planck O
//!   (i32 at 0x308) and R2 (float at 0x30C).

mod bytes;
mod writer;

pub use writer::encode_radiometric_jpeg;

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use self::bytes::{record_endian, Bytes, Endian};
use super::radiometry::{AtmosphereConstants, PlanckConstants, RadiometricParams, ZERO_CELSIUS_K};
use super::ThermalError;

/// Largest accepted raw image side (pixels).
pub const MAX_SIDE_PX: usize = 16_384;
/// Largest accepted number of pixels.
pub const MAX_PIXELS: usize = 1 << 26;

const RECORD_RAW: u16 = 1;
const RECORD_CAMERA_INFO: u16 = 0x20;
const MAX_RECORDS: u32 = 4096;

/// How the raw thermal image is stored inside the FFF raw-data record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RawEncoding {
    /// Plain 16-bit samples in the record's byte order.
    Uncompressed,
    /// A 16-bit grey PNG; `byte_swapped` when its samples are stored little-endian (FLIR's usual habit).
    Png {
        /// Whether each 16-bit sample had its two bytes swapped.
        byte_swapped: bool,
    },
    /// A 16-bit grey TIFF.
    Tiff,
}

/// Metadata of a radiometric FLIR image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlirMetadata {
    /// Software that wrote the FFF container.
    pub creator_software: String,
    /// Camera model, e.g. `"FLIR E60"`.
    pub camera_model: String,
    /// Camera serial number.
    pub camera_serial: String,
    /// Lens model.
    pub lens_model: String,
    /// Raw image width (pixels).
    pub raw_width: usize,
    /// Raw image height (pixels).
    pub raw_height: usize,
    /// Storage of the raw image.
    pub raw_encoding: RawEncoding,
    /// Smallest raw count in the image.
    pub raw_min: u16,
    /// Largest raw count in the image.
    pub raw_max: u16,
    /// Lower end of the camera's calibrated range (°C).
    pub camera_range_min_c: f64,
    /// Upper end of the camera's calibrated range (°C).
    pub camera_range_max_c: f64,
    /// The radiometric parameters stored in the file.
    pub radiometric: RadiometricParams,
}

/// A decoded radiometric frame: raw counts and metadata, before conversion to temperature.
#[derive(Debug, Clone, PartialEq)]
pub struct FlirFrame {
    /// Raw counts, row-major, `raw_width × raw_height`.
    pub counts: Vec<u16>,
    /// The metadata.
    pub meta: FlirMetadata,
}

/// Whether `data` is a JPEG carrying at least one FLIR APP1 segment.
pub fn is_flir_jpeg(data: &[u8]) -> bool {
    matches!(flir_segments(data), Ok(s) if !s.is_empty())
}

/// Decodes the raw counts and metadata of a radiometric FLIR JPEG, or of a bare FFF file.
///
/// # Errors
/// [`ThermalError::NotRadiometric`] for a JPEG without FLIR segments; [`ThermalError::Truncated`],
/// [`ThermalError::BadSignature`], [`ThermalError::MissingSegment`], [`ThermalError::MissingRecord`],
/// [`ThermalError::InvalidField`], [`ThermalError::BadDimensions`] or [`ThermalError::Decode`] for a corrupt
/// container; [`ThermalError::BadMetadata`] for absurd camera values.
///
/// # Examples
/// ```no_run
/// let bytes = std::fs::read("IR_0001.jpg").unwrap();
/// let frame = battsentinel_core::thermal::decode_flir(&bytes).unwrap();
/// println!("{} {}x{}", frame.meta.camera_model, frame.meta.raw_width, frame.meta.raw_height);
/// ```
pub fn decode_flir(data: &[u8]) -> Result<FlirFrame, ThermalError> {
    if data.starts_with(b"FFF\0") || data.starts_with(b"AFF\0") {
        return decode_fff(data);
    }
    let segments = flir_segments(data)?;
    if segments.is_empty() {
        return Err(ThermalError::NotRadiometric);
    }
    let fff = assemble(&segments)?;
    decode_fff(&fff)
}

/// One FLIR APP1 payload: (index, last index, data after the 8-byte header).
type Segment<'a> = (usize, usize, &'a [u8]);

/// Walks the JPEG markers up to the start of scan and collects the FLIR APP1 payloads.
fn flir_segments(data: &[u8]) -> Result<Vec<Segment<'_>>, ThermalError> {
    let b = Bytes::new(data, "jpeg", Endian::Big);
    if b.slice(0, 2)? != [0xFF, 0xD8] {
        return Err(ThermalError::BadSignature { what: "jpeg", offset: 0 });
    }
    let mut out = Vec::new();
    let mut pos = 2usize;
    loop {
        if b.slice(pos, 1)?[0] != 0xFF {
            return Err(ThermalError::BadSignature { what: "jpeg marker", offset: pos });
        }
        // Fill bytes: any number of 0xFF before the marker code.
        while b.slice(pos + 1, 1)?[0] == 0xFF {
            pos += 1;
        }
        let marker = b.slice(pos + 1, 1)?[0];
        match marker {
            0xD9 | 0xDA => break,
            0x01 | 0xD0..=0xD8 => {
                pos += 2;
                continue;
            }
            _ => {}
        }
        let len = usize::from(Bytes::new(data, "jpeg segment", Endian::Big).u16(pos + 2)?);
        if len < 2 {
            return Err(ThermalError::InvalidField { field: "jpeg_segment_length", value: len as u64 });
        }
        let payload = Bytes::new(data, "jpeg segment", Endian::Big).slice(pos + 4, len - 2)?;
        if marker == 0xE1 && payload.len() >= 8 && payload.starts_with(b"FLIR\0") {
            out.push((usize::from(payload[6]), usize::from(payload[7]), &payload[8..]));
        }
        pos += 2 + len;
    }
    Ok(out)
}

/// Concatenates the FFF pieces in index order, checking that every index 0..=last is present once.
fn assemble(segments: &[Segment<'_>]) -> Result<Vec<u8>, ThermalError> {
    let last = segments[0].1;
    let total = last + 1;
    let mut parts: Vec<Option<&[u8]>> = vec![None; total];
    for &(index, seg_last, payload) in segments {
        if seg_last != last || index > last || parts[index].is_some() {
            return Err(ThermalError::MissingSegment { index, total });
        }
        parts[index] = Some(payload);
    }
    let mut fff = Vec::with_capacity(parts.iter().map(|p| p.map_or(0, <[u8]>::len)).sum());
    for (index, part) in parts.iter().enumerate() {
        fff.extend_from_slice(part.ok_or(ThermalError::MissingSegment { index, total })?);
    }
    Ok(fff)
}

/// Parses an FFF container.
fn decode_fff(fff: &[u8]) -> Result<FlirFrame, ThermalError> {
    let head = Bytes::new(fff, "fff header", Endian::Big);
    let magic = head.slice(0, 4)?;
    if magic != b"FFF\0" && magic != b"AFF\0" {
        return Err(ThermalError::BadSignature { what: "fff", offset: 0 });
    }
    let creator_software = head.string(4, 16);
    let version_be = head.u32(20)?;
    let endian = if (100..200).contains(&version_be) {
        Endian::Big
    } else if (100..200).contains(&version_be.swap_bytes()) {
        Endian::Little
    } else {
        return Err(ThermalError::InvalidField { field: "fff_version", value: u64::from(version_be) });
    };
    let head = Bytes::new(fff, "fff header", endian);
    let dir_offset = head.u32(24)? as usize;
    let n_entries = head.u32(28)?;
    if n_entries > MAX_RECORDS {
        return Err(ThermalError::InvalidField { field: "fff_record_count", value: u64::from(n_entries) });
    }
    let dir = Bytes::new(fff, "fff directory", endian);
    let records = Bytes::new(fff, "fff record", endian);
    let mut raw = None;
    let mut camera = None;
    for i in 0..n_entries as usize {
        let entry = dir_offset.saturating_add(32 * i);
        // Bounds-check the whole entry first: the reads below then cannot overflow.
        dir.slice(entry, 32)?;
        let kind = dir.u16(entry)?;
        if kind != RECORD_RAW && kind != RECORD_CAMERA_INFO {
            continue;
        }
        let offset = dir.u32(entry + 12)? as usize;
        let length = dir.u32(entry + 16)? as usize;
        let body = records.slice(offset, length)?;
        if kind == RECORD_RAW && raw.is_none() {
            raw = Some(body);
        } else if kind == RECORD_CAMERA_INFO && camera.is_none() {
            camera = Some(body);
        }
    }
    let raw = raw.ok_or(ThermalError::MissingRecord { record: "raw_data" })?;
    let camera = camera.ok_or(ThermalError::MissingRecord { record: "camera_info" })?;
    let info = parse_camera_info(camera)?;
    let (raw_width, raw_height, counts, raw_encoding) = parse_raw(raw)?;
    let raw_min = counts.iter().copied().min().unwrap_or(0);
    let raw_max = counts.iter().copied().max().unwrap_or(0);
    Ok(FlirFrame {
        counts,
        meta: FlirMetadata {
            creator_software,
            camera_model: info.camera_model,
            camera_serial: info.camera_serial,
            lens_model: info.lens_model,
            raw_width,
            raw_height,
            raw_encoding,
            raw_min,
            raw_max,
            camera_range_min_c: info.range_min_c,
            camera_range_max_c: info.range_max_c,
            radiometric: info.params,
        },
    })
}

struct CameraInfo {
    camera_model: String,
    camera_serial: String,
    lens_model: String,
    range_min_c: f64,
    range_max_c: f64,
    params: RadiometricParams,
}

fn parse_camera_info(data: &[u8]) -> Result<CameraInfo, ThermalError> {
    let b = Bytes::new(data, "camera info record", record_endian(data, "camera info record")?);
    let kelvin_to_c = |v: f64| v - ZERO_CELSIUS_K;
    let mut relative_humidity = b.f32(0x3C)?;
    // Some cameras store per cent; the rest a fraction.
    if relative_humidity > 1.0 && relative_humidity <= 100.0 {
        relative_humidity /= 100.0;
    }
    let params = RadiometricParams {
        planck: PlanckConstants {
            r1: b.f32(0x58)?,
            r2: b.f32(0x30C)?,
            b: b.f32(0x5C)?,
            f: b.f32(0x60)?,
            o: f64::from(b.i32(0x308)?),
        },
        atmosphere: AtmosphereConstants {
            alpha1: b.f32(0x70)?,
            alpha2: b.f32(0x74)?,
            beta1: b.f32(0x78)?,
            beta2: b.f32(0x7C)?,
            x: b.f32(0x80)?,
        },
        emissivity: b.f32(0x20)?,
        object_distance_m: b.f32(0x24)?,
        reflected_temp_c: kelvin_to_c(b.f32(0x28)?),
        atmospheric_temp_c: kelvin_to_c(b.f32(0x2C)?),
        ir_window_temp_c: kelvin_to_c(b.f32(0x30)?),
        ir_window_transmission: b.f32(0x34)?,
        relative_humidity,
    };
    // Validates every physical value (absurd metadata → BadMetadata).
    params.check()?;
    Ok(CameraInfo {
        camera_model: b.string(0xD4, 32),
        camera_serial: b.string(0x104, 16),
        lens_model: b.string(0x170, 32),
        range_min_c: kelvin_to_c(b.f32(0x94)?),
        range_max_c: kelvin_to_c(b.f32(0x90)?),
        params,
    })
}

/// Checks image dimensions against the limits.
pub(crate) fn check_dimensions(width: usize, height: usize) -> Result<(), ThermalError> {
    let bad = |reason| ThermalError::BadDimensions { width: width as u64, height: height as u64, reason };
    if width == 0 || height == 0 {
        return Err(bad("zero width or height"));
    }
    if width > MAX_SIDE_PX || height > MAX_SIDE_PX || width * height > MAX_PIXELS {
        return Err(bad("larger than the accepted maximum"));
    }
    Ok(())
}

type RawImage = (usize, usize, Vec<u16>, RawEncoding);

fn parse_raw(data: &[u8]) -> Result<RawImage, ThermalError> {
    let endian = record_endian(data, "raw data record")?;
    let b = Bytes::new(data, "raw data record", endian);
    let width = usize::from(b.u16(2)?);
    let height = usize::from(b.u16(4)?);
    check_dimensions(width, height)?;
    let body = b.slice(32, data.len().saturating_sub(32))?;
    let n = width * height;
    if body.starts_with(b"\x89PNG\r\n\x1a\n") {
        let (w, h, mut counts) = decode_grey16(body, image::ImageFormat::Png, "png")?;
        same_dimensions(width, height, w, h)?;
        // Ties (flat images) go to FLIR's habit: swapped.
        let (stored, swapped) = roughness(&counts, w);
        let byte_swapped = swapped <= stored;
        if byte_swapped {
            counts.iter_mut().for_each(|c| *c = c.swap_bytes());
        }
        Ok((width, height, counts, RawEncoding::Png { byte_swapped }))
    } else if body.starts_with(b"II*\0") || body.starts_with(b"MM\0*") {
        let (w, h, counts) = decode_grey16(body, image::ImageFormat::Tiff, "tiff")?;
        same_dimensions(width, height, w, h)?;
        Ok((width, height, counts, RawEncoding::Tiff))
    } else {
        let pixels = Bytes::new(body, "raw thermal pixels", endian).slice(0, 2 * n)?;
        // One loop per byte order over fixed-size pairs (a branch-free body, which vectorises).
        let (pairs, _) = pixels.as_chunks::<2>();
        let counts = match endian {
            Endian::Little => pairs.iter().map(|&p| u16::from_le_bytes(p)).collect(),
            Endian::Big => pairs.iter().map(|&p| u16::from_be_bytes(p)).collect(),
        };
        Ok((width, height, counts, RawEncoding::Uncompressed))
    }
}

fn same_dimensions(width: usize, height: usize, w: usize, h: usize) -> Result<(), ThermalError> {
    if (w, h) == (width, height) {
        Ok(())
    } else {
        Err(ThermalError::BadDimensions {
            width: w as u64,
            height: h as u64,
            reason: "embedded image size differs from the raw record header",
        })
    }
}

/// Sums of absolute differences between horizontal neighbours `(as stored, with each sample's bytes
/// swapped)`. The right byte order gives a smooth image; the wrong one turns sensor noise in the low byte
/// into jumps of hundreds of counts. One pass over equal-length slices with per-row `u32` sums (a row holds
/// at most 16 383 differences of at most 65 535), which vectorises.
fn roughness(counts: &[u16], width: usize) -> (u64, u64) {
    let (mut stored, mut swapped) = (0u64, 0u64);
    for row in counts.chunks_exact(width) {
        let (a, b) = (&row[..width - 1], &row[1..]);
        let (mut s, mut t) = (0u32, 0u32);
        for (&x, &y) in a.iter().zip(b) {
            s += u32::from(x.abs_diff(y));
            t += u32::from(x.swap_bytes().abs_diff(y.swap_bytes()));
        }
        stored += u64::from(s);
        swapped += u64::from(t);
    }
    (stored, swapped)
}

/// Decodes a 16-bit grey PNG or TIFF into (width, height, samples) with memory limits.
pub(crate) fn decode_grey16(
    data: &[u8],
    format: image::ImageFormat,
    name: &'static str,
) -> Result<(usize, usize, Vec<u16>), ThermalError> {
    let img = decode_limited(data, format, name)?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    match img {
        image::DynamicImage::ImageLuma16(buf) => Ok((w, h, buf.into_raw())),
        other => Err(ThermalError::Unsupported {
            what: format!(
                "embedded {name} raw image of colour type {:?} (expected 16-bit grey)",
                other.color()
            ),
        }),
    }
}

/// The three decoders of the thermal readers behind one `ImageDecoder` that forwards only what decoding
/// needs. `image::ImageReader` boxes a `dyn ImageDecoder`, which compiles every trait method of every codec
/// (ICC, EXIF, XMP and IPTC readers, a second zune-jpeg decoder over another reader type) into the WASM
/// module; this enum keeps one `DynamicImage::from_decoder` and the pixel paths.
#[expect(
    clippy::large_enum_variant,
    reason = "one short-lived value on the stack per decode; boxing would only add an allocation"
)]
enum Decoder<'a> {
    Png(image::codecs::png::PngDecoder<Cursor<&'a [u8]>>),
    Jpeg(image::codecs::jpeg::JpegDecoder<Cursor<&'a [u8]>>),
    Tiff(image::codecs::tiff::TiffDecoder<Cursor<&'a [u8]>>),
}

impl image::ImageDecoder for Decoder<'_> {
    fn dimensions(&self) -> (u32, u32) {
        match self {
            Decoder::Png(d) => d.dimensions(),
            Decoder::Jpeg(d) => d.dimensions(),
            Decoder::Tiff(d) => d.dimensions(),
        }
    }

    fn color_type(&self) -> image::ColorType {
        match self {
            Decoder::Png(d) => d.color_type(),
            Decoder::Jpeg(d) => d.color_type(),
            Decoder::Tiff(d) => d.color_type(),
        }
    }

    fn set_limits(&mut self, limits: image::Limits) -> image::ImageResult<()> {
        match self {
            Decoder::Png(d) => d.set_limits(limits),
            Decoder::Jpeg(d) => d.set_limits(limits),
            Decoder::Tiff(d) => d.set_limits(limits),
        }
    }

    fn read_image(self, buf: &mut [u8]) -> image::ImageResult<()> {
        match self {
            Decoder::Png(d) => d.read_image(buf),
            Decoder::Jpeg(d) => d.read_image(buf),
            Decoder::Tiff(d) => d.read_image(buf),
        }
    }

    fn read_image_boxed(self: Box<Self>, buf: &mut [u8]) -> image::ImageResult<()> {
        (*self).read_image(buf)
    }
}

/// Decodes a PNG, JPEG or TIFF image (`format`; any other format is read as TIFF) with size and memory
/// limits, as `image::ImageReader::decode` does.
pub(crate) fn decode_limited(
    data: &[u8],
    format: image::ImageFormat,
    name: &'static str,
) -> Result<image::DynamicImage, ThermalError> {
    use image::ImageDecoder;
    let err = |source| ThermalError::Decode { format: name, source };
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE_PX as u32);
    limits.max_image_height = Some(MAX_SIDE_PX as u32);
    limits.max_alloc = Some(1 << 30);
    let cursor = Cursor::new(data);
    let mut decoder = match format {
        image::ImageFormat::Png => {
            Decoder::Png(image::codecs::png::PngDecoder::with_limits(cursor, limits.clone()).map_err(err)?)
        }
        image::ImageFormat::Jpeg => {
            Decoder::Jpeg(image::codecs::jpeg::JpegDecoder::new(cursor).map_err(err)?)
        }
        _ => Decoder::Tiff(image::codecs::tiff::TiffDecoder::new(cursor).map_err(err)?),
    };
    limits.reserve(decoder.total_bytes()).map_err(err)?;
    decoder.set_limits(limits).map_err(err)?;
    let img = image::DynamicImage::from_decoder(decoder).map_err(err)?;
    check_dimensions(img.width() as usize, img.height() as usize)?;
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roughness_prefers_the_smooth_order() {
        let counts: Vec<u16> = (0..64u16).map(|i| 18000 + (i % 7)).collect();
        let (stored, swapped) = roughness(&counts, 8);
        assert!(stored < swapped);
        // Equal to the direct sum over neighbour pairs within rows.
        let direct = |f: fn(u16) -> u16| -> u64 {
            counts.chunks(8).flat_map(|r| r.windows(2).map(|w| u64::from(f(w[0]).abs_diff(f(w[1]))))).sum()
        };
        assert_eq!((stored, swapped), (direct(|c| c), direct(u16::swap_bytes)));
        let flipped: Vec<u16> = counts.iter().map(|c| c.swap_bytes()).collect();
        assert_eq!(roughness(&flipped, 8), (swapped, stored));
    }

    #[test]
    fn segments_must_be_complete_and_consistent() {
        let a: &[u8] = b"ab";
        let b: &[u8] = b"cd";
        assert_eq!(assemble(&[(1, 1, b), (0, 1, a)]).unwrap(), b"abcd");
        assert!(matches!(
            assemble(&[(0, 2, a), (2, 2, b)]),
            Err(ThermalError::MissingSegment { index: 1, total: 3 })
        ));
        assert!(matches!(assemble(&[(0, 1, a), (0, 1, b)]), Err(ThermalError::MissingSegment { .. })));
        assert!(matches!(assemble(&[(0, 1, a), (1, 2, b)]), Err(ThermalError::MissingSegment { .. })));
    }

    #[test]
    fn non_jpeg_and_plain_jpeg() {
        assert!(matches!(decode_flir(b"GIF89a"), Err(ThermalError::BadSignature { .. })));
        // SOI, APP0 with 2-byte payload, EOI.
        let plain = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xD9];
        assert!(matches!(decode_flir(&plain), Err(ThermalError::NotRadiometric)));
        assert!(!is_flir_jpeg(&plain));
    }
}
