//! `test-vectors/mlflow/decisions/`: batched decisions — records → leaves →
//! roots → inclusion proofs → signed checkpoint envelopes (a chain of two),
//! plus negatives, each with the reason code a verifier must give.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::GENESIS;
use ario_envelope::merkle::{self, Hash};
use ario_envelope::{canonicalize, sign_envelope_with, SignPolicy, SigningKey};
use ario_provenance::checkpoint::{
    chain_hash, check_batch, leaf_of, record_bytes, BatchFile, BatchModel, CheckpointPayload,
    DecisionFields, DecisionId, InclusionProof, StreamId,
};
use ario_provenance::{EventKind, Subject, SPEC_VERSION};
use serde_json::{json, Map, Value};

use crate::vectors::SEED_HEX;

const FORMAT: &str = "ario-mlflow-rs/decision-vector/v1";
const STREAM: &str = "0123456789abcdef";

fn model() -> BatchModel {
    BatchModel {
        model_name: "iris-classifier".into(),
        model_version: "3".into(),
        run_id: "4f1c2d9e8a7b4c3d9e2f1a0b9c8d7e6f".into(),
        model_uri: "models:/iris-classifier/3".into(),
    }
}

/// The records of one batch (canonical bytes), with fixed inputs and times.
fn records(stream: &StreamId, batch: u64, n: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    (0..n)
        .map(|i| {
            let id = DecisionId {
                stream_id: stream.clone(),
                batch_seq: batch,
                leaf_index: i,
            };
            let mut metadata = Map::new();
            if i == 1 {
                metadata.insert("tenant".into(), json!("acme"));
            }
            let f = DecisionFields {
                input_hash: sha256_hex(format!("input {batch}/{i}").as_bytes()),
                output_hash: sha256_hex(format!("output {batch}/{i}").as_bytes()),
                decided_at: format!("2026-12-02T08:{:02}:{:02}.{:06}Z", batch, i, 250 * i),
                latency_ms: (i % 2 == 0).then_some(0.5 + i as f64),
                metadata,
            };
            Ok(record_bytes(&id, &f)?)
        })
        .collect()
}

struct Built {
    value: Value,
    payload: CheckpointPayload,
    file: BatchFile,
}

fn checkpoint(
    key: &SigningKey,
    stream: &StreamId,
    batch: u64,
    n: u64,
    previous: &str,
) -> anyhow::Result<Built> {
    let recs = records(stream, batch, n)?;
    let leaves: Vec<Hash> = recs.iter().map(|r| leaf_of(r)).collect();
    let root = merkle::root(&leaves);
    let at = |r: Option<&Vec<u8>>| -> anyhow::Result<String> {
        let v: Value = serde_json::from_slice(r.ok_or_else(|| anyhow::anyhow!("empty batch"))?)?;
        Ok(v["decided_at"].as_str().unwrap_or_default().to_owned())
    };
    let payload = CheckpointPayload {
        stream_id: stream.clone(),
        batch_seq: batch,
        leaf_count: n,
        merkle_root: hex::encode(root),
        first_decided_at: at(recs.first())?,
        last_decided_at: at(recs.last())?,
        previous_checkpoint_hash: previous.to_owned(),
        model: model(),
    };
    let payload_bytes = payload.canonical()?;
    let m = model();
    let subject = Subject::DecisionBatch {
        stream_id: STREAM.into(),
        batch_seq: batch,
        name: m.model_name,
        version: m.model_version,
        model_run_id: Some(m.run_id),
    };
    let pre = json!({
        "spec_version": SPEC_VERSION,
        "event_id": format!("6f1c2d9e-8a4b-4c1d-9e2f-3a4b5c6d7e{batch:02}"),
        "event_type": EventKind::DecisionCheckpoint.wire_name(),
        "subject": subject.to_json(),
        "payload_hash": sha256_hex(&payload_bytes),
        "previous_hash": previous,
        "signed_at": format!("2026-12-02T08:{batch:02}:59.000001+00:00"),
    });
    let envelope = sign_envelope_with(&pre, key, SignPolicy::AcceptedProfilesOnly)?;
    let proofs = (0..n)
        .map(|i| {
            let id = DecisionId {
                stream_id: stream.clone(),
                batch_seq: batch,
                leaf_index: i,
            };
            let p = InclusionProof::build(&id, &leaves, None)?;
            Ok(json!({
                "decision_id": p.decision_id, "leaf_index": p.leaf_index,
                "leaf_count": p.leaf_count, "audit_path_hex": p.audit_path,
            }))
        })
        .collect::<anyhow::Result<Vec<Value>>>()?;
    let record_rows: Vec<Value> = recs
        .iter()
        .map(|r| -> anyhow::Result<Value> {
            Ok(json!({
                "record": serde_json::from_slice::<Value>(r)?,
                "record_jcs_hex": hex::encode(r),
                "leaf_hash_hex": hex::encode(leaf_of(r)),
            }))
        })
        .collect::<anyhow::Result<_>>()?;
    let value = json!({
        "records": record_rows,
        "expected_root_hex": hex::encode(root),
        "inclusion_proofs": proofs,
        "payload": payload.to_json(),
        "payload_jcs_hex": hex::encode(&payload_bytes),
        "payload_hash_hex": sha256_hex(&payload_bytes),
        "envelope": envelope,
        "envelope_jcs_hex": hex::encode(canonicalize(&envelope)?),
    });
    let file = BatchFile::new(stream.clone(), batch, &recs);
    Ok(Built {
        value,
        payload,
        file,
    })
}

