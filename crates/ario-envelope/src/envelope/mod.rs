//! The signed envelope: typed form, signed scope and signing; verification
//! into a [`Verdict`] is in the `verify` module.

mod verify;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::encoding::sha256_hex;
use crate::jcs::{canonicalize, canonicalize_object_filtered};
use crate::keys::SigningKey;
use crate::profile::{matches_major, Profile};

/// The literal first link of every chain.
pub const GENESIS: &str = "GENESIS";

/// An envelope with the fields the ar.io profiles define.
///
/// Members this type does not name are kept in `extra`, so a parsed envelope
/// converts back to the same JSON object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Envelope {
    /// Profile and version, e.g. `ario.mlflow/v1`; absent on legacy envelopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_version: Option<String>,
    /// Lowercase UUID v4 naming the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Event type (promoted-disclosure profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// Identity context of the event (promoted-disclosure profiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Value>,
    /// SHA-256 (lowercase hex) of the committed payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_hash: Option<String>,
    /// Previous link of the event's chain, or [`GENESIS`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    /// Producer's clock at signing (advisory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    /// `dev` or `production` (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Ed25519 verify key, 64 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Ed25519 signature, 128 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// Every other member (inline `payload`, `payload_ref`, `co_signatures`, `_*` annotations…).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Envelope {
    /// The envelope as a JSON object.
    pub fn to_value(&self) -> Value {
        // Serializing a struct of strings and JSON values cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Reads an envelope from a JSON value (must be an object).
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }

    /// The canonical (JCS) bytes of the complete envelope: what gets uploaded.
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, crate::jcs::CanonError> {
        canonicalize(&self.to_value())
    }
}

/// True when the `_*` annotation members are outside the signed scope.
///
/// That holds only for `ario.mlflow/v1[.n]` and for legacy envelopes (no or
/// `null` `spec_version`); a non-string `spec_version` keeps them signed.
pub fn strips_annotations(envelope: &Map<String, Value>) -> bool {
    match envelope.get("spec_version") {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => matches_major(s, Profile::Mlflow.major()),
        Some(_) => false,
    }
}

/// The canonical bytes an envelope's signature covers.
pub fn signed_scope_bytes(
    envelope: &Map<String, Value>,
) -> Result<Vec<u8>, crate::jcs::CanonError> {
    let strip = strips_annotations(envelope);
    canonicalize_object_filtered(envelope, |k| {
        k != "signature" && k != "co_signatures" && !(strip && k.starts_with('_'))
    })
}

/// Why an envelope could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// Only JSON objects can be envelopes.
    #[error("envelope is not a JSON object")]
    NotAnObject,
    /// The envelope already carries a signature.
    #[error("envelope is already signed")]
    AlreadySigned,
    /// Neither an inline payload nor a `payload_hash` string.
    #[error("envelope has neither a payload nor a payload_hash")]
    MissingPayloadHash,
    /// The given `payload_hash` does not match the inline payload.
    #[error("payload_hash does not match the inline payload")]
    PayloadHashMismatch,
    /// The given `public_key` is not the signing key's.
    #[error("public_key does not belong to the signing key")]
    PublicKeyMismatch,
    /// `spec_version` is missing or not accepted (see [`SignPolicy`]).
    #[error("spec_version {0:?} is not an accepted profile")]
    UnsupportedSpecVersion(Option<String>),
    /// A member has no canonical form.
    #[error("envelope cannot be canonicalized")]
    Canonical(#[from] crate::jcs::CanonError),
}

/// What [`sign_envelope_with`] lets through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignPolicy {
    /// Producers: only accepted profiles may be signed.
    #[default]
    AcceptedProfilesOnly,
    /// Test vectors: sign legacy and unsupported versions too.
    AnySpecVersion,
}

