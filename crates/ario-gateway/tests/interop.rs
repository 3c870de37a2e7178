//! ANS-104 interop with the real peers, both directions, both signature types:
//! PyPI `turbo-sdk` and npm `arbundles` / `@dha-team/arbundles` (the fork Turbo
//! runs). The peers are installed by `cargo xtask`; without them (variables
//! unset) these tests print `SKIPPED:`, with a variable set to an unusable path
//! they fail. (`turbo-sdk` uploading to the devnet is tested in `ario-devnet`.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ario_gateway::ans104::{ArweaveSigner, DataItem, Ed25519Signer, ItemSigner, Tag, UnsignedItem};
use ario_gateway::wallet::rsa_from_jwk;
use ario_test_support::{env_path_or_skip, PathKind, SkipKind};
use serde_json::{json, Value};

const JWK: &str = include_str!("fixtures/arweave-test-wallet.json");
const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const NPM_PEERS: [&str; 2] = ["arbundles", "@dha-team/arbundles"];

fn scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../xtask/peers")
}

fn peer_env(var: &str, kind: PathKind) -> Option<PathBuf> {
    env_path_or_skip(var, kind, SkipKind::Peer, "ANS-104 peer not run")
}

/// Runs one peer script over `cases`; results come back in order.
fn call(
    program: &str,
    args: &[&str],
    script: &str,
    cases: &[Value],
    env: &[(&str, &Path)],
) -> Vec<Value> {
    let dir = tempfile::tempdir().unwrap();
    let (req, resp) = (dir.path().join("req.json"), dir.path().join("resp.json"));
    std::fs::write(&req, serde_json::to_vec(&json!({"cases": cases})).unwrap()).unwrap();
    let mut cmd = Command::new(program);
    cmd.arg(scripts().join(script))
        .args(args)
        .arg(&req)
        .arg(&resp);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&std::fs::read(resp).unwrap()).unwrap();
    v["results"].as_array().unwrap().clone()
}

fn python(cases: &[Value]) -> Option<Vec<Value>> {
    let py = peer_env("ARIO_PEER_PYTHON", PathKind::Executable)?;
    Some(call(
        py.to_str().unwrap(),
        &[],
        "ans104_peer.py",
        cases,
        &[],
    ))
}

fn node(pkg: &str, cases: &[Value]) -> Option<Vec<Value>> {
    let modules = peer_env("ARIO_PEER_NODE_MODULES", PathKind::Dir)?;
    Some(call(
        "node",
        &[pkg],
        "ans104_peer.mjs",
        cases,
        &[("NODE_PATH", &modules)],
    ))
}

fn tags() -> Vec<Value> {
    vec![
        json!({"name": "Content-Type", "value": "application/json"}),
        json!({"name": "App-Name", "value": "ar-io-mlflow"}),
        json!({"name": "Chain-Prev", "value": "a".repeat(64)}),
    ]
}

fn build_cases() -> Vec<Value> {
    let jwk: Value = serde_json::from_str(JWK).unwrap();
    let data =
        hex::encode(br#"{"event_type":"training_complete","spec_version":"ario.mlflow/v1"}"#);
    let anchor = hex::encode("ario-mlflow-interop-anchor-00001");
    vec![
        json!({"id": "solana", "op": "build", "signer": "solana", "seed_hex": SEED_HEX, "data_hex": data, "tags": tags(), "anchor_hex": anchor}),
        json!({"id": "arweave", "op": "build", "signer": "arweave", "jwk": jwk, "data_hex": data, "tags": tags(), "anchor_hex": anchor}),
    ]
}

fn assert_peer_items_verify_here(results: &[Value], who: &str) {
    assert_eq!(results.len(), 2);
    for r in results {
        let bytes = hex::decode(
            r["item_hex"]
                .as_str()
                .unwrap_or_else(|| panic!("{who}: {r}")),
        )
        .unwrap();
        let item = DataItem::parse(&bytes).unwrap_or_else(|e| panic!("{who} {}: {e}", r["id_"]));
        assert!(
            item.verify().unwrap(),
            "{who} {} item does not verify in Rust",
            r["id_"]
        );
        assert_eq!(item.to_bytes(), bytes, "{who}: re-serialization differs");
        assert_eq!(item.tags.len(), 3);
    }
}

#[test]
fn peers_build_we_verify() {
    if let Some(r) = python(&build_cases()) {
        assert_peer_items_verify_here(&r, "turbo-sdk");
    }
    for pkg in NPM_PEERS {
        if let Some(r) = node(pkg, &build_cases()) {
            assert_peer_items_verify_here(&r, pkg);
        }
    }
}

fn our_items() -> Vec<(String, DataItem)> {
    let rsa =
        ArweaveSigner::new(rsa_from_jwk(&serde_json::from_str(JWK).unwrap()).unwrap()).unwrap();
    let ed = Ed25519Signer::from_seed(hex::decode(SEED_HEX).unwrap().try_into().unwrap());
    let signers: Vec<(&str, &dyn ItemSigner)> = vec![("ours-ed25519", &ed), ("ours-arweave", &rsa)];
    let mut out = Vec::new();
    for (name, s) in signers {
        let item = UnsignedItem {
            data: br#"{"spec_version":"ario.mlflow/v1"}"#.to_vec(),
            tags: vec![
                Tag::new("Content-Type", "application/json"),
                Tag::new("Chain-Prev", "b".repeat(64)),
            ],
            anchor: Some(*b"rust-anchor-0123456789abcdefghij"),
            target: None,
        }
        .sign(s)
        .unwrap();
        let mut tampered = item.clone();
        tampered.data[2] ^= 1;
        out.push((name.to_owned(), item));
        out.push((format!("{name}-tampered"), tampered));
    }
    out
}

fn assert_we_build_peer_verifies(results: &[Value], items: &[(String, DataItem)], who: &str) {
    for (r, (name, item)) in results.iter().zip(items) {
        let expect = !name.ends_with("-tampered");
        assert_eq!(r["valid"], json!(expect), "{who} on {name}: {r}");
        if expect {
            assert_eq!(
                r["id"],
                json!(item.id()),
                "{who} computes another id for {name}"
            );
        }
    }
}

#[test]
fn we_build_peers_verify() {
    let items = our_items();
    let cases: Vec<Value> = items
        .iter()
        .map(|(n, i)| json!({"id": n, "op": "verify", "item_hex": hex::encode(i.to_bytes())}))
        .collect();
    if let Some(r) = python(&cases) {
        assert_we_build_peer_verifies(&r, &items, "turbo-sdk");
    }
    for pkg in NPM_PEERS {
        if let Some(r) = node(pkg, &cases) {
            assert_we_build_peer_verifies(&r, &items, pkg);
        }
    }
}
