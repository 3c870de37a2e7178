//! Batched decisions, as data: the decision record (a Merkle leaf), the
//! checkpoint payload that commits to a batch's RFC 9162 root, the batch
//! file kept in MLflow, inclusion proofs, and the pure check that a batch
//! file reproduces its anchored checkpoint. No I/O.
//!
//! The formats are specified in `spec/mlflow/decisions.md`.

mod id;
mod proof;

pub use id::{DecisionId, DecisionIdError, StreamId};
pub use proof::{InclusionProof, ProofError};

use ario_envelope::encoding::sha256_hex;
use ario_envelope::jcs::{canonicalize, CanonError};
use ario_envelope::merkle::{self, Hash};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::EventKind;

/// `schema` of a decision record (a leaf).
pub const DECISION_SCHEMA: &str = "ario.mlflow.decision/v1";
/// `schema` of a checkpoint payload.
pub const CHECKPOINT_SCHEMA: &str = "ario.mlflow.checkpoint/v1";
/// `schema` of the batch file kept in MLflow beside the checkpoint.
pub const BATCH_SCHEMA: &str = "ario.mlflow.decision-batch/v1";

/// What one decision record holds besides its id.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionFields {
    /// The plugin's `input_hash` recipe over the input.
    pub input_hash: String,
    /// The plugin's `output_hash` recipe over the output.
    pub output_hash: String,
    /// When the decision was recorded (RFC 3339, UTC, microseconds).
    pub decided_at: String,
    /// Inference latency, when the caller measured it.
    pub latency_ms: Option<f64>,
    /// Caller metadata (omitted when empty).
    pub metadata: Map<String, Value>,
}

/// The canonical bytes of a decision record: JCS of
/// `{schema, decision_id, input_hash, output_hash, decided_at[, latency_ms][, metadata]}`.
///
/// Written member by member in RFC 8785 key order (the hot path of the
/// recorder); a property test holds it equal to canonicalizing the object.
pub fn record_bytes(id: &DecisionId, f: &DecisionFields) -> Result<Vec<u8>, CanonError> {
    use ario_envelope::jcs::{append_object, append_string, append_value};
    let mut out = Vec::with_capacity(320);
    let member = |out: &mut Vec<u8>, first: bool, key: &str| {
        out.push(if first { b'{' } else { b',' });
        append_string(out, key);
        out.push(b':');
    };
    member(&mut out, true, "decided_at");
    append_string(&mut out, &f.decided_at);
    member(&mut out, false, "decision_id");
    append_string(&mut out, &id.to_string());
    member(&mut out, false, "input_hash");
    append_string(&mut out, &f.input_hash);
    if let Some(n) = f.latency_ms.and_then(serde_json::Number::from_f64) {
        member(&mut out, false, "latency_ms");
        append_value(&mut out, &Value::Number(n), 1)?;
    }
    if !f.metadata.is_empty() {
        member(&mut out, false, "metadata");
        append_object(&mut out, &f.metadata, 1)?;
    }
    member(&mut out, false, "output_hash");
    append_string(&mut out, &f.output_hash);
    member(&mut out, false, "schema");
    append_string(&mut out, DECISION_SCHEMA);
    out.push(b'}');
    Ok(out)
}

/// The Merkle leaf hash of a record: `SHA-256(0x00 ‖ JCS(record))`.
pub fn leaf_of(record_jcs: &[u8]) -> Hash {
    merkle::leaf_hash(record_jcs)
}

/// The model a batch of decisions was made with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchModel {
    /// Registered model name.
    pub model_name: String,
    /// Version.
    pub model_version: String,
    /// Source run, or `"unknown"`.
    pub run_id: String,
    /// The URI the model was opened from.
    pub model_uri: String,
}

/// A checkpoint: one signed, anchored commitment to a closed batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointPayload {
    /// The recorder stream.
    pub stream_id: StreamId,
    /// The batch, counted from 0 within the stream.
    pub batch_seq: u64,
    /// Leaves in the batch.
    pub leaf_count: u64,
    /// RFC 9162 root over the leaves, lowercase hex.
    pub merkle_root: String,
    /// `decided_at` of the first record.
    pub first_decided_at: String,
    /// `decided_at` of the last record.
    pub last_decided_at: String,
    /// `SHA-256(JCS(previous checkpoint payload))`, or `GENESIS` for batch 0.
    pub previous_checkpoint_hash: String,
    /// The model.
    #[serde(flatten)]
    pub model: BatchModel,
}

