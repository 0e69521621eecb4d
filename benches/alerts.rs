//! Throughput of the alert engine: samples per second through the default Li-ion rule set (21 rules, every
//! rule bound to a signal), streaming one sample at a time on one core.
//!
//! Run with: `cargo bench --bench alerts`. Goal (issue 6): ≥ 5 million samples/s for 20 rules.

use battsentinel_core::alerts::{AlertEngine, Chemistry, EngineParams, RuleSet, Sample};
use criterion::{criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

const SIGNALS: [&str; 13] = [
    "voltage_v",
    "current_a",
    "temperature_c:TC1",
    "temperature_c:TC2",
    "soh",
    "rul_cycles",
    "anomaly_score",
    "fault_proba:short",
    "twin_voltage_v",
    "cell_v:1",
    "cell_v:2",
    "cell_v:3",
    "cell_v:4",
];

/// A seeded 1 Hz trace: a noisy cycling cell with occasional excursions, so rules raise and clear.
fn trace(n: usize, seed: u64) -> Vec<[f64; 13]> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|k| {
            let t = k as f64;
            let phase = (t / 3600.0 * std::f64::consts::TAU).sin();
            let v = 3.7 + 0.45 * phase + rng.gen_range(-0.002..0.002);
            let i = 5.0 * phase.signum() + rng.gen_range(-0.5..0.5) + if k % 5000 < 30 { 4.0 } else { 0.0 };
            let temp = 30.0
                + 10.0 * phase.abs()
                + rng.gen_range(-0.1..0.1)
                + if k % 20000 < 200 { 30.0 } else { 0.0 };
            let noise: [f64; 4] = std::array::from_fn(|_| rng.gen_range(-0.01..0.01));
            let imbalance = if k % 10000 < 500 { 0.15 } else { 0.0 };
            [
                v,
                i,
                temp,
                temp - 0.5,
                0.85 - 1e-6 * t,
                400.0 - 1e-3 * t,
                rng.gen_range(0.0..1.0),
                rng.gen_range(0.0..0.85),
                v + rng.gen_range(-0.06..0.06),
                v + noise[0],
                v + 0.02 + noise[1],
                v - 0.02 + noise[2],
                v + imbalance + noise[3],
            ]
        })
        .collect()
}

fn engine() -> AlertEngine {
    let rules = RuleSet::default_li_ion(Chemistry::Nmc);
    let signals: Vec<String> = SIGNALS.iter().map(|s| s.to_string()).collect();
    let e = AlertEngine::new(&rules, &signals, EngineParams::default()).expect("default rules compile");
    assert!(e.unbound_signals().is_empty(), "every default rule is bound: {:?}", e.unbound_signals());
    e
}

fn run(engine: &mut AlertEngine, data: &[[f64; 13]], out: &mut Vec<battsentinel_core::alerts::AlertEvent>) {
    engine.reset();
    out.clear();
    for (k, row) in data.iter().enumerate() {
        engine.push_into(&Sample { t_s: k as f64, values: row }, out);
    }
}

fn bench_default_rules(c: &mut Criterion) {
    let mut group = c.benchmark_group("alerts_default_rules_21");
    for n in [100_000usize, 1_000_000] {
        let data = trace(n, 7);
        let mut e = engine();
        let mut out = Vec::new();
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
            b.iter(|| {
                run(&mut e, data, &mut out);
                black_box(out.len())
            })
        });
    }
    group.finish();
}

/// Small bench tracked on pull requests.
fn bench_ci(c: &mut Criterion) {
    let mut group = c.benchmark_group("alerts_ci");
    let n = 20_000usize;
    let data = trace(n, 11);
    let mut e = engine();
    let mut out = Vec::new();
    group.throughput(Throughput::Elements(n as u64));
    group.bench_with_input(BenchmarkId::from_parameter(n), &data, |b, data| {
        b.iter(|| {
            run(&mut e, data, &mut out);
            black_box(out.len())
        })
    });
    group.finish();
}

#[allow(missing_docs)]
mod group {
    criterion::criterion_group!(benches, super::bench_default_rules, super::bench_ci);
}
use group::benches;
criterion_main!(benches);
