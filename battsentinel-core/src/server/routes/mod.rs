//! One file per resource, each exporting `router()`; shared pagination and validation helpers.

pub(crate) mod admin;
pub(crate) mod ai;
pub(crate) mod alerts;
pub(crate) mod auth;
pub(crate) mod batteries;
pub(crate) mod data;
pub(crate) mod health;
pub(crate) mod openapi;
pub(crate) mod rules;
pub(crate) mod twin;

use super::error::ApiError;

/// `?page=&per_page=` of every list endpoint (1-based page, 1–100 items, default 20).
#[derive(Debug, Clone, Copy, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Page number, from 1 (default 1).
    #[param(minimum = 1)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// `(page, per_page, offset)` after validation.
    pub(crate) fn resolve(self) -> Result<(u32, u32, i64), ApiError> {
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if page == 0 {
            return Err(ApiError::invalid("page", "must be at least 1"));
        }
        if !(1..=100).contains(&per_page) {
            return Err(ApiError::invalid("per_page", "must be between 1 and 100"));
        }
        Ok((page, per_page, i64::from(page - 1) * i64::from(per_page)))
    }
}

/// Checks a free-text field: trimmed length in `min..=max` characters, no control characters.
pub(crate) fn check_text(field: &str, value: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let v = value.trim();
    let n = v.chars().count();
    if n < min || n > max {
        return Err(ApiError::invalid(field, format!("must be {min} to {max} characters")));
    }
    if v.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(ApiError::invalid(field, "must not contain control characters"));
    }
    Ok(v.to_string())
}

/// Checks an optional free-text field (empty → `None`).
pub(crate) fn check_opt_text(
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Result<Option<String>, ApiError> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => check_text(field, v, 1, max).map(Some),
    }
}

/// Checks an optional strictly positive, finite quantity.
pub(crate) fn check_opt_positive(field: &str, value: Option<f64>) -> Result<Option<f64>, ApiError> {
    match value {
        Some(v) if !(v.is_finite() && v > 0.0) => Err(ApiError::invalid(field, "must be a positive number")),
        other => Ok(other),
    }
}
