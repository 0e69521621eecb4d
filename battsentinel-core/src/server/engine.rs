//! The alert rule engine on data arrival: every upload is evaluated with the battery's rule set (the default
//! Li-ion rules for its chemistry, with its own rules added or replacing defaults of the same id), and the
//! events become alert rows in the upload's transaction.
//!
//! No alert storms: inside one upload the engine's persistence, hysteresis, cooldown and dedup keys merge
//! episodes; across uploads an alert stays open until the engine sees its condition clear, and while it is
//! open a new episode on the same dedup key is counted on it (`occurrences`) instead of raising another.

use super::error::ApiError;
use super::state::{now_ms, Db};
use crate::alerts::{AlertEvent, AlertEventKind, Chemistry, EngineParams, Rule, RuleSet};
use crate::data::BatteryLog;
use sqlx::Row;
use std::collections::HashMap;

/// Most rules one battery may carry.
pub(crate) const MAX_BATTERY_RULES: i64 = 100;

/// The chemistry profile of the default rules for a battery's free-text chemistry.
pub(crate) fn chemistry(text: Option<&str>) -> Chemistry {
    let t = text.unwrap_or("").to_ascii_lowercase();
    if t.contains("lfp") || t.contains("lifepo") || t.contains("phosphate") {
        Chemistry::Lfp
    } else {
        Chemistry::Nmc
    }
}

/// Parses and validates one rule (JSON of [`Rule`]) against the default parameters of `chem`, so that
/// `"$v_over_v"`-style thresholds resolve.
///
/// # Errors
/// [`ApiError::Rule`] naming the rule and the field.
pub(crate) fn validate_rule(chem: Chemistry, rule: serde_json::Value) -> Result<Rule, ApiError> {
    let base = RuleSet::default_li_ion(chem);
    let doc = serde_json::json!({ "params": base.params, "plausible": base.plausible, "rule": [rule] });
    let set = RuleSet::from_json_str(&doc.to_string())?;
    set.rules.into_iter().next().ok_or_else(|| ApiError::invalid("rule", "no rule"))
}

/// The rule set in force for a battery: defaults for its chemistry, its own rules replacing defaults of the
/// same id and added after them.
pub(crate) async fn rule_set_for(
    db: &Db,
    battery_id: i64,
    chem_text: Option<&str>,
) -> Result<RuleSet, ApiError> {
    let mut set = RuleSet::default_li_ion(chemistry(chem_text));
    let rows = sqlx::query("SELECT rule_json FROM alert_rules WHERE battery_id = $1 ORDER BY id")
        .bind(battery_id)
        .fetch_all(&db.pool)
        .await?;
    for row in rows {
        let json: String = row.try_get("rule_json")?;
        let rule: Rule = serde_json::from_str(&json).map_err(|e| ApiError::Internal {
            detail: format!("stored rule of battery {battery_id}: {e}"),
        })?;
        match set.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => set.rules.push(rule),
        }
    }
    set.validate()?;
    Ok(set)
}

/// The engine's events on one upload, with the titles of the rules that caused them.
#[derive(Debug, Default)]
pub(crate) struct Evaluated {
    /// Events in time order; times are absolute (the upload's time offset added).
    pub events: Vec<AlertEvent>,
    /// Rule id → title.
    pub titles: HashMap<String, String>,
}

/// Runs the rule engine over a log (CPU-bound: call it off the async threads).
///
/// # Errors
/// [`ApiError::Rule`] if the rule set cannot be compiled.
pub(crate) fn evaluate(
    rules: &RuleSet,
    log: &BatteryLog,
    battery_id: i64,
    offset_s: f64,
) -> Result<Evaluated, ApiError> {
    let params = EngineParams::default().battery_id(battery_id.to_string());
    let mut events = crate::alerts::evaluate(rules, log, params)?;
    for e in &mut events {
        e.t_s += offset_s;
        e.onset_t_s += offset_s;
    }
    let titles = rules
        .rules
        .iter()
        .map(|r| (r.id.clone(), if r.title.is_empty() { r.id.clone() } else { r.title.clone() }))
        .collect();
    Ok(Evaluated { events, titles })
}

/// What [`record`] did.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct Recorded {
    /// New alerts.
    pub raised: u64,
    /// Episodes counted on an alert that was already open (no new alert).
    pub merged: u64,
    /// Severity raises.
    pub escalated: u64,
    /// Alerts closed because their condition cleared.
    pub cleared: u64,
    /// Ids of every alert touched, ascending.
    pub alert_ids: Vec<i64>,
}

fn severity_rank(s: &str) -> u8 {
    match s {
        "critical" => 2,
        "warning" => 1,
        _ => 0,
    }
}

fn message(e: &AlertEvent) -> String {
    let values: Vec<String> = e
        .values
        .iter()
        .map(|v| match v.value {
            Some(x) => format!("{} = {x:.6}", v.name),
            None => format!("{} missing", v.name),
        })
        .collect();
    format!("rule `{}` at t = {:.3} s (onset {:.3} s): {}", e.rule_id, e.t_s, e.onset_t_s, values.join(", "))
}

