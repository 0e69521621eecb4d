//! `/api/batteries/{id}/rules`: the alert rules of one battery. The default Li-ion rules of the battery's
//! chemistry always apply; a battery rule with the id of a default rule replaces it (for example to change
//! its threshold, or `"enabled": false` to switch it off), any other id adds a rule. Every rule is validated
//! by the rule engine: errors name the rule and the field.

use super::batteries::owned;
use crate::server::auth::AuthUser;
use crate::server::engine::{chemistry, rule_set_for, validate_rule, MAX_BATTERY_RULES};
use crate::server::error::{ApiError, ErrorBody};
use crate::server::extract::{ApiJson, ApiPath};
use crate::server::state::{now_ms, rfc3339, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use sqlx::Row;

/// A battery rule as stored.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct RuleOut {
    /// Rule id (unique per battery).
    pub id: String,
    /// The rule (the rule engine's JSON form: `id`, `severity`, `when`, `for_s`, `cooldown_s`, …).
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
    /// True when it replaces a default rule of the same id.
    pub overrides_default: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last update (RFC 3339).
    pub updated_at: String,
}

/// One alert rule in the rule engine's JSON form (`alerts::Rule`): `id`, `title`, `severity`, `category`,
/// `when` (a condition tree of `above`/`below`/`inside`/`outside`/`missing` and `all`/`any`/`not`), `for_s`,
/// `clear_for_s`, `cooldown_s`, `dedup_key`, `escalate`, `enabled`. Thresholds may name the default rules'
/// parameters (`"$v_over_v"`).
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub(crate) struct RuleIn(pub serde_json::Value);

/// The rules of a battery.
#[derive(Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct RulesOut {
    /// Battery.
    pub battery_id: i64,
    /// Chemistry profile of the default rules (`nmc` or `lfp`).
    pub profile: String,
    /// The battery's own rules.
    pub rules: Vec<RuleOut>,
    /// Ids of every rule evaluated on uploads (defaults and own rules, enabled ones only), in order.
    pub in_force: Vec<String>,
}

fn from_row(row: &sqlx::any::AnyRow, defaults: &[String]) -> Result<RuleOut, ApiError> {
    let id: String = row.try_get("rule_id")?;
    let json: String = row.try_get("rule_json")?;
    Ok(RuleOut {
        overrides_default: defaults.contains(&id),
        id,
        rule: serde_json::from_str(&json)
            .map_err(|e| ApiError::Internal { detail: format!("stored rule json: {e}") })?,
        created_at: rfc3339(row.try_get("created_ms")?),
        updated_at: rfc3339(row.try_get("updated_ms")?),
    })
}

/// Checks that the battery's whole rule set stays valid with `rule` added or replaced.
async fn check_with(
    state: &AppState,
    battery_id: i64,
    chem: Option<&str>,
    rule: &crate::alerts::Rule,
) -> Result<(), ApiError> {
    let mut set = rule_set_for(&state.db, battery_id, chem).await?;
    match set.rules.iter_mut().find(|r| r.id == rule.id) {
        Some(slot) => *slot = rule.clone(),
        None => set.rules.push(rule.clone()),
    }
    set.validate()?;
    Ok(())
}

fn default_ids(chem: Option<&str>) -> Vec<String> {
    crate::alerts::RuleSet::default_li_ion(chemistry(chem)).rules.into_iter().map(|r| r.id).collect()
}

const RULE_COLUMNS: &str = "rule_id, rule_json, created_ms, updated_ms";

/// The battery's own rules and the ids of every rule in force.
#[utoipa::path(get, path = "/api/batteries/{id}/rules", tag = "alerts",
    params(("id" = i64, Path, description = "Battery id")), security(("bearer" = [])),
    responses((status = 200, description = "Rules", body = RulesOut),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody)))]
pub(crate) async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<RulesOut>, ApiError> {
    let battery = owned(&state, &user, id).await?;
    let chem = battery.chemistry.as_deref();
    let defaults = default_ids(chem);
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {RULE_COLUMNS} FROM alert_rules WHERE battery_id = $1 ORDER BY id"
    )))
    .bind(battery.id)
    .fetch_all(&state.db.pool)
    .await?;
    let rules = rows.iter().map(|r| from_row(r, &defaults)).collect::<Result<_, _>>()?;
    let set = rule_set_for(&state.db, battery.id, chem).await?;
    Ok(ApiJson(RulesOut {
        battery_id: battery.id,
        profile: chemistry(chem).profile().to_string(),
        rules,
        in_force: set.rules.into_iter().filter(|r| r.enabled).map(|r| r.id).collect(),
    }))
}

