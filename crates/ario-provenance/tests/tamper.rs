//! The tamper matrix: what an insider with write access to MLflow (its
//! database, its artifact store, its tags) or to the signing host could do
//! after the fact, against the real MLflow server and the devnet. Each
//! tampering is caught for its own reason, and where the change can be
//! undone, the restored state verifies again.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use ario_mlflow_client::records::version_tags;
use ario_mlflow_client::TagTarget;
use ario_provenance::trust::TrustPolicy;
use ario_provenance::verify::check::{FailReason, NotRunCause};
use ario_provenance::{
    tags, AnchorRunOptions, Anchorer, DecisionOptions, OpenOptions, ProvenanceError, Status,
    Verification, VerifiedModel, Verifier,
};
use serde_json::{json, Value};

/// MLflow's own database, opened as someone with access to it would, and
/// waiting out the server's writes instead of failing on them.
fn open_db(server_dir: &Path) -> rusqlite::Connection {
    let c = rusqlite::Connection::open(server_dir.join("mlflow.db")).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    c
}

/// Runs SQL against MLflow's own database.
fn sql(server_dir: &Path, statement: &str, params: &[&dyn rusqlite::ToSql]) -> usize {
    open_db(server_dir).execute(statement, params).unwrap()
}

fn query(server_dir: &Path, statement: &str, params: &[&dyn rusqlite::ToSql]) -> String {
    let c = open_db(server_dir);
    c.query_row(statement, params, |r| r.get::<_, String>(0))
        .unwrap()
}

/// Every failure reason among the envelope checks.
fn reasons(v: &Verification) -> Vec<FailReason> {
    let Some(c) = &v.checks else { return vec![] };
    [
        &c.signature,
        &c.anchored_bytes,
        &c.source_of_truth,
        &c.ario_attestation,
        &c.signer_trusted,
        &c.anchor_history,
    ]
    .into_iter()
    .filter_map(|c| c.fail_reason())
    .collect()
}

fn caught(v: &Verification, reason: FailReason, what: &str) {
    assert_eq!(v.status, Status::Failed, "{what}: {:#?}", v.rows);
    assert!(
        reasons(v).contains(&reason),
        "{what}: expected {reason:?}, got {:?}: {:#?}",
        reasons(v),
        v.rows
    );
}

fn verified(v: &Verification, what: &str) {
    assert_eq!(v.status, Status::Verified, "{what}: {:#?}", v.rows);
}

