//! `verify decision`: a batched decision's record in MLflow → its leaf → the
//! inclusion proof → the root → the signed, anchored checkpoint, and the
//! checkpoint's link to the one before it.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::batch::{capped, CheckedBatch, Pick};
use super::check::{Check, CheckOutcome, FailReason, NotRunCause};
use super::verdict::{Outcome, Row, Status};
use super::{Expect, TargetKind, Verification};
use crate::checkpoint::{leaf_of, DecisionId, InclusionProof};
use crate::verifier::Verifier;

/// Label of the row that proves the decision into its checkpoint.
pub const DECISION_INCLUDED: &str = "Decision Included";
/// Label of the row that links the checkpoint to its predecessor.
pub const CHECKPOINT_CHAIN: &str = "Checkpoint Chain";

/// The result of verifying one batched decision.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionVerification {
    /// The decision.
    pub decision_id: String,
    /// Overall status.
    pub status: Status,
    /// The checkpoint's rows, then the decision's own.
    pub rows: Vec<Row>,
    /// The decision's record as MLflow holds it.
    pub record: Option<Value>,
    /// Its inclusion proof, recomputed from the batch file.
    pub proof: Option<InclusionProof>,
    /// The checkpoint's verification.
    pub checkpoint: Verification,
    /// Codes of every check that failed (the checkpoint's and the decision's).
    pub failures: Vec<&'static str>,
}

fn row(label: &str, c: &Check) -> Row {
    let outcome = match c.outcome {
        CheckOutcome::Passed => Outcome::Pass,
        CheckOutcome::Failed(_) => Outcome::Fail,
        CheckOutcome::NotRun(_) => Outcome::Undetermined,
    };
    Row {
        label: label.into(),
        outcome,
        detail: c.message.clone(),
        decisive: true,
    }
}

/// The status of a decision from its checkpoint's status and every row: a
/// checkpoint that was not found, unreadable or unreachable decides alone;
/// otherwise any failed row fails it and any undetermined row leaves it open.
pub fn decision_status(checkpoint: Status, rows: &[Row]) -> Status {
    match checkpoint {
        Status::NotAnchored | Status::Malformed | Status::Unavailable => return checkpoint,
        _ => {}
    }
    let decisive = rows.iter().filter(|r| r.decisive);
    if checkpoint == Status::Failed || decisive.clone().any(|r| r.outcome == Outcome::Fail) {
        Status::Failed
    } else if checkpoint == Status::Undetermined
        || decisive.clone().any(|r| r.outcome != Outcome::Pass)
    {
        Status::Undetermined
    } else {
        Status::Verified
    }
}

/// Whether `leaves` prove `id`'s record (as the batch file holds it) into the root.
fn inclusion(
    id: &DecisionId,
    batch: &CheckedBatch,
) -> (Check, Option<Value>, Option<InclusionProof>) {
    let Some(pos) = batch.file.position(id) else {
        let c = Check::failed(
            FailReason::DecisionNotInBatch,
            format!("decision_not_in_batch: {id} is not in the batch file"),
        );
        return (c, None, None);
    };
    let record = batch.file.records.get(pos).cloned();
    let leaf = record
        .as_ref()
        .and_then(|r| ario_envelope::jcs::canonicalize(r).ok())
        .map(|b| leaf_of(&b));
    let root = batch.payload.root();
    let proof = InclusionProof::build(id, &batch.leaves, None).ok();
    let holds = match (&proof, leaf, root) {
        (Some(p), Some(l), Some(r)) => p.holds(&l, &r),
        _ => false,
    };
    let c = if holds {
        Check::passed(format!(
            "leaf {} of {} leads to the anchored root {}",
            id.leaf_index, batch.payload.leaf_count, batch.payload.merkle_root
        ))
    } else {
        Check::failed(
            FailReason::InclusionFailed,
            format!("inclusion_failed: the record of {id} does not lead to the anchored root"),
        )
    };
    (c, record, proof)
}

