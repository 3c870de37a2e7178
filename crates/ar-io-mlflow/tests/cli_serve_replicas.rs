//! Two `serve` replicas behind one webhook URL share a PostgreSQL queue (a
//! real server from Debian's package, started on loopback by the harness):
//! every delivery, posted to both at once, is queued once and anchored once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ario_provenance::inbox::WebhookSecret;
use ario_test_support::postgres::PgServer;
use ario_test_support::{mlflow, unique};
use common::serve::*;
use serde_json::{json, Value};

#[test]
fn the_same_webhook_delivered_to_two_replicas_anchors_once() {
    let Some(server) = mlflow() else { return };
    let Some(pg) = PgServer::start() else { return };
    let dir = tempfile::tempdir().unwrap();
    let bed = Bed::new(server, dir.path(), pg.url());
    let run_id = logged_run(server, &unique("replicas"));
    let source = format!("runs:/{run_id}/model");
    let name = unique("replicated-model");
    // No webhook is registered in this MLflow: the test is the sender.
    let versions: Vec<String> = (0..4)
        .map(|_| {
            bed.python(&["register", &name, &source, &run_id])["version"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();

    let (mut a, base_a) = bed.serve(&[]);
    let (mut b, base_b) = bed.serve_as(&dir.path().join("home-b"), free_port(), &[]);
    let secret = WebhookSecret::new(SECRET);
    for (i, v) in versions.iter().enumerate() {
        let body = json!({"entity": "model_version", "action": "created", "timestamp": "2026-12-02T12:00:00+00:00",
            "data": {"name": name, "version": v, "source": source, "run_id": run_id, "tags": {}, "description": null}})
        .to_string();
        let id = format!("replica-delivery-{i}");
        let ts = now();
        let sig = secret.sign(&id, &ts.to_string(), body.as_bytes());
        let post = |base: &str| {
            bed.http
                .post(format!("{base}/webhooks/mlflow"))
                .header("content-type", "application/json")
                .header("x-mlflow-delivery-id", &id)
                .header("x-mlflow-timestamp", ts.to_string())
                .header("x-mlflow-signature", &sig)
                .body(body.clone())
                .send()
        };
        // Both replicas receive the same delivery at the same moment.
        let (ra, rb) = bed.rt.block_on(async {
            let (ra, rb) = tokio::join!(post(&base_a), post(&base_b));
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (200, 200));
            (
                ra.json::<Value>().await.unwrap(),
                rb.json::<Value>().await.unwrap(),
            )
        });
        let queued = [&ra, &rb].iter().filter(|r| r["queued"] == true).count();
        assert_eq!(queued, 1, "exactly one replica queues it: {ra} {rb}");
    }
    for v in &versions {
        anchored(&bed, &name, v, "ario.registration_tx");
        assert_eq!(bed.registrations(&name, v), 1, "{name}/{v} anchored once");
    }
    // Both replicas see the one queue drain: the four deliveries plus the
    // start-up scans' findings of the same versions (queued once across
    // both replicas; they run after the anchors above, anchoring nothing
    // twice).
    let seen = eventually("both replicas see one drained queue", || {
        let queues: Vec<Value> = [&base_a, &base_b]
            .iter()
            .map(|base| {
                let (status, _, body) = bed.get(base, "/readyz", None);
                assert_eq!(status, 200, "{body}");
                serde_json::from_str::<Value>(&body).unwrap()["queue"].clone()
            })
            .collect();
        let drained = queues.iter().all(|q| q["queued"] == 0 && q["leased"] == 0);
        (drained && queues[0] == queues[1], queues)
    });
    assert!(seen[0]["done"].as_u64().unwrap() >= 4, "{seen:?}");
    for v in &versions {
        assert_eq!(bed.registrations(&name, v), 1, "{name}/{v} anchored once");
    }
    assert_eq!(sigterm(&mut a), Some(0));
    assert_eq!(sigterm(&mut b), Some(0));
}
