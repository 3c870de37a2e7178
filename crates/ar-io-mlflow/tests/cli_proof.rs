//! `ar-io-mlflow proof verify` and `conformance`: exit codes and output snapshots.

// Test helpers work on fixed, known-good fixtures: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Envelope and payload bytes of one of our generated vectors.
fn vector_bytes(name: &str) -> (Vec<u8>, Vec<u8>) {
    let text = std::fs::read_to_string(repo().join("test-vectors/mlflow").join(name)).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let bytes = |k: &str| hex::decode(v["expected_outputs"][k].as_str().unwrap()).unwrap();
    (
        bytes("envelope_jcs_bytes_hex"),
        bytes("payload_jcs_bytes_hex"),
    )
}

fn cli(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn workdir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let (env, payload) = vector_bytes("mlflow-training-complete-01.json");
    std::fs::write(dir.path().join("envelope.json"), env).unwrap();
    std::fs::write(dir.path().join("payload.json"), &payload).unwrap();
    let mut tampered = payload;
    *tampered.last_mut().unwrap() ^= 1;
    std::fs::write(dir.path().join("tampered.json"), tampered).unwrap();
    std::fs::write(dir.path().join("garbage.json"), b"{\"a\":1,\"a\":2}").unwrap();
    dir
}

#[test]
fn verified_with_payload() {
    let d = workdir();
    let (code, out) = cli(
        d.path(),
        &[
            "proof",
            "verify",
            "--envelope",
            "envelope.json",
            "--payload",
            "payload.json",
        ],
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn verified_json() {
    let d = workdir();
    let (code, out) = cli(
        d.path(),
        &[
            "proof",
            "verify",
            "--envelope",
            "envelope.json",
            "--payload",
            "payload.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn undetermined_without_payload_is_not_verified() {
    let d = workdir();
    let (code, out) = cli(
        d.path(),
        &["proof", "verify", "--envelope", "envelope.json"],
    );
    assert_eq!(code, 3);
    insta::assert_snapshot!(out);
}

#[test]
fn tampered_payload_fails() {
    let d = workdir();
    let (code, out) = cli(
        d.path(),
        &[
            "proof",
            "verify",
            "--envelope",
            "envelope.json",
            "--payload",
            "tampered.json",
        ],
    );
    assert_eq!(code, 1);
    insta::assert_snapshot!(out);
}

#[test]
fn malformed_input_exits_2() {
    let d = workdir();
    let (code, out) = cli(
        d.path(),
        &[
            "proof",
            "verify",
            "--envelope",
            "garbage.json",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 2);
    insta::assert_snapshot!(out);
    let (code, _) = cli(d.path(), &["proof", "verify", "--envelope", "missing.json"]);
    assert_eq!(code, 2, "an unreadable file is malformed input");
}

#[test]
fn conformance_table_for_our_vectors() {
    let (code, out) = cli(&repo(), &["conformance", "test-vectors"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn conformance_fails_on_a_broken_vector() {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("mlflow")).unwrap();
    let text =
        std::fs::read_to_string(repo().join("test-vectors/mlflow/mlflow-dataset-01.json")).unwrap();
    std::fs::write(
        d.path().join("mlflow/mlflow-dataset-01.json"),
        text.replace("5d9c1a7e", "5d9c1a7f"),
    )
    .unwrap();
    let (code, out) = cli(d.path(), &["conformance", "."]);
    assert_eq!(code, 1);
    assert!(
        out.contains("FAIL") && out.contains("NOT CONFORMANT"),
        "{out}"
    );
}
