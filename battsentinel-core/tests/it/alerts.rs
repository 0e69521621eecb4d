//! Integration tests of the alert engine: known crossing times, persistence, hysteresis, cooldown, dedup
//! and escalation, streaming ≡ batch, idempotence, bounded memory, malformed files, the default rules on
//! synthetic traces (thermal-runaway precursor, disconnected thermocouples) and the lifecycle.

use battsentinel_core::alerts::{
    evaluate, AlertBook, AlertEngine, AlertEvent, AlertEventKind, AlertStatus, Category, Chemistry,
    EngineParams, MemorySink, Outbox, RuleError, RuleSet, Sample, Severity,
};
use battsentinel_core::{BatteryLog, Channel};
use proptest::prelude::*;

fn kinds(ev: &[AlertEvent]) -> Vec<(AlertEventKind, &str, f64)> {
    ev.iter().map(|e| (e.kind, e.rule_id.as_str(), e.t_s)).collect()
}

fn stream(engine: &mut AlertEngine, rows: &[(f64, Vec<f64>)]) -> Vec<AlertEvent> {
    let mut out = Vec::new();
    for (t, v) in rows {
        out.extend(engine.push(&Sample { t_s: *t, values: v }));
    }
    out
}

const OV: &str = r#"
[[rule]]
id = "ov"
severity = "critical"
for_s = 3
clear_for_s = 2
when = { above = { signal = "voltage_v", threshold = 4.2, clear = 4.1 } }
"#;

fn voltage_log(t: &[f64], v: &[f64]) -> BatteryLog {
    let mut log = BatteryLog::with_time(t.to_vec());
    log.voltage_v = Some(v.to_vec());
    log
}

#[test]
fn ramp_crossing_times_are_exact() {
    // V(t) = 4.005 + 0.01 t for t ≤ 40 s (crosses 4.2 V at t = 19.5 s), then falls 0.01 V/s (reaches
    // 4.1 V at t = 70.5 s). 1 s sampling. Raise at the first sample above 4.2 (t = 20) + for_s 3 = 23;
    // clear at the first sample ≤ 4.1 (t = 71) held for clear_for_s 2 → t = 73.
    let t: Vec<f64> = (0..=100).map(f64::from).collect();
    let v: Vec<f64> =
        t.iter().map(|&t| if t <= 40.0 { 4.005 + 0.01 * t } else { 4.405 - 0.01 * (t - 40.0) }).collect();
    let rules = RuleSet::from_toml_str(OV).unwrap();
    let ev = evaluate(&rules, &voltage_log(&t, &v), EngineParams::default()).unwrap();
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "ov", 23.0), (AlertEventKind::Cleared, "ov", 73.0)]);
    assert_eq!(ev[0].onset_t_s, 20.0);
    approx::assert_abs_diff_eq!(ev[0].values[0].value.unwrap(), 4.235, epsilon = 1e-12);
    approx::assert_abs_diff_eq!(ev[1].values[0].value.unwrap(), 4.075, epsilon = 1e-12);
    assert_eq!(ev[0].values[0].name, "voltage_v");
    assert_eq!(ev[0].alert_id, ev[1].alert_id);
}

#[test]
fn a_spike_shorter_than_the_persistence_never_raises() {
    let t: Vec<f64> = (0..20).map(f64::from).collect();
    let v: Vec<f64> = t.iter().map(|&t| if (5.0..8.0).contains(&t) { 4.3 } else { 4.0 }).collect();
    // above for t = 5, 6, 7: 7 − 5 = 2 s < for_s = 3
    let rules = RuleSet::from_toml_str(OV).unwrap();
    assert!(evaluate(&rules, &voltage_log(&t, &v), EngineParams::default()).unwrap().is_empty());
}

#[test]
fn missing_values_hold_timers_instead_of_clearing() {
    let t: Vec<f64> = (0..12).map(f64::from).collect();
    let mut v = vec![4.3; 12];
    v[2] = f64::NAN; // unknown in the middle of the episode: neither resets nor clears
    v[10] = 4.0;
    v[11] = 4.0;
    let rules = RuleSet::from_toml_str(OV).unwrap();
    let ev = evaluate(&rules, &voltage_log(&t, &v), EngineParams::default()).unwrap();
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "ov", 3.0)]);
}

#[test]
fn out_of_order_duplicates_and_gaps_follow_the_documented_policy() {
    let rules = RuleSet::from_toml_str(
        r#"
[[rule]]
id = "mean_high"
severity = "warning"
when = { above = { signal = "x", window = { agg = "mean", seconds = 10 }, threshold = 5 } }
"#,
    )
    .unwrap();
    let mut e =
        AlertEngine::new(&rules, &["x".to_string()], EngineParams::default().max_gap_s(30.0)).unwrap();
    let mut rows: Vec<(f64, Vec<f64>)> = (0..=10).map(|i| (f64::from(i), vec![10.0])).collect();
    rows.push((10.0, vec![-1000.0])); // duplicate time: dropped, first wins
    rows.push((9.5, vec![-1000.0])); // out of order: dropped
    rows.push((f64::NAN, vec![-1000.0])); // invalid time: dropped
    let ev = stream(&mut e, &rows);
    // The 10 s window is covered at t = 10: the mean is 10 > 5.
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "mean_high", 10.0)]);
    let s = e.stats();
    assert_eq!((s.samples, s.duplicates, s.out_of_order, s.invalid_time), (11, 1, 1, 1));
    // A gap (100 s > 30 s) restarts the window: unknown for the next 10 s, so no clear even on low values.
    let after: Vec<(f64, Vec<f64>)> = (0..10).map(|i| (110.0 + f64::from(i), vec![0.0])).collect();
    assert!(stream(&mut e, &after).is_empty());
    assert_eq!(e.stats().gaps, 1);
    // Covered again at t = 120: the mean of zeros clears the alert.
    let ev = stream(&mut e, &[(120.0, vec![0.0])]);
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Cleared, "mean_high", 120.0)]);
}

#[test]
fn rate_window_measures_slope() {
    let rules = RuleSet::from_toml_str(
        r#"
[[rule]]
id = "fast"
severity = "warning"
when = { above = { signal = "temperature_c:*", across = "max", window = { agg = "rate", seconds = 60, per_s = 60 }, threshold = 2.01 } }
"#,
    )
    .unwrap();
    // 1 K/min for 120 s, then 3 K/min. Sampling 1 s.
    let t: Vec<f64> = (0..=300).map(f64::from).collect();
    let temp: Vec<f64> = t
        .iter()
        .map(|&t| if t <= 120.0 { 25.0 + t / 60.0 } else { 27.0 + 3.0 * (t - 120.0) / 60.0 })
        .collect();
    let mut log = BatteryLog::with_time(t);
    log.temperatures_c.push(Channel::new("TC1", "°C", temp));
    let ev = evaluate(&rules, &log, EngineParams::default()).unwrap();
    // Window [t−60, t] with t0 = t − 60: rate = (3 s' + 1 (60 − s'))/60 K/min where s' = t − 120.
    // > 2.01 K/min ⇔ s' > 30.3 → first sample t = 151 (s' = 31).
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "fast", 151.0)]);
    let r = ev[0].values[0].value.unwrap();
    approx::assert_abs_diff_eq!(r, (3.0 * 31.0 + 29.0) / 60.0, epsilon = 1e-9);
    assert_eq!(ev[0].values[0].name, "rate[60s, per 60s](max(temperature_c:*))");
}

