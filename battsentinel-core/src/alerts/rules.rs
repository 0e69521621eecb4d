//! Rules as data: the serde model of a rule file (TOML or JSON), loading and validation.

use super::RuleError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Maximum number of nodes (leaves + `all`/`any`/`not`) in one rule's condition.
pub const MAX_CONDITION_NODES: usize = 64;
/// Maximum nesting depth of one rule's condition.
pub const MAX_CONDITION_DEPTH: usize = 8;
/// Longest window a rule may use (7 days, in seconds).
pub const MAX_WINDOW_S: f64 = 7.0 * 86_400.0;
/// Maximum number of rules in one file.
pub const MAX_RULES: usize = 1024;

/// How serious an alert is. Ordered: `Info < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For the record.
    Info,
    /// Needs attention.
    Warning,
    /// Needs action now.
    Critical,
}

impl Severity {
    /// Lower-case name (`"info"`, `"warning"`, `"critical"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What an alert is about. Sensor faults are kept apart from cell faults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The cell itself (voltage, current, temperature, health).
    #[default]
    Cell,
    /// Several cells together (imbalance).
    Pack,
    /// A measurement channel is faulty (disconnected, stuck, out of physical range).
    Sensor,
    /// A prediction of a model (fault probability, anomaly score, RUL).
    Model,
    /// A disagreement with the digital twin.
    Twin,
}

impl Category {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Cell => "cell",
            Category::Pack => "pack",
            Category::Sensor => "sensor",
            Category::Model => "model",
            Category::Twin => "twin",
        }
    }
}

/// A threshold: a number, or `"$name"` (or `"-$name"`, negated) referring to the rule file's `[params]` (and profiles).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Threshold {
    /// A literal value, in the unit of the signal.
    Value(f64),
    /// A parameter reference, written `"$name"`.
    Param(String),
}

impl From<f64> for Threshold {
    fn from(v: f64) -> Self {
        Threshold::Value(v)
    }
}

/// How several channels matched by a pattern (`temperature_c:*`) reduce to one value per sample. Missing
/// (`NaN`) and physically implausible channels are skipped; the result is `NaN` when none is left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Across {
    /// Largest value (`any channel above` = `max above`).
    Max,
    /// Smallest value (`any channel below` = `min below`).
    Min,
    /// Arithmetic mean.
    Mean,
    /// Largest minus smallest (cell-to-cell spread).
    Spread,
}

/// Aggregate of a signal over a sliding time window `[t − seconds, t]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Mean of the samples in the window.
    Mean,
    /// Minimum.
    Min,
    /// Maximum.
    Max,
    /// Maximum minus minimum (0 for a stuck channel).
    Range,
    /// Rate of change `(x(t) − x(t_oldest)) / (t − t_oldest)` in signal units per second, times `per_s`.
    Rate,
}

/// A sliding window. Its value is unknown until the stream has covered `seconds` since the start (or since
/// the last gap), so a window never fires on a partial history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// The aggregate.
    pub agg: Aggregate,
    /// Window length (s), in `(0, 7 days]`.
    pub seconds: f64,
    /// For `rate`: seconds per unit of rate (60 gives K/min from °C samples). Default 1.
    #[serde(default = "one")]
    pub per_s: f64,
}

fn one() -> f64 {
    1.0
}

fn yes() -> bool {
    true
}

/// One comparison: `signal` (reduced `across` channels, minus `minus`, absolute if `abs`, aggregated over
/// `window`) compared against `threshold`, with an optional separate `clear` threshold (hysteresis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// Signal name, or a prefix pattern ending in `*` (`"temperature_c:*"`, `"cell_v:*"`).
    pub signal: String,
    /// Reduction across the channels a pattern matches (required for patterns).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across: Option<Across>,
    /// A second signal subtracted from the first (`voltage_v` minus `twin_voltage_v`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<String>,
    /// Take the absolute value (after `minus`).
    #[serde(default)]
    pub abs: bool,
    /// Use raw values: skip the file's physical-plausibility filter (for sensor-fault rules).
    #[serde(default)]
    pub raw: bool,
    /// Aggregate over a sliding window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// The raising threshold.
    pub threshold: Threshold,
    /// The clearing threshold (`above`: ≤ threshold; `below`: ≥ threshold). Default: the threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear: Option<Threshold>,
}

