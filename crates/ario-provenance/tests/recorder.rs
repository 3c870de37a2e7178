//! Batched decisions against the real MLflow server and the devnet: every
//! recorded decision proves into its anchored checkpoint, and each way of
//! tampering with a batch or the chain fails with its own reason.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use ario_devnet::Faults;
use ario_provenance::checkpoint::DecisionId;
use ario_provenance::layout::{artifact_path, batch_folder, ArtifactFile};
use ario_provenance::outbox::OutboxState;
use ario_provenance::{
    AnchorRunOptions, Anchorer, DecisionInput, DecisionRecorder, EventKind, OpenOptions,
    ProofState, RecorderOptions, Status, VerifiedModel,
};
use serde_json::{json, Value};

/// A registered, anchored model version opened as a [`VerifiedModel`].
async fn model(f: &common::Fixture) -> VerifiedModel {
    let p = &f.prov;
    let run = common::iris_run(f.server);
    let run_id = run["run_id"].as_str().unwrap();
    p.anchor_run(run_id, &AnchorRunOptions::default())
        .await
        .unwrap();
    let (name, version) = common::register(p, run_id, "iris-rec").await;
    let uri = format!("models:/{name}/{version}");
    VerifiedModel::open(p, &uri, OpenOptions::default())
        .await
        .unwrap()
}

fn decision(i: usize) -> DecisionInput {
    DecisionInput {
        input: json!({"sepal_length": 5.0 + (i % 10) as f64 / 10.0, "row": i}),
        output: json!([i % 3]),
        metadata: Default::default(),
        latency_ms: Some(0.5),
    }
}

