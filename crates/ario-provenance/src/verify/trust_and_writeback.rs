//! Around the checks: the Signer Trusted decision for a fetched envelope,
//! and what a verification writes back to MLflow.

use ario_mlflow_client::TagTarget;
use serde_json::Value;

use ario_envelope::envelope::{verify_envelope, VerifyOptions};
use ario_gateway::graphql::GraphqlError;
use ario_gateway::turbo::APP_NAME;

use super::check::{Check, FailReason, NotRunCause};
use super::verdict::{self, Status};
use super::Verification;
use crate::event::{EventKind, Subject};
use crate::layout::ITEM_SUCCESSOR_KEY;
use crate::tags;
use crate::trust::{parse_time, TrustPolicy};
use crate::verifier::Verifier;

/// The most key handovers looked at for one key.
const MAX_HANDOVERS: usize = 100;

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
        let owner = owner.as_ref().map(Option::as_deref).map_err(String::as_str);
        let (key, at) = (member("public_key"), member("signed_at"));
        let judged = policy.judge(key, at, owner);
        if !policy.follow_rotations || judged.fail_reason() != Some(FailReason::UnknownSigner) {
            return judged;
        }
        match self.handover_to(policy, key.unwrap_or_default(), at).await {
            Ok(Some(why)) => policy.judge_uploader(owner, why),
            Ok(None) => judged,
            Err(e) => Check::not_run(
                NotRunCause::HistoryUnavailable,
                format!(
                    "{}; key rotations could not be looked up: {e}",
                    judged.message
                ),
            ),
        }
    }

    /// An anchored `key_retired` handover to `key`, signed by a key the
    /// policy trusts at the handover, no later than `signed_at`: the
    /// sentence that says so, or `None` when there is none.
    async fn handover_to(
        &self,
        policy: &TrustPolicy,
        key: &str,
        signed_at: Option<&str>,
    ) -> Result<Option<String>, GraphqlError> {
        let kind = EventKind::KeyRetired;
        let found = self
            .reader()
            .transactions_tagged(
                &[
                    ("App-Name", &[APP_NAME]),
                    ("Event-Type", &[kind.wire_name()]),
                    (ITEM_SUCCESSOR_KEY, &[key]),
                ],
                MAX_HANDOVERS,
            )
            .await?;
        let at = signed_at.and_then(parse_time);
        for t in found {
            let Some(h) = self
                .reader()
                .fetch_envelope(&t.id)
                .await
                .ok()
                .and_then(|f| f.json().ok())
            else {
                continue;
            };
            let m = |k: &str| h.get(k).and_then(Value::as_str);
            let sig_ok = verify_envelope(
                &h,
                VerifyOptions {
                    payload_bytes: None,
                    allow_legacy: false,
                },
            )
            .signature_ok;
            let Ok(Subject::Signer {
                public_key,
                successor_public_key,
            }) = Subject::from_json(h.get("subject"))
            else {
                continue;
            };
            let handed_at = m("signed_at").and_then(parse_time);
            let in_order = matches!((handed_at, at), (Some(h), Some(a)) if h <= a);
            if !(sig_ok
                && m("event_type") == Some(kind.wire_name())
                && m("public_key") == Some(public_key.as_str())
                && successor_public_key.eq_ignore_ascii_case(key)
                && in_order)
            {
                continue;
            }
            if let Ok(signer) = policy.judge_key(Some(&public_key), m("signed_at")) {
                return Ok(Some(format!(
                    "signed by the successor of {} ({key}), handed over in tx {} at {}",
                    signer.name,
                    t.id,
                    m("signed_at").unwrap_or_default()
                )));
            }
        }
        Ok(None)
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
