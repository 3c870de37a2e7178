//! `envelope`: the `ario.agent/v1` envelope vectors (`envelope-*.json`,
//! `agent-envelope-*.json`): payload JCS and hash, the signed scope and its
//! deterministic signature, `sign_envelope`, a clean verdict, and four
//! mutations that must not verify.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::{sign_envelope_with, verify_envelope, SignPolicy};
use serde_json::Value;

use crate::check::{
    canon, check_signing, ensure, flip_first_hex_nibble, get, hexb, key_of, s, verify_opts, with,
    Check,
};

/// Runs one `envelope` vector (`stem`: its file name without `.json`).
pub(crate) fn check(v: &Value, stem: &str) -> Check {
    let vid = s(v, &["vector_id"])?;
    ensure!(
        vid == stem || format!("agent-{vid}") == stem,
        "vector_id {vid:?} does not match file {stem:?}"
    );
    ensure!(
        s(v, &["spec_version"])? == "ario.agent/v1",
        "unexpected spec_version"
    );
    let key = key_of(v)?;
    let pre = get(v, &["inputs", "envelope_pre_signature"])?.clone();
    for k in [
        "spec_version",
        "event_id",
        "event_type",
        "subject",
        "payload",
    ] {
        ensure!(pre.get(k).is_some(), "pre-signature envelope lacks {k}");
    }
    for k in ["payload_hash", "public_key", "signature"] {
        ensure!(
            pre.get(k).is_none(),
            "pre-signature envelope already has {k}"
        );
    }
    let payload_jcs = canon(get(&pre, &["payload"])?)?;
    ensure!(
        payload_jcs == hexb(v, &["expected_outputs", "payload_jcs_bytes_hex"])?,
        "payload JCS bytes differ"
    );
    let payload_hash = sha256_hex(&payload_jcs);
    ensure!(
        payload_hash == s(v, &["expected_outputs", "payload_hash_hex"])?,
        "payload hash differs"
    );
    let env = with(
        pre.clone(),
        &[
            ("payload_hash", payload_hash.into()),
            ("public_key", key.public_key_hex().into()),
        ],
    )?;
    let sig_hex = check_signing(v, &env, &key)?;
    let full = with(env, &[("signature", sig_hex.into())])?;
    let signed = sign_envelope_with(&pre, &key, SignPolicy::AcceptedProfilesOnly)
        .map_err(|e| e.to_string())?;
    ensure!(
        canon(&signed)? == canon(&full)?,
        "sign_envelope does not reproduce the complete envelope"
    );
    let verdict = verify_envelope(&full, verify_opts(None));
    ensure!(
        verdict.ok
            && verdict.signature_ok
            && verdict.payload_hash_ok == Some(true)
            && verdict.reasons.is_empty(),
        "complete envelope does not verify cleanly: {:?}",
        verdict.reasons
    );
    // mutations that must not verify
    let mut injected = full.clone();
    if let Some(p) = injected.get_mut("payload").and_then(Value::as_object_mut) {
        p.insert("_injected".into(), "x".into());
    }
    let mut bad_sig = full.clone();
    bad_sig["signature"] = flip_first_hex_nibble(sig_hex).into();
    let mut zero_key = full.clone();
    zero_key["public_key"] = "00".repeat(32).into();
    let mut v99 = full.clone();
    v99["spec_version"] = "ario.agent/v99".into();
    for (what, m) in [
        ("payload injection", injected),
        ("flipped signature", bad_sig),
        ("zero key", zero_key),
        ("v99", v99),
    ] {
        ensure!(
            !verify_envelope(&m, verify_opts(None)).ok,
            "{what} still verifies"
        );
    }
    // content binding: every committed role hash is found
    let hashes = ario_envelope::evidence::content_hashes(&full);
    for (_, h) in &hashes {
        ensure!(h.len() == 64, "content hash {h:?} is not 64 hex");
    }
    Ok(())
}
