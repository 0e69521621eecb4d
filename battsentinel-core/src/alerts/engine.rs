//! The streaming evaluator: rules compiled against a fixed list of signals, fed one sample at a time.

use super::rules::{
    pattern_matches, Across, Aggregate, Category, Condition, Rule, RuleSet, Severity, Window,
};
use super::RuleError;
use crate::data::BatteryLog;
use crate::params::{ParamError, ParamGuard};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

mod snapshot;
pub use snapshot::{EngineSnapshot, EngineState, SNAPSHOT_VERSION};

/// Validated engine parameters (see [`EngineParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineValidParams {
    battery_id: Option<String>,
    tags: Vec<String>,
    max_gap_s: f64,
    max_window_samples: usize,
}

impl Default for EngineValidParams {
    fn default() -> Self {
        Self { battery_id: None, tags: Vec::new(), max_gap_s: 300.0, max_window_samples: 1 << 16 }
    }
}

impl EngineValidParams {
    /// Battery the engine watches (rules are filtered by their `scope`).
    pub fn battery_id(&self) -> Option<&str> {
        self.battery_id.as_deref()
    }
    /// Tags of the battery (rules are filtered by their `scope.tags`).
    pub fn tags(&self) -> &[String] {
        &self.tags
    }
    /// A time step longer than this (s) is a gap: windows, persistence timers and hysteresis restart.
    pub fn max_gap_s(&self) -> f64 {
        self.max_gap_s
    }
    /// Hard cap on the samples one window keeps (memory bound for very fast streams).
    pub fn max_window_samples(&self) -> usize {
        self.max_window_samples
    }
}

/// Engine parameters, unchecked. Defaults: no battery id, no tags, `max_gap_s = 300`,
/// `max_window_samples = 65 536`.
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::EngineParams;
/// use battsentinel_core::ParamGuard;
/// let p = EngineParams::default().battery_id("cell-7").max_gap_s(60.0).check().unwrap();
/// assert_eq!(p.max_gap_s(), 60.0);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EngineParams(EngineValidParams);

impl EngineParams {
    /// Sets the battery id.
    pub fn battery_id(mut self, id: impl Into<String>) -> Self {
        self.0.battery_id = Some(id.into());
        self
    }
    /// Sets the battery's tags.
    pub fn tags(mut self, tags: impl IntoIterator<Item = impl Into<String>>) -> Self {
        self.0.tags = tags.into_iter().map(Into::into).collect();
        self
    }
    /// Sets the gap threshold (s).
    pub fn max_gap_s(mut self, v: f64) -> Self {
        self.0.max_gap_s = v;
        self
    }
    /// Sets the per-window sample cap.
    pub fn max_window_samples(mut self, n: usize) -> Self {
        self.0.max_window_samples = n;
        self
    }
}

impl ParamGuard for EngineValidParams {
    type Checked = EngineValidParams;

    fn check_ref(&self) -> Result<&EngineValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<EngineValidParams, ParamError> {
        Ok(self)
    }
}

impl ParamGuard for EngineParams {
    type Checked = EngineValidParams;

    fn check_ref(&self) -> Result<&EngineValidParams, ParamError> {
        crate::params::positive("max_gap_s", self.0.max_gap_s)?;
        if self.0.max_window_samples < 2 {
            return Err(ParamError::invalid(
                "max_window_samples",
                self.0.max_window_samples,
                "must be at least 2",
            ));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<EngineValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

/// One sample of a stream: a time and one value per engine signal, in the order of
/// [`AlertEngine::signals`]. A value that is missing is `NaN`; a slice shorter than the signal list reads
/// the missing tail as `NaN`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample<'a> {
    /// Time (s), strictly increasing along a stream.
    pub t_s: f64,
    /// Values, aligned with [`AlertEngine::signals`].
    pub values: &'a [f64],
}

/// What an event says happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertEventKind {
    /// A new alert (one per episode and dedup key).
    Raised,
    /// The alert's severity went up (a more severe rule on the same key, or time-based escalation).
    Escalated,
    /// Every rule on the key has cleared.
    Cleared,
}

/// A value that took part in the decision, named after the expression that produced it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerValue {
    /// The expression, for example `max(temperature_c:*)` or `rate[60s](max(temperature_c:*))`.
    pub name: String,
    /// Its value at the event (`None` when missing or implausible).
    pub value: Option<f64>,
}

/// One event of the alert stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// Raised, escalated or cleared.
    pub kind: AlertEventKind,
    /// Alert number, per engine, from 1; escalations and clears repeat the number of their raise.
    pub alert_id: u64,
    /// Time of the sample that caused the event (s).
    pub t_s: f64,
    /// When the condition of the episode first became true (s).
    pub onset_t_s: f64,
    /// Rule that caused the event.
    pub rule_id: String,
    /// Dedup key of the alert.
    pub dedup_key: String,
    /// Severity of the alert after this event.
    pub severity: Severity,
    /// Category of the rule.
    pub category: Category,
    /// Battery the engine watches.
    pub battery_id: Option<String>,
    /// The rule's leaf values at this sample.
    pub values: Vec<TriggerValue>,
    /// Episodes on this key merged into this event by the cooldown (on `Raised`).
    pub suppressed_episodes: u32,
}

/// Counters of what the engine did with its input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineStats {
    /// Samples evaluated.
    pub samples: u64,
    /// Samples dropped because their time equals the previous one (the first of equal times wins).
    pub duplicates: u64,
    /// Samples dropped because their time is before the previous one.
    pub out_of_order: u64,
    /// Samples dropped because their time is not finite.
    pub invalid_time: u64,
    /// Gaps longer than `max_gap_s` (each restarts windows, timers and hysteresis).
    pub gaps: u64,
    /// Window entries evicted early by `max_window_samples`.
    pub window_evictions: u64,
}

/// A three-valued truth: false, unknown, true, ordered `F < U < T` so that `all` is the minimum of its
/// operands, `any` the maximum and `not` the mirror image (`T ↔ F`, `U` stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Tri(u8);

impl Tri {
    const F: Tri = Tri(0);
    const U: Tri = Tri(1);
    const T: Tri = Tri(2);
}

/// A growable ring buffer of `(t, x)` pairs with a power-of-two capacity: the deque of a window without
/// the wrap-around arithmetic of a general-purpose deque. It grows (doubling) only while the window needs
/// more room, so its capacity stays below twice the most entries the window ever held.
#[derive(Debug, Clone, Default)]
struct Ring {
    buf: Vec<(f64, f64)>,
    head: usize,
    len: usize,
}