/// A range test: true when the value lies inside (`inside`) or outside (`outside`) `[low, high]`, with
/// optional clear bounds (hysteresis).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeTest {
    /// Signal name or pattern, as in [`Compare::signal`].
    pub signal: String,
    /// Reduction across channels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub across: Option<Across>,
    /// A second signal subtracted from the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minus: Option<String>,
    /// Absolute value.
    #[serde(default)]
    pub abs: bool,
    /// Skip the plausibility filter.
    #[serde(default)]
    pub raw: bool,
    /// Aggregate over a sliding window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Lower bound.
    pub low: Threshold,
    /// Upper bound.
    pub high: Threshold,
    /// Lower clear bound (default `low`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_low: Option<Threshold>,
    /// Upper clear bound (default `high`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clear_high: Option<Threshold>,
}

/// A test on whether a present channel has no value (`NaN`): true when any channel the signal or pattern
/// names is missing in the sample. A signal that the stream does not carry at all is *unknown*, not missing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MissingTest {
    /// Signal name or pattern.
    pub signal: String,
}

/// A condition tree. Evaluated with three-valued logic: a comparison on a missing or implausible value is
/// *unknown*, which neither starts nor ends an alert (timers hold).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    /// `value > threshold` (clears when `value ≤ clear`).
    Above(Compare),
    /// `value < threshold` (clears when `value ≥ clear`).
    Below(Compare),
    /// `value < low || value > high`.
    Outside(RangeTest),
    /// `low ≤ value ≤ high`.
    Inside(RangeTest),
    /// A channel present in the stream has no value.
    Missing(MissingTest),
    /// All sub-conditions true.
    All(Vec<Condition>),
    /// At least one sub-condition true.
    Any(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
}

/// A step of time-based escalation: after the alert has been active `after_s`, its severity becomes `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    /// Seconds after raising.
    pub after_s: f64,
    /// New severity (must be higher than the previous one).
    pub to: Severity,
}

/// Which batteries a rule applies to. Empty lists match everything.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Battery ids (exact, or a prefix pattern ending in `*`); the rule applies if any matches.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub batteries: Vec<String>,
    /// Tags the battery must all carry (for example `"nmc"`, `"pack"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

impl Scope {
    /// True when a battery with this id and these tags is in scope.
    pub fn matches(&self, battery_id: Option<&str>, tags: &[String]) -> bool {
        let battery_ok = self.batteries.is_empty()
            || battery_id.is_some_and(|id| self.batteries.iter().any(|p| pattern_matches(p, id)));
        battery_ok && self.tags.iter().all(|t| tags.contains(t))
    }
}

/// True when `name` equals `pattern`, or `pattern` ends in `*` and `name` starts with the rest.
pub fn pattern_matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// One alert rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique id: letters, digits, `_`, `-`, `.`.
    pub id: String,
    /// Short human title.
    #[serde(default)]
    pub title: String,
    /// What the alert is about.
    #[serde(default)]
    pub category: Category,
    /// Severity when raised.
    pub severity: Severity,
    /// The condition.
    pub when: Condition,
    /// Persistence: the condition must hold this long (s) before the alert is raised. Default 0.
    #[serde(default)]
    pub for_s: f64,
    /// The condition must be false this long (s) before the alert clears. Default 0.
    #[serde(default)]
    pub clear_for_s: f64,
    /// After an alert with this dedup key clears, no new one is raised for this long (s); a condition still
    /// true when it ends raises then. Episodes that start and end inside are counted, not lost.
    #[serde(default)]
    pub cooldown_s: f64,
    /// Alerts sharing a key are one alert: a higher-severity rule escalates it, others are merged.
    /// Default: the rule id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dedup_key: Option<String>,
    /// Time-based escalation steps, in increasing `after_s` and severity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub escalate: Vec<Escalation>,
    /// Which batteries the rule applies to.
    #[serde(default)]
    pub scope: Scope,
    /// Where the threshold comes from (datasheet, standard, paper).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// Disabled rules are validated but not evaluated.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Evaluate the rule once per stream signal matching this pattern (e.g. `"temperature_c:*"`). In each
    /// instance the pattern, wherever the condition names it, stands for that one channel, and the dedup key
    /// becomes `<key>@<channel>`: one stuck thermocouple is found even while the others move, and each
    /// channel raises and clears its own alert. Events keep the rule's `id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_channel: Option<String>,
}

