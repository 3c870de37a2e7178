//! The optional verify-status gate: before a model is opened (and, if
//! asked, before each decision) the agent's management endpoint says whether
//! the model's asset is verified; the policy decides what a refusal does.

use std::sync::Arc;
use std::time::Duration;

use ario_gateway::verify_status::{Outcome, VerifyStatus, VerifyStatusClient, VerifyStatusError};

/// The verify-status gate refused (the plugin's error family).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// Outcome `tampered`.
    #[error("asset {asset_id:?} is tampered")]
    Tampered {
        /// Asset.
        asset_id: String,
    },
    /// Outcome `missing`.
    #[error("asset {asset_id:?} is missing")]
    Missing {
        /// Asset.
        asset_id: String,
    },
    /// Verified but stale, or `unavailable`.
    #[error("asset {asset_id:?} verification is stale or unavailable")]
    Stale {
        /// Asset.
        asset_id: String,
    },
    /// Outcome `unknown`.
    #[error("asset {asset_id:?} verification status is unknown")]
    Unknown {
        /// Asset.
        asset_id: String,
    },
    /// The gate could not be asked (auth, unknown asset, licence, transport).
    #[error(transparent)]
    Service(#[from] VerifyStatusError),
}

/// Maps a status to pass or the plugin's error.
pub fn gate_outcome(s: &VerifyStatus) -> Result<(), GateError> {
    let asset_id = s.asset_id.clone();
    match (s.outcome, s.stale) {
        (Outcome::Verified, false) => Ok(()),
        (Outcome::Verified, true) | (Outcome::Unavailable, _) => Err(GateError::Stale { asset_id }),
        (Outcome::Tampered, _) => Err(GateError::Tampered { asset_id }),
        (Outcome::Missing, _) => Err(GateError::Missing { asset_id }),
        (Outcome::Unknown, _) => Err(GateError::Unknown { asset_id }),
    }
}

/// What to do when the gate refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatePolicy {
    /// Return the error (default).
    #[default]
    FailClosed,
    /// Log a warning and go on.
    FailOpen,
}

/// The optional verify-status gate (the agent's management endpoint).
#[derive(Debug, Clone)]
pub struct Gate {
    /// Client of the endpoint.
    pub client: Arc<VerifyStatusClient>,
    /// Asset to ask about.
    pub asset_id: String,
    /// Refusal policy.
    pub policy: GatePolicy,
    /// Ask again before every decision.
    pub recheck_per_decision: bool,
    /// Cache age accepted on re-checks.
    pub max_cache_age: Option<Duration>,
}

impl Gate {
    pub(crate) async fn check(
        &self,
        phase: &str,
        max_age: Option<Duration>,
    ) -> Result<(), GateError> {
        let r = match self.client.get(&self.asset_id, max_age).await {
            Ok(s) => gate_outcome(&s),
            Err(e) => Err(GateError::Service(e)),
        };
        match (r, self.policy) {
            (Ok(()), _) => {
                tracing::info!(asset_id = %self.asset_id, phase, "verify-status gate passed");
                Ok(())
            }
            (Err(e), GatePolicy::FailOpen) => {
                tracing::warn!(asset_id = %self.asset_id, phase, error = %e, "fail_open: proceeding DESPITE a failed verification gate");
                Ok(())
            }
            (Err(e), GatePolicy::FailClosed) => Err(e),
        }
    }
}