/// Writes the events of one upload into `alerts`, inside the upload's transaction.
pub(crate) async fn record(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    battery_id: i64,
    owner_id: i64,
    upload_id: i64,
    ev: &Evaluated,
) -> Result<Recorded, ApiError> {
    let mut out = Recorded::default();
    if ev.events.is_empty() {
        return Ok(out);
    }
    let rows = sqlx::query(
        "SELECT id, dedup_key, severity FROM alerts WHERE battery_id = $1 AND source = 'rule' \
         AND cleared_t_s IS NULL",
    )
    .bind(battery_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut open: HashMap<String, (i64, String)> = HashMap::new();
    for r in rows {
        if let Some(key) = r.try_get::<Option<String>, _>("dedup_key")? {
            open.insert(key, (r.try_get("id")?, r.try_get("severity")?));
        }
    }
    let mut by_engine_id: HashMap<u64, i64> = HashMap::new();
    for e in &ev.events {
        let sev = e.severity.as_str();
        match e.kind {
            AlertEventKind::Raised => {
                if let Some((id, stored)) = open.get_mut(&e.dedup_key) {
                    let keep = if severity_rank(sev) > severity_rank(stored) { sev } else { stored.as_str() };
                    let keep = keep.to_string();
                    sqlx::query(
                        "UPDATE alerts SET occurrences = occurrences + $1, severity = $2 WHERE id = $3",
                    )
                    .bind(1 + i64::from(e.suppressed_episodes))
                    .bind(&keep)
                    .bind(*id)
                    .execute(&mut **tx)
                    .await?;
                    *stored = keep;
                    by_engine_id.insert(e.alert_id, *id);
                    out.merged += 1;
                    out.alert_ids.push(*id);
                } else {
                    let title = ev.titles.get(&e.rule_id).cloned().unwrap_or_else(|| e.rule_id.clone());
                    let trigger = serde_json::to_string(&e.values)
                        .map_err(|err| ApiError::Internal { detail: format!("trigger json: {err}") })?;
                    let id: i64 = sqlx::query(
                        "INSERT INTO alerts (owner_id, battery_id, severity, title, message, source, created_ms, \
                         rule_id, dedup_key, category, upload_id, onset_t_s, occurrences, trigger_json) \
                         VALUES ($1, $2, $3, $4, $5, 'rule', $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
                    )
                    .bind(owner_id)
                    .bind(battery_id)
                    .bind(sev)
                    .bind(title)
                    .bind(message(e))
                    .bind(now_ms())
                    .bind(&e.rule_id)
                    .bind(&e.dedup_key)
                    .bind(e.category.as_str())
                    .bind(upload_id)
                    .bind(e.onset_t_s)
                    .bind(1 + i64::from(e.suppressed_episodes))
                    .bind(trigger)
                    .fetch_one(&mut **tx)
                    .await?
                    .try_get("id")?;
                    open.insert(e.dedup_key.clone(), (id, sev.to_string()));
                    by_engine_id.insert(e.alert_id, id);
                    out.raised += 1;
                    out.alert_ids.push(id);
                }
            }
            AlertEventKind::Escalated => {
                if let Some(&id) = by_engine_id.get(&e.alert_id) {
                    sqlx::query("UPDATE alerts SET severity = $1 WHERE id = $2 AND severity <> 'critical'")
                        .bind(sev)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    if let Some((_, stored)) = open.get_mut(&e.dedup_key) {
                        if severity_rank(sev) > severity_rank(stored) {
                            *stored = sev.to_string();
                        }
                    }
                    out.escalated += 1;
                    out.alert_ids.push(id);
                }
            }
            AlertEventKind::Cleared => {
                if let Some(&id) = by_engine_id.get(&e.alert_id) {
                    sqlx::query("UPDATE alerts SET cleared_t_s = $1 WHERE id = $2")
                        .bind(e.t_s)
                        .bind(id)
                        .execute(&mut **tx)
                        .await?;
                    open.remove(&e.dedup_key);
                    out.cleared += 1;
                    out.alert_ids.push(id);
                }
            }
        }
    }
    out.alert_ids.sort_unstable();
    out.alert_ids.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chemistry_from_free_text() {
        assert_eq!(chemistry(Some("LiFePO4")), Chemistry::Lfp);
        assert_eq!(chemistry(Some("LFP")), Chemistry::Lfp);
        assert_eq!(chemistry(Some("NMC811")), Chemistry::Nmc);
        assert_eq!(chemistry(None), Chemistry::Nmc);
    }

    #[test]
    fn rules_validate_against_default_params_and_name_the_field() {
        let ok = serde_json::json!({"id": "hot", "severity": "warning",
            "when": {"above": {"signal": "temperature_c:*", "across": "max", "threshold": "$t_warn_c"}}});
        assert_eq!(validate_rule(Chemistry::Nmc, ok).unwrap().id, "hot");
        let bad = serde_json::json!({"id": "hot", "severity": "warning", "for_s": -1.0,
            "when": {"above": {"signal": "voltage_v", "threshold": 4.0}}});
        let e = validate_rule(Chemistry::Nmc, bad).unwrap_err();
        match e {
            ApiError::Rule(r) => {
                assert_eq!((r.rule(), r.field()), (Some("hot"), Some("for_s")));
            }
            other => panic!("{other:?}"),
        }
    }
}