impl Ring {
    #[inline]
    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buf.len().wrapping_sub(1)
    }

    #[inline]
    fn front(&self) -> Option<(f64, f64)> {
        if self.len == 0 {
            None
        } else {
            Some(self.buf[self.head])
        }
    }

    #[inline]
    fn pop_front(&mut self) -> Option<(f64, f64)> {
        let v = self.front()?;
        self.head = (self.head + 1) & self.mask();
        self.len -= 1;
        Some(v)
    }

    /// Drops the run of entries at the back whose value `x` dominates: `xb >= x` when `MIN` (the deque of a
    /// sliding minimum), else `xb <= x`. The deque's values are monotonic, so the dominated entries are a
    /// suffix: its length among the last four is a count of four compares, without a branch per entry (on
    /// noisy data the number of entries dropped is random, and a loop over them mispredicts its exit about
    /// every other sample). Only a run of four or more loops.
    #[inline]
    fn pop_dominated<const MIN: bool>(&mut self, x: f64) {
        if self.buf.is_empty() {
            return;
        }
        let mask = self.mask();
        loop {
            let n = self.len.min(4);
            let mut k = 0;
            for j in 0..4 {
                // Masked into the buffer whatever `j`; entries past the length are not counted.
                let xb = self.buf[self.head.wrapping_add(self.len).wrapping_sub(1 + j) & mask].1;
                let dominated = if MIN { xb >= x } else { xb <= x };
                k += usize::from(dominated & (j < n));
            }
            self.len -= k;
            if k < 4 {
                return;
            }
        }
    }

    #[inline]
    fn push_back(&mut self, v: (f64, f64)) {
        if self.len == self.buf.len() {
            self.grow();
        }
        let i = (self.head + self.len) & self.mask();
        self.buf[i] = v;
        self.len += 1;
    }

    #[cold]
    fn grow(&mut self) {
        let cap = (self.buf.len() * 2).max(8);
        let mut buf = Vec::with_capacity(cap);
        let mask = self.mask();
        buf.extend((0..self.len).map(|k| self.buf[(self.head + k) & mask]));
        buf.resize(cap, (0.0, 0.0));
        self.buf = buf;
        self.head = 0;
    }

    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

/// A sliding-window aggregate in O(1) amortised time per sample: a running sum over the raw entries for
/// `mean` and `rate` (which needs the oldest entry), monotonic deques for `min`, `max` and `range`.
#[derive(Debug, Clone)]
struct WindowState {
    agg: Aggregate,
    seconds: f64,
    per_s: f64,
    cap: usize,
    start_t: f64,
    buf: Ring,
    minq: Ring,
    maxq: Ring,
    sum: f64,
}

impl WindowState {
    fn new(w: &Window, cap: usize) -> Self {
        Self {
            agg: w.agg,
            seconds: w.seconds,
            per_s: w.per_s,
            cap,
            start_t: f64::NAN,
            buf: Ring::default(),
            minq: Ring::default(),
            maxq: Ring::default(),
            sum: 0.0,
        }
    }

    fn reset(&mut self) {
        self.start_t = f64::NAN;
        self.buf.clear();
        self.minq.clear();
        self.maxq.clear();
        self.sum = 0.0;
    }

    fn len(&self) -> usize {
        self.buf.len() + self.minq.len() + self.maxq.len()
    }

    /// Drops the entries older than `lo` from the front of a deque.
    #[inline]
    fn expire(q: &mut Ring, lo: f64) {
        while q.front().is_some_and(|(tf, _)| tf < lo) {
            q.pop_front();
        }
    }

    /// Appends `(t, x)` to a monotonic deque (a minimum's when `MIN`), after removing the entries `x`
    /// dominates.
    #[inline]
    fn push_mono<const MIN: bool>(q: &mut Ring, t: f64, x: f64, cap: usize, evictions: &mut u64) {
        q.pop_dominated::<MIN>(x);
        q.push_back((t, x));
        if q.len() > cap {
            q.pop_front();
            *evictions += 1;
        }
    }

    fn update(&mut self, t: f64, x: f64, evictions: &mut u64) -> f64 {
        if self.start_t.is_nan() {
            self.start_t = t;
        }
        let lo = t - self.seconds;
        let finite = x.is_finite();
        // Unknown until the stream has covered the window since the start or the last gap.
        let covered = t - self.start_t >= self.seconds;
        let nan = f64::NAN;
        match self.agg {
            Aggregate::Mean | Aggregate::Rate => {
                while self.buf.front().is_some_and(|(tf, _)| tf < lo) {
                    if let Some((_, xf)) = self.buf.pop_front() {
                        self.sum -= xf;
                    }
                }
                if self.buf.is_empty() {
                    self.sum = 0.0;
                }
                if finite {
                    self.buf.push_back((t, x));
                    self.sum += x;
                    if self.buf.len() > self.cap {
                        if let Some((_, xf)) = self.buf.pop_front() {
                            self.sum -= xf;
                        }
                        *evictions += 1;
                    }
                }
                if !covered {
                    return nan;
                }
                if self.agg == Aggregate::Mean {
                    if self.buf.is_empty() {
                        nan
                    } else {
                        self.sum / self.buf.len() as f64
                    }
                } else {
                    match self.buf.front() {
                        Some((t0, x0)) if finite && t - t0 >= 0.5 * self.seconds => {
                            (x - x0) / (t - t0) * self.per_s
                        }
                        _ => nan,
                    }
                }
            }
            Aggregate::Min => {
                Self::expire(&mut self.minq, lo);
                if finite {
                    Self::push_mono::<true>(&mut self.minq, t, x, self.cap, evictions);
                }
                match self.minq.front() {
                    Some((_, m)) if covered => m,
                    _ => nan,
                }
            }
            Aggregate::Max => {
                Self::expire(&mut self.maxq, lo);
                if finite {
                    Self::push_mono::<false>(&mut self.maxq, t, x, self.cap, evictions);
                }
                match self.maxq.front() {
                    Some((_, m)) if covered => m,
                    _ => nan,
                }
            }
            Aggregate::Range => {
                Self::expire(&mut self.minq, lo);
                Self::expire(&mut self.maxq, lo);
                if finite {
                    Self::push_mono::<true>(&mut self.minq, t, x, self.cap, evictions);
                    Self::push_mono::<false>(&mut self.maxq, t, x, self.cap, evictions);
                }
                match (self.minq.front(), self.maxq.front()) {
                    (Some(a), Some(b)) if covered => b.1 - a.1,
                    _ => nan,
                }
            }
        }
    }
}

/// How a derived signal is computed from the sample and from the signals before it (slots are in
/// dependency order, each computed once per sample however many rules read it).
#[derive(Debug, Clone)]
enum Slot {
    Unbound,
    One {
        idx: usize,
        lo: f64,
        hi: f64,
    },
    /// A reduction over `chans[start..start + len]` of the engine's channel list.
    Across {
        start: usize,
        len: usize,
        how: Across,
    },
    /// Any of `chans[start..start + len]` missing (1) or none (0); the plausibility bounds are unused.
    Missing {
        start: usize,
        len: usize,
    },
    Diff {
        a: usize,
        b: usize,
        abs: bool,
    },
    Abs {
        a: usize,
    },
    /// A sliding window over slot `src`; the state is `windows[win]`.
    Window {
        src: usize,
        win: usize,
    },
}