fn policy_for(keys: &[&str]) -> TrustPolicy {
    let text: String = keys
        .iter()
        .enumerate()
        .map(|(i, k)| format!("[[signer]]\nname = \"signer-{i}\"\npublic_key = \"{k}\"\n"))
        .collect();
    TrustPolicy::parse(&text, Path::new("trust.toml")).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn every_insider_tampering_is_caught_for_its_own_reason() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let db = f.server.dir().clone();
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap().to_owned();
    let a = p
        .anchor_run(&run_id, &AnchorRunOptions::default())
        .await
        .unwrap();
    let tx = a.committed.unwrap().tx_id().unwrap().to_owned();
    let (name, version) = common::register(p, &run_id, "tamper").await;
    let (_, h) = p
        .transition_stage(&name, &version, "Staging", false, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;
    let run = || p.verify_run(&run_id, false);
    let model = || p.verify_model(&name, &version, false);
    verified(&run().await.unwrap(), "baseline run");
    verified(&model().await.unwrap(), "baseline model");
    let r = run_id.as_str();

    // 1. A param edited in MLflow's database.
    let before = query(
        &db,
        "SELECT value FROM params WHERE run_uuid = ?1 AND key = 'C'",
        &[&r],
    );
    sql(
        &db,
        "UPDATE params SET value = '9.0' WHERE run_uuid = ?1 AND key = 'C'",
        &[&r],
    );
    let v = run().await.unwrap();
    caught(&v, FailReason::LiveMismatch, "param edited");
    assert_eq!(v.live_mismatches, ["params"]);
    sql(
        &db,
        "UPDATE params SET value = ?2 WHERE run_uuid = ?1 AND key = 'C'",
        &[&r, &before],
    );
    verified(&run().await.unwrap(), "param restored");

    // 2. A metric edited in the database (latest value and history).
    let edit = |value: f64| {
        for table in ["latest_metrics", "metrics"] {
            sql(
                &db,
                &format!("UPDATE {table} SET value = ?2 WHERE run_uuid = ?1 AND key = 'accuracy'"),
                &[&r, &value],
            );
        }
    };
    let c = open_db(&db);
    let accuracy: f64 = c
        .query_row(
            "SELECT value FROM latest_metrics WHERE run_uuid = ?1 AND key = 'accuracy'",
            [r],
            |row| row.get(0),
        )
        .unwrap();
    drop(c);
    edit(0.999);
    let v = run().await.unwrap();
    caught(&v, FailReason::LiveMismatch, "metric edited");
    assert_eq!(v.live_mismatches, ["metrics"]);
    edit(accuracy);
    verified(&run().await.unwrap(), "metric restored");

    // 3. A source tag edited in the database.
    let source = query(
        &db,
        "SELECT value FROM tags WHERE run_uuid = ?1 AND key = 'mlflow.source.name'",
        &[&r],
    );
    sql(
        &db,
        "UPDATE tags SET value = 'someone_else.py' WHERE run_uuid = ?1 AND key = 'mlflow.source.name'",
        &[&r],
    );
    let v = run().await.unwrap();
    caught(&v, FailReason::LiveMismatch, "source tag edited");
    assert_eq!(v.live_mismatches, ["source_name"]);
    sql(
        &db,
        "UPDATE tags SET value = ?2 WHERE run_uuid = ?1 AND key = 'mlflow.source.name'",
        &[&r, &source],
    );
    verified(&run().await.unwrap(), "source tag restored");

    // 4. The dataset's digest edited in the database.
    let exp = logged["experiment_id"].as_str().unwrap().to_owned();
    let e = exp.as_str();
    let digest = query(
        &db,
        "SELECT digest FROM datasets WHERE name = 'iris' AND experiment_id = ?1",
        &[&e],
    );
    sql(
        &db,
        "UPDATE datasets SET digest = 'deadbeef' WHERE digest = ?1 AND experiment_id = ?2",
        &[&digest, &e],
    );
    let v = run().await.unwrap();
    caught(&v, FailReason::LiveMismatch, "dataset digest edited");
    assert_eq!(v.live_mismatches, ["dataset_inputs"]);
    sql(
        &db,
        "UPDATE datasets SET digest = ?1 WHERE digest = 'deadbeef' AND experiment_id = ?2",
        &[&digest, &e],
    );
    verified(&run().await.unwrap(), "dataset digest restored");

    // 5. A model file replaced in the artifact store.
    let loc = p.mlflow().run_path_location(r, "model").await.unwrap();
    let mlmodel = if loc.dir.is_empty() {
        "MLmodel".to_owned()
    } else {
        format!("{}/MLmodel", loc.dir)
    };
    let original = p
        .mlflow()
        .read_artifact(&loc.root, &mlmodel, 1 << 20)
        .await
        .unwrap();
    p.mlflow()
        .upload_artifact(&loc.root, &mlmodel, b"flavors: {}\n".to_vec())
        .await
        .unwrap();
    let v = run().await.unwrap();
    caught(&v, FailReason::LiveMismatch, "model file replaced");
    assert_eq!(v.live_mismatches, ["artifact_checksums"]);
    let uri = format!("models:/{name}/{version}");
    let open = VerifiedModel::open(p, &uri, OpenOptions::default()).await;
    assert!(matches!(open, Err(ProvenanceError::Integrity(_))));
    p.mlflow()
        .upload_artifact(&loc.root, &mlmodel, original)
        .await
        .unwrap();
    verified(&run().await.unwrap(), "model file restored");

    // 6. The stored payload rewritten, consistently, with a forged metric.
    let root = p.mlflow().run_root(r).await.unwrap();
    let stored = p
        .mlflow()
        .read_artifact(&root, "ario/payload.json", 1 << 20)
        .await
        .unwrap();
    let mut forged: Value = serde_json::from_slice(&stored).unwrap();
    forged["metrics"]["accuracy"] = json!(0.999);
    let forged = ario_envelope::jcs::canonicalize(&forged).unwrap();
    p.mlflow()
        .upload_artifact(&root, "ario/payload.json", forged)
        .await
        .unwrap();
    caught(
        &run().await.unwrap(),
        FailReason::AnchoredBytesMismatch,
        "payload forged",
    );
    p.mlflow()
        .upload_artifact(&root, "ario/payload.json", stored)
        .await
        .unwrap();
    verified(&run().await.unwrap(), "payload restored");

    // 7. A promotion's stored payload rewritten.
    let promotions = p
        .mlflow()
        .list_artifacts(&root, "ario/promotions")
        .await
        .unwrap();
    let promo = promotions
        .iter()
        .find(|f| f.path.ends_with("/payload.json"))
        .unwrap()
        .path
        .clone();
    let promo_tx = version_tags(&p.mlflow().model_version(&name, &version).await.unwrap())
        [tags::PROMOTION_TX]
        .clone();
    let expect = ario_provenance::Expect::Version(name.clone(), version.clone());
    let promotion = || {
        p.verify_tx(
            ario_provenance::TargetKind::Model,
            "promotion",
            &promo_tx,
            &expect,
        )
    };
    verified(&promotion().await, "baseline promotion");
    let promo_bytes = p
        .mlflow()
        .read_artifact(&root, &promo, 1 << 20)
        .await
        .unwrap();
    let text = String::from_utf8(promo_bytes.clone())
        .unwrap()
        .replace("Staging", "Production");
    p.mlflow()
        .upload_artifact(&root, &promo, text.into_bytes())
        .await
        .unwrap();
    caught(
        &promotion().await,
        FailReason::AnchoredBytesMismatch,
        "promotion rewritten",
    );
    p.mlflow()
        .upload_artifact(&root, &promo, promo_bytes)
        .await
        .unwrap();
    verified(&promotion().await, "promotion restored");

    // 8. The registered version re-pointed at another run.
    let other = common::iris_run(f.server);
    let other_run = other["run_id"].as_str().unwrap().to_owned();
    let (n, ver) = (name.as_str(), version.as_str());
    let source = query(
        &db,
        "SELECT source FROM model_versions WHERE name = ?1 AND version = ?2",
        &[&n, &ver],
    );
    let other_source = format!("runs:/{other_run}/model");
    sql(
        &db,
        "UPDATE model_versions SET run_id = ?3, source = ?4 WHERE name = ?1 AND version = ?2",
        &[&n, &ver, &other_run, &other_source],
    );
    caught(
        &model().await.unwrap(),
        FailReason::PayloadArtifactMissing,
        "version re-pointed",
    );
    sql(
        &db,
        "UPDATE model_versions SET run_id = ?3, source = ?4 WHERE name = ?1 AND version = ?2",
        &[&n, &ver, &r, &source],
    );
    verified(&model().await.unwrap(), "version restored");

    // 9. A transaction tag copied onto another run.
    let target = TagTarget::Run(other_run.clone());
    p.mlflow()
        .set_tag(&target, tags::TRAINING_TX, &tx)
        .await
        .unwrap();
    let v = p.verify_run(&other_run, false).await.unwrap();
    assert_eq!(v.status, Status::Failed, "{:#?}", v.rows);
    assert!(v.rows[0].detail.contains("another object"), "{:#?}", v.rows);

    // 10 (3.x). A decision's trace payload tag rewritten.
    if !f.server.version().starts_with("2.") {
        let m = VerifiedModel::open(
            p,
            &format!("models:/{name}/{version}"),
            OpenOptions::default(),
        )
        .await
        .unwrap();
        let d = m
            .record_decision(&json!({"x": 1}), &json!([0]), DecisionOptions::default())
            .await
            .unwrap();
        common::assert_anchored(&d.handle).await;
        let trace = d.trace_id.clone().unwrap();
        let tags_now = p.mlflow().trace_tags(&trace).await.unwrap();
        let original = tags_now[tags::PAYLOAD_JSON].clone();
        let forged = original.replace(&d.payload["output_hash"].as_str().unwrap()[..8], "00000000");
        let target = TagTarget::Trace(trace.clone());
        p.mlflow()
            .set_tag(&target, tags::PAYLOAD_JSON, &forged)
            .await
            .unwrap();
        caught(
            &p.verify_trace(&trace, false).await.unwrap(),
            FailReason::LiveMismatch,
            "trace tag rewritten",
        );
        p.mlflow()
            .set_tag(&target, tags::PAYLOAD_JSON, &original)
            .await
            .unwrap();
        verified(
            &p.verify_trace(&trace, false).await.unwrap(),
            "trace tag restored",
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn re_anchoring_is_refused_and_every_re_anchor_is_seen() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let db = f.server.dir().clone();
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap().to_owned();
    let r = run_id.as_str();
    let first = p.anchor_run(r, &AnchorRunOptions::default()).await.unwrap();
    let first_tx = first.committed.unwrap().tx_id().unwrap().to_owned();
    let ours = p.public_key_hex();

    // 11. Anchoring an anchored run again is refused without --reanchor.
    let again = p.anchor_run(r, &AnchorRunOptions::default()).await;
    assert!(
        matches!(&again, Err(ProvenanceError::AlreadyAnchored { tx_id, .. }) if *tx_id == first_tx),
        "{again:?}"
    );

    // 12. A stranger re-anchors the run with a key of their own: under a
    // trust policy the signer is unknown; the history ignores the stranger.
    let stranger_home = tempfile::tempdir().unwrap();
    let stranger = common::provenance(f.server.url(), &f.devnet.url(), stranger_home.path());
    let mut tags_before = p.mlflow().run_tags(r).await.unwrap();
    let root = p.mlflow().run_root(r).await.unwrap();
    let payload_before = p
        .mlflow()
        .read_artifact(&root, "ario/payload.json", 1 << 20)
        .await
        .unwrap();
    stranger
        .anchor_run(
            r,
            &AnchorRunOptions {
                reanchor: Some("mine now".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let trusting_us = Verifier::new(p.mlflow().clone(), common::gateway(&f.devnet.url()))
        .with_trust(policy_for(&[&ours]));
    let v = trusting_us.verify_run(r, false).await.unwrap();
    caught(
        &v,
        FailReason::UnknownSigner,
        "stranger re-anchor under a policy",
    );
    // Restored: our anchor is what the tags point at again, and verifies.
    for (k, v) in tags_before.iter_mut() {
        if k.starts_with("ario.") {
            p.mlflow()
                .set_tag(&TagTarget::Run(r.into()), k, v)
                .await
                .unwrap();
        }
    }
    p.mlflow()
        .upload_artifact(&root, "ario/payload.json", payload_before)
        .await
        .unwrap();
    verified(
        &trusting_us.verify_run(r, false).await.unwrap(),
        "our anchor restored",
    );

    // 13. The legitimate key re-anchors after tampering, hiding it: the tag
    // is removed so the refusal does not apply, a metric is edited, and the
    // run anchored afresh. Live MLflow and the new anchor agree; the history
    // shows that an earlier anchor by the same key committed to other bytes.
    sql(
        &db,
        "DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2",
        &[&r, &tags::TRAINING_TX],
    );
    for table in ["latest_metrics", "metrics"] {
        sql(
            &db,
            &format!("UPDATE {table} SET value = 0.999 WHERE run_uuid = ?1 AND key = 'accuracy'"),
            &[&r],
        );
    }
    let insider: Anchorer = common::provenance(f.server.url(), &f.devnet.url(), f.home.path());
    let second = insider
        .anchor_run(r, &AnchorRunOptions::default())
        .await
        .unwrap();
    let second_tx = second.committed.unwrap().tx_id().unwrap().to_owned();
    let v = insider.verify_run(r, false).await.unwrap();
    caught(&v, FailReason::HistoryConflict, "insider re-anchor");
    let row = v.rows.iter().find(|r| r.label == "Anchor History").unwrap();
    assert!(
        row.detail.contains(&first_tx)
            && row.detail.contains(&second_tx)
            && row.detail.contains("block"),
        "{row:?}"
    );
    // The original anchor is now contradicted too: the record has two versions.
    p.mlflow()
        .set_tag(&TagTarget::Run(r.into()), tags::TRAINING_TX, &first_tx)
        .await
        .unwrap();
    caught(
        &p.verify_run(r, false).await.unwrap(),
        FailReason::HistoryConflict,
        "original after insider",
    );

    // 14. An explicit re-anchor says so, names what it supersedes and why.
    let third = p
        .anchor_run(
            r,
            &AnchorRunOptions {
                reanchor: Some("metric corrected".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(third.payload["supersedes"], json!(first_tx));
    let v = p.verify_run(r, false).await.unwrap();
    caught(&v, FailReason::AnchorSuperseded, "explicit re-anchor");
    let row = v.rows.iter().find(|r| r.label == "Anchor History").unwrap();
    assert!(row.detail.contains("metric corrected"), "{row:?}");

    // Without GraphQL the history is not run, never passed.
    f.devnet.set_faults(ario_devnet::Faults {
        path_prefix: Some("/graphql".into()),
        fail_next: 1000,
        ..Default::default()
    });
    let v = p.verify_run(r, false).await.unwrap();
    let c = v.checks.as_ref().unwrap();
    assert_eq!(
        c.anchor_history.not_run_cause(),
        Some(NotRunCause::HistoryUnavailable)
    );
    assert_ne!(v.status, Status::Verified);
}
