//! The signed envelope: typed form, signing, and verification into a [`Verdict`].

use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codes::Reason;
use crate::encoding::{hex_decode_array, sha256_hex};
use crate::jcs::{canonicalize, canonicalize_object_filtered};
use crate::json::JsonError;
use crate::keys::SigningKey;
use crate::profile::{matches_major, Profile, SpecVersionStatus};

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

/// Overall outcome of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every check ran and passed.
    Verified,
    /// A check ran and failed.
    Failed,
    /// Nothing failed, but a check could not run (never reported as verified).
    Undetermined,
    /// The input could not be read under the kernel's rules.
    Malformed,
}

impl Status {
    /// The offline-verify exit code: 0 verified, 1 failed, 2 malformed, 3 undetermined.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Verified => 0,
            Status::Failed => 1,
            Status::Malformed => 2,
            Status::Undetermined => 3,
        }
    }
}

/// The result of verifying one envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Overall outcome (stricter than `ok`: needs a determined payload binding).
    pub status: Status,
    /// The kernels' shared rule: spec accepted, signature valid, binding not false.
    pub ok: bool,
    /// Where `spec_version` stands.
    pub spec_version_status: SpecVersionStatus,
    /// The accepted profile, when there is one.
    pub profile: Option<Profile>,
    /// Whether the Ed25519 signature verified over the signed scope.
    pub signature_ok: bool,
    /// Payload binding: `Some(true)` bound, `Some(false)` broken, `None` undetermined.
    pub payload_hash_ok: Option<bool>,
    /// True for envelopes without `spec_version`.
    pub legacy: bool,
    /// Every reason observed, in check order.
    pub reasons: Vec<Reason>,
}

impl Verdict {
    pub(crate) fn malformed(reason: Reason) -> Self {
        Verdict {
            status: Status::Malformed,
            ok: false,
            spec_version_status: SpecVersionStatus::Unsupported,
            profile: None,
            signature_ok: false,
            payload_hash_ok: None,
            legacy: false,
            reasons: vec![reason],
        }
    }

    /// The verdict for bytes the strict JSON reader refused.
    pub fn from_json_error(err: &JsonError) -> Self {
        Self::malformed(reason_for_json_error(err))
    }

    /// True when `reason` was observed.
    pub fn has(&self, reason: Reason) -> bool {
        self.reasons.contains(&reason)
    }
}

/// The reason code for a strict-reader refusal.
pub fn reason_for_json_error(err: &JsonError) -> Reason {
    match err {
        JsonError::DuplicateKey { .. } => Reason::DuplicateKey,
        JsonError::LoneSurrogate { .. } => Reason::LoneSurrogate,
        JsonError::DepthExceeded { .. } => Reason::DepthExceeded,
        JsonError::NumberOutOfRange { .. } => Reason::NumberOutOfRange,
        _ => Reason::InvalidJson,
    }
}

/// What the verifier is given besides the envelope.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// The externally committed bytes (e.g. `ario/payload.json`), if at hand.
    pub payload_bytes: Option<&'a [u8]>,
    /// Accept envelopes without `spec_version` (pre-0.2.0 mlflow envelopes).
    pub allow_legacy: bool,
}

/// Verifies envelope bytes: strict parse, then [`verify_envelope`].
pub fn verify_envelope_bytes(bytes: &[u8], opts: VerifyOptions<'_>) -> Verdict {
    match crate::json::parse(bytes) {
        Ok(v) => verify_envelope(&v, opts),
        Err(e) => Verdict::from_json_error(&e),
    }
}

/// Verifies a parsed envelope. Never panics; every problem is in the verdict.
pub fn verify_envelope(envelope: &Value, opts: VerifyOptions<'_>) -> Verdict {
    verify_with(envelope, opts, check_signature)
}

