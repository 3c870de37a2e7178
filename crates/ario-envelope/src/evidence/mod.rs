//! `ario.evidence/v1` bundles: the signed wrapper, `ario.anchor.trace/v1`
//! bodies and `ario.evidence.export/v1` attested exports.
//!
//! The verdict a bundle carries is never trusted: it is recomputed, and a
//! disagreement fails the bundle. On-chain re-fetching is delegated to a
//! caller-supplied [`OnChainFetch`]; this module performs no I/O itself.

mod export;
mod trace;

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::encoding::{hex_decode_array, sha256_hex};
use crate::jcs::{canonicalize, canonicalize_object_filtered};
use crate::json::{exceeds_depth, MAX_DEPTH};
use crate::profile::matches_major;

pub use export::{AttestationResult, ExportResult};
pub use trace::{content_hashes, CheckpointResult, EventResult, OnChain};

/// `spec_version` major of the evidence wrapper.
pub const EVIDENCE_MAJOR: &str = "ario.evidence/v1";
/// Body type of an anchor trace.
pub const BODY_ANCHOR_TRACE: &str = "ario.anchor.trace/v1";
/// Body type of an attested evidence export.
pub const BODY_EXPORT: &str = "ario.evidence.export/v1";

/// Outcome of an evidence bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceStatus {
    /// Every check ran and passed.
    Verified,
    /// Nothing failed, but something could not be determined.
    Partial,
    /// A check ran and failed.
    Failed,
    /// The bundle could not be read.
    Malformed,
}

impl EvidenceStatus {
    /// Wire name (`verified`, `partial`, `failed`, `malformed`).
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceStatus::Verified => "verified",
            EvidenceStatus::Partial => "partial",
            EvidenceStatus::Failed => "failed",
            EvidenceStatus::Malformed => "malformed",
        }
    }
}

/// Re-fetches an anchored checkpoint envelope from a gateway.
pub trait OnChainFetch {
    /// The bytes served by `gateway` for `tx_id`, or `None` when unreachable
    /// (transport error, no answer, non-2xx).
    fn fetch(&self, gateway: &str, tx_id: &str) -> Option<Vec<u8>>;
}

/// Inputs besides the bundle.
#[derive(Default)]
pub struct EvidenceOptions<'a> {
    /// Gateways to re-fetch checkpoints from (none: offline verification).
    pub gateways: Vec<String>,
    /// How to fetch; gateways without a fetcher make the on-chain check undetermined.
    pub fetcher: Option<&'a dyn OnChainFetch>,
    /// Disclosed raw content by event id (the `--logs` side input).
    pub content: BTreeMap<String, Vec<u8>>,
}

/// The result of verifying an evidence bundle.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceResult {
    /// Overall outcome.
    pub status: EvidenceStatus,
    /// Whether `spec_version` is `ario.evidence/v1[.n]`.
    pub spec_version_ok: bool,
    /// Whether the wrapper's Ed25519 signature verified.
    pub signature_ok: bool,
    /// Whether `body_hash` matches the body.
    pub body_hash_ok: bool,
    /// The declared body type, if a string.
    pub body_type: Option<String>,
    /// Per-checkpoint results (anchor-trace bodies, or an export's source).
    pub checkpoints: Vec<CheckpointResult>,
    /// Per-event results (anchor-trace bodies, or an export's source).
    pub events: Vec<EventResult>,
    /// The export block, for export bodies that could be evaluated.
    pub export: Option<ExportResult>,
    /// Human-readable notes and errors.
    pub errors: Vec<String>,
    /// True when something could not be decided for lack of network or side
    /// input (no reachable gateway, a referenced source bundle).
    pub io_undetermined: bool,
}

impl EvidenceResult {
    fn malformed(spec_version_ok: bool, error: impl Into<String>) -> Self {
        EvidenceResult {
            status: EvidenceStatus::Malformed,
            spec_version_ok,
            signature_ok: false,
            body_hash_ok: false,
            body_type: None,
            checkpoints: vec![],
            events: vec![],
            export: None,
            errors: vec![error.into()],
            io_undetermined: false,
        }
    }

