//! Parameters of [`super::KernelExplainer`].

use serde::{Deserialize, Serialize};

use crate::explain::Link;
use crate::params::{ParamError, ParamGuard};

/// Default memory budget for the synthetic rows and model outputs of one batch: 256 MiB.
pub const DEFAULT_MEMORY_BUDGET_BYTES: usize = 256 << 20;

/// Validated Kernel SHAP parameters (see [`KernelShapParams`] for the meaning and defaults).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KernelShapValidParams {
    nsamples: Option<usize>,
    seed: u64,
    link: Link,
    memory_budget_bytes: usize,
    l1_reg: L1Reg,
}

impl Default for KernelShapValidParams {
    fn default() -> Self {
        Self {
            nsamples: None,
            seed: 0,
            link: Link::Identity,
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_BYTES,
            l1_reg: L1Reg::None,
        }
    }
}

impl KernelShapValidParams {
    /// Coalition budget; `None` = shap's `"auto"` (`2M + 2048`, M = number of varying players).
    pub fn nsamples(&self) -> Option<usize> {
        self.nsamples
    }
    /// Seed of the sampled part (unused when every coalition is enumerated).
    pub fn seed(&self) -> u64 {
        self.seed
    }
    /// Link function.
    pub fn link(&self) -> Link {
        self.link
    }
    /// Memory budget in bytes for synthetic rows plus outputs held at once.
    pub fn memory_budget_bytes(&self) -> usize {
        self.memory_budget_bytes
    }
    /// Feature selection before the constrained least-squares fit.
    pub fn l1_reg(&self) -> L1Reg {
        self.l1_reg
    }
}

/// Feature selection of Kernel SHAP (shap's `l1_reg`).
///
/// - [`L1Reg::None`] (the default here; shap's `l1_reg=False`): every varying feature gets a value.
/// - [`L1Reg::NumFeatures`]`(r)` (shap's `"num_features(r)"`, its default since 0.47 with r = 10): the
///   first `r` features to enter a least-angle regression path ('lar', as `sklearn.linear_model.lars_path`)
///   of the augmented weighted problem keep values, every other feature gets exactly 0, and the last
///   entrant is the one eliminated by the efficiency constraint. For M ≤ r this equals `None` up to rounding
///   (≤ 1.4e-14 on every reference case); for M > r at least M − r values are exactly 0, which is about 7×
///   further from the exact Shapley values at M = 14 (hence not our default).
///
/// In serde (and from Python) it reads shap's spellings: `false`/`null`/`"none"`, `"num_features(10)"`, or
/// `{"num_features": 10}`; it is written as `false` or `"num_features(r)"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum L1Reg {
    /// No selection.
    #[default]
    None,
    /// Keep the first `r` entrants of the LARS path.
    NumFeatures(usize),
    /// `LassoLarsIC(criterion="aic")`.
    Aic,
    /// `LassoLarsIC(criterion="bic")`.
    Bic,
}

impl Serialize for L1Reg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            L1Reg::None => s.serialize_bool(false),
            L1Reg::NumFeatures(r) => s.serialize_str(&format!("num_features({r})")),
            L1Reg::Aic => s.serialize_str("aic"),
            L1Reg::Bic => s.serialize_str("bic"),
        }
    }
}

impl<'de> Deserialize<'de> for L1Reg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Repr {
            Flag(bool),
            Text(String),
            Map { num_features: usize },
        }
        let parse = |text: &str| -> Option<L1Reg> {
            let t = text.trim();
            if t.eq_ignore_ascii_case("none") || t.eq_ignore_ascii_case("false") {
                return Some(L1Reg::None);
            }
            if t.eq_ignore_ascii_case("aic") {
                return Some(L1Reg::Aic);
            }
            if t.eq_ignore_ascii_case("bic") {
                return Some(L1Reg::Bic);
            }
            let inner = t.strip_prefix("num_features(")?.strip_suffix(')')?;
            inner.trim().parse().ok().map(L1Reg::NumFeatures)
        };
        match Option::<Repr>::deserialize(d)? {
            None | Some(Repr::Flag(false)) => Ok(L1Reg::None),
            Some(Repr::Flag(true)) => Err(serde::de::Error::custom(
                "l1_reg = true is ambiguous: use \"num_features(r)\" (shap's default is num_features(10))",
            )),
            Some(Repr::Text(t)) => parse(&t).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "l1_reg `{t}` is not supported: use false, \"num_features(r)\", \"aic\" or \"bic\" (Lasso \
                     alphas and \"auto\" are not implemented)"
                ))
            }),
            Some(Repr::Map { num_features }) => Ok(L1Reg::NumFeatures(num_features)),
        }
    }
}

/// Kernel SHAP parameters (unchecked builder).
///
/// Defaults: `nsamples = None` ("auto", `2M + 2048`, capped at `2^M − 2` so that M ≤ 11 is exact),
/// `seed = 0`, `link = Identity`, `memory_budget_bytes = 256 MiB`.
///
/// **`l1_reg`** defaults to [`L1Reg::None`] (shap's `l1_reg=False`). shap ≥ 0.47 defaults to
/// `"num_features(10)"`, which is identical for M ≤ 10 (≤ 1.4e-14 on every reference case) but for M > 10
/// forces at least M − 10 values to exactly 0 (about 7× larger error against exact Shapley values at
/// M = 14); choose `.l1_reg(L1Reg::NumFeatures(10))` for shap's default behaviour.
///
/// # Examples
/// ```
/// use battsentinel_core::explain::{KernelShapParams, Link};
/// use battsentinel_core::params::ParamGuard;
/// let p = KernelShapParams::default().link(Link::Logit).seed(7).check().unwrap();
/// assert_eq!(p.seed(), 7);
/// assert!(KernelShapParams::default().memory_budget_bytes(0).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct KernelShapParams(KernelShapValidParams);

impl KernelShapParams {
    /// Coalition budget (`None` = auto).
    pub fn nsamples(mut self, nsamples: Option<usize>) -> Self {
        self.0.nsamples = nsamples;
        self
    }
    /// Seed of the sampled part.
    pub fn seed(mut self, seed: u64) -> Self {
        self.0.seed = seed;
        self
    }
    /// Link function.
    pub fn link(mut self, link: Link) -> Self {
        self.0.link = link;
        self
    }
    /// Memory budget in bytes.
    pub fn memory_budget_bytes(mut self, bytes: usize) -> Self {
        self.0.memory_budget_bytes = bytes;
        self
    }
    /// Feature selection (see [`L1Reg`]).
    pub fn l1_reg(mut self, l1_reg: L1Reg) -> Self {
        self.0.l1_reg = l1_reg;
        self
    }
}

impl ParamGuard for KernelShapParams {
    type Checked = KernelShapValidParams;

    fn check_ref(&self) -> Result<&Self::Checked, ParamError> {
        if self.0.nsamples == Some(0) {
            return Err(ParamError::invalid("nsamples", 0, "must be at least 1 (or None for auto)"));
        }
        if self.0.l1_reg == L1Reg::NumFeatures(0) {
            return Err(ParamError::invalid("l1_reg", "num_features(0)", "must keep at least 1 feature"));
        }
        if self.0.memory_budget_bytes == 0 {
            return Err(ParamError::invalid("memory_budget_bytes", 0, "must be positive"));
        }
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}