/// The slot computation as run per sample: first the slots read from the sample, in typed lists (no
/// dispatch per slot), then the derived slots (`Diff`, `Abs`, `Window`) in slot order, which is a
/// dependency order. Unbound slots stay `NaN`.
#[derive(Debug, Clone, Default)]
struct Plan {
    /// `(slot, signal index, plausible low, plausible high)`.
    one: Vec<(usize, usize, f64, f64)>,
    /// `(slot, start, len, how)` over the engine's channel list.
    across: Vec<(usize, usize, usize, Across)>,
    /// `(slot, start, len)` over the engine's channel list.
    missing: Vec<(usize, usize, usize)>,
    /// `(slot, Diff | Abs | Window)`.
    derived: Vec<(usize, Slot)>,
}

impl Plan {
    fn new(slots: &[Slot]) -> Plan {
        let mut p = Plan::default();
        for (i, s) in slots.iter().enumerate() {
            match *s {
                Slot::Unbound => {}
                Slot::One { idx, lo, hi } => p.one.push((i, idx, lo, hi)),
                Slot::Across { start, len, how } => p.across.push((i, start, len, how)),
                Slot::Missing { start, len } => p.missing.push((i, start, len)),
                Slot::Diff { .. } | Slot::Abs { .. } | Slot::Window { .. } => p.derived.push((i, s.clone())),
            }
        }
        p
    }
}

/// One comparison of a derived signal, compiled to a band test with a latch: the leaf holds when
/// `within(x, band[latched]) != outside`. Above/below/inside/outside and their clear thresholds (hysteresis)
/// are all this form: `above t (clear c)` is `outside [−∞, t]` (latched: `[−∞, c]`), `below t` is
/// `outside [t, ∞]`, `missing` is `above 0.5`. A missing value is unknown and leaves the latch alone.
/// Identical leaves (same slot and bands) are shared between rules: their latches evolve identically.
#[derive(Debug, Clone)]
struct Leaf {
    slot: usize,
    /// `[unlatched band, latched band]`, each `[low, high]`, inclusive.
    band: [[f64; 2]; 2],
    outside: bool,
    latched: bool,
}

impl Leaf {
    /// Unknown for a missing `x` (the latch holds), else the latch becomes the test's result.
    #[inline]
    fn step(&mut self, x: f64) -> Tri {
        // Selects, not an early return: whether a value is missing changes from sample to sample on
        // dropping-out channels, and the branch would mispredict there.
        let known = !x.is_nan();
        let [lo, hi] = self.band[usize::from(self.latched)];
        let holds = within(x, lo, hi) != self.outside;
        self.latched = if known { holds } else { self.latched };
        Tri(if known { 2 * u8::from(holds) } else { 1 })
    }

    fn same_test(&self, other: &Leaf) -> bool {
        let bits = |l: &Leaf| l.band.map(|b| b.map(f64::to_bits));
        self.slot == other.slot && self.outside == other.outside && bits(self) == bits(other)
    }
}

/// A composition node of the flat condition program, in one uniform shape evaluated without dispatch:
/// the minimum (`all`) or maximum (`any`) of the operands `kids[start..start + len]`, mirrored if `not`
/// (`not c` is `any [c]` mirrored). Operands are indices into the engine's three-valued results (leaves
/// first, then composition nodes in post-order, so operands are always computed before the node).
#[derive(Debug, Clone, Copy)]
struct Comb {
    start: usize,
    len: usize,
    all: bool,
    not: bool,
}

/// A reference to a condition result while compiling: a leaf, or a composition node (renumbered once the
/// number of leaves is known).
#[derive(Debug, Clone, Copy)]
enum Ref {
    Leaf(usize),
    Comb(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Phase {
    Idle,
    Pending,
    Active,
    Clearing,
}

#[derive(Debug, Clone)]
struct RuleRt {
    /// The rule's condition result: an index into the engine's results.
    root: usize,
    phase: Phase,
    id: String,
    category: Category,
    severity: Severity,
    key: usize,
    for_s: f64,
    clear_for_s: f64,
    escalate: Vec<(f64, Severity)>,
    leaf_slots: Vec<usize>,
    since: f64,
    onset: f64,
    raised_at: f64,
    esc_next: usize,
    blocked: bool,
}

#[derive(Debug, Clone)]
struct KeyRt {
    name: String,
    active: u32,
    alert_id: u64,
    severity: Severity,
    category: Category,
    onset: f64,
    cleared_t: f64,
    cooldown_s: f64,
    suppressed: u32,
}

/// The streaming rule evaluator for one battery.
///
/// Built from a [`RuleSet`] and the list of signals the stream carries (names such as `voltage_v`,
/// `current_a`, `temperature_c:TC1`, `soc`, `soh`, `anomaly_score`, `twin_voltage_v`, `rul_cycles`,
/// `fault_proba:<class>`, `cell_v:<n>`). Rules out of scope for the battery are dropped; signals a rule names
/// but the stream lacks read as unknown (see [`AlertEngine::unbound_signals`]).
///
/// **Time handling.** A sample whose time is not finite, equal to the previous time (duplicate: the first
/// wins) or earlier (out of order) is dropped and counted in [`EngineStats`]; it changes no state. A step
/// longer than `max_gap_s` is a gap: windows, persistence and clear timers and hysteresis latches restart
/// at the sample after the gap; active alerts stay raised until the condition is seen false again.
///
/// **Memory.** Each window keeps only the samples inside `[t − seconds, t]` (and never more than
/// `max_window_samples`); everything else is a fixed number of scalars per rule. Memory does not grow with
/// the length of the stream.
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::{AlertEngine, AlertEventKind, EngineParams, RuleSet, Sample};
/// let rules = RuleSet::from_toml_str(r#"
/// [[rule]]
/// id = "hot"
/// severity = "warning"
/// for_s = 2
/// when = { above = { signal = "temperature_c:*", across = "max", threshold = 45, clear = 40 } }
/// "#).unwrap();
/// let signals = ["temperature_c:TC1".to_string()];
/// let mut engine = AlertEngine::new(&rules, &signals, EngineParams::default()).unwrap();
/// let mut events = Vec::new();
/// for (t, temp) in [(0.0, 30.0), (1.0, 46.0), (2.0, 47.0), (3.0, 48.0), (4.0, 42.0), (5.0, 39.0)] {
///     events.extend(engine.push(&Sample { t_s: t, values: &[temp] }));
/// }
/// assert_eq!(events.len(), 2);
/// assert_eq!((events[0].kind, events[0].t_s), (AlertEventKind::Raised, 3.0));
/// assert_eq!((events[1].kind, events[1].t_s), (AlertEventKind::Cleared, 5.0));
/// ```
#[derive(Debug, Clone)]
pub struct AlertEngine {
    signals: Vec<String>,
    unbound: Vec<String>,
    plan: Plan,
    /// Channel lists of the `Across` and `Missing` slots: `(signal index, plausible low, plausible high)`.
    chans: Vec<(usize, f64, f64)>,
    windows: Vec<WindowState>,
    labels: Vec<String>,
    vals: Vec<f64>,
    /// Every distinct comparison of every rule, evaluated once per sample.
    leaves: Vec<Leaf>,
    /// Composition nodes of every rule, in post-order.
    combs: Vec<Comb>,
    kids: Vec<usize>,
    /// Three-valued results: one per leaf, then one per composition node.
    res: Vec<Tri>,
    rules: Vec<RuleRt>,
    keys: Vec<KeyRt>,
    params: EngineValidParams,
    last_t: f64,
    next_alert_id: u64,
    stats: EngineStats,
    /// The rule set the engine was compiled from (kept for [`AlertEngine::snapshot`]).
    ruleset: Arc<RuleSet>,
    initial: Option<Box<AlertEngine>>,
}

struct Compiler<'a> {
    set: &'a RuleSet,
    signals: &'a [String],
    cap: usize,
    slots: Vec<Slot>,
    chans: Vec<(usize, f64, f64)>,
    windows: Vec<WindowState>,
    labels: Vec<String>,
    index: HashMap<String, usize>,
    unbound: Vec<String>,
    leaves: Vec<Leaf>,
    combs: Vec<Comb>,
    /// Children of the composition nodes, as compile-time references.
    kids: Vec<Ref>,
}

impl Compiler<'_> {
    fn add(&mut self, key: String, label: String, slot: Slot) -> usize {
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.slots.push(slot);
        self.labels.push(label);
        self.index.insert(key, self.slots.len() - 1);
        self.slots.len() - 1
    }

