//! Fault injection on the twin (`twin::faults`): each fault changes the simulated log the way its physics
//! says, and the generator is deterministic.

use approx::assert_relative_eq;
use battsentinel_core::twin::*;
use proptest::prelude::*;

fn cell() -> CellParams {
    CellParams::ecm_example()
}

fn one_cycle() -> CyclingSchedule {
    CyclingSchedule { cycles: 1, ..CyclingSchedule::default() }
}

fn col<'a>(log: &'a battsentinel_core::BatteryLog, name: &str) -> &'a [f64] {
    match name {
        "v" => log.voltage_v.as_deref().unwrap(),
        "qd" => log.discharge_capacity_ah.as_deref().unwrap(),
        _ => log.temperature_c().unwrap(),
    }
}

fn max(x: &[f64]) -> f64 {
    x.iter().copied().filter(|v| v.is_finite()).fold(f64::MIN, f64::max)
}

fn min(x: &[f64]) -> f64 {
    x.iter().copied().filter(|v| v.is_finite()).fold(f64::MAX, f64::min)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// An internal short of R_leak drains the cell at rest at the rate OCV/R_leak:
    /// ΔSoC = ∫ OCV/R dt / (3600·Q), checked against the start-of-rest OCV to the OCV's own change.
    #[test]
    fn leakage_lowers_soc_at_rest_at_v_over_r(r_leak in 0.5f64..50.0, soc in 0.2f64..0.9) {
        let p = CellParams::ecm_example_const(4e-4, 6e-4, 5e4).check().unwrap();
        let mut sim = Simulator::new(p, InitialState { soc, temperature_c: None }).unwrap();
        sim.set_scales(1.0, 1.0, 1.0 / r_leak).unwrap();
        let ocv0 = sim.output().ocv_v;
        let mut charge_as = 0.0;
        for _ in 0..60 {
            let before = sim.output().ocv_v;
            sim.step(Input::Current { current_a: 0.0 }, 10.0).unwrap();
            charge_as += before / r_leak * 10.0;
        }
        let drop = soc - sim.state().soc;
        // Exact against the stepwise OCV (zero-order hold), and close to V/R with the initial OCV.
        prop_assert!((drop - charge_as / (3600.0 * 100.0)).abs() < 1e-12);
        let rate = ocv0 / r_leak * 600.0 / (3600.0 * 100.0);
        prop_assert!((drop - rate).abs() / rate < 0.02, "{drop} vs {rate}");
    }
}

#[test]
fn capacity_loss_shortens_the_discharge_by_its_fraction() {
    let healthy = simulate_fault(&cell(), &Fault::None, &one_cycle()).unwrap();
    let faded = simulate_fault(&cell(), &Fault::CapacityLoss { fraction: 0.3 }, &one_cycle()).unwrap();
    let (q0, q1) = (max(col(&healthy, "qd")), max(col(&faded, "qd")));
    // Same start SoC fraction of a 30 % smaller capacity: ≈ 0.7× the charge (the cut-off SoC shifts a little).
    assert!((q1 / q0 - 0.7).abs() < 0.03, "{q1} / {q0}");
}

#[test]
fn resistance_rise_scales_the_step_response() {
    let d = CyclingSchedule { dt_s: 1.0, ..one_cycle() };
    let step = |f: Fault| {
        let log = simulate_fault(&cell(), &f, &d).unwrap();
        let v = col(&log, "v");
        let i = log.current_a.as_deref().unwrap();
        let k = (1..i.len()).find(|&k| i[k] > 1.0 && i[k - 1] == 0.0).unwrap();
        v[k - 1] - v[k]
    };
    let (a, b) = (step(Fault::None), step(Fault::ResistanceRise { factor: 3.0 }));
    assert_relative_eq!(b / a, 3.0, max_relative = 0.05);
}

#[test]
fn cooling_failure_and_self_heating_raise_the_temperature() {
    let d = CyclingSchedule { discharge_c_rate: 1.0, ..one_cycle() };
    let rise = |f: Fault| {
        let log = simulate_fault(&cell(), &f, &d).unwrap();
        let t = col(&log, "t");
        max(t) - min(t)
    };
    let normal = rise(Fault::None);
    let cooling = rise(Fault::CoolingFailure { factor: 0.05 });
    let runaway = rise(Fault::ThermalRunawayPrecursor { onset_c: 24.0, self_heating_w_per_k: 8.0 });
    assert!(cooling > 2.0 * normal, "{cooling} vs {normal}");
    assert!(runaway > 10.0, "self-heating accelerates: {runaway}");
}

