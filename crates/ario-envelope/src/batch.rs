//! Many envelopes at once: every check of [`crate::verify_envelope`], with
//! the Ed25519 signatures verified together by `ed25519-dalek`'s batch
//! verification (one multiscalar multiplication per batch).
//!
//! Before a signature enters a batch it must pass what `verify_strict`
//! refuses on sight: a weak (small-order) public key, a non-canonical `s` or
//! `R` encoding. When a batch does not verify, each of its signatures is
//! checked alone with `verify_strict`, so every verdict names exactly the
//! envelopes that fail. The one difference from checking each signature with
//! `verify_strict`: the batch equation is a random linear combination and
//! does not refuse a small-order `R`, so a signature crafted by the key
//! holder with a torsion component may pass here where `verify_strict`
//! refuses it. That cannot make a signature pass without the key.

use curve25519_dalek::scalar::Scalar;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::Value;

use crate::envelope::{check_signature, signature_parts, verify_with, Verdict, VerifyOptions};

/// Signatures per batch.
const BATCH: usize = 256;

/// Whether `r` encodes `y < p` (p = 2^255 − 19), ignoring the sign bit.
fn canonical_y(r: &[u8; 32]) -> bool {
    let high = r[31] & 0x7f == 0x7f && r[1..31].iter().all(|b| *b == 0xff);
    !(high && r[0] >= 0xed)
}

/// What `verify_strict` refuses before any curve equation and is cheap to
/// see: a weak key, a non-canonical `s` or `R` encoding.
fn strict_shape(key: &VerifyingKey, sig: &Signature) -> bool {
    let s_ok = bool::from(Scalar::from_canonical_bytes(*sig.s_bytes()).is_some());
    !key.is_weak() && s_ok && canonical_y(sig.r_bytes())
}

/// Verifies every envelope; `verdicts[i]` is what [`crate::verify_envelope`]
/// would say of `envelopes[i]` (see the module note on the batch equation).
pub fn verify_envelopes(envelopes: &[(&Value, VerifyOptions<'_>)]) -> Vec<Verdict> {
    // Signatures decided in batches: Some(true) passed in a batch, None to check alone.
    let mut decided: Vec<Option<bool>> = vec![None; envelopes.len()];
    let mut parts = Vec::new();
    for (i, (env, _)) in envelopes.iter().enumerate() {
        if let Value::Object(m) = env {
            let mut ignored = Vec::new();
            if let Some((k, s, msg)) = signature_parts(m, &mut ignored) {
                if strict_shape(&k, &s) {
                    parts.push((i, k, s, msg));
                }
            }
        }
    }
    for chunk in parts.chunks(BATCH) {
        let msgs: Vec<&[u8]> = chunk.iter().map(|(_, _, _, m)| m.as_slice()).collect();
        let sigs: Vec<Signature> = chunk.iter().map(|(_, _, s, _)| *s).collect();
        let keys: Vec<VerifyingKey> = chunk.iter().map(|(_, k, _, _)| *k).collect();
        if ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok() {
            for (i, ..) in chunk {
                decided[*i] = Some(true);
            }
        }
    }
    envelopes
        .iter()
        .zip(decided)
        .map(|((env, opts), d)| match d {
            Some(true) => verify_with(env, *opts, |_, _| true),
            _ => verify_with(env, *opts, check_signature),
        })
        .collect()
}

/// [`verify_envelopes`] on `threads` threads (each its own batches).
pub fn verify_envelopes_parallel(
    envelopes: &[(&Value, VerifyOptions<'_>)],
    threads: usize,
) -> Vec<Verdict> {
    let per = envelopes.len().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = envelopes
            .chunks(per)
            .map(|c| s.spawn(move || verify_envelopes(c)))
            .collect();
        let sizes: Vec<usize> = envelopes.chunks(per).map(<[_]>::len).collect();
        handles
            .into_iter()
            .zip(sizes)
            .flat_map(|(h, n)| {
                // A chunk whose thread died gets failed verdicts, so every
                // other verdict stays beside its own envelope.
                h.join().unwrap_or_else(|_| {
                    vec![
                        crate::envelope::Verdict::malformed(crate::codes::Reason::SignatureInvalid);
                        n
                    ]
                })
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::{sign_envelope, verify_envelope, SigningKey};
    use serde_json::json;

    fn signed(i: u8) -> Value {
        let key = SigningKey::from_seed([i; 32]);
        let e = json!({
            "spec_version": "ario.mlflow/v1", "event_id": format!("e{i}"), "event_type": "prediction",
            "subject": {"type": "mlflow_prediction", "decision_id": format!("d{i}"), "model_run_id": "r"},
            "payload_hash": "a".repeat(64), "previous_hash": "GENESIS",
            "signed_at": "2026-12-02T08:00:00+00:00",
        });
        sign_envelope(&e, &key).unwrap()
    }

    #[test]
    fn batched_verdicts_equal_single_ones_and_name_the_bad_envelope() {
        let mut envs: Vec<Value> = (0..150).map(signed).collect();
        envs[70]["signature"] = json!(format!(
            "{}00",
            &envs[70]["signature"].as_str().unwrap()[..126]
        ));
        envs[71]["subject"]["decision_id"] = json!("changed");
        envs[72]["public_key"] = json!("00".repeat(32));
        let opts = VerifyOptions {
            payload_bytes: None,
            allow_legacy: false,
        };
        let items: Vec<(&Value, VerifyOptions)> = envs.iter().map(|e| (e, opts)).collect();
        let single: Vec<Verdict> = envs.iter().map(|e| verify_envelope(e, opts)).collect();
        assert_eq!(verify_envelopes(&items), single);
        assert_eq!(verify_envelopes_parallel(&items, 2), single);
        let bad: Vec<usize> = single
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.signature_ok)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(bad, vec![70, 71, 72]);
    }

    #[test]
    fn non_canonical_encodings_never_enter_a_batch() {
        let mut r = [0xffu8; 32];
        r[0] = 0xed;
        r[31] = 0x7f;
        assert!(!canonical_y(&r));
        r[0] = 0xec;
        assert!(canonical_y(&r));
    }
}
