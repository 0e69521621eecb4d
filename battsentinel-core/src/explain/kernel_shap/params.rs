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
}

impl Default for KernelShapValidParams {
    fn default() -> Self {
        Self {
            nsamples: None,
            seed: 0,
            link: Link::Identity,
            memory_budget_bytes: DEFAULT_MEMORY_BUDGET_BYTES,
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
}

/// Kernel SHAP parameters (unchecked builder).
///
/// Defaults: `nsamples = None` ("auto", `2M + 2048`, capped at `2^M − 2` so that M ≤ 11 is exact),
/// `seed = 0`, `link = Identity`, `memory_budget_bytes = 256 MiB`.
///
/// **`l1_reg`:** this port does no feature selection, i.e. it behaves like shap's `l1_reg=False`.
/// shap ≥ 0.47 defaults to `l1_reg="num_features(10)"`, which is identical for M ≤ 10 (≤ 1.4e-14 on
/// every reference case) but for M > 10 forces at least M − 10 values to exactly 0 (about 7× larger
/// error against exact Shapley values at M = 14); that selection is deliberately not reproduced.
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
}

impl ParamGuard for KernelShapParams {
    type Checked = KernelShapValidParams;

    fn check_ref(&self) -> Result<&Self::Checked, ParamError> {
        if self.0.nsamples == Some(0) {
            return Err(ParamError::invalid("nsamples", 0, "must be at least 1 (or None for auto)"));
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