/// [`verify_envelope`] with the signature decided by `signature` (which
/// records its reasons), so a caller can check many signatures at once.
pub(crate) fn verify_with(
    envelope: &Value,
    opts: VerifyOptions<'_>,
    signature: impl FnOnce(&Map<String, Value>, &mut Vec<Reason>) -> bool,
) -> Verdict {
    let Value::Object(env) = envelope else {
        return Verdict::malformed(Reason::EnvelopeNotAJsonObject);
    };
    let mut reasons = Vec::new();

    // 1. spec_version
    let (spec_status, profile, spec_ok, legacy) = match env.get("spec_version") {
        None | Some(Value::Null) => {
            if opts.allow_legacy {
                reasons.push(Reason::LegacyEnvelope);
            } else {
                reasons.push(Reason::MissingSpecVersion);
            }
            (SpecVersionStatus::Legacy, None, opts.allow_legacy, true)
        }
        Some(Value::String(s)) => match Profile::of_spec_version(s) {
            Some(p) => (SpecVersionStatus::Supported, Some(p), true, false),
            None => {
                reasons.push(Reason::UnsupportedSpecVersion);
                (SpecVersionStatus::Unsupported, None, false, false)
            }
        },
        Some(_) => {
            reasons.push(Reason::UnsupportedSpecVersion);
            (SpecVersionStatus::Unsupported, None, false, false)
        }
    };

    // 2. payload binding
    let payload_hash_ok = match env.get("payload_hash") {
        Some(Value::String(expected)) => {
            let mut checks = Vec::with_capacity(2);
            if let Some(payload) = env.get("payload") {
                match canonicalize(payload) {
                    Ok(bytes) => checks.push(sha256_hex(&bytes) == *expected),
                    Err(_) => {
                        reasons.push(Reason::CanonicalizationFailed);
                        checks.push(false);
                    }
                }
            }
            if let Some(bytes) = opts.payload_bytes {
                checks.push(sha256_hex(bytes) == *expected);
            }
            if checks.is_empty() {
                reasons.push(Reason::PayloadNotSupplied);
                None
            } else {
                let all = checks.iter().all(|&c| c);
                if !all {
                    reasons.push(Reason::PayloadHashMismatch);
                }
                Some(all)
            }
        }
        _ => {
            reasons.push(Reason::MissingPayloadHash);
            Some(false)
        }
    };

    // 3. signature
    let signature_ok = signature(env, &mut reasons);

    let ok = spec_ok && signature_ok && payload_hash_ok != Some(false);
    let status = if !ok {
        Status::Failed
    } else if payload_hash_ok.is_none() {
        Status::Undetermined
    } else {
        Status::Verified
    };
    Verdict {
        status,
        ok,
        spec_version_status: spec_status,
        profile,
        signature_ok,
        payload_hash_ok,
        legacy,
        reasons,
    }
}

/// The key, signature and signed-scope bytes of an envelope, or the reason
/// they cannot be had (pushed to `reasons`).
pub(crate) fn signature_parts(
    env: &Map<String, Value>,
    reasons: &mut Vec<Reason>,
) -> Option<(VerifyingKey, Signature, Vec<u8>)> {
    let key = match env.get("public_key") {
        Some(Value::String(k)) => match hex_decode_array::<32>(k)
            .ok()
            .and_then(|b| VerifyingKey::from_bytes(&b).ok())
        {
            Some(key) => Some(key),
            None => {
                reasons.push(Reason::MalformedPublicKey);
                None
            }
        },
        _ => {
            reasons.push(Reason::MissingPublicKey);
            None
        }
    };
    let sig = match env.get("signature") {
        Some(Value::String(s)) => match hex_decode_array::<64>(s) {
            Ok(b) => Some(Signature::from_bytes(&b)),
            Err(_) => {
                reasons.push(Reason::MalformedSignature);
                None
            }
        },
        _ => {
            reasons.push(Reason::MissingSignature);
            None
        }
    };
    let (key, sig) = (key?, sig?);
    match signed_scope_bytes(env) {
        Ok(m) => Some((key, sig, m)),
        Err(_) => {
            reasons.push(Reason::CanonicalizationFailed);
            None
        }
    }
}

/// `verify_strict` of one envelope's signature.
pub(crate) fn check_signature(env: &Map<String, Value>, reasons: &mut Vec<Reason>) -> bool {
    let Some((key, sig, message)) = signature_parts(env, reasons) else {
        return false;
    };
    if key.verify_strict(&message, &sig).is_ok() {
        true
    } else {
        reasons.push(Reason::SignatureInvalid);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