#[test]
fn many_rules_on_one_sample_all_fire_in_rule_order() {
    let mut text = String::new();
    for i in 0..25 {
        text.push_str(&format!(
            "[[rule]]\nid = \"r{i:02}\"\nseverity = \"info\"\nwhen = {{ above = {{ signal = \"x\", threshold = {} }} }}\n",
            f64::from(i) * 0.1
        ));
    }
    let rules = RuleSet::from_toml_str(&text).unwrap();
    let mut e = AlertEngine::new(&rules, &["x".to_string()], EngineParams::default()).unwrap();
    let ev = e.push(&Sample { t_s: 0.0, values: &[10.0] });
    assert_eq!(ev.len(), 25);
    assert!(ev.windows(2).all(|w| w[0].rule_id < w[1].rule_id && w[0].alert_id + 1 == w[1].alert_id));
    let ev = e.push(&Sample { t_s: 1.0, values: &[-1.0] });
    assert_eq!(ev.len(), 25);
    assert!(ev.iter().all(|e| e.kind == AlertEventKind::Cleared));
}

#[test]
fn dedup_key_merges_and_escalates_soh() {
    let rules = RuleSet::default_li_ion(Chemistry::Nmc);
    let t: Vec<f64> = (0..8).map(|i| f64::from(i) * 86_400.0).collect();
    let soh = vec![0.9, 0.82, 0.79, 0.75, 0.69, 0.68, 0.72, 0.85];
    let mut log = BatteryLog::with_time(t);
    log.extra.push(Channel::new("soh", "", soh));
    let ev = evaluate(&rules, &log, EngineParams::default().max_gap_s(2.0 * 86_400.0)).unwrap();
    let got: Vec<_> = ev.iter().map(|e| (e.kind, e.rule_id.as_str(), e.t_s / 86_400.0, e.severity)).collect();
    assert_eq!(
        got,
        vec![
            (AlertEventKind::Raised, "soh_below_80", 2.0, Severity::Warning),
            (AlertEventKind::Escalated, "soh_below_70", 4.0, Severity::Critical),
            (AlertEventKind::Cleared, "soh_below_80", 7.0, Severity::Critical),
        ]
    );
    assert!(ev.iter().all(|e| e.dedup_key == "soh_low" && e.alert_id == 1));
}

#[test]
fn time_based_escalation() {
    let rules = RuleSet::default_li_ion(Chemistry::Nmc);
    // 8 A discharge (> 7.275 A) for 100 s: raised after 10 s as warning, critical 60 s later.
    let t: Vec<f64> = (0..=120).map(f64::from).collect();
    let i: Vec<f64> = t.iter().map(|&t| if (10.0..110.0).contains(&t) { 8.0 } else { 1.0 }).collect();
    let mut log = BatteryLog::with_time(t);
    log.current_a = Some(i);
    let ev = evaluate(&rules, &log, EngineParams::default()).unwrap();
    let got: Vec<_> = ev.iter().map(|e| (e.kind, e.t_s, e.severity)).collect();
    assert_eq!(
        got,
        vec![
            (AlertEventKind::Raised, 20.0, Severity::Warning),
            (AlertEventKind::Escalated, 80.0, Severity::Critical),
            (AlertEventKind::Cleared, 110.0, Severity::Critical),
        ]
    );
}

#[test]
fn cooldown_defers_and_counts_instead_of_losing() {
    let rules = RuleSet::from_toml_str(
        r#"
[[rule]]
id = "hi"
severity = "warning"
cooldown_s = 10
when = { above = { signal = "x", threshold = 1 } }
"#,
    )
    .unwrap();
    let mut e = AlertEngine::new(&rules, &["x".to_string()], EngineParams::default()).unwrap();
    // episode 1: t 0–1; cleared at 2. Episode 2 (t 4) inside cooldown, ends at 5: merged.
    // Episode 3 starts at 8, still true at 12 = 2 + 10: raised then, reporting 1 merged episode.
    let xs = [2.0, 2.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 2.0, 2.0, 2.0, 2.0, 2.0, 0.0];
    let rows: Vec<(f64, Vec<f64>)> = xs.iter().enumerate().map(|(i, &x)| (i as f64, vec![x])).collect();
    let ev = stream(&mut e, &rows);
    let got: Vec<_> = ev.iter().map(|e| (e.kind, e.t_s, e.onset_t_s, e.suppressed_episodes)).collect();
    assert_eq!(
        got,
        vec![
            (AlertEventKind::Raised, 0.0, 0.0, 0),
            (AlertEventKind::Cleared, 2.0, 0.0, 0),
            (AlertEventKind::Raised, 12.0, 8.0, 1),
            (AlertEventKind::Cleared, 13.0, 8.0, 0),
        ]
    );
}

#[test]
fn scope_selects_rules_by_battery_and_tags() {
    let rules = RuleSet::from_toml_str(
        r#"
[[rule]]
id = "all"
severity = "info"
when = { above = { signal = "x", threshold = 0 } }
[[rule]]
id = "pack_a_only"
severity = "info"
scope = { batteries = ["pack-a/*"] }
when = { above = { signal = "x", threshold = 0 } }
[[rule]]
id = "lfp_only"
severity = "info"
scope = { tags = ["lfp"] }
when = { above = { signal = "x", threshold = 0 } }
"#,
    )
    .unwrap();
    let sig = ["x".to_string()];
    let e = AlertEngine::new(&rules, &sig, EngineParams::default().battery_id("pack-a/cell-3")).unwrap();
    assert_eq!(e.rule_ids(), vec!["all", "pack_a_only"]);
    let e = AlertEngine::new(&rules, &sig, EngineParams::default().battery_id("b").tags(["lfp"])).unwrap();
    assert_eq!(e.rule_ids(), vec!["all", "lfp_only"]);
    let e = AlertEngine::new(&rules, &sig, EngineParams::default()).unwrap();
    assert_eq!(e.rule_ids(), vec!["all"]);
}

