//! The whole lifecycle against a real MLflow server and the devnet, and
//! every failure path the acceptance list names.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use ario_devnet::Faults;
use ario_mlflow_client::generated::types;
use ario_mlflow_client::records::version_tags;
use ario_mlflow_client::MlflowError;
use ario_provenance::outbox::OutboxState;
use ario_provenance::{
    tags, AnchorRunOptions, DecisionOptions, EventKind, OpenOptions, Outcome, ProvenanceError,
    Status, VerifiedModel,
};
use serde_json::json;

fn md() -> BTreeMap<String, serde_json::Value> {
    [("service_name".to_string(), json!("lifecycle-test"))].into()
}

async fn run_tags(p: &ario_provenance::Anchorer, run_id: &str) -> BTreeMap<String, String> {
    p.mlflow().run_tags(run_id).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_verifies_and_every_tampering_is_caught() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap();

    // Training (with its dataset anchor first).
    let a = p
        .anchor_run(
            run_id,
            &AnchorRunOptions {
                metadata: md(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        a.committed.as_ref().unwrap().tx_id().is_some(),
        "{:?}",
        a.committed
    );
    assert_eq!(a.dataset_anchors.len(), 1);
    let t = run_tags(p, run_id).await;
    assert_eq!(
        t.get(tags::VERIFY_STATUS).map(String::as_str),
        Some("anchored")
    );
    assert_eq!(t.get(tags::ARTIFACT_HASH), a.artifact_hash.as_ref());
    assert!(t.contains_key(&format!("{}iris", tags::DATASET_ANCHOR_TX_PREFIX)));
    let v = p.verify_run(run_id, true).await.unwrap();
    assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
    assert_eq!(
        v.tags_written, 6,
        "verify_status, verified_at and four attestation tags"
    );
    assert_eq!(
        run_tags(p, run_id)
            .await
            .get(tags::VERIFY_STATUS)
            .map(String::as_str),
        Some("verified")
    );

    // Registration, then a promotion by stage and one by alias.
    let name = ario_test_support::unique("iris-prov");
    p.ensure_registered_model(&name).await.unwrap();
    let (mv, h) = p
        .create_model_version(&name, &format!("runs:/{run_id}/model"), Some(run_id), md())
        .await
        .unwrap();
    let version = mv.version;
    common::assert_anchored(&h).await;
    let v = p.verify_model(&name, &version, true).await.unwrap();
    assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
    let h = p
        .set_alias(&name, "champion", &version, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;
    let (_, h) = p
        .transition_stage(&name, &version, "Staging", false, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;
    let (_, h) = p
        .transition_stage(&name, &version, "Production", false, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;

    // Decisions through the alias, the model files checked first.
    let model = VerifiedModel::open(
        p,
        &format!("models:/{name}@champion"),
        OpenOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(model.artifact_verified, Some(true));
    assert!(model.local_dir().join("MLmodel").exists());
    let ex = &logged["examples"][0];
    let d1 = model
        .record_decision(
            &ex["input"],
            &ex["output"],
            DecisionOptions {
                latency_ms: 1.25,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let d2 = model
        .record_decision(&json!("abc"), &json!([0]), DecisionOptions::default())
        .await
        .unwrap();
    for d in [&d1, &d2] {
        common::assert_anchored(&d.handle).await;
    }
    // The local copy is what was hashed, and a change to it is caught.
    assert!(model.recheck().await.unwrap());
    let mlmodel = model.local_dir().join("MLmodel");
    let original = std::fs::read(&mlmodel).unwrap();
    std::fs::write(&mlmodel, b"changed on disk").unwrap();
    assert!(matches!(
        model.recheck().await,
        Err(ProvenanceError::Integrity(_))
    ));
    std::fs::write(&mlmodel, original).unwrap();
    assert!(model.recheck().await.unwrap());
    // MLflow 2.x has no trace API: decisions are recorded without a trace,
    // and their record row rests on the anchored bytes alone.
    let traces = !f.server.version().starts_with("2.");
    assert_eq!(d1.trace_id.is_some(), traces, "{:?}", d1.trace_id);
    if let Some(trace1) = &d1.trace_id {
        let v = p.verify_trace(trace1, true).await.unwrap();
        assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
        // MLflow's own client opens the trace: a root span with the decision.
        let exp = logged["experiment_id"].as_str().unwrap();
        let opened = f
            .server
            .python(
                "open_trace.py",
                &["--experiment-id", exp, "--trace", trace1],
            )
            .unwrap();
        let t = &opened["traces"][0];
        assert_eq!(t["loaded"], true, "{opened}");
        assert_eq!(t["listed"], true, "{opened}");
        assert_eq!(t["spans"][0]["name"], "decision", "{opened}");
        assert_eq!(
            t["spans"][0]["attributes"]["ario.decision_id"],
            json!(d1.decision_id)
        );
        assert_eq!(
            t["spans"][0]["outputs"]["output_hash"],
            d1.payload["output_hash"]
        );
        assert!(t["tags"]["ario.prediction_tx"].is_string(), "{opened}");
    }

    // The audit covers every stage, not only the latest promotion.
    let audit = p.audit(&name, &version, None).await.unwrap();
    let kinds: Vec<&str> = audit.stages.iter().map(|s| s.stage.stage_name()).collect();
    assert_eq!(
        kinds,
        [
            "training",
            "dataset",
            "registration",
            "promotion",
            "promotion",
            "alias",
            "decision",
            "decision"
        ],
        "{kinds:?}"
    );
    assert!(audit.overall_ok, "{audit:#?}");
    assert_eq!(audit.artifact_integrity.ok, Some(true));
    let html = ario_provenance::report::audit_html(&audit, p.gateway()).unwrap();
    assert!(
        html.contains("None → Staging")
            && html.contains("alias champion")
            && !html.contains("http://cdn")
    );
    assert!(
        html.contains("<svg") && !html.contains("<script"),
        "inline SVG, no scripts"
    );
    screenshot_report(&html, if traces { "audit" } else { "audit-2x" });

    let dec = audit
        .stages
        .iter()
        .find(|s| s.detail.contains(&d1.decision_id))
        .unwrap();
    let want = if traces {
        "live MLflow matches anchored bytes"
    } else {
        "anchored bytes match (no live MLflow surface for this event)"
    };
    assert_eq!(dec.rows[1].detail, want);
    assert_eq!(audit.decisions.verified, 2);

    // Tampering 1 (3.x): the trace is deleted → the decision no longer verifies.
    if let Some(trace1) = &d1.trace_id {
        let body: types::DeleteTracesV3Body = serde_json::from_value(json!({
            "experiment_id": logged["experiment_id"], "request_ids": [trace1]}))
        .unwrap();
        p.mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.delete_traces_v3(&b).await }
            })
            .await
            .unwrap();
        let v = p.verify_trace(trace1, false).await.unwrap();
        assert_eq!(v.status, Status::NotAnchored);
        let audit = p.audit(&name, &version, None).await.unwrap();
        let dec = audit
            .stages
            .iter()
            .find(|s| s.detail.contains(&d1.decision_id))
            .unwrap();
        assert_eq!(dec.ok, Some(false), "{dec:#?}");
        assert!(
            dec.rows[1].detail.contains("not found"),
            "{:?}",
            dec.rows[1]
        );
        assert_eq!(audit.decisions.verified, 1, "the summary follows the rows");
        let html = ario_provenance::report::audit_html(&audit, p.gateway()).unwrap();
        assert!(
            html.contains("<h2>Failures</h2>"),
            "failures are called out first"
        );
        screenshot_report(&html, "audit-tampered");
    }

    // Tampering 2: a metric and a param logged after anchoring → training fails, named.
    let body = types::LogBatchBody {
        metrics: vec![serde_json::from_value(
            json!({"key": "accuracy", "value": 0.999, "timestamp": 1, "step": 9}),
        )
        .unwrap()],
        params: vec![types::KeyValue {
            key: "late_param".into(),
            value: "1".into(),
        }],
        run_id: run_id.into(),
        tags: vec![],
    };
    p.mlflow()
        .call(|api| {
            let b = body.clone();
            async move { api.log_batch(&b).await }
        })
        .await
        .unwrap();
    let v = p.verify_run(run_id, true).await.unwrap();
    assert_eq!(v.status, Status::Failed);
    assert_eq!(v.live_mismatches, ["metrics", "params"]);
    assert_eq!(v.rows[1].outcome, Outcome::Fail);

    // Tampering 3: the registration payload artifact is overwritten.
    let root = p.mlflow().run_root(run_id).await.unwrap();
    p.mlflow()
        .upload_artifact(
            &root,
            "ario/registration_payload.json",
            b"{\"garbage\":1}".to_vec(),
        )
        .await
        .unwrap();
    let before = version_tags(&p.mlflow().model_version(&name, &version).await.unwrap());
    let v = p.verify_model(&name, &version, false).await.unwrap();
    assert_eq!(v.status, Status::Failed);
    let unchanged = version_tags(&p.mlflow().model_version(&name, &version).await.unwrap());
    assert_eq!(before, unchanged, "without write-back nothing is written");
    let v = p.verify_model(&name, &version, true).await.unwrap();
    assert_eq!(v.status, Status::Failed);
    assert!(
        v.rows[1].detail.starts_with("anchored_bytes_mismatch"),
        "{:?}",
        v.rows[1]
    );
    let after = version_tags(&p.mlflow().model_version(&name, &version).await.unwrap());
    assert_eq!(
        before.get(tags::VERIFY_STATUS).map(String::as_str),
        Some("verified")
    );
    assert_eq!(
        after.get(tags::VERIFY_STATUS).map(String::as_str),
        Some("failed"),
        "a failed verification replaces an earlier `verified`"
    );
    assert!(after[tags::VERIFY_FAILURE].contains("anchored_bytes_mismatch"));
    assert!(after.contains_key(tags::VERIFY_FAILED_AT));
    for (k, v) in &before {
        if k != tags::VERIFY_STATUS {
            assert_eq!(after.get(k), Some(v), "{k} is left as it was");
        }
    }

    // Tampering 4: a model file is overwritten → open refuses, training fails.
    let loc = p.mlflow().run_path_location(run_id, "model").await.unwrap();
    let pkl = if loc.dir.is_empty() {
        "MLmodel".to_owned()
    } else {
        format!("{}/MLmodel", loc.dir)
    };
    p.mlflow()
        .upload_artifact(&loc.root, &pkl, b"not the model".to_vec())
        .await
        .unwrap();
    let models = tempfile::tempdir().unwrap();
    let dest = models.path().join("refused");
    match VerifiedModel::open(
        p,
        &format!("models:/{name}/{version}"),
        OpenOptions {
            download_to: Some(dest.clone()),
            ..Default::default()
        },
    )
    .await
    {
        Err(ProvenanceError::Integrity(e)) => {
            assert_eq!(Some(&e.expected), a.artifact_hash.as_ref())
        }
        other => panic!("expected IntegrityError, got {other:?}"),
    }
    assert!(!dest.exists(), "nothing changed is handed out");
    assert_eq!(
        std::fs::read_dir(models.path()).unwrap().count(),
        0,
        "the staging copy is removed"
    );
    let v = p.verify_run(run_id, false).await.unwrap();
    assert!(
        v.live_mismatches
            .contains(&"artifact_checksums".to_string()),
        "{:?}",
        v.live_mismatches
    );
    let audit = p.audit(&name, &version, Some(1)).await.unwrap();
    assert_eq!(audit.artifact_integrity.ok, Some(false));
    assert!(!audit.overall_ok);
    assert_eq!(audit.decisions.audited, 1);
    let bad: Vec<_> = audit
        .artifact_integrity
        .files
        .iter()
        .filter(|f| !f.ok)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(bad, ["MLmodel"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_down_goes_to_the_outbox_and_retry_completes() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap();
    f.devnet.set_faults(Faults {
        down: true,
        ..Default::default()
    });
    let a = p
        .anchor_run(run_id, &AnchorRunOptions::default())
        .await
        .unwrap();
    let c = a.committed.unwrap();
    assert!(c.uploaded.is_none() && c.upload_error.is_some());
    let t = run_tags(p, run_id).await;
    assert_eq!(
        t.get(tags::VERIFY_STATUS).map(String::as_str),
        Some("signed")
    );
    assert!(!t.contains_key(tags::TRAINING_TX));
    assert_eq!(
        p.verify_run(run_id, true).await.unwrap().status,
        Status::NotAnchored
    );
    let pending = p.outbox().list(&[OutboxState::Pending]).unwrap();
    assert_eq!(
        pending
            .iter()
            .map(|i| i.event_type.as_str())
            .collect::<Vec<_>>(),
        ["dataset", "training_complete"]
    );
    assert!(pending.iter().all(|i| i.attempts == 1));

    // Still down: retry keeps them, counts the attempt.
    let items = p.retry().await.unwrap();
    assert!(items
        .iter()
        .all(|i| i.state == OutboxState::Pending && i.attempts == 2));

    f.devnet.set_faults(Faults::default());
    let items = p.retry().await.unwrap();
    assert!(
        items.iter().all(|i| i.state == OutboxState::Anchored),
        "{items:#?}"
    );
    let t = run_tags(p, run_id).await;
    assert_eq!(t.get(tags::TRAINING_TX), items[1].tx_id.as_ref());
    assert_eq!(
        t.get(&format!("{}iris", tags::DATASET_ANCHOR_TX_PREFIX)),
        items[0].tx_id.as_ref()
    );
    let v = p.verify_run(run_id, true).await.unwrap();
    assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
    assert!(p.retry().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_bundler_answer_is_retried_with_the_same_item() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap();
    // The bundler stores each item, but its answer is cut off on the way back.
    f.devnet.set_faults(Faults {
        truncate: true,
        path_prefix: Some("/turbo/tx".into()),
        ..Default::default()
    });
    let a = p
        .anchor_run(run_id, &AnchorRunOptions::default())
        .await
        .unwrap();
    assert!(a.committed.unwrap().tx_id().is_none());
    assert_eq!(
        f.devnet.store().len(),
        2,
        "dataset and training were stored"
    );
    f.devnet.set_faults(Faults::default());
    let items = p.retry().await.unwrap();
    assert!(
        items.iter().all(|i| i.state == OutboxState::Anchored),
        "{items:#?}"
    );
    assert_eq!(
        f.devnet.store().len(),
        2,
        "the retry sent the same items; nothing was stored (or paid for) twice"
    );
    let v = p.verify_run(run_id, false).await.unwrap();
    assert_eq!(v.status, Status::Verified, "{:#?}", v.rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_process_uploads_what_an_earlier_one_signed() {
    let (devnet, _dir) = common::devnet_with(|_| {}).await;
    let home = tempfile::tempdir().unwrap();
    // MLflow is not needed for a run-less dataset anchor.
    let closed = format!("http://{}", ario_test_support::closed_addr());
    let record = ario_provenance::payload::DatasetRecord {
        name: Some("d".into()),
        digest: Some("1".into()),
        ..Default::default()
    };
    {
        // Signed and durably staged; the upload never gets through, and the
        // process goes away.
        devnet.set_faults(Faults {
            down: true,
            ..Default::default()
        });
        let p = common::provenance(&closed, &devnet.url(), home.path());
        let d = p.anchor_dataset(&record, None).await.unwrap();
        assert!(d.committed.tx_id().is_none());
        devnet.set_faults(Faults::default());
    }
    let p = common::provenance(&closed, &devnet.url(), home.path());
    let pending = p.outbox().list(&[OutboxState::Pending]).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].writeback.kind(), EventKind::Dataset);
    let items = p.retry().await.unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0].state, OutboxState::Anchored);
    let tx = items[0].tx_id.clone().unwrap();
    assert_eq!(devnet.store().len(), 1);
    let v = p.verify_dataset(&tx, None).await;
    assert_eq!(v.rows[0].outcome, Outcome::Pass, "{:#?}", v.rows);
    assert_eq!(
        ario_envelope::envelope::Envelope::canonical_bytes(v.envelope.as_ref().unwrap()).unwrap(),
        items[0].envelope.as_bytes()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn mlflow_unreachable_is_a_clear_error_and_nothing_is_written() {
    let (devnet, _dir) = common::devnet_with(|_| {}).await;
    let home = tempfile::tempdir().unwrap();
    let closed = ario_test_support::closed_addr();
    let p = common::provenance(&format!("http://{closed}"), &devnet.url(), home.path());
    let err = p
        .anchor_run(
            "0123456789abcdef0123456789abcdef",
            &AnchorRunOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProvenanceError::Mlflow(MlflowError::Unreachable { .. })
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains(&closed.to_string()), "{err}");
    assert!(p.outbox().list(&[]).unwrap().is_empty());
    assert_eq!(devnet.store().len(), 0);
    let err = p
        .verify_run("0123456789abcdef0123456789abcdef", true)
        .await
        .unwrap_err();
    assert!(matches!(err, MlflowError::Unreachable { .. }));
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_key_persists_and_never_rotates() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let again = common::provenance(f.server.url(), &f.devnet.url(), f.home.path());
    assert_eq!(f.prov.public_key_hex(), again.public_key_hex());
    assert_eq!(
        again.key_origin(),
        ario_provenance::keystore::KeyOrigin::File
    );
    let w1 = f.prov.wallet().unwrap().wallet.native_address();
    let w2 = again.wallet().unwrap().wallet.native_address();
    assert_eq!(w1, w2, "the auto-created wallet is reused, not overwritten");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(f.home.path().join("wallet.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_status_gate_refuses_before_touching_mlflow() {
    use ario_gateway::verify_status::{Credential, VerifyStatusClient};
    use ario_provenance::{Gate, GateError, GatePolicy};
    let status = |id: &str, outcome: &str, stale: bool| {
        json!({"asset_id": id, "tenant_id": "t", "agent_id": "a", "outcome": outcome, "last_verified_at": null,
               "max_age": 60, "stale": stale, "policy_hash": "p", "current_tx_id": null})
    };
    let statuses = (
        "s3cret".into(),
        [
            ("good", "verified", false),
            ("bad", "tampered", false),
            ("old", "verified", true),
        ]
        .into_iter()
        .map(|(id, out, st)| (id.to_owned(), status(id, out, st)))
        .collect(),
    );
    let (devnet, _dir) = common::devnet_with(|o| o.verify_status = Some(statuses)).await;
    let home = tempfile::tempdir().unwrap();
    // MLflow is unreachable: reaching it shows the gate let the open through.
    let closed = format!("http://{}", ario_test_support::closed_addr());
    let p = common::provenance(&closed, &devnet.url(), home.path());
    let client = std::sync::Arc::new(VerifyStatusClient::new(
        &devnet.url(),
        Credential::Secret("s3cret".to_owned().into()),
    ));
    let gate = |asset: &str, policy| Gate {
        client: client.clone(),
        asset_id: asset.into(),
        policy,
        recheck_per_decision: false,
        max_cache_age: None,
    };
    let open = |g: Gate| {
        let p = p.clone();
        async move {
            VerifiedModel::open(
                &p,
                "models:/m/1",
                OpenOptions {
                    gate: Some(g),
                    ..Default::default()
                },
            )
            .await
        }
    };
    assert!(matches!(
        open(gate("bad", GatePolicy::FailClosed)).await,
        Err(ProvenanceError::Gate(GateError::Tampered { .. }))
    ));
    assert!(matches!(
        open(gate("old", GatePolicy::FailClosed)).await,
        Err(ProvenanceError::Gate(GateError::Stale { .. }))
    ));
    assert!(matches!(
        open(gate("unknown-asset", GatePolicy::FailClosed)).await,
        Err(ProvenanceError::Gate(GateError::Service(_)))
    ));
    for g in [
        gate("good", GatePolicy::FailClosed),
        gate("bad", GatePolicy::FailOpen),
    ] {
        assert!(matches!(
            open(g).await,
            Err(ProvenanceError::Mlflow(MlflowError::Unreachable { .. }))
        ));
    }
}

/// Renders the report with headless Chromium and checks that it draws: the
/// page (header, lineage graph, tables) fills a good part of the viewport in
/// many colours. The PNG stays in `target/report-screenshots/`.
fn screenshot_report(html: &str, name: &str) {
    let dir = ario_test_support::repo_root().join("target/report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let page = dir.join(format!("{name}.html"));
    std::fs::write(&page, html).unwrap();
    let png = dir.join(format!("{name}.png"));
    let Some(shot) = ario_test_support::chromium::screenshot(&page, &png, 1200, 1800) else {
        return;
    };
    let shot = shot.unwrap();
    eprintln!(
        "report screenshot: {} ({}x{}, {} colours, {:.0}% drawn)",
        shot.path.display(),
        shot.width,
        shot.height,
        shot.colours,
        shot.drawn * 100.0
    );
    assert_eq!((shot.width, shot.height), (1200, 1800));
    assert!(shot.colours > 50, "{shot:?}");
    assert!(shot.drawn > 0.10, "not blank: {shot:?}");
}
