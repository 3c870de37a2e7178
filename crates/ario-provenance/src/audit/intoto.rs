//! The audit as an in-toto Statement v1 (subjects: the model files and
//! their SHA-256 digests; predicate: the lineage with its transactions),
//! optionally wrapped in a DSSE envelope signed with our Ed25519 key.

use base64::Engine as _;
use serde_json::{json, Map, Value};

use super::Audit;
use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;

/// The Statement's `_type`.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
/// Our predicate's type.
pub const PREDICATE_TYPE: &str = "https://ar.io/mlflow/lineage/v1";
/// DSSE `payloadType` of an in-toto Statement.
pub const DSSE_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// Why no Statement can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no in-toto subject for {model}/v{version}: the model files were not re-hashed, or differ from their anchored digests")]
pub struct NoSubject {
    /// Registered model.
    pub model: String,
    /// Version.
    pub version: String,
}

fn subjects(audit: &Audit) -> Result<Vec<Value>, NoSubject> {
    let none = || NoSubject {
        model: audit.model.clone(),
        version: audit.version.clone(),
    };
    // Only files that match their anchored digests are attested: a statement
    // must not bind the lineage to files that changed since.
    if audit.artifact_integrity.ok != Some(true) {
        return Err(none());
    }
    let files: Vec<Value> = audit
        .artifact_integrity
        .digests()
        .into_iter()
        .map(|(path, d)| json!({"name": path, "digest": {"sha256": d}}))
        .collect();
    if files.is_empty() {
        return Err(none());
    }
    Ok(files)
}

/// The Statement. `link` gives a transaction's gateway URL.
pub fn statement(audit: &Audit, link: &dyn Fn(&str) -> String) -> Result<Value, NoSubject> {
    let lineage: Vec<Value> = audit
        .stages
        .iter()
        .map(|s| {
            let mut m = Map::new();
            m.insert("stage".into(), s.stage.stage_name().into());
            m.insert("event_type".into(), s.stage.wire_name().into());
            m.insert("detail".into(), s.detail.clone().into());
            m.insert("anchored".into(), s.anchored.into());
            if let Some(tx) = &s.tx_id {
                m.insert("tx_id".into(), tx.clone().into());
                m.insert("url".into(), link(tx).into());
            }
            if let Some(e) = &s.event_id {
                m.insert("event_id".into(), e.clone().into());
            }
            if let Some(t) = &s.signed_at {
                m.insert("signed_at".into(), t.clone().into());
            }
            m.insert(
                "status".into(),
                serde_json::to_value(s.status).unwrap_or(Value::Null),
            );
            Value::Object(m)
        })
        .collect();
    Ok(json!({
        "_type": STATEMENT_TYPE,
        "subject": subjects(audit)?,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "model": {
                "name": audit.model,
                "version": audit.version,
                "run_id": audit.run_id,
                "current_stage": audit.current_stage,
                "aliases": audit.aliases,
                "artifact_hash": audit.artifact_hash,
                "tracking_uri": audit.tracking_uri,
            },
            "lineage": lineage,
            "artifact_integrity": {
                "anchored": audit.artifact_integrity.expected,
                "computed": audit.artifact_integrity.computed,
                "ok": audit.artifact_integrity.ok,
            },
            "decisions": {
                "total": audit.decisions.total,
                "audited": audit.decisions.audited,
                "verified": audit.decisions.verified,
            },
            "verification": {
                "overall": audit.overall,
                "overall_ok": audit.overall_ok,
                "generated_at": audit.generated_at,
                "verifier": format!("ar-io-mlflow (Rust) {}", crate::pipeline::APP_VERSION),
            },
        }
    }))
}

/// DSSE's pre-authentication encoding: `DSSEv1 <len type> <type> <len body> <body>`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Anchorer {
    /// A DSSE envelope over `statement` (its JCS bytes), signed with our key;
    /// the signature's `keyid` is the public key in hex.
    pub fn dsse(&self, statement: &Value) -> Result<Value, ProvenanceError> {
        let payload = ario_envelope::jcs::canonicalize(statement)?;
        let sig = self.parts.key.sign(&pae(DSSE_PAYLOAD_TYPE, &payload));
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(json!({
            "payloadType": DSSE_PAYLOAD_TYPE,
            "payload": b64.encode(&payload),
            "signatures": [{"keyid": self.public_key_hex(), "sig": b64.encode(sig)}],
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_is_the_dsse_v1_encoding() {
        // The DSSE specification's own example.
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
