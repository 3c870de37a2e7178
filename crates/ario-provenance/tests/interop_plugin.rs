//! Interop with the real Python plugin ar-io-mlflow 0.3.0, both ways, for
//! every event type: what it anchors verifies with us (and our rebuilt
//! training payload equals its `ario/payload.json` byte for byte); what we
//! anchor verifies with its `verify_record`, its live `full_verify`, and
//! ar-io-proof.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;

use ario_envelope::jcs::canonicalize;
use ario_gateway::ans104::item::UnsignedItem;
use ario_gateway::turbo::{envelope_tags, TurboClient};
use ario_gateway::wallet::Wallet;
use ario_mlflow_client::{ArtifactRoot, TagTarget};
use ario_provenance::{
    tags, AnchorRunOptions, Anchorer, DecisionOptions, Expect, OpenOptions, Status, TargetKind,
    VerifiedModel,
};
use serde_json::{json, Value};

/// Uploads an envelope to the devnet as the plugin's Turbo upload would.
async fn upload(devnet_url: &str, envelope: &Value) -> String {
    let (wallet, _) = Wallet::generate_solana();
    let item = UnsignedItem {
        data: canonicalize(envelope).unwrap(),
        tags: envelope_tags(envelope, "0.3.0", &[]),
        target: None,
        anchor: Some([7; 32]),
    }
    .sign(wallet.signer())
    .unwrap();
    TurboClient::new(common::gateway(devnet_url))
        .upload(&item)
        .await
        .unwrap()
        .id
}

async fn artifact(p: &Anchorer, root: &ArtifactRoot, path: &str) -> Vec<u8> {
    p.mlflow().read_artifact(root, path, 1 << 20).await.unwrap()
}

/// The one `ario/<dir>/<id>/` event directory under a run.
async fn event_dir(p: &Anchorer, root: &ArtifactRoot, dir: &str) -> String {
    let files = p.mlflow().list_artifacts(root, dir).await.unwrap();
    let f = files
        .iter()
        .find(|f| f.path.ends_with("/proof.json"))
        .expect("an event directory");
    f.path.trim_end_matches("/proof.json").to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn plugin_proofs_verify_with_us() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let plugin_home = tempfile::tempdir().unwrap();
    let name = ario_test_support::unique("plugin-made");
    let out = f
        .server
        .python_env(
            "plugin_peer.py",
            &["lifecycle", "--model", &name],
            &[("HOME", plugin_home.path().as_os_str())],
        )
        .unwrap();
    let run_id = out["run_id"].as_str().unwrap();
    let version = out["version"].as_str().unwrap();
    let root = p.mlflow().run_root(run_id).await.unwrap();

    // Our rebuilt training payload is the plugin's, byte for byte.
    let theirs = hex::decode(out["training"]["payload_hex"].as_str().unwrap()).unwrap();
    assert_eq!(artifact(p, &root, "ario/payload.json").await, theirs);
    let md = [("service_name".to_string(), json!("plugin-interop"))].into();
    let ours = p
        .anchor_run(
            run_id,
            &AnchorRunOptions {
                metadata: md,
                dry_run: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&ours.payload_bytes),
        String::from_utf8_lossy(&theirs)
    );
    assert_eq!(ours.previous_hash, "GENESIS");

    // Training.
    let tx = upload(&f.devnet.url(), &out["training"]["envelope"]).await;
    p.mlflow()
        .set_tag(&TagTarget::Run(run_id.into()), tags::TRAINING_TX, &tx)
        .await
        .unwrap();
    let v = p.verify_run(run_id, false).await.unwrap();
    assert_eq!(v.status, Status::Verified, "training {:#?}", v.rows);

    // Dataset (re-derived from the run's logged input).
    let tx = upload(&f.devnet.url(), &out["datasets"][0]["envelope"]).await;
    let v = p.verify_dataset(&tx, Some(run_id)).await;
    assert_eq!(v.status, Status::Verified, "dataset {:#?}", v.rows);

    // Registration.
    let env: Value =
        serde_json::from_slice(&artifact(p, &root, "ario/registration_proof.json").await).unwrap();
    let tx = upload(&f.devnet.url(), &env).await;
    let target = TagTarget::Version(name.clone(), version.into());
    p.mlflow()
        .set_tag(&target, tags::REGISTRATION_TX, &tx)
        .await
        .unwrap();
    let v = p.verify_model(&name, version, false).await.unwrap();
    assert_eq!(v.status, Status::Verified, "registration {:#?}", v.rows);

    // Promotion (stage transition).
    let dir = event_dir(p, &root, "ario/promotions").await;
    let env: Value =
        serde_json::from_slice(&artifact(p, &root, &format!("{dir}/proof.json")).await).unwrap();
    assert_eq!(env["event_type"], "stage_transition");
    let tx = upload(&f.devnet.url(), &env).await;
    let expect = Expect::Version(name.clone(), version.into());
    let v = p
        .verify_tx(TargetKind::Model, "promotion", &tx, &expect)
        .await;
    assert_eq!(v.status, Status::Verified, "promotion {:#?}", v.rows);

    // Prediction (trace written by the plugin's traced predict).
    let decision = out["decision_id"].as_str().unwrap();
    let trace_id = out["trace_id"]
        .as_str()
        .expect("MLflow 3 traces the plugin's predict");
    let env: Value = serde_json::from_slice(
        &artifact(p, &root, &format!("ario/predictions/{decision}/proof.json")).await,
    )
    .unwrap();
    let tx = upload(&f.devnet.url(), &env).await;
    p.mlflow()
        .set_tag(&TagTarget::Trace(trace_id.into()), tags::PREDICTION_TX, &tx)
        .await
        .unwrap();
    let v = p.verify_trace(trace_id, false).await.unwrap();
    assert_eq!(v.status, Status::Verified, "prediction {:#?}", v.rows);
}

