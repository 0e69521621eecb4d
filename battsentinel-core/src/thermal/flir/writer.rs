//! Writes radiometric FLIR-style JPEGs (a grey preview plus the FFF container in APP1 segments), so that
//! synthetic frames with known temperatures can be decoded, tested and benchmarked.

use std::io::Cursor;

use super::{check_dimensions, RawEncoding};
use crate::thermal::radiometry::{RadiometricParams, ZERO_CELSIUS_K};
use crate::thermal::ThermalError;

/// Largest FFF piece per APP1 segment: 65535 − 2 (length) − 8 (FLIR header).
const SEGMENT_PAYLOAD: usize = 65_525;
const CAMERA_INFO_LEN: usize = 0x400;

/// Encodes raw counts and radiometric parameters into a JPEG that [`super::decode_flir`] (and FLIR-aware
/// tools) read back: a grey visual preview, then the FFF container split over numbered APP1 "FLIR" segments.
/// The FFF header and directory are big-endian, the records little-endian (as FLIR cameras write them). The
/// Planck `O` is stored as a 32-bit integer, so it is rounded.
///
/// # Errors
/// [`ThermalError::BadDimensions`] if `counts.len() != width × height`, a side exceeds 65535, or the
/// container needs more than 256 segments; [`ThermalError::BadMetadata`] for invalid `params`;
/// [`ThermalError::Encode`] if the embedded PNG/TIFF or the preview cannot be encoded.
///
/// # Examples
/// ```
/// use battsentinel_core::thermal::{
///     decode_flir, encode_radiometric_jpeg, PlanckConstants, RadiometricParams, RawEncoding,
/// };
/// let planck = PlanckConstants { r1: 14985.93, r2: 0.011283217, b: 1398.1, f: 1.0, o: -6233.0 };
/// let params = RadiometricParams::with_planck(planck);
/// let counts: Vec<u16> = (0..64).map(|i| 17_000 + 10 * i).collect();
/// let jpeg = encode_radiometric_jpeg(8, 8, &counts, &params, RawEncoding::Tiff, "synthetic").unwrap();
/// let frame = decode_flir(&jpeg).unwrap();
/// assert_eq!(frame.counts, counts);
/// ```
pub fn encode_radiometric_jpeg(
    width: usize,
    height: usize,
    counts: &[u16],
    params: &RadiometricParams,
    encoding: RawEncoding,
    camera_model: &str,
) -> Result<Vec<u8>, ThermalError> {
    check_dimensions(width, height)?;
    if counts.len() != width * height || width > usize::from(u16::MAX) || height > usize::from(u16::MAX) {
        return Err(ThermalError::BadDimensions {
            width: width as u64,
            height: height as u64,
            reason: "counts length differs from width × height, or a side exceeds 65535",
        });
    }
    params.check()?;
    let camera = camera_info(params, camera_model);
    let raw = raw_record(width, height, counts, encoding)?;
    let fff = fff_container(&[(0x20, &camera), (1, &raw)]);
    let n_segments = fff.len().div_ceil(SEGMENT_PAYLOAD);
    if n_segments > 256 {
        return Err(ThermalError::BadDimensions {
            width: width as u64,
            height: height as u64,
            reason: "raw image too large for 256 FLIR APP1 segments",
        });
    }
    let preview = preview_jpeg(width, height, counts)?;
    let mut out = Vec::with_capacity(preview.len() + fff.len() + 10 * n_segments + 16);
    out.extend_from_slice(&preview[..2]); // SOI
    for (i, piece) in fff.chunks(SEGMENT_PAYLOAD).enumerate() {
        out.extend_from_slice(&[0xFF, 0xE1]);
        out.extend_from_slice(&((piece.len() + 10) as u16).to_be_bytes());
        out.extend_from_slice(b"FLIR\0\x01");
        out.push(i as u8);
        out.push((n_segments - 1) as u8);
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&preview[2..]);
    Ok(out)
}

fn put_f32(buf: &mut [u8], offset: usize, value: f64) {
    buf[offset..offset + 4].copy_from_slice(&(value as f32).to_le_bytes());
}

