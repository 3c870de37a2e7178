//! Around the checks: the Signer Trusted decision for a fetched envelope,
//! and what a verification writes back to MLflow.

use ario_mlflow_client::TagTarget;
use serde_json::Value;

use super::check::{Check, NotRunCause};
use super::verdict::{self, Status};
use super::Verification;
use crate::tags;
use crate::verifier::Verifier;

/// Longest failure explanation written to a tag (MLflow caps tag values).
const MAX_FAILURE_TAG: usize = 1000;

impl Verifier {
    /// The signing key (and, when the policy lists uploaders, the data
    /// item's owner) against the trust policy.
    pub(super) async fn signer_trusted(&self, tx_id: &str, env: &Value) -> Check {
        let Some(policy) = self.trust() else {
            return Check::not_run(
                NotRunCause::NoTrustPolicy,
                "not checked: no trust policy given, so any signing key was accepted",
            );
        };
        let member = |k: &str| env.get(k).and_then(Value::as_str);
        let owner = if policy.uploaders.is_empty() {
            Ok(None)
        } else {
            match self.reader().transaction(tx_id).await {
                Ok(Some(t)) => Ok(Some(t.owner_address)),
                Ok(None) => Err(format!("{tx_id} is not indexed by the gateways' GraphQL")),
                Err(e) => Err(e.to_string()),
            }
        };
        policy.judge(
            member("public_key"),
            member("signed_at"),
            owner.as_ref().map(Option::as_deref).map_err(String::as_str),
        )
    }

    /// Writes the outcome back to MLflow: a full pass marks the object
    /// verified; a failure replaces any earlier `verified` with `failed`,
    /// when and why. An undetermined result writes nothing (it shows neither).
    pub(super) async fn write_outcome(&self, v: &mut Verification, target: &TagTarget) {
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let mut t: Vec<(&str, String)> = match v.status {
            Status::Verified => vec![
                (tags::VERIFY_STATUS, "verified".into()),
                (tags::VERIFIED_AT, now),
            ],
            Status::Failed => {
                let why = v
                    .rows
                    .iter()
                    .find(|r| r.decisive && r.outcome == verdict::Outcome::Fail)
                    .map(|r| format!("{}: {}", r.label, r.detail))
                    .unwrap_or_default();
                vec![
                    (tags::VERIFY_STATUS, "failed".into()),
                    (tags::VERIFY_FAILED_AT, now),
                    (
                        tags::VERIFY_FAILURE,
                        why.chars().take(MAX_FAILURE_TAG).collect(),
                    ),
                ]
            }
            _ => return,
        };
        if let Some(att) = v
            .checks
            .as_ref()
            .filter(|c| v.status == Status::Verified && c.ario_attestation.ok() == Some(true))
            .and_then(|c| c.ario_attestation.attestation.clone())
        {
            t.push((tags::ATTESTATION_LEVEL, att.attestation_level.to_string()));
            for (k, val) in [
                (tags::ATTESTED_BY, att.attested_by),
                (tags::ATTESTED_AT, att.attested_at),
                (tags::REPORT_URL, att.report_url),
            ] {
                if let Some(val) = val.filter(|v| !v.is_empty()) {
                    t.push((k, val));
                }
            }
        }
        for (k, val) in t {
            match self.mlflow().set_tag(target, k, &val).await {
                Ok(()) => v.tags_written += 1,
                Err(e) => tracing::warn!(tag = k, error = %e, "could not write verification tag"),
            }
        }
    }
}
