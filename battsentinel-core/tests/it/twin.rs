//! Conformance of the Thevenin twin against PyBaMM 26.10 traces (`shared/data/twin/`), plus properties.

use crate::common::twin as twin_data;

use battsentinel_core::twin::{
    simulate, CellParams, Ekf, EkfParams, EndReason, InitialState, Input, Limits, Profile, Protocol,
    Simulator, Step, Trace,
};
use twin_data::{column, read_csv, shared_data};

struct Cmp {
    max_dv: f64,
    rms_dv: f64,
    max_dt: f64,
    max_dsoc: f64,
    t_end_ref: f64,
    t_end: f64,
}

/// Compares a trace with a PyBaMM reference row by row (both on the same 1 s grid; the final event rows
/// are compared separately through `t_end`).
fn compare(trace: &Trace, reference: &str) -> Cmp {
    let (h, rows) = read_csv(reference);
    let t = column(&h, &rows, "time_s");
    let v = column(&h, &rows, "voltage_V");
    let tc = column(&h, &rows, "t_cell_C");
    let soc = column(&h, &rows, "soc");
    let n = t.len() - 1; // the last reference row is the event
    assert!(trace.len() >= n, "trace has {} rows, reference {}", trace.len(), n + 1);
    let (mut max_dv, mut ss, mut max_dt, mut max_dsoc) = (0.0f64, 0.0, 0.0f64, 0.0f64);
    for k in 0..n {
        assert_eq!(trace.time_s[k], t[k]);
        let dv = (trace.voltage_v[k] - v[k]).abs();
        max_dv = max_dv.max(dv);
        ss += dv * dv;
        max_dt = max_dt.max((trace.t_cell_c[k] - tc[k]).abs());
        max_dsoc = max_dsoc.max((trace.soc[k] - soc[k]).abs());
    }
    Cmp {
        max_dv,
        rms_dv: (ss / n as f64).sqrt(),
        max_dt,
        max_dsoc,
        t_end_ref: t[n],
        t_end: *trace.time_s.last().unwrap(),
    }
}

fn one_c(soc0: f64) -> Protocol {
    Protocol::constant_current(soc0, 100.0, 7200.0)
}

#[test]
fn constparams_matches_pybamm_to_microvolts() {
    let cell = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
    let trace = simulate(&cell, &one_c(0.9999)).unwrap();
    let c = compare(&trace, "twin/pybamm_thevenin_1C_constparams.csv");
    if let Ok(path) = std::env::var("TWIN_DUMP") {
        trace.write_csv(std::fs::File::create(path).unwrap()).unwrap();
    }
    eprintln!(
        "constparams: max|dV| = {:.3e} V, rms {:.3e} V, max|dT| = {:.3e} K, max|dSoC| = {:.2e}, t_end {} vs {}",
        c.max_dv, c.rms_dv, c.max_dt, c.max_dsoc, c.t_end, c.t_end_ref
    );
    // Issue: ≤ 0.05 mV, ≤ 0.01 K, end within 1 s. Met with margin: ≤ 10 µV, ≤ 2e-4 K, ≤ 0.05 s
    // (PyBaMM stops at 3.20001 V, 5 ms before 3.2 V).
    assert!(c.max_dv <= 10e-6, "max dV {}", c.max_dv);
    // PyBaMM's own adaptive-step noise on T_cell is ±1e-4 K (sign-alternating residual).
    assert!(c.max_dt <= 2e-4, "max dT {}", c.max_dt);
    assert!((c.t_end - c.t_end_ref).abs() <= 0.05, "{} vs {}", c.t_end, c.t_end_ref);
    assert_eq!(trace.end_reason, EndReason::VoltageBelow);
    assert!((trace.voltage_v.last().unwrap() - 3.2).abs() < 1e-7);
    assert!(trace.voltage_v.iter().all(|v| *v >= 3.2 - 1e-7), "no overshoot of the cut-off");
}