/// Signs an unsigned envelope for an accepted profile (see [`sign_envelope_with`]).
pub fn sign_envelope(envelope: &Value, key: &SigningKey) -> Result<Value, SignError> {
    sign_envelope_with(envelope, key, SignPolicy::AcceptedProfilesOnly)
}

/// Signs an unsigned envelope and returns the complete envelope.
///
/// Fills `payload_hash` from an inline `payload` (or checks a given one),
/// fills `public_key` (or checks a given one), and signs the canonical signed
/// scope with Ed25519. Deterministic: the same input gives the same bytes.
pub fn sign_envelope_with(
    envelope: &Value,
    key: &SigningKey,
    policy: SignPolicy,
) -> Result<Value, SignError> {
    let Value::Object(env) = envelope else {
        return Err(SignError::NotAnObject);
    };
    let mut env = env.clone();
    if env.contains_key("signature") {
        return Err(SignError::AlreadySigned);
    }
    if policy == SignPolicy::AcceptedProfilesOnly {
        let sv = env.get("spec_version").and_then(Value::as_str);
        if sv.and_then(Profile::of_spec_version).is_none() {
            return Err(SignError::UnsupportedSpecVersion(sv.map(str::to_owned)));
        }
    }
    if let Some(payload) = env.get("payload") {
        let computed = sha256_hex(&canonicalize(payload)?);
        match env.get("payload_hash") {
            None => {
                env.insert("payload_hash".into(), Value::String(computed));
            }
            Some(Value::String(h)) if *h == computed => {}
            Some(_) => return Err(SignError::PayloadHashMismatch),
        }
    } else if !matches!(env.get("payload_hash"), Some(Value::String(_))) {
        return Err(SignError::MissingPayloadHash);
    }
    let public = key.public_key_hex();
    match env.get("public_key") {
        None => {
            env.insert("public_key".into(), Value::String(public));
        }
        Some(Value::String(p)) if p.eq_ignore_ascii_case(&public) => {}
        Some(_) => return Err(SignError::PublicKeyMismatch),
    }
    let message = signed_scope_bytes(&env)?;
    env.insert(
        "signature".into(),
        Value::String(hex::encode(key.sign(&message))),
    );
    Ok(Value::Object(env))
}