impl CheckpointPayload {
    /// The payload as JSON, with `event_type` and `schema`.
    pub fn to_json(&self) -> Value {
        let mut v = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(m) = &mut v {
            m.insert(
                "event_type".into(),
                EventKind::DecisionCheckpoint.wire_name().into(),
            );
            m.insert("schema".into(), CHECKPOINT_SCHEMA.into());
            m.insert("leaf_schema".into(), DECISION_SCHEMA.into());
        }
        v
    }
    /// The canonical payload bytes (what the envelope commits to).
    pub fn canonical(&self) -> Result<Vec<u8>, CanonError> {
        canonicalize(&self.to_json())
    }
    /// Reads a payload; `None` when it is not a checkpoint of ours.
    pub fn from_json(v: &Value) -> Option<Self> {
        let ok = v.get("schema").and_then(Value::as_str) == Some(CHECKPOINT_SCHEMA)
            && v.get("event_type").and_then(Value::as_str)
                == Some(EventKind::DecisionCheckpoint.wire_name());
        ok.then(|| serde_json::from_value(v.clone()).ok()).flatten()
    }
    /// The root, decoded.
    pub fn root(&self) -> Option<Hash> {
        ario_envelope::encoding::hex_decode_array(&self.merkle_root).ok()
    }
}

/// The batch file kept in MLflow: every record of the batch, in leaf order,
/// each as its canonical JSON text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchFile {
    /// [`BATCH_SCHEMA`].
    pub schema: String,
    /// The stream.
    pub stream_id: StreamId,
    /// The batch.
    pub batch_seq: u64,
    /// The records, in leaf order.
    pub records: Vec<Value>,
}

impl BatchFile {
    /// A batch file over records given as canonical bytes.
    pub fn new(stream_id: StreamId, batch_seq: u64, records: &[Vec<u8>]) -> Self {
        BatchFile {
            schema: BATCH_SCHEMA.into(),
            stream_id,
            batch_seq,
            records: records
                .iter()
                .filter_map(|r| serde_json::from_slice(r).ok())
                .collect(),
        }
    }
    /// The JSON bytes of the batch file over records given as canonical
    /// bytes (each a JSON object), without parsing them: the same document
    /// as serializing [`BatchFile::new`] of them.
    pub fn encode(stream_id: &StreamId, batch_seq: u64, records: &[Vec<u8>]) -> Vec<u8> {
        let size: usize = records.iter().map(|r| r.len() + 1).sum();
        let mut out = Vec::with_capacity(size + 128);
        out.extend_from_slice(format!("{{\"batch_seq\":{batch_seq},\"records\":[").as_bytes());
        for (i, r) in records.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(r);
        }
        out.extend_from_slice(
            format!("],\"schema\":\"{BATCH_SCHEMA}\",\"stream_id\":\"{stream_id}\"}}").as_bytes(),
        );
        out
    }

    /// The leaf hashes, recomputed from the records.
    pub fn leaves(&self) -> Result<Vec<Hash>, CanonError> {
        self.records
            .iter()
            .map(|r| canonicalize(r).map(|b| leaf_of(&b)))
            .collect()
    }
    /// The position of a decision in the file.
    pub fn position(&self, id: &DecisionId) -> Option<usize> {
        let want = id.to_string();
        self.records
            .iter()
            .position(|r| r.get("decision_id").and_then(Value::as_str) == Some(want.as_str()))
    }
}