/// Adds a rule to the battery (or replaces the default rule of the same id).
#[utoipa::path(post, path = "/api/batteries/{id}/rules", tag = "alerts",
    params(("id" = i64, Path, description = "Battery id")),
    request_body = RuleIn,
    security(("bearer" = [])),
    responses((status = 201, description = "Created", body = RuleOut),
              (status = 400, description = "Malformed JSON or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery for this user", body = ErrorBody),
              (status = 409, description = "The battery already has a rule with this id", body = ErrorBody),
              (status = 422, description = "Invalid rule (the message names rule and field)", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(RuleIn(body)): ApiJson<RuleIn>,
) -> Result<(StatusCode, ApiJson<RuleOut>), ApiError> {
    let battery = owned(&state, &user, id).await?;
    let chem = battery.chemistry.as_deref();
    let rule = validate_rule(chemistry(chem), body)?;
    check_with(&state, battery.id, chem, &rule).await?;
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM alert_rules WHERE battery_id = $1")
        .bind(battery.id)
        .fetch_one(&state.db.pool)
        .await?
        .try_get("n")?;
    if n >= MAX_BATTERY_RULES {
        return Err(ApiError::invalid(
            "rule",
            format!("a battery may carry at most {MAX_BATTERY_RULES} rules"),
        ));
    }
    let json =
        serde_json::to_string(&rule).map_err(|e| ApiError::Internal { detail: format!("rule json: {e}") })?;
    let now = now_ms();
    let res = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO alert_rules (battery_id, rule_id, rule_json, created_ms, updated_ms) \
         VALUES ($1, $2, $3, $4, $4) RETURNING {RULE_COLUMNS}"
    )))
    .bind(battery.id)
    .bind(&rule.id)
    .bind(json)
    .bind(now)
    .fetch_one(&state.db.pool)
    .await;
    match res {
        Ok(row) => Ok((StatusCode::CREATED, ApiJson(from_row(&row, &default_ids(chem))?))),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(ApiError::Conflict {
            code: "rule_exists",
            message: format!(
                "battery {} already has a rule `{}`; use PUT to replace it",
                battery.id, rule.id
            ),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Replaces one of the battery's rules (the body's `id` must be the path's, or absent).
#[utoipa::path(put, path = "/api/batteries/{id}/rules/{rule_id}", tag = "alerts",
    params(("id" = i64, Path, description = "Battery id"), ("rule_id" = String, Path, description = "Rule id")),
    request_body = RuleIn,
    security(("bearer" = [])),
    responses((status = 200, description = "Replaced", body = RuleOut),
              (status = 400, description = "Malformed JSON or id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery or rule for this user", body = ErrorBody),
              (status = 422, description = "Invalid rule (the message names rule and field)", body = ErrorBody),
              (status = 415, description = "Body is not application/json", body = ErrorBody)))]
pub(crate) async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, rule_id)): ApiPath<(i64, String)>,
    ApiJson(RuleIn(mut body)): ApiJson<RuleIn>,
) -> Result<ApiJson<RuleOut>, ApiError> {
    let battery = owned(&state, &user, id).await?;
    let chem = battery.chemistry.as_deref();
    if let Some(obj) = body.as_object_mut() {
        match obj.get("id") {
            None => {
                obj.insert("id".into(), serde_json::Value::String(rule_id.clone()));
            }
            Some(v) if v.as_str() == Some(rule_id.as_str()) => {}
            Some(_) => return Err(ApiError::invalid("id", "must equal the rule id of the path")),
        }
    }
    let rule = validate_rule(chemistry(chem), body)?;
    check_with(&state, battery.id, chem, &rule).await?;
    let json =
        serde_json::to_string(&rule).map_err(|e| ApiError::Internal { detail: format!("rule json: {e}") })?;
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE alert_rules SET rule_json = $1, updated_ms = $2 WHERE battery_id = $3 AND rule_id = $4 \
         RETURNING {RULE_COLUMNS}"
    )))
    .bind(json)
    .bind(now_ms())
    .bind(battery.id)
    .bind(&rule_id)
    .fetch_optional(&state.db.pool)
    .await?
    .ok_or(ApiError::NotFound { resource: "rule" })?;
    Ok(ApiJson(from_row(&row, &default_ids(chem))?))
}

/// Deletes one of the battery's rules (a default rule it replaced applies again).
#[utoipa::path(delete, path = "/api/batteries/{id}/rules/{rule_id}", tag = "alerts",
    params(("id" = i64, Path, description = "Battery id"), ("rule_id" = String, Path, description = "Rule id")),
    security(("bearer" = [])),
    responses((status = 204, description = "Deleted"),
              (status = 400, description = "Bad id", body = ErrorBody),
              (status = 401, description = "Not logged in", body = ErrorBody),
              (status = 404, description = "No such battery or rule for this user", body = ErrorBody)))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, rule_id)): ApiPath<(i64, String)>,
) -> Result<StatusCode, ApiError> {
    let battery = owned(&state, &user, id).await?;
    let n = sqlx::query("DELETE FROM alert_rules WHERE battery_id = $1 AND rule_id = $2")
        .bind(battery.id)
        .bind(&rule_id)
        .execute(&state.db.pool)
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound { resource: "rule" });
    }
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/batteries/{id}/rules", get(list).post(create))
        .route("/batteries/{id}/rules/{rule_id}", axum::routing::put(update).delete(delete))
}