    /// Exit code: 0 verified (or partial for withheld material), 1 failed,
    /// 2 malformed, 3 undetermined for lack of network or side input.
    pub fn exit_code(&self) -> i32 {
        match self.status {
            EvidenceStatus::Failed => 1,
            EvidenceStatus::Malformed => 2,
            EvidenceStatus::Partial if self.io_undetermined => 3,
            _ => 0,
        }
    }
}

/// Verifies evidence bundle bytes: strict parse (a refusal is `malformed`),
/// then [`verify_evidence_bundle`].
pub fn verify_evidence_bytes(bytes: &[u8], opts: &EvidenceOptions<'_>) -> EvidenceResult {
    match crate::json::parse(bytes) {
        Ok(v) => verify_evidence_bundle(&v, opts),
        Err(e) => {
            EvidenceResult::malformed(false, format!("evidence bundle is not strict JSON: {e}"))
        }
    }
}

/// Verifies an evidence bundle (wrapper, then its body).
pub fn verify_evidence_bundle(bundle: &Value, opts: &EvidenceOptions<'_>) -> EvidenceResult {
    let Value::Object(b) = bundle else {
        return EvidenceResult::malformed(false, "evidence bundle is not a JSON object");
    };
    if exceeds_depth(bundle, MAX_DEPTH) {
        return EvidenceResult::malformed(
            false,
            format!("evidence bundle nesting exceeds the {MAX_DEPTH}-level canonicalization depth bound"),
        );
    }
    let spec_ok = b
        .get("spec_version")
        .and_then(Value::as_str)
        .is_some_and(|s| matches_major(s, EVIDENCE_MAJOR));
    if !spec_ok {
        return EvidenceResult::malformed(false, "unsupported evidence spec_version");
    }
    if let Some(Value::String(alg)) = b.get("signature_alg") {
        if alg != "ed25519" {
            return EvidenceResult::malformed(true, format!("unsupported signature_alg {alg:?}"));
        }
    }
    let (Some(Value::String(public_key)), Some(Value::String(signature))) =
        (b.get("public_key"), b.get("signature"))
    else {
        return EvidenceResult::malformed(true, "public_key and signature must be strings");
    };
    let Some(Value::String(body_hash)) = b.get("body_hash") else {
        return EvidenceResult::malformed(true, "body_hash must be a string");
    };
    let body = match b.get("body") {
        None | Some(Value::Null) => {
            return EvidenceResult::malformed(true, "body is absent (body_ref unsupported here)");
        }
        Some(body) => body,
    };
    let body_hash_ok = canonicalize(body).is_ok_and(|c| sha256_hex(&c) == *body_hash);
    let signature_ok = ed25519_over_wrapper(b, public_key, signature);
    let body_type = b
        .get("body_type")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut result = EvidenceResult {
        status: EvidenceStatus::Failed,
        spec_version_ok: true,
        signature_ok,
        body_hash_ok,
        body_type: body_type.clone(),
        checkpoints: vec![],
        events: vec![],
        export: None,
        errors: vec![],
        io_undetermined: false,
    };
    if !signature_ok {
        result
            .errors
            .push("wrapper signature does not verify".into());
    }
    if !body_hash_ok {
        result
            .errors
            .push("body_hash does not match the body".into());
    }
    if !signature_ok || !body_hash_ok {
        return result;
    }
    match body_type.as_deref() {
        Some(BODY_EXPORT) => export::verify_export_body(b, body, opts, result),
        Some(BODY_ANCHOR_TRACE) => trace::verify_trace_body(body, opts, result),
        other => {
            result.status = EvidenceStatus::Partial;
            result.errors.push(format!(
                "body_type {:?} is not verifiable by this kernel; wrapper signature and body hash verified",
                other.unwrap_or("<none>")
            ));
            result
        }
    }
}

fn ed25519_over_wrapper(b: &Map<String, Value>, public_key: &str, signature: &str) -> bool {
    let (Ok(key), Ok(sig)) = (
        hex_decode_array::<32>(public_key),
        hex_decode_array::<64>(signature),
    ) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&key) else {
        return false;
    };
    let Ok(message) = canonicalize_object_filtered(b, |k| k != "signature" && k != "co_signatures")
    else {
        return false;
    };
    key.verify_strict(&message, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}
