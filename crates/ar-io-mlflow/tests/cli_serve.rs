//! `serve` against a real MLflow 3 server: registry changes made by MLflow's
//! own Python client reach us through MLflow's webhooks and get anchored;
//! forged, stale and redelivered webhooks do not anchor twice; events queued
//! when `serve` is SIGKILLed are anchored after restart; a version
//! registered while `serve` is down is found by `reconcile` and anchored by
//! the next scan; the HTTP API answers what the CLI prints.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ario_provenance::inbox::WebhookSecret;
use ario_test_support::{mlflow, unique};
use common::serve::*;
use serde_json::{json, Value};

#[test]
fn registry_changes_made_by_the_python_client_are_anchored_through_webhooks() {
    let Some(server) = mlflow() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bed = Bed::new(
        server,
        dir.path(),
        dir.path().join("queue.sqlite").display().to_string(),
    );
    let experiment = unique("serve");
    let run_id = logged_run(server, &experiment);
    let source = format!("runs:/{run_id}/model");
    let name = unique("served-model");

    // 1. The scan anchors the finished run that logged a model; then the
    //    Python client registers a version and moves an alias, and MLflow's
    //    webhooks (registered by `serve`) bring both to us.
    eprintln!("step 1");
    let public = format!("http://127.0.0.1:{}", bed.port);
    let (mut serve, base) = bed.serve(&[
        "--register-webhooks",
        &public,
        "--anchor-runs",
        &experiment,
        "--scan-interval",
        "1",
    ]);
    eventually("the training run is anchored by the scan", || {
        let out = bed
            .cmd()
            .args(["verify", "run", &run_id, "--no-write-back"])
            .output()
            .unwrap();
        (code(&out) == Some(0), stdout(&out))
    });
    bed.python(&["register", &name, &source, &run_id]);
    bed.python(&["alias", &name, "champion", "1"]);
    let tags = anchored(&bed, &name, "1", "ario.registration_tx");
    assert!(tags.get("ario.verify_status").is_some(), "{tags}");
    anchored(&bed, &name, "1", "ario.alias_tx");
    assert_eq!(
        bed.registrations(&name, "1"),
        1,
        "the webhook and the scan both saw version 1; one anchor"
    );
    let verify = bed
        .cmd()
        .args(["verify", "model", &format!("{name}/1")])
        .output()
        .unwrap();
    assert_eq!(code(&verify), Some(0), "{}", stdout(&verify));

    // 2. The API answers what the CLI prints; it wants the token.
    eprintln!("step 2");
    let (status, _, _) = bed.get(&base, &format!("/v1/verify/model/{name}/1"), None);
    assert_eq!(status, 401);
    let (status, exit, body) = bed.get(&base, &format!("/v1/verify/model/{name}/1"), Some(TOKEN));
    assert_eq!((status, exit.as_deref()), (200, Some("0")), "{body}");
    let cli_json = bed
        .cmd()
        .args([
            "verify",
            "model",
            &format!("{name}/1"),
            "--format",
            "json",
            "--no-write-back",
        ])
        .output()
        .unwrap();
    let api: Value = serde_json::from_str(&body).unwrap();
    let cli: Value = serde_json::from_slice(&cli_json.stdout).unwrap();
    assert_eq!(strip_times(api), strip_times(cli));
    let (status, exit, body) = bed.get(&base, &format!("/v1/verify/run/{run_id}"), Some(TOKEN));
    assert_eq!((status, exit.as_deref()), (200, Some("0")), "{body}");
    let cli_run = bed
        .cmd()
        .args([
            "verify",
            "run",
            &run_id,
            "--format",
            "json",
            "--no-write-back",
        ])
        .output()
        .unwrap();
    assert_eq!(
        strip_times(serde_json::from_str(&body).unwrap()),
        strip_times(serde_json::from_slice(&cli_run.stdout).unwrap())
    );
    let (status, exit, body) = bed.get(&base, &format!("/v1/audit/{name}/1"), Some(TOKEN));
    assert_eq!((status, exit.as_deref()), (200, Some("0")), "{body}");
    let cli_audit = bed
        .cmd()
        .args(["audit", &format!("{name}/1"), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&cli_audit), Some(0));
    assert_eq!(
        strip_times(serde_json::from_str(&body).unwrap()),
        strip_times(serde_json::from_slice(&cli_audit.stdout).unwrap())
    );
    let (status, _, page) = bed.get_html(&base, &format!("/v1/audit/{name}/1"), TOKEN);
    assert_eq!(status, 200);
    assert!(
        page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"),
        "{}",
        &page[..page.len().min(200)]
    );
    let (status, _, body) = bed.get(&base, "/v1/verify/model/no-such-model/9", Some(TOKEN));
    assert_eq!(status, 404, "{body}");
    assert_eq!(bed.get(&base, "/healthz", None).0, 200);
    let (status, _, body) = bed.get(&base, "/readyz", None);
    assert_eq!(status, 200, "{body}");

    // 3. Forged and stale deliveries are refused; a redelivery anchors once.
    eprintln!("step 3");
    bed.python(&["register", &name, &source, &run_id]);
    anchored(&bed, &name, "2", "ario.registration_tx");
    let body = json!({"entity": "model_version", "action": "created", "timestamp": "2026-12-02T10:00:00+00:00",
        "data": {"name": name, "version": "2", "source": source, "run_id": run_id, "tags": {}, "description": null}})
    .to_string();
    let secret = WebhookSecret::new(SECRET);
    let ts = now();
    let sig = secret.sign("redelivered-1", &ts.to_string(), body.as_bytes());
    let forged =
        WebhookSecret::new("not-the-secret").sign("forged-1", &ts.to_string(), body.as_bytes());
    assert_eq!(
        bed.post_webhook(&base, "forged-1", ts, &forged, &body).0,
        401
    );
    let old = ts - 3600;
    let stale = secret.sign("stale-1", &old.to_string(), body.as_bytes());
    assert_eq!(
        bed.post_webhook(&base, "stale-1", old, &stale, &body).0,
        401
    );
    let (s1, b1) = bed.post_webhook(&base, "redelivered-1", ts, &sig, &body);
    let (s2, b2) = bed.post_webhook(&base, "redelivered-1", ts, &sig, &body);
    assert_eq!((s1, s2), (200, 200), "{b1} {b2}");
    assert!(b2.contains("\"duplicate\":true"), "{b2}");
    let tampered = body.replace("\"2\"", "\"3\"");
    let sig3 = secret.sign("redelivered-1", &ts.to_string(), tampered.as_bytes());
    assert_eq!(
        bed.post_webhook(&base, "redelivered-1", ts, &sig3, &tampered)
            .0,
        409
    );
    let metrics = eventually("the redelivery is handled", || {
        let (_, _, m) = bed.get(&base, "/metrics", Some(TOKEN));
        (m.contains("ario_serve_queue_depth 0"), m)
    });
    assert_eq!(bed.registrations(&name, "2"), 1, "one registration anchor");
    assert!(
        metrics.contains("ario_serve_webhooks_refused_total{reason=\"signature\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ario_serve_webhooks_refused_total{reason=\"timestamp\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ario_serve_webhooks_duplicate_total 1"),
        "{metrics}"
    );
    let families = parse_metrics(server, dir.path(), &metrics);
    for f in [
        "ario_serve_webhooks_received",
        "ario_serve_queue_depth",
        "ario_serve_anchor_duration_seconds",
    ] {
        assert!(
            families["families"].get(f).is_some(),
            "{f} missing: {families}"
        );
    }
    assert_eq!(sigterm(&mut serve), Some(0), "SIGTERM drains and exits 0");

    // 4. Queued, then SIGKILL: the restarted service anchors every queued event.
    eprintln!("step 4");
    let (mut receiver, _) = bed.serve(&["--workers", "0"]);
    bed.python(&["register", &name, &source, &run_id]);
    bed.python(&["alias", &name, "challenger", "3"]);
    // Both webhooks reached this process (its start-up scan may queue
    // events of its own, so the depth alone does not say so).
    eventually("both webhooks are queued", || {
        let (_, _, m) = bed.get(&base, "/metrics", Some(TOKEN));
        let got = |event: &str| {
            gauge(
                &m,
                &format!("ario_serve_webhooks_received_total{{event=\"{event}\"}}"),
            ) >= 1
        };
        (
            got("model_version.created") && got("model_version_alias.created"),
            m,
        )
    });
    receiver.sigkill();
    let (mut serve, _) = bed.serve(&[]);
    anchored(&bed, &name, "3", "ario.registration_tx");
    anchored(&bed, &name, "3", "ario.alias_tx");
    assert_eq!(bed.registrations(&name, "3"), 1);
    assert_eq!(sigterm(&mut serve), Some(0));

    // 5. Registered while `serve` is down: reconcile finds it, the next scan anchors it.
    eprintln!("step 5");
    bed.python(&["register", &name, &source, &run_id]);
    let out = bed
        .cmd()
        .args(["reconcile", "--model", &name, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let missing: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["finding"] == "version_not_anchored")
        .collect();
    assert_eq!(missing.len(), 1, "{r:#}");
    assert_eq!(missing[0]["version"], "4");
    assert!(
        r["checked"]["aliases"].as_u64().unwrap() >= 2,
        "aliases are looked at: {r:#}"
    );
    let (mut serve, _) = bed.serve(&["--scan-interval", "1"]);
    anchored(&bed, &name, "4", "ario.registration_tx");
    assert_eq!(sigterm(&mut serve), Some(0));
    let out = bed
        .cmd()
        .args(["reconcile", "--model", &name, "--experiment", &experiment])
        .output()
        .unwrap();
    // Runs, versions, aliases and the experiment's traces (MLflow 3's trace
    // search) all looked at; nothing missing, nothing undetermined.
    assert_eq!(code(&out), Some(0), "{}", stdout(&out));

    // An experiment MLflow does not know is reported, not fatal: undetermined (3).
    let out = bed
        .cmd()
        .args([
            "reconcile",
            "--model",
            &name,
            "--experiment",
            "no-such-experiment-x",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(3), "{}", stdout(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r["undetermined"][0].as_str().unwrap().contains("not found"),
        "{r:#}"
    );
    assert_eq!(
        r["checked"]["versions"], 4,
        "the other checks still ran: {r:#}"
    );

    // 6. A version deleted from MLflow leaves an orphan anchor, found on the gateway.
    bed.delete_version(&name, "4");
    let out = bed
        .cmd()
        .args(["reconcile", "--model", &name, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(code(&out), Some(1), "{}", stdout(&out));
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let orphans: Vec<&Value> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["finding"] == "orphan")
        .collect();
    assert_eq!(orphans.len(), 1, "{r:#}");
    assert_eq!(orphans[0]["subject"], format!("{name}/4"));
}
