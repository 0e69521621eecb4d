//! Twin benchmarks: the PyBaMM 1C experiments (batch), `Simulator::step` throughput, a 100-cell pack hour.
//! `benches/compare_twin.sh` runs PyBaMM on the same experiments in the same run and prints the ratios.

#![allow(missing_docs)] // criterion_group! generates undocumented public functions

use battsentinel_core::twin::{
    simulate, simulate_into, CellParams, InitialState, Input, Pack, PackParams, Protocol, Simulator, Trace,
};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn one_c(c: &mut Criterion) {
    let mut g = c.benchmark_group("twin_1c");
    g.sample_size(30);
    let tables = CellParams::ecm_example().check().unwrap();
    let constant = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
    let cases = [("constparams", &constant, 0.9999), ("tables", &tables, 0.9999), ("soc50", &tables, 0.5)];
    for (name, cell, soc0) in cases {
        let protocol = Protocol::constant_current(soc0, 100.0, 4000.0);
        // Warm (parameters already checked, as a built PyBaMM simulation): `resolve*` below.
        // Warm, writing into a reused trace (no allocation: the columns' memory is kept between runs).
        g.bench_with_input(BenchmarkId::new("resolve_reuse", name), &protocol, |b, p| {
            let mut trace = Trace::with_capacity(1, 0);
            b.iter(|| {
                simulate_into(black_box(cell), p, &mut trace).unwrap();
                trace.len()
            })
        });
        // The same experiment with 20 s steps: output about twice as dense as PyBaMM's (its
        // `solve([0, 4000])` returns 100 points, 40.4 s apart), within the tolerances against
        // PyBaMM's traces (tests/it/twin.rs, `twenty_second_steps_meet_the_pybamm_tolerances`).
        let mut coarse = protocol.clone();
        coarse.dt_s = 20.0;
        for (id, p) in [("", &protocol), ("_dt20", &coarse)] {
            g.bench_with_input(BenchmarkId::new(format!("resolve{id}"), name), p, |b, p| {
                b.iter(|| simulate(black_box(cell), p).unwrap())
            });
            // First call: build the parameter set (parse the embedded tables), check it, simulate.
            g.bench_with_input(BenchmarkId::new(format!("first{id}"), name), p, |b, p| {
                b.iter(|| {
                    let raw = if name == "constparams" {
                        CellParams::ecm_example_const(4e-4, 6e-4, 5e4)
                    } else {
                        CellParams::ecm_example()
                    };
                    simulate(&raw.check().unwrap(), p).unwrap()
                })
            });
        }
    }
    g.finish();
}

fn step(c: &mut Criterion) {
    let mut g = c.benchmark_group("twin_step");
    let n = 100_000u64;
    g.throughput(Throughput::Elements(n));
    let tables = CellParams::ecm_example().check().unwrap();
    let constant = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
    for (name, cell) in [("tables_const_current", &tables), ("constparams", &constant)] {
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            let mut sim =
                Simulator::new(cell.clone(), InitialState { soc: 0.5, temperature_c: None }).unwrap();
            let start = *sim.state();
            b.iter(|| {
                sim.set_state(start).unwrap();
                let mut v = 0.0;
                for _ in 0..n {
                    v += sim.step(Input::Current { current_a: 1.0 }, 1.0).unwrap().voltage_v;
                }
                v
            })
        });
    }
    // A current that changes every sample (drive-cycle-like): the (T, I, SoC) tables are looked up anew.
    g.bench_function(BenchmarkId::from_parameter("tables_varying_current"), |b| {
        let mut sim = Simulator::new(tables.clone(), InitialState { soc: 0.5, temperature_c: None }).unwrap();
        let start = *sim.state();
        b.iter(|| {
            sim.set_state(start).unwrap();
            let mut v = 0.0;
            for k in 0..n {
                let i = if k % 2 == 0 { 60.0 } else { -59.0 };
                v += sim.step(Input::Current { current_a: i }, 1.0).unwrap().voltage_v;
            }
            v
        })
    });
    g.finish();
}

fn pack(c: &mut Criterion) {
    let mut g = c.benchmark_group("twin_pack_1h");
    g.sample_size(10);
    let cell = CellParams::ecm_example().check().unwrap();
    for (ns, np) in [(100usize, 1usize), (25, 4)] {
        let pp = PackParams {
            n_series: ns,
            n_parallel: np,
            capacity_spread: 0.02,
            resistance_spread: 0.05,
            seed: 1,
            ..PackParams::default()
        };
        g.bench_with_input(BenchmarkId::from_parameter(format!("{ns}s{np}p")), &pp, |b, pp| {
            b.iter(|| {
                let mut p =
                    Pack::new(cell.clone(), pp, InitialState { soc: 0.95, temperature_c: None }).unwrap();
                let mut v = 0.0;
                for _ in 0..3600 {
                    v += p.step(80.0 * np as f64, 1.0).unwrap().voltage_v;
                }
                v
            })
        });
    }
    g.finish();
}

criterion_group!(benches, one_c, step, pack);
criterion_main!(benches);
