//! Offline evidence bundles (`spec/mlflow/evidence.md`): an `ario.evidence/v1`
//! wrapper, signed with our key, around an `ario.mlflow.evidence/v1` body
//! that carries, per anchored stage of a model's lineage, the envelope, the
//! payload bytes MLflow kept, the MLflow facts that re-derive them, and what
//! the gateway and the attestation service answered. [`check_bundle`]
//! re-checks one with no MLflow and no network.

mod attestation;
mod build;
mod check;
mod decision;

use serde_json::{json, Value};

pub use check::{check_bundle, BundleReport, StageReport, FROM_BUNDLE};
pub use decision::{check_decision_evidence, DECISION_EVIDENCE_FORMAT};

/// The wrapper's `spec_version`.
pub const SPEC_VERSION: &str = "ario.evidence/v1";
/// Our body type.
pub const BODY_TYPE: &str = "ario.mlflow.evidence/v1";

/// Wraps `body` and signs it: `body_hash = SHA-256(JCS(body))`, then Ed25519
/// over `JCS(bundle without signature)`.
pub(crate) fn seal(
    body: Value,
    status: &str,
    summary: String,
    gateway: &str,
    key: &ario_envelope::keys::SigningKey,
) -> Result<Value, ario_envelope::jcs::CanonError> {
    let body_hash = ario_envelope::encoding::sha256_hex(&ario_envelope::jcs::canonicalize(&body)?);
    let mut bundle = json!({
        "spec_version": SPEC_VERSION,
        "body_type": BODY_TYPE,
        "issuer": {"kind": "mlflow-plugin", "producer_id": "ar-io-mlflow-rs"},
        "generated_at": crate::pipeline::signed_at_now(),
        "gateway": gateway,
        "verdict": {"status": status, "summary": summary},
        "body": body,
        "body_hash": body_hash,
        "previous_hash": ario_envelope::envelope::GENESIS,
        "signature_alg": "ed25519",
        "public_key": key.public_key_hex(),
    });
    let signed = ario_envelope::jcs::canonicalize(&bundle)?;
    bundle["signature"] = Value::String(hex::encode(key.sign(&signed)));
    Ok(bundle)
}
