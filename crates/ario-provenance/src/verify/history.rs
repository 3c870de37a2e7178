//! The anchor-history check: every anchor of the same subject and event
//! type the gateways know of (found by our subject tags through GraphQL).
//! When an anchor by a trusted signer — or, without a policy, by the same
//! key — commits to other bytes, the record was rewritten after the fact.
//! Anchors by untrusted keys never cause a failure, so nobody can fail a
//! verification by uploading look-alikes.

use ario_envelope::envelope::{verify_envelope, VerifyOptions};
use ario_gateway::graphql::TxInfo;
use ario_gateway::turbo::APP_NAME;
use serde_json::Value;

use super::check::{Check, FailReason, NotRunCause};
use crate::event::{EventKind, Subject};
use crate::layout::{one_anchor_per_subject, ITEM_SUBJECT_ID, ITEM_SUBJECT_TYPE};
use crate::verifier::Verifier;

/// The most anchors of one subject looked at.
const MAX_HISTORY: usize = 1000;

/// The payload member a re-anchor names the transaction it supersedes in.
pub const SUPERSEDES: &str = "supersedes";
/// The payload member a re-anchor gives its reason in.
pub const REANCHOR_REASON: &str = "reanchor_reason";

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

fn height(h: Option<u64>) -> String {
    h.map_or_else(|| "not yet in a block".into(), |h| format!("block {h}"))
}

impl Verifier {
    /// Whether another anchor of `subject` by an accepted signer commits to
    /// other bytes than `env` (the envelope at `tx_id`).
    pub(crate) async fn history(
        &self,
        kind: Option<EventKind>,
        tx_id: &str,
        env: &Value,
        payload: Option<&[u8]>,
    ) -> Check {
        let Some(kind) = kind.filter(|k| one_anchor_per_subject(*k)) else {
            return Check::not_run(
                NotRunCause::HistoryNotApplicable,
                "not applicable: this event happens many times per subject",
            );
        };
        let subject = match Subject::from_json(env.get("subject")) {
            Ok(s) => s,
            Err(e) => return Check::not_run(NotRunCause::SubjectNotLocatable, e.to_string()),
        };
        let id = subject.discovery_id();
        let found = match self
            .reader()
            .transactions_tagged(
                &[
                    ("App-Name", &[APP_NAME]),
                    ("Event-Type", &[kind.wire_name()]),
                    (ITEM_SUBJECT_TYPE, &[subject.subject_type().wire_name()]),
                    (ITEM_SUBJECT_ID, &[id.as_str()]),
                ],
                MAX_HISTORY,
            )
            .await
        {
            Ok(f) => f,
            Err(e) => {
                return Check::not_run(
                    NotRunCause::HistoryUnavailable,
                    format!("anchor history not checked: {e}"),
                )
            }
        };
        let ours = found.iter().find(|t| t.id == tx_id);
        let mut conflicts: Vec<(&TxInfo, String)> = Vec::new();
        for t in found.iter().filter(|t| t.id != tx_id) {
            if let Some(hash) = self.accepted_other(t, kind, &subject, env).await {
                if Some(hash.as_str()) != s(env, "payload_hash") {
                    conflicts.push((t, hash));
                }
            }
        }
        let others = found.len().saturating_sub(usize::from(ours.is_some()));
        let Some((first, hash)) = conflicts
            .iter()
            .min_by_key(|(t, _)| t.block_height.unwrap_or(u64::MAX))
        else {
            return Check::passed(format!(
                "{others} other anchor(s) of {id} found; none by an accepted signer commits to other bytes"
            ));
        };
        let this = format!(
            "tx {tx_id} ({}) commits to {}",
            height(ours.and_then(|t| t.block_height)),
            s(env, "payload_hash").unwrap_or_default()
        );
        let earlier = format!(
            "tx {} ({}) committed to {hash}",
            first.id,
            height(first.block_height)
        );
        let declared = payload
            .and_then(|b| serde_json::from_slice::<Value>(b).ok())
            .filter(|p| s(p, SUPERSEDES).is_some());
        match declared {
            Some(p) => Check::failed(
                FailReason::AnchorSuperseded,
                format!(
                    "re-anchored: {earlier}; {this}, superseding {} because {:?}",
                    s(&p, SUPERSEDES).unwrap_or_default(),
                    s(&p, REANCHOR_REASON).unwrap_or_default()
                ),
            ),
            None if kind == EventKind::DecisionCheckpoint => Check::failed(
                FailReason::CheckpointForked,
                format!("checkpoint_forked: {earlier}; {this}"),
            ),
            None => Check::failed(
                FailReason::HistoryConflict,
                format!("history_conflict: {earlier}; {this}"),
            ),
        }
    }

    /// The payload hash of another anchor when it is a validly signed
    /// envelope of the same event and subject by an accepted signer.
    async fn accepted_other(
        &self,
        t: &TxInfo,
        kind: EventKind,
        subject: &Subject,
        current: &Value,
    ) -> Option<String> {
        let other = self
            .reader()
            .fetch_envelope(&t.id)
            .await
            .ok()?
            .json()
            .ok()?;
        let verdict = verify_envelope(
            &other,
            VerifyOptions {
                payload_bytes: None,
                allow_legacy: false,
            },
        );
        let same_event = s(&other, "event_type") == Some(kind.wire_name())
            && Subject::from_json(other.get("subject")).ok().as_ref() == Some(subject);
        let accepted = match self.trust() {
            Some(p) => {
                p.judge(s(&other, "public_key"), s(&other, "signed_at"), Ok(None))
                    .ok()
                    == Some(true)
            }
            None => s(&other, "public_key") == s(current, "public_key"),
        };
        (verdict.signature_ok && same_event && accepted)
            .then(|| s(&other, "payload_hash").map(str::to_owned))?
    }
}
