//! `ario.events-v1`: event-record windows (record JCS and hash, the signed
//! scope, bound and signature-only verdicts, the checkpoint Merkle tree) and
//! two-window chains.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::{sign_envelope_with, verify_envelope, SignPolicy};
use ario_envelope::keys::SigningKey;
use ario_envelope::merkle::{leaf_hash, root};
use serde_json::Value;

use super::merkle::check_proofs;
use crate::check::{canon, check_signing, ensure, get, hexb, key_of, s, verify_opts, with, Check};

/// Runs one `ario.events-v1` vector: a single window or a two-window chain.
pub(crate) fn check(v: &Value) -> Check {
    ensure!(
        s(v, &["spec_version"])? == "ario.events/v1",
        "unexpected spec_version"
    );
    if v.get("windows").is_some() {
        return events_chain_vector(v);
    }
    let key = key_of(v)?;
    events_window(v, &key, true)
}

fn events_window(w: &Value, key: &SigningKey, full_leaves: bool) -> Check {
    let record = get(w, &["inputs", "event_record"])?;
    let record_jcs = canon(record)?;
    ensure!(
        record_jcs == hexb(w, &["expected_outputs", "payload_jcs_bytes_hex"])?,
        "record JCS bytes differ"
    );
    let payload_hash = sha256_hex(&record_jcs);
    ensure!(
        payload_hash == s(w, &["expected_outputs", "payload_hash_hex"])?,
        "record hash differs"
    );
    let pre = get(w, &["inputs", "envelope_pre_signature"])?.clone();
    for k in ["payload", "payload_hash", "public_key"] {
        ensure!(pre.get(k).is_none(), "pre-signature envelope has {k}");
    }
    let env = with(
        pre.clone(),
        &[
            ("payload_hash", payload_hash.into()),
            ("public_key", key.public_key_hex().into()),
        ],
    )?;
    check_signing(w, &env, key)?;
    let complete_bytes = hexb(w, &["expected_outputs", "envelope_jcs_bytes_hex"])?;
    let complete = ario_envelope::json::parse(&complete_bytes).map_err(|e| e.to_string())?;
    ensure!(
        canon(&complete)? == complete_bytes,
        "complete envelope bytes are not canonical"
    );
    let signed = sign_envelope_with(
        &with(pre, &[("payload_hash", sha256_hex(&record_jcs).into())])?,
        key,
        SignPolicy::AcceptedProfilesOnly,
    )
    .map_err(|e| e.to_string())?;
    ensure!(
        canon(&signed)? == complete_bytes,
        "sign_envelope does not reproduce the complete envelope"
    );
    let bound = verify_envelope(&complete, verify_opts(Some(&record_jcs)));
    ensure!(
        bound.ok && bound.signature_ok && bound.payload_hash_ok == Some(true),
        "bound verify fails: {:?}",
        bound.reasons
    );
    let sig_only = verify_envelope(&complete, verify_opts(None));
    ensure!(
        sig_only.ok && sig_only.payload_hash_ok.is_none(),
        "signature-only verify is not ok/undetermined"
    );
    ensure!(
        !verify_envelope(&complete, verify_opts(Some(b"wrong"))).ok,
        "wrong bytes still verify"
    );
    if let Some(m) = w.get("merkle") {
        let leaves = get(m, &["leaves"])?.as_array().ok_or("merkle.leaves")?;
        let mut hashes = Vec::new();
        for (i, l) in leaves.iter().enumerate() {
            let env_bytes = hexb(l, &["envelope_jcs_bytes_hex"])?;
            let h = leaf_hash(&env_bytes);
            ensure!(
                hex::encode(h) == s(l, &["leaf_hash_hex"])?,
                "leaf {i} hash differs"
            );
            if full_leaves {
                let leaf_env = get(l, &["envelope"])?;
                ensure!(
                    canon(leaf_env)? == env_bytes,
                    "leaf {i} envelope bytes are not its JCS"
                );
                let leaf_record = canon(get(l, &["event_record"])?)?;
                let lv = verify_envelope(leaf_env, verify_opts(Some(&leaf_record)));
                ensure!(
                    lv.ok && lv.payload_hash_ok == Some(true),
                    "leaf {i} envelope does not verify"
                );
            }
            hashes.push(h);
        }
        let r = root(&hashes);
        ensure!(
            hex::encode(r) == s(m, &["expected_root_hex"])?,
            "checkpoint root differs"
        );
        ensure!(
            s(record, &["event", "merkle_root"])? == hex::encode(r),
            "record does not commit to the root"
        );
        let proofs = get(m, &["inclusion_proofs"])?
            .as_array()
            .ok_or("inclusion_proofs")?;
        check_proofs(proofs, &hashes, &r)?;
    }
    Ok(())
}

fn events_chain_vector(v: &Value) -> Check {
    let key = key_of(v)?;
    let windows = get(v, &["windows"])?.as_array().ok_or("windows")?;
    ensure!(windows.len() == 2, "expected two windows");
    let chain_key = s(v, &["chain_key"])?;
    for (i, w) in windows.iter().enumerate() {
        ensure!(
            s(w, &["inputs", "event_record", "context", "chain_key"])? == chain_key,
            "window {i} chain_key differs"
        );
        events_window(w, &key, false).map_err(|e| format!("window {i}: {e}"))?;
    }
    let w1_hash = sha256_hex(&canon(get(&windows[0], &["inputs", "event_record"])?)?);
    ensure!(
        w1_hash == s(&windows[0], &["expected_outputs", "payload_hash_hex"])?,
        "window 1 hash"
    );
    ensure!(
        w1_hash == s(&windows[1], &["inputs", "event_record", "previous_hash"])?,
        "window 2 does not chain to window 1"
    );
    ensure!(
        w1_hash == s(v, &["chain_link", "window2_previous_hash"])?,
        "chain_link differs"
    );
    ensure!(
        w1_hash == s(v, &["chain_link", "window1_record_hash"])?,
        "chain_link window1 hash differs"
    );
    Ok(())
}