#[test]
fn table_params_match_pybamm() {
    let cell = CellParams::ecm_example().check().unwrap();
    for (soc0, file) in
        [(0.9999, "twin/pybamm_thevenin_1C.csv"), (0.5, "twin/pybamm_thevenin_1C_default_soc50.csv")]
    {
        let trace = simulate(&cell, &one_c(soc0)).unwrap();
        let c = compare(&trace, file);
        eprintln!(
            "{file}: max|dV| = {:.3e} V, rms {:.3e} V, max|dT| = {:.3e} K, t_end {} vs {}",
            c.max_dv, c.rms_dv, c.max_dt, c.t_end, c.t_end_ref
        );
        // Issue: ≤ 1 mV RMS, ≤ 0.1 K. Met: ≤ 0.1 mV max, ≤ 0.01 K, end within 0.5 s.
        assert!(c.rms_dv <= 1e-3 && c.max_dv <= 1e-4, "dV {} / {}", c.max_dv, c.rms_dv);
        assert!(c.max_dt <= 0.01, "dT {}", c.max_dt);
        assert!((c.t_end - c.t_end_ref).abs() <= 0.5, "{} vs {}", c.t_end, c.t_end_ref);
    }
}

#[test]
fn parameter_columns_equal_pybamm_lookups() {
    // The trace carries R0, R1, C1 as PyBaMM evaluated them; ours at the same (T, I, SoC) agree.
    let (h, rows) = read_csv("twin/pybamm_thevenin_1C.csv");
    let p = CellParams::ecm_example();
    let (t, soc, i) =
        (column(&h, &rows, "t_cell_C"), column(&h, &rows, "soc"), column(&h, &rows, "current_A"));
    let (r0, r1, c1) = (column(&h, &rows, "r0_ohm"), column(&h, &rows, "r1_ohm"), column(&h, &rows, "c1_F"));
    for k in (0..rows.len()).step_by(97) {
        let r = p.r0_ohm.eval(t[k], i[k], soc[k]);
        assert!((r - r0[k]).abs() <= 1e-7 * r0[k], "r0 at row {k}: {r} vs {}", r0[k]);
        let r = p.r1_ohm.as_ref().unwrap().eval(t[k], i[k], soc[k]);
        assert!((r - r1[k]).abs() <= 1e-7 * r1[k]);
        let c = p.c1_farad.as_ref().unwrap().eval(t[k], i[k], soc[k]);
        assert!((c - c1[k]).abs() <= 1e-7 * c1[k]);
    }
}

#[test]
fn analytic_one_rc_step_response() {
    // Flat OCV, no heat coupling into parameters: V(t) = U − I·R0 − I·R1·(1 − e^(−t/τ)) at any dt.
    let mut raw = CellParams::ecm_example_const(1e-3, 2e-3, 1e4);
    raw.ocv.ocv_v = vec![3.7; raw.ocv.soc.len()];
    let cell = raw.check().unwrap();
    let tau = 2e-3 * 1e4;
    for dt in [0.1, 1.0, 7.3] {
        let mut sim = Simulator::new(cell.clone(), InitialState { soc: 0.8, temperature_c: None }).unwrap();
        for _ in 0..20 {
            let o = sim.step(Input::Current { current_a: 50.0 }, dt).unwrap();
            let exact = 3.7 - 50.0 * 1e-3 - 50.0 * 2e-3 * (1.0 - (-o.time_s / tau).exp());
            assert!((o.voltage_v - exact).abs() < 1e-12, "dt {dt}: {} vs {exact}", o.voltage_v);
        }
    }
}

