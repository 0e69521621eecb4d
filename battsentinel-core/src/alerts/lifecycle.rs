//! Alert lifecycle (raised → acknowledged/read → cleared) and delivery to notifiers.

use super::engine::{AlertEvent, AlertEventKind, TriggerValue};
use super::rules::{Category, Severity};
use super::RuleError;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

/// Where an alert is in its lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertStatus {
    /// Raised and not yet acknowledged.
    Raised,
    /// Acknowledged by an operator, condition still present.
    Acknowledged,
    /// The condition is gone (acknowledged or not).
    Cleared,
}

/// A severity change of an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationRecord {
    /// When (s).
    pub t_s: f64,
    /// New severity.
    pub severity: Severity,
    /// Rule that escalated it.
    pub rule_id: String,
}

/// One alert, from its raise to its clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Number given by the engine.
    pub alert_id: u64,
    /// Battery.
    pub battery_id: Option<String>,
    /// Dedup key.
    pub dedup_key: String,
    /// Rule that raised it.
    pub rule_id: String,
    /// Category of the raising rule.
    pub category: Category,
    /// Current severity.
    pub severity: Severity,
    /// When the condition began (s).
    pub onset_t_s: f64,
    /// When the alert was raised (s).
    pub raised_t_s: f64,
    /// The values that raised it.
    pub trigger_values: Vec<TriggerValue>,
    /// Episodes merged by the cooldown before this raise.
    pub suppressed_episodes: u32,
    /// Severity changes.
    pub escalations: Vec<EscalationRecord>,
    /// When it was first read (s).
    pub read_t_s: Option<f64>,
    /// When it was acknowledged (s).
    pub acknowledged_t_s: Option<f64>,
    /// Who acknowledged it.
    pub acknowledged_by: Option<String>,
    /// When it cleared (s).
    pub cleared_t_s: Option<f64>,
    /// The values when it cleared.
    pub clear_values: Vec<TriggerValue>,
}

impl Alert {
    /// Lifecycle status.
    pub fn status(&self) -> AlertStatus {
        if self.cleared_t_s.is_some() {
            AlertStatus::Cleared
        } else if self.acknowledged_t_s.is_some() {
            AlertStatus::Acknowledged
        } else {
            AlertStatus::Raised
        }
    }
}

/// The alerts built from an event stream (several batteries allowed), with operator actions.
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::{evaluate, AlertBook, AlertStatus, EngineParams, RuleSet};
/// use battsentinel_core::BatteryLog;
/// let rules = RuleSet::from_toml_str(r#"
/// [[rule]]
/// id = "hot"
/// severity = "critical"
/// when = { above = { signal = "temperature_c:*", across = "max", threshold = 60 } }
/// "#).unwrap();
/// let mut log = BatteryLog::with_time(vec![0.0, 1.0, 2.0]);
/// log.temperatures_c.push(battsentinel_core::Channel::new("TC1", "°C", vec![25.0, 61.0, 61.5]));
/// let mut book = AlertBook::default();
/// for e in evaluate(&rules, &log, EngineParams::default()).unwrap() {
///     book.apply(&e).unwrap();
/// }
/// book.acknowledge(None, 1, 5.0, "operator").unwrap();
/// assert_eq!(book.alerts()[0].status(), AlertStatus::Acknowledged);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AlertBook {
    alerts: Vec<Alert>,
    #[serde(skip)]
    index: BTreeMap<(Option<String>, u64), usize>,
}

