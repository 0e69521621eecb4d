//! Saving and resuming a running engine: [`AlertEngine::snapshot`] and [`AlertEngine::from_snapshot`].

use super::{AlertEngine, EngineParams, EngineStats, EngineValidParams, Phase, Ring, WindowState};
use crate::alerts::rules::{Aggregate, Category, RuleSet, Severity};
use crate::alerts::RuleError;
use serde::{Deserialize, Serialize};

/// Format version of [`EngineSnapshot`].
pub const SNAPSHOT_VERSION: u32 = 1;

/// The complete state of a running [`AlertEngine`]: the rule set (as data), the stream's signals, the
/// parameters and every piece of streaming state (window buffers, persistence and clear timers, hysteresis
/// latches, active alerts with their escalation, cooldown and dedup state, the last time, the alert
/// counter and the statistics).
///
/// It serializes with serde (JSON included: non-finite times are written as the strings `"nan"`, `"inf"`,
/// `"-inf"`), so a stream can be saved, moved to another process and resumed:
/// [`AlertEngine::from_snapshot`] gives an engine whose future events are exactly those of the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSnapshot {
    /// Format version ([`SNAPSHOT_VERSION`]).
    pub version: u32,
    /// The rule set the engine was compiled from.
    pub rules: RuleSet,
    /// The signals a sample carries, in order.
    pub signals: Vec<String>,
    /// The engine parameters (checked again on restore).
    pub params: EngineValidParams,
    /// The streaming state (opaque; validated against the compiled rules on restore).
    pub state: EngineState,
}