#[test]
fn cut_offs_are_located_inside_the_step() {
    let cell = CellParams::ecm_example().check().unwrap();
    let protocol = Protocol {
        dt_s: 10.0,
        initial: InitialState { soc: 0.9, temperature_c: None },
        limits: Limits::default(),
        steps: vec![
            Step::Cc {
                current_a: 100.0,
                duration_s: 1e4,
                until: Limits { soc_below: Some(0.5), ..Limits::default() },
            },
            Step::Rest { duration_s: 5.0, until: Limits::default() },
            Step::Cccv { current_a: -50.0, voltage_v: 4.1, cutoff_current_a: 5.0, duration_s: 2e4 },
            Step::Power { power_w: 300.0, duration_s: 600.0, until: Limits::default() },
        ],
    };
    let tr = simulate(&cell, &protocol).unwrap();
    let e = &tr.events;
    assert_eq!(e[0].reason, EndReason::SocBelow);
    let k = tr.time_s.iter().position(|t| *t == e[0].time_s).unwrap();
    assert!((tr.soc[k] - 0.5).abs() < 1e-9, "soc at event {}", tr.soc[k]);
    assert!((e[0].time_s - 0.4 * 3600.0).abs() < 1e-5);
    assert_eq!(e[1].reason, EndReason::VoltageAbove);
    let k = tr.time_s.iter().position(|t| *t == e[1].time_s).unwrap();
    assert!((tr.voltage_v[k] - 4.1).abs() < 1e-8);
    assert_eq!(e[2].reason, EndReason::CurrentBelow);
    let k = tr.time_s.iter().position(|t| *t == e[2].time_s).unwrap();
    assert!((tr.current_a[k] + 5.0).abs() < 1e-6, "CV end current {}", tr.current_a[k]);
    // During CV the voltage is held.
    let cv: Vec<usize> = (0..tr.len()).filter(|&k| tr.step[k] == 3).collect();
    assert!(cv.iter().all(|&k| (tr.voltage_v[k] - 4.1).abs() < 1e-8));
    // Constant power holds I·V.
    let pw: Vec<usize> = (0..tr.len()).filter(|&k| tr.step[k] == 4).collect();
    assert!(pw.len() > 50 && pw.iter().all(|&k| (tr.power_w[k] - 300.0).abs() < 1e-6));
    assert_eq!(tr.end_reason, EndReason::Duration);
}

#[test]
fn drive_cycle_us06_and_battery_log() {
    let text = std::fs::read_to_string(shared_data("twin/drivecycle_US06.csv")).unwrap();
    let profile = Profile::from_csv_str(&text).unwrap();
    assert_eq!(profile.time_s.len(), 601);
    let cell = CellParams::ecm_example().check().unwrap();
    let protocol = Protocol {
        dt_s: 1.0,
        initial: InitialState { soc: 0.9, temperature_c: None },
        limits: Limits::default(),
        steps: vec![Step::Repeat {
            count: 3,
            steps: vec![Step::DriveCycle { profile, scale: 20.0, until: Limits::default() }],
        }],
    };
    let tr = simulate(&cell, &protocol).unwrap();
    assert_eq!(tr.len(), 1801);
    // README: US06 ×20, 3 repeats from SoC 0.9 ends at SoC 0.816 and 3.950 V (PyBaMM, final time 1 802 s).
    let soc_end = *tr.soc.last().unwrap();
    assert!((soc_end - 0.816).abs() < 2e-3, "soc end {soc_end}");
    let log = tr.to_battery_log();
    log.validate().unwrap();
    let q = log.discharge_capacity_ah.as_ref().unwrap().last().unwrap()
        - log.charge_capacity_ah.as_ref().unwrap().last().unwrap();
    assert!((q - (0.9 - soc_end) * 100.0).abs() < 1e-9, "charge balance {q}");
}

