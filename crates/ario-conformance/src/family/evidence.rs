//! `evidence-export`: `ario.evidence/v1` bundles and exports against their
//! pinned verdicts, the RSA-PSS attestation golden vector, the export golden
//! vector, and two bare bundles whose verdict their name fixes.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::evidence::{
    verify_evidence_bundle, verify_evidence_bytes, EvidenceOptions, EvidenceResult,
};
use ario_envelope::rsa_pss::{operator_address, verify_rsa_pss_sha256, RsaJwk};
use serde_json::Value;

use crate::check::{canon, ensure, get, s, Check};

/// Runs one `evidence-export` vector given as JSON (`stem`: its file name without `.json`).
pub(crate) fn check_value(v: &Value, stem: &str) -> Check {
    if stem == "rsa-pss-attestation.golden" {
        return rsa_golden(v);
    }
    if stem == "evidence-export-bundle.golden" {
        return export_golden(v);
    }
    let bundle = get(v, &["bundle"])?;
    let expected = get(v, &["expected"])?;
    let r = verify_evidence_bundle(bundle, &EvidenceOptions::default());
    compare_expected(&r, expected)
}

/// Bare bundles (not `{bundle, expected}` vectors) whose verdict is fixed by their name.
pub(crate) const RAW_BUNDLES: &[&str] = &["attestation-exponent-forgery", "deep-nesting"];

/// Runs one of the [`RAW_BUNDLES`] from its bytes.
pub(crate) fn check_raw_bundle(stem: &str, bytes: &[u8]) -> Check {
    let r = verify_evidence_bytes(bytes, &EvidenceOptions::default());
    if stem == "deep-nesting" {
        ensure!(
            r.status.as_str() == "malformed" && r.exit_code() == 2,
            "deep bundle not malformed: {:?}",
            r.status
        );
        return Ok(());
    }
    ensure!(
        r.status.as_str() == "failed" && r.exit_code() == 1,
        "forgery not failed: {:?}",
        r.status
    );
    let e = r.export.as_ref().ok_or("no export block")?;
    let att = e.attestations.first().ok_or("no attestation result")?;
    ensure!(
        !att.signature_ok && !att.ok,
        "e=1 forgery signature accepted"
    );
    ensure!(
        e.attestations.get(1).is_some_and(|a| a.ok),
        "second attestation should stay valid"
    );
    // Derived expectation (not pinned upstream): the recomputed verdict under the §4 construction.
    let vh = sha256_hex(&canon(&e.verdict)?);
    ensure!(
        vh == "812e846bc533c16c8535ed37b4f794891d091bb34ae9e0f52953883e7f4c62a4",
        "forgery verdict hash {vh}"
    );
    Ok(())
}

fn compare_expected(r: &EvidenceResult, expected: &Value) -> Check {
    ensure!(
        r.status.as_str() == s(expected, &["status"])?,
        "status {:?} != {}",
        r.status,
        expected["status"]
    );
    ensure!(
        expected["exit_code"] == r.exit_code(),
        "exit code {} != {}",
        r.exit_code(),
        expected["exit_code"]
    );
    ensure!(
        Value::Bool(r.signature_ok) == expected["signature_ok"],
        "signature_ok differs"
    );
    ensure!(
        Value::Bool(r.body_hash_ok) == expected["body_hash_ok"],
        "body_hash_ok differs"
    );
    let Some(exp_atts) = expected.get("attestations") else {
        ensure!(r.export.is_none(), "unexpected export block");
        return Ok(());
    };
    let e = r.export.as_ref().ok_or("export block missing")?;
    ensure!(
        Value::Bool(e.source_linkage_ok) == expected["source_linkage_ok"],
        "source_linkage_ok differs"
    );
    ensure!(
        Value::Bool(e.verdict_agreement_ok) == expected["verdict_agreement_ok"],
        "verdict_agreement_ok differs"
    );
    ensure!(
        e.source_status.as_str() == s(expected, &["source_status"])?,
        "source_status differs"
    );
    let got: Vec<Value> = e
        .attestations
        .iter()
        .map(|a| {
            serde_json::json!({
                "signature_ok": a.signature_ok, "operator_address_bound": a.operator_address_bound,
                "data_hash_bound": a.data_hash_bound, "checkpoint_resolved": a.checkpoint_resolved,
                "subject_ref_ok": a.subject_ref_ok, "ok": a.ok,
            })
        })
        .collect();
    ensure!(
        Value::Array(got.clone()) == *exp_atts,
        "attestations differ: {got:?}"
    );
    let vh = sha256_hex(&canon(&e.verdict)?);
    ensure!(
        vh == s(expected, &["verdict_jcs_sha256"])?,
        "verdict hash {vh} differs"
    );
    Ok(())
}

