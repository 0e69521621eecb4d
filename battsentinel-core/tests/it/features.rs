//! `features` on real fixtures from `shared/data` (read with `io`), checked against the files' own columns
//! and the values in `shared/data/MANIFEST.md`.

use crate::common;

use approx::assert_abs_diff_eq;
use battsentinel_core::features::*;
use battsentinel_core::io::{read_path, read_summary_path, ReadOptions};
use battsentinel_core::BatteryLog;
use common::shared_data;

fn read(rel: &str) -> BatteryLog {
    read_path(shared_data(rel), &ReadOptions::default()).unwrap()
}

/// Arbin LFP cell, 2 cycles. The file's cumulative columns: cycle 1 starts mid-charge with
/// Charge_Capacity = 0.8800053 and ends at 1.0719038 / Discharge_Capacity 1.0723603; cycle 2 resets to 0
/// and ends at 1.0725317 / 1.0729095 (energies 3.7558255 / 3.2606606 Wh).
#[test]
fn arbin_per_cycle_capacities() {
    let log = read("cyclers/arbin_example.csv");
    let s = cycle_summary(&log, &CycleFeatureParams::default()).unwrap();
    assert_eq!(s.cycles.len(), 2);
    assert_eq!(s.meta.info["capacity_source"], "cumulative_columns:4");
    let (c1, c2) = (&s.cycles[0], &s.cycles[1]);
    assert_abs_diff_eq!(c1.charge_capacity_ah, 1.0719038 - 0.8800053, epsilon = 1e-7);
    assert_abs_diff_eq!(c1.discharge_capacity_ah, 1.0723603, epsilon = 1e-7);
    assert_abs_diff_eq!(c2.charge_capacity_ah, 1.0725317, epsilon = 1e-7);
    assert_abs_diff_eq!(c2.discharge_capacity_ah, 1.0729095, epsilon = 1e-7);
    assert_abs_diff_eq!(c2.charge_energy_wh, 3.7558255, epsilon = 1e-6);
    assert_abs_diff_eq!(c2.discharge_energy_wh, 3.2606606, epsilon = 1e-6);
    assert_abs_diff_eq!(c2.coulombic_efficiency, 1.0729095 / 1.0725317, epsilon = 1e-9);
    assert_abs_diff_eq!(c2.energy_efficiency, 3.2606606 / 3.7558255, epsilon = 1e-9);
    // Reference = first full cycle (cycle 1's discharge), so SOH(2) = 1.0729095 / 1.0723603.
    assert_abs_diff_eq!(c1.soh, 1.0, epsilon = 1e-12);
    assert_abs_diff_eq!(c2.soh, 1.0729095 / 1.0723603, epsilon = 1e-7);
    for c in [c1, c2] {
        assert!(c.voltage_min_v >= 1.99 && c.voltage_max_v <= 3.61, "{c:?}");
        assert!(c.voltage_min_v < c.voltage_mean_v && c.voltage_mean_v < c.voltage_max_v);
        assert!(c.temperature_min_c >= 28.0 && c.temperature_max_c <= 32.3);
        // DCIR 10 s after the rest → 4.4 A discharge step of an ~1.1 Ah LFP cell: tens of mΩ.
        assert!(c.dcir_ohm > 0.02 && c.dcir_ohm < 0.1, "{}", c.dcir_ohm);
    }
    assert_abs_diff_eq!(c2.duration_s, 6308.4823 - 2700.1583, epsilon = 1e-3);

    // Integration of current and power instead of the counters agrees within 0.5 %.
    let integ =
        cycle_summary(&log, &CycleFeatureParams::default().capacity_source(CapacitySource::Integrate))
            .unwrap();
    for (a, b) in s.cycles.iter().zip(&integ.cycles) {
        for (x, y) in [
            (a.charge_capacity_ah, b.charge_capacity_ah),
            (a.discharge_capacity_ah, b.discharge_capacity_ah),
            (a.charge_energy_wh, b.charge_energy_wh),
            (a.discharge_energy_wh, b.discharge_energy_wh),
        ] {
            assert!((x - y).abs() / x < 0.005, "counter {x} vs integrated {y}");
        }
    }
}

