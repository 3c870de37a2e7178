//! Canonicalize, sign and verify a ~600-byte `ario.mlflow/v1` envelope, next to
//! a bare `ed25519-dalek` verify of the same message (the floor for verify).

// Fixed, known-good inputs: a failure here is a bug in the bench itself.
#![allow(clippy::expect_used, missing_docs)]

use ario_envelope::envelope::signed_scope_bytes;
use ario_envelope::{
    canonicalize, sign_envelope, verify_envelope_bytes, SigningKey, VerifyOptions,
};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{json, Value};

fn unsigned() -> Value {
    json!({
        "event_id": "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab",
        "event_type": "training_complete",
        "subject": {"type": "mlflow_run", "run_id": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718"},
        "payload_hash": "dafee90fa2d40e5feb7900f9e9e51d6ae09ed36a3101c0247cb8330542b717d7",
        "previous_hash": "GENESIS",
        "signed_at": "2026-06-15T12:00:00.123456+00:00",
        "spec_version": "ario.mlflow/v1",
    })
}

fn benches(c: &mut Criterion) {
    let key = SigningKey::from_seed([42; 32]);
    let signed = sign_envelope(&unsigned(), &key).expect("sign");
    let bytes = canonicalize(&signed).expect("canonical");
    let scope = signed_scope_bytes(signed.as_object().expect("object")).expect("scope");
    let sig = Signature::from_bytes(
        &hex::decode(signed["signature"].as_str().expect("sig"))
            .expect("hex")
            .try_into()
            .expect("64"),
    );
    let pk = key.public_key_bytes();

    let mut g = c.benchmark_group("mlflow_envelope");
    g.bench_function("canonicalize", |b| {
        b.iter(|| canonicalize(black_box(&signed)))
    });
    g.bench_function("sign", |b| {
        b.iter(|| sign_envelope(black_box(&unsigned()), &key))
    });
    g.bench_function("verify_bytes", |b| {
        b.iter(|| verify_envelope_bytes(black_box(&bytes), VerifyOptions::default()))
    });
    g.bench_function("bare_dalek_verify", |b| {
        b.iter(|| {
            let vk = VerifyingKey::from_bytes(black_box(&pk)).expect("key");
            vk.verify_strict(black_box(&scope), &sig)
        })
    });
    g.finish();
}

criterion_group!(envelope, benches);
criterion_main!(envelope);
