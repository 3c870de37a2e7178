//! Decision evidence (`spec/mlflow/decisions.md` §13): what proves one
//! batched decision to someone with neither MLflow nor the network — its
//! record, the inclusion proof, and the checkpoint envelope with the payload
//! bytes it commits to. Every part is bound to the next by a hash or a
//! signature, so the evidence itself is not signed again.

use serde_json::{json, Value};

use super::check::{envelope_rows, pass_fail, s, trust_row, StageReport};
use crate::checkpoint::{leaf_of, CheckpointPayload, DecisionId, InclusionProof};
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::verifier::Verifier;
use crate::verify::verdict::{row, status_of_rows, Outcome, Row, Status};

/// The evidence's `format`.
pub const DECISION_EVIDENCE_FORMAT: &str = "ario.mlflow.decision-evidence/v1";

fn incomplete(id: &DecisionId, why: impl std::fmt::Display) -> ProvenanceError {
    ProvenanceError::EvidenceIncomplete {
        stage: format!("decision {id}"),
        why: why.to_string(),
    }
}

impl Verifier {
    /// The evidence of one batched decision, made only when it verifies
    /// (evidence of a decision that did not would claim what was not shown).
    pub async fn decision_evidence(&self, id: &DecisionId) -> Result<Value, ProvenanceError> {
        let v = self.verify_decision(id).await;
        if v.status != Status::Verified {
            let why = format!("it does not verify ({:?}): {:?}", v.status, v.failures);
            return Err(incomplete(id, why));
        }
        let (Some(record), Some(mut proof), Some(tx)) =
            (v.record, v.proof, v.checkpoint.tx_id.clone())
        else {
            return Err(incomplete(id, "the verification kept no record or proof"));
        };
        let fetched = self
            .reader()
            .fetch_envelope(&tx)
            .await
            .map_err(|e| incomplete(id, e))?;
        let envelope = fetched.json().map_err(|e| incomplete(id, e))?;
        let subject = Subject::from_json(envelope.get("subject")).map_err(|e| incomplete(id, e))?;
        let payload = self
            .locate_payload(EventKind::DecisionCheckpoint, &subject, "", None)
            .await
            .map_err(|c| incomplete(id, c.message))?;
        // Read twice (verification, then here): hold the second read to the
        // signed hash too.
        let hash = ario_envelope::encoding::sha256_hex(&payload);
        if Some(hash.as_str()) != envelope.get("payload_hash").and_then(Value::as_str) {
            return Err(incomplete(
                id,
                "the checkpoint payload changed while it was read",
            ));
        }
        proof.checkpoint_tx_id = Some(tx.clone());
        Ok(json!({
            "format": DECISION_EVIDENCE_FORMAT,
            "decision_id": id.to_string(),
            "record": record,
            "proof": proof,
            "checkpoint": {
                "tx_id": tx,
                "gateway": fetched.gateway,
                "envelope": envelope,
                "payload_hex": hex::encode(&payload),
            },
            "live_rows": v.rows,
        }))
    }
}

/// Re-checks decision evidence with nothing but its bytes (and, optionally,
/// a trust policy). Not shown: that the checkpoint is on Arweave and the only
/// one of its batch, and its link to the batch before; `verify decision`
/// shows those live.
pub fn check_decision_evidence(
    ev: &Value,
    trust: Option<&crate::trust::TrustPolicy>,
) -> StageReport {
    let id_text = s(ev, "decision_id").unwrap_or_default();
    let id = id_text.parse::<DecisionId>().ok();
    let cp = ev.get("checkpoint").cloned().unwrap_or(Value::Null);
    let envelope = cp.get("envelope").cloned().unwrap_or(Value::Null);
    let payload = s(&cp, "payload_hex").and_then(|h| hex::decode(h).ok());
    let mut rows = vec![pass_fail(
        "Evidence Format",
        s(ev, "format") == Some(DECISION_EVIDENCE_FORMAT) && id.is_some(),
        format!("{DECISION_EVIDENCE_FORMAT} about decision {id_text}"),
        "not decision evidence, or no readable decision id",
    )];
    rows.extend(envelope_rows(&envelope, payload.as_deref()));
    let parsed = payload
        .as_deref()
        .and_then(|b| ario_envelope::json::parse(b).ok())
        .and_then(|v| CheckpointPayload::from_json(&v));
    rows.push(subject_row(id.as_ref(), &envelope, parsed.as_ref()));
    rows.extend(inclusion_rows(id.as_ref(), ev, parsed.as_ref()));
    rows.push(trust_row(&envelope, trust));
    let status = status_of_rows(&rows);
    StageReport {
        stage: "decision".into(),
        detail: id_text.to_owned(),
        tx_id: s(&cp, "tx_id").map(str::to_owned),
        rows,
        status,
    }
}

/// The checkpoint is about the decision's stream and batch.
fn subject_row(id: Option<&DecisionId>, envelope: &Value, cp: Option<&CheckpointPayload>) -> Row {
    let subject = Subject::from_json(envelope.get("subject")).ok();
    let ok = match (id, subject, cp) {
        (
            Some(id),
            Some(Subject::DecisionBatch {
                stream_id,
                batch_seq,
                ..
            }),
            Some(cp),
        ) => {
            s(envelope, "event_type") == Some(EventKind::DecisionCheckpoint.wire_name())
                && stream_id == id.stream_id.as_str()
                && batch_seq == id.batch_seq
                && cp.stream_id == id.stream_id
                && cp.batch_seq == id.batch_seq
        }
        _ => false,
    };
    pass_fail(
        "Checkpoint Subject",
        ok,
        "the checkpoint (envelope and payload) is about this decision's batch",
        "the checkpoint is about another batch, or its payload is not a checkpoint",
    )
}

/// The record is the proof's leaf, and the proof leads to the checkpoint's root.
fn inclusion_rows(id: Option<&DecisionId>, ev: &Value, cp: Option<&CheckpointPayload>) -> Vec<Row> {
    let record = ev.get("record").filter(|r| r.is_object());
    let proof = ev
        .get("proof")
        .cloned()
        .and_then(|p| serde_json::from_value::<InclusionProof>(p).ok());
    let leaf = record
        .and_then(|r| ario_envelope::jcs::canonicalize(r).ok())
        .map(|b| leaf_of(&b));
    let (Some(id), Some(proof), Some(leaf)) = (id, proof, leaf) else {
        return vec![row(
            "Decision Record",
            Outcome::Fail,
            "the evidence lacks a readable record or proof",
            true,
        )];
    };
    let names = |r: &Value| s(r, "decision_id") == Some(&id.to_string());
    let record_ok = record.is_some_and(names)
        && proof.decision_id == id.to_string()
        && proof.leaf_index == id.leaf_index
        && proof.leaf().ok() == Some(leaf);
    let included = cp
        .and_then(|cp| Some((cp.root()?, cp)))
        .is_some_and(|(root, cp)| {
            proof.merkle_root == cp.merkle_root
                && proof.leaf_count == cp.leaf_count
                && proof.holds(&leaf, &root)
        });
    vec![
        pass_fail(
            "Decision Record",
            record_ok,
            "the record names this decision and hashes to the proof's leaf",
            "the record is not the proof's leaf for this decision",
        ),
        pass_fail(
            "Decision Included",
            record_ok && included,
            format!(
                "leaf {} of {} leads to the checkpoint's root",
                id.leaf_index, proof.leaf_count
            ),
            "the proof does not lead from the record to the checkpoint's root",
        ),
    ]
}