impl Verifier {
    /// Verifies one batched decision.
    pub async fn verify_decision(&self, id: &DecisionId) -> DecisionVerification {
        let mut all = self.verify_decisions(std::slice::from_ref(id)).await;
        all.pop().unwrap_or_else(|| not_verified(id))
    }

    /// Verifies many batched decisions, each checkpoint fetched and checked
    /// once for all the decisions in its batch. One result per id, in order.
    pub async fn verify_decisions(&self, ids: &[DecisionId]) -> Vec<DecisionVerification> {
        let mut batches: BTreeMap<(String, u64), BatchState> = BTreeMap::new();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let key = (id.stream_id.to_string(), id.batch_seq);
            if !batches.contains_key(&key) {
                let state = self.batch_state(id).await;
                batches.insert(key.clone(), state);
            }
            let Some(state) = batches.get(&key) else {
                continue;
            };
            out.push(state.judge(id));
        }
        out
    }

    async fn batch_state(&self, id: &DecisionId) -> BatchState {
        let target = format!("decision batch {}/{}", id.stream_id, id.batch_seq);
        let found = match self.find_checkpoints(&id.stream_id, id.batch_seq).await {
            Ok(f) => f,
            Err(e) => {
                let mut v = Verification::not_anchored(TargetKind::Decision, target, e.to_string());
                v.status = Status::Unavailable;
                if let Some(r) = v.rows.first_mut() {
                    r.outcome = Outcome::Undetermined;
                }
                return BatchState::alone(v);
            }
        };
        let Some((first, pick)) = self.pick_checkpoint(&found).await else {
            let why = format!(
                "no checkpoint of batch {} of stream {} found on the gateways. Not anchored (yet).",
                id.batch_seq, id.stream_id
            );
            return BatchState::alone(Verification::not_anchored(
                TargetKind::Decision,
                target,
                why,
            ));
        };
        // Look-alikes fill the listing: the real checkpoint may be past it.
        // A checkpoint a trust policy accepts is checked as found (so
        // tampering with its payload still fails); without a policy, any
        // valid signature is "accepted", so only a held payload settles it.
        let settled = match pick {
            Pick::Held => true,
            Pick::Accepted => self.trust().is_some(),
            Pick::Other => false,
        };
        if capped(&found) && !settled {
            let why = format!(
                "anchors_capped: none of the first {} anchors tagged as batch {} of stream {} settles which is its checkpoint; more exist and were not looked at",
                found.len(),
                id.batch_seq,
                id.stream_id
            );
            let mut v = Verification::not_anchored(TargetKind::Decision, target, why);
            v.status = Status::Undetermined;
            if let Some(r) = v.rows.first_mut() {
                r.outcome = Outcome::Undetermined;
            }
            return BatchState::alone(v);
        }
        let expect = Expect::Batch(id.stream_id.to_string(), id.batch_seq);
        let checkpoint = self
            .verify_tx(TargetKind::Decision, &target, &first.id, &expect)
            .await;
        let (batch, chain) = match self.stored_checkpoint(&checkpoint).await {
            Some(b) => {
                let env = checkpoint.envelope.as_ref();
                let key = env.and_then(|e| e.public_key.clone()).unwrap_or_default();
                let previous = env.and_then(|e| e.previous_hash.as_deref());
                let chain = self.chain_check(&b.payload, previous, &key).await;
                (Some(b), chain)
            }
            None => (
                None,
                Check::not_run(NotRunCause::NoPayload, "no checked batch to link"),
            ),
        };
        BatchState {
            checkpoint,
            batch,
            chain,
            tx_id: Some(first.id.clone()),
        }
    }

    /// The batch file of a checkpoint whose payload was located and bound.
    async fn stored_checkpoint(&self, v: &Verification) -> Option<CheckedBatch> {
        let checks = v.checks.as_ref()?;
        if checks.anchored_bytes.ok() != Some(true) {
            return None;
        }
        if v.event_kind() != Some(crate::EventKind::DecisionCheckpoint) {
            return None;
        }
        let env = v.envelope.as_ref()?;
        let subject = crate::event::Subject::from_json(env.subject.as_ref()).ok()?;
        let bytes = self
            .locate_payload(crate::EventKind::DecisionCheckpoint, &subject, "", None)
            .await
            .ok()?;
        // Read again: hold it to the signed hash, or it proves nothing.
        if Some(ario_envelope::encoding::sha256_hex(&bytes)) != env.payload_hash {
            return None;
        }
        let payload = ario_envelope::json::parse(&bytes).ok()?;
        self.batch_truth(&payload).await.1
    }
}