impl Rule {
    /// The dedup key (the rule id when none is set).
    pub fn key(&self) -> &str {
        self.dedup_key.as_deref().unwrap_or(&self.id)
    }

    /// The instance of a `per_channel` rule for one `channel`: the pattern replaced by the channel in every
    /// signal of the condition, the dedup key suffixed with `@channel`. A rule without `per_channel` is
    /// returned unchanged.
    pub fn for_channel(&self, channel: &str) -> Rule {
        let Some(pattern) = self.per_channel.as_deref() else { return self.clone() };
        let mut r = self.clone();
        r.dedup_key = Some(format!("{}@{channel}", self.key()));
        r.per_channel = None;
        r.when.replace_signal(pattern, channel);
        r
    }
}

impl Condition {
    /// Replaces every signal (and `minus` signal) spelled exactly `from` by `to`.
    fn replace_signal(&mut self, from: &str, to: &str) {
        let swap = |s: &mut String| {
            if s == from {
                *s = to.to_string();
            }
        };
        match self {
            Condition::Above(c) | Condition::Below(c) => {
                swap(&mut c.signal);
                if let Some(m) = c.minus.as_mut() {
                    swap(m);
                }
            }
            Condition::Outside(r) | Condition::Inside(r) => {
                swap(&mut r.signal);
                if let Some(m) = r.minus.as_mut() {
                    swap(m);
                }
            }
            Condition::Missing(m) => swap(&mut m.signal),
            Condition::All(cs) | Condition::Any(cs) => cs.iter_mut().for_each(|c| c.replace_signal(from, to)),
            Condition::Not(c) => c.replace_signal(from, to),
        }
    }

    /// Whether any signal (or `minus` signal) of the condition is spelled exactly `name`.
    fn names_signal(&self, name: &str) -> bool {
        match self {
            Condition::Above(c) | Condition::Below(c) => c.signal == name || c.minus.as_deref() == Some(name),
            Condition::Outside(r) | Condition::Inside(r) => {
                r.signal == name || r.minus.as_deref() == Some(name)
            }
            Condition::Missing(m) => m.signal == name,
            Condition::All(cs) | Condition::Any(cs) => cs.iter().any(|c| c.names_signal(name)),
            Condition::Not(c) => c.names_signal(name),
        }
    }
}

/// Physical plausibility of a channel: values outside `[min, max]` are treated as missing by every rule
/// that does not ask for `raw` values, so a disconnected sensor never looks like a cell fault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plausible {
    /// Signal name or pattern.
    pub signal: String,
    /// Smallest physically possible value.
    pub min: f64,
    /// Largest physically possible value.
    pub max: f64,
}

/// A validated rule file. Load with [`RuleSet::from_toml_str`] / [`RuleSet::from_json_str`]; the default
/// Li-ion set is [`RuleSet::default_li_ion`].
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::{RuleSet, Severity};
/// let rules = RuleSet::from_toml_str(r#"
/// [params]
/// v_max = 4.2
///
/// [[rule]]
/// id = "over_voltage"
/// severity = "critical"
/// for_s = 2
/// when = { above = { signal = "voltage_v", threshold = "$v_max", clear = 4.15 } }
/// "#).unwrap();
/// assert_eq!(rules.rules[0].severity, Severity::Critical);
/// ```
///
/// Deserializing a `RuleSet` (from any serde format, also inside an alert engine snapshot) reads it as a JSON
/// value and takes the path of [`RuleSet::from_json_str`] up to validation (which [`RuleSet::validate`] and
/// the engine do): errors name the rule and the field, and the rule types are compiled for one deserializer
/// only (a smaller WebAssembly module).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSet {
    /// Format version (1).
    #[serde(default = "version_one")]
    pub version: u32,
    /// Named thresholds, referenced as `"$name"`.
    #[serde(default)]
    pub params: BTreeMap<String, f64>,
    /// Named parameter overrides (for example per chemistry), applied with [`RuleSet::with_profile`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, BTreeMap<String, f64>>,
    /// Physical plausibility ranges.
    #[serde(default)]
    pub plausible: Vec<Plausible>,
    /// The rules, in evaluation order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

