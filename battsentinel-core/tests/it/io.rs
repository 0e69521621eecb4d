//! Every shared fixture read with known values from `shared/data/MANIFEST.md`.

use crate::common;

use approx::assert_abs_diff_eq;
use battsentinel_core::data::{BatteryLog, StepKind};
use battsentinel_core::io::{
    detect, read_bytes, read_eis_path, read_path, read_summary_path, Format, ReadOptions,
};
use common::shared_data;

fn read(rel: &str) -> BatteryLog {
    let log = read_path(shared_data(rel), &ReadOptions::default()).unwrap();
    log.validate().unwrap();
    log
}

fn range(v: &[f64]) -> (f64, f64) {
    v.iter().filter(|x| x.is_finite()).fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)))
}

fn kind_of(log: &BatteryLog, i: usize) -> Option<StepKind> {
    log.step_kind.as_ref().unwrap()[i]
}

fn detected(rel: &str) -> Format {
    let bytes = std::fs::read(shared_data(rel)).unwrap();
    let name = rel.rsplit('/').next();
    detect(&bytes[..bytes.len().min(256 * 1024)], name).format
}

#[test]
fn arbin_example() {
    let log = read("cyclers/arbin_example.csv");
    assert_eq!(log.meta.format, "arbin_csv");
    assert_eq!(log.len(), 2142);
    assert_eq!(log.quality.rows_read, 2142);
    let (vmin, vmax) = range(log.voltage_v.as_ref().unwrap());
    assert!(vmin >= 1.999 && vmax <= 3.601, "{vmin} {vmax}");
    // Charge positive in the file (−4.40…+6.64 A) → discharge positive here.
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    assert_abs_diff_eq!(imin, -6.64, epsilon = 0.01);
    assert_abs_diff_eq!(imax, 4.40, epsilon = 0.01);
    let (tmin, tmax) = range(log.temperature_c().unwrap());
    assert!((28.05..28.15).contains(&tmin) && (32.15..32.25).contains(&tmax), "{tmin} {tmax}");
    let cyc = log.cycle_index.as_ref().unwrap();
    assert_eq!((cyc[0], cyc[2141]), (Some(1), Some(2)));
    assert_eq!(log.time_s[0], 0.0);
    assert_abs_diff_eq!(log.time_s[2141], 6308.4823, epsilon = 1e-9);
    // First row: I = −9.63e-5 A in the file.
    assert_abs_diff_eq!(log.current_a.as_ref().unwrap()[0], 9.63e-5, epsilon = 1e-12);
    assert_eq!(log.start_time.unwrap().to_string(), "2017-07-02 14:39:13");
    assert!(log.charge_capacity_ah.is_some() && log.discharge_energy_wh.is_some());
    assert!(log.channel("dV/dt").is_some());
}

#[test]
fn arbin_severson_with_metadata_sidecar() {
    let log = read("cyclers/arbin_severson_FastCharge_000025_CH8.csv");
    assert_eq!(log.len(), 248);
    assert!(log.current_a.as_ref().unwrap().iter().all(|&i| i == 0.0));
    for &v in log.voltage_v.as_ref().unwrap() {
        assert_abs_diff_eq!(v, 3.301, epsilon = 0.001);
    }
    let (tmin, tmax) = range(log.temperature_c().unwrap());
    assert!(tmin >= 28.95 && tmax <= 30.15, "{tmin} {tmax}");
    assert_eq!(
        log.meta.info.get("metadata.schedule_file_name").unwrap(),
        "2017-05-12_TESTS\\20170512-4_4C-80PER_4_4C.SDU"
    );
    assert_eq!(log.meta.info.get("metadata.first_start_datetime").unwrap(), "1494645214");
}

#[test]
fn maccor_signed_dialect() {
    let log = read("cyclers/maccor_PredictionDiagnostics_000151_test.052");
    assert_eq!(log.meta.format, "maccor_text");
    assert_eq!(log.len(), 333);
    let cur = log.current_a.as_ref().unwrap();
    assert_abs_diff_eq!(cur[0], 4.8400091554, epsilon = 1e-9);
    assert!(cur.iter().all(|&i| i > 4.8));
    assert!(log.cycle_index.as_ref().unwrap().iter().all(|&c| c == Some(37)));
    assert_abs_diff_eq!(log.time_s[0], 769_267.24, epsilon = 1e-6);
    assert_eq!(kind_of(&log, 0), Some(StepKind::Discharge));
    assert!(log.meta.current_sign.contains("negated"));
}