impl AlertBook {
    /// Every alert, in raise order.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Alerts not yet cleared.
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.cleared_t_s.is_none())
    }

    /// Alerts nobody acknowledged yet (cleared or not).
    pub fn unacknowledged(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.iter().filter(|a| a.acknowledged_t_s.is_none())
    }

    /// One alert.
    pub fn get(&self, battery_id: Option<&str>, alert_id: u64) -> Option<&Alert> {
        self.position(battery_id, alert_id).map(|i| &self.alerts[i])
    }

    fn position(&self, battery_id: Option<&str>, alert_id: u64) -> Option<usize> {
        if self.index.len() == self.alerts.len() {
            self.index.get(&(battery_id.map(str::to_string), alert_id)).copied()
        } else {
            // After deserialization the index is empty: fall back to a scan.
            self.alerts.iter().position(|a| a.alert_id == alert_id && a.battery_id.as_deref() == battery_id)
        }
    }

    /// Applies one engine event.
    ///
    /// # Errors
    /// [`RuleError::UnknownAlert`] for an escalation or clear of an alert never raised here;
    /// [`RuleError::DuplicateAlert`] for a second raise of the same alert.
    pub fn apply(&mut self, e: &AlertEvent) -> Result<(), RuleError> {
        let pos = self.position(e.battery_id.as_deref(), e.alert_id);
        match (e.kind, pos) {
            (AlertEventKind::Raised, None) => {
                if self.index.len() != self.alerts.len() {
                    self.rebuild_index();
                }
                self.index.insert((e.battery_id.clone(), e.alert_id), self.alerts.len());
                self.alerts.push(Alert {
                    alert_id: e.alert_id,
                    battery_id: e.battery_id.clone(),
                    dedup_key: e.dedup_key.clone(),
                    rule_id: e.rule_id.clone(),
                    category: e.category,
                    severity: e.severity,
                    onset_t_s: e.onset_t_s,
                    raised_t_s: e.t_s,
                    trigger_values: e.values.clone(),
                    suppressed_episodes: e.suppressed_episodes,
                    escalations: Vec::new(),
                    read_t_s: None,
                    acknowledged_t_s: None,
                    acknowledged_by: None,
                    cleared_t_s: None,
                    clear_values: Vec::new(),
                });
                Ok(())
            }
            (AlertEventKind::Raised, Some(_)) => {
                Err(RuleError::DuplicateAlert { battery_id: e.battery_id.clone(), alert_id: e.alert_id })
            }
            (_, None) => {
                Err(RuleError::UnknownAlert { battery_id: e.battery_id.clone(), alert_id: e.alert_id })
            }
            (AlertEventKind::Escalated, Some(i)) => {
                let a = &mut self.alerts[i];
                a.severity = e.severity;
                a.escalations.push(EscalationRecord {
                    t_s: e.t_s,
                    severity: e.severity,
                    rule_id: e.rule_id.clone(),
                });
                Ok(())
            }
            (AlertEventKind::Cleared, Some(i)) => {
                let a = &mut self.alerts[i];
                a.cleared_t_s = Some(e.t_s);
                a.clear_values = e.values.clone();
                Ok(())
            }
        }
    }

    fn rebuild_index(&mut self) {
        self.index =
            self.alerts.iter().enumerate().map(|(i, a)| ((a.battery_id.clone(), a.alert_id), i)).collect();
    }

    /// Marks an alert read at `t_s` (the first read is kept).
    ///
    /// # Errors
    /// [`RuleError::UnknownAlert`].
    pub fn mark_read(
        &mut self,
        battery_id: Option<&str>,
        alert_id: u64,
        t_s: f64,
    ) -> Result<&Alert, RuleError> {
        let i = self.require(battery_id, alert_id)?;
        let a = &mut self.alerts[i];
        a.read_t_s.get_or_insert(t_s);
        Ok(a)
    }

    /// Acknowledges an alert at `t_s` by `who` (also marks it read; the first acknowledgement is kept).
    ///
    /// # Errors
    /// [`RuleError::UnknownAlert`].
    pub fn acknowledge(
        &mut self,
        battery_id: Option<&str>,
        alert_id: u64,
        t_s: f64,
        who: &str,
    ) -> Result<&Alert, RuleError> {
        let i = self.require(battery_id, alert_id)?;
        let a = &mut self.alerts[i];
        a.read_t_s.get_or_insert(t_s);
        if a.acknowledged_t_s.is_none() {
            a.acknowledged_t_s = Some(t_s);
            a.acknowledged_by = Some(who.to_string());
        }
        Ok(a)
    }

    fn require(&self, battery_id: Option<&str>, alert_id: u64) -> Result<usize, RuleError> {
        self.position(battery_id, alert_id)
            .ok_or_else(|| RuleError::UnknownAlert { battery_id: battery_id.map(str::to_string), alert_id })
    }
}

/// A failed delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("delivery failed: {message}")]
pub struct DeliveryError {
    /// What went wrong.
    pub message: String,
    /// False when retrying cannot help (the event is recorded as failed at once).
    pub retryable: bool,
}

