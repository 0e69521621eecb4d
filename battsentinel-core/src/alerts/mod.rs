//! Alert rule engine: declarative rules evaluated on live streams and on histories alike, with a lifecycle.
//!
//! - [`RuleSet`]: rules as data (TOML or JSON), validated on load; errors name the rule and the field
//!   ([`RuleError`]). A rule's condition is a bounded tree of comparisons (`above`, `below`, `inside`,
//!   `outside`, `missing`) composed with `all`/`any`/`not`. A comparison reads a signal (or a reduction
//!   `across` channels such as the cell-to-cell `spread`), optionally minus another signal (twin residual),
//!   optionally aggregated over a sliding `window` (mean/min/max/range/rate). Rules carry persistence
//!   (`for_s`), hysteresis (`clear`), a clear delay, cooldown, dedup keys, escalation and a scope.
//! - [`RuleSet::default_li_ion`]: the default rule set for Li-ion cells, with documented thresholds per
//!   chemistry ([`Chemistry`]).
//! - [`AlertEngine`]: streaming evaluation, `push(sample) → events`, with memory bounded by the windows;
//!   [`AlertEngine::evaluate`] / [`evaluate`] over a [`crate::data::BatteryLog`] give exactly the streamed events.
//!   [`AlertEngine::snapshot`] saves a running engine's complete state ([`EngineSnapshot`], serde/JSON) and
//!   [`AlertEngine::from_snapshot`] resumes it with identical events (validated; [`RuleError::Snapshot`]).
//! - [`AlertBook`]: the lifecycle of alerts (raised → acknowledged/read → cleared) built from the events;
//!   [`Outbox`] delivers events to [`Notifier`]s without blocking evaluation, retrying and recording failures;
//!   [`MemorySink`] in memory and, with the `webhook` feature, `WebhookSink` over HTTP(S).
//!
//! The module depends only on the shared data model: model and twin outputs (fault probability, anomaly
//! score, RUL, twin voltage, SOH) arrive as named signals of the stream.

mod defaults;
mod engine;
mod error;
mod lifecycle;
mod rules;
#[cfg(feature = "webhook")]
mod webhook;

pub use defaults::{Chemistry, DEFAULT_RULES_TOML};
pub use engine::{
    evaluate, log_signals, AlertEngine, AlertEvent, AlertEventKind, EngineParams, EngineSnapshot,
    EngineState, EngineStats, EngineValidParams, Sample, TriggerValue, SNAPSHOT_VERSION,
};
pub use error::RuleError;
pub use lifecycle::{
    Alert, AlertBook, AlertStatus, DeliveryError, DeliveryRecord, EscalationRecord, MemorySink, Notifier,
    Outbox,
};
pub use rules::{
    pattern_matches, Across, Aggregate, Category, Compare, Condition, Escalation, MissingTest, Plausible,
    RangeTest, Rule, RuleSet, Scope, Severity, Threshold, Window, MAX_CONDITION_DEPTH, MAX_CONDITION_NODES,
    MAX_RULES, MAX_WINDOW_S,
};
#[cfg(feature = "webhook")]
pub use webhook::{webhook_signature, WebhookParams, WebhookSink, WebhookValidParams};