#[test]
fn maccor_unsigned_with_state_latin1_disconnected_thermocouples() {
    let log = read("cyclers/maccor_LGM50_0degC_validation.txt");
    assert_eq!(log.len(), 6704);
    assert_eq!(log.meta.info.get("Filename").map(String::as_str), Some("M50_Validation_0deg_01"));
    let cur = log.current_a.as_ref().unwrap();
    let v = log.voltage_v.as_ref().unwrap();
    let (vmin, vmax) = range(v);
    assert!(vmin >= 2.4999 && vmax <= 4.2002, "{vmin} {vmax}");
    // D rows positive up to 10 A; C rows negative.
    let kinds = log.step_kind.as_ref().unwrap();
    let max_d = cur
        .iter()
        .zip(kinds)
        .filter(|(_, k)| **k == Some(StepKind::Discharge))
        .map(|(c, _)| *c)
        .fold(f64::MIN, f64::max);
    assert_abs_diff_eq!(max_d, 10.0, epsilon = 0.02);
    assert!(cur.iter().zip(kinds).filter(|(_, k)| **k == Some(StepKind::Discharge)).all(|(c, _)| *c >= 0.0));
    assert!(cur.iter().zip(kinds).filter(|(_, k)| **k == Some(StepKind::Charge)).all(|(c, _)| *c <= 0.0));
    assert!(cur.iter().zip(kinds).any(|(c, k)| *k == Some(StepKind::Charge) && *c < 0.0));
    // TestTime `0d 00:00:5.05000019073486` on row 3.
    assert_abs_diff_eq!(log.time_s[2], 5.05000019073486, epsilon = 1e-12);
    // 16 thermocouples at ≈ −2500 °C: kept as missing, reported once, rows kept.
    assert_eq!(log.temperatures_c.len(), 16);
    assert!(log.temperatures_c.iter().all(|c| c.values.iter().all(|x| x.is_nan())));
    let issues: Vec<_> = log.quality.issues.iter().filter(|i| i.code == "disconnected_sensor").collect();
    assert_eq!(issues.len(), 1);
    assert_eq!(issues[0].count, 6704);
    assert_eq!(issues[0].action, "set_missing");
    assert_eq!(log.quality.rows_kept, 6704);
}

#[test]
fn neware_flat() {
    let log = read("cyclers/neware_uio.csv");
    assert_eq!(log.meta.format, "neware_csv");
    assert_eq!(log.len(), 9065);
    let (vmin, vmax) = range(log.voltage_v.as_ref().unwrap());
    assert!(vmin >= 0.05 - 1e-9 && vmax <= 2.96 + 1e-9, "{vmin} {vmax}");
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    assert!(imin >= -0.0011 && imax <= 0.0011, "{imin} {imax}");
    let cyc = log.cycle_index.as_ref().unwrap();
    assert_eq!(cyc.iter().flatten().max(), Some(&4));
    // CC DChg rows are positive after normalisation.
    let k = log.step_kind.as_ref().unwrap();
    let cur = log.current_a.as_ref().unwrap();
    assert!(cur.iter().zip(k).filter(|(_, k)| **k == Some(StepKind::Discharge)).all(|(c, _)| *c > 0.0));
    // Cumulative Time `144:02:18` on the last row.
    assert_abs_diff_eq!(log.time_s[9064], 144.0 * 3600.0 + 2.0 * 60.0 + 18.0, epsilon = 1e-9);
    assert_eq!(log.start_time.unwrap().to_string(), "2022-05-18 16:27:52");
}

