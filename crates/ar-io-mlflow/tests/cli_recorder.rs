//! The decision-recorder sidecar, driven the way a Python service would: a
//! `requests` client posts decisions; the sidecar is killed (SIGKILL) with a
//! batch open, restarted on the same journal, and every acknowledged
//! decision is checkpointed and proved by `verify decision`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ario_test_support::{mlflow, unique, MlflowServer};
use common::serve::{sigterm, Running};
use common::{cli, spawn_serving};
use serde_json::Value;

fn ok(out: std::process::Output) -> String {
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn client(server: &MlflowServer, args: &[&str]) -> Value {
    server.python("recorder_client.py", args).unwrap()
}

#[test]
fn a_python_service_records_through_the_sidecar_and_nothing_acknowledged_is_lost() {
    let Some(server) = mlflow() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let devnet = common::devnet(&rt, dir.path());
    let home = dir.path().join("home");
    let cmd = || cli(server.url(), &devnet.url(), &home);
    let logged = server
        .python("log_iris_run.py", &["--experiment", &unique("sidecar")])
        .unwrap();
    let run_id = logged["run_id"].as_str().unwrap();
    ok(cmd().args(["anchor", "run", run_id]).output().unwrap());
    let name = unique("iris-sidecar");
    let source = format!("runs:/{run_id}/model");
    ok(cmd()
        .args(["register", &name, "--source", &source, "--run-id", run_id])
        .output()
        .unwrap());

    let journal = dir.path().join("journal");
    let sidecar = || {
        let mut c = cmd();
        c.args(["recorder", "--model", &format!("models:/{name}/1")])
            .args(["--listen", "127.0.0.1:0", "--batch-size", "50"])
            .args(["--max-batch-age-ms", "3600000"])
            .arg("--dir")
            .arg(&journal);
        c
    };
    // Killed on any way out of the test, so a failure cannot leave it running.
    let (child, url) = spawn_serving(sidecar(), "recording decisions");
    let mut child = Running(child);
    let posted = client(server, &["--url", &url, "--post", "120"]);
    assert_eq!(posted["bad_request_status"], 400);
    let receipts = posted["receipts"].as_array().unwrap().clone();
    assert_eq!(receipts.len(), 120);
    assert_eq!(
        receipts[119]["batch_seq"], 2,
        "20 decisions wait in the open batch"
    );
    child.sigkill(); // batch 2 open

    // The restarted sidecar checkpoints what the killed one left open.
    let (child, url) = spawn_serving(sidecar(), "recording decisions");
    let mut child = Running(child);
    let last = receipts[119]["decision_id"].as_str().unwrap();
    let proof = client(server, &["--url", &url, "--proof", last, "--anchored"]);
    assert_eq!(proof["proof"]["state"], "ready", "{proof}");
    assert_eq!(proof["proof"]["leaf_hash"], receipts[119]["leaf_hash"]);
    assert_eq!(proof["proof"]["leaf_count"], 20);
    assert!(proof["proof"]["checkpoint_tx_id"].is_string(), "{proof}");
    // A batch the killed sidecar checkpointed: its transaction is found too.
    let first = receipts[0]["decision_id"].as_str().unwrap();
    let proof = client(server, &["--url", &url, "--proof", first, "--anchored"]);
    assert_eq!(proof["proof"]["state"], "ready", "{proof}");
    assert!(proof["proof"]["checkpoint_tx_id"].is_string(), "{proof}");
    assert_eq!(sigterm(&mut child), Some(0), "graceful shutdown");

    let ids: Vec<&str> = receipts
        .iter()
        .map(|r| r["decision_id"].as_str().unwrap())
        .collect();
    let out = cmd()
        .args(["verify", "decision", "--format", "json"])
        .args(&ids)
        .output()
        .unwrap();
    let text = ok(out);
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    assert_eq!(all.len(), 120);
    for v in &all {
        assert_eq!(v["status"], "verified", "{v:#}");
    }
    // One upload per batch: training, its dataset, registration, then three checkpoints.
    let items: Vec<String> = rt.block_on(async {
        devnet
            .store()
            .all()
            .iter()
            .map(|s| {
                let tags: Vec<String> = s
                    .item
                    .tags
                    .iter()
                    .filter(|t| t.name.starts_with("Ario-") || t.name == "Event-Type")
                    .map(|t| format!("{}={}", t.name, t.value))
                    .collect();
                format!("{} {}", s.id, tags.join(" "))
            })
            .collect()
    });
    assert_eq!(items.len(), 3 + 3, "{items:#?}");

    let text = ok(cmd().args(["verify", "decision", ids[7]]).output().unwrap());
    assert!(
        text.contains("Decision Included") && text.contains("Result: verified"),
        "{text}"
    );
    decision_evidence_checks(&cmd, &home, ids[7]);
}

/// `verify decision ID --evidence F` writes what `proof verify --decision F`
/// re-checks with MLflow and the gateways out of reach; a changed record,
/// path, payload or envelope fails it.
fn decision_evidence_checks(
    cmd: &dyn Fn() -> std::process::Command,
    home: &std::path::Path,
    id: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("decision.json");
    let out = cmd()
        .args(["verify", "decision", id, "--evidence"])
        .arg(&file)
        .output()
        .unwrap();
    ok(out);
    let closed = format!("http://{}", ario_test_support::closed_addr());
    let offline = |f: &std::path::Path| {
        let out = cli(&closed, &closed, home)
            .args(["proof", "verify", "--format", "json", "--decision"])
            .arg(f)
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.code(), report)
    };
    let (code, report) = offline(&file);
    assert_eq!(
        (code, &report["status"]),
        (Some(0), &Value::from("verified")),
        "{report:#}"
    );
    let text = String::from_utf8_lossy(
        &cli(&closed, &closed, home)
            .args(["proof", "verify", "--decision"])
            .arg(&file)
            .output()
            .unwrap()
            .stdout,
    )
    .into_owned();
    assert!(
        text.contains("Not shown offline") && text.contains("Result: verified"),
        "{text}"
    );

    let original: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "/record/output_hash",
            "Decision Record",
            Value::from("0".repeat(64)),
        ),
        (
            "/proof/audit_path/0",
            "Decision Included",
            Value::from("1".repeat(64)),
        ),
        ("/proof/leaf_index", "Decision Record", Value::from(0)),
        (
            "/checkpoint/payload_hex",
            "Payload Bound",
            Value::from("7b7d"),
        ),
        (
            "/checkpoint/envelope/signed_at",
            "Signature Confirmed",
            Value::from("2020-01-01T00:00:00+00:00"),
        ),
        (
            "/decision_id",
            "Checkpoint Subject",
            Value::from("0000000000000000-0-7"),
        ),
    ];
    for (pointer, label, value) in cases {
        let mut v = original.clone();
        *v.pointer_mut(pointer).unwrap() = value;
        let f = dir.path().join("tampered.json");
        std::fs::write(&f, v.to_string()).unwrap();
        let (code, report) = offline(&f);
        assert_eq!(code, Some(1), "{pointer}: {report:#}");
        let failed: Vec<&str> = report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "fail")
            .map(|r| r["label"].as_str().unwrap())
            .collect();
        assert!(
            failed.contains(&label),
            "{pointer} fails {label}: {failed:?}"
        );
    }
}