/// Nissan Leaf 33 Ah cell HPPC at 25 °C: ten 30 A discharge pulses from rest. R0 (first sample, 0.5 s
/// after the edge) of that cell is ~1.4–1.8 mΩ; the 10-s DCIR is larger.
#[test]
fn bitrode_hppc_dcir() {
    let log = read("cyclers/bitrode_nissanleaf_HPPC_25C.csv");
    let pulses = |delay_s: f64| -> Vec<DcirEvent> {
        dcir_events(&log, &DcirParams::default().delay_s(delay_s).min_delta_current_a(5.0))
            .unwrap()
            .into_iter()
            .filter(|e| e.current_before_a.abs() < 0.1 && (e.current_after_a - 30.0).abs() < 0.5)
            .collect()
    };
    let r0 = pulses(0.0);
    let r10 = pulses(10.0);
    assert_eq!(r0.len(), 10);
    assert_eq!(r10.len(), 10);
    for (a, b) in r0.iter().zip(&r10) {
        assert_eq!(a.row, b.row);
        assert!(a.r_ohm > 1.4e-3 && a.r_ohm < 1.8e-3, "R0 {} mΩ", a.r_ohm * 1e3);
        assert!(b.r_ohm > a.r_ohm && b.r_ohm < 3.0e-3, "R10s {} mΩ", b.r_ohm * 1e3);
    }
    // First pulse at full charge: 4.182 V → 4.129 V (0.5 s) → 4.103 V (10 s) at 30 A.
    assert_abs_diff_eq!(r0[0].r_ohm, (4.182 - 4.129) / 30.0, epsilon = 1e-6);
    assert_abs_diff_eq!(r10[0].r_ohm, (4.182 - 4.103) / 30.0, epsilon = 1e-6);

    let s = cycle_summary(
        &log,
        &CycleFeatureParams::default().dcir(DcirParams::default().min_delta_current_a(5.0)),
    )
    .unwrap();
    let c = &s.cycles[0];
    assert!(c.dcir_ohm > 1.5e-3 && c.dcir_ohm < 3.0e-3);
    // The file's single `Amp-hr` counter is split into charge/discharge counters by the reader, so the cycle
    // capacities come from those cumulative columns; the HPPC sweeps the 33 Ah cell from full to empty.
    assert_eq!(s.meta.info["capacity_source"], "cumulative_columns:2");
    assert!(c.discharge_capacity_ah > 28.0 && c.discharge_capacity_ah < 34.0, "{}", c.discharge_capacity_ah);
}

/// batterydata p492-13 summary: 5 capacity checks (Q_dis 21.74 → 20.89 mAh over 262 cycles) among
/// ageing, HPPC and EIS cycles.
#[test]
fn bdp_soh_trend() {
    let s = read_summary_path(shared_data("aging/bdp_p492-13-summary.csv"), &ReadOptions::default()).unwrap();
    let tr = soh_trend(&s, &TrendParams::default()).unwrap();
    let cycles: Vec<u32> = tr.points.iter().map(|p| p.cycle).collect();
    assert_eq!(cycles, vec![2, 36, 95, 153, 262]);
    let q: Vec<f64> = tr.points.iter().map(|p| p.capacity_ah).collect();
    for (a, b) in q.iter().zip([0.02173834, 0.02149, 0.02132271, 0.02117534, 0.02088748]) {
        assert_abs_diff_eq!(*a, b, epsilon = 1e-9);
    }
    assert_abs_diff_eq!(tr.points[4].soh, 0.02088748 / 0.02173834, epsilon = 1e-12);
    assert!(tr.observed_cycle_at_threshold.is_none(), "the cell is still at 96 %");
    for f in &tr.fits {
        assert!(f.r2 > 0.95, "{f:?}");
        let c = f.cycle_at_threshold.unwrap();
        assert!(c > 262.0);
        assert!(f.cycle_lower.unwrap() < c && c < f.cycle_upper.unwrap());
    }
    let lin = tr.fits.iter().find(|f| f.model == FadeModel::Linear).unwrap();
    assert_abs_diff_eq!(lin.params[1], -1.41e-4, epsilon = 0.05e-4);
    assert!(tr.best.is_some());

    // Early life: fit the first 3 checks (cycles 2–95), predict the last two.
    let early = soh_trend(&s, &TrendParams::default().fit_fraction(0.6)).unwrap();
    assert_eq!(early.points.iter().filter(|p| p.used_for_fit).count(), 3);
    let lin = early.fits.iter().find(|f| f.model == FadeModel::Linear).unwrap();
    let err = lin.holdout_rmse.unwrap();
    assert!(err < 0.02, "hold-out SOH RMSE {err}");
}

/// LFP discharge at ~4.4 A: one dominant dQ/dV peak on the loaded plateau near 3.15 V.
#[test]
fn arbin_incremental_capacity() {
    let log = read("cyclers/arbin_example.csv");
    let ic = incremental_capacity(&log, Some(2), Direction::Discharge, &IcaParams::default()).unwrap();
    let top = ic.peaks.iter().max_by(|a, b| a.height_ah_per_v.total_cmp(&b.height_ah_per_v)).unwrap();
    assert!((3.05..3.3).contains(&top.voltage_v), "{top:?}");
    // The curve integrates back to the capacity passed on the grid.
    let area: f64 = ic.dq_dv_ah_per_v.windows(2).map(|w| 0.5 * (w[0] + w[1]) * 0.002).sum();
    let q_span = ic.capacity_ah.iter().fold(0.0f64, |m, &q| m.max(q))
        - ic.capacity_ah.iter().fold(f64::MAX, |m, &q| m.min(q));
    assert!((area - q_span).abs() / q_span < 0.05, "area {area} vs ΔQ {q_span}");
    assert!(q_span > 0.9 && q_span < 1.08);
}