pub(crate) use verify::{check_signature, signature_parts, verify_with};
pub use verify::{
    reason_for_json_error, verify_envelope, verify_envelope_bytes, Status, Verdict, VerifyOptions,
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Reason;
    use crate::profile::SpecVersionStatus;
    use serde_json::json;

    fn key() -> SigningKey {
        SigningKey::from_seed_hex(
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )
        .unwrap()
    }

    fn mlflow_unsigned() -> Value {
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

    #[test]
    fn reproduces_the_reference_training_envelope() {
        let signed = sign_envelope(&mlflow_unsigned(), &key()).unwrap();
        assert_eq!(
            signed["signature"],
            "1d8360ca505aa0523262bdbd3b91ca66e93bda1072e0228423d4c8da7a2476fc048e58b38b66bf27875db489fde4d9c79f82f08a12e20f49d91f43057ddcc20e"
        );
        assert_eq!(canonicalize(&signed).unwrap().len(), 570);
        let v = verify_envelope(&signed, VerifyOptions::default());
        assert!(v.ok);
        assert_eq!(v.status, Status::Undetermined);
        assert_eq!(v.payload_hash_ok, None);
        assert_eq!(v.profile, Some(Profile::Mlflow));
    }

    #[test]
    fn annotations_are_outside_the_mlflow_scope_only() {
        let mut signed = sign_envelope(&mlflow_unsigned(), &key()).unwrap();
        signed["_tx_id"] = json!("kJ7vX2pQ8mNcLw9Yb4Tz_Fh1aGdRsE6oWpA1b2C3d4E");
        assert!(verify_envelope(&signed, VerifyOptions::default()).signature_ok);
        signed["spec_version"] = json!("ario.agent/v1");
        assert!(!verify_envelope(&signed, VerifyOptions::default()).signature_ok);
    }

    #[test]
    fn external_binding_tri_state() {
        let signed = sign_envelope(&mlflow_unsigned(), &key()).unwrap();
        let payload = br#"{"k":"v"}"#;
        let v = verify_envelope(
            &signed,
            VerifyOptions {
                payload_bytes: Some(payload),
                ..Default::default()
            },
        );
        assert_eq!(v.payload_hash_ok, Some(false));
        assert_eq!(v.status, Status::Failed);
        assert!(v.has(Reason::PayloadHashMismatch));
    }

    #[test]
    fn legacy_needs_opt_in() {
        let mut unsigned = mlflow_unsigned();
        unsigned.as_object_mut().unwrap().remove("spec_version");
        let signed = sign_envelope_with(&unsigned, &key(), SignPolicy::AnySpecVersion).unwrap();
        let strict = verify_envelope(&signed, VerifyOptions::default());
        assert!(!strict.ok && strict.legacy && strict.has(Reason::MissingSpecVersion));
        let lenient = verify_envelope(
            &signed,
            VerifyOptions {
                allow_legacy: true,
                ..Default::default()
            },
        );
        assert!(lenient.ok && lenient.legacy && lenient.has(Reason::LegacyEnvelope));
        assert_eq!(lenient.spec_version_status, SpecVersionStatus::Legacy);
        assert!(sign_envelope(&unsigned, &key()).is_err());
    }

    #[test]
    fn inline_payload_and_mode_confusion() {
        let unsigned = json!({"spec_version":"ario.agent/v1","event_id":"e","payload":{"a":1}});
        let signed = sign_envelope(&unsigned, &key()).unwrap();
        assert_eq!(
            verify_envelope(&signed, VerifyOptions::default()).status,
            Status::Verified
        );
        let mut stripped = signed.clone();
        stripped.as_object_mut().unwrap().remove("payload");
        let v = verify_envelope(&stripped, VerifyOptions::default());
        assert!(!v.signature_ok);
        let mut tampered = signed;
        tampered["payload"]["a"] = json!(2);
        let v = verify_envelope(&tampered, VerifyOptions::default());
        assert_eq!(v.payload_hash_ok, Some(false));
        assert!(!v.ok);
    }

    #[test]
    fn signing_refuses_inconsistent_input() {
        let k = key();
        let signed = sign_envelope(&mlflow_unsigned(), &k).unwrap();
        assert_eq!(sign_envelope(&signed, &k), Err(SignError::AlreadySigned));
        let mut no_hash = mlflow_unsigned();
        no_hash.as_object_mut().unwrap().remove("payload_hash");
        assert_eq!(
            sign_envelope(&no_hash, &k),
            Err(SignError::MissingPayloadHash)
        );
        let mut wrong_key = mlflow_unsigned();
        wrong_key["public_key"] = json!("00".repeat(32));
        assert_eq!(
            sign_envelope(&wrong_key, &k),
            Err(SignError::PublicKeyMismatch)
        );
        assert_eq!(sign_envelope(&json!([1]), &k), Err(SignError::NotAnObject));
    }

    #[test]
    fn non_objects_and_bad_fields_are_verdicts() {
        for v in [
            json!(null),
            json!([]),
            json!("hello"),
            json!(42),
            json!(true),
        ] {
            let verdict = verify_envelope(&v, VerifyOptions::default());
            assert_eq!(verdict.status, Status::Malformed);
            assert!(verdict.has(Reason::EnvelopeNotAJsonObject));
        }
        let mut signed = sign_envelope(&mlflow_unsigned(), &key()).unwrap();
        signed["signature"] = json!("zz");
        signed["public_key"] = json!(7);
        let v = verify_envelope(&signed, VerifyOptions::default());
        assert!(v.has(Reason::MalformedSignature) && v.has(Reason::MissingPublicKey));
        assert_eq!(v.status, Status::Failed);
    }
}
