//! Thermal benches: decode a radiometric FLIR JPEG (raw counts → °C) and analyse it (statistics, hotspots,
//! gradient, 4×6 cells, risk). The goal of issue 7: a 640×512 frame decoded and analysed in ≤ 5 ms on one
//! core. The frames are written to `target/thermal_bench/` so that `benches/compare_thermal.sh` runs the
//! Python anchor (numpy/scipy) on the same files.
//!
//! Run with: cargo bench --bench thermal

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use battsentinel_core::thermal::{
    analyze, encode_radiometric_jpeg, read_thermal_bytes, PlanckConstants, RadiometricParams, RawEncoding,
    ReadThermalOptions, ThermalAnalysisParams,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use rand::{Rng, SeedableRng};

/// A seeded 640×512 pack-like scene: 20–30 °C gradient, noise, and a few hot cells, as FLIR raw counts.
fn frame(width: usize, height: usize, encoding: RawEncoding) -> Vec<u8> {
    let planck = PlanckConstants { r1: 14985.93, r2: 0.011283217, b: 1398.1, f: 1.0, o: -6233.0 };
    let params = RadiometricParams::with_planck(planck);
    let model = params.check().expect("valid parameters");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let counts: Vec<u16> = (0..width * height)
        .map(|i| {
            let (r, c) = (i / width, i % width);
            let mut t = 20.0 + 10.0 * c as f64 / width as f64 + rng.gen::<f64>() * 0.2;
            if (r / 64 == 2 && c / 80 == 3) || (r / 64 == 5 && c / 80 == 6) {
                t += 12.0;
            }
            model.raw_from_celsius(t).round() as u16
        })
        .collect();
    encode_radiometric_jpeg(width, height, &counts, &params, encoding, "bench").expect("encodes")
}

fn out_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target").join("thermal_bench");
    std::fs::create_dir_all(&dir).expect("bench output dir");
    dir
}

fn bench(c: &mut Criterion) {
    let dir = out_dir();
    let mut inputs: Vec<(String, Vec<u8>)> = vec![
        ("640x512_raw".into(), frame(640, 512, RawEncoding::Uncompressed)),
        ("640x512_png".into(), frame(640, 512, RawEncoding::Png { byte_swapped: true })),
        ("640x512_tiff".into(), frame(640, 512, RawEncoding::Tiff)),
    ];
    let e60 = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/thermal/flir_rjpeg_E60_floor_heating_CC0.jpg");
    let e60 = if e60.exists() {
        e60
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/thermal/flir_rjpeg_E60_floor_heating_CC0.jpg")
    };
    if let Ok(bytes) = std::fs::read(&e60) {
        inputs.push(("E60_320x240".into(), bytes));
    }
    for (name, bytes) in &inputs {
        std::fs::write(dir.join(format!("{name}.jpg")), bytes).expect("write bench input");
    }
    let options = ReadThermalOptions::default();
    let params = ThermalAnalysisParams::new().grid(4, 6);

    let mut group = c.benchmark_group("thermal_decode_analyze");
    for (name, bytes) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| {
                let img = read_thermal_bytes(black_box(bytes), &options).expect("decodes");
                analyze(&img, &params).expect("analyses")
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("thermal_decode");
    for (name, bytes) in &inputs {
        group.bench_with_input(BenchmarkId::from_parameter(name), bytes, |b, bytes| {
            b.iter(|| read_thermal_bytes(black_box(bytes), &options).expect("decodes"))
        });
    }
    group.finish();

    let mut group = c.benchmark_group("thermal_analyze");
    let img = read_thermal_bytes(&inputs[0].1, &options).expect("decodes");
    group.bench_with_input(BenchmarkId::from_parameter("640x512"), &img, |b, img| {
        b.iter(|| analyze(black_box(img), &params).expect("analyses"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