fn rsa_golden(v: &Value) -> Check {
    ensure!(
        get(v, &["salt_length"])?.as_u64() == Some(32),
        "salt_length is not 32"
    );
    let key = RsaJwk::from_value(get(v, &["public_key"])?).map_err(|e| e.to_string())?;
    let payload = get(v, &["payload"])?;
    let msg = canon(payload)?;
    let sig = s(v, &["signature_hex"])?;
    ensure!(
        verify_rsa_pss_sha256(&msg, sig, &key) == Ok(true),
        "golden signature does not verify"
    );
    let mut flipped: Vec<char> = sig.chars().collect();
    if let Some(last) = flipped.last_mut() {
        *last = if *last == '0' { '1' } else { '0' };
    }
    let flipped: String = flipped.into_iter().collect();
    ensure!(
        verify_rsa_pss_sha256(&msg, &flipped, &key) == Ok(false),
        "flipped signature verifies"
    );
    let mut bumped = payload.clone();
    let size = get(payload, &["data_size"])?.as_u64().ok_or("data_size")?;
    bumped["data_size"] = (size + 1).into();
    ensure!(
        verify_rsa_pss_sha256(&canon(&bumped)?, sig, &key) == Ok(false),
        "altered payload verifies"
    );
    ensure!(
        verify_rsa_pss_sha256(&msg, s(v, &["signature_wrong_salt_hex"])?, &key) == Ok(false),
        "max-salt signature verifies (salt must be pinned to 32)"
    );
    ensure!(
        verify_rsa_pss_sha256(&msg, "not-hex!!", &key).is_err(),
        "non-hex signature not malformed"
    );
    ensure!(
        verify_rsa_pss_sha256(&msg, "abc", &key).is_err(),
        "odd hex signature not malformed"
    );
    let mut oct = get(v, &["public_key"])?.clone();
    oct["kty"] = "oct".into();
    ensure!(RsaJwk::from_value(&oct).is_err(), "kty oct accepted");
    let addr = operator_address(&key.n).map_err(|e| e.to_string())?;
    ensure!(
        addr == s(v, &["operator_address"])? && addr == s(payload, &["operator"])?,
        "operator address differs"
    );
    ensure!(
        !addr.contains(['=', '+', '/']),
        "address is not unpadded base64url"
    );
    let mut n2 = key.n.clone();
    n2.replace_range(0..1, if n2.starts_with('A') { "B" } else { "A" });
    ensure!(
        operator_address(&n2).map_err(|e| e.to_string())? != addr,
        "modified modulus derives the same address"
    );
    ensure!(
        operator_address("has spaces and +/=").is_err(),
        "bad modulus text accepted"
    );
    Ok(())
}

fn export_golden(v: &Value) -> Check {
    let export = get(v, &["export"])?;
    let r = verify_evidence_bundle(export, &EvidenceOptions::default());
    ensure!(
        r.status.as_str() == "verified" && r.exit_code() == 0,
        "golden export not verified: {:?} {:?}",
        r.status,
        r.errors
    );
    let e = r.export.as_ref().ok_or("export block missing")?;
    ensure!(
        e.source_linkage_ok && e.verdict_agreement_ok,
        "linkage/agreement"
    );
    ensure!(
        e.attestations.len() == 2 && e.attestations.iter().all(|a| a.ok),
        "attestations not all bound"
    );
    ensure!(
        e.attestations[0].operator == s(v, &["operator_addresses", "op1"])?,
        "op1 differs"
    );
    ensure!(
        e.attestations[1].operator == s(v, &["operator_addresses", "op2"])?,
        "op2 differs"
    );
    let content: Vec<Option<bool>> = r.events.iter().map(|ev| ev.content_ok).collect();
    ensure!(
        content == vec![Some(true), None, None],
        "content_ok {content:?}"
    );
    let cached = get(export, &["body", "kernel_verdict", "checkpoints"])?;
    let recomputed = get(&e.verdict, &["checkpoints"])?;
    for (c, rc) in cached
        .as_array()
        .ok_or("cached checkpoints")?
        .iter()
        .zip(recomputed.as_array().ok_or("checkpoints")?)
    {
        ensure!(
            c.get("attestations") == rc.get("attestations"),
            "recomputed attestations differ from the cached ones"
        );
        ensure!(
            rc.get("on_chain") == Some(&Value::Null),
            "offline on_chain must be null"
        );
    }
    let vh = sha256_hex(&canon(&e.verdict)?);
    ensure!(
        vh == "738663f32ccec765743ed7d53f79b09254af2f11656e7d9955e521c4edeab8cb",
        "verdict anchor hash {vh}"
    );
    let cp_env = get(export, &["body", "source_bundle", "body", "checkpoints"])?
        .get(0)
        .and_then(|c| c.get("envelope"))
        .ok_or("checkpoint envelope")?;
    ensure!(
        sha256_hex(&canon(cp_env)?) == s(v, &["checkpoint_content_hash"])?,
        "checkpoint content hash differs"
    );
    let source = verify_evidence_bundle(
        get(export, &["body", "source_bundle"])?,
        &EvidenceOptions::default(),
    );
    ensure!(
        source.status.as_str() == "verified" && source.events.len() == 3,
        "source bundle not verified standalone"
    );
    Ok(())
}
