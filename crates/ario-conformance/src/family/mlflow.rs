//! `mlflow-envelope`: our `ario.mlflow/v1` vectors (`test-vectors/mlflow/`):
//! payload JCS and hash, the signed scope, the complete envelope, and the
//! pinned verdict of every verification case.

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::{sign_envelope_with, SignPolicy, VerifyOptions};
use serde_json::Value;

use crate::check::{canon, check_signing, ensure, get, hexb, key_of, s, with, Check};

/// Runs one `mlflow-envelope` vector (`stem`: its file name without `.json`).
pub(crate) fn check(v: &Value, stem: &str) -> Check {
    ensure!(
        s(v, &["format"])? == "ario-mlflow-rs/envelope-vector/v1",
        "unknown format"
    );
    ensure!(
        s(v, &["vector_id"])? == stem,
        "vector_id does not match file name"
    );
    let key = key_of(v)?;
    let payload_jcs = canon(get(v, &["inputs", "payload"])?)?;
    ensure!(
        payload_jcs == hexb(v, &["expected_outputs", "payload_jcs_bytes_hex"])?,
        "payload JCS bytes differ"
    );
    let payload_hash = sha256_hex(&payload_jcs);
    ensure!(
        payload_hash == s(v, &["expected_outputs", "payload_hash_hex"])?,
        "payload hash differs"
    );
    let pre = get(v, &["inputs", "envelope_pre_signature"])?;
    ensure!(
        pre.get("payload_hash").and_then(Value::as_str) == Some(payload_hash.as_str()),
        "pre-signature payload_hash"
    );
    check_signing(
        v,
        &with(pre.clone(), &[("public_key", key.public_key_hex().into())])?,
        &key,
    )?;
    let signed =
        sign_envelope_with(pre, &key, SignPolicy::AnySpecVersion).map_err(|e| e.to_string())?;
    ensure!(
        canon(&signed)? == hexb(v, &["expected_outputs", "envelope_jcs_bytes_hex"])?,
        "complete envelope differs"
    );
    let cases = get(v, &["cases"])?
        .as_array()
        .ok_or("cases is not an array")?;
    ensure!(!cases.is_empty(), "no verification cases");
    for (i, c) in cases.iter().enumerate() {
        let env = hexb(c, &["envelope_bytes_hex"])?;
        let payload = match get(c, &["payload_bytes_hex"])? {
            Value::Null => None,
            _ => Some(hexb(c, &["payload_bytes_hex"])?),
        };
        let allow_legacy = get(c, &["allow_legacy"])?.as_bool().ok_or("allow_legacy")?;
        let verdict = ario_envelope::envelope::verify_envelope_bytes(
            &env,
            VerifyOptions {
                payload_bytes: payload.as_deref(),
                allow_legacy,
            },
        );
        let got = serde_json::json!({
            "status": verdict.status, "ok": verdict.ok, "spec_version_status": verdict.spec_version_status,
            "signature_ok": verdict.signature_ok, "payload_hash_ok": verdict.payload_hash_ok,
            "legacy": verdict.legacy, "reasons": verdict.reasons,
        });
        ensure!(
            got == *get(c, &["expect"])?,
            "case {i}: verdict {got} differs from {}",
            c["expect"]
        );
    }
    Ok(())
}