#[test]
fn bad_inputs_are_typed_errors_not_nan() {
    let cell = CellParams::ecm_example().check().unwrap();
    let mut p = one_c(0.5);
    p.dt_s = 0.0;
    assert_eq!(simulate(&cell, &p).err().map(|e| e.code()), Some("invalid_dt"));
    assert_eq!(simulate(&cell, &one_c(1.5)).err().map(|e| e.code()), Some("soc_outside_table"));
    let mut sim = Simulator::new(cell, InitialState { soc: 0.5, temperature_c: None }).unwrap();
    assert_eq!(
        sim.step(Input::Current { current_a: f64::NAN }, 1.0).err().map(|e| e.code()),
        Some("non_finite_input")
    );
    assert_eq!(sim.step(Input::Current { current_a: 1.0 }, -1.0).err().map(|e| e.code()), Some("invalid_dt"));
    let protocol: Protocol = toml::from_str(
        "initial = { soc = 0.5 }\n[[steps]]\nkind = \"cc\"\ncurrent_a = 1.0\nduration_s = -5.0\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let cell = CellParams::ecm_example().check().unwrap();
    assert_eq!(simulate(&cell, &protocol).err().map(|e| e.code()), Some("invalid_protocol"));
}

#[test]
fn ekf_converges_from_30_percent_off() {
    // The "measured" 1C discharge is PyBaMM's table-parameter trace with seeded 2 mV Gaussian noise; the
    // coulomb-counting reference is its SoC column.
    use rand_distr::{Distribution, Normal};
    let (h, rows) = read_csv("twin/pybamm_thevenin_1C.csv");
    let (t, v, i) =
        (column(&h, &rows, "time_s"), column(&h, &rows, "voltage_V"), column(&h, &rows, "current_A"));
    let (tc, soc) = (column(&h, &rows, "t_cell_C"), column(&h, &rows, "soc"));
    let cell = CellParams::ecm_example().check().unwrap();
    let mut rng = battsentinel_core::rng::seeded(5);
    let noise = Normal::new(0.0, 0.002).unwrap();
    let mut ekf = Ekf::new(cell, EkfParams::default(), soc[0] - 0.3).unwrap();
    let mut worst_after_10min: f64 = 0.0;
    for k in 1..t.len() {
        let est = ekf.update(v[k] + noise.sample(&mut rng), i[k], tc[k], t[k] - t[k - 1]).unwrap();
        if t[k] >= 600.0 {
            worst_after_10min = worst_after_10min.max((est.soc - soc[k]).abs());
        }
        if (t[k] - 600.0).abs() < 0.5 {
            eprintln!("EKF at 600 s: SoC {:.4} vs {:.4} (σ {:.4})", est.soc, soc[k], est.soc_std);
        }
    }
    eprintln!("EKF worst |SoC − coulomb counting| after 10 min: {worst_after_10min:.4}");
    assert!(worst_after_10min < 0.02, "{worst_after_10min}");
}

/// HPPC identification on the Nissan Leaf cell (issue acceptance: R0 1.4–1.8 mΩ at mid SoC, whole-test
/// voltage RMSE ≤ 10 mV). The RMSE is of a fresh simulation of the whole 16.4 h test (13 248 samples) with
/// the fitted cell driven by the measured current.
#[test]
fn hppc_identification_on_the_nissan_leaf_cell() {
    use battsentinel_core::io::{read_path, ReadOptions};
    use battsentinel_core::twin::{fit_hppc, HppcFitParams};
    let log =
        read_path(shared_data("cyclers/bitrode_nissanleaf_HPPC_25C.csv"), &ReadOptions::default()).unwrap();
    for rc_pairs in [2, 1] {
        let fit = fit_hppc(&log, &HppcFitParams { rc_pairs, ..HppcFitParams::default() }).unwrap();
        for p in &fit.points {
            eprintln!(
                "{rc_pairs} RC, SoC {:.3}: OCV {:.4} V, R0 {:.3} mΩ, R1 {:.3} mΩ, C1 {:.0} F, R2 {:.3} mΩ, \
                 C2 {:.0} F, window RMSE {:.2} mV",
                p.soc,
                p.ocv_v,
                p.r0_ohm * 1e3,
                p.r1_ohm * 1e3,
                p.c1_farad,
                p.r2_ohm.unwrap_or(f64::NAN) * 1e3,
                p.c2_farad.unwrap_or(f64::NAN),
                p.rmse_v * 1e3
            );
        }
        eprintln!(
            "{rc_pairs} RC: capacity {:.2} Ah, τ {:?} s, whole-test RMSE {:.2} mV over {} samples, max {:.1} mV",
            fit.capacity_ah,
            fit.tau_s,
            fit.rmse_v * 1e3,
            fit.samples,
            fit.max_error_v * 1e3,
        );
        assert_eq!(fit.samples, 13_247);
        assert_eq!(fit.points.len(), 10);
        assert!((30.0..31.0).contains(&fit.capacity_ah), "{}", fit.capacity_ah);
        let mid =
            fit.points.iter().min_by(|a, b| (a.soc - 0.5).abs().total_cmp(&(b.soc - 0.5).abs())).unwrap();
        assert!((1.4e-3..=1.8e-3).contains(&mid.r0_ohm), "R0 at SoC {:.2}: {}", mid.soc, mid.r0_ohm);
        // Measured: 1.60 mV (2 RC) and 2.48 mV (1 RC); the issue asks for ≤ 10 mV.
        let limit = if rc_pairs == 2 { 0.003 } else { 0.004 };
        assert!(fit.rmse_v <= limit, "{rc_pairs} RC whole-test RMSE {}", fit.rmse_v);
        // The identified cell serialises to TOML and back unchanged.
        let text = toml::to_string(&fit.params).unwrap();
        assert_eq!(toml::from_str::<CellParams>(&text).unwrap(), fit.params);
    }
}

#[test]
fn example_protocol_toml_runs() {
    let p: Protocol = toml::from_str(include_str!("../../../examples/twin_protocol.toml")).unwrap();
    let tr = simulate(&CellParams::ecm_example().check().unwrap(), &p).unwrap();
    assert_eq!(tr.end_reason, EndReason::Duration);
    let reasons: Vec<EndReason> = tr.events.iter().map(|e| e.reason).collect();
    assert_eq!(reasons, vec![EndReason::SocBelow, EndReason::VoltageAbove, EndReason::CurrentBelow]);
    let json = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<Protocol>(&json).unwrap(), p);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn cell() -> battsentinel_core::twin::CellValidParams {
        CellParams::ecm_example().check().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// ∫I dt/3600 equals Q·ΔSoC, and SoC stays within [0, 1] (the run stops at the bounds),
        /// falling monotonically while discharging.
        #[test]
        fn charge_balance_and_soc_bounds(
            soc0 in 0.05f64..0.95,
            currents in proptest::collection::vec(-300.0f64..300.0, 1..20),
            dt in 0.2f64..20.0,
        ) {
            let mut sim = Simulator::new(cell(), InitialState { soc: soc0, temperature_c: None }).unwrap();
            let mut q_ah = 0.0;
            for &i in &currents {
                let before = sim.state().soc;
                match sim.step(Input::Current { current_a: i }, dt) {
                    Ok(o) => {
                        q_ah += i * dt / 3600.0;
                        if i > 0.0 { prop_assert!(o.soc < before); }
                    }
                    Err(e) => { prop_assert_eq!(e.code(), "soc_outside_table"); break; }
                }
            }
            let dsoc = soc0 - sim.state().soc;
            prop_assert!((dsoc * 100.0 - q_ah).abs() < 1e-9 * (1.0 + q_ah.abs()));
        }

        /// Through `simulate`, a discharge stops at SoC 0 or the cut-off: SoC never leaves [0, 1].
        #[test]
        fn simulated_soc_stays_in_bounds(soc0 in 0.01f64..0.99, i in -500.0f64..500.0) {
            let tr = simulate(&cell(), &Protocol::constant_current(soc0, i, 20_000.0)).unwrap();
            prop_assert!(tr.soc.iter().all(|s| (-1e-12..=1.0 + 1e-12).contains(s)));
            // The first row may already be past a cut-off (the run then stops there); none after it is.
            prop_assert!(tr.voltage_v[1..].iter().all(|v| *v >= 3.2 - 1e-7 && *v <= 4.2 + 1e-7));
        }

        /// At rest the RC voltages decay monotonically towards zero, never changing sign.
        #[test]
        fn rc_voltages_decay_at_rest(i in -300.0f64..300.0, dt in 0.1f64..30.0) {
            let mut sim = Simulator::new(cell(), InitialState { soc: 0.5, temperature_c: None }).unwrap();
            sim.step(Input::Current { current_a: i }, 60.0).unwrap();
            let mut prev = sim.state().v_rc_v[0];
            for _ in 0..50 {
                let v = sim.step(Input::Current { current_a: 0.0 }, dt).unwrap().v_rc_v[0];
                prop_assert!(v.abs() <= prev.abs() && v * prev >= 0.0);
                prev = v;
            }
        }

        /// With the jig insulated from ambient, the heat stored in cell + jig equals the heat generated
        /// (to rounding), whatever the step length.
        #[test]
        fn thermal_energy_is_conserved(i in -300.0f64..300.0, dt in 0.1f64..50.0, n in 1usize..40) {
            let mut raw = CellParams::ecm_example();
            raw.thermal.k_jig_amb_w_per_k = 0.0;
            let (cc, cj) = (raw.thermal.c_cell_j_per_k, raw.thermal.c_jig_j_per_k);
            let mut sim = Simulator::new(raw.check().unwrap(), InitialState { soc: 0.6, temperature_c: None }).unwrap();
            let e0 = cc * sim.state().t_cell_c + cj * sim.state().t_jig_c;
            let mut heat_j = 0.0;
            for _ in 0..n {
                let s = *sim.state();
                let o0 = sim.output_at_current(i).unwrap();
                if sim.step(Input::Current { current_a: i }, dt).is_err() {
                    break; // left the OCV table: nothing more to integrate
                }
                // Heat over the step as the model holds it: I²R0 − I·⟨V1⟩ − I·T_K·dU/dT at the start.
                let tau = o0.r_ohm[0] * o0.c_farad[0];
                let v_inf = -i * o0.r_ohm[0];
                let x = dt / tau;
                let mean = v_inf + (s.v_rc_v[0] - v_inf) * (-(-x).exp_m1() / x);
                let rev = o0.q_gen_w - (i * i * o0.r0_ohm - i * s.v_rc_v[0]);
                heat_j += (i * i * o0.r0_ohm - i * mean + rev) * dt;
            }
            let e1 = cc * sim.state().t_cell_c + cj * sim.state().t_jig_c;
            prop_assert!((e1 - e0 - heat_j).abs() < 1e-9 * (1.0 + heat_j.abs()) + 1e-8, "{} vs {}", e1 - e0, heat_j);
        }
    }
}