#[test]
fn malformed_files_give_typed_errors_naming_rule_and_field() {
    let bad_type = r#"
[[rule]]
id = "ok"
severity = "info"
when = { above = { signal = "x", threshold = 1 } }
[[rule]]
id = "broken"
severity = "warning"
when = { all = [ { above = { signal = "x", threshold = 1 } }, { below = { signal = "y", treshold = 2 } } ] }
"#;
    let e = RuleSet::from_toml_str(bad_type).unwrap_err();
    assert_eq!(e.code(), "rule_field");
    assert_eq!(e.rule(), Some("broken"));
    assert_eq!(e.field(), Some("when.all[1].below.treshold"));
    assert!(e.to_string().contains("treshold"), "{e}");

    let bad_clear = "[[rule]]\nid = \"h\"\nseverity = \"info\"\nwhen = { above = { signal = \"x\", threshold = 1, clear = 2 } }";
    let e = RuleSet::from_toml_str(bad_clear).unwrap_err();
    assert!(
        matches!(&e, RuleError::Invalid { rule, field, .. } if rule == "h" && field == "when.above.clear"),
        "{e:?}"
    );

    let bad_param = "[[rule]]\nid = \"p\"\nseverity = \"info\"\nwhen = { below = { signal = \"x\", threshold = \"$nope\" } }";
    let e = RuleSet::from_toml_str(bad_param).unwrap_err();
    assert_eq!(
        e,
        RuleError::UnknownParam {
            rule: "p".into(),
            field: "when.below.threshold".into(),
            param: "nope".into()
        }
    );

    let dup =
        "[[rule]]\nid = \"d\"\nseverity = \"info\"\nwhen = { missing = { signal = \"x\" } }\n".repeat(2);
    assert_eq!(RuleSet::from_toml_str(&dup).unwrap_err().code(), "rule_duplicate_id");

    let bad_sev = "[[rule]]\nid = \"s\"\nseverity = \"fatal\"\nwhen = { missing = { signal = \"x\" } }";
    let e = RuleSet::from_toml_str(bad_sev).unwrap_err();
    assert_eq!((e.rule(), e.field()), (Some("s"), Some("severity")));

    let no_id = "[[rule]]\nseverity = \"info\"\nwhen = { missing = { signal = \"x\" } }";
    let e = RuleSet::from_toml_str(no_id).unwrap_err();
    assert_eq!(e.rule(), Some("#0"));

    let syntax = "[[rule]]\nid = \"x\"\nseverity = ";
    let e = RuleSet::from_toml_str(syntax).unwrap_err();
    assert!(matches!(e, RuleError::Syntax { format: "toml", line: 3, .. }), "{e:?}");

    let json =
        r#"{"rule": [{"id": "j", "severity": "info", "for_s": -1, "when": {"missing": {"signal": "x"}}}]}"#;
    let e = RuleSet::from_json_str(json).unwrap_err();
    assert!(matches!(&e, RuleError::Invalid { rule, field, .. } if rule == "j" && field == "for_s"), "{e:?}");

    let pattern = "[[rule]]\nid = \"q\"\nseverity = \"info\"\nwhen = { above = { signal = \"cell_v:*\", threshold = 1 } }";
    let e = RuleSet::from_toml_str(pattern).unwrap_err();
    assert_eq!((e.rule(), e.field()), (Some("q"), Some("when.above.across")));

    let mut deep = String::from("{ missing = { signal = \"x\" } }");
    for _ in 0..10 {
        deep = format!("{{ not = {deep} }}");
    }
    let e = RuleSet::from_toml_str(&format!("[[rule]]\nid = \"deep\"\nseverity = \"info\"\nwhen = {deep}"))
        .unwrap_err();
    assert_eq!(e.code(), "rule_too_complex");
}

/// A lumped thermal model of a 21700 cell (the "twin" of this test): m·c·dT/dt = I²R + Q_isc + Q_sh(T)
/// − hA (T − T_amb), explicit Euler at 1 s. At t = 600 s an internal short (2 Ω across ≈ 3.7 V) starts;
/// the exothermic self-heating Q_sh = 0.02 W · exp((T − 45 °C)/8 K) accelerates it.
fn runaway_trace() -> BatteryLog {
    let (m_c, h_a, r_ohm, t_amb, i_a) = (70.0, 0.1, 0.03, 45.0, 2.5);
    let mut temp = 45.0_f64;
    let (mut ts, mut tc, mut vs, mut is) = (vec![], vec![], vec![], vec![]);
    for k in 0..1500 {
        let t = f64::from(k);
        let v = 3.9 - 1e-4 * t;
        ts.push(t);
        tc.push(temp);
        vs.push(v);
        is.push(i_a);
        let q_isc = if t >= 600.0 { v * v / 2.0 } else { 0.0 };
        let q_sh = 0.02 * ((temp - 45.0) / 8.0).exp();
        temp += (i_a * i_a * r_ohm + q_isc + q_sh - h_a * (temp - t_amb)) / m_c;
        temp = temp.min(400.0);
    }
    let mut log = BatteryLog::with_time(ts);
    log.voltage_v = Some(vs);
    log.current_a = Some(is);
    log.temperatures_c.push(Channel::new("TC1", "°C", tc));
    log
}

#[test]
fn runaway_precursor_fires_before_over_temperature() {
    let rules = RuleSet::default_li_ion(Chemistry::Nmc);
    let log = runaway_trace();
    let ev = evaluate(&rules, &log, EngineParams::default()).unwrap();
    let first =
        |id: &str| ev.iter().find(|e| e.rule_id == id && e.kind != AlertEventKind::Cleared).map(|e| e.t_s);
    let pre = first("thermal_runaway_precursor").unwrap();
    let warn = first("cell_temperature_high").unwrap();
    let crit = first("cell_over_temperature").unwrap();
    assert!(pre < warn && warn < crit, "precursor {pre}, high {warn}, over {crit}");
    assert!(pre > 600.0 && pre < 660.0, "{pre}");
    // The precursor fires while the cell is still under the 55 °C warning level.
    let t_at = log.temperatures_c[0].values[pre as usize];
    assert!((45.0..55.0).contains(&t_at), "{t_at}");
    // Over-temperature is one alert that escalates: raised as warning, escalated to critical.
    let ot: Vec<_> = ev.iter().filter(|e| e.dedup_key == "cell_over_temperature").map(|e| e.kind).collect();
    assert_eq!(ot, vec![AlertEventKind::Raised, AlertEventKind::Escalated]);
    insta::assert_json_snapshot!("runaway_trace_events", ev);
}

/// Two disconnected thermocouples (≈ −2 500 °C, as in the Maccor LG M50 file) during a 0 °C charge: one
/// sensor alert, no cell temperature alert (charging "below 0 °C" must not fire on −2 500 °C).
#[test]
fn disconnected_thermocouples_are_sensor_faults_not_cell_faults() {
    let n = 3600;
    let t: Vec<f64> = (0..n).map(|k| f64::from(k) * 5.0).collect();
    let tc1: Vec<f64> = (0..n).map(|k| -2501.7 + 0.13 * f64::from(k % 3)).collect();
    let tc2: Vec<f64> = (0..n).map(|k| -2526.1 - 0.2 * f64::from(k % 2)).collect();
    let mut log = BatteryLog::with_time(t);
    log.voltage_v = Some((0..n).map(|k| 3.5 + 0.6 * f64::from(k) / f64::from(n)).collect());
    log.current_a = Some(vec![-2.5; n as usize]); // charging
    log.temperatures_c.push(Channel::new("Aux #1", "°C", tc1));
    log.temperatures_c.push(Channel::new("Aux #2", "°C", tc2));
    let ev = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "thermocouple_disconnected", 10.0)]);
    assert_eq!(ev[0].category, Category::Sensor);
    assert_eq!(ev[0].values[0].name, "min(temperature_c:*, raw)");
    approx::assert_abs_diff_eq!(ev[0].values[0].value.unwrap(), -2526.1, epsilon = 1e-9);
}

