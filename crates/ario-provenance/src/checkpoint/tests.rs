#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use super::*;
use proptest::prelude::*;
use serde_json::json;

fn stream() -> StreamId {
    "00112233445566ff".parse().unwrap()
}

fn records(batch: u64, n: u64) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| {
            let id = DecisionId {
                stream_id: stream(),
                batch_seq: batch,
                leaf_index: i,
            };
            let f = DecisionFields {
                input_hash: "a".repeat(64),
                output_hash: format!("{i:064x}"),
                decided_at: "2026-12-02T08:00:00.000001Z".into(),
                latency_ms: Some(0.25),
                metadata: Map::new(),
            };
            record_bytes(&id, &f).unwrap()
        })
        .collect()
}

fn checkpoint(batch: u64, recs: &[Vec<u8>]) -> CheckpointPayload {
    let leaves: Vec<Hash> = recs.iter().map(|r| leaf_of(r)).collect();
    CheckpointPayload {
        stream_id: stream(),
        batch_seq: batch,
        leaf_count: recs.len() as u64,
        merkle_root: hex::encode(merkle::root(&leaves)),
        first_decided_at: "2026-12-02T08:00:00.000001Z".into(),
        last_decided_at: "2026-12-02T08:00:00.000001Z".into(),
        previous_checkpoint_hash: ario_envelope::envelope::GENESIS.into(),
        model: BatchModel {
            model_name: "iris".into(),
            model_version: "1".into(),
            run_id: "r".into(),
            model_uri: "models:/iris/1".into(),
        },
    }
}

#[test]
fn a_record_is_canonical_and_names_its_schema() {
    let r = &records(0, 1)[0];
    let text = std::str::from_utf8(r).unwrap();
    assert!(text.starts_with(r#"{"decided_at":"#), "{text}");
    assert!(text.contains(r#""schema":"ario.mlflow.decision/v1""#));
    assert!(!text.contains("metadata"));
}

#[test]
fn the_checkpoint_payload_round_trips_and_carries_its_event_type() {
    let cp = checkpoint(2, &records(2, 3));
    let v = cp.to_json();
    assert_eq!(v["event_type"], "decision_checkpoint");
    assert_eq!(v["leaf_schema"], DECISION_SCHEMA);
    assert_eq!(CheckpointPayload::from_json(&v).unwrap(), cp);
    let mut other = v.clone();
    other["schema"] = "x".into();
    assert_eq!(CheckpointPayload::from_json(&other), None);
}

#[test]
fn the_encoded_batch_file_is_the_serialized_one() {
    let recs = records(4, 3);
    let encoded: Value = serde_json::from_slice(&BatchFile::encode(&stream(), 4, &recs)).unwrap();
    let serialized = serde_json::to_value(BatchFile::new(stream(), 4, &recs)).unwrap();
    assert_eq!(encoded, serialized);
    let file: BatchFile = serde_json::from_value(encoded).unwrap();
    assert_eq!(
        file.leaves().unwrap(),
        recs.iter().map(|r| leaf_of(r)).collect::<Vec<_>>()
    );
}

#[test]
fn an_intact_batch_reproduces_its_checkpoint() {
    let recs = records(1, 5);
    let cp = checkpoint(1, &recs);
    let file = BatchFile::new(stream(), 1, &recs);
    let leaves = check_batch(&cp, &file).unwrap();
    assert_eq!(leaves.len(), 5);
}

#[test]
fn each_tampering_of_a_batch_has_its_own_fault() {
    let recs = records(1, 5);
    let cp = checkpoint(1, &recs);
    let mut dropped = BatchFile::new(stream(), 1, &recs);
    dropped.records.remove(2);
    assert!(matches!(
        check_batch(&cp, &dropped),
        Err(BatchFault::LeafCount {
            expected: 5,
            found: 4
        })
    ));
    let mut reordered = BatchFile::new(stream(), 1, &recs);
    reordered.records.swap(1, 3);
    assert!(matches!(
        check_batch(&cp, &reordered),
        Err(BatchFault::OutOfOrder { position: 1, .. })
    ));
    let mut altered = BatchFile::new(stream(), 1, &recs);
    altered.records[4]["output_hash"] = "f".repeat(64).into();
    assert!(matches!(
        check_batch(&cp, &altered),
        Err(BatchFault::Root { .. })
    ));
    let mut late = cp.clone();
    late.last_decided_at = "2027-01-01T00:00:00.000000Z".into();
    assert!(matches!(
        check_batch(&late, &BatchFile::new(stream(), 1, &recs)),
        Err(BatchFault::Summary {
            member: "last_decided_at",
            ..
        })
    ));
    let other = BatchFile::new(stream(), 2, &recs);
    assert!(matches!(
        check_batch(&cp, &other),
        Err(BatchFault::WrongBatch { .. })
    ));
}

proptest! {
    #[test]
    fn every_leaf_proves_into_its_root_and_no_other(n in 1u64..40) {
        let recs = records(0, n);
        let leaves: Vec<Hash> = recs.iter().map(|r| leaf_of(r)).collect();
        let root = merkle::root(&leaves);
        for i in 0..n {
            let id = DecisionId { stream_id: stream(), batch_seq: 0, leaf_index: i };
            let p = InclusionProof::build(&id, &leaves, None).unwrap();
            prop_assert!(p.holds(&leaves[i as usize], &root));
            let other = leaves[((i + 1) % n) as usize];
            prop_assert_eq!(p.holds(&other, &root), n == 1);
        }
    }
}

/// The record as an object, canonicalized the general way.
fn record_by_map(id: &DecisionId, f: &DecisionFields) -> Vec<u8> {
    let mut m = Map::new();
    m.insert("schema".into(), DECISION_SCHEMA.into());
    m.insert("decision_id".into(), id.to_string().into());
    m.insert("input_hash".into(), f.input_hash.clone().into());
    m.insert("output_hash".into(), f.output_hash.clone().into());
    m.insert("decided_at".into(), f.decided_at.clone().into());
    if let Some(n) = f.latency_ms.and_then(serde_json::Number::from_f64) {
        m.insert("latency_ms".into(), Value::Number(n));
    }
    if !f.metadata.is_empty() {
        m.insert("metadata".into(), Value::Object(f.metadata.clone()));
    }
    ario_envelope::jcs::canonicalize(&Value::Object(m)).unwrap()
}

proptest! {
    #[test]
    fn the_record_writer_is_jcs_of_the_record(
        text in "\\PC{0,12}",
        key in "[a-z\u{e000}-\u{e010}\u{1f600}]{1,4}",
        latency in proptest::option::of(-1e6f64..1e6),
        leaf in any::<u64>(),
    ) {
        let id = DecisionId { stream_id: stream(), batch_seq: 3, leaf_index: leaf };
        let mut metadata = Map::new();
        if !text.is_empty() {
            metadata.insert(key.clone(), json!({"note": text, "n": [1.5, null, true]}));
            metadata.insert("z".into(), json!(text));
        }
        let f = DecisionFields {
            input_hash: text.clone(),
            output_hash: "b".repeat(64),
            decided_at: format!("2026-12-02T08:00:00.{leaf:06}Z"),
            latency_ms: latency,
            metadata,
        };
        prop_assert_eq!(record_bytes(&id, &f).unwrap(), record_by_map(&id, &f));
    }
}