    fn plausible(&self, name: &str, raw: bool) -> (f64, f64) {
        if raw {
            return (f64::NEG_INFINITY, f64::INFINITY);
        }
        self.set
            .plausible
            .iter()
            .find(|p| pattern_matches(&p.signal, name))
            .map_or((f64::NEG_INFINITY, f64::INFINITY), |p| (p.min, p.max))
    }

    fn channels(&mut self, pattern: &str) -> Vec<usize> {
        let chans: Vec<usize> =
            (0..self.signals.len()).filter(|&i| pattern_matches(pattern, &self.signals[i])).collect();
        if chans.is_empty() && !self.unbound.iter().any(|u| u == pattern) {
            self.unbound.push(pattern.to_string());
        }
        chans
    }

    fn base(&mut self, signal: &str, across: Option<Across>, raw: bool) -> usize {
        let key = format!("b|{signal}|{across:?}|{raw}");
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let chans = self.channels(signal);
        let label = match across {
            Some(a) if signal.ends_with('*') || chans.len() > 1 => {
                format!("{}({signal}{})", across_name(a), if raw { ", raw" } else { "" })
            }
            _ => format!("{signal}{}", if raw { " (raw)" } else { "" }),
        };
        let slot = if chans.is_empty() {
            Slot::Unbound
        } else if chans.len() == 1 && !signal.ends_with('*') {
            let (lo, hi) = self.plausible(signal, raw);
            Slot::One { idx: chans[0], lo, hi }
        } else {
            let start = self.chans.len();
            for &i in &chans {
                let (lo, hi) = self.plausible(&self.signals[i], raw);
                self.chans.push((i, lo, hi));
            }
            Slot::Across { start, len: chans.len(), how: across.unwrap_or(Across::Max) }
        };
        self.add(key, label, slot)
    }

    #[allow(clippy::too_many_arguments)]
    fn expr(
        &mut self,
        signal: &str,
        across: Option<Across>,
        minus: Option<&str>,
        abs: bool,
        raw: bool,
        window: Option<&Window>,
    ) -> usize {
        let mut s = self.base(signal, across, raw);
        if let Some(m) = minus {
            let b = self.base(m, None, raw);
            let label = if abs {
                format!("|{} - {}|", self.labels[s], self.labels[b])
            } else {
                format!("{} - {}", self.labels[s], self.labels[b])
            };
            s = self.add(format!("d|{s}|{b}|{abs}"), label, Slot::Diff { a: s, b, abs });
        } else if abs {
            let label = format!("|{}|", self.labels[s]);
            s = self.add(format!("a|{s}"), label, Slot::Abs { a: s });
        }
        if let Some(w) = window {
            let label = match w.agg {
                Aggregate::Rate if w.per_s != 1.0 => {
                    format!("rate[{}s, per {}s]({})", w.seconds, w.per_s, self.labels[s])
                }
                agg => format!("{}[{}s]({})", agg_name(agg), w.seconds, self.labels[s]),
            };
            let key = format!("w|{s}|{:?}|{}|{}", w.agg, w.seconds.to_bits(), w.per_s.to_bits());
            s = match self.index.get(&key) {
                Some(&i) => i,
                None => {
                    let win = self.windows.len();
                    self.windows.push(WindowState::new(w, self.cap));
                    self.add(key, label, Slot::Window { src: s, win })
                }
            };
        }
        s
    }

    fn missing(&mut self, signal: &str) -> usize {
        let key = format!("m|{signal}");
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        let chans = self.channels(signal);
        let slot = if chans.is_empty() {
            Slot::Unbound
        } else {
            let start = self.chans.len();
            self.chans.extend(chans.iter().map(|&i| (i, f64::NEG_INFINITY, f64::INFINITY)));
            Slot::Missing { start, len: chans.len() }
        };
        self.add(key, format!("missing({signal})"), slot)
    }

    /// The leaf testing `slot` against `band` (shared with an identical leaf of an earlier rule).
    fn leaf(&mut self, slot: usize, band: [[f64; 2]; 2], outside: bool) -> Ref {
        let leaf = Leaf { slot, band, outside, latched: false };
        match self.leaves.iter().position(|l| l.same_test(&leaf)) {
            Some(i) => Ref::Leaf(i),
            None => {
                self.leaves.push(leaf);
                Ref::Leaf(self.leaves.len() - 1)
            }
        }
    }