#[tokio::test(flavor = "multi_thread")]
async fn our_proofs_verify_with_the_plugin_and_the_kernel() {
    let Some(f) = common::fixture().await else {
        return;
    };
    let p = &f.prov;
    let logged = common::iris_run(f.server);
    let run_id = logged["run_id"].as_str().unwrap();
    let a = p
        .anchor_run(run_id, &AnchorRunOptions::default())
        .await
        .unwrap();
    let (name, version) = common::register(p, run_id, "rust-made").await;
    let (_, h) = p
        .transition_stage(&name, &version, "Production", false, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;
    let h = p
        .set_alias(&name, "champion", &version, BTreeMap::new())
        .await
        .unwrap();
    common::assert_anchored(&h).await;
    let model = VerifiedModel::open(
        p,
        &format!("models:/{name}/{version}"),
        OpenOptions::default(),
    )
    .await
    .unwrap();
    let ex = &logged["examples"][1];
    let d = model
        .record_decision(
            &ex["input"],
            &ex["output"],
            DecisionOptions {
                latency_ms: 2.5,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    common::assert_anchored(&d.handle).await;

    let root = p.mlflow().run_root(run_id).await.unwrap();
    let hexof = |b: &[u8]| hex::encode(b);
    let mut items = vec![
        json!({"name": "training", "envelope": a.committed.as_ref().unwrap().envelope.to_value(), "payload_hex": hexof(&a.payload_bytes), "live": true}),
        json!({"name": "dataset", "envelope": a.dataset_anchors[0].committed.envelope.to_value(), "payload_hex": hexof(&a.dataset_anchors[0].payload_bytes), "live": false}),
    ];
    let reg_env: Value =
        serde_json::from_slice(&artifact(p, &root, "ario/registration_proof.json").await).unwrap();
    items.push(json!({"name": "registration", "envelope": reg_env, "payload_hex": hexof(&artifact(p, &root, "ario/registration_payload.json").await), "live": true}));
    for (n, dir, live) in [
        ("promotion", "ario/promotions", true),
        ("alias", "ario/aliases", false),
    ] {
        let d = event_dir(p, &root, dir).await;
        let env: Value =
            serde_json::from_slice(&artifact(p, &root, &format!("{d}/proof.json")).await).unwrap();
        items.push(json!({"name": n, "envelope": env, "payload_hex": hexof(&artifact(p, &root, &format!("{d}/payload.json")).await), "live": live}));
    }
    let pd = format!("ario/predictions/{}", d.decision_id);
    let env: Value =
        serde_json::from_slice(&artifact(p, &root, &format!("{pd}/proof.json")).await).unwrap();
    items.push(json!({"name": "prediction", "envelope": env, "payload_hex": hexof(&artifact(p, &root, &format!("{pd}/payload.json")).await), "live": true}));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("items.json");
    std::fs::write(&file, serde_json::to_vec(&items).unwrap()).unwrap();
    let out = f
        .server
        .python_env(
            "plugin_peer.py",
            &["verify", "--items", file.to_str().unwrap()],
            &[("HOME", dir.path().as_os_str())],
        )
        .unwrap();
    for it in &items {
        let n = it["name"].as_str().unwrap();
        let r = &out[n];
        assert_eq!(r["verify_record"], true, "{n}: {r}");
        assert_eq!(r["kernel_ok"], true, "{n}: {r}");
        if it["live"] == true {
            let fv = &r["full_verify"];
            assert_eq!(fv["signature"], true, "{n}: {fv}");
            assert_eq!(fv["anchored_bytes"], true, "{n}: {fv}");
            if n != "promotion" {
                assert_eq!(
                    fv["source_of_truth"], true,
                    "{n}: the plugin re-derives our payload from MLflow: {fv}"
                );
                assert_eq!(fv["overall"], true, "{n}: {fv}");
            }
        }
    }
}