#[test]
fn neware_hierarchical() {
    let log = read("cyclers/neware_hierarchical_export_ife.csv");
    assert_eq!(log.meta.format, "neware_hierarchical");
    let n = log.len();
    assert_eq!(n, 9295);
    assert_abs_diff_eq!(log.voltage_v.as_ref().unwrap()[0], 4.3185, epsilon = 1e-12);
    assert_eq!(log.cycle_index.as_ref().unwrap()[0], Some(1));
    assert_eq!(log.step_index.as_ref().unwrap()[11], Some(2));
    assert_eq!(kind_of(&log, 11), Some(StepKind::Charge));
    assert_abs_diff_eq!(log.current_a.as_ref().unwrap()[11], -0.5, epsilon = 1e-12);
    assert_abs_diff_eq!(log.time_s[n - 1], 27.0 * 3600.0 + 55.0 * 60.0 + 43.0, epsilon = 1e-9);
    assert!(log.temperatures_c.iter().any(|c| c.name == "T1"));
}

#[test]
fn pec_units_scaled() {
    let log = read("cyclers/pec_SAFT_VL43EFe_dQdV_C25.csv");
    assert_eq!(log.meta.format, "pec_csv");
    assert_eq!(log.len(), 16255);
    assert_eq!(log.meta.info.get("TestRegime Name").map(String::as_str), Some("SAFT VL43EFe dQdV C/25"));
    let (vmin, vmax) = range(log.voltage_v.as_ref().unwrap());
    assert!(vmin >= 2.4935 && vmax <= 3.8001, "{vmin} {vmax}");
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    assert_abs_diff_eq!(imin, -1.6406, epsilon = 1e-4);
    assert_abs_diff_eq!(imax, 1.6406, epsilon = 1e-4);
    let amb = log.temperatures_c.iter().find(|c| c.name == "Ambient temperature").unwrap();
    let (tmin, tmax) = range(&amb.values);
    assert!(tmin >= 25.7 && tmax <= 26.7, "{tmin} {tmax}");
    let cyc = log.cycle_index.as_ref().unwrap();
    assert_eq!((cyc.iter().flatten().min(), cyc.iter().flatten().max()), (Some(&0), Some(&2)));
    // Step 1 discharges at −1 633.9 mA in the file → +1.6339 A.
    assert_abs_diff_eq!(log.current_a.as_ref().unwrap()[5], 1.6339, epsilon = 1e-9);
    assert!(log.charge_energy_wh.is_some());
}

#[test]
fn lanhe_xlsx() {
    let log = read("cyclers/lanhe_export.xlsx");
    assert_eq!(log.meta.format, "lanhe_xlsx");
    assert!(log.len() > 100);
    assert!(log.voltage_v.is_some() && log.current_a.is_some() && log.cycle_index.is_some());
    let s = read_summary_path(shared_data("cyclers/lanhe_export.xlsx"), &ReadOptions::default()).unwrap();
    assert!(!s.cycles.is_empty());
    assert!(s.cycles.iter().any(|c| c.discharge_capacity_ah.is_finite()));
}

#[test]
fn biologic_semicolon_latin1() {
    let log = read("cyclers/biologic_MB_CE1_short10k.csv");
    assert_eq!(log.meta.format, "biologic_csv");
    assert_eq!(log.len(), 9999);
    let (vmin, vmax) = range(log.voltage_v.as_ref().unwrap());
    assert!(vmin >= 2.999 && vmax <= 4.281, "{vmin} {vmax}");
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    assert_abs_diff_eq!(imin, -2.498, epsilon = 1e-3);
    assert_abs_diff_eq!(imax, 0.362, epsilon = 1e-3);
    assert_eq!(log.start_time.unwrap().to_string(), "2021-05-05 15:36:22.757");
    assert_abs_diff_eq!(log.time_s[1], 22.756, epsilon = 1e-6);
}