    /// Compiles a condition into leaves and composition nodes; `leaf_slots` collects the slots whose values
    /// an event of the rule reports.
    fn condition(
        &mut self,
        rule: &str,
        c: &Condition,
        leaf_slots: &mut Vec<usize>,
    ) -> Result<Ref, RuleError> {
        let set = self.set;
        let mut report = |s: usize| {
            if !leaf_slots.contains(&s) {
                leaf_slots.push(s);
            }
        };
        let (ninf, inf) = (f64::NEG_INFINITY, f64::INFINITY);
        match c {
            Condition::Above(cmp) | Condition::Below(cmp) => {
                let slot = self.expr(
                    &cmp.signal,
                    cmp.across,
                    cmp.minus.as_deref(),
                    cmp.abs,
                    cmp.raw,
                    cmp.window.as_ref(),
                );
                report(slot);
                let thr = set.resolve(rule, "threshold", &cmp.threshold)?;
                let clear =
                    cmp.clear.as_ref().map(|t| set.resolve(rule, "clear", t)).transpose()?.unwrap_or(thr);
                // x > t ⇔ x ∉ [−∞, t] and x < t ⇔ x ∉ [t, ∞] (for x not NaN; thresholds are finite).
                let band = if matches!(c, Condition::Above(_)) {
                    [[ninf, thr], [ninf, clear]]
                } else {
                    [[thr, inf], [clear, inf]]
                };
                Ok(self.leaf(slot, band, true))
            }
            Condition::Outside(r) | Condition::Inside(r) => {
                let slot =
                    self.expr(&r.signal, r.across, r.minus.as_deref(), r.abs, r.raw, r.window.as_ref());
                report(slot);
                let lo = set.resolve(rule, "low", &r.low)?;
                let hi = set.resolve(rule, "high", &r.high)?;
                let clo = r
                    .clear_low
                    .as_ref()
                    .map(|t| set.resolve(rule, "clear_low", t))
                    .transpose()?
                    .unwrap_or(lo);
                let chi = r
                    .clear_high
                    .as_ref()
                    .map(|t| set.resolve(rule, "clear_high", t))
                    .transpose()?
                    .unwrap_or(hi);
                Ok(self.leaf(slot, [[lo, hi], [clo, chi]], matches!(c, Condition::Outside(_))))
            }
            Condition::Missing(m) => {
                let slot = self.missing(&m.signal);
                report(slot);
                // The slot is 1 (a channel missing) or 0; `x > 0.5` without hysteresis.
                Ok(self.leaf(slot, [[ninf, 0.5], [ninf, 0.5]], true))
            }
            Condition::All(cs) | Condition::Any(cs) => {
                let mut ids = Vec::with_capacity(cs.len());
                for sub in cs {
                    ids.push(self.condition(rule, sub, leaf_slots)?);
                }
                let start = self.kids.len();
                self.kids.extend(ids);
                let all = matches!(c, Condition::All(_));
                self.combs.push(Comb { start, len: cs.len(), all, not: false });
                Ok(Ref::Comb(self.combs.len() - 1))
            }
            Condition::Not(sub) => {
                let child = self.condition(rule, sub, leaf_slots)?;
                self.kids.push(child);
                self.combs.push(Comb { start: self.kids.len() - 1, len: 1, all: false, not: true });
                Ok(Ref::Comb(self.combs.len() - 1))
            }
        }
    }
}

fn across_name(a: Across) -> &'static str {
    match a {
        Across::Max => "max",
        Across::Min => "min",
        Across::Mean => "mean",
        Across::Spread => "spread",
    }
}

fn agg_name(a: Aggregate) -> &'static str {
    match a {
        Aggregate::Mean => "mean",
        Aggregate::Min => "min",
        Aggregate::Max => "max",
        Aggregate::Range => "range",
        Aggregate::Rate => "rate",
    }
}

/// `true` when `x` lies in `[lo, hi]` (false for `NaN`).
#[inline]
fn within(x: f64, lo: f64, hi: f64) -> bool {
    // `&`, not `&&`: both compares, no branch.
    (x >= lo) & (x <= hi)
}

impl AlertEngine {
    /// Compiles `rules` against the stream's `signals`.
    ///
    /// # Errors
    /// [`RuleError::Params`] for invalid `params`; the validation errors of [`RuleSet::validate`] (a rule set
    /// built by hand is validated again here).
    pub fn new(
        rules: &RuleSet,
        signals: &[String],
        params: impl ParamGuard<Checked = EngineValidParams>,
    ) -> Result<Self, RuleError> {
        let params = params.check()?;
        rules.validate()?;
        let mut c = Compiler {
            set: rules,
            signals,
            cap: params.max_window_samples,
            slots: Vec::new(),
            chans: Vec::new(),
            windows: Vec::new(),
            labels: Vec::new(),
            index: HashMap::new(),
            unbound: Vec::new(),
            leaves: Vec::new(),
            combs: Vec::new(),
            kids: Vec::new(),
        };
        let mut rts: Vec<(RuleRt, Ref)> = Vec::new();
        let mut keys: Vec<KeyRt> = Vec::new();
        for r in
            rules.rules.iter().filter(|r| r.enabled && r.scope.matches(params.battery_id(), params.tags()))
        {
            match r.per_channel.as_deref() {
                None => rts.push(compile_rule(&mut c, r, &mut keys)?),
                Some(pattern) => {
                    let channels: Vec<&String> =
                        signals.iter().filter(|s| pattern_matches(pattern, s)).collect();
                    if channels.is_empty() && !c.unbound.iter().any(|u| u == pattern) {
                        c.unbound.push(pattern.to_string());
                    }
                    for ch in channels {
                        rts.push(compile_rule(&mut c, &r.for_channel(ch), &mut keys)?);
                    }
                }
            }
        }
        // Results: the leaves, then the composition nodes.
        let n_leaves = c.leaves.len();
        let at = |r: Ref| match r {
            Ref::Leaf(i) => i,
            Ref::Comb(j) => n_leaves + j,
        };
        let kids: Vec<usize> = c.kids.iter().map(|&r| at(r)).collect();
        let rules_in_force = rts
            .into_iter()
            .map(|(mut rt, root)| {
                rt.root = at(root);
                rt
            })
            .collect();
        let vals = vec![f64::NAN; c.slots.len()];
        let res = vec![Tri::U; n_leaves + c.combs.len()];
        let mut engine = AlertEngine {
            signals: signals.to_vec(),
            unbound: c.unbound,
            plan: Plan::new(&c.slots),
            chans: c.chans,
            windows: c.windows,
            labels: c.labels,
            vals,
            leaves: c.leaves,
            combs: c.combs,
            kids,
            res,
            rules: rules_in_force,
            keys,
            params,
            last_t: f64::NAN,
            next_alert_id: 1,
            stats: EngineStats::default(),
            ruleset: Arc::new(rules.clone()),
            initial: None,
        };
        engine.initial = Some(Box::new(engine.clone()));
        Ok(engine)
    }

    /// An engine whose signals are the columns of `log` (see [`log_signals`]).
    ///
    /// # Errors
    /// As [`AlertEngine::new`].
    pub fn for_log(
        rules: &RuleSet,
        log: &BatteryLog,
        params: impl ParamGuard<Checked = EngineValidParams>,
    ) -> Result<Self, RuleError> {
        AlertEngine::new(rules, &log_signals(log), params)
    }

    /// The signals a sample carries, in order.
    pub fn signals(&self) -> &[String] {
        &self.signals
    }

    /// Position of a signal in a sample.
    pub fn signal_index(&self, name: &str) -> Option<usize> {
        self.signals.iter().position(|s| s == name)
    }

    /// Signals or patterns named by the rules that the stream does not carry (their conditions are unknown).
    pub fn unbound_signals(&self) -> &[String] {
        &self.unbound
    }

    /// Ids of the rules in force (enabled and in scope), in evaluation order.
    pub fn rule_ids(&self) -> Vec<&str> {
        self.rules.iter().map(|r| r.id.as_str()).collect()
    }

    /// What the engine did with its input so far.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Window entries currently held (the engine's only per-sample memory).
    pub fn buffered_samples(&self) -> usize {
        self.windows.iter().map(WindowState::len).sum()
    }

    /// Dedup keys of the alerts currently raised.
    pub fn active_keys(&self) -> Vec<&str> {
        self.keys.iter().filter(|k| k.active > 0).map(|k| k.name.as_str()).collect()
    }