/// What is known of one batch, shared by its decisions.
struct BatchState {
    checkpoint: Verification,
    batch: Option<CheckedBatch>,
    chain: Check,
    tx_id: Option<String>,
}

impl BatchState {
    fn alone(checkpoint: Verification) -> Self {
        BatchState {
            checkpoint,
            batch: None,
            chain: Check::not_run(NotRunCause::NoPayload, "no checkpoint"),
            tx_id: None,
        }
    }

    fn judge(&self, id: &DecisionId) -> DecisionVerification {
        let mut rows = self.checkpoint.rows.clone();
        let mut failures: Vec<&'static str> = self
            .checkpoint
            .checks
            .as_ref()
            .map(|c| {
                [
                    &c.signature,
                    &c.anchored_bytes,
                    &c.source_of_truth,
                    &c.signer_trusted,
                    &c.anchor_history,
                    &c.ario_attestation,
                ]
                .into_iter()
                .filter_map(|c| c.fail_reason().map(FailReason::code))
                .collect()
            })
            .unwrap_or_default();
        let (mut record, mut proof) = (None, None);
        if self.checkpoint.checks.is_some() {
            let included = match &self.batch {
                Some(b) => {
                    let (c, r, p) = inclusion(id, b);
                    (record, proof) = (r, p);
                    c
                }
                None => Check::not_run(
                    NotRunCause::NoPayload,
                    "the batch file did not reproduce the checkpoint; inclusion not checked",
                ),
            };
            for (label, c) in [
                (DECISION_INCLUDED, &included),
                (CHECKPOINT_CHAIN, &self.chain),
            ] {
                rows.push(row(label, c));
                failures.extend(c.fail_reason().map(FailReason::code));
            }
        }
        if let Some(p) = &mut proof {
            p.checkpoint_tx_id = self.tx_id.clone();
        }
        let status = decision_status(self.checkpoint.status, &rows);
        DecisionVerification {
            decision_id: id.to_string(),
            status,
            rows,
            record,
            proof,
            checkpoint: self.checkpoint.clone(),
            failures,
        }
    }
}

fn not_verified(id: &DecisionId) -> DecisionVerification {
    let v = Verification::not_anchored(TargetKind::Decision, id.to_string(), "not verified".into());
    BatchState::alone(v).judge(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(outcome: Outcome) -> Row {
        Row {
            label: "x".into(),
            outcome,
            detail: String::new(),
            decisive: true,
        }
    }

    #[test]
    fn a_decision_is_verified_only_when_every_row_passed() {
        use Outcome::*;
        let all = [Pass, Fail, Undetermined, Pending, NotApplicable];
        for cp in Status::ALL {
            for a in all {
                for b in all {
                    let s = decision_status(cp, &[r(a), r(b)]);
                    let verified = cp == Status::Verified && a == Pass && b == Pass;
                    assert_eq!(s == Status::Verified, verified, "{cp:?} {a:?} {b:?}");
                    if matches!(cp, Status::Verified | Status::Undetermined | Status::Failed)
                        && (a == Fail || b == Fail)
                    {
                        assert_eq!(s, Status::Failed);
                    }
                }
            }
        }
    }
}