#[test]
fn faulty_charger_and_load_pass_the_cut_offs() {
    let over = simulate_fault(&cell(), &Fault::Overcharge { v_end_v: 4.3 }, &one_cycle()).unwrap();
    assert!(max(col(&over, "v")) > 4.25);
    let under = simulate_fault(&cell(), &Fault::Overdischarge { v_end_v: 2.8 }, &one_cycle()).unwrap();
    assert!(min(col(&under, "v")) < 3.0);
    let normal = simulate_fault(&cell(), &Fault::None, &one_cycle()).unwrap();
    let v = col(&normal, "v");
    assert!(max(v) < 4.21 && min(v) > 3.19);
}

#[test]
fn imbalance_is_visible_in_the_cell_voltages() {
    let d = CyclingSchedule { n_series: 4, ..one_cycle() };
    let log =
        simulate_fault(&cell(), &Fault::CellImbalance { soc_offset: 0.15, capacity_loss: 0.1 }, &d).unwrap();
    assert_eq!(log.extra.iter().filter(|c| c.name.starts_with("cell_")).count(), 4);
    let c1 = &log.channel("cell_1_v").unwrap().values;
    let c2 = &log.channel("cell_2_v").unwrap().values;
    assert!(c1[5] < c2[5] - 0.02, "weak cell lower: {} vs {}", c1[5], c2[5]);
    assert!(simulate_fault(
        &cell(),
        &Fault::CellImbalance { soc_offset: 0.1, capacity_loss: 0.0 },
        &one_cycle()
    )
    .is_err());
}

#[test]
fn sensor_faults_corrupt_only_the_measurement() {
    let base = simulate_fault(&cell(), &Fault::None, &one_cycle()).unwrap();
    let mut stuck = base.clone();
    inject_sensor_fault(&mut stuck, SensorChannel::Temperature, SensorMode::Stuck { fraction: 0.5 }, 1)
        .unwrap();
    let t = col(&stuck, "t");
    let runs = t.windows(2).filter(|w| w[0] == w[1]).count();
    assert!(runs as f64 >= 0.49 * t.len() as f64 - 2.0, "{runs}");
    let mut gone = base.clone();
    inject_sensor_fault(&mut gone, SensorChannel::Voltage, SensorMode::Dropout { fraction: 0.3 }, 2).unwrap();
    let nan = col(&gone, "v").iter().filter(|v| v.is_nan()).count();
    assert!((nan as f64 / base.len() as f64 - 0.3).abs() < 0.01);
    assert_eq!(gone.current_a, base.current_a);
    let mut spikes = base.clone();
    inject_sensor_fault(
        &mut spikes,
        SensorChannel::Voltage,
        SensorMode::Spikes { fraction: 0.02, value: -1.0 },
        3,
    )
    .unwrap();
    assert!(col(&spikes, "v").contains(&-1.0));
    let bad = inject_sensor_fault(&mut spikes, SensorChannel::Voltage, SensorMode::Noise { sd: -1.0 }, 3);
    assert_eq!(bad.unwrap_err().code(), "invalid_param");
}

#[test]
fn generator_is_deterministic_and_labelled() {
    let p = FaultGenParams::default().logs_per_class(1).seed(5);
    let a = generate_labelled_logs(&cell(), &p).unwrap();
    let b = generate_labelled_logs(&cell(), &p).unwrap();
    // NaN (sensor dropouts) compares unequal: compare the JSON (NaN as null).
    assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
    assert_eq!(a.len(), FaultKind::ALL.len());
    for (l, k) in a.iter().zip(FaultKind::ALL) {
        assert_eq!(l.label, k);
        assert_eq!(l.fault.kind(), k);
        assert_eq!(l.log.meta.info["fault"], k.as_str());
        l.log.validate().unwrap();
    }
    let c = generate_labelled_logs(&cell(), &FaultGenParams::default().logs_per_class(1).seed(6)).unwrap();
    assert_ne!(a[0].log.voltage_v, c[0].log.voltage_v);
    // Params and faults round-trip through JSON.
    let json = serde_json::to_string(&a[8].fault).unwrap();
    assert_eq!(serde_json::from_str::<Fault>(&json).unwrap(), a[8].fault);
    assert!(serde_json::from_str::<Fault>(r#"{"type":"internal_short","leak_ohm":2.0}"#).is_ok());
    assert!(Fault::InternalShort { leak_ohm: -1.0 }.check().is_err());
}
