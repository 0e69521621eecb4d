//! Integration tests of `thermal`: the FLIR E60 fixture, synthetic radiometric frames in both embedded raw
//! formats, scaled and palette images, and robustness against corrupt input.

use crate::common;

use approx::assert_abs_diff_eq;
use battsentinel_core::thermal::{
    analyze, decode_flir, encode_radiometric_jpeg, read_thermal_bytes, ColourScale, HotspotRule,
    IntegerScale, Palette, PlanckConstants, RadiometricParams, RawEncoding, ReadThermalOptions,
    TemperatureSource, ThermalAnalysisParams, ThermalError,
};
use proptest::prelude::*;

const E60: &str = "thermal/flir_rjpeg_E60_floor_heating_CC0.jpg";

fn e60_bytes() -> Vec<u8> {
    std::fs::read(common::shared_data(E60)).unwrap()
}

fn e60_planck() -> PlanckConstants {
    PlanckConstants { r1: 14985.93, r2: 0.011283217, b: 1398.1, f: 1.0, o: -6233.0 }
}

#[test]
fn e60_matches_manifest() {
    let img = read_thermal_bytes(&e60_bytes(), &ReadThermalOptions::default()).unwrap();
    let meta = img.flir.as_ref().unwrap();
    assert_eq!((img.width, img.height), (320, 240));
    assert_eq!(meta.camera_model, "FLIR E60");
    assert_eq!(meta.raw_encoding, RawEncoding::Uncompressed);
    assert_eq!((meta.raw_min, meta.raw_max), (17034, 20324));
    let p = &meta.radiometric;
    assert_abs_diff_eq!(p.planck.r1, 14985.93, epsilon = 0.01);
    assert_abs_diff_eq!(p.planck.r2, 0.011283217, epsilon = 1e-9);
    assert_abs_diff_eq!(p.planck.b, 1398.1, epsilon = 1e-3);
    assert_eq!((p.planck.f, p.planck.o), (1.0, -6233.0));
    assert_abs_diff_eq!(p.emissivity, 0.95, epsilon = 1e-6);
    assert_abs_diff_eq!(p.object_distance_m, 1.0, epsilon = 1e-9);
    assert_abs_diff_eq!(p.reflected_temp_c, 20.0, epsilon = 0.02);
    assert_abs_diff_eq!(p.atmospheric_temp_c, 20.0, epsilon = 0.01);
    assert_abs_diff_eq!(p.relative_humidity, 0.5, epsilon = 1e-6);
    assert_abs_diff_eq!(p.atmosphere.alpha1, 0.006569, epsilon = 1e-8);
    assert_abs_diff_eq!(p.atmosphere.x, 1.9, epsilon = 1e-6);

    let report = analyze(&img, &ThermalAnalysisParams::new()).unwrap();
    // MANIFEST: T 16.72–34.47 °C, mean 19.88 °C; spot (row 119, col 160) = 21.1 °C (camera: "Punkt 21.1 °C").
    assert_abs_diff_eq!(report.stats.min_c, 16.72, epsilon = 0.005);
    assert_abs_diff_eq!(report.stats.max_c, 34.47, epsilon = 0.005);
    assert_abs_diff_eq!(report.stats.mean_c, 19.88, epsilon = 0.005);
    assert_abs_diff_eq!(img.get(119, 160).unwrap(), 21.1, epsilon = 0.1);
    // Independent evaluation of the same equations (numpy): 16.718421, 34.473847, 19.884327, 21.101863.
    assert_abs_diff_eq!(report.stats.min_c, 16.718421, epsilon = 2e-4);
    assert_abs_diff_eq!(report.stats.max_c, 34.473847, epsilon = 2e-4);
    assert_abs_diff_eq!(report.stats.mean_c, 19.884327, epsilon = 2e-4);
    assert_abs_diff_eq!(img.get(119, 160).unwrap(), 21.101863, epsilon = 2e-4);
    assert!(!report.approximate);
}