/// EIS fit of impedance.py's example spectrum against its reference fit (MANIFEST.md: impedance 1.7.1,
/// `R0-p(R1,C1)-p(R2-Wo1,C2)` after `ignoreBelowX`, 57 points): every element within 5 %.
#[test]
fn eis_fit_matches_impedance_py() {
    use battsentinel_core::io::{read_eis_path, ReadOptions};
    use battsentinel_core::twin::{fit_eis, EisFitParams};
    let s =
        read_eis_path(shared_data("eis/eis_impedancepy_exampleData.csv"), &ReadOptions::default()).unwrap();
    let fit = fit_eis(&s, &EisFitParams::default()).unwrap();
    let c = fit.circuit;
    let w = c.warburg.unwrap();
    eprintln!("{c:?}, RMS residual {:.4} mΩ, {} iterations", fit.rms_residual_ohm * 1e3, fit.iterations);
    assert_eq!(fit.points, 57);
    assert!(fit.converged);
    let within = |name: &str, got: f64, want: f64| {
        assert!(((got - want) / want).abs() <= 0.05, "{name}: {got} vs reference {want}");
    };
    within("R0", c.r0_ohm, 16.5e-3);
    within("R1", c.r1_ohm, 8.68e-3);
    within("C1", c.c1_farad, 3.32);
    within("R2", c.r2_ohm, 5.39e-3);
    within("Wo1 Z0", w.z0_ohm, 63.1e-3);
    within("Wo1 tau", w.tau_s, 233.0);
    within("C2", c.c2_farad, 0.220);
    within("RMS residual", fit.rms_residual_ohm, 0.58e-3);
}