/// A destination for alert events (in-memory list, webhook, e-mail …). Called by an [`Outbox`], never by
/// the engine, so a slow or failing destination never blocks evaluation.
pub trait Notifier {
    /// Name used in delivery records.
    fn name(&self) -> &str;
    /// Delivers one event.
    ///
    /// # Errors
    /// [`DeliveryError`] when the destination did not take it.
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), DeliveryError>;
}

/// An in-memory sink; it can be told to fail its next deliveries (for tests of retries).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemorySink {
    /// Events delivered, in order.
    pub received: Vec<AlertEvent>,
    /// Number of upcoming deliveries that fail (retryable).
    pub fail_next: usize,
}

impl Notifier for MemorySink {
    fn name(&self) -> &str {
        "memory"
    }

    fn deliver(&mut self, event: &AlertEvent) -> Result<(), DeliveryError> {
        if self.fail_next > 0 {
            self.fail_next -= 1;
            return Err(DeliveryError { message: "sink unavailable".into(), retryable: true });
        }
        self.received.push(event.clone());
        Ok(())
    }
}

/// One delivery attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    /// Notifier name.
    pub notifier: String,
    /// Alert number.
    pub alert_id: u64,
    /// Event kind.
    pub kind: AlertEventKind,
    /// Attempt number, from 1.
    pub attempt: u32,
    /// When it was tried (s, the caller's clock).
    pub t_s: f64,
    /// The error, `None` on success.
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
struct Queued {
    event: AlertEvent,
    attempts: u32,
    next_t_s: f64,
}

/// A delivery queue: evaluation enqueues events (cheap, never blocks); [`Outbox::flush`] delivers them in
/// order, retrying failures with exponential back-off (`backoff_s · 2^(attempt−1)`) up to `max_attempts`.
/// Every attempt is recorded; events that exhaust their attempts stay in [`Outbox::failed`], never lost.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    queue: VecDeque<Queued>,
    failed: Vec<AlertEvent>,
    records: Vec<DeliveryRecord>,
    max_attempts: u32,
    backoff_s: f64,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox::new(5, 1.0)
    }
}

impl Outbox {
    /// An empty outbox (`max_attempts` at least 1; a non-finite or negative back-off counts as 0).
    pub fn new(max_attempts: u32, backoff_s: f64) -> Self {
        Outbox {
            queue: VecDeque::new(),
            failed: Vec::new(),
            records: Vec::new(),
            max_attempts: max_attempts.max(1),
            backoff_s: if backoff_s.is_finite() && backoff_s > 0.0 { backoff_s } else { 0.0 },
        }
    }

    /// Queues events for delivery.
    pub fn enqueue(&mut self, events: impl IntoIterator<Item = AlertEvent>) {
        self.queue.extend(events.into_iter().map(|event| Queued {
            event,
            attempts: 0,
            next_t_s: f64::NEG_INFINITY,
        }));
    }

    /// Delivers every due event at time `now_s`, in order; returns how many were delivered. An event that
    /// fails waits for its back-off; later events do not overtake it (order is kept).
    pub fn flush(&mut self, now_s: f64, notifier: &mut dyn Notifier) -> usize {
        let mut delivered = 0;
        while let Some(q) = self.queue.front_mut() {
            if q.next_t_s > now_s {
                break;
            }
            q.attempts += 1;
            let result = notifier.deliver(&q.event);
            self.records.push(DeliveryRecord {
                notifier: notifier.name().to_string(),
                alert_id: q.event.alert_id,
                kind: q.event.kind,
                attempt: q.attempts,
                t_s: now_s,
                error: result.as_ref().err().map(|e| e.message.clone()),
            });
            match result {
                Ok(()) => {
                    self.queue.pop_front();
                    delivered += 1;
                }
                Err(e) if e.retryable && q.attempts < self.max_attempts => {
                    q.next_t_s = now_s + self.backoff_s * f64::powi(2.0, q.attempts as i32 - 1);
                    break;
                }
                Err(_) => {
                    if let Some(q) = self.queue.pop_front() {
                        self.failed.push(q.event);
                    }
                }
            }
        }
        delivered
    }

    /// Events waiting for delivery.
    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Events whose delivery failed for good.
    pub fn failed(&self) -> &[AlertEvent] {
        &self.failed
    }

    /// Every delivery attempt.
    pub fn records(&self) -> &[DeliveryRecord] {
        &self.records
    }
}
