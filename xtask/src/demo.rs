//! `cargo xtask demo`: the main job end to end on a local default.
//!
//! Today: the offline kernel path, narrated step by step. The MLflow + devnet
//! lifecycle joins as the gateway, MLflow-client and provenance crates land.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::{
    canonicalize, sign_envelope, verify_envelope_bytes, SigningKey, Status, VerifyOptions,
};
use serde_json::json;

use crate::util::{root, shared_dir};

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

pub(crate) fn run() -> anyhow::Result<()> {
    println!("ar-io-mlflow-rs demo (offline kernel path)");

    step(
        1,
        "build the iris training payload exactly as the Python plugin does",
    );
    let payload = json!({
        "artifact_checksums": {"MLmodel": sha256_hex(b"artifact_path: model\nflavors: {}\n"), "model.pkl": sha256_hex(b"\x80\x04fake")},
        "dataset_inputs": [{"context": "training", "digest": "5d9c1a7e", "name": "iris-train",
            "schema_hash": sha256_hex(br#"{"mlflow_colspec":[{"name":"sepal_length","required":true,"type":"double"}]}"#),
            "source": "{\"url\": \"https://archive.ics.uci.edu/dataset/53/iris\"}", "source_type": "http"}],
        "event_type": "training_complete", "git_commit": "", "metrics": {"accuracy": 0.966667},
        "params": {"max_iter": "200", "random_state": "42"}, "run_id": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718",
        "source_name": "train_and_anchor.py"
    });
    let payload_bytes = canonicalize(&payload)?;
    println!(
        "    {} canonical bytes, payload_hash {}",
        payload_bytes.len(),
        sha256_hex(&payload_bytes)
    );

    step(
        2,
        "sign the ario.mlflow/v1 envelope (a fresh demo key; nothing is written to disk)",
    );
    let key = SigningKey::generate();
    let unsigned = json!({
        "spec_version": "ario.mlflow/v1", "event_id": "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab",
        "event_type": "training_complete",
        "subject": {"type": "mlflow_run", "run_id": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718"},
        "payload_hash": sha256_hex(&payload_bytes), "previous_hash": "GENESIS",
        "signed_at": "2026-06-15T12:00:00.123456+00:00",
    });
    let envelope = canonicalize(&sign_envelope(&unsigned, &key)?)?;
    println!(
        "    envelope: {} bytes, public key {}",
        envelope.len(),
        key.public_key_hex()
    );

    step(
        3,
        "verify from the envelope bytes alone (binding undetermined without the payload)",
    );
    let v = verify_envelope_bytes(&envelope, VerifyOptions::default());
    println!(
        "    status {:?}, signature_ok {}, payload_hash_ok {:?}",
        v.status, v.signature_ok, v.payload_hash_ok
    );
    anyhow::ensure!(v.status == Status::Undetermined, "expected undetermined");

    step(4, "verify with the committed payload bytes");
    let v = verify_envelope_bytes(
        &envelope,
        VerifyOptions {
            payload_bytes: Some(&payload_bytes),
            ..Default::default()
        },
    );
    println!("    status {:?}", v.status);
    anyhow::ensure!(v.status == Status::Verified, "expected verified");

    step(5, "tamper: a metric edited after anchoring");
    let mut edited = payload.clone();
    edited["metrics"]["accuracy"] = json!(0.999);
    let edited = canonicalize(&edited)?;
    let v = verify_envelope_bytes(
        &envelope,
        VerifyOptions {
            payload_bytes: Some(&edited),
            ..Default::default()
        },
    );
    println!("    status {:?}, reasons {:?}", v.status, v.reasons);
    anyhow::ensure!(v.status == Status::Failed, "expected failed");

    step(
        6,
        "conformance: our vectors, and the ar-io-proof corpus when ../shared is present",
    );
    let mut dirs = vec![root().join("test-vectors")];
    if let Some(s) = shared_dir() {
        dirs.push(s.join("conformance/ar-io-proof/test-vectors"));
    }
    for d in dirs {
        let r = ario_envelope::conformance::run_dir(&d)?;
        println!(
            "    {}: {}/{} vectors pass",
            d.display(),
            r.total() - r.failed(),
            r.total()
        );
        anyhow::ensure!(r.all_passed(), "conformance failures in {}", d.display());
    }
    println!("\ndone: the offline kernel path holds end to end.");
    Ok(())
}