fn ids(receipts: &[ario_provenance::DecisionReceipt]) -> Vec<DecisionId> {
    receipts
        .iter()
        .map(|r| r.decision_id.parse().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_decisions_each_prove_into_an_anchored_checkpoint() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let m = model(&f).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = RecorderOptions {
        batch_size: 1000,
        max_batch_age: Duration::from_secs(3600),
        dir: Some(dir.path().to_owned()),
        ..Default::default()
    };
    let uploads = || {
        f.devnet
            .requests()
            .iter()
            .filter(|q| q.method == "POST" && q.path.starts_with("/turbo/tx"))
            .count()
    };
    let before = uploads();
    let r = DecisionRecorder::open(&m, opts).await.unwrap();
    let mut receipts = Vec::new();
    for i in 0..5000 {
        receipts.push(r.record(&decision(i)).unwrap());
    }
    let many: Vec<DecisionInput> = (5000..10_000).map(decision).collect();
    receipts.extend(r.record_many(&many).unwrap());
    assert_eq!(receipts.len(), 10_000);
    let first: DecisionId = receipts[0].decision_id.parse().unwrap();
    assert!(matches!(
        r.proof(&first).unwrap(),
        ProofState::Ready(_) | ProofState::Pending
    ));
    r.close().await.unwrap();
    let stats = r.stats();
    assert_eq!(
        (stats.checkpoints, stats.decisions, stats.uploads),
        (10, 10_000, 10)
    );
    assert_eq!(uploads() - before, 10, "one upload per batch of 1,000");

    let all = ids(&receipts);
    let verified = f.prov.verify_decisions(&all).await;
    assert_eq!(verified.len(), 10_000);
    for v in &verified {
        assert_eq!(
            v.status,
            Status::Verified,
            "{}: {:#?}",
            v.decision_id,
            v.rows
        );
    }
    // The proof the recorder hands out is the one the verifier recomputes.
    let ProofState::Ready(p) = r.proof(&all[4321]).unwrap() else {
        panic!("batch 4 is checkpointed");
    };
    assert_eq!(Some(&p), verified[4321].proof.as_ref());
    assert_eq!(p.leaf_hash, receipts[4321].leaf_hash);
    assert!(p.checkpoint_tx_id.is_some());

    // The audit covers the batches: all ten, every decision in them.
    let audit = f.prov.audit(&m.name, &m.version, None).await.unwrap();
    let b = &audit.decision_batches;
    assert_eq!(
        (b.total, b.audited, b.verified, b.decisions_verified),
        (10, 10, 10, 10_000)
    );
    assert!(audit.overall_ok, "{:#?}", audit.stages);
}

/// Reads, edits and writes back one batch file in MLflow.
async fn edit_batch(
    p: &Anchorer,
    m: &VerifiedModel,
    id: &DecisionId,
    edit: impl FnOnce(&mut Value),
) -> Vec<u8> {
    let folder = batch_folder(id.stream_id.as_str(), id.batch_seq);
    let path = artifact_path(
        EventKind::DecisionCheckpoint,
        &folder,
        ArtifactFile::Decisions,
    )
    .unwrap();
    let root = p
        .mlflow()
        .run_root(m.run_id.as_deref().unwrap())
        .await
        .unwrap();
    let original = p
        .mlflow()
        .read_artifact(&root, &path, 1 << 26)
        .await
        .unwrap();
    let mut v: Value = serde_json::from_slice(&original).unwrap();
    edit(&mut v);
    p.mlflow()
        .upload_artifact(&root, &path, serde_json::to_vec(&v).unwrap())
        .await
        .unwrap();
    original
}

async fn restore(p: &Anchorer, m: &VerifiedModel, id: &DecisionId, bytes: Vec<u8>) {
    edit_batch(p, m, id, |v| *v = serde_json::from_slice(&bytes).unwrap()).await;
}

/// Batches of 8 decisions that close only when full (or closed), in `dir`.
fn batches_of_eight(dir: &std::path::Path) -> RecorderOptions {
    RecorderOptions {
        batch_size: 8,
        max_batch_age: Duration::from_secs(3600),
        dir: Some(dir.to_owned()),
        ..Default::default()
    }
}

async fn failures(p: &Anchorer, id: &DecisionId) -> (Status, Vec<&'static str>) {
    let v = p.verify_decision(id).await;
    (v.status, v.failures)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_tampering_of_a_batch_or_the_chain_fails_for_its_own_reason() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let m = model(&f).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = batches_of_eight(dir.path());
    let r = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
    let all = ids(&r
        .record_many(&(0..32).map(decision).collect::<Vec<_>>())
        .unwrap());
    r.close().await.unwrap();
    for id in &all {
        assert_eq!(failures(p, id).await, (Status::Verified, vec![]), "{id}");
    }
    let at = |b: usize, l: usize| all[b * 8 + l].clone();

    // A changed hash.
    let kept = edit_batch(p, &m, &at(1, 5), |v| {
        v["records"][5]["output_hash"] = json!("f".repeat(64));
    })
    .await;
    let (s, codes) = failures(p, &at(1, 5)).await;
    assert_eq!(s, Status::Failed);
    assert!(codes.contains(&"batch_root_mismatch"), "{codes:?}");
    let audit = p.audit(&m.name, &m.version, None).await.unwrap();
    assert_eq!(
        audit.decision_batches.verified, 3,
        "{:#?}",
        audit.decision_batches
    );
    assert_eq!(audit.overall, Status::Failed);
    restore(p, &m, &at(1, 5), kept).await;
    assert_eq!(failures(p, &at(1, 5)).await.0, Status::Verified);

    // A dropped decision.
    let kept = edit_batch(p, &m, &at(2, 3), |v| {
        v["records"].as_array_mut().unwrap().remove(3);
    })
    .await;
    let (s, codes) = failures(p, &at(2, 3)).await;
    assert_eq!(s, Status::Failed);
    assert!(codes.contains(&"batch_incomplete"), "{codes:?}");
    restore(p, &m, &at(2, 3), kept).await;

    // A reordered batch.
    let kept = edit_batch(p, &m, &at(3, 0), |v| {
        v["records"].as_array_mut().unwrap().swap(1, 2);
    })
    .await;
    let (s, codes) = failures(p, &at(3, 0)).await;
    assert_eq!(s, Status::Failed);
    assert!(codes.contains(&"batch_reordered"), "{codes:?}");
    restore(p, &m, &at(3, 0), kept).await;
    assert_eq!(failures(p, &at(3, 0)).await.0, Status::Verified);

    // An upload refused while a recorder runs is owed: the next recorder on
    // the journal uploads it before any later batch, so no gap opens.
    let refuse = || Faults {
        error_500_share: 1.0,
        path_prefix: Some("/turbo/tx".into()),
        ..Default::default()
    };
    let batch = |r: &DecisionRecorder| {
        ids(&r
            .record_many(&(0..8).map(decision).collect::<Vec<_>>())
            .unwrap())
    };
    drop(r);
    // Closed and dropped, a recorder has freed its directory: reopening at
    // once never finds it busy.
    for _ in 0..25 {
        let again = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
        again.close().await.unwrap();
    }
    let r = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
    f.devnet.set_faults(refuse());
    let b4 = batch(&r);
    r.close().await.unwrap();
    assert!(r.stats().upload_failures >= 1);
    f.devnet.set_faults(Faults::default());
    assert_eq!(failures(p, &b4[0]).await.0, Status::NotAnchored);
    drop(r);
    let r = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
    let b5 = batch(&r);
    r.close().await.unwrap();
    assert_eq!((b4[0].batch_seq, b5[0].batch_seq), (4, 5));
    for id in [&b4[0], &b5[0]] {
        assert_eq!(failures(p, id).await, (Status::Verified, vec![]), "{id}");
    }

    // A missing checkpoint: batch 6 never reaches Arweave (its upload is
    // refused and then given up), batch 7's does.
    drop(r);
    let r = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
    f.devnet.set_faults(refuse());
    let b6 = batch(&r);
    r.close().await.unwrap();
    f.devnet.set_faults(Faults::default());
    drop(r);
    for item in p.outbox().list(&[OutboxState::Pending]).unwrap() {
        p.outbox()
            .attempt_failed(&item.event_id, "given up", true)
            .unwrap();
    }
    let r = DecisionRecorder::open(&m, opts.clone()).await.unwrap();
    let b7 = batch(&r);
    r.close().await.unwrap();
    assert_eq!((b6[0].batch_seq, b7[0].batch_seq), (6, 7));
    assert_eq!(failures(p, &b6[0]).await.0, Status::NotAnchored);
    let (s, codes) = failures(p, &b7[0]).await;
    assert_eq!(s, Status::Failed);
    assert_eq!(codes, vec!["checkpoint_missing"]);

    // A forked checkpoint: a second journal with the same stream signs
    // another batch 0 with the same key.
    let fork = tempfile::tempdir().unwrap();
    std::fs::copy(
        dir.path().join("stream.json"),
        fork.path().join("stream.json"),
    )
    .unwrap();
    let forked = RecorderOptions {
        dir: Some(fork.path().to_owned()),
        ..opts
    };
    let r = DecisionRecorder::open(&m, forked).await.unwrap();
    let other = ids(&r
        .record_many(&(100..108).map(decision).collect::<Vec<_>>())
        .unwrap());
    r.close().await.unwrap();
    assert_eq!(other[0].batch_seq, 0);
    let (s, codes) = failures(p, &at(0, 0)).await;
    assert_eq!(s, Status::Failed);
    assert!(codes.contains(&"checkpoint_forked"), "{codes:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn trace_each_writes_traces_mlflow_itself_can_open() {
    let Some(f) = common::fixture().await else {
        return;
    };
    if f.server.version().starts_with("2.") {
        return; // MLflow 2.x keeps no v3 traces: nothing to write.
    }
    let m = model(&f).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = RecorderOptions {
        dir: Some(dir.path().to_owned()),
        trace_each: true,
        ..Default::default()
    };
    let r = DecisionRecorder::open(&m, opts).await.unwrap();
    let receipts = r
        .record_many(&(0..3).map(decision).collect::<Vec<_>>())
        .unwrap();
    r.close().await.unwrap();
    let run = f
        .prov
        .mlflow()
        .run(m.run_id.as_deref().unwrap())
        .await
        .unwrap();
    let exp = run.info.unwrap().experiment_id.unwrap();
    let mut args = vec!["--experiment-id".to_owned(), exp];
    for rc in &receipts {
        args.extend(["--trace".to_owned(), rc.trace_id.clone().unwrap()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // `close` waited for the background trace writes.
    let opened = f.server.python("open_trace.py", &args).unwrap();
    for (t, rc) in opened["traces"].as_array().unwrap().iter().zip(&receipts) {
        assert_eq!(t["loaded"], true, "{opened}");
        assert_eq!(t["listed"], true, "{opened}");
        assert_eq!(
            t["spans"][0]["attributes"]["ario.decision_id"],
            json!(rc.decision_id)
        );
        assert_eq!(t["tags"]["ario.decision_id"], json!(rc.decision_id));
    }
}

/// Uploads `n` look-alike checkpoints of `batch_seq` in `stream`: validly
/// signed envelopes by another key, committing to payloads MLflow does not
/// hold, tagged exactly as real checkpoints are. Anyone can do this.
async fn look_alikes(
    f: &common::Fixture,
    m: &VerifiedModel,
    stream: &str,
    batch_seq: u64,
    n: usize,
) {
    use ario_gateway::ans104::{Ed25519Signer, Tag, UnsignedItem};
    use ario_gateway::turbo::{envelope_tags, TurboClient};
    use ario_provenance::event::Subject;
    use ario_provenance::layout::{ITEM_SUBJECT_ID, ITEM_SUBJECT_TYPE};
    let key = ario_envelope::SigningKey::generate();
    let subject = Subject::DecisionBatch {
        stream_id: stream.to_owned(),
        batch_seq,
        name: m.name.clone(),
        version: m.version.clone(),
        model_run_id: m.run_id.clone(),
    };
    let turbo = TurboClient::new(common::gateway(&f.devnet.url()));
    let wallet = Ed25519Signer::from_seed([7; 32]);
    for i in 0..n {
        let unsigned = json!({
            "spec_version": "ario.mlflow/v1",
            "event_id": uuid::Uuid::new_v4().to_string(),
            "event_type": EventKind::DecisionCheckpoint.wire_name(),
            "subject": subject.to_json(),
            "payload_hash": ario_envelope::encoding::sha256_hex(format!("look-alike {i}").as_bytes()),
            "previous_hash": "GENESIS",
            "signed_at": "2026-12-02T12:00:00+00:00",
            "public_key": key.public_key_hex(),
        });
        let envelope = ario_envelope::sign_envelope(&unsigned, &key).unwrap();
        let extra = [
            Tag::new(ITEM_SUBJECT_TYPE, subject.subject_type().wire_name()),
            Tag::new(ITEM_SUBJECT_ID, subject.discovery_id()),
        ];
        let item = UnsignedItem {
            data: ario_envelope::canonicalize(&envelope).unwrap(),
            tags: envelope_tags(&envelope, "test", &extra),
            target: None,
            anchor: None,
        }
        .sign(&wallet)
        .unwrap();
        turbo.upload(&item).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn look_alikes_past_the_discovery_cap_leave_a_batch_undetermined_not_failed() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let m = model(&f).await;
    let dir = tempfile::tempdir().unwrap();
    let opts = batches_of_eight(dir.path());
    let r = DecisionRecorder::open(&m, opts).await.unwrap();
    // More look-alikes of batch 1 than discovery looks at reach the
    // gateways before the real checkpoint does (GraphQL lists the oldest
    // first; a verifier looks at 100, and asks for one more to know there
    // are more).
    look_alikes(&f, &m, &r.stream_id().to_string(), 1, 101).await;
    let all = ids(&r
        .record_many(&(0..24).map(decision).collect::<Vec<_>>())
        .unwrap());
    r.close().await.unwrap();
    assert_eq!(r.stats().uploads, 3);
    // Batch 0 is untouched.
    assert_eq!(failures(p, &all[0]).await, (Status::Verified, vec![]));
    // Batch 1's real checkpoint is past the cap: not failed, undetermined.
    let v = p.verify_decision(&all[8]).await;
    assert_eq!(
        (v.status, v.failures.clone()),
        (Status::Undetermined, vec![]),
        "{v:#?}"
    );
    assert!(
        v.rows
            .iter()
            .any(|r| r.detail.starts_with("anchors_capped:")),
        "{:#?}",
        v.rows
    );
    // Batch 2 links to batch 1, whose checkpoint is past the cap likewise.
    let v = p.verify_decision(&all[16]).await;
    assert_eq!(v.status, Status::Undetermined, "{v:#?}");
    assert!(
        v.rows
            .iter()
            .any(|r| r.detail.starts_with("anchors_capped:")),
        "{:#?}",
        v.rows
    );
}