fn camera_info(p: &RadiometricParams, camera_model: &str) -> Vec<u8> {
    let mut b = vec![0u8; CAMERA_INFO_LEN];
    b[0..2].copy_from_slice(&2u16.to_le_bytes());
    put_f32(&mut b, 0x20, p.emissivity);
    put_f32(&mut b, 0x24, p.object_distance_m);
    put_f32(&mut b, 0x28, p.reflected_temp_c + ZERO_CELSIUS_K);
    put_f32(&mut b, 0x2C, p.atmospheric_temp_c + ZERO_CELSIUS_K);
    put_f32(&mut b, 0x30, p.ir_window_temp_c + ZERO_CELSIUS_K);
    put_f32(&mut b, 0x34, p.ir_window_transmission);
    put_f32(&mut b, 0x3C, p.relative_humidity);
    put_f32(&mut b, 0x58, p.planck.r1);
    put_f32(&mut b, 0x5C, p.planck.b);
    put_f32(&mut b, 0x60, p.planck.f);
    put_f32(&mut b, 0x70, p.atmosphere.alpha1);
    put_f32(&mut b, 0x74, p.atmosphere.alpha2);
    put_f32(&mut b, 0x78, p.atmosphere.beta1);
    put_f32(&mut b, 0x7C, p.atmosphere.beta2);
    put_f32(&mut b, 0x80, p.atmosphere.x);
    put_f32(&mut b, 0x90, 120.0 + ZERO_CELSIUS_K);
    put_f32(&mut b, 0x94, -20.0 + ZERO_CELSIUS_K);
    let model = camera_model.as_bytes();
    let n = model.len().min(31);
    b[0xD4..0xD4 + n].copy_from_slice(&model[..n]);
    b[0x308..0x30C].copy_from_slice(&(p.planck.o.round() as i32).to_le_bytes());
    put_f32(&mut b, 0x30C, p.planck.r2);
    b
}

fn raw_record(
    width: usize,
    height: usize,
    counts: &[u16],
    encoding: RawEncoding,
) -> Result<Vec<u8>, ThermalError> {
    let mut rec = vec![0u8; 32];
    rec[0..2].copy_from_slice(&2u16.to_le_bytes());
    rec[2..4].copy_from_slice(&(width as u16).to_le_bytes());
    rec[4..6].copy_from_slice(&(height as u16).to_le_bytes());
    let encode = |samples: Vec<u16>, format: image::ImageFormat, name: &'static str| {
        let buf =
            image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(width as u32, height as u32, samples)
                .ok_or(ThermalError::BadDimensions {
                    width: width as u64,
                    height: height as u64,
                    reason: "counts length differs from width × height",
                })?;
        let mut out = Cursor::new(Vec::new());
        image::DynamicImage::ImageLuma16(buf)
            .write_to(&mut out, format)
            .map_err(|source| ThermalError::Encode { format: name, source })?;
        Ok::<_, ThermalError>(out.into_inner())
    };
    match encoding {
        RawEncoding::Uncompressed => counts.iter().for_each(|c| rec.extend_from_slice(&c.to_le_bytes())),
        RawEncoding::Png { byte_swapped } => {
            let samples = counts.iter().map(|&c| if byte_swapped { c.swap_bytes() } else { c }).collect();
            rec.extend_from_slice(&encode(samples, image::ImageFormat::Png, "png")?);
        }
        RawEncoding::Tiff => {
            rec.extend_from_slice(&encode(counts.to_vec(), image::ImageFormat::Tiff, "tiff")?)
        }
    }
    Ok(rec)
}

/// FFF header (64 bytes) + directory (32 bytes per record) + records, big-endian header and directory.
fn fff_container(records: &[(u16, &[u8])]) -> Vec<u8> {
    let mut out = vec![0u8; 64];
    out[0..4].copy_from_slice(b"FFF\0");
    out[4..16].copy_from_slice(b"BattSentinel");
    out[20..24].copy_from_slice(&100u32.to_be_bytes());
    out[24..28].copy_from_slice(&64u32.to_be_bytes());
    out[28..32].copy_from_slice(&(records.len() as u32).to_be_bytes());
    let mut offset = 64 + 32 * records.len();
    for (i, (kind, body)) in records.iter().enumerate() {
        let mut e = [0u8; 32];
        e[0..2].copy_from_slice(&kind.to_be_bytes());
        e[2..4].copy_from_slice(&1u16.to_be_bytes());
        e[4..8].copy_from_slice(&100u32.to_be_bytes());
        e[8..12].copy_from_slice(&(i as u32 + 1).to_be_bytes());
        e[12..16].copy_from_slice(&(offset as u32).to_be_bytes());
        e[16..20].copy_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&e);
        offset += body.len();
    }
    for (_, body) in records {
        out.extend_from_slice(body);
    }
    out
}

/// An 8-bit grey JPEG of the counts stretched over their range.
fn preview_jpeg(width: usize, height: usize, counts: &[u16]) -> Result<Vec<u8>, ThermalError> {
    let lo = counts.iter().copied().min().unwrap_or(0);
    let hi = counts.iter().copied().max().unwrap_or(0);
    let span = f64::from(hi - lo).max(1.0);
    let grey: Vec<u8> = counts.iter().map(|&c| (f64::from(c - lo) / span * 255.0).round() as u8).collect();
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode(&grey, width as u32, height as u32, image::ExtendedColorType::L8)
        .map_err(|source| ThermalError::Encode { format: "jpeg", source })?;
    Ok(out.into_inner())
}
