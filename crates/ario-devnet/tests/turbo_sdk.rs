//! The real PyPI `turbo-sdk` uploads to the devnet (both signature types), and
//! the gateway reader fetches what it stored. Needs the peer venv
//! (`ARIO_PEER_PYTHON`, set by `cargo xtask test`): unset, the test prints
//! `SKIPPED:`; set to an unusable path, it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use ario_devnet::{Devnet, DevnetOptions};
use ario_gateway::config::GatewayConfig;
use ario_gateway::fetch::GatewayReader;
use ario_test_support::{env_path_or_skip, repo_root, PathKind, SkipKind};
use serde_json::{json, Value};

/// The test wallet of the ANS-104 interop tests (a throwaway key, never funded).
const JWK: &str = include_str!("fixtures/arweave-test-wallet.json");
const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// Runs `xtask/peers/ans104_peer.py` over `cases`; results come back in order.
fn ans104_peer(py: &Path, cases: &[Value]) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let (req, resp) = (dir.path().join("req.json"), dir.path().join("resp.json"));
    std::fs::write(&req, serde_json::to_vec(&json!({"cases": cases})).unwrap()).unwrap();
    let out = Command::new(py)
        .arg(repo_root().join("xtask/peers/ans104_peer.py"))
        .arg(&req)
        .arg(&resp)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ans104_peer.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(resp).unwrap()).unwrap();
    v["results"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turbo_sdk_uploads_to_the_devnet() {
    let Some(py) = env_path_or_skip(
        "ARIO_PEER_PYTHON",
        PathKind::Executable,
        SkipKind::Peer,
        "turbo-sdk upload not run",
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetOptions::new(dir.path())).await.unwrap();
    let jwk: Value = serde_json::from_str(JWK).unwrap();
    let data = hex::encode(br#"{"hello":"devnet"}"#);
    let upload = format!("{}/turbo", devnet.url());
    let tags = json!([
        {"name": "Content-Type", "value": "application/json"},
        {"name": "App-Name", "value": "ar-io-mlflow"},
        {"name": "Chain-Prev", "value": "a".repeat(64)},
    ]);
    let cases = vec![
        json!({"id": "solana", "op": "upload", "signer": "solana", "seed_hex": SEED_HEX, "data_hex": data, "tags": tags, "upload_url": upload}),
        json!({"id": "arweave", "op": "upload", "signer": "arweave", "jwk": jwk, "data_hex": data, "tags": tags, "upload_url": upload}),
    ];
    let results = tokio::task::spawn_blocking(move || ans104_peer(&py, &cases))
        .await
        .unwrap();
    assert_eq!(results.len(), 2);
    let reader = GatewayReader::new(GatewayConfig::default().with_devnet(&devnet.url()));
    for r in results {
        let id = r["id"]
            .as_str()
            .unwrap_or_else(|| panic!("upload failed: {r}"));
        let fetched = reader.fetch_envelope(id).await.unwrap();
        assert_eq!(fetched.bytes, br#"{"hello":"devnet"}"#);
        assert!(devnet.store().get(id).unwrap().item.verify().unwrap());
    }
}