    /// Back to the state right after construction (same rules, empty history, alert numbers from 1).
    pub fn reset(&mut self) {
        if let Some(init) = self.initial.take() {
            *self = (*init).clone();
            self.initial = Some(init);
        }
    }

    /// Feeds one sample and returns the events it causes, in rule order.
    pub fn push(&mut self, sample: &Sample<'_>) -> Vec<AlertEvent> {
        let mut out = Vec::new();
        self.push_into(sample, &mut out);
        out
    }

    /// As [`AlertEngine::push`], appending to `out` (no allocation when nothing happens).
    pub fn push_into(&mut self, sample: &Sample<'_>, out: &mut Vec<AlertEvent>) {
        let t = sample.t_s;
        if !t.is_finite() {
            self.stats.invalid_time += 1;
            return;
        }
        if !self.last_t.is_nan() {
            if t == self.last_t {
                self.stats.duplicates += 1;
                return;
            }
            if t < self.last_t {
                self.stats.out_of_order += 1;
                return;
            }
            if t - self.last_t > self.params.max_gap_s {
                self.stats.gaps += 1;
                self.restart_after_gap(t);
            }
        }
        self.last_t = t;
        self.stats.samples += 1;
        self.compute_slots(t, sample.values);
        self.eval_conditions();
        for ri in 0..self.rules.len() {
            let r = &self.rules[ri];
            let c = self.res[r.root];
            // Fast path: an idle rule whose condition does not hold has nothing to do.
            if r.phase == Phase::Idle && c != Tri::T {
                continue;
            }
            self.step_rule(ri, t, c, out);
        }
    }

    /// Batch evaluation of a whole log: exactly the events of pushing its rows, in order, into this engine.
    /// Columns are matched to the engine's signals by name (see [`log_signals`]); a signal the log lacks
    /// reads as `NaN`.
    pub fn evaluate(&mut self, log: &BatteryLog) -> Vec<AlertEvent> {
        let cols = log_columns(log);
        let map: Vec<Option<&[f64]>> =
            self.signals.iter().map(|s| cols.iter().find(|(n, _)| n == s).map(|(_, v)| v.as_ref())).collect();
        let mut row = vec![f64::NAN; self.signals.len()];
        let mut out = Vec::new();
        for (i, &t) in log.time_s.iter().enumerate() {
            for (r, col) in row.iter_mut().zip(&map) {
                *r = col.and_then(|c| c.get(i).copied()).unwrap_or(f64::NAN);
            }
            self.push_into(&Sample { t_s: t, values: &row }, &mut out);
        }
        out
    }

    fn restart_after_gap(&mut self, t: f64) {
        for w in &mut self.windows {
            w.reset();
        }
        for l in &mut self.leaves {
            l.latched = false;
        }
        for r in &mut self.rules {
            match r.phase {
                Phase::Pending => {
                    r.phase = Phase::Idle;
                    r.blocked = false;
                }
                Phase::Clearing => r.since = t,
                Phase::Idle | Phase::Active => {}
            }
        }
    }

    /// Computes every derived signal once for this sample, in dependency order.
    fn compute_slots(&mut self, t: f64, values: &[f64]) {
        let nan = f64::NAN;
        let read = |i: usize| values.get(i).copied().unwrap_or(nan);
        let vals = &mut self.vals;
        for &(slot, idx, lo, hi) in &self.plan.one {
            let x = read(idx);
            vals[slot] = if within(x, lo, hi) { x } else { nan };
        }
        for &(slot, start, len, how) in &self.plan.across {
            let (mut mx, mut mn, mut sum, mut n) = (f64::NEG_INFINITY, f64::INFINITY, 0.0, 0usize);
            for &(idx, lo, hi) in &self.chans[start..start + len] {
                let x = read(idx);
                if within(x, lo, hi) {
                    mx = mx.max(x);
                    mn = mn.min(x);
                    sum += x;
                    n += 1;
                }
            }
            vals[slot] = if n == 0 {
                nan
            } else {
                match how {
                    Across::Max => mx,
                    Across::Min => mn,
                    Across::Mean => sum / n as f64,
                    Across::Spread => mx - mn,
                }
            };
        }
        for &(slot, start, len) in &self.plan.missing {
            let any = self.chans[start..start + len].iter().any(|&(idx, _, _)| read(idx).is_nan());
            vals[slot] = if any { 1.0 } else { 0.0 };
        }
        for (slot, d) in &self.plan.derived {
            let v = match *d {
                Slot::Diff { a, b, abs } => {
                    let d = vals[a] - vals[b];
                    if abs {
                        d.abs()
                    } else {
                        d
                    }
                }
                Slot::Abs { a } => vals[a].abs(),
                Slot::Window { src, win } => {
                    self.windows[win].update(t, vals[src], &mut self.stats.window_evictions)
                }
                Slot::Unbound | Slot::One { .. } | Slot::Across { .. } | Slot::Missing { .. } => nan,
            };
            vals[*slot] = v;
        }
    }

    /// Evaluates every leaf once, then every composition node (operands first), into `res`.
    fn eval_conditions(&mut self) {
        let (vals, res) = (&self.vals, &mut self.res);
        for (r, leaf) in res.iter_mut().zip(self.leaves.iter_mut()) {
            *r = leaf.step(vals[leaf.slot]);
        }
        let n_leaves = self.leaves.len();
        for (j, c) in self.combs.iter().enumerate() {
            let (mut mn, mut mx) = (Tri::T, Tri::F);
            for &k in &self.kids[c.start..c.start + c.len] {
                mn = mn.min(res[k]);
                mx = mx.max(res[k]);
            }
            let v = if c.all { mn } else { mx };
            let v = if c.not { Tri(2 - v.0) } else { v };
            res[n_leaves + j] = v;
        }
    }

    fn step_rule(&mut self, ri: usize, t: f64, c: Tri, out: &mut Vec<AlertEvent>) {
        let phase = self.rules[ri].phase;
        match (phase, c) {
            (Phase::Idle, Tri::T) => {
                let r = &mut self.rules[ri];
                r.phase = Phase::Pending;
                r.since = t;
                r.onset = t;
                r.blocked = false;
            }
            (Phase::Pending, Tri::F) => {
                let r = &mut self.rules[ri];
                r.phase = Phase::Idle;
                if r.blocked {
                    r.blocked = false;
                    self.keys[r.key].suppressed += 1;
                }
            }
            (Phase::Active, Tri::F) => {
                let r = &mut self.rules[ri];
                r.phase = Phase::Clearing;
                r.since = t;
            }
            (Phase::Clearing, Tri::T) => self.rules[ri].phase = Phase::Active,
            _ => {}
        }
        let r = &self.rules[ri];
        match (r.phase, c) {
            (Phase::Pending, Tri::T) if t - r.since >= r.for_s => self.try_raise(ri, t, out),
            (Phase::Clearing, Tri::F) if t - r.since >= r.clear_for_s => self.release(ri, t, out),
            (Phase::Active, _) if r.esc_next < r.escalate.len() => self.escalate_by_time(ri, t, out),
            _ => {}
        }
    }

