//! The default rule set for Li-ion cells, shipped as TOML.

use super::rules::RuleSet;
use serde::{Deserialize, Serialize};

/// The default rule file (TOML), with every threshold documented and sourced in its comments.
pub const DEFAULT_RULES_TOML: &str = include_str!("default_rules.toml");

/// Cell chemistry, selecting the voltage limits of the default rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Chemistry {
    /// Layered-oxide cathodes on graphite (NMC, NCA, LCO): 4.20 V charge, 2.50 V cut-off.
    #[default]
    Nmc,
    /// Lithium iron phosphate on graphite: 3.65 V charge, 2.0 V cut-off.
    Lfp,
}

impl Chemistry {
    /// Profile name in the rule file (`"nmc"`, `"lfp"`).
    pub fn profile(self) -> &'static str {
        match self {
            Chemistry::Nmc => "nmc",
            Chemistry::Lfp => "lfp",
        }
    }
}

impl RuleSet {
    /// The default Li-ion rule set ([`DEFAULT_RULES_TOML`]) with the chemistry's profile applied:
    /// over/under-voltage, over-temperature (warning → critical on one dedup key), thermal-runaway
    /// precursor, charge temperature limits, over-current, SOH below 80 % / 70 % (one key, escalating), RUL,
    /// anomaly score, fault probability, twin residual, pack imbalance, and sensor faults (disconnected
    /// thermocouple, out-of-range readings, stuck voltage and temperature) in their own category.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::alerts::{Chemistry, RuleSet};
    /// let lfp = RuleSet::default_li_ion(Chemistry::Lfp);
    /// assert_eq!(lfp.params["v_over_v"], 3.70);
    /// assert!(lfp.rules.iter().any(|r| r.id == "thermocouple_disconnected"));
    /// ```
    pub fn default_li_ion(chemistry: Chemistry) -> RuleSet {
        // The embedded file is checked by the unit tests below; it cannot fail at run time.
        #[allow(clippy::expect_used)]
        let base = RuleSet::from_toml_str(DEFAULT_RULES_TOML).expect("embedded default rules are valid");
        #[allow(clippy::expect_used)]
        base.with_profile(chemistry.profile()).expect("embedded profiles exist")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_load_for_every_chemistry() {
        let nmc = RuleSet::default_li_ion(Chemistry::Nmc);
        let lfp = RuleSet::default_li_ion(Chemistry::Lfp);
        assert_eq!(nmc.rules.len(), 21);
        assert_eq!((nmc.params["v_over_v"], nmc.params["v_under_v"]), (4.25, 2.5));
        assert_eq!((lfp.params["v_over_v"], lfp.params["v_under_v"]), (3.70, 2.0));
        assert!(nmc.rules.iter().all(|r| !r.source.is_empty() && !r.title.is_empty()));
    }

    #[test]
    fn default_rules_round_trip_through_json_and_toml() {
        let nmc = RuleSet::default_li_ion(Chemistry::Nmc);
        let json = nmc.to_json_string().unwrap();
        assert_eq!(RuleSet::from_json_str(&json).unwrap(), nmc);
        let toml = nmc.to_toml_string().unwrap();
        assert_eq!(RuleSet::from_toml_str(&toml).unwrap(), nmc);
    }
}