#[test]
fn bitrode_with_header() {
    let log = read("cyclers/bitrode_nissanleaf_HPPC_25C.csv");
    assert_eq!(log.meta.format, "bitrode_csv");
    assert_eq!(log.len(), 13248);
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    // −30 A discharge pulses → +30 A; +21.9 A regen → −21.9 A (rounded in the file).
    assert_abs_diff_eq!(imax, 30.0, epsilon = 0.2);
    assert!(imin < -21.0, "{imin}");
    assert_abs_diff_eq!(log.time_s[13247], 58968.2, epsilon = 1e-9);
    assert_abs_diff_eq!(*log.time_s.last().unwrap() / 3600.0, 16.4, epsilon = 0.1);
    // Duplicate `Loop` columns kept under distinct names.
    assert!(
        log.channel("Loop").is_some()
            && log.channel("Loop (2)").is_some()
            && log.channel("Loop (3)").is_some()
    );
    assert_eq!(kind_of(&log, 0), Some(StepKind::Charge));
}

#[test]
fn bitrode_headerless() {
    let log = read("cyclers/bitrode_nissanleaf_1C_discharge.csv");
    assert_eq!(log.meta.format, "bitrode_csv");
    assert_eq!(log.len(), 2287);
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    // 1C discharge at −30.60 A in the file, charge back at +15.30 A.
    assert_abs_diff_eq!(imax, 30.6, epsilon = 1e-9);
    assert_abs_diff_eq!(imin, -15.3, epsilon = 1e-9);
    let v = log.voltage_v.as_ref().unwrap();
    let (vmin, vmax) = range(v);
    assert!(vmin >= 2.99 && vmax <= 4.21, "{vmin} {vmax}");
}

#[test]
fn labview_lvm_three_second_sampling() {
    let log = read("cyclers/labview_nissanleaf_1C_discharge_thermocouples.lvm");
    assert_eq!(log.meta.format, "labview_lvm");
    assert_eq!(log.len(), 22043);
    assert_eq!(log.temperatures_c.len(), 4);
    assert_eq!(log.temperatures_c[0].name, "TC1");
    assert_abs_diff_eq!(log.time_s[1], 3.0);
    assert_abs_diff_eq!(log.time_s[22042], 3.0 * 22042.0);
    assert_abs_diff_eq!(log.temperatures_c[0].values[0], 27.403047);
    for c in &log.temperatures_c {
        assert!((25.5..28.0).contains(&c.values[0]), "{}", c.values[0]);
    }
    let opts = ReadOptions { sample_interval_s: Some(1.0), ..Default::default() };
    let log1 =
        read_path(shared_data("cyclers/labview_nissanleaf_1C_discharge_thermocouples.lvm"), &opts).unwrap();
    assert_abs_diff_eq!(log1.time_s[10], 10.0);
}

#[test]
fn battery_archive_timeseries_and_cycles() {
    let log = read("cyclers/calce_CX2-33_timeseries.csv");
    assert_eq!(log.meta.format, "battery_archive");
    assert_eq!(log.len(), 15);
    assert_abs_diff_eq!(log.time_s[0], 30.009);
    // Charging at +0.674 A in the file.
    assert_abs_diff_eq!(*log.current_a.as_ref().unwrap().last().unwrap(), -0.675);
    assert!(log.temperatures_c.iter().all(|c| c.values.iter().all(|x| x.is_nan())));
    assert_eq!(log.temperatures_c.len(), 2);
    let s =
        read_summary_path(shared_data("aging/calce_CX2-33_cycle_data.csv"), &ReadOptions::default()).unwrap();
    assert_eq!(s.cycles.len(), 9);
    assert_eq!(s.meta.format, "battery_archive_cycles");
    for c in &s.cycles {
        assert_abs_diff_eq!(c.discharge_capacity_ah, 1.29, epsilon = 0.01);
    }
    assert_abs_diff_eq!(s.cycles[0].voltage_max_v, 4.2);
}

#[test]
fn bdp_summary() {
    let s = read_summary_path(shared_data("aging/bdp_p492-13-summary.csv"), &ReadOptions::default()).unwrap();
    assert_eq!(s.meta.format, "battery_data_summary");
    assert_eq!(s.cycles.len(), 267);
    let q: Vec<f64> = s.cycles.iter().map(|c| c.discharge_capacity_ah).filter(|x| x.is_finite()).collect();
    let (lo, hi) = range(&q);
    assert!((0.0006..0.0007).contains(&lo), "{lo}");
    assert!(hi > 0.0216 && hi <= 0.0218, "{hi}");
    assert_eq!(s.cycles[1].label.as_deref(), Some("Capacity check"));
    assert_abs_diff_eq!(s.cycles[1].coulombic_efficiency, 0.993966700944523, epsilon = 1e-15);
    assert_abs_diff_eq!(s.cycles[1].charge_capacity_ah, 0.02187029, epsilon = 1e-15);
    assert!(s.cycles[0].charge_capacity_ah.is_nan());
    assert_eq!(s.cycles[1].extra.get("q_chg"), Some(&1.0));
    assert_eq!(s.cycles[266].label.as_deref(), Some("EIS"));
}