    fn event(&self, ri: usize, kind: AlertEventKind, t: f64) -> AlertEvent {
        let r = &self.rules[ri];
        let k = &self.keys[r.key];
        AlertEvent {
            kind,
            alert_id: k.alert_id,
            t_s: t,
            onset_t_s: k.onset,
            rule_id: r.id.clone(),
            dedup_key: k.name.clone(),
            severity: k.severity,
            category: r.category,
            battery_id: self.params.battery_id.clone(),
            values: r
                .leaf_slots
                .iter()
                .map(|&s| {
                    let v = self.vals[s];
                    TriggerValue {
                        name: self.labels[s].clone(),
                        value: if v.is_nan() { None } else { Some(v) },
                    }
                })
                .collect(),
            suppressed_episodes: if kind == AlertEventKind::Raised { k.suppressed } else { 0 },
        }
    }

    fn try_raise(&mut self, ri: usize, t: f64, out: &mut Vec<AlertEvent>) {
        let (ki, sev, onset, cat) = {
            let r = &self.rules[ri];
            (r.key, r.severity, r.onset, r.category)
        };
        let key = &mut self.keys[ki];
        if key.active > 0 {
            key.active += 1;
            let escalates = sev > key.severity;
            if escalates {
                key.severity = sev;
            }
            self.activate(ri, t);
            if escalates {
                out.push(self.event(ri, AlertEventKind::Escalated, t));
            }
            return;
        }
        if t < key.cleared_t + key.cooldown_s {
            self.rules[ri].blocked = true;
            return;
        }
        key.active = 1;
        key.alert_id = self.next_alert_id;
        self.next_alert_id += 1;
        key.severity = sev;
        key.category = cat;
        key.onset = onset;
        self.activate(ri, t);
        out.push(self.event(ri, AlertEventKind::Raised, t));
        self.keys[ki].suppressed = 0;
        // A rule raised at its onset may already be past its first escalation step (for_s ≥ after_s).
        if !self.rules[ri].escalate.is_empty() {
            self.escalate_by_time(ri, t, out);
        }
    }

    fn activate(&mut self, ri: usize, t: f64) {
        let r = &mut self.rules[ri];
        r.phase = Phase::Active;
        r.raised_at = t;
        r.esc_next = 0;
        r.blocked = false;
    }

    fn release(&mut self, ri: usize, t: f64, out: &mut Vec<AlertEvent>) {
        let ki = self.rules[ri].key;
        self.rules[ri].phase = Phase::Idle;
        let key = &mut self.keys[ki];
        key.active = key.active.saturating_sub(1);
        if key.active == 0 {
            key.cleared_t = t;
            out.push(self.event(ri, AlertEventKind::Cleared, t));
        }
    }

    fn escalate_by_time(&mut self, ri: usize, t: f64, out: &mut Vec<AlertEvent>) {
        loop {
            let r = &self.rules[ri];
            let Some(&(after, to)) = r.escalate.get(r.esc_next) else { return };
            if t - r.raised_at < after {
                return;
            }
            self.rules[ri].esc_next += 1;
            let key = &mut self.keys[self.rules[ri].key];
            if to > key.severity {
                key.severity = to;
                out.push(self.event(ri, AlertEventKind::Escalated, t));
            }
        }
    }
}

fn compile_rule(c: &mut Compiler<'_>, r: &Rule, keys: &mut Vec<KeyRt>) -> Result<(RuleRt, Ref), RuleError> {
    let mut leaf_slots = Vec::new();
    let root = c.condition(&r.id, &r.when, &mut leaf_slots)?;
    let key_name = r.key();
    let key = match keys.iter().position(|k| k.name == key_name) {
        Some(i) => {
            keys[i].cooldown_s = keys[i].cooldown_s.max(r.cooldown_s);
            i
        }
        None => {
            keys.push(KeyRt {
                name: key_name.to_string(),
                active: 0,
                alert_id: 0,
                severity: r.severity,
                category: r.category,
                onset: f64::NAN,
                cleared_t: f64::NEG_INFINITY,
                cooldown_s: r.cooldown_s,
                suppressed: 0,
            });
            keys.len() - 1
        }
    };
    let rt = RuleRt {
        root: 0,
        phase: Phase::Idle,
        id: r.id.clone(),
        category: r.category,
        severity: r.severity,
        key,
        for_s: r.for_s,
        clear_for_s: r.clear_for_s,
        escalate: r.escalate.iter().map(|e| (e.after_s, e.to)).collect(),
        leaf_slots,
        since: f64::NAN,
        onset: f64::NAN,
        raised_at: f64::NAN,
        esc_next: 0,
        blocked: false,
    };
    Ok((rt, root))
}

/// The columns of a log as named signals: `voltage_v`, `current_a`, `temperature_c:<name>` per temperature
/// channel, `charge_capacity_ah`, `discharge_capacity_ah`, `charge_energy_wh`, `discharge_energy_wh`,
/// `cycle_index`, `step_index`, then every extra channel under its own name (model and twin outputs travel
/// as extra channels: `soc`, `soh`, `anomaly_score`, `rul_cycles`, `twin_voltage_v`, `fault_proba:<class>`,
/// `cell_v:<n>`, …). Only columns present in the log are listed.
pub fn log_signals(log: &BatteryLog) -> Vec<String> {
    log_columns(log).into_iter().map(|(n, _)| n).collect()
}

