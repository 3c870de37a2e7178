//! `ario.evidence.export/v1` bodies: source linkage, operator attestations,
//! and the recomputed `ario.evidence.verdict/v1` object.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{json, Map, Value};

use super::trace::{CheckpointResult, EventResult};
use super::{verify_evidence_bundle, EvidenceOptions, EvidenceResult, EvidenceStatus};
use crate::encoding::sha256_hex;
use crate::jcs::canonicalize;
use crate::rsa_pss::{operator_address, verify_rsa_pss_sha256, RsaJwk};

/// Result for one operator attestation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttestationResult {
    /// The checkpoint the attestation names.
    pub checkpoint_tx_id: Option<String>,
    /// `payload.operator` ("" when not a string).
    pub operator: String,
    /// `payload.gateway`, when a string.
    pub gateway: Option<String>,
    /// `payload.level`, when an integer (advisory).
    pub level: Option<i64>,
    /// RSA-PSS-SHA256 (salt 32, e = 65537) over `JCS(payload)`.
    pub signature_ok: bool,
    /// `operator` is the address of the signing key.
    pub operator_address_bound: bool,
    /// `data_hash` is the hash of the named checkpoint's envelope.
    pub data_hash_bound: bool,
    /// The named checkpoint is in the source bundle.
    pub checkpoint_resolved: bool,
    /// Subject reference check; no subject channel exists in v1, so always `None`.
    pub subject_ref_ok: Option<bool>,
    /// All determined checks passed.
    pub ok: bool,
}

/// The export block of an evidence result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportResult {
    /// The inline source bundle hashes to `source_bundle_hash`.
    pub source_linkage_ok: bool,
    /// Status of the recursively verified source bundle.
    pub source_status: EvidenceStatus,
    /// The cached `kernel_verdict` agrees with the recomputed verdict.
    pub verdict_agreement_ok: bool,
    /// Per-attestation results, in record order.
    pub attestations: Vec<AttestationResult>,
    /// The recomputed `ario.evidence.verdict/v1` object.
    pub verdict: Value,
    /// Export status.
    pub status: EvidenceStatus,
}

fn export_malformed(mut r: EvidenceResult, why: impl Into<String>) -> EvidenceResult {
    r.status = EvidenceStatus::Malformed;
    r.errors.push(why.into());
    r
}

pub(super) fn verify_export_body(
    wrapper: &Map<String, Value>,
    body: &Value,
    opts: &EvidenceOptions<'_>,
    mut result: EvidenceResult,
) -> EvidenceResult {
    let Value::Object(body) = body else {
        return export_malformed(result, "export body is not an object");
    };
    let (
        Some(Value::String(source_hash)),
        Some(Value::Array(records)),
        Some(cached @ Value::Object(_)),
    ) = (
        body.get("source_bundle_hash"),
        body.get("attestations"),
        body.get("kernel_verdict"),
    )
    else {
        return export_malformed(
            result,
            "export body needs source_bundle_hash, attestations[] and kernel_verdict{}",
        );
    };
    let source_bundle = match body.get("source_bundle") {
        None | Some(Value::Null) => {
            result.status = EvidenceStatus::Partial;
            result.io_undetermined = true;
            result.errors.push(
                "source_bundle is not inline (source_bundle_ref) — bytes unavailable offline; source-dependent checks undetermined"
                    .into(),
            );
            return result;
        }
        Some(s) => s,
    };
    let source_linkage_ok =
        canonicalize(source_bundle).is_ok_and(|c| sha256_hex(&c) == *source_hash);
    let source = verify_evidence_bundle(source_bundle, opts);

    let mut by_tx: BTreeMap<&str, &Value> = BTreeMap::new();
    if let Some(Value::Array(cps)) = source_bundle.get("body").and_then(|b| b.get("checkpoints")) {
        for cp in cps {
            if let Some(tx) = cp.get("tx_id").and_then(Value::as_str) {
                by_tx.insert(tx, cp);
            }
        }
    }

    let mut attestations = Vec::with_capacity(records.len());
    for (i, rec) in records.iter().enumerate() {
        match check_attestation(rec, &by_tx) {
            Ok(a) => attestations.push(a),
            Err(why) => return export_malformed(result, format!("attestation {i}: {why}")),
        }
    }

    let as_of = wrapper.get("generated_at").and_then(Value::as_str);
    let mut verdict = build_verdict(&source.events, &source.checkpoints, &attestations, as_of);
    let verdict_agreement_ok =
        canonicalize(&project(cached)).ok() == canonicalize(&project(&verdict)).ok();

    result
        .errors
        .extend(source.errors.iter().map(|e| format!("source: {e}")));
    result.io_undetermined |= source.io_undetermined;
    let failed = !source_linkage_ok
        || !verdict_agreement_ok
        || matches!(
            source.status,
            EvidenceStatus::Failed | EvidenceStatus::Malformed
        )
        || attestations.iter().any(|a| !a.ok);
    let status = if failed {
        EvidenceStatus::Failed
    } else if source.status == EvidenceStatus::Partial {
        EvidenceStatus::Partial
    } else {
        EvidenceStatus::Verified
    };
    if !source_linkage_ok {
        result
            .errors
            .push("source bundle does not hash to source_bundle_hash".into());
    }
    if !verdict_agreement_ok {
        result.errors.push(
            "cached kernel_verdict disagrees with the recomputed verdict (recomputed wins)".into(),
        );
    }
    let ok_count = attestations.iter().filter(|a| a.ok).count();
    verdict["status"] = json!(status.as_str());
    verdict["summary"] = json!(format!(
        "Export {}: source bundle {} ({} event(s) across {} checkpoint(s)); {}/{} operator attestation(s) valid.",
        status.as_str(),
        source.status.as_str(),
        source.events.len(),
        source.checkpoints.len(),
        ok_count,
        attestations.len()
    ));
    result.status = status;
    result.checkpoints = source.checkpoints;
    result.events = source.events;
    result.export = Some(ExportResult {
        source_linkage_ok,
        source_status: source.status,
        verdict_agreement_ok,
        attestations,
        verdict,
        status,
    });
    result
}