/// A tampered batch file and the code `check_batch` gives for it.
fn negative(
    name: &str,
    description: &str,
    cp: &Built,
    index: usize,
    edit: impl FnOnce(&mut BatchFile),
) -> anyhow::Result<Value> {
    let mut file = cp.file.clone();
    edit(&mut file);
    let fault = check_batch(&cp.payload, &file)
        .err()
        .ok_or_else(|| anyhow::anyhow!("negative {name} passes the batch check"))?;
    Ok(json!({
        "name": name, "description": description, "checkpoint_index": index,
        "records": file.records, "expected_code": fault.reason().code(),
    }))
}

/// The vector file.
pub(crate) fn decision_checkpoints() -> anyhow::Result<Value> {
    let key = SigningKey::from_seed_hex(SEED_HEX)?;
    let stream: StreamId = STREAM.parse()?;
    let first = checkpoint(&key, &stream, 0, 5, GENESIS)?;
    let second = checkpoint(&key, &stream, 1, 3, &chain_hash(&first.payload)?)?;
    let negatives = vec![
        negative(
            "record_altered",
            "one record's output_hash changed",
            &first,
            0,
            |f| {
                f.records[2]["output_hash"] = json!("f".repeat(64));
            },
        )?,
        negative("record_dropped", "one record removed", &first, 0, |f| {
            f.records.remove(3);
        })?,
        negative("records_reordered", "two records swapped", &first, 0, |f| {
            f.records.swap(1, 2);
        })?,
        negative(
            "record_added",
            "a record of another batch appended",
            &second,
            1,
            |f| {
                let extra = first.file.records[0].clone();
                f.records.push(extra);
            },
        )?,
        negative(
            "time_altered",
            "the last record's decided_at moved: the anchored last_decided_at no longer matches",
            &first,
            0,
            |f| {
                f.records[4]["decided_at"] = json!("2027-01-01T00:00:00.000000Z");
            },
        )?,
    ];
    Ok(json!({
        "format": FORMAT,
        "vector_id": "mlflow-decision-checkpoints-01",
        "description": "Two checkpoints of one recorder stream (5 and 3 decisions): records, RFC 9162 leaves and roots, every inclusion proof, the signed decision_checkpoint envelopes and their chain link; negatives are tampered batch files with the reason code a verifier gives",
        "spec": "spec/mlflow/decisions.md",
        "fixed_keypair": {"ed25519_seed_hex": SEED_HEX, "ed25519_public_hex": key.public_key_hex()},
        "checkpoints": [first.value, second.value],
        "negatives": negatives,
    }))
}