fn log_columns(log: &BatteryLog) -> Vec<(String, Cow<'_, [f64]>)> {
    let mut out: Vec<(String, Cow<'_, [f64]>)> = Vec::new();
    for (name, c) in [("voltage_v", &log.voltage_v), ("current_a", &log.current_a)] {
        if let Some(v) = c {
            out.push((name.to_string(), Cow::Borrowed(v.as_slice())));
        }
    }
    for ch in &log.temperatures_c {
        out.push((format!("temperature_c:{}", ch.name), Cow::Borrowed(ch.values.as_slice())));
    }
    for (name, c) in [
        ("charge_capacity_ah", &log.charge_capacity_ah),
        ("discharge_capacity_ah", &log.discharge_capacity_ah),
        ("charge_energy_wh", &log.charge_energy_wh),
        ("discharge_energy_wh", &log.discharge_energy_wh),
    ] {
        if let Some(v) = c {
            out.push((name.to_string(), Cow::Borrowed(v.as_slice())));
        }
    }
    for (name, c) in [("cycle_index", &log.cycle_index), ("step_index", &log.step_index)] {
        if let Some(v) = c {
            out.push((
                name.to_string(),
                Cow::Owned(v.iter().map(|x| x.map_or(f64::NAN, f64::from)).collect()),
            ));
        }
    }
    for ch in &log.extra {
        if !out.iter().any(|(n, _)| *n == ch.name) {
            out.push((ch.name.clone(), Cow::Borrowed(ch.values.as_slice())));
        }
    }
    out
}

/// Batch evaluation: builds an engine for `log` and returns every event of its rows.
///
/// # Errors
/// As [`AlertEngine::new`].
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::{evaluate, EngineParams, RuleSet, AlertEventKind};
/// use battsentinel_core::BatteryLog;
/// let rules = RuleSet::from_toml_str(r#"
/// [[rule]]
/// id = "under_voltage"
/// severity = "critical"
/// when = { below = { signal = "voltage_v", threshold = 2.5 } }
/// "#).unwrap();
/// let mut log = BatteryLog::with_time(vec![0.0, 1.0, 2.0, 3.0]);
/// log.voltage_v = Some(vec![3.0, 2.6, 2.4, 3.2]);
/// let events = evaluate(&rules, &log, EngineParams::default()).unwrap();
/// assert_eq!(events.iter().map(|e| (e.kind, e.t_s)).collect::<Vec<_>>(),
///            vec![(AlertEventKind::Raised, 2.0), (AlertEventKind::Cleared, 3.0)]);
/// ```
pub fn evaluate(
    rules: &RuleSet,
    log: &BatteryLog,
    params: impl ParamGuard<Checked = EngineValidParams>,
) -> Result<Vec<AlertEvent>, RuleError> {
    let mut engine = AlertEngine::for_log(rules, log, params)?;
    Ok(engine.evaluate(log))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> RuleSet {
        RuleSet::from_toml_str(text).unwrap()
    }

    #[test]
    fn autotraits() {
        fn is<T: Send + Sync + Clone + std::fmt::Debug>() {}
        is::<AlertEngine>();
        is::<AlertEvent>();
        is::<RuleSet>();
    }

    #[test]
    fn window_aggregates_match_direct_computation() {
        let w = Window { agg: Aggregate::Mean, seconds: 4.0, per_s: 1.0 };
        let xs = [1.0, 5.0, f64::NAN, 2.0, 8.0, 3.0, 7.0];
        for agg in [Aggregate::Mean, Aggregate::Min, Aggregate::Max, Aggregate::Range, Aggregate::Rate] {
            let mut s = WindowState::new(&Window { agg, ..w.clone() }, 1000);
            let mut ev = 0;
            for (k, &x) in xs.iter().enumerate() {
                let t = k as f64;
                let got = s.update(t, x, &mut ev);
                let inwin: Vec<(f64, f64)> = xs
                    .iter()
                    .enumerate()
                    .map(|(j, &x)| (j as f64, x))
                    .filter(|&(tj, x)| tj >= t - 4.0 && tj <= t && x.is_finite())
                    .collect();
                let vals: Vec<f64> = inwin.iter().map(|p| p.1).collect();
                let want = if t < 4.0 {
                    f64::NAN
                } else {
                    let mx = vals.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let mn = vals.iter().copied().fold(f64::INFINITY, f64::min);
                    match agg {
                        Aggregate::Mean => vals.iter().sum::<f64>() / vals.len() as f64,
                        Aggregate::Min => mn,
                        Aggregate::Max => mx,
                        Aggregate::Range => mx - mn,
                        Aggregate::Rate if x.is_finite() => (x - inwin[0].1) / (t - inwin[0].0),
                        Aggregate::Rate => f64::NAN,
                    }
                };
                if want.is_nan() {
                    assert!(got.is_nan(), "{agg:?} t={t}: {got}");
                } else {
                    approx::assert_abs_diff_eq!(got, want, epsilon = 1e-12);
                }
            }
        }
    }

    #[test]
    fn range_hysteresis_inside_and_outside() {
        let r = rules(
            r#"
[[rule]]
id = "out"
severity = "info"
when = { outside = { signal = "x", low = 0, high = 10, clear_low = 1, clear_high = 9 } }
[[rule]]
id = "in"
severity = "info"
when = { inside = { signal = "x", low = 4, high = 6, clear_low = 3, clear_high = 7 } }
"#,
        );
        let mut e = AlertEngine::new(&r, &["x".to_string()], EngineParams::default()).unwrap();
        let xs = [5.0, 11.0, 9.5, 8.9, 6.9, 7.1, -1.0, 0.5, 1.0];
        let mut got = Vec::new();
        for (k, &x) in xs.iter().enumerate() {
            for ev in e.push(&Sample { t_s: k as f64, values: &[x] }) {
                got.push((ev.rule_id, ev.kind, k));
            }
        }
        use AlertEventKind::{Cleared, Raised};
        let want = vec![
            ("in".to_string(), Raised, 0),
            ("out".to_string(), Raised, 1),
            ("in".to_string(), Cleared, 1),
            ("out".to_string(), Cleared, 3),
            ("out".to_string(), Raised, 6),
            ("out".to_string(), Cleared, 8),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn unbound_signals_are_unknown_not_missing() {
        let r = rules(
            r#"
[[rule]]
id = "m"
severity = "info"
when = { any = [ { missing = { signal = "soh" } }, { above = { signal = "x", threshold = 1 } } ] }
"#,
        );
        let mut e = AlertEngine::new(&r, &["x".to_string()], EngineParams::default()).unwrap();
        assert_eq!(e.unbound_signals(), ["soh".to_string()]);
        assert!(e.push(&Sample { t_s: 0.0, values: &[0.0] }).is_empty());
        assert_eq!(e.push(&Sample { t_s: 1.0, values: &[2.0] }).len(), 1);
        // a short sample reads the tail as missing: x unknown → the alert holds
        assert!(e.push(&Sample { t_s: 2.0, values: &[] }).is_empty());
        assert_eq!(e.active_keys(), vec!["m"]);
    }

    #[test]
    fn engine_params_are_checked() {
        let r = rules("");
        let e = AlertEngine::new(&r, &[], EngineParams::default().max_gap_s(0.0)).unwrap_err();
        assert_eq!(e.code(), "invalid_param");
        let e = AlertEngine::new(&r, &[], EngineParams::default().max_window_samples(1)).unwrap_err();
        assert_eq!(e.code(), "invalid_param");
    }

    #[test]
    fn counted_back_pops_equal_the_entry_by_entry_loop() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for min in [true, false] {
            let (mut q, mut reference) = (Ring::default(), std::collections::VecDeque::new());
            for k in 0..20_000 {
                // Few distinct values (ties) and runs of every length, with the ring wrapping around.
                let x = f64::from(rng.gen_range(0..6u8)) + if k % 97 < 9 { k as f64 } else { 0.0 };
                let dominated = |xb: f64| if min { xb >= x } else { xb <= x };
                while reference.back().is_some_and(|&(_, xb)| dominated(xb)) {
                    reference.pop_back();
                }
                reference.push_back((k as f64, x));
                if min {
                    WindowState::push_mono::<true>(&mut q, k as f64, x, 40, &mut 0);
                } else {
                    WindowState::push_mono::<false>(&mut q, k as f64, x, 40, &mut 0);
                }
                if reference.len() > 40 {
                    reference.pop_front();
                }
                if k % 5 == 0 {
                    q.pop_front();
                    reference.pop_front();
                }
                let got: Vec<_> = (0..q.len()).map(|i| q.buf[(q.head + i) & q.mask()]).collect();
                assert_eq!(got, reference.iter().copied().collect::<Vec<_>>(), "min = {min}, k = {k}");
            }
        }
    }
}
