//! `mlflow-decisions`: batched-decision vectors (`mlflow/decisions/`). Each
//! checkpoint's records reproduce their JCS bytes, leaves and root; every
//! inclusion proof verifies and is reproduced; the checkpoint payload
//! commits to the root, count and decision times; the envelope verifies over
//! the payload; the chain links; and each tampered batch file fails for the
//! pinned reason. Written from `spec/mlflow/decisions.md` with the kernel's
//! primitives only, independently of the recorder that generates the vectors.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::GENESIS;
use ario_envelope::merkle::{leaf_hash, root, Hash};
use ario_envelope::{verify_envelope, VerifyOptions};
use serde_json::Value;

use super::merkle::check_proofs;
use crate::check::{canon, ensure, get, hexb, s, Check};

fn arr<'a>(v: &'a Value, k: &str) -> Result<&'a Vec<Value>, String> {
    get(v, &[k])?
        .as_array()
        .ok_or_else(|| format!("{k} is not an array"))
}

fn decided_at(r: Option<&Value>) -> &str {
    r.and_then(|r| r.get("decided_at"))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The reason a batch of records fails to reproduce `payload`, in the
/// spec's order (count, positions, times, root); `None` when it reproduces it.
fn batch_fault(payload: &Value, records: &[Value]) -> Result<Option<&'static str>, String> {
    let n = get(payload, &["leaf_count"])?
        .as_u64()
        .ok_or("leaf_count")?;
    if records.len() as u64 != n {
        return Ok(Some("batch_incomplete"));
    }
    let stream = s(payload, &["stream_id"])?;
    let batch = get(payload, &["batch_seq"])?.as_u64().ok_or("batch_seq")?;
    for (i, r) in records.iter().enumerate() {
        let id = r
            .get("decision_id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if id != format!("{stream}-{batch}-{i}") {
            return Ok(Some("batch_reordered"));
        }
    }
    if decided_at(records.first()) != s(payload, &["first_decided_at"])?
        || decided_at(records.last()) != s(payload, &["last_decided_at"])?
    {
        return Ok(Some("batch_summary_mismatch"));
    }
    let leaves: Vec<Hash> = records
        .iter()
        .map(|r| canon(r).map(|b| leaf_hash(&b)))
        .collect::<Result<_, _>>()?;
    if hex::encode(root(&leaves)) != s(payload, &["merkle_root"])? {
        return Ok(Some("batch_root_mismatch"));
    }
    Ok(None)
}

fn checkpoint(cp: &Value, previous: &str) -> Result<String, String> {
    let rows = arr(cp, "records")?;
    let mut leaves = Vec::with_capacity(rows.len());
    let mut records = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let record = get(row, &["record"])?;
        let bytes = canon(record)?;
        ensure!(
            bytes == hexb(row, &["record_jcs_hex"])?,
            "record {i}: JCS bytes differ"
        );
        let leaf = leaf_hash(&bytes);
        ensure!(
            hex::encode(leaf) == s(row, &["leaf_hash_hex"])?,
            "record {i}: leaf hash differs"
        );
        ensure!(
            record.get("schema").and_then(Value::as_str) == Some("ario.mlflow.decision/v1"),
            "record {i}: schema"
        );
        leaves.push(leaf);
        records.push(record.clone());
    }
    let r = root(&leaves);
    ensure!(
        hex::encode(r) == s(cp, &["expected_root_hex"])?,
        "root differs"
    );
    let proofs = arr(cp, "inclusion_proofs")?;
    ensure!(proofs.len() == leaves.len(), "one proof per leaf");
    for (i, p) in proofs.iter().enumerate() {
        ensure!(
            get(p, &["leaf_count"])?.as_u64() == Some(leaves.len() as u64),
            "proof {i}: leaf_count"
        );
        ensure!(
            get(p, &["leaf_index"])?.as_u64() == Some(i as u64)
                && p.get("decision_id") == records.get(i).and_then(|r| r.get("decision_id")),
            "proof {i}: not the proof of record {i}"
        );
    }
    check_proofs(proofs, &leaves, &r)?;

    let payload = get(cp, &["payload"])?;
    let payload_bytes = canon(payload)?;
    ensure!(
        payload_bytes == hexb(cp, &["payload_jcs_hex"])?,
        "payload JCS bytes differ"
    );
    let payload_hash = sha256_hex(&payload_bytes);
    ensure!(
        payload_hash == s(cp, &["payload_hash_hex"])?,
        "payload hash differs"
    );
    ensure!(
        s(payload, &["event_type"])? == "decision_checkpoint"
            && s(payload, &["schema"])? == "ario.mlflow.checkpoint/v1",
        "payload is not a decision checkpoint"
    );
    ensure!(
        batch_fault(payload, &records)?.is_none(),
        "the records do not reproduce the payload"
    );
    ensure!(
        s(payload, &["previous_checkpoint_hash"])? == previous,
        "chain: previous_checkpoint_hash is not the predecessor's payload hash"
    );

    let envelope = get(cp, &["envelope"])?;
    ensure!(
        canon(envelope)? == hexb(cp, &["envelope_jcs_hex"])?,
        "envelope JCS bytes differ"
    );
    let verdict = verify_envelope(
        envelope,
        VerifyOptions {
            payload_bytes: Some(&payload_bytes),
            allow_legacy: false,
        },
    );
    ensure!(
        verdict.ok && verdict.payload_hash_ok == Some(true),
        "envelope does not verify: {:?}",
        verdict.reasons
    );
    ensure!(
        s(envelope, &["event_type"])? == "decision_checkpoint",
        "envelope event_type"
    );
    ensure!(
        s(envelope, &["previous_hash"])? == previous,
        "envelope previous_hash is not the chain link"
    );
    let subject = get(envelope, &["subject"])?;
    ensure!(
        s(subject, &["type"])? == "mlflow_decision_batch"
            && s(subject, &["stream_id"])? == s(payload, &["stream_id"])?
            && subject.get("batch_seq") == payload.get("batch_seq"),
        "subject does not name the batch"
    );
    Ok(payload_hash)
}

/// Runs one `mlflow-decisions` vector.
pub(crate) fn check(v: &Value) -> Check {
    let cps = arr(v, "checkpoints")?;
    ensure!(!cps.is_empty(), "no checkpoints");
    let mut previous = GENESIS.to_owned();
    for (i, cp) in cps.iter().enumerate() {
        previous = checkpoint(cp, &previous).map_err(|e| format!("checkpoint {i}: {e}"))?;
    }
    for n in arr(v, "negatives")? {
        let name = s(n, &["name"])?;
        let i = get(n, &["checkpoint_index"])?
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .ok_or("checkpoint_index")?;
        let cp = cps
            .get(i)
            .ok_or_else(|| format!("{name}: no checkpoint {i}"))?;
        let payload = get(cp, &["payload"])?;
        let got = batch_fault(payload, arr(n, "records")?)?;
        let want = s(n, &["expected_code"])?;
        ensure!(
            got == Some(want),
            "negative {name}: expected {want}, got {got:?}"
        );
    }
    Ok(())
}