#[test]
fn eis_impedancepy() {
    let s =
        read_eis_path(shared_data("eis/eis_impedancepy_exampleData.csv"), &ReadOptions::default()).unwrap();
    assert_eq!(s.frequency_hz.len(), 66);
    assert_abs_diff_eq!(s.frequency_hz[0], 3.1623e-3, epsilon = 1e-9);
    assert_abs_diff_eq!(s.frequency_hz[65], 1e4);
    assert_abs_diff_eq!(s.z_imag_ohm[0], -2.043_869_854_441_892_5e-2);
    assert_eq!(detected("eis/eis_impedancepy_exampleData.csv"), Format::EisCsv);
}

#[test]
fn eis_biologic_mpt() {
    let s = read_eis_path(shared_data("eis/eis_biologic_PEIS.mpt"), &ReadOptions::default()).unwrap();
    assert_eq!(s.meta.format, "biologic_mpt");
    assert_eq!(s.frequency_hz.len(), 43);
    assert_abs_diff_eq!(s.frequency_hz[0], 1.0003201e3);
    assert_abs_diff_eq!(s.z_real_ohm[0], 65.470886);
    // −Im(Z) = 0.38998979 in the file.
    assert_abs_diff_eq!(s.z_imag_ohm[0], -0.38998979);
    let e = read_path(shared_data("eis/eis_biologic_PEIS.mpt"), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "not_a_time_series");
}

#[test]
fn pybamm_drive_cycle() {
    let log = read("twin/drivecycle_US06.csv");
    assert_eq!(log.meta.format, "pybamm_drive_cycle");
    assert_eq!(log.len(), 601);
    let (imin, imax) = range(log.current_a.as_ref().unwrap());
    assert_abs_diff_eq!(imin, -4.21, epsilon = 0.01);
    assert_abs_diff_eq!(imax, 8.10, epsilon = 0.01);
    assert_eq!(log.time_s[600], 600.0);
    assert_abs_diff_eq!(log.current_a.as_ref().unwrap()[0], 0.012859);
}

#[test]
fn two_column_traces() {
    let v = read("twin/enertech_1C_discharge_voltage.txt");
    assert_eq!(v.meta.format, "two_column_trace");
    assert_eq!(v.len(), 3615);
    let volts = v.voltage_v.as_ref().unwrap();
    assert_abs_diff_eq!(volts[0], 4.181100464);
    assert_abs_diff_eq!(volts[3614], 2.991078805);
    let t = read("twin/enertech_1C_discharge_temperature_rise.txt");
    assert_eq!(t.len(), 7033);
    assert!(t.voltage_v.is_none());
    let rise = t.channel("temperature_rise").unwrap();
    assert_eq!(rise.unit, "K");
    let (lo, hi) = range(&rise.values);
    assert_abs_diff_eq!(hi, 4.04, epsilon = 0.01);
    assert!(lo > -0.1);
}

