//! Parameters of [`super::TreeExplainer`].

use serde::{Deserialize, Serialize};

use crate::params::{ParamError, ParamGuard};

/// Which game TreeSHAP explains (shap's `feature_perturbation`).
///
/// - [`FeaturePerturbation::Interventional`] (`"interventional"`): `v(S) = E_b f(x_S, b_S̄)` over a
///   background; needs one. Equals exact Kernel SHAP on the same background.
/// - [`FeaturePerturbation::TreePathDependent`] (`"tree_path_dependent"`): `v(S) = E[f(x) | x_S]` as the
///   trees estimate it from their node covers (training samples per node); no background. The expected value
///   is the cover-weighted mean leaf value. The only choice for SHAP interaction values.
///
/// # Examples
/// ```
/// use battsentinel_core::explain::FeaturePerturbation;
/// let p: FeaturePerturbation = serde_json::from_str("\"tree_path_dependent\"").unwrap();
/// assert_eq!(p, FeaturePerturbation::TreePathDependent);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum FeaturePerturbation {
    /// Against a background (shap's `"interventional"`).
    Interventional,
    /// From the trees' node covers (shap's `"tree_path_dependent"`).
    TreePathDependent,
}

impl FeaturePerturbation {
    /// The serde / shap spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FeaturePerturbation::Interventional => "interventional",
            FeaturePerturbation::TreePathDependent => "tree_path_dependent",
        }
    }
}

/// Validated TreeSHAP parameters (see [`TreeShapParams`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TreeShapValidParams {
    feature_perturbation: Option<FeaturePerturbation>,
}

impl TreeShapValidParams {
    /// The requested perturbation; `None` = shap's `"auto"`.
    pub fn feature_perturbation(&self) -> Option<FeaturePerturbation> {
        self.feature_perturbation
    }

    /// The perturbation used with or without a background: `"auto"` means interventional when a background
    /// is given and tree_path_dependent otherwise (as shap).
    ///
    /// # Errors
    /// [`ParamError::Invalid`] for interventional without a background, or tree_path_dependent with one
    /// (the node covers would silently ignore it).
    pub fn resolve(&self, has_background: bool) -> Result<FeaturePerturbation, ParamError> {
        match (self.feature_perturbation, has_background) {
            (None, true) | (Some(FeaturePerturbation::Interventional), true) => {
                Ok(FeaturePerturbation::Interventional)
            }
            (None, false) | (Some(FeaturePerturbation::TreePathDependent), false) => {
                Ok(FeaturePerturbation::TreePathDependent)
            }
            (Some(FeaturePerturbation::Interventional), false) => Err(ParamError::invalid(
                "feature_perturbation",
                "interventional",
                "needs a background data set",
            )),
            (Some(FeaturePerturbation::TreePathDependent), true) => Err(ParamError::invalid(
                "feature_perturbation",
                "tree_path_dependent",
                "uses the trees' node covers, not a background: pass no background",
            )),
        }
    }
}

/// TreeSHAP parameters (unchecked builder). Default: `feature_perturbation = None` ("auto":
/// interventional with a background, tree_path_dependent without).
///
/// # Examples
/// ```
/// use battsentinel_core::explain::{FeaturePerturbation, TreeShapParams};
/// use battsentinel_core::params::ParamGuard;
/// let p = TreeShapParams::default().feature_perturbation(FeaturePerturbation::TreePathDependent).check().unwrap();
/// assert_eq!(p.resolve(false).unwrap(), FeaturePerturbation::TreePathDependent);
/// assert!(p.resolve(true).is_err());
/// let p: TreeShapParams = serde_json::from_str(r#"{"feature_perturbation":"interventional"}"#).unwrap();
/// assert!(p.check().unwrap().resolve(false).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TreeShapParams(TreeShapValidParams);

impl TreeShapParams {
    /// Sets the perturbation explicitly.
    pub fn feature_perturbation(mut self, p: FeaturePerturbation) -> Self {
        self.0.feature_perturbation = Some(p);
        self
    }
}

impl ParamGuard for TreeShapParams {
    type Checked = TreeShapValidParams;

    fn check_ref(&self) -> Result<&Self::Checked, ParamError> {
        // Every combination is valid on its own; the background check happens in `resolve`.
        Ok(&self.0)
    }

    fn check(self) -> Result<Self::Checked, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}
