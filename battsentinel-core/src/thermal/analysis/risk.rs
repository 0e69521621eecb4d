//! A thermal risk level for the alert engine, with documented thresholds.

use serde::{Deserialize, Serialize};

/// Thermal risk, ordered `Normal < Watch < Warning < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Nothing notable.
    Normal,
    /// Worth a look: warm pack, moderate hotspot or a deviating cell.
    Watch,
    /// Act soon: hot pack or a strong hotspot.
    Warning,
    /// Act now: temperatures approaching the onset of exothermic decomposition.
    Critical,
}

impl RiskLevel {
    /// Stable snake_case code (`"normal"`, `"watch"`, `"warning"`, `"critical"`).
    pub fn code(self) -> &'static str {
        match self {
            RiskLevel::Normal => "normal",
            RiskLevel::Watch => "watch",
            RiskLevel::Warning => "warning",
            RiskLevel::Critical => "critical",
        }
    }
}

/// Thresholds of [`RiskLevel`]; each criterion gives a level and the assessment takes the highest.
///
/// Defaults, for lithium-ion packs (most cells are specified for discharge up to 55–60 °C; SEI decomposition
/// starts around 80–90 °C; well-designed packs keep cell-to-cell differences under ~5 K):
///
/// | criterion | watch | warning | critical |
/// |---|---|---|---|
/// | maximum temperature | ≥ 45 °C | ≥ 60 °C | ≥ 80 °C |
/// | hotspot peak − background | ≥ 5 K | ≥ 10 K | ≥ 20 K |
/// | outlier cell (mean − median of cell means) | any outlier | ≥ 5 K | — |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskThresholds {
    /// Maximum temperature for Watch (°C).
    pub max_temp_watch_c: f64,
    /// Maximum temperature for Warning (°C).
    pub max_temp_warning_c: f64,
    /// Maximum temperature for Critical (°C).
    pub max_temp_critical_c: f64,
    /// Hotspot ΔT for Watch (K).
    pub delta_t_watch_c: f64,
    /// Hotspot ΔT for Warning (K).
    pub delta_t_warning_c: f64,
    /// Hotspot ΔT for Critical (K).
    pub delta_t_critical_c: f64,
    /// Outlier-cell deviation for Warning (K); any outlier cell is at least Watch.
    pub cell_delta_warning_c: f64,
}

impl Default for RiskThresholds {
    fn default() -> Self {
        RiskThresholds {
            max_temp_watch_c: 45.0,
            max_temp_warning_c: 60.0,
            max_temp_critical_c: 80.0,
            delta_t_watch_c: 5.0,
            delta_t_warning_c: 10.0,
            delta_t_critical_c: 20.0,
            cell_delta_warning_c: 5.0,
        }
    }
}

/// The criterion behind a [`RiskReason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskCriterion {
    /// Image maximum temperature.
    MaxTemperature,
    /// Hottest hotspot's peak above background.
    HotspotDeltaT,
    /// A cell deviating from the others (robust z-score).
    OutlierCell,
}

/// One criterion that raised the level above Normal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskReason {
    /// The criterion.
    pub criterion: RiskCriterion,
    /// The level it gives.
    pub level: RiskLevel,
    /// Measured value (°C or K).
    pub value: f64,
    /// Threshold crossed.
    pub threshold: f64,
    /// Cell label, for [`RiskCriterion::OutlierCell`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cell: Option<String>,
}

/// The overall risk and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskAssessment {
    /// Highest level over all criteria.
    pub level: RiskLevel,
    /// Criteria above Normal.
    pub reasons: Vec<RiskReason>,
    /// Temperatures were approximate (palette-mapped): treat the level as indicative.
    pub approximate: bool,
}

pub(crate) fn assess(
    t: &RiskThresholds,
    max_c: f64,
    max_delta_t_c: f64,
    outlier_cells: &[(String, f64)],
    approximate: bool,
) -> RiskAssessment {
    let mut reasons = Vec::new();
    let mut grade = |criterion, value: f64, levels: &[(f64, RiskLevel)], cell: Option<String>| {
        if let Some(&(threshold, level)) = levels.iter().find(|(th, _)| value.is_finite() && value >= *th) {
            reasons.push(RiskReason { criterion, level, value, threshold, cell });
        }
    };
    grade(
        RiskCriterion::MaxTemperature,
        max_c,
        &[
            (t.max_temp_critical_c, RiskLevel::Critical),
            (t.max_temp_warning_c, RiskLevel::Warning),
            (t.max_temp_watch_c, RiskLevel::Watch),
        ],
        None,
    );
    grade(
        RiskCriterion::HotspotDeltaT,
        max_delta_t_c,
        &[
            (t.delta_t_critical_c, RiskLevel::Critical),
            (t.delta_t_warning_c, RiskLevel::Warning),
            (t.delta_t_watch_c, RiskLevel::Watch),
        ],
        None,
    );
    for (label, delta) in outlier_cells {
        grade(
            RiskCriterion::OutlierCell,
            delta.abs(),
            &[(t.cell_delta_warning_c, RiskLevel::Warning), (0.0, RiskLevel::Watch)],
            Some(label.clone()),
        );
    }
    let level = reasons.iter().map(|r| r.level).max().unwrap_or(RiskLevel::Normal);
    RiskAssessment { level, reasons, approximate }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_table() {
        let t = RiskThresholds::default();
        assert_eq!(assess(&t, 30.0, 2.0, &[], false).level, RiskLevel::Normal);
        assert_eq!(assess(&t, 46.0, 2.0, &[], false).level, RiskLevel::Watch);
        assert_eq!(assess(&t, 30.0, 12.0, &[], false).level, RiskLevel::Warning);
        assert_eq!(assess(&t, 85.0, 2.0, &[], false).level, RiskLevel::Critical);
        assert_eq!(assess(&t, 30.0, 2.0, &[("r1c1".into(), 1.5)], false).level, RiskLevel::Watch);
        let a = assess(&t, 30.0, 2.0, &[("r1c1".into(), -6.0)], true);
        assert_eq!(a.level, RiskLevel::Warning);
        assert_eq!(a.reasons[0].cell.as_deref(), Some("r1c1"));
        assert!(a.approximate);
        assert!(RiskLevel::Critical > RiskLevel::Warning && RiskLevel::Watch > RiskLevel::Normal);
        assert_eq!(RiskLevel::Warning.code(), "warning");
    }
}