/// The streaming state part of an [`EngineSnapshot`]. Its layout follows the compiled rule set: one entry
/// per window, per distinct comparison, per rule in force and per dedup key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngineState {
    #[serde(with = "nonfinite")]
    last_t_s: f64,
    next_alert_id: u64,
    stats: EngineStats,
    windows: Vec<WindowSnap>,
    latched: Vec<bool>,
    rules: Vec<RuleSnap>,
    keys: Vec<KeySnap>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowSnap {
    #[serde(with = "nonfinite")]
    start_t_s: f64,
    #[serde(with = "nonfinite")]
    sum: f64,
    /// `(t_s, x)` entries, oldest first.
    buf: Vec<(f64, f64)>,
    minq: Vec<(f64, f64)>,
    maxq: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSnap {
    id: String,
    phase: Phase,
    #[serde(with = "nonfinite")]
    since_s: f64,
    #[serde(with = "nonfinite")]
    onset_s: f64,
    #[serde(with = "nonfinite")]
    raised_at_s: f64,
    esc_next: usize,
    blocked: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySnap {
    name: String,
    active: u32,
    alert_id: u64,
    severity: Severity,
    category: Category,
    #[serde(with = "nonfinite")]
    onset_s: f64,
    #[serde(with = "nonfinite")]
    cleared_t_s: f64,
    suppressed: u32,
}

/// `f64` that may be NaN or infinite: finite values as numbers, the others as `"nan"`, `"inf"`, `"-inf"`.
mod nonfinite {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else if x.is_nan() {
            s.serialize_str("nan")
        } else if *x > 0.0 {
            s.serialize_str("inf")
        } else {
            s.serialize_str("-inf")
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Num(f64),
            Text(String),
        }
        match Repr::deserialize(d)? {
            Repr::Num(x) => Ok(x),
            Repr::Text(t) => match t.as_str() {
                "nan" => Ok(f64::NAN),
                "inf" => Ok(f64::INFINITY),
                "-inf" => Ok(f64::NEG_INFINITY),
                other => Err(D::Error::custom(format!(
                    "expected a number, \"nan\", \"inf\" or \"-inf\", got {other:?}"
                ))),
            },
        }
    }
}

impl Ring {
    fn to_vec(&self) -> Vec<(f64, f64)> {
        let mask = self.mask();
        (0..self.len).map(|k| self.buf[(self.head + k) & mask]).collect()
    }

    fn from_slice(entries: &[(f64, f64)]) -> Ring {
        let mut r = Ring::default();
        for &e in entries {
            r.push_back(e);
        }
        r
    }
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> RuleError {
    RuleError::Snapshot { field: field.into(), message: message.into() }
}

/// NaN (not yet set) or finite.
fn unset_or_finite(field: &str, x: f64) -> Result<(), RuleError> {
    if x.is_nan() || x.is_finite() {
        Ok(())
    } else {
        Err(bad(field, format!("{x} is neither a finite time nor unset")))
    }
}

impl WindowSnap {
    fn of(w: &WindowState) -> WindowSnap {
        WindowSnap {
            start_t_s: w.start_t,
            sum: w.sum,
            buf: w.buf.to_vec(),
            minq: w.minq.to_vec(),
            maxq: w.maxq.to_vec(),
        }
    }

    /// Checks the entries against the window's definition and loads them into `w`.
    fn restore(&self, field: &str, w: &mut WindowState, last_t: f64) -> Result<(), RuleError> {
        unset_or_finite(&format!("{field}.start_t_s"), self.start_t_s)?;
        if self.sum.is_nan() {
            return Err(bad(format!("{field}.sum"), "is NaN"));
        }
        let (uses_buf, uses_min, uses_max) = match w.agg {
            Aggregate::Mean | Aggregate::Rate => (true, false, false),
            Aggregate::Min => (false, true, false),
            Aggregate::Max => (false, false, true),
            Aggregate::Range => (false, true, true),
        };
        for (name, q, used, ordered) in [
            ("buf", &self.buf, uses_buf, None),
            ("minq", &self.minq, uses_min, Some(true)),
            ("maxq", &self.maxq, uses_max, Some(false)),
        ] {
            let f = format!("{field}.{name}");
            if !used && !q.is_empty() {
                return Err(bad(f, format!("must be empty for a {:?} window", w.agg)));
            }
            if q.len() > w.cap {
                return Err(bad(f, format!("{} entries exceed max_window_samples = {}", q.len(), w.cap)));
            }
            if !q.is_empty() && self.start_t_s.is_nan() {
                return Err(bad(f, "entries in a window that has not started"));
            }
            for (k, &(t, x)) in q.iter().enumerate() {
                if !t.is_finite() || !x.is_finite() {
                    return Err(bad(format!("{f}[{k}]"), "entries must be finite"));
                }
                if t < self.start_t_s || (!last_t.is_nan() && t > last_t) {
                    return Err(bad(format!("{f}[{k}]"), "time outside the window's span"));
                }
                if k > 0 {
                    let (tp, xp) = q[k - 1];
                    if t < tp {
                        return Err(bad(format!("{f}[{k}]"), "times must not decrease"));
                    }
                    match ordered {
                        Some(true) if x <= xp => {
                            return Err(bad(format!("{f}[{k}]"), "minimum deque values must increase"))
                        }
                        Some(false) if x >= xp => {
                            return Err(bad(format!("{f}[{k}]"), "maximum deque values must decrease"))
                        }
                        _ => {}
                    }
                }
            }
        }
        w.start_t = self.start_t_s;
        w.sum = self.sum;
        w.buf = Ring::from_slice(&self.buf);
        w.minq = Ring::from_slice(&self.minq);
        w.maxq = Ring::from_slice(&self.maxq);
        Ok(())
    }
}

fn check_len(field: &str, got: usize, want: usize) -> Result<(), RuleError> {
    if got == want {
        Ok(())
    } else {
        Err(bad(field, format!("{got} entries, the rule set compiles to {want}")))
    }
}

impl AlertEngine {
    /// The engine's complete state: rules, signals, parameters and streaming state. Feeding the same samples
    /// to [`AlertEngine::from_snapshot`]`(engine.snapshot())` and to `engine` gives identical events.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::alerts::{AlertEngine, EngineParams, EngineSnapshot, RuleSet, Sample};
    /// let rules = RuleSet::from_toml_str(r#"
    /// [[rule]]
    /// id = "hot"
    /// severity = "warning"
    /// for_s = 2
    /// when = { above = { signal = "temperature_c:*", across = "max", threshold = 45, clear = 40 } }
    /// "#).unwrap();
    /// let signals = ["temperature_c:TC1".to_string()];
    /// let mut engine = AlertEngine::new(&rules, &signals, EngineParams::default()).unwrap();
    /// engine.push(&Sample { t_s: 0.0, values: &[46.0] });
    /// engine.push(&Sample { t_s: 1.0, values: &[47.0] });
    /// // Save mid-episode (the persistence timer is running), for example between two uploads.
    /// let json = serde_json::to_string(&engine.snapshot()).unwrap();
    /// let snap: EngineSnapshot = serde_json::from_str(&json).unwrap();
    /// let mut resumed = AlertEngine::from_snapshot(snap).unwrap();
    /// let a = engine.push(&Sample { t_s: 2.0, values: &[48.0] });
    /// let b = resumed.push(&Sample { t_s: 2.0, values: &[48.0] });
    /// assert_eq!(a.len(), 1);
    /// assert_eq!(a, b);
    /// ```
    pub fn snapshot(&self) -> EngineSnapshot {
        EngineSnapshot {
            version: SNAPSHOT_VERSION,
            rules: (*self.ruleset).clone(),
            signals: self.signals.clone(),
            params: self.params.clone(),
            state: EngineState {
                last_t_s: self.last_t,
                next_alert_id: self.next_alert_id,
                stats: self.stats,
                windows: self.windows.iter().map(WindowSnap::of).collect(),
                latched: self.leaves.iter().map(|l| l.latched).collect(),
                rules: self
                    .rules
                    .iter()
                    .map(|r| RuleSnap {
                        id: r.id.clone(),
                        phase: r.phase,
                        since_s: r.since,
                        onset_s: r.onset,
                        raised_at_s: r.raised_at,
                        esc_next: r.esc_next,
                        blocked: r.blocked,
                    })
                    .collect(),
                keys: self
                    .keys
                    .iter()
                    .map(|k| KeySnap {
                        name: k.name.clone(),
                        active: k.active,
                        alert_id: k.alert_id,
                        severity: k.severity,
                        category: k.category,
                        onset_s: k.onset,
                        cleared_t_s: k.cleared_t,
                        suppressed: k.suppressed,
                    })
                    .collect(),
            },
        }
    }

    /// Resumes an engine from [`AlertEngine::snapshot`]. The rules are validated and compiled again against
    /// the snapshot's signals and parameters, then the streaming state is checked against the compiled rules
    /// (counts, rule ids and dedup keys in order, finite times in order, window entries within their span and
    /// cap, active-alert counts consistent with the rule phases) before it is loaded. [`AlertEngine::reset`]
    /// of the resumed engine goes back to the empty state of its rules.
    ///
    /// # Errors
    /// [`RuleError::Snapshot`] naming the offending field for an unknown version or a state that does not fit
    /// the rules; [`RuleError::Params`] and the rule validation errors of [`AlertEngine::new`] for invalid
    /// parameters or rules.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::alerts::{AlertEngine, EngineParams, RuleSet};
    /// let rules = RuleSet::default_li_ion(battsentinel_core::alerts::Chemistry::Nmc);
    /// let engine = AlertEngine::new(&rules, &["voltage_v".to_string()], EngineParams::default()).unwrap();
    /// let mut snap = engine.snapshot();
    /// snap.version = 99;
    /// let e = AlertEngine::from_snapshot(snap).unwrap_err();
    /// assert_eq!((e.code(), e.field()), ("invalid_snapshot", Some("version")));
    /// ```
    pub fn from_snapshot(snapshot: EngineSnapshot) -> Result<AlertEngine, RuleError> {
        if snapshot.version != SNAPSHOT_VERSION {
            return Err(bad(
                "version",
                format!("{} is not supported (expected {SNAPSHOT_VERSION})", snapshot.version),
            ));
        }
        let mut e = AlertEngine::new(&snapshot.rules, &snapshot.signals, EngineParams(snapshot.params))?;
        let s = snapshot.state;
        unset_or_finite("state.last_t_s", s.last_t_s)?;
        if s.next_alert_id == 0 {
            return Err(bad("state.next_alert_id", "must be at least 1"));
        }
        check_len("state.windows", s.windows.len(), e.windows.len())?;
        check_len("state.latched", s.latched.len(), e.leaves.len())?;
        check_len("state.rules", s.rules.len(), e.rules.len())?;
        check_len("state.keys", s.keys.len(), e.keys.len())?;
        let started = !s.last_t_s.is_nan();
        for (i, (ws, w)) in s.windows.iter().zip(e.windows.iter_mut()).enumerate() {
            if !started && !ws.start_t_s.is_nan() {
                return Err(bad(format!("state.windows[{i}].start_t_s"), "set before the first sample"));
            }
            ws.restore(&format!("state.windows[{i}]"), w, s.last_t_s)?;
        }
        for (l, &latched) in e.leaves.iter_mut().zip(&s.latched) {
            l.latched = latched;
        }
        let mut active = vec![0u32; e.keys.len()];
        for (i, (rs, r)) in s.rules.iter().zip(e.rules.iter_mut()).enumerate() {
            let f = |name: &str| format!("state.rules[{i}].{name}");
            if rs.id != r.id {
                return Err(bad(f("id"), format!("`{}` where the rule set has `{}`", rs.id, r.id)));
            }
            for (name, x) in
                [("since_s", rs.since_s), ("onset_s", rs.onset_s), ("raised_at_s", rs.raised_at_s)]
            {
                unset_or_finite(&f(name), x)?;
            }
            if rs.phase != Phase::Idle && (rs.since_s.is_nan() || rs.onset_s.is_nan()) {
                return Err(bad(f("since_s"), format!("a {:?} rule needs its timers set", rs.phase)));
            }
            if matches!(rs.phase, Phase::Active | Phase::Clearing) {
                if rs.raised_at_s.is_nan() {
                    return Err(bad(f("raised_at_s"), "an active rule needs its raise time"));
                }
                active[r.key] += 1;
            }
            if rs.esc_next > r.escalate.len() {
                return Err(bad(
                    f("esc_next"),
                    format!("{} exceeds the rule's {} escalation steps", rs.esc_next, r.escalate.len()),
                ));
            }
            r.phase = rs.phase;
            r.since = rs.since_s;
            r.onset = rs.onset_s;
            r.raised_at = rs.raised_at_s;
            r.esc_next = rs.esc_next;
            r.blocked = rs.blocked;
        }
        for (i, (ks, k)) in s.keys.iter().zip(e.keys.iter_mut()).enumerate() {
            let f = |name: &str| format!("state.keys[{i}].{name}");
            if ks.name != k.name {
                return Err(bad(f("name"), format!("`{}` where the rule set has `{}`", ks.name, k.name)));
            }
            if ks.active != active[i] {
                return Err(bad(
                    f("active"),
                    format!("{} but {} rules on this key are active", ks.active, active[i]),
                ));
            }
            if ks.alert_id >= s.next_alert_id || (ks.active > 0 && ks.alert_id == 0) {
                return Err(bad(
                    f("alert_id"),
                    format!("{} does not fit next_alert_id = {}", ks.alert_id, s.next_alert_id),
                ));
            }
            unset_or_finite(&f("onset_s"), ks.onset_s)?;
            if ks.cleared_t_s.is_nan() || ks.cleared_t_s == f64::INFINITY {
                return Err(bad(f("cleared_t_s"), "must be a finite time or -inf (never cleared)"));
            }
            k.active = ks.active;
            k.alert_id = ks.alert_id;
            k.severity = ks.severity;
            k.category = ks.category;
            k.onset = ks.onset_s;
            k.cleared_t = ks.cleared_t_s;
            k.suppressed = ks.suppressed;
        }
        e.last_t = s.last_t_s;
        e.next_alert_id = s.next_alert_id;
        e.stats = s.stats;
        Ok(e)
    }
}
