//! `serve` over TLS (rustls): a client that trusts the service's
//! certificate delivers a signed webhook over HTTPS; plain HTTP to the same
//! port gets no answer. MLflow itself is not needed: nothing is anchored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use ario_provenance::inbox::WebhookSecret;
use common::serve::{now, sigterm, Running, SECRET};
use common::{cli, spawn_serving};

#[test]
fn webhooks_are_received_over_https_with_the_given_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_pem, key_pem) = (cert.cert.pem(), cert.signing_key.serialize_pem());
    std::fs::write(dir.path().join("tls.crt"), &cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &key_pem).unwrap();
    let mlflow = format!("http://{}", ario_test_support::closed_addr());
    let mut c = cli(&mlflow, &mlflow, &dir.path().join("home"));
    c.args(["serve", "--listen", "127.0.0.1:0", "--workers", "0"])
        .arg("--queue")
        .arg(dir.path().join("queue.sqlite"))
        .arg("--tls-cert")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key")
        .arg(dir.path().join("tls.key"))
        .env("ARIO_WEBHOOK_SECRET", SECRET);
    let (child, url) = spawn_serving(c, "serving on");
    let mut serve = Running(child);
    assert!(url.starts_with("https://"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();

    let rt = tokio::runtime::Runtime::new().unwrap();
    // The clients below are built and dropped inside the runtime's context.
    let _inside = rt.enter();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem.as_bytes()).unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let base = format!("https://localhost:{port}");
    let body = r#"{"entity": "model_version_alias", "action": "deleted", "timestamp": "2026-12-02T12:00:00+00:00", "data": {"name": "m", "alias": "champion"}}"#;
    let ts = now().to_string();
    let sig = WebhookSecret::new(SECRET).sign("tls-1", &ts, body.as_bytes());
    let (status, text) = rt.block_on(async {
        let r = trusting
            .post(format!("{base}/webhooks/mlflow"))
            .header("x-mlflow-delivery-id", "tls-1")
            .header("x-mlflow-timestamp", &ts)
            .header("x-mlflow-signature", &sig)
            .body(body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("\"queued\":true"), "{text}");

    // A client that does not trust the certificate is refused by TLS itself.
    let untrusting = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let err = rt.block_on(async { untrusting.get(format!("{base}/healthz")).send().await });
    assert!(err.is_err(), "an unknown certificate must not be accepted");
    // Plain HTTP on the TLS port gets no HTTP answer.
    let plain = rt.block_on(
        untrusting
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send(),
    );
    assert!(plain.map(|r| !r.status().is_success()).unwrap_or(true));
    assert_eq!(sigterm(&mut serve), Some(0));
}
