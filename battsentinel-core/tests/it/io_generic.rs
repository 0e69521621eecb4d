//! The generic reader: delimiters, decimal comma, encodings, preambles, aliases in English and Spanish,
//! units, the old system's files, overrides, quality report and errors.

use approx::assert_abs_diff_eq;
use battsentinel_core::data::StepKind;
use battsentinel_core::io::{read_bytes, CurrentSign, Format, MappingOverride, ReadOptions};

fn read(b: &[u8]) -> battsentinel_core::data::BatteryLog {
    let log = read_bytes(b, &ReadOptions::default()).unwrap();
    log.validate().unwrap();
    log
}

#[test]
fn old_system_timestamp_voltage() {
    let log = read(
        b"timestamp,voltage\n2024-03-01 10:00:00,3.91\n2024-03-01 10:00:30,3.90\n2024-03-01 10:01:00,3.89\n",
    );
    assert_eq!(log.meta.format, "generic");
    assert_eq!(log.time_s, vec![0.0, 30.0, 60.0]);
    assert_eq!(log.start_time.unwrap().to_string(), "2024-03-01 10:00:00");
    assert_eq!(log.voltage_v.unwrap(), vec![3.91, 3.90, 3.89]);
    let log = read(b"timestamp,voltage,current,temperature\n2024-03-01T10:00:00Z,3.91,2.0,25.1\n2024-03-01T10:00:01Z,3.90,2.0,25.2\n");
    assert_eq!(log.temperature_c().unwrap(), &[25.1, 25.2]);
    assert_eq!(log.current_a.unwrap(), vec![2.0, 2.0]);
}

#[test]
fn spanish_headers_decimal_comma_semicolon() {
    let log = read("Tiempo (h);Tensión (mV);Corriente (mA);Temperatura (°F);Ciclo;Capacidad de descarga (mAh)\n0;3700,5;-1000;77;1;0\n0,5;3600,0;-1000;78,8;1;500\n".as_bytes());
    assert_eq!(log.time_s, vec![0.0, 1800.0]);
    assert_abs_diff_eq!(log.voltage_v.as_ref().unwrap()[0], 3.7005, epsilon = 1e-12);
    assert_abs_diff_eq!(log.temperature_c().unwrap()[0], 25.0, epsilon = 1e-12);
    assert_abs_diff_eq!(log.temperature_c().unwrap()[1], 26.0, epsilon = 1e-12);
    assert_eq!(log.cycle_index.unwrap(), vec![Some(1), Some(1)]);
    assert_abs_diff_eq!(log.discharge_capacity_ah.unwrap()[1], 0.5, epsilon = 1e-12);
    assert_eq!(log.meta.info.get("decimal_separator").map(String::as_str), Some(","));
}

#[test]
fn latin1_and_bom() {
    let mut b = b"time (s)\tTemp (\xB0C)\tU (V)\n0\t25.0\t3.7\n1\t25.5\t3.6\n".to_vec();
    let log = read(&b);
    assert_eq!(log.temperatures_c[0].name, "Temp");
    assert_eq!(log.meta.info.get("encoding").map(String::as_str), Some("ISO-8859-1"));
    assert_eq!(log.voltage_v.unwrap(), vec![3.7, 3.6]);
    b = "\u{feff}time,voltage\n0,3.7\n1,3.6\n".as_bytes().to_vec();
    assert_eq!(read(&b).time_s, vec![0.0, 1.0]);
    let e = read_bytes(b"\xFF\xFEt\x00", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "encoding");
}

#[test]
fn preamble_and_header_detection() {
    let log = read(
        b"Cell: NMC-01\nOperator: ana\n\ntime (min),voltage (V),current (A)\n0,4.1,1\n1,4.0,1\n2,3.9,1\n",
    );
    assert_eq!(log.meta.info.get("Cell").map(String::as_str), Some("NMC-01"));
    assert_eq!(log.time_s, vec![0.0, 60.0, 120.0]);
    // Voltage falls while current is positive: discharge positive, kept.
    assert_eq!(log.current_a.unwrap(), vec![1.0, 1.0, 1.0]);
    assert!(log.meta.current_sign.contains("kept"));
}

#[test]
fn current_sign_inferred_from_step_kind_and_voltage() {
    let log = read(b"time,voltage,current,state\n0,3.6,2,Charge\n1,3.7,2,Charge\n2,3.6,-2,Discharge\n");
    assert_eq!(log.current_a.unwrap(), vec![-2.0, -2.0, 2.0]);
    assert_eq!(log.step_kind.unwrap()[2], Some(StepKind::Discharge));
    let log = read(b"time,voltage,current\n0,3.6,2\n1,3.7,2\n2,3.8,2\n");
    assert_eq!(log.current_a.unwrap(), vec![-2.0, -2.0, -2.0]);
    let opts = ReadOptions { current_sign: Some(CurrentSign::DischargePositive), ..Default::default() };
    let log = read_bytes(b"time,voltage,current\n0,3.6,2\n1,3.7,2\n2,3.8,2\n", &opts).unwrap();
    assert_eq!(log.current_a.unwrap(), vec![2.0, 2.0, 2.0]);
}