#[test]
fn e60_scene_overrides_change_temperatures() {
    let mut options = ReadThermalOptions::default();
    options.scene.emissivity = Some(0.85);
    let img = read_thermal_bytes(&e60_bytes(), &options).unwrap();
    // Lower emissivity: objects warmer than the reflected 20 °C read hotter, ΔT scaled by about 0.95/0.85
    // (21.10 °C → ~21.23 °C).
    let spot = img.get(119, 160).unwrap();
    assert!(spot > 21.18 && spot < 21.3, "{spot}");
    match &img.source {
        TemperatureSource::Radiometric { params } => assert_eq!(params.emissivity, 0.85),
        other => panic!("{other:?}"),
    }
    options.scene.emissivity = Some(0.0);
    let err = read_thermal_bytes(&e60_bytes(), &options).unwrap_err();
    assert_eq!(err.code(), "thermal_bad_metadata");
}

/// A 64x48 scene with known temperatures: a gradient from 15 to 45 °C plus a 60 °C block.
fn synthetic_scene() -> (usize, usize, Vec<f64>) {
    let (w, h) = (64, 48);
    let t = (0..w * h)
        .map(|i| {
            let (r, c) = (i / w, i % w);
            if (10..16).contains(&r) && (40..50).contains(&c) {
                60.0
            } else {
                15.0 + 30.0 * c as f64 / (w - 1) as f64
            }
        })
        .collect();
    (w, h, t)
}

fn synthetic_params() -> RadiometricParams {
    let mut p = RadiometricParams::with_planck(e60_planck());
    p.emissivity = 0.92;
    p.object_distance_m = 2.5;
    p.reflected_temp_c = 23.0;
    p.atmospheric_temp_c = 21.0;
    p.relative_humidity = 0.4;
    p
}

#[test]
fn synthetic_frames_round_trip_in_every_raw_encoding() {
    let (w, h, truth) = synthetic_scene();
    let params = synthetic_params();
    let model = params.check().unwrap();
    let counts: Vec<u16> = truth.iter().map(|&t| model.raw_from_celsius(t).round() as u16).collect();
    // One count is ~0.01–0.03 K here: quantisation bounds the error.
    for encoding in [
        RawEncoding::Png { byte_swapped: true },
        RawEncoding::Png { byte_swapped: false },
        RawEncoding::Tiff,
        RawEncoding::Uncompressed,
    ] {
        let jpeg = encode_radiometric_jpeg(w, h, &counts, &params, encoding, "Synthetic").unwrap();
        let frame = decode_flir(&jpeg).unwrap();
        assert_eq!(frame.meta.raw_encoding, encoding, "{encoding:?}");
        assert_eq!(frame.counts, counts, "{encoding:?}");
        let img = read_thermal_bytes(&jpeg, &ReadThermalOptions::default()).unwrap();
        let max_err = img.temperatures_c.iter().zip(&truth).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(max_err < 0.03, "{encoding:?}: max error {max_err} K");
        let params = ThermalAnalysisParams::new().hotspot(HotspotRule::Absolute { threshold_c: 50.0 });
        let report = analyze(&img, &params).unwrap();
        assert_eq!(report.hotspots.len(), 1, "{encoding:?}");
        assert_eq!(report.hotspots[0].area_px, 60);
        assert_abs_diff_eq!(report.hotspots[0].peak_c, 60.0, epsilon = 0.03);
    }
}

#[test]
fn synthetic_frame_spans_many_app1_segments() {
    // 320x240 uncompressed = 153 600 bytes: three APP1 segments.
    let params = synthetic_params();
    let counts: Vec<u16> = (0..320 * 240).map(|i| 15_000 + (i % 5000) as u16).collect();
    let jpeg = encode_radiometric_jpeg(320, 240, &counts, &params, RawEncoding::Uncompressed, "x").unwrap();
    assert_eq!(jpeg.windows(5).filter(|w| w == b"FLIR\0").count(), 3);
    assert_eq!(decode_flir(&jpeg).unwrap().counts, counts);
}