#[test]
fn pybamm_traces() {
    for (f, n, t_end) in [
        ("twin/pybamm_thevenin_1C.csv", 3547, 3545.7356),
        ("twin/pybamm_thevenin_1C_default_soc50.csv", 0, 1746.0947),
        ("twin/pybamm_thevenin_1C_constparams.csv", 0, 3556.9618),
    ] {
        let log = read(f);
        assert_eq!(log.meta.format, "pybamm_trace");
        if n > 0 {
            assert_eq!(log.len(), n);
        }
        assert_abs_diff_eq!(*log.time_s.last().unwrap(), t_end);
        // 100 A discharge stays positive (PyBaMM convention).
        assert!(log.current_a.as_ref().unwrap().iter().all(|&i| i == 100.0));
        assert_abs_diff_eq!(*log.voltage_v.as_ref().unwrap().last().unwrap(), 3.20001);
        let tc = log.temperatures_c.iter().find(|c| c.name == "t_cell").unwrap();
        assert!(tc.values[0] == 25.0);
        assert!(log.channel("ocv_V").is_some() && log.channel("r0_ohm").is_some());
    }
    let log = read("twin/pybamm_thevenin_1C.csv");
    let (_, tmax) = range(&log.temperatures_c.iter().find(|c| c.name == "t_cell").unwrap().values);
    assert_abs_diff_eq!(tmax, 27.58, epsilon = 0.01);
    assert_abs_diff_eq!(log.voltage_v.as_ref().unwrap()[0], 4.1342208);
}

#[test]
fn pybamm_tables_are_not_time_series() {
    for f in ["twin/pybamm_ecm_example_ocv.csv", "twin/pybamm_ecm_example_dudt.csv"] {
        let e = read_path(shared_data(f), &ReadOptions::default()).unwrap_err();
        assert_eq!(e.code(), "not_a_time_series", "{f}");
    }
}

#[test]
fn every_fixture_is_detected() {
    let expect = [
        ("cyclers/arbin_example.csv", Format::ArbinCsv),
        ("cyclers/arbin_severson_FastCharge_000025_CH8.csv", Format::ArbinCsv),
        ("cyclers/maccor_PredictionDiagnostics_000151_test.052", Format::MaccorText),
        ("cyclers/maccor_LGM50_0degC_validation.txt", Format::MaccorText),
        ("cyclers/neware_uio.csv", Format::NewareCsv),
        ("cyclers/neware_hierarchical_export_ife.csv", Format::NewareHierarchical),
        ("cyclers/pec_SAFT_VL43EFe_dQdV_C25.csv", Format::PecCsv),
        ("cyclers/biologic_MB_CE1_short10k.csv", Format::BiologicCsv),
        ("cyclers/bitrode_nissanleaf_HPPC_25C.csv", Format::BitrodeCsv),
        ("cyclers/bitrode_nissanleaf_1C_discharge.csv", Format::BitrodeCsv),
        ("cyclers/labview_nissanleaf_1C_discharge_thermocouples.lvm", Format::LabviewLvm),
        ("cyclers/calce_CX2-33_timeseries.csv", Format::BatteryArchive),
        ("aging/calce_CX2-33_cycle_data.csv", Format::BatteryArchiveCycles),
        ("aging/bdp_p492-13-summary.csv", Format::BatteryDataSummary),
        ("eis/eis_impedancepy_exampleData.csv", Format::EisCsv),
        ("eis/eis_biologic_PEIS.mpt", Format::BiologicMpt),
        ("twin/drivecycle_US06.csv", Format::PybammDriveCycle),
        ("twin/enertech_1C_discharge_voltage.txt", Format::TwoColumnTrace),
        ("twin/enertech_1C_discharge_temperature_rise.txt", Format::TwoColumnTrace),
        ("twin/pybamm_thevenin_1C.csv", Format::PybammTrace),
        ("twin/pybamm_ecm_example_ocv.csv", Format::PybammTable),
        ("twin/pybamm_ecm_example_dudt.csv", Format::PybammTable),
    ];
    for (f, fmt) in expect {
        assert_eq!(detected(f), fmt, "{f}");
    }
    let bytes = std::fs::read(shared_data("cyclers/lanhe_export.xlsx")).unwrap();
    assert_eq!(detect(&bytes, Some("lanhe_export.xlsx")).format, Format::LanheXlsx);
}

#[test]
fn streaming_read_equals_bytes_read() {
    let bytes = std::fs::read(shared_data("cyclers/pec_SAFT_VL43EFe_dQdV_C25.csv")).unwrap();
    let a = read_bytes(&bytes, &ReadOptions::default()).unwrap();
    // A reader that returns at most 7 bytes per call.
    struct Slow<'a>(&'a [u8]);
    impl std::io::Read for Slow<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(7).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }
    let b = battsentinel_core::io::read(Slow(&bytes), &ReadOptions::default()).unwrap();
    assert_eq!(a.time_s, b.time_s);
    assert_eq!(a.voltage_v, b.voltage_v);
}