/// Ageing fit on the battery-data-toolkit summary (5 capacity checks over 224 equivalent full cycles at
/// ≈ 29.9 °C), then a projection to 80 % SOH checked against the closed form of the fitted power law.
#[test]
fn ageing_fit_and_projection_on_bdp_summary() {
    use battsentinel_core::io::{read_summary_path, ReadOptions};
    use battsentinel_core::twin::{fit_ageing, AgeingParams, DutyCycle};
    let s = read_summary_path(shared_data("aging/bdp_p492-13-summary.csv"), &ReadOptions::default()).unwrap();
    let fit = fit_ageing(&s, &AgeingParams::default()).unwrap();
    let p = fit.params;
    eprintln!(
        "Q0 {:.5} Ah, b {:.3e} (at 25 °C), z {:.3}, RMSE {:.2} µAh, max rel error {:.3} %",
        p.capacity_ah,
        p.b_cycle,
        p.z_cycle,
        fit.rmse_ah * 1e6,
        fit.max_rel_error * 100.0
    );
    assert_eq!(fit.data.len(), 5);
    // numpy least squares over the same 5 points and z grid: Q0 = 21.770 mAh, z = 0.573, RMSE 15.5 µAh.
    assert!((p.capacity_ah - 0.021770).abs() < 2e-6, "{}", p.capacity_ah);
    assert!((p.z_cycle - 0.5733).abs() < 0.01, "{}", p.z_cycle);
    assert!(fit.rmse_ah < 2.0e-5 && fit.max_rel_error < 0.002);
    // Projection at the test conditions: L = b_test·N^z reaches 0.2 at N = (0.2/b_test)^(1/z).
    let duty = DutyCycle { cycles_per_day: 2.0, dod: 1.0, c_rate: 1.0, temperature_c: 29.886 };
    let b_test = p.loss(&duty, 1.0, 0.0);
    let n_eol = (0.2 / b_test).powf(1.0 / p.z_cycle);
    let pr = p.project(&[(1.0, duty)], 20_000.0, 0.8).unwrap();
    let got = pr.end_of_life_cycles.unwrap();
    eprintln!(
        "end of life at {got:.0} cycles ({:.0} days); closed form {n_eol:.0}",
        pr.end_of_life_days.unwrap()
    );
    assert!(((got - n_eol) / n_eol).abs() < 1e-3, "{got} vs {n_eol}");
    assert!(pr
        .points
        .windows(2)
        .all(|w| w[1].soh < w[0].soh && w[1].resistance_factor > w[0].resistance_factor));
    // Hotter runs age faster (Arrhenius).
    let hot = p.project(&[(1.0, DutyCycle { temperature_c: 45.0, ..duty })], 20_000.0, 0.8).unwrap();
    assert!(hot.end_of_life_days.unwrap() < pr.end_of_life_days.unwrap());
}