#[test]
fn quality_report_groups_and_never_drops_silently() {
    let mut s = String::from("time,voltage,temperature\n");
    for i in 0..6000 {
        s.push_str(&format!("{i},3.7,-2500\n"));
    }
    s.push_str("oops,3.7,25\n");
    s.push_str("6000,abc,25\n");
    s.push_str("5999,3.7,25\n");
    s.push_str("5999,3.7,25\n");
    let log = read(s.as_bytes());
    let q = &log.quality;
    assert_eq!(q.rows_read, 6004);
    assert_eq!(q.rows_kept, 6003);
    let by = |c: &str| q.issues.iter().find(|i| i.code == c).unwrap();
    assert_eq!(by("disconnected_sensor").count, 6000);
    assert_eq!(by("unparseable").count, 1);
    assert_eq!(by("unparseable").first_line, 6002);
    assert_eq!(by("unparseable").action, "dropped_row");
    let bad_v = q.issues.iter().find(|i| i.code == "unparseable" && i.action == "set_missing").unwrap();
    assert_eq!(bad_v.column.as_deref(), Some("voltage"));
    assert_eq!(bad_v.first_line, 6003);
    assert_eq!(by("time_backwards").count, 1);
    assert_eq!(by("time_duplicate").count, 1);
    assert!(log.voltage_v.unwrap()[6000].is_nan());
    // Strict mode: the first bad cell is an error with line and column.
    let opts = ReadOptions { strict: true, ..Default::default() };
    match read_bytes(s.as_bytes(), &opts).unwrap_err() {
        battsentinel_core::io::ParseError::BadValue { line, column, value, .. } => {
            assert_eq!((line, column.as_str(), value.as_str()), (6002, "time", "oops"));
        }
        e => panic!("{e}"),
    }
}

#[test]
fn nothing_readable_is_an_error() {
    let e = read_bytes(b"time,voltage\nx,1\ny,2\nz,3\n", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "bad_value");
    let e = read_bytes(b"time,voltage\n", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "empty");
    let e = read_bytes(b"", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "empty");
    let e = read_bytes(b"voltage,current\n3.7,1\n3.6,1\n3.5,1\n", &ReadOptions::default()).unwrap_err();
    assert_eq!(e.code(), "not_a_time_series");
    let opts = ReadOptions { sample_interval_s: Some(0.5), ..Default::default() };
    let log = read_bytes(b"voltage,current\n3.7,1\n3.6,1\n3.5,1\n", &opts).unwrap();
    assert_eq!(log.time_s, vec![0.0, 0.5, 1.0]);
}

#[test]
fn explicit_mapping_overrides_detection() {
    let opts = ReadOptions {
        mapping: vec![
            MappingOverride::new("col A", "time_s", Some("min")),
            MappingOverride::new("col B", "voltage_v", Some("mV")),
            MappingOverride::new("col C", "temperature:cell", Some("K")),
        ],
        ..Default::default()
    };
    let log = read_bytes(b"col A,col B,col C\n0,3700,300\n1,3690,301\n", &opts).unwrap();
    assert_eq!(log.time_s, vec![0.0, 60.0]);
    assert_eq!(log.voltage_v.unwrap(), vec![3.7, 3.69]);
    assert_eq!(log.temperatures_c[0].name, "cell");
    assert_abs_diff_eq!(log.temperatures_c[0].values[0], 26.85, epsilon = 1e-9);
    let bad =
        ReadOptions { mapping: vec![MappingOverride::new("col A", "bogus", None)], ..Default::default() };
    assert_eq!(read_bytes(b"col A,col B\n0,1\n1,2\n", &bad).unwrap_err().code(), "invalid_param");
}

#[test]
fn forced_format_and_duplicate_headers_and_trailing_comma() {
    let opts = ReadOptions { format: Some(Format::Generic), ..Default::default() };
    let log = read_bytes(b"time,voltage,x,x,\n0,3.7,1,2,\n1,3.6,1,2,\n", &opts).unwrap();
    assert!(log.channel("x").is_some() && log.channel("x (2)").is_some());
    assert_eq!(log.extra.len(), 2);
}

#[test]
fn durations_and_short_rows() {
    let log =
        read(b"Test Time,Voltage(V),Current(A)\n0d 00:00:00,3.7,1\n0d 00:01:00.5,3.6\n1d 00:00:00,3.5,1\n");
    assert_eq!(log.time_s, vec![0.0, 60.5, 86_400.0]);
    assert!(log.current_a.as_ref().unwrap()[1].is_nan());
    assert_eq!(log.quality.issues.iter().find(|i| i.code == "short_row").unwrap().count, 1);
}