fn encode(img: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

#[test]
fn centikelvin_png_and_tiff() {
    let (w, h, truth) = synthetic_scene();
    let ck: Vec<u16> = truth.iter().map(|t| ((t + 273.15) * 100.0).round() as u16).collect();
    let buf = image::ImageBuffer::<image::Luma<u16>, Vec<u16>>::from_raw(w as u32, h as u32, ck).unwrap();
    let options =
        ReadThermalOptions { integer_scale: Some(IntegerScale::CENTI_KELVIN), ..Default::default() };
    for format in [image::ImageFormat::Png, image::ImageFormat::Tiff] {
        let bytes = encode(image::DynamicImage::ImageLuma16(buf.clone()), format);
        let img = read_thermal_bytes(&bytes, &options).unwrap();
        for (a, b) in img.temperatures_c.iter().zip(&truth) {
            assert_abs_diff_eq!(a, b, epsilon = 0.0051);
        }
        assert!(!img.is_approximate());
        // Without a scale the image is refused.
        let err = read_thermal_bytes(&bytes, &ReadThermalOptions::default()).unwrap_err();
        assert_eq!(err.code(), "thermal_no_temperature_scale");
    }
}

#[test]
fn palette_images_map_back_approximately() {
    let (w, h, truth) = synthetic_scene();
    let (lo, hi) = (10.0, 70.0);
    for palette in Palette::ALL {
        let table = palette.table();
        let rgb: Vec<u8> =
            truth.iter().flat_map(|t| table[(((t - lo) / (hi - lo)) * 255.0).round() as usize]).collect();
        let buf = image::RgbImage::from_raw(w as u32, h as u32, rgb).unwrap();
        let bytes = encode(image::DynamicImage::ImageRgb8(buf), image::ImageFormat::Png);
        let options =
            ReadThermalOptions { colour_scale: Some(ColourScale::new(lo, hi)), ..Default::default() };
        let img = read_thermal_bytes(&bytes, &options).unwrap();
        assert!(img.is_approximate());
        match img.source {
            TemperatureSource::Palette { palette: p, unmatched_px, .. } => {
                assert_eq!(p, palette);
                assert_eq!(unmatched_px, 0);
            }
            ref other => panic!("{other:?}"),
        }
        // One palette step is 60/255 K; allow for rounding on both sides.
        for (a, b) in img.temperatures_c.iter().zip(&truth) {
            assert_abs_diff_eq!(a, b, epsilon = 0.5);
        }
        let report = analyze(&img, &ThermalAnalysisParams::new()).unwrap();
        assert!(report.approximate && report.risk.approximate);
    }
}

#[test]
fn corrupt_inputs_give_typed_errors() {
    let e60 = e60_bytes();
    let opts = ReadThermalOptions::default();
    let code = |data: &[u8]| read_thermal_bytes(data, &opts).unwrap_err().code();
    assert_eq!(code(&[]), "thermal_unsupported");
    assert_eq!(code(b"GIF89a...."), "thermal_unsupported");
    // Truncated inside the second FLIR segment.
    assert_eq!(code(&e60[..100_000]), "thermal_truncated");
    // A FLIR segment removed: segment 1 of 3 missing.
    let seg1 = 69_690;
    let seg2 = 135_226;
    let mut missing = e60[..seg1].to_vec();
    missing.extend_from_slice(&e60[seg2..]);
    assert!(matches!(
        read_thermal_bytes(&missing, &opts),
        Err(ThermalError::MissingSegment { index: 1, total: 3 })
    ));
    // Broken FFF magic (first FLIR payload starts at 4154 + 4 + 8).
    let mut bad = e60.clone();
    bad[4166] = b'X';
    assert_eq!(code(&bad), "thermal_bad_signature");
    // Absurd emissivity: camera info record at FFF offset 512, emissivity at +0x20.
    let mut absurd = e60.clone();
    let at = 4166 + 512 + 0x20;
    absurd[at..at + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert!(matches!(
        read_thermal_bytes(&absurd, &opts),
        Err(ThermalError::BadMetadata { field: "emissivity", .. })
    ));
    // Huge raw dimensions: raw record at FFF offset 3872, width at +2.
    let mut huge = e60.clone();
    let at = 4166 + 3872 + 2;
    huge[at..at + 2].copy_from_slice(&60_000u16.to_le_bytes());
    assert_eq!(code(&huge), "thermal_bad_dimensions");
    // Plain JPEG (the preview only) without a scale.
    let plain =
        encode(image::DynamicImage::ImageLuma8(image::GrayImage::new(8, 8)), image::ImageFormat::Jpeg);
    assert_eq!(code(&plain), "thermal_no_temperature_scale");
    assert_eq!(decode_flir(&plain).unwrap_err().code(), "thermal_not_radiometric");
}

fn small_flir(encoding: RawEncoding) -> Vec<u8> {
    let counts: Vec<u16> = (0..24 * 16).map(|i| 17_000 + (i * 7 % 400) as u16).collect();
    encode_radiometric_jpeg(24, 16, &counts, &synthetic_params(), encoding, "p").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = read_thermal_bytes(&data, &ReadThermalOptions::default());
        let _ = decode_flir(&data);
    }

    #[test]
    fn random_bytes_after_signatures_never_panic(
        sig in 0usize..4,
        data in proptest::collection::vec(any::<u8>(), 0..1024),
    ) {
        let mut bytes = [&b"\xFF\xD8"[..], b"FFF\0", b"\x89PNG\r\n\x1a\n", b"II*\0"][sig].to_vec();
        bytes.extend_from_slice(&data);
        let options = ReadThermalOptions { integer_scale: Some(IntegerScale::CENTI_KELVIN), ..Default::default() };
        let _ = read_thermal_bytes(&bytes, &options);
    }

    #[test]
    fn truncated_flir_is_an_error(enc in 0usize..3, cut in 0.0f64..1.0) {
        let encoding = [RawEncoding::Png { byte_swapped: true }, RawEncoding::Tiff, RawEncoding::Uncompressed][enc];
        let full = small_flir(encoding);
        // Cut anywhere before the end of the FLIR segments.
        let flir_end = full.windows(2).rposition(|w| w == [0xFF, 0xDB]).unwrap_or(full.len());
        let n = (cut * flir_end as f64) as usize;
        prop_assert!(read_thermal_bytes(&full[..n], &ReadThermalOptions::default()).is_err());
    }

    #[test]
    fn corrupted_flir_never_panics(enc in 0usize..3, flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let encoding = [RawEncoding::Png { byte_swapped: true }, RawEncoding::Tiff, RawEncoding::Uncompressed][enc];
        let mut data = small_flir(encoding);
        for (i, b) in flips {
            let k = i.index(data.len());
            data[k] = b;
        }
        if let Ok(img) = read_thermal_bytes(&data, &ReadThermalOptions::default()) {
            let _ = analyze(&img, &ThermalAnalysisParams::new().grid(2, 3));
        }
    }
}

#[test]
fn annotated_png_of_e60() {
    use battsentinel_core::thermal::{render_png, RenderOptions};
    let img = read_thermal_bytes(&e60_bytes(), &ReadThermalOptions::default()).unwrap();
    let report = analyze(&img, &ThermalAnalysisParams::new().grid(4, 6)).unwrap();
    let png = render_png(&img, &report, &RenderOptions::default()).unwrap();
    let out = image::load_from_memory(&png).unwrap().into_rgb8();
    // Scale 2 (320 px → 640 px ≥ 480) plus margins and the scale bar.
    assert!(out.width() > 640 && out.height() == 240 * 2 + 2 * 16);
    // The hottest hotspot is outlined in cyan somewhere in the image.
    assert!(out.pixels().any(|p| p.0 == [0, 255, 255]));
    // The top of the scale bar is the hottest iron colour (near white), its bottom the coldest (black).
    let bar_x = 16 + 640 + 16 + 4;
    assert!(out.get_pixel(bar_x, 16 + 1).0.iter().all(|&v| v >= 245));
    assert!(out.get_pixel(bar_x, 16 + 478).0.iter().all(|&v| v <= 5));
    let bad = RenderOptions { min_c: Some(30.0), max_c: Some(20.0), ..Default::default() };
    assert_eq!(render_png(&img, &report, &bad).unwrap_err().code(), "inconsistent_params");
}