/// The 1C discharges with 20 s steps (about twice PyBaMM's own output density: `solve([0, 4000])` returns
/// 100 points, 40.4 s apart) still meet the tolerances against PyBaMM's traces, compared at the
/// reference rows of the same times. This is the step of the `*_dt20` rows of `benches/twin.rs`.
#[test]
fn twenty_second_steps_meet_the_pybamm_tolerances() {
    let cst = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
    let tab = CellParams::ecm_example().check().unwrap();
    for (cell, soc0, file, constant) in [
        (&cst, 0.9999, "twin/pybamm_thevenin_1C_constparams.csv", true),
        (&tab, 0.9999, "twin/pybamm_thevenin_1C.csv", false),
        (&tab, 0.5, "twin/pybamm_thevenin_1C_default_soc50.csv", false),
    ] {
        let (h, rows) = read_csv(file);
        let t = column(&h, &rows, "time_s");
        let v = column(&h, &rows, "voltage_V");
        let tc = column(&h, &rows, "t_cell_C");
        let mut p = one_c(soc0);
        p.dt_s = 20.0;
        let trace = simulate(cell, &p).unwrap();
        let (mut max_dv, mut ss, mut max_dt, mut n) = (0.0f64, 0.0, 0.0f64, 0usize);
        // Every row but the event row (compared through the end time) lies on the reference's 1 s grid.
        for k in 0..trace.len() - 1 {
            let r = trace.time_s[k] as usize;
            assert_eq!(t[r], trace.time_s[k], "{file}: row {k}");
            let dv = (trace.voltage_v[k] - v[r]).abs();
            max_dv = max_dv.max(dv);
            ss += dv * dv;
            n += 1;
            max_dt = max_dt.max((trace.t_cell_c[k] - tc[r]).abs());
        }
        let rms = (ss / n as f64).sqrt();
        let t_end = *trace.time_s.last().unwrap();
        eprintln!("{file}, 20 s steps: {n} rows, max|dV| {max_dv:.3e} V, rms {rms:.3e} V, max|dT| {max_dt:.3e} K, t_end {t_end} vs {}", t[t.len() - 1]);
        assert!(n >= (t[t.len() - 1] / 20.0) as usize - 1, "{n} rows");
        if constant {
            // Issue: ≤ 0.05 mV, ≤ 0.01 K, end within 1 s (measured 3.8 µV, 8.6e-4 K, 5 ms).
            assert!(max_dv <= 0.05e-3, "max dV {max_dv}");
            assert!(max_dt <= 0.01, "max dT {max_dt}");
        } else {
            // Issue: ≤ 1 mV RMS, ≤ 0.1 K (measured ≤ 0.14 mV RMS, ≤ 0.075 K).
            assert!(rms <= 1e-3, "rms dV {rms}");
            assert!(max_dt <= 0.1, "max dT {max_dt}");
        }
        assert!((t_end - t[t.len() - 1]).abs() <= 1.0, "{t_end} vs {}", t[t.len() - 1]);
        assert_eq!(trace.end_reason, EndReason::VoltageBelow);
    }
}