fn check_attestation(
    rec: &Value,
    by_tx: &BTreeMap<&str, &Value>,
) -> Result<AttestationResult, &'static str> {
    let rec = rec.as_object().ok_or("record is not an object")?;
    let payload = rec
        .get("payload")
        .filter(|p| p.is_object())
        .ok_or("payload is not an object")?;
    if rec.get("signature_alg").and_then(Value::as_str) != Some("rsa-pss-sha256") {
        return Err("signature_alg is not rsa-pss-sha256");
    }
    let key = RsaJwk::from_value(rec.get("public_key").unwrap_or(&Value::Null))
        .map_err(|_| "public_key is not an RSA JWK")?;
    let signature = rec
        .get("signature")
        .and_then(Value::as_str)
        .ok_or("signature is not a string")?;
    let message = canonicalize(payload).map_err(|_| "payload has no canonical form")?;
    let signature_ok = verify_rsa_pss_sha256(&message, signature, &key)
        .map_err(|_| "signature or key is malformed")?;
    let operator = payload
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let operator_address_bound =
        !operator.is_empty() && operator_address(&key.n).is_ok_and(|a| a == operator);
    let checkpoint_tx_id = rec
        .get("checkpoint_tx_id")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let cp = checkpoint_tx_id.as_deref().and_then(|t| by_tx.get(t));
    let checkpoint_resolved = cp.is_some();
    let data_hash_bound = match (cp, payload.get("data_hash").and_then(Value::as_str)) {
        (Some(cp), Some(h)) if !h.is_empty() => {
            canonicalize(cp.get("envelope").unwrap_or(&Value::Null))
                .is_ok_and(|c| h.to_ascii_lowercase() == sha256_hex(&c))
        }
        _ => false,
    };
    let level = payload
        .get("level")
        .filter(|l| l.is_i64() || l.is_u64())
        .and_then(Value::as_i64);
    Ok(AttestationResult {
        checkpoint_tx_id,
        operator,
        gateway: payload
            .get("gateway")
            .and_then(Value::as_str)
            .map(str::to_owned),
        level,
        signature_ok,
        operator_address_bound,
        data_hash_bound,
        checkpoint_resolved,
        subject_ref_ok: None,
        ok: signature_ok && operator_address_bound && data_hash_bound && checkpoint_resolved,
    })
}

fn event_status(e: &EventResult) -> &'static str {
    if !e.ok {
        "failed"
    } else if e.payload_binding_ok.is_none() {
        "partial"
    } else {
        "verified"
    }
}