/// How a batch file fails to reproduce its checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchFault {
    /// The file is for another stream or batch.
    #[error("the batch file is for {found}, the checkpoint for {expected}")]
    WrongBatch {
        /// What the checkpoint names.
        expected: String,
        /// What the file names.
        found: String,
    },
    /// Fewer or more records than the checkpoint counted.
    #[error("the batch file holds {found} records, the checkpoint counted {expected}")]
    LeafCount {
        /// Anchored count.
        expected: u64,
        /// Records found.
        found: u64,
    },
    /// A record sits at another position than its id says.
    #[error("record {decision_id} sits at position {position}, its id says {expected}")]
    OutOfOrder {
        /// The record.
        decision_id: String,
        /// Where it is.
        position: usize,
        /// Where its id puts it.
        expected: u64,
    },
    /// The records do not hash to the anchored root.
    #[error("the records hash to root {found}, the checkpoint anchored {expected}")]
    Root {
        /// Anchored root.
        expected: String,
        /// Recomputed root.
        found: String,
    },
    /// The checkpoint's first or last decision time is not the batch file's.
    #[error("the checkpoint says {member} is {expected}, the batch file {found}")]
    Summary {
        /// The member.
        member: &'static str,
        /// Anchored value.
        expected: String,
        /// The batch file's.
        found: String,
    },
    /// A record cannot be canonicalized or names no valid id.
    #[error("record {position} is unreadable: {why}")]
    Unreadable {
        /// Its position.
        position: usize,
        /// Why.
        why: String,
    },
}

impl BatchFault {
    /// The reason code a verifier reports for this fault.
    pub fn reason(&self) -> crate::verify::check::FailReason {
        use crate::verify::check::FailReason;
        match self {
            BatchFault::LeafCount { .. } => FailReason::BatchIncomplete,
            BatchFault::OutOfOrder { .. } => FailReason::BatchReordered,
            BatchFault::Root { .. } => FailReason::BatchRootMismatch,
            BatchFault::Summary { .. } => FailReason::BatchSummaryMismatch,
            BatchFault::WrongBatch { .. } | BatchFault::Unreadable { .. } => {
                FailReason::BatchUnreadable
            }
        }
    }
}

/// Checks that `file` reproduces `cp`: same batch, same count, every record
/// in the place its id gives it, same root. Returns the leaves.
pub fn check_batch(cp: &CheckpointPayload, file: &BatchFile) -> Result<Vec<Hash>, BatchFault> {
    if file.schema != BATCH_SCHEMA {
        return Err(BatchFault::Unreadable {
            position: 0,
            why: format!("batch file schema {:?}", file.schema),
        });
    }
    if file.stream_id != cp.stream_id || file.batch_seq != cp.batch_seq {
        return Err(BatchFault::WrongBatch {
            expected: format!("{}/{}", cp.stream_id, cp.batch_seq),
            found: format!("{}/{}", file.stream_id, file.batch_seq),
        });
    }
    if file.records.len() as u64 != cp.leaf_count {
        return Err(BatchFault::LeafCount {
            expected: cp.leaf_count,
            found: file.records.len() as u64,
        });
    }
    for (position, r) in file.records.iter().enumerate() {
        let id = r
            .get("decision_id")
            .and_then(Value::as_str)
            .ok_or_else(|| BatchFault::Unreadable {
                position,
                why: "no decision_id".into(),
            })?;
        let id: DecisionId = id
            .parse()
            .map_err(|e: DecisionIdError| BatchFault::Unreadable {
                position,
                why: e.to_string(),
            })?;
        if id.stream_id != cp.stream_id {
            return Err(BatchFault::WrongBatch {
                expected: cp.stream_id.to_string(),
                found: id.to_string(),
            });
        }
        if id.leaf_index != position as u64 || id.batch_seq != cp.batch_seq {
            return Err(BatchFault::OutOfOrder {
                decision_id: id.to_string(),
                position,
                expected: id.leaf_index,
            });
        }
    }
    let at = |r: Option<&Value>| {
        r.and_then(|r| r.get("decided_at"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    for (member, expected, found) in [
        (
            "first_decided_at",
            &cp.first_decided_at,
            at(file.records.first()),
        ),
        (
            "last_decided_at",
            &cp.last_decided_at,
            at(file.records.last()),
        ),
    ] {
        if *expected != found {
            return Err(BatchFault::Summary {
                member,
                expected: expected.clone(),
                found,
            });
        }
    }
    let leaves = file.leaves().map_err(|e| BatchFault::Unreadable {
        position: 0,
        why: e.to_string(),
    })?;
    let found = hex::encode(merkle::root(&leaves));
    if found != cp.merkle_root {
        return Err(BatchFault::Root {
            expected: cp.merkle_root.clone(),
            found,
        });
    }
    Ok(leaves)
}

/// The payload hash a checkpoint's successor names as its previous one.
pub fn chain_hash(cp: &CheckpointPayload) -> Result<String, CanonError> {
    cp.canonical().map(|b| sha256_hex(&b))
}

#[cfg(test)]
mod tests;