/// `V_min`, `T_min`, `I_min` are per-cycle minima, not quantities in minutes (issue 2 fix).
#[test]
fn summary_min_columns_are_minima_not_minutes() {
    let s = read_summary_path(shared_data("aging/bdp_p492-13-summary.csv"), &ReadOptions::default()).unwrap();
    let c = &s.cycles[1]; // cycle 2, "Capacity check"
    assert_eq!(c.voltage_min_v, 3.0);
    assert_eq!(c.voltage_max_v, 4.10002289);
    assert_eq!(c.temperature_min_c, 29.5877);
    assert_eq!(c.temperature_max_c, 29.9903);
    assert_eq!(c.extra.get("I_min"), Some(&-0.00095048));
    assert_eq!(c.extra.get("P_min"), Some(&0.0));
    let m = |h: &str| s.meta.mapping.iter().find(|m| m.header == h).unwrap().clone();
    assert_eq!(m("V_min").channel, "voltage_min_v");
    assert_eq!(m("V_min").scale, 1.0);
    assert_eq!(m("T_min").channel, "temperature_min_c");
    assert_eq!(m("I_min").scale, 1.0);
    // A real minutes column still scales.
    let csv = b"Cycle,Duration_min,Voltage_min,T_min (degC)\n1,2,3.0,25\n";
    let s = battsentinel_core::io::read_summary_bytes(csv, &ReadOptions::default()).unwrap();
    assert_eq!(s.cycles[0].duration_s, 120.0);
    assert_eq!(s.cycles[0].voltage_min_v, 3.0);
    assert_eq!(s.cycles[0].temperature_min_c, 25.0);
}

/// One `Capacity` column for both directions is split into charge and discharge counters: by the signed
/// value and step mode (Bitrode, signed), by the `State` column (Maccor `Amp-hr`, unsigned).
#[test]
fn single_capacity_column_is_split() {
    let log = read("cyclers/bitrode_nissanleaf_HPPC_25C.csv");
    let (qc, qd) = (log.charge_capacity_ah.as_ref().unwrap(), log.discharge_capacity_ah.as_ref().unwrap());
    // Row 256: end of the 10 A conditioning charge, 30.18 Ah; row 257: the rest after it holds the value.
    assert_abs_diff_eq!(qc[256], 30.18);
    assert_abs_diff_eq!(qd[256], 0.0);
    assert_abs_diff_eq!(qc[257], 30.18);
    // Row 651: 10 A discharge, −0.21 Ah in the file; row 1657: the rest after the 3 Ah step.
    assert_abs_diff_eq!(qd[651], 0.21);
    assert_abs_diff_eq!(qc[651], 0.0);
    assert_abs_diff_eq!(qd[1657], 3.0);
    assert_abs_diff_eq!(qc[1657], 0.0);
    assert!(log.meta.mapping.iter().any(|m| m.header == "Capacity(Ah)" && m.channel == "capacity_ah"));
    assert!(log.extra.iter().all(|c| c.name != "Capacity(Ah)"));

    let log = read("cyclers/maccor_LGM50_0degC_validation.txt");
    let (qc, qd) = (log.charge_capacity_ah.as_ref().unwrap(), log.discharge_capacity_ah.as_ref().unwrap());
    assert_abs_diff_eq!(qd[231], 0.63781);
    assert_abs_diff_eq!(qc[231], 0.0);
    assert_abs_diff_eq!(qc[1105], 1.15388);
    assert_abs_diff_eq!(qd[1105], 0.0);

    // Neware has separate `Chg. Cap.`/`DChg. Cap.` columns: the combined `Capacity(Ah)` stays an extra channel.
    let log = read("cyclers/neware_uio.csv");
    assert!(log.extra.iter().any(|c| c.name == "Capacity(Ah)"));
    assert!(log.charge_capacity_ah.is_some());
}
