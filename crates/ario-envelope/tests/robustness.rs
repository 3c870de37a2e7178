//! Hostile-input invariants for parse → canonicalize → verify.
//!
//! * the proptests run in the normal suite;
//! * `fuzz_for_a_while` is the fuzz target: a time-bounded mutation loop
//!   (`ARIO_FUZZ_SECONDS`, default 60) run on demand with
//!   `cargo test -p ario-envelope --release --test robustness -- --ignored --nocapture`.

// Test helpers work on fixed, known-good fixtures: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ario_envelope::json::{parse, parse_str};
use ario_envelope::{
    canonicalize, sign_envelope, verify_envelope_bytes, SigningKey, Status, VerifyOptions,
};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

fn key() -> SigningKey {
    SigningKey::from_seed([3; 32])
}

fn signed_envelope() -> (Vec<u8>, Vec<u8>) {
    let payload =
        canonicalize(&json!({"event_type": "dataset", "name": "iris", "n": 1.5})).unwrap();
    let unsigned = json!({
        "spec_version": "ario.mlflow/v1", "event_id": "0b7e3f52-9d41-4c2a-b6e8-5a1f2c3d4e5f",
        "event_type": "dataset", "subject": {"type": "mlflow_dataset", "name": "iris", "digest": "5d9c1a7e"},
        "payload_hash": ario_envelope::encoding::sha256_hex(&payload), "previous_hash": "GENESIS",
        "signed_at": "2026-06-15T12:00:00.100000+00:00",
    });
    (
        canonicalize(&sign_envelope(&unsigned, &key()).unwrap()).unwrap(),
        payload,
    )
}

/// Checks every invariant on one input; panics (failing the test) on a violation.
fn check_bytes(bytes: &[u8]) {
    if let Ok(v) = parse(bytes) {
        if let Ok(c) = canonicalize(&v) {
            let back = parse(&c).expect("canonical output must parse");
            assert_eq!(
                canonicalize(&back).unwrap(),
                c,
                "canonicalization is not idempotent"
            );
        }
    }
    let verdict = verify_envelope_bytes(bytes, VerifyOptions::default());
    if verdict.status == Status::Verified {
        assert!(verdict.ok && verdict.signature_ok && verdict.payload_hash_ok == Some(true));
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check_bytes(&bytes);
    }

    #[test]
    fn canonical_form_round_trips(v in arb_json()) {
        let c = canonicalize(&v).unwrap();
        let text = String::from_utf8(c.clone()).unwrap();
        let back = parse_str(&text).unwrap();
        prop_assert_eq!(canonicalize(&back).unwrap(), c);
    }

    #[test]
    fn any_single_byte_change_breaks_a_signed_envelope(pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let (env, payload) = signed_envelope();
        let i = pos.index(env.len());
        prop_assume!(env[i] != byte);
        // Hex digits of key/signature are case-insensitive in every kernel, so a
        // case flip of a letter there is the same signature, not a change.
        prop_assume!(!(env[i].is_ascii_hexdigit() && byte.is_ascii_hexdigit() && env[i].eq_ignore_ascii_case(&byte)));
        let mut m = env.clone();
        m[i] = byte;
        let v = verify_envelope_bytes(&m, VerifyOptions { payload_bytes: Some(&payload), allow_legacy: false });
        prop_assert_ne!(v.status, Status::Verified, "mutation at {} to {:#04x} still verifies", i, byte);
    }
}

#[test]
#[ignore = "fuzz loop: run on demand for ARIO_FUZZ_SECONDS (default 60)"]
fn fuzz_for_a_while() {
    let secs: u64 = std::env::var("ARIO_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(
        std::env::var("ARIO_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1),
    );
    let (env, _) = signed_envelope();
    let seeds: Vec<Vec<u8>> = vec![
        env,
        br#"{"a":[1,2.5e-7,"\u00e9\ud83d\ude00",{"b":null}],"c":true}"#.to_vec(),
        ("[".repeat(127) + &"]".repeat(127)).into_bytes(),
    ];
    let mut runs: u64 = 0;
    while std::time::Instant::now() < deadline {
        for _ in 0..1000 {
            let mut input = seeds[rng.gen_range(0..seeds.len())].clone();
            for _ in 0..rng.gen_range(1..8) {
                let op = rng.gen_range(0..4);
                let at = if input.is_empty() {
                    0
                } else {
                    rng.gen_range(0..input.len())
                };
                match op {
                    0 if !input.is_empty() => input[at] = rng.gen(),
                    1 => input.insert(
                        at,
                        *b"{}[]\",:\\u0123456789eE.-+tfn "
                            .get(rng.gen_range(0..32))
                            .unwrap_or(&b'x'),
                    ),
                    2 if !input.is_empty() => {
                        input.remove(at);
                    }
                    _ => {
                        let end = (at + rng.gen_range(0..16)).min(input.len());
                        let chunk = input[at..end].to_vec();
                        input.splice(at..at, chunk);
                    }
                }
            }
            check_bytes(&input);
            runs += 1;
        }
    }
    println!("fuzz: {runs} inputs in {secs} s, no panic, no invariant violated");
}