#[test]
fn missing_thermocouple_values_are_a_sensor_fault_too() {
    let t: Vec<f64> = (0..60).map(f64::from).collect();
    let mut log = BatteryLog::with_time(t);
    log.temperatures_c.push(Channel::new("TC1", "°C", vec![f64::NAN; 60]));
    let ev = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "thermocouple_disconnected", 10.0)]);
}

#[test]
fn stuck_voltage_under_load_is_a_sensor_fault() {
    let t: Vec<f64> = (0..=400).map(f64::from).collect();
    let mut log = BatteryLog::with_time(t.clone());
    log.voltage_v = Some(t.iter().map(|&t| if t < 50.0 { 3.9 - 1e-4 * t } else { 3.895 }).collect());
    log.current_a = Some(vec![2.0; t.len()]);
    let ev = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    // Frozen from t = 50: the 300 s range is 0 once the window starts at 50 → t = 350.
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "voltage_sensor_stuck", 350.0)]);
}

#[test]
fn one_stuck_thermocouple_among_moving_ones_is_found_per_channel() {
    // 1 h at 1 Hz under a 2 A discharge: TC1 and TC3 warm up, TC2 freezes at 31.25 °C from t = 600 s.
    let n = 3601;
    let t: Vec<f64> = (0..n).map(f64::from).collect();
    let warm = |t: f64| 25.0 + 10.0 * (1.0 - (-t / 1500.0).exp());
    let mut log = BatteryLog::with_time(t.clone());
    log.voltage_v = Some(t.iter().map(|&t| 4.1 - 2e-4 * t).collect());
    log.current_a = Some(vec![2.0; n as usize]);
    log.temperatures_c.push(Channel::new("TC1", "°C", t.iter().map(|&t| warm(t)).collect()));
    log.temperatures_c.push(Channel::new(
        "TC2",
        "°C",
        t.iter().map(|&t| if t < 600.0 { warm(t) } else { 31.25 }).collect(),
    ));
    log.temperatures_c.push(Channel::new("TC3", "°C", t.iter().map(|&t| warm(t) + 0.5).collect()));
    let ev = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    // Frozen from t = 600: the 1 800 s range is 0 once the window starts at 600 → t = 2 400.
    assert_eq!(kinds(&ev), vec![(AlertEventKind::Raised, "temperature_sensor_stuck", 2400.0)]);
    assert_eq!(ev[0].dedup_key, "temperature_sensor_stuck@temperature_c:TC2");
    assert_eq!(ev[0].values[0].name, "range[1800s](temperature_c:TC2)");
    assert_eq!(ev[0].values[0].value, Some(0.0));
}

#[test]
fn per_channel_must_name_a_pattern_of_the_condition() {
    let bad = r#"
[[rule]]
id = "stuck"
severity = "warning"
per_channel = "voltage_v*"
when = { below = { signal = "temperature_c:*", threshold = 0 } }
"#;
    let err = RuleSet::from_toml_str(bad).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("stuck") && msg.contains("per_channel"), "{msg}");
}

#[test]
fn twin_residual_and_pack_imbalance() {
    let t: Vec<f64> = (0..200).map(f64::from).collect();
    let mut log = BatteryLog::with_time(t.clone());
    log.voltage_v = Some(vec![3.7; 200]);
    log.extra.push(Channel::new(
        "twin_voltage_v",
        "V",
        t.iter().map(|&t| if t >= 50.0 { 3.62 } else { 3.69 }).collect(),
    ));
    log.extra.push(Channel::new("cell_v:1", "V", vec![3.70; 200]));
    log.extra.push(Channel::new(
        "cell_v:2",
        "V",
        t.iter().map(|&t| if t >= 20.0 { 3.58 } else { 3.69 }).collect(),
    ));
    let ev = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    // residual 0.08 V > 0.05 from t = 50, for 30 s → 80; spread 0.12 V > 0.10 from t = 20, for 60 s → 80.
    assert_eq!(
        kinds(&ev),
        vec![
            (AlertEventKind::Raised, "twin_residual_high", 80.0),
            (AlertEventKind::Raised, "pack_imbalance", 80.0)
        ]
    );
    assert_eq!(ev[0].values[0].name, "|voltage_v - twin_voltage_v|");
    approx::assert_abs_diff_eq!(ev[1].values[0].value.unwrap(), 0.12, epsilon = 1e-12);
}

#[test]
fn lfp_profile_uses_lfp_limits() {
    let t = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
    let v = [3.5, 3.72, 3.72, 3.72, 3.6, 3.6];
    let log = voltage_log(&t, &v);
    let nmc = evaluate(&RuleSet::default_li_ion(Chemistry::Nmc), &log, EngineParams::default()).unwrap();
    let lfp = evaluate(&RuleSet::default_li_ion(Chemistry::Lfp), &log, EngineParams::default()).unwrap();
    assert!(nmc.is_empty());
    assert_eq!(
        kinds(&lfp),
        vec![
            (AlertEventKind::Raised, "cell_over_voltage", 3.0),
            (AlertEventKind::Cleared, "cell_over_voltage", 4.0)
        ]
    );
}

#[test]
fn lifecycle_and_outbox() {
    let rules = RuleSet::from_toml_str(OV).unwrap();
    let t: Vec<f64> = (0..30).map(f64::from).collect();
    let v: Vec<f64> = t.iter().map(|&t| if (5.0..15.0).contains(&t) { 4.3 } else { 4.0 }).collect();
    let ev = evaluate(&rules, &voltage_log(&t, &v), EngineParams::default().battery_id("c1")).unwrap();
    let mut book = AlertBook::default();
    book.apply(&ev[0]).unwrap();
    assert_eq!(book.alerts()[0].status(), AlertStatus::Raised);
    book.mark_read(Some("c1"), 1, 9.0).unwrap();
    book.acknowledge(Some("c1"), 1, 10.0, "ops").unwrap();
    assert_eq!(book.alerts()[0].status(), AlertStatus::Acknowledged);
    book.apply(&ev[1]).unwrap();
    let a = &book.alerts()[0];
    assert_eq!(a.status(), AlertStatus::Cleared);
    assert_eq!(
        (a.raised_t_s, a.read_t_s, a.acknowledged_t_s, a.cleared_t_s),
        (8.0, Some(9.0), Some(10.0), Some(17.0))
    );
    assert_eq!(book.acknowledge(Some("c1"), 9, 1.0, "x").unwrap_err().code(), "unknown_alert");
    assert_eq!(book.apply(&ev[0]).unwrap_err().code(), "duplicate_alert");

    let mut outbox = Outbox::new(3, 1.0);
    let mut sink = MemorySink { fail_next: 2, ..MemorySink::default() };
    outbox.enqueue(ev.clone());
    assert_eq!(outbox.flush(0.0, &mut sink), 0); // fails, retry at 1
    assert_eq!(outbox.flush(0.5, &mut sink), 0); // not due
    assert_eq!(outbox.flush(1.0, &mut sink), 0); // fails, retry at 3
    assert_eq!(outbox.flush(3.0, &mut sink), 2);
    assert_eq!(sink.received, ev);
    assert_eq!(outbox.records().len(), 4);
    assert_eq!(outbox.pending(), 0);
    let mut dead = MemorySink { fail_next: 100, ..MemorySink::default() };
    outbox.enqueue(ev.clone());
    for k in 0..10 {
        outbox.flush(f64::from(k) * 10.0, &mut dead);
    }
    assert_eq!(outbox.failed(), &ev[..]);
}

