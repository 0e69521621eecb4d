//! Errors of the `alerts` module.

/// Errors raised while loading, validating or compiling alert rules.
///
/// Every variant that concerns one rule names it (`rule`, its id or `#<index>` when the id itself is
/// missing) and the offending `field` as a dotted path inside the rule (`when.all[1].above.threshold`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The file is not valid TOML / JSON at all.
    #[error("{format} syntax error at line {line}, column {column}: {message}")]
    Syntax {
        /// `"toml"` or `"json"`.
        format: &'static str,
        /// 1-based line (0 when the parser does not say).
        line: usize,
        /// 1-based column (0 when the parser does not say).
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A top-level field of the rule file (outside `[[rule]]`) has the wrong type or is unknown.
    #[error("rule file field `{field}`: {message}")]
    FileField {
        /// Dotted path of the field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A rule field has the wrong type, is unknown or is missing.
    #[error("rule `{rule}` field `{field}`: {message}")]
    Field {
        /// Rule id (or `#<index>`).
        rule: String,
        /// Dotted path inside the rule.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A rule field has a value outside what is allowed.
    #[error("rule `{rule}` field `{field}` = {value}: {reason}")]
    Invalid {
        /// Rule id (or `#<index>`).
        rule: String,
        /// Dotted path inside the rule.
        field: String,
        /// The offending value, formatted.
        value: String,
        /// What is allowed.
        reason: String,
    },
    /// Two rules share one id.
    #[error("rule `{rule}` is defined twice (rules #{first_index} and #{index})")]
    DuplicateId {
        /// The duplicated id.
        rule: String,
        /// Index of the first definition.
        first_index: usize,
        /// Index of the second definition.
        index: usize,
    },
    /// A threshold refers to a parameter (`"$name"`) that the rule file does not define.
    #[error("rule `{rule}` field `{field}` refers to unknown parameter `${param}`")]
    UnknownParam {
        /// Rule id.
        rule: String,
        /// Dotted path inside the rule.
        field: String,
        /// Parameter name without the `$`.
        param: String,
    },
    /// A profile name that the rule file does not define.
    #[error("unknown profile `{profile}` (known: {known})")]
    UnknownProfile {
        /// The requested profile.
        profile: String,
        /// Comma-separated known profiles.
        known: String,
    },
    /// A rule whose condition tree exceeds the evaluation bounds.
    #[error("rule `{rule}` field `{field}` is too complex: {size} exceeds the limit {limit}")]
    TooComplex {
        /// Rule id.
        rule: String,
        /// Dotted path of the offending node.
        field: String,
        /// Measured size (nodes or depth).
        size: usize,
        /// The bound.
        limit: usize,
    },
    /// An operation on an alert the book does not hold.
    #[error("unknown alert {alert_id} (battery {battery_id:?})")]
    UnknownAlert {
        /// Battery.
        battery_id: Option<String>,
        /// Alert number.
        alert_id: u64,
    },
    /// A second `raised` event for an alert the book already holds.
    #[error("alert {alert_id} (battery {battery_id:?}) raised twice")]
    DuplicateAlert {
        /// Battery.
        battery_id: Option<String>,
        /// Alert number.
        alert_id: u64,
    },
    /// An engine snapshot whose version is unknown or whose state does not fit its rules.
    #[error("engine snapshot field `{field}`: {message}")]
    Snapshot {
        /// Dotted path of the offending field (`state.rules[3].esc_next`).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Invalid engine parameters.
    #[error(transparent)]
    Params(#[from] crate::params::ParamError),
}

impl RuleError {
    /// Stable snake_case code, shared by every front-end.
    ///
    /// # Examples
    /// ```
    /// use battsentinel_core::alerts::RuleSet;
    /// let e = RuleSet::from_toml_str("[[rule]]\nid = 3").unwrap_err();
    /// assert_eq!(e.code(), "rule_field");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            RuleError::Syntax { .. } => "rule_syntax",
            RuleError::FileField { .. } => "rule_file_field",
            RuleError::Field { .. } => "rule_field",
            RuleError::Invalid { .. } => "rule_invalid",
            RuleError::DuplicateId { .. } => "rule_duplicate_id",
            RuleError::UnknownParam { .. } => "rule_unknown_param",
            RuleError::UnknownProfile { .. } => "rule_unknown_profile",
            RuleError::TooComplex { .. } => "rule_too_complex",
            RuleError::UnknownAlert { .. } => "unknown_alert",
            RuleError::DuplicateAlert { .. } => "duplicate_alert",
            RuleError::Snapshot { .. } => "invalid_snapshot",
            RuleError::Params(e) => e.code(),
        }
    }

    /// The rule concerned, when the error concerns one rule.
    pub fn rule(&self) -> Option<&str> {
        match self {
            RuleError::Field { rule, .. }
            | RuleError::Invalid { rule, .. }
            | RuleError::DuplicateId { rule, .. }
            | RuleError::UnknownParam { rule, .. }
            | RuleError::TooComplex { rule, .. } => Some(rule),
            _ => None,
        }
    }

    /// The field concerned (dotted path inside the rule, or inside the file), when known.
    pub fn field(&self) -> Option<&str> {
        match self {
            RuleError::Field { field, .. }
            | RuleError::FileField { field, .. }
            | RuleError::Invalid { field, .. }
            | RuleError::UnknownParam { field, .. }
            | RuleError::TooComplex { field, .. }
            | RuleError::Snapshot { field, .. } => Some(field),
            _ => None,
        }
    }
}
