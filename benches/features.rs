//! Benchmarks of `features`: `cycle_summary` over generated logs (up to 1 M rows) and dQ/dV.
//!
//! Run with: `cargo bench --bench features`; `benches/compare_features.sh` also times the numpy/scipy
//! anchor of the dQ/dV pipeline on the same synthetic segment and prints the ratio.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use battsentinel_core::features::{cycle_summary, dqdv, CycleFeatureParams, Direction, IcaParams};
use battsentinel_core::BatteryLog;
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

/// A deterministic synthetic OCV: two logistic plateaus on a linear background (V → Ah).
fn q_of_v(v: f64) -> f64 {
    0.1 * (v - 3.0) + 0.8 / (1.0 + (-(v - 3.45) / 0.02).exp()) + 1.2 / (1.0 + (-(v - 3.9) / 0.025).exp())
}

/// `rows` rows of 1 Hz CC cycling (charge, rest, discharge, rest; 2 000 rows per cycle), with a pulse.
fn generated_log(rows: usize) -> BatteryLog {
    let mut t = Vec::with_capacity(rows);
    let mut v = Vec::with_capacity(rows);
    let mut i = Vec::with_capacity(rows);
    let mut c = Vec::with_capacity(rows);
    let mut temp = Vec::with_capacity(rows);
    for k in 0..rows {
        let cyc = k / 2000;
        let ph = k % 2000;
        let (cur, volt) = match ph {
            0..=899 => (-2.0, 3.2 + 0.9 * ph as f64 / 900.0),
            900..=999 => (0.0, 4.1),
            1000..=1899 => (2.0, 4.05 - 0.9 * (ph - 1000) as f64 / 900.0),
            _ => (0.0, 3.3),
        };
        t.push(k as f64);
        v.push(volt);
        i.push(cur);
        c.push(Some(cyc as u32 + 1));
        temp.push(25.0 + 0.001 * ph as f64);
    }
    let mut log = BatteryLog::with_time(t);
    log.voltage_v = Some(v);
    log.current_a = Some(i);
    log.cycle_index = Some(c);
    log.temperatures_c = vec![battsentinel_core::Channel::new("T", "°C", temp)];
    log
}

/// The synthetic charge segment used by the dQ/dV bench and its Python anchor: `n` points, Q linear in
/// time, V from inverting `q_of_v` by bisection.
pub fn ocv_segment(n: usize) -> (Vec<f64>, Vec<f64>) {
    let (q0, q1) = (q_of_v(3.1), q_of_v(4.2));
    let q: Vec<f64> = (0..n).map(|k| q0 + (q1 - q0) * k as f64 / (n - 1) as f64).collect();
    let v = q
        .iter()
        .map(|&qq| {
            let (mut lo, mut hi) = (2.5, 4.5);
            for _ in 0..60 {
                let mid = 0.5 * (lo + hi);
                if q_of_v(mid) < qq {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        })
        .collect();
    (v, q)
}

fn bench_cycle_summary(c: &mut Criterion) {
    let mut g = c.benchmark_group("cycle_summary");
    g.sample_size(10);
    let params = CycleFeatureParams::default();
    for rows in [100_000usize, 1_000_000] {
        let log = generated_log(rows);
        g.throughput(criterion::Throughput::Elements(rows as u64));
        g.bench_with_input(BenchmarkId::from_parameter(rows), &log, |b, log| {
            b.iter(|| cycle_summary(black_box(log), &params).map(|s| s.cycles.len()))
        });
    }
    g.finish();
}

fn bench_dqdv(c: &mut Criterion) {
    let mut g = c.benchmark_group("dqdv");
    let params = IcaParams::default().voltage_step_v(0.001).sg_window(21);
    for n in [10_000usize, 100_000] {
        let (v, q) = ocv_segment(n);
        g.throughput(criterion::Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &(v, q), |b, (v, q)| {
            b.iter(|| dqdv(black_box(v), black_box(q), Direction::Charge, &params).map(|c| c.peaks.len()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_cycle_summary, bench_dqdv);
criterion_main!(benches);