// ---------------------------------------------------------------------------------------------------
// Properties

fn arb_log() -> impl Strategy<Value = BatteryLog> {
    (
        prop::collection::vec(
            (0.01f64..20.0, 2.4f64..4.4, -12.0f64..12.0, 20.0f64..90.0, 0.5f64..1.0),
            1..300,
        ),
        prop::collection::vec(0usize..300, 0..10),
    )
        .prop_map(|(rows, nan_at)| {
            let mut t = 0.0;
            let mut log = BatteryLog::with_time(Vec::new());
            let (mut v, mut i, mut tc, mut soh) = (vec![], vec![], vec![], vec![]);
            for (dt, vv, ii, tt, ss) in rows {
                // a few equal times, to exercise duplicates
                t += if dt < 0.5 { 0.0 } else { dt };
                log.time_s.push(t);
                v.push(vv);
                i.push(ii);
                tc.push(tt);
                soh.push(ss);
            }
            for k in nan_at {
                if k < v.len() {
                    v[k] = f64::NAN;
                }
            }
            log.voltage_v = Some(v);
            log.current_a = Some(i);
            log.temperatures_c.push(Channel::new("TC1", "°C", tc));
            log.extra.push(Channel::new("soh", "", soh));
            log
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Streaming the rows one by one (in arbitrary chunks) gives exactly the batch events, and
    /// re-evaluating (fresh engine or after `reset`) gives the same events again.
    #[test]
    fn streaming_equals_batch_and_is_idempotent(log in arb_log(), chunk in 1usize..50) {
        let rules = RuleSet::default_li_ion(Chemistry::Nmc);
        let params = EngineParams::default().max_gap_s(15.0);
        let batch = evaluate(&rules, &log, params.clone()).unwrap();
        let mut engine = AlertEngine::for_log(&rules, &log, params.clone()).unwrap();
        let names = engine.signals().to_vec();
        let cols: Vec<&[f64]> = names.iter().map(|n| match n.as_str() {
            "voltage_v" => log.voltage_v.as_deref().unwrap(),
            "current_a" => log.current_a.as_deref().unwrap(),
            "temperature_c:TC1" => log.temperatures_c[0].values.as_slice(),
            _ => log.extra[0].values.as_slice(),
        }).collect();
        let mut streamed = Vec::new();
        let idx: Vec<usize> = (0..log.len()).collect();
        for part in idx.chunks(chunk) {
            for &k in part {
                let row: Vec<f64> = cols.iter().map(|c| c[k]).collect();
                streamed.extend(engine.push(&Sample { t_s: log.time_s[k], values: &row }));
            }
        }
        prop_assert_eq!(&streamed, &batch);
        engine.reset();
        prop_assert_eq!(&engine.evaluate(&log), &batch);
        prop_assert_eq!(&evaluate(&rules, &log, params).unwrap(), &batch);
    }

    /// Once raised, noise strictly inside the hysteresis band (clear, threshold] never clears or re-raises.
    #[test]
    fn hysteresis_never_flaps_inside_the_band(noise in prop::collection::vec(4.1000001f64..4.2, 1..500)) {
        let rules = RuleSet::from_toml_str(OV).unwrap();
        let mut e = AlertEngine::new(&rules, &["voltage_v".to_string()], EngineParams::default()).unwrap();
        let mut ev = Vec::new();
        for k in 0..5 {
            ev.extend(e.push(&Sample { t_s: f64::from(k), values: &[4.3] }));
        }
        prop_assert_eq!(ev.len(), 1);
        for (k, x) in noise.iter().enumerate() {
            ev.extend(e.push(&Sample { t_s: 5.0 + k as f64, values: &[*x] }));
        }
        prop_assert_eq!(ev.len(), 1);
        prop_assert_eq!(e.active_keys(), vec!["ov"]);
    }

    /// No raise on a key within `cooldown_s` of its previous clear; every episode is raised or counted.
    #[test]
    fn cooldown_is_honoured_and_nothing_is_lost(xs in prop::collection::vec(prop::bool::ANY, 1..400), cooldown in 0.0f64..30.0) {
        let rules = RuleSet::from_toml_str(&format!(
            "[[rule]]\nid = \"c\"\nseverity = \"info\"\ncooldown_s = {cooldown}\nwhen = {{ above = {{ signal = \"x\", threshold = 0.5 }} }}"
        )).unwrap();
        let mut e = AlertEngine::new(&rules, &["x".to_string()], EngineParams::default()).unwrap();
        let mut ev = Vec::new();
        for (k, &b) in xs.iter().enumerate() {
            ev.extend(e.push(&Sample { t_s: k as f64, values: &[if b { 1.0 } else { 0.0 }] }));
        }
        let mut last_clear = f64::NEG_INFINITY;
        let mut raised_or_merged = 0u32;
        for ev in &ev {
            match ev.kind {
                AlertEventKind::Raised => {
                    prop_assert!(ev.t_s >= last_clear + cooldown);
                    raised_or_merged += 1 + ev.suppressed_episodes;
                }
                AlertEventKind::Cleared => last_clear = ev.t_s,
                AlertEventKind::Escalated => {}
            }
        }
        // Episodes = maximal runs of `true`. Those ending inside a cooldown and not followed by a raise are
        // still pending in the key's counter: at most the ones after the last raise.
        let episodes = xs.iter().zip(std::iter::once(&false).chain(xs.iter())).filter(|(b, prev)| **b && !**prev).count() as u32;
        prop_assert!(raised_or_merged <= episodes);
        let after_last_raise = {
            let last_raise_t = ev.iter().rev().find(|e| e.kind == AlertEventKind::Raised).map_or(-1.0, |e| e.onset_t_s);
            xs.iter().enumerate().zip(std::iter::once(&false).chain(xs.iter()))
                .filter(|((k, b), prev)| **b && !**prev && (*k as f64) > last_raise_t).count() as u32
        };
        prop_assert_eq!(raised_or_merged + after_last_raise, episodes);
    }

    /// Memory is bounded by the windows, whatever the stream length.
    #[test]
    fn memory_is_independent_of_stream_length(n in 1000usize..20000, dt in 0.5f64..5.0) {
        let rules = RuleSet::default_li_ion(Chemistry::Nmc);
        let signals: Vec<String> = ["voltage_v", "current_a", "temperature_c:TC1"].iter().map(|s| s.to_string()).collect();
        let mut e = AlertEngine::new(&rules, &signals, EngineParams::default()).unwrap();
        let mut peak = 0;
        for k in 0..n {
            let t = k as f64 * dt;
            e.push(&Sample { t_s: t, values: &[3.7 + 0.1 * (t / 100.0).sin(), 2.0, 25.0 + (t / 50.0).sin()] });
            peak = peak.max(e.buffered_samples());
        }
        // Longest default window is 1 800 s; each window holds at most 1 800/dt + 1 entries per deque.
        let per_window = (1800.0 / dt).ceil() as usize + 1;
        prop_assert!(peak <= 8 * per_window, "peak {} > {}", peak, 8 * per_window);
    }
}

// ---------------------------------------------------------------------------------------------------
// Real fixtures (read with the io readers)

use crate::common::shared_data;

/// The Maccor LG M50 0 °C validation file: 16 thermocouples read ≈ −2 500 °C (disconnected). The default
/// rules must give sensor-fault alerts, not thousands of temperature alerts (in particular no
/// "charging below 0 °C" on −2 500 °C readings).
#[test]
fn maccor_lgm50_disconnected_thermocouples_give_sensor_alerts_only() {
    let path = shared_data("cyclers/maccor_LGM50_0degC_validation.txt");
    let log =
        battsentinel_core::io::read_path(&path, &battsentinel_core::io::ReadOptions::default()).unwrap();
    assert_eq!(log.len(), 6704);
    assert_eq!(log.temperatures_c.len(), 16);
    let rules = RuleSet::default_li_ion(Chemistry::Nmc);
    let ev = evaluate(&rules, &log, EngineParams::default().battery_id("LGM50_0degC")).unwrap();
    let sensor: Vec<_> = ev.iter().filter(|e| e.category == Category::Sensor).collect();
    assert_eq!(sensor.len(), 1, "{:#?}", kinds(&ev));
    assert_eq!(
        (sensor[0].rule_id.as_str(), sensor[0].kind),
        ("thermocouple_disconnected", AlertEventKind::Raised)
    );
    // No temperature-based cell alert at all.
    let temp_rules = [
        "cell_temperature_high",
        "cell_over_temperature",
        "thermal_runaway_precursor",
        "charge_under_temperature",
        "charge_over_temperature",
    ];
    assert!(ev.iter().all(|e| !temp_rules.contains(&e.rule_id.as_str())), "{:#?}", kinds(&ev));
    // Few events in total: one per episode, no storm over 6 704 rows.
    assert!(ev.len() < 40, "{} events", ev.len());
    let trace: Vec<String> = ev
        .iter()
        .map(|e| {
            format!(
                "{:>10.1} {:<9?} {:<8} {:<7} {}",
                e.t_s,
                e.kind,
                e.severity.as_str(),
                e.category.as_str(),
                e.rule_id
            )
        })
        .collect();
    insta::assert_snapshot!("maccor_lgm50_0degC_events", trace.join("\n"));
}

// ---------------------------------------------------------------------------------------------------
// Regression: every event, with every field, on a long synthetic trace that exercises every part of the
// engine (all default rules, not/any/all, inside/outside with hysteresis, mean/max/min/range/rate windows,
// reductions across channels, differences, missing values, gaps, duplicate and out-of-order times,
// per-channel rules, cooldowns, dedup keys and escalation). The snapshot was taken before the engine's
// evaluation was rewritten for speed; any change in behaviour shows up here.

/// splitmix64: a tiny deterministic generator, uniform in [0, 1).
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
    fn sym(&mut self, a: f64) -> f64 {
        a * (2.0 * self.next() - 1.0)
    }
}

const REGRESSION_SIGNALS: [&str; 14] = [
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
    "soc",
    "fault_proba:open",
];

/// Samples of the regression trace, in stream order (with the duplicates and out-of-order samples).
fn regression_trace() -> Vec<(f64, Vec<f64>)> {
    let mut g = Mix(2024);
    let mut rows = Vec::new();
    let mut t_off = 0.0;
    for k in 0..60_000usize {
        if k == 38_000 || k == 52_000 {
            t_off += 1_000.0; // a gap longer than max_gap_s
        }
        let t = k as f64 + t_off;
        let phase = (t / 3600.0 * std::f64::consts::TAU).sin();
        let mut v = 3.7 + 0.45 * phase + g.sym(0.002);
        let mut i = 5.0 * phase.signum() + g.sym(0.5);
        if k % 7000 < 40 {
            i += 4.0;
        }
        let mut tc = 30.0 + 10.0 * phase.abs() + g.sym(0.1);
        if k % 9000 < 400 {
            tc += 0.1 * (k % 9000) as f64;
        }
        let mut tc1 = tc;
        let mut tc2 = tc - 0.5;
        match k {
            12_000..=12_099 => v = 4.3,
            14_000..=14_099 => v = 2.4,
            16_000..=16_049 => v = 6.0,
            20_000..=20_599 => tc2 = -2500.0,
            30_000..=30_099 => tc2 = f64::NAN,
            35_000..=35_049 => tc1 = -100.0,
            40_000..=40_699 => {
                v = 3.8;
                i = 2.0;
            }
            44_000..=46_499 => {
                tc1 = 35.0;
                i = 2.0 + g.sym(0.1);
            }
            _ => {}
        }
        if k % 997 == 0 {
            i = f64::NAN;
        }
        if k % 1499 == 0 {
            v = f64::NAN;
        }
        let twin = v + g.sym(0.01) + if (28_000..28_200).contains(&k) { 0.08 } else { 0.0 };
        let imbalance = if (32_000..32_500).contains(&k) { 0.15 } else { 0.0 };
        let anomaly = if (22_000..22_100).contains(&k) { 0.95 } else { g.next() * 0.8 };
        let proba = if (26_000..26_030).contains(&k) { 0.9 } else { g.next() * 0.5 };
        let soc = if (24_000..24_010).contains(&k) { 1.2 } else { 0.5 + 0.4 * phase };
        let row = vec![
            v,
            i,
            tc1,
            tc2,
            0.85 - 3e-6 * k as f64,
            400.0 - 6e-3 * k as f64,
            anomaly,
            proba,
            twin,
            v + g.sym(0.01),
            v + 0.02 + g.sym(0.01),
            v - 0.02 + g.sym(0.01) + imbalance,
            soc,
            g.next() * 0.3,
        ];
        rows.push((t, row.clone()));
        if k % 7001 == 0 && k > 0 {
            rows.push((t - 1.5, row.iter().map(|x| x + 1.0).collect())); // out of order: dropped
        }
        if k % 5003 == 0 {
            rows.push((t, row.iter().map(|x| x * 2.0).collect())); // duplicate time: dropped
        }
    }
    rows
}

const REGRESSION_RULES: &str = r#"
[[rule]]
id = "v_band"
severity = "info"
clear_for_s = 3
when = { not = { inside = { signal = "voltage_v", low = 3.3, high = 4.1, clear_low = 3.25, clear_high = 4.15 } } }

[[rule]]
id = "mean_temp"
severity = "warning"
for_s = 2
when = { above = { signal = "temperature_c:*", across = "mean", window = { agg = "mean", seconds = 120 }, threshold = 45, clear = 40 } }

[[rule]]
id = "max_current"
severity = "warning"
when = { outside = { signal = "current_a", window = { agg = "max", seconds = 30 }, low = -4, high = 6, clear_low = -3, clear_high = 5.5 } }

[[rule]]
id = "twin_signed"
severity = "info"
dedup_key = "twin"
when = { below = { signal = "voltage_v", minus = "twin_voltage_v", threshold = -0.05 } }

[[rule]]
id = "twin_signed_high"
severity = "warning"
dedup_key = "twin"
for_s = 5
when = { below = { signal = "voltage_v", minus = "twin_voltage_v", threshold = -0.06 } }

[[rule]]
id = "any_missing"
severity = "info"
cooldown_s = 50
when = { any = [ { missing = { signal = "current_a" } }, { missing = { signal = "voltage_v" } }, { above = { signal = "soc", threshold = 1.0 } } ] }

[[rule]]
id = "cell_low"
severity = "warning"
per_channel = "cell_v:*"
for_s = 3
when = { all = [ { below = { signal = "cell_v:*", threshold = 3.28 } }, { not = { above = { signal = "current_a", threshold = 0 } } } ] }

[[rule]]
id = "proba_mean"
severity = "info"
when = { above = { signal = "fault_proba:*", across = "mean", window = { agg = "min", seconds = 5 }, threshold = 0.3 } }

[[rule]]
id = "unbound"
severity = "info"
when = { any = [ { above = { signal = "pressure_pa", threshold = 1 } }, { below = { signal = "soh", threshold = 0.0 } } ] }
"#;

#[test]
fn regression_every_event_of_a_long_synthetic_trace() {
    let signals: Vec<String> = REGRESSION_SIGNALS.iter().map(|s| s.to_string()).collect();
    let rows = regression_trace();
    let mut lines = Vec::new();
    for (name, rules) in [
        ("default", RuleSet::default_li_ion(Chemistry::Nmc)),
        ("custom", RuleSet::from_toml_str(REGRESSION_RULES).unwrap()),
    ] {
        let mut e = AlertEngine::new(&rules, &signals, EngineParams::default().battery_id("b1")).unwrap();
        let ev = stream(&mut e, &rows);
        let st = e.stats();
        lines.push(format!(
            "== {name}: {} events; samples {} duplicates {} out_of_order {} gaps {} evictions {}",
            ev.len(),
            st.samples,
            st.duplicates,
            st.out_of_order,
            st.gaps,
            st.window_evictions
        ));
        for x in &ev {
            let values: Vec<String> = x.values.iter().map(|v| format!("{}={:?}", v.name, v.value)).collect();
            lines.push(format!(
                "{:?} {:?} #{} {} [{}] {} {} onset={:?} supp={} {:?} {}",
                x.t_s,
                x.kind,
                x.alert_id,
                x.rule_id,
                x.dedup_key,
                x.severity.as_str(),
                x.category.as_str(),
                x.onset_t_s,
                x.suppressed_episodes,
                x.battery_id,
                values.join(" ")
            ));
        }
    }
    insta::assert_snapshot!("regression_long_trace_events", lines.join("\n"));
}

// ---------------------------------------------------------------------------------------------------
// Snapshots: a stream saved (snapshot → JSON → restore) at any point resumes with exactly the events of the
// uninterrupted run; tampered snapshots give typed errors, never a panic.

fn resume_via_json(e: &AlertEngine) -> AlertEngine {
    let json = serde_json::to_string(&e.snapshot()).unwrap();
    AlertEngine::from_snapshot(serde_json::from_str(&json).unwrap()).unwrap()
}

#[test]
fn snapshot_split_stream_gives_the_uninterrupted_events() {
    let signals: Vec<String> = REGRESSION_SIGNALS.iter().map(|s| s.to_string()).collect();
    let rows = regression_trace();
    for rules in [RuleSet::default_li_ion(Chemistry::Nmc), RuleSet::from_toml_str(REGRESSION_RULES).unwrap()]
    {
        let params = EngineParams::default().battery_id("b1");
        let mut whole = AlertEngine::new(&rules, &signals, params.clone()).unwrap();
        let want = stream(&mut whole, &rows);
        assert!(!want.is_empty());
        let n = rows.len();
        // Several cut points at once: resume after each one, chaining the restored engines.
        let cuts = [1, n / 7, n / 3, n / 2, 2 * n / 3, n - 1];
        let mut e = AlertEngine::new(&rules, &signals, params.clone()).unwrap();
        let mut got = Vec::new();
        let mut at = 0;
        for &c in &cuts {
            got.extend(stream(&mut e, &rows[at..c]));
            at = c;
            let before = serde_json::to_string(&e.snapshot()).unwrap();
            e = resume_via_json(&e);
            // (compared as JSON: NaN timers make the structs unequal to themselves)
            assert_eq!(
                serde_json::to_string(&e.snapshot()).unwrap(),
                before,
                "snapshot is stable through JSON"
            );
        }
        got.extend(stream(&mut e, &rows[at..]));
        assert_eq!(got, want);
        assert_eq!(e.stats(), whole.stats());
        assert_eq!(e.buffered_samples(), whole.buffered_samples());
        // A single cut at every tenth of the stream, each resumed independently.
        for k in 1..10 {
            let c = k * n / 10;
            let mut e = AlertEngine::new(&rules, &signals, params.clone()).unwrap();
            let mut got = stream(&mut e, &rows[..c]);
            let mut r = resume_via_json(&e);
            got.extend(stream(&mut r, &rows[c..]));
            assert_eq!(got, want, "cut at {c}");
        }
    }
}

#[test]
fn snapshot_of_a_fresh_engine_and_reset_after_restore() {
    let rules = RuleSet::from_toml_str(OV).unwrap();
    let signals = vec!["voltage_v".to_string()];
    let mut e = AlertEngine::new(&rules, &signals, EngineParams::default()).unwrap();
    let mut fresh = resume_via_json(&e);
    let rows: Vec<(f64, Vec<f64>)> =
        (0..20).map(|k| (k as f64, vec![if k % 9 < 5 { 4.3 } else { 4.0 }])).collect();
    let a = stream(&mut e, &rows);
    assert!(!a.is_empty());
    assert_eq!(stream(&mut fresh, &rows), a);
    let mut r = resume_via_json(&e);
    r.reset();
    assert_eq!(stream(&mut r, &rows), a, "reset goes back to the empty state of the rules");
}

fn snapshot_json_mid_stream() -> (serde_json::Value, Vec<(f64, Vec<f64>)>) {
    let signals: Vec<String> = REGRESSION_SIGNALS.iter().map(|s| s.to_string()).collect();
    let rows = regression_trace();
    let mut e = AlertEngine::new(&RuleSet::default_li_ion(Chemistry::Nmc), &signals, EngineParams::default())
        .unwrap();
    let n = rows.len();
    stream(&mut e, &rows[..n / 2]);
    (serde_json::to_value(e.snapshot()).unwrap(), rows)
}

fn restore_value(v: serde_json::Value) -> Result<AlertEngine, RuleError> {
    let snap: battsentinel_core::alerts::EngineSnapshot = serde_json::from_value(v).unwrap();
    AlertEngine::from_snapshot(snap)
}

#[test]
fn tampered_snapshots_give_typed_errors() {
    let (v, _) = snapshot_json_mid_stream();
    assert!(restore_value(v.clone()).is_ok());
    let first_window_with = |v: &serde_json::Value, q: &str| {
        v["state"]["windows"]
            .as_array()
            .unwrap()
            .iter()
            .position(|w| w[q].as_array().unwrap().len() >= 2)
            .unwrap()
    };
    type Tamper = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Tamper)> = vec![
        ("version", Box::new(|v| v["version"] = 2.into())),
        (
            "state.windows",
            Box::new(|v| {
                v["state"]["windows"].as_array_mut().unwrap().pop();
            }),
        ),
        ("state.latched", Box::new(|v| v["state"]["latched"].as_array_mut().unwrap().push(true.into()))),
        (
            "state.rules",
            Box::new(|v| {
                v["state"]["rules"].as_array_mut().unwrap().pop();
            }),
        ),
        ("state.keys", Box::new(|v| v["state"]["keys"] = serde_json::json!([]))),
        ("state.rules[0].id", Box::new(|v| v["state"]["rules"][0]["id"] = "other".into())),
        ("state.rules[0].esc_next", Box::new(|v| v["state"]["rules"][0]["esc_next"] = 99.into())),
        ("state.keys[0].name", Box::new(|v| v["state"]["keys"][0]["name"] = "zzz".into())),
        (
            "state.keys[0].active",
            Box::new(|v| {
                let a = v["state"]["keys"][0]["active"].as_u64().unwrap();
                v["state"]["keys"][0]["active"] = (a + 1).into();
            }),
        ),
        ("state.keys[0].alert_id", Box::new(|v| v["state"]["keys"][0]["alert_id"] = 1_000_000.into())),
        ("state.keys[0].cleared_t_s", Box::new(|v| v["state"]["keys"][0]["cleared_t_s"] = "nan".into())),
        ("state.next_alert_id", Box::new(|v| v["state"]["next_alert_id"] = 0.into())),
        ("state.last_t_s", Box::new(|v| v["state"]["last_t_s"] = "inf".into())),
        (
            "state.rules[0].since_s",
            Box::new(|v| {
                v["state"]["rules"][0]["phase"] = "pending".into();
                v["state"]["rules"][0]["since_s"] = "nan".into();
            }),
        ),
        (
            "buf",
            Box::new(move |v| {
                let i = first_window_with(v, "buf");
                v["state"]["windows"][i]["buf"][0][0] = 1e12.into();
            }),
        ),
        (
            "minq",
            Box::new(move |v| {
                let i = first_window_with(v, "minq");
                let q = v["state"]["windows"][i]["minq"].as_array_mut().unwrap();
                q.reverse();
            }),
        ),
        (
            "maxq",
            Box::new(move |v| {
                let i = v["state"]["windows"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .position(|w| {
                        w["maxq"].as_array().unwrap().is_empty() && !w["buf"].as_array().unwrap().is_empty()
                    })
                    .unwrap();
                v["state"]["windows"][i]["maxq"] = serde_json::json!([[0.0, 1.0]]);
            }),
        ),
    ];
    for (field, tamper) in cases {
        let mut t = v.clone();
        tamper(&mut t);
        let e = restore_value(t).map(|_| ()).unwrap_err();
        assert_eq!(e.code(), "invalid_snapshot", "{field}: {e}");
        assert!(e.field().unwrap().contains(field), "{field}: {e}");
    }
    // Rules and params are validated again.
    let mut t = v.clone();
    t["params"]["max_gap_s"] = (-1.0).into();
    assert_eq!(restore_value(t).map(|_| ()).unwrap_err().code(), "invalid_param");
    let mut t = v.clone();
    t["rules"]["rule"][0]["for_s"] = (-5.0).into();
    assert_eq!(restore_value(t).map(|_| ()).unwrap_err().code(), "rule_invalid");
    // Malformed JSON is a deserialization error, not a panic.
    let mut t = v;
    t["state"]["last_t_s"] = "soon".into();
    assert!(serde_json::from_value::<battsentinel_core::alerts::EngineSnapshot>(t).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
    /// Any single numeric field of the state set to any value restores or fails with a typed error, and a
    /// restored engine keeps running without panicking.
    #[test]
    fn fuzzed_snapshot_never_panics(pick in 0usize..10_000, x in prop_oneof![
        any::<f64>().prop_filter("json number", |x| x.is_finite()),
        Just(f64::NAN), Just(f64::INFINITY), Just(-1.0), Just(0.0), Just(1e9)
    ]) {
        let (v, rows) = snapshot_json_mid_stream();
        let mut v = v;
        // JSON pointers of every number in `state`.
        fn numbers(v: &serde_json::Value, at: String, out: &mut Vec<String>) {
            match v {
                serde_json::Value::Number(_) => out.push(at),
                serde_json::Value::Array(a) => {
                    a.iter().enumerate().for_each(|(i, x)| numbers(x, format!("{at}/{i}"), out))
                }
                serde_json::Value::Object(o) => o.iter().for_each(|(k, x)| numbers(x, format!("{at}/{k}"), out)),
                _ => {}
            }
        }
        let mut paths = Vec::new();
        numbers(&v, String::new(), &mut paths);
        let paths: Vec<String> = paths.into_iter().filter(|p| p.starts_with("/state")).collect();
        let new = if x.is_finite() { serde_json::json!(x) } else if x.is_nan() { "nan".into() } else { "inf".into() };
        *v.pointer_mut(&paths[pick % paths.len()]).unwrap() = new;
        if let Ok(snap) = serde_json::from_value::<battsentinel_core::alerts::EngineSnapshot>(v) {
            match AlertEngine::from_snapshot(snap) {
                Ok(mut e) => { stream(&mut e, &rows[rows.len() / 2..]); }
                Err(e) => prop_assert!(e.code() == "invalid_snapshot", "{e}"),
            }
        }
    }
}
