//! Verifying an envelope into a [`Verdict`]: its form, profile, payload
//! binding and Ed25519 signature.

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Serialize;
use serde_json::{Map, Value};

use super::signed_scope_bytes;
use crate::codes::Reason;
use crate::encoding::{hex_decode_array, sha256_hex};
use crate::jcs::canonicalize;
use crate::json::JsonError;
use crate::profile::{Profile, SpecVersionStatus};

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
