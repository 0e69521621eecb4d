//! Throughput of `FaultDetector::analyze` (windowing, features, forest and isolation-forest scoring, SOH and
//! RUL) on twin logs of growing length, and the one-off cost of building the default detector.
//!
//! Run with: `cargo bench --bench detector`. Rows per second are printed by criterion (`Throughput::Elements`).

use battsentinel_core::models::detector::{AnalyzeParams, FaultDetector, FaultDetectorParams};
use battsentinel_core::twin::{simulate_fault, CellParams, CyclingSchedule, Fault};
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

fn analyze(c: &mut Criterion) {
    let d = FaultDetector::default_detector().expect("default detector");
    let mut g = c.benchmark_group("detector_analyze");
    for cycles in [2usize, 10, 50] {
        let duty = CyclingSchedule { cycles, dt_s: 5.0, ..CyclingSchedule::default() };
        let log = simulate_fault(&CellParams::ecm_example(), &Fault::None, &duty).expect("twin log");
        g.throughput(Throughput::Elements(log.len() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(log.len()), &log, |b, log| {
            b.iter(|| d.analyze(black_box(log), &AnalyzeParams::default()).expect("analyze"))
        });
    }
    g.finish();
}

fn build(c: &mut Criterion) {
    let mut g = c.benchmark_group("detector_build");
    g.sample_size(10);
    g.bench_function("default_detector_training", |b| {
        b.iter(|| {
            FaultDetector::fit_twin(
                &FaultDetectorParams::default(),
                &CellParams::ecm_example(),
                &FaultDetector::default_training(),
            )
            .expect("fit")
        })
    });
    g.finish();
}

fn benches() {
    let mut c = Criterion::default().configure_from_args();
    analyze(&mut c);
    build(&mut c);
}

criterion_main!(benches);