/// Builds the `ario.evidence.verdict/v1` object (status and summary filled by the caller).
fn build_verdict(
    events: &[EventResult],
    checkpoints: &[CheckpointResult],
    attestations: &[AttestationResult],
    as_of: Option<&str>,
) -> Value {
    let (mut v, mut f, mut u) = (0u64, 0u64, 0u64);
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            let status = event_status(e);
            match status {
                "verified" => v += 1,
                "failed" => f += 1,
                _ => u += 1,
            }
            json!({
                "event_id": e.event_id,
                "signature_ok": e.envelope_ok,
                "payload_bound": e.payload_binding_ok,
                "inclusion_ok": e.inclusion_ok,
                "content_ok": e.content_ok,
                "status": status,
            })
        })
        .collect();
    for a in attestations {
        if a.ok {
            v += 1;
        } else {
            f += 1;
        }
    }
    let checkpoints: Vec<Value> = checkpoints
        .iter()
        .map(|c| {
            let atts: Vec<Value> = attestations
                .iter()
                .filter(|a| a.checkpoint_tx_id.as_deref() == Some(c.tx_id.as_str()))
                .map(|a| {
                    let mut o = json!({
                        "operator": a.operator,
                        "signature_ok": a.signature_ok,
                        "operator_address_bound": a.operator_address_bound,
                        "data_hash_bound": a.data_hash_bound,
                        "subject_ref_ok": a.subject_ref_ok,
                    });
                    if let Some(g) = a.gateway.as_deref().filter(|g| !g.is_empty()) {
                        o["gateway"] = json!(g);
                    }
                    if let Some(l) = a.level {
                        o["level"] = json!(l);
                    }
                    o
                })
                .collect();
            let on_chain = c.on_chain.as_ref().map_or(Value::Null, |oc| {
                json!({
                    "rollup": oc.rollup,
                    "on_chain_ok": oc.on_chain_ok,
                    "per_gateway": oc.per_gateway.iter().map(|(g, o)| json!({"gateway": g, "outcome": o})).collect::<Vec<_>>(),
                })
            });
            json!({
                "checkpoint_tx_id": c.tx_id,
                "merkle_root_ok": c.merkle_root_ok,
                "on_chain": on_chain,
                "attestations": atts,
            })
        })
        .collect();
    let mut verdict = json!({
        "schema_version": "ario.evidence.verdict/v1",
        "status": Value::Null,
        "summary": Value::Null,
        "counts": {"verified": v, "failed": f, "undetermined": u},
        "events": events,
        "checkpoints": checkpoints,
        "custody_chain": Value::Null,
    });
    if let Some(t) = as_of {
        verdict["as_of"] = json!(t);
    }
    verdict
}

/// The part of a verdict that must agree between the cached and recomputed copies.
fn project(v: &Value) -> Value {
    let field = |o: &Value, k: &str| {
        o.as_object()
            .and_then(|m| m.get(k))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let list = |o: &Value, k: &str| match o.get(k) {
        Some(Value::Array(a)) => a.clone(),
        _ => vec![],
    };
    let pick = |o: &Value, keys: &[&str]| {
        Value::Object(
            keys.iter()
                .map(|k| ((*k).to_owned(), field(o, k)))
                .collect(),
        )
    };
    let schema_version = v
        .get("schema_version")
        .filter(|s| s.is_string())
        .cloned()
        .unwrap_or(Value::Null);
    let events: Vec<Value> = list(v, "events")
        .iter()
        .map(|e| {
            pick(
                e,
                &[
                    "event_id",
                    "signature_ok",
                    "payload_bound",
                    "inclusion_ok",
                    "content_ok",
                ],
            )
        })
        .collect();
    let checkpoints: Vec<Value> = list(v, "checkpoints")
        .iter()
        .map(|c| {
            let mut o = pick(c, &["checkpoint_tx_id", "merkle_root_ok"]);
            let atts: Vec<Value> = list(c, "attestations")
                .iter()
                .map(|a| {
                    pick(
                        a,
                        &[
                            "operator",
                            "signature_ok",
                            "operator_address_bound",
                            "data_hash_bound",
                            "subject_ref_ok",
                        ],
                    )
                })
                .collect();
            o["attestations"] = Value::Array(atts);
            o
        })
        .collect();
    json!({"schema_version": schema_version, "events": events, "checkpoints": checkpoints})
}