fn version_one() -> u32 {
    1
}

impl<'de> Deserialize<'de> for RuleSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        RuleSet::parse_json_value(value).map_err(serde::de::Error::custom)
    }
}

/// The part of a file outside `[[rule]]`, deserialized on its own so errors can be attributed.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Head {
    #[serde(default = "version_one")]
    version: u32,
    #[serde(default)]
    params: BTreeMap<String, f64>,
    #[serde(default)]
    profiles: BTreeMap<String, BTreeMap<String, f64>>,
    #[serde(default)]
    plausible: Vec<Plausible>,
}

fn path_string(p: &serde_path_to_error::Path) -> String {
    let s = p.to_string();
    if s == "." {
        String::new()
    } else {
        s
    }
}

impl RuleSet {
    /// Parses and validates a TOML rule file. Nothing is returned unless every rule is valid.
    ///
    /// # Errors
    /// [`RuleError::Syntax`] with line and column; [`RuleError::Field`] naming the rule and the field path
    /// for a wrong type, unknown or missing field; the errors of [`RuleSet::validate`].
    pub fn from_toml_str(text: &str) -> Result<RuleSet, RuleError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            RuleError::Syntax { format: "toml", line, column, message: e.message().to_string() }
        })?;
        if let Some(other) = table.get("rule").filter(|v| !v.is_array()) {
            return Err(RuleError::FileField {
                field: "rule".into(),
                message: format!("expected an array of tables `[[rule]]`, found {}", other.type_str()),
            });
        }
        // One deserialization path for both formats (through `serde_json::Value`): every rule type is
        // monomorphised once, which keeps the WebAssembly module small.
        Self::from_json_value(toml_to_json(toml::Value::Table(table)))
    }

    /// Parses and validates a JSON rule file (same schema as TOML; rules under `"rule"`).
    ///
    /// # Errors
    /// As [`RuleSet::from_toml_str`].
    pub fn from_json_str(text: &str) -> Result<RuleSet, RuleError> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| RuleError::Syntax {
            format: "json",
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
        Self::from_json_value(value)
    }

    /// Deserializes and validates a parsed rule file (JSON, or TOML converted by [`toml_to_json`]).
    fn from_json_value(value: serde_json::Value) -> Result<RuleSet, RuleError> {
        let set = Self::parse_json_value(value)?;
        set.validate()?;
        Ok(set)
    }

    /// Deserializes a parsed rule file without validating it (errors name the rule and the field).
    fn parse_json_value(mut value: serde_json::Value) -> Result<RuleSet, RuleError> {
        let rules_value = value.as_object_mut().and_then(|o| o.remove("rule"));
        let head: Head = serde_path_to_error::deserialize(value).map_err(|e| RuleError::FileField {
            field: path_string(e.path()),
            message: e.inner().to_string(),
        })?;
        let items = match rules_value {
            None => Vec::new(),
            Some(serde_json::Value::Array(a)) => a,
            Some(_) => {
                return Err(RuleError::FileField {
                    field: "rule".into(),
                    message: "expected an array of rules".into(),
                })
            }
        };
        let mut rules = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            let name = v.get("id").and_then(|s| s.as_str()).map_or_else(|| format!("#{i}"), str::to_string);
            let rule: Rule = serde_path_to_error::deserialize(v).map_err(|e| RuleError::Field {
                rule: name.clone(),
                field: path_string(e.path()),
                message: e.inner().to_string(),
            })?;
            rules.push(rule);
        }
        Ok(RuleSet {
            version: head.version,
            params: head.params,
            profiles: head.profiles,
            plausible: head.plausible,
            rules,
        })
    }

    /// Serializes to TOML (round-trips through [`RuleSet::from_toml_str`]).
    ///
    /// # Errors
    /// [`RuleError::FileField`] if a value cannot be written as TOML (a non-finite number).
    pub fn to_toml_string(&self) -> Result<String, RuleError> {
        toml::to_string(self)
            .map_err(|e| RuleError::FileField { field: String::new(), message: e.to_string() })
    }

    /// Serializes to pretty JSON (round-trips through [`RuleSet::from_json_str`]).
    ///
    /// # Errors
    /// [`RuleError::FileField`] if a value cannot be written (never for a validated set).
    pub fn to_json_string(&self) -> Result<String, RuleError> {
        serde_json::to_string_pretty(self)
            .map_err(|e| RuleError::FileField { field: String::new(), message: e.to_string() })
    }

    /// A copy with the parameters of `profile` applied over `[params]`.
    ///
    /// # Errors
    /// [`RuleError::UnknownProfile`] if the file has no such profile.
    pub fn with_profile(&self, profile: &str) -> Result<RuleSet, RuleError> {
        let overrides = self.profiles.get(profile).ok_or_else(|| RuleError::UnknownProfile {
            profile: profile.to_string(),
            known: self.profiles.keys().cloned().collect::<Vec<_>>().join(", "),
        })?;
        let mut out = self.clone();
        for (k, v) in overrides {
            out.params.insert(k.clone(), *v);
        }
        out.validate()?;
        Ok(out)
    }

    /// A copy with one parameter set (for example a cell's own current limit).
    ///
    /// # Errors
    /// [`RuleError::FileField`] if the value is not finite.
    pub fn with_param(&self, name: &str, value: f64) -> Result<RuleSet, RuleError> {
        if !value.is_finite() {
            return Err(RuleError::FileField {
                field: format!("params.{name}"),
                message: format!("{value} is not finite"),
            });
        }
        let mut out = self.clone();
        out.params.insert(name.to_string(), value);
        out.validate()?;
        Ok(out)
    }

    /// Resolves a threshold against `[params]`.
    pub(crate) fn resolve(&self, rule: &str, field: &str, t: &Threshold) -> Result<f64, RuleError> {
        match t {
            Threshold::Value(v) => {
                if v.is_finite() {
                    Ok(*v)
                } else {
                    Err(invalid(rule, field, v, "must be finite"))
                }
            }
            Threshold::Param(p) => {
                let (sign, rest) = match p.strip_prefix('-') {
                    Some(r) => (-1.0, r),
                    None => (1.0, p.as_str()),
                };
                let name = rest.strip_prefix('$').ok_or_else(|| {
                    invalid(
                        rule,
                        field,
                        p,
                        "a string threshold must be a parameter reference `$name` or `-$name`",
                    )
                })?;
                self.params.get(name).map(|v| sign * v).ok_or_else(|| RuleError::UnknownParam {
                    rule: rule.to_string(),
                    field: field.to_string(),
                    param: name.to_string(),
                })
            }
        }
    }

    /// Checks every rule: unique ids, finite non-negative durations, resolvable thresholds, clear thresholds
    /// on the right side, ordered ranges and escalations, bounded condition size, valid windows and patterns.
    ///
    /// # Errors
    /// The first problem found, naming the rule and field.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.version != 1 {
            return Err(RuleError::FileField {
                field: "version".into(),
                message: format!("unsupported version {} (expected 1)", self.version),
            });
        }
        if self.rules.len() > MAX_RULES {
            return Err(RuleError::FileField {
                field: "rule".into(),
                message: format!("{} rules exceed the limit {MAX_RULES}", self.rules.len()),
            });
        }
        for (k, v) in self.params.iter().chain(self.profiles.values().flat_map(|p| p.iter())) {
            if !v.is_finite() {
                return Err(RuleError::FileField {
                    field: format!("params.{k}"),
                    message: "not finite".into(),
                });
            }
        }
        for (i, p) in self.plausible.iter().enumerate() {
            check_pattern("plausible", &format!("plausible[{i}].signal"), &p.signal)?;
            if !(p.min.is_finite() && p.max.is_finite() && p.min < p.max) {
                return Err(RuleError::FileField {
                    field: format!("plausible[{i}]"),
                    message: format!("needs finite min < max, got [{}, {}]", p.min, p.max),
                });
            }
        }
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, r) in self.rules.iter().enumerate() {
            if let Some(&first) = seen.get(r.id.as_str()) {
                return Err(RuleError::DuplicateId { rule: r.id.clone(), first_index: first, index: i });
            }
            seen.insert(&r.id, i);
            self.validate_rule(r)?;
        }
        Ok(())
    }

    fn validate_rule(&self, r: &Rule) -> Result<(), RuleError> {
        let id = r.id.as_str();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
            return Err(invalid(id, "id", id, "must be non-empty letters, digits, `_`, `-` or `.`"));
        }
        for (field, v) in [("for_s", r.for_s), ("clear_for_s", r.clear_for_s), ("cooldown_s", r.cooldown_s)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(id, field, v, "must be finite and ≥ 0"));
            }
        }
        if r.dedup_key.as_deref().is_some_and(str::is_empty) {
            return Err(invalid(id, "dedup_key", "", "must not be empty"));
        }
        let mut prev_after = 0.0;
        let mut prev_sev = r.severity;
        for (j, e) in r.escalate.iter().enumerate() {
            if !(e.after_s.is_finite() && e.after_s > prev_after) {
                return Err(invalid(
                    id,
                    &format!("escalate[{j}].after_s"),
                    e.after_s,
                    "must be finite and increase (> 0 for the first step)",
                ));
            }
            if e.to <= prev_sev {
                return Err(invalid(
                    id,
                    &format!("escalate[{j}].to"),
                    e.to.as_str(),
                    "must be more severe than the previous severity",
                ));
            }
            prev_after = e.after_s;
            prev_sev = e.to;
        }
        for (j, p) in r.scope.batteries.iter().enumerate() {
            check_pattern(id, &format!("scope.batteries[{j}]"), p)?;
        }
        if let Some(p) = r.per_channel.as_deref() {
            check_pattern(id, "per_channel", p)?;
            if !p.ends_with('*') {
                return Err(invalid(id, "per_channel", p, "must be a pattern ending in `*`"));
            }
            if !r.when.names_signal(p) {
                return Err(invalid(id, "per_channel", p, "the condition never names this pattern"));
            }
        }
        let mut nodes = 0;
        self.validate_condition(id, r.per_channel.as_deref(), "when", &r.when, 1, &mut nodes)
    }

    fn validate_condition(
        &self,
        id: &str,
        each: Option<&str>,
        path: &str,
        c: &Condition,
        depth: usize,
        nodes: &mut usize,
    ) -> Result<(), RuleError> {
        *nodes += 1;
        if *nodes > MAX_CONDITION_NODES {
            return Err(RuleError::TooComplex {
                rule: id.into(),
                field: path.into(),
                size: *nodes,
                limit: MAX_CONDITION_NODES,
            });
        }
        if depth > MAX_CONDITION_DEPTH {
            return Err(RuleError::TooComplex {
                rule: id.into(),
                field: path.into(),
                size: depth,
                limit: MAX_CONDITION_DEPTH,
            });
        }
        match c {
            Condition::Above(cmp) | Condition::Below(cmp) => {
                let above = matches!(c, Condition::Above(_));
                let p = format!("{path}.{}", if above { "above" } else { "below" });
                self.validate_expr(
                    id,
                    each,
                    &p,
                    &cmp.signal,
                    cmp.across,
                    cmp.minus.as_deref(),
                    cmp.window.as_ref(),
                )?;
                let thr = self.resolve(id, &format!("{p}.threshold"), &cmp.threshold)?;
                if let Some(cl) = &cmp.clear {
                    let clear = self.resolve(id, &format!("{p}.clear"), cl)?;
                    if above && clear > thr {
                        return Err(invalid(
                            id,
                            &format!("{p}.clear"),
                            clear,
                            "must be ≤ threshold for `above`",
                        ));
                    }
                    if !above && clear < thr {
                        return Err(invalid(
                            id,
                            &format!("{p}.clear"),
                            clear,
                            "must be ≥ threshold for `below`",
                        ));
                    }
                }
                Ok(())
            }
            Condition::Outside(rt) | Condition::Inside(rt) => {
                let outside = matches!(c, Condition::Outside(_));
                let p = format!("{path}.{}", if outside { "outside" } else { "inside" });
                self.validate_expr(
                    id,
                    each,
                    &p,
                    &rt.signal,
                    rt.across,
                    rt.minus.as_deref(),
                    rt.window.as_ref(),
                )?;
                let lo = self.resolve(id, &format!("{p}.low"), &rt.low)?;
                let hi = self.resolve(id, &format!("{p}.high"), &rt.high)?;
                if lo > hi {
                    return Err(invalid(id, &format!("{p}.high"), hi, "must be ≥ low"));
                }
                let clo = rt.clear_low.as_ref().map(|t| self.resolve(id, &format!("{p}.clear_low"), t));
                let chi = rt.clear_high.as_ref().map(|t| self.resolve(id, &format!("{p}.clear_high"), t));
                let clo = clo.transpose()?.unwrap_or(lo);
                let chi = chi.transpose()?.unwrap_or(hi);
                let ok = if outside { lo <= clo && clo <= chi && chi <= hi } else { clo <= lo && hi <= chi };
                if !ok {
                    let reason = if outside {
                        "outside: need low ≤ clear_low ≤ clear_high ≤ high"
                    } else {
                        "inside: need clear_low ≤ low and high ≤ clear_high"
                    };
                    return Err(invalid(id, &format!("{p}.clear_low"), format!("[{clo}, {chi}]"), reason));
                }
                Ok(())
            }
            Condition::Missing(m) => check_pattern(id, &format!("{path}.missing.signal"), &m.signal),
            Condition::All(cs) | Condition::Any(cs) => {
                let name = if matches!(c, Condition::All(_)) { "all" } else { "any" };
                if cs.is_empty() {
                    return Err(invalid(id, &format!("{path}.{name}"), "[]", "needs at least one condition"));
                }
                for (j, sub) in cs.iter().enumerate() {
                    self.validate_condition(id, each, &format!("{path}.{name}[{j}]"), sub, depth + 1, nodes)?;
                }
                Ok(())
            }
            Condition::Not(sub) => {
                self.validate_condition(id, each, &format!("{path}.not"), sub, depth + 1, nodes)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_expr(
        &self,
        id: &str,
        each: Option<&str>,
        path: &str,
        signal: &str,
        across: Option<Across>,
        minus: Option<&str>,
        window: Option<&Window>,
    ) -> Result<(), RuleError> {
        check_pattern(id, &format!("{path}.signal"), signal)?;
        // In a `per_channel` rule the pattern stands for one channel: no reduction across channels needed.
        if signal.ends_with('*') && across.is_none() && each != Some(signal) {
            return Err(invalid(id, &format!("{path}.across"), "none", "a pattern signal needs `across`"));
        }
        if let Some(m) = minus {
            if m.is_empty() || m.contains('*') {
                return Err(invalid(
                    id,
                    &format!("{path}.minus"),
                    m,
                    "must be one signal name, not a pattern",
                ));
            }
        }
        if let Some(w) = window {
            if !(w.seconds.is_finite() && w.seconds > 0.0 && w.seconds <= MAX_WINDOW_S) {
                return Err(invalid(
                    id,
                    &format!("{path}.window.seconds"),
                    w.seconds,
                    "must be in (0, 604800]",
                ));
            }
            if !(w.per_s.is_finite() && w.per_s > 0.0) {
                return Err(invalid(id, &format!("{path}.window.per_s"), w.per_s, "must be finite and > 0"));
            }
        }
        Ok(())
    }
}

fn check_pattern(rule: &str, field: &str, p: &str) -> Result<(), RuleError> {
    let star = p.find('*');
    if p.is_empty() || p == "*" || star.is_some_and(|i| i != p.len() - 1) {
        return Err(invalid(
            rule,
            field,
            p,
            "must be a name, or a non-empty prefix followed by one final `*`",
        ));
    }
    Ok(())
}

fn invalid(rule: &str, field: &str, value: impl std::fmt::Display, reason: &str) -> RuleError {
    RuleError::Invalid {
        rule: rule.to_string(),
        field: field.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A TOML value as JSON, for the shared deserialization path of rule files. Date-times become strings; a
/// non-finite float becomes the string `"inf"`, `"-inf"` or `"nan"` (no JSON number can hold it), which a
/// numeric field then rejects as a wrong type naming the field.
fn toml_to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or_else(
            || {
                J::String(
                    if f.is_nan() {
                        "nan"
                    } else if f > 0.0 {
                        "inf"
                    } else {
                        "-inf"
                    }
                    .into(),
                )
            },
            J::Number,
        ),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect()),
    }
}
