//! Property tests: no reader panics on arbitrary or truncated input, and the CSV writer round-trips.

use crate::common;

use battsentinel_core::data::{BatteryLog, Channel, StepKind};
use battsentinel_core::io::{detect, read_bytes, read_eis_bytes, read_summary_bytes, write_csv, ReadOptions};
use proptest::prelude::*;

fn check_all(bytes: &[u8]) {
    let opts = ReadOptions::default();
    let _ = detect(bytes, None);
    let _ = detect(bytes, Some("x.lvm"));
    if let Ok(log) = read_bytes(bytes, &opts) {
        log.validate().unwrap();
        assert!(log.quality.rows_kept <= log.quality.rows_read);
        assert_eq!(log.quality.rows_kept, log.len());
        assert!(!log.is_empty());
    }
    if let Ok(s) = read_eis_bytes(bytes, &opts) {
        assert_eq!(s.frequency_hz.len(), s.z_real_ohm.len());
        assert_eq!(s.frequency_hz.len(), s.z_imag_ohm.len());
    }
    let _ = read_summary_bytes(bytes, &opts);
}

const FIXTURES: [&str; 11] = [
    "cyclers/arbin_example.csv",
    "cyclers/maccor_PredictionDiagnostics_000151_test.052",
    "cyclers/bitrode_nissanleaf_1C_discharge.csv",
    "cyclers/calce_CX2-33_timeseries.csv",
    "cyclers/arbin_severson_FastCharge_000025_CH8.csv",
    "aging/calce_CX2-33_cycle_data.csv",
    "eis/eis_biologic_PEIS.mpt",
    "eis/eis_impedancepy_exampleData.csv",
    "twin/drivecycle_US06.csv",
    "twin/pybamm_ecm_example_ocv.csv",
    "twin/enertech_1C_discharge_voltage.txt",
];

fn fixture(i: usize) -> Vec<u8> {
    static CACHE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    let all = CACHE
        .get_or_init(|| FIXTURES.iter().map(|f| std::fs::read(common::shared_data(f)).unwrap()).collect());
    all[i % FIXTURES.len()].clone()
}

#[test]
fn truncated_workbook_never_panics() {
    let b = std::fs::read(common::shared_data("cyclers/lanhe_export.xlsx")).unwrap();
    for cut in [0, 2, 100, b.len() / 10, b.len() / 2, b.len() - 1] {
        check_all(&b[..cut]);
    }
}

/// A delimited table built from header aliases and cells that are numbers, garbage, or empty.
fn table() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        "time",
        "Test_Time",
        "timestamp",
        "tiempo (min)",
        "Voltage (mV)",
        "voltaje",
        "Current(A)",
        "corriente (mA)",
        "Temperature",
        "T (K)",
        "cycle",
        "Step Type",
        "Charge_Capacity",
        "Capacity (mWh)",
        "x",
        "",
    ]);
    let cell = prop_oneof![
        any::<f64>().prop_map(|x| x.to_string()),
        (-1e4f64..1e4).prop_map(|x| format!("{x:.3}")),
        Just(String::new()),
        Just("N/A".to_string()),
        Just("CC DChg".to_string()),
        Just("2024-01-01 00:00:00".to_string()),
        Just("0d 01:02:03.5".to_string()),
        "[ -~]{0,8}",
    ];
    let delim = prop::sample::select(vec![",", ";", "\t"]);
    (
        prop::collection::vec(header, 1..6),
        prop::collection::vec(prop::collection::vec(cell, 0..7), 0..20),
        delim,
    )
        .prop_map(|(h, rows, d)| {
            let mut s = h.join(d);
            s.push('\n');
            for r in rows {
                s.push_str(&r.join(d));
                s.push('\n');
            }
            s.into_bytes()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check_all(&bytes);
    }

    #[test]
    fn random_tables_never_panic(bytes in table()) {
        check_all(&bytes);
    }

}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn truncated_fixtures_never_panic(i in 0usize..FIXTURES.len(), frac in 0.0f64..1.0) {
        let b = fixture(i);
        let cut = ((b.len() as f64) * frac) as usize;
        check_all(&b[..cut]);
    }

    #[test]
    fn corrupted_fixtures_never_panic(i in 0usize..FIXTURES.len(), pos in 0.0f64..1.0, junk in prop::collection::vec(any::<u8>(), 1..16)) {
        let mut b = fixture(i);
        let at = ((b.len() as f64) * pos) as usize;
        let end = (at + junk.len()).min(b.len());
        b.splice(at..end, junk);
        check_all(&b);
    }

    #[test]
    fn csv_round_trip(
        rows in prop::collection::vec((-1e3f64..1e3, 0.0f64..5.0, -50.0f64..50.0, prop::option::of(0u32..10), 0u8..3), 1..40),
    ) {
        let mut t = 0.0;
        let time: Vec<f64> = rows.iter().map(|r| { t += r.0.abs() + 0.001; t }).collect();
        let mut log = BatteryLog::with_time(time);
        log.voltage_v = Some(rows.iter().map(|r| r.1).collect());
        log.current_a = Some(rows.iter().map(|r| r.2).collect());
        log.cycle_index = Some(rows.iter().map(|r| r.3).collect());
        log.step_kind = Some(rows.iter().map(|r| [Some(StepKind::Charge), Some(StepKind::Discharge), None][r.4 as usize]).collect());
        log.temperatures_c.push(Channel::new("TC 1", "°C", rows.iter().map(|r| r.1 * 10.0).collect()));
        log.extra.push(Channel::new("dV/dt", "V/s", rows.iter().map(|r| if r.4 == 2 { f64::NAN } else { r.2 }).collect()));
        let mut out = Vec::new();
        write_csv(&log, &mut out).unwrap();
        let back = read_bytes(&out, &ReadOptions::default()).unwrap();
        prop_assert_eq!(&back.time_s, &log.time_s);
        prop_assert_eq!(&back.voltage_v, &log.voltage_v);
        prop_assert_eq!(&back.current_a, &log.current_a);
        prop_assert_eq!(&back.cycle_index, &log.cycle_index);
        prop_assert_eq!(&back.step_kind, &log.step_kind);
        prop_assert_eq!(&back.temperatures_c, &log.temperatures_c);
        prop_assert_eq!(back.extra.len(), 1);
        prop_assert_eq!(&back.extra[0].name, "dV/dt");
        prop_assert_eq!(&back.extra[0].unit, "V/s");
        for (a, b) in back.extra[0].values.iter().zip(&log.extra[0].values) {
            prop_assert!(a == b || a.is_nan() && b.is_nan());
        }
    }
}
