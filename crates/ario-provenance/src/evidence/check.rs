//! Re-checking a bundle with nothing but its bytes (and, optionally, a
//! trust policy): the wrapper, then each stage's envelope, payload binding,
//! subject, re-derivation from the bundle's MLflow facts, chain link and
//! signer.

use std::collections::BTreeMap;

use ario_envelope::envelope::{verify_envelope, VerifyOptions, GENESIS};
use ario_envelope::evidence::{verify_evidence_bundle, EvidenceOptions};
use serde::Serialize;
use serde_json::Value;

use super::BODY_TYPE;
use crate::event::{EventKind, Subject};
use crate::payload::{self, DatasetRecord};
use crate::trust::TrustPolicy;
use crate::verify::verdict::{row, status_of_rows, Outcome, Row, Status};

/// Appended to the detail of rows that rest on the bundle's copy of MLflow
/// facts rather than on a live server.
pub const FROM_BUNDLE: &str = "(from the bundle's MLflow facts, not a live server)";

/// One stage, re-checked.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    /// Stage name (`training`, `registration`, …).
    pub stage: String,
    /// What it is.
    pub detail: String,
    /// Its transaction.
    pub tx_id: Option<String>,
    /// The panel.
    pub rows: Vec<Row>,
    /// Computed from the rows.
    pub status: Status,
}

/// A whole bundle, re-checked.
#[derive(Debug, Clone, Serialize)]
pub struct BundleReport {
    /// The wrapper's rows (format, body hash, issuer signature).
    pub bundle_rows: Vec<Row>,
    /// The model version it is about.
    pub model: Option<String>,
    /// Each stage.
    pub stages: Vec<StageReport>,
    /// Failed when anything failed, verified when every decisive row passed.
    pub status: Status,
}

pub(super) fn pass_fail(
    label: &str,
    ok: bool,
    yes: impl Into<String>,
    no: impl Into<String>,
) -> Row {
    if ok {
        row(label, Outcome::Pass, yes, true)
    } else {
        row(label, Outcome::Fail, no, true)
    }
}

pub(super) fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// Re-checks a bundle offline.
pub fn check_bundle(bundle: &Value, trust: Option<&TrustPolicy>) -> BundleReport {
    let w = verify_evidence_bundle(bundle, &EvidenceOptions::default());
    let body_type_ok = w.body_type.as_deref() == Some(BODY_TYPE);
    let bundle_rows = vec![
        pass_fail(
            "Bundle Format",
            w.spec_version_ok && body_type_ok,
            "ario.evidence/v1 with an ario.mlflow.evidence/v1 body",
            format!(
                "spec_version ok: {}, body_type {:?}",
                w.spec_version_ok, w.body_type
            ),
        ),
        pass_fail(
            "Body Hash",
            w.body_hash_ok,
            "body_hash = SHA-256(JCS(body))",
            "the body is not what body_hash commits to",
        ),
        pass_fail(
            "Issuer Signature",
            w.signature_ok,
            "Ed25519 over the bundle verifies",
            "the bundle's Ed25519 signature does not verify",
        ),
    ];
    let body = bundle.get("body").cloned().unwrap_or(Value::Null);
    let stages_json = body
        .get("stages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let txs: BTreeMap<String, String> = stages_json
        .iter()
        .filter_map(|st| Some((s(st, "stage")?.to_owned(), s(st, "tx_id")?.to_owned())))
        .collect();
    let digests: Vec<&str> = body
        .get("stage_digests")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let stages: Vec<StageReport> = stages_json
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let mut r = check_stage(st, &body, &txs, trust);
            r.rows.insert(0, digest_row(st, digests.get(i).copied()));
            r.status = status_of_rows(&r.rows);
            r
        })
        .collect();
    let mut all: Vec<Row> = bundle_rows.clone();
    for st in &stages {
        all.extend(st.rows.iter().cloned());
    }
    let status = if stages.is_empty() {
        Status::NotAnchored
    } else {
        status_of_rows(&all)
    };
    BundleReport {
        bundle_rows,
        model: s(&body, "model").map(|m| format!("{m}/v{}", s(&body, "version").unwrap_or("?"))),
        stages,
        status,
    }
}

/// An envelope's signature, and its binding to the payload bytes carried
/// beside it.
pub(super) fn envelope_rows(envelope: &Value, payload: Option<&[u8]>) -> [Row; 2] {
    let verdict = verify_envelope(
        envelope,
        VerifyOptions {
            payload_bytes: payload,
            allow_legacy: false,
        },
    );
    [
        pass_fail(
            "Signature Confirmed",
            verdict.signature_ok,
            "signature valid",
            format!("the envelope does not verify: {:?}", verdict.reasons),
        ),
        pass_fail(
            "Payload Bound",
            verdict.payload_hash_ok == Some(true),
            "the bundled payload bytes hash to payload_hash",
            "the bundled payload bytes are not what the envelope commits to",
        ),
    ]
}

/// The stage's bytes against the digest the signed body lists for it.
fn digest_row(st: &Value, listed: Option<&str>) -> Row {
    let now = ario_envelope::jcs::canonicalize(st)
        .map(|b| ario_envelope::encoding::sha256_hex(&b))
        .ok();
    pass_fail(
        "Stage Intact",
        now.is_some() && now.as_deref() == listed,
        "the stage hashes to the digest the signed body lists",
        "the stage's bytes are not what the signed body lists for it",
    )
}

fn check_stage(
    st: &Value,
    body: &Value,
    txs: &BTreeMap<String, String>,
    trust: Option<&TrustPolicy>,
) -> StageReport {
    let stage = s(st, "stage").unwrap_or("unknown").to_owned();
    let envelope = st.get("envelope").cloned().unwrap_or(Value::Null);
    // The signed envelope says what the event is; the stage's label must agree.
    let kind = s(&envelope, "event_type").and_then(EventKind::from_wire);
    let payload = s(st, "payload_hex").and_then(|h| hex::decode(h).ok());
    let mut rows = Vec::new();
    if s(st, "event_type") != s(&envelope, "event_type") {
        rows.push(row(
            "Event Type",
            Outcome::Fail,
            "the stage's event type is not the signed envelope's",
            true,
        ));
    }
    rows.extend(envelope_rows(&envelope, payload.as_deref()));
    rows.push(subject_row(kind, &envelope, body, st));
    rows.push(rederive_row(kind, payload.as_deref(), st));
    if let Some(r) = chain_row(kind, &envelope, txs) {
        rows.push(r);
    }
    if kind == Some(EventKind::Training) {
        rows.push(files_row(payload.as_deref(), body));
    }
    rows.push(trust_row(&envelope, trust));
    rows.push(super::attestation::attestation_row_offline(
        st, &envelope, trust,
    ));
    let status = status_of_rows(&rows);
    StageReport {
        stage,
        detail: s(st, "detail").unwrap_or_default().to_owned(),
        tx_id: s(st, "tx_id").map(str::to_owned),
        rows,
        status,
    }
}

fn subject_row(kind: Option<EventKind>, envelope: &Value, body: &Value, st: &Value) -> Row {
    let subject = Subject::from_json(envelope.get("subject")).ok();
    let model = (s(body, "model"), s(body, "version"));
    let ok = match (kind, &subject) {
        (Some(EventKind::Training), Some(Subject::Run { run_id })) => {
            s(body, "run_id") == Some(run_id.as_str())
        }
        (
            Some(EventKind::Registration | EventKind::StageTransition | EventKind::AliasSet),
            Some(Subject::ModelVersion { name, version }),
        ) => model == (Some(name.as_str()), Some(version.as_str())),
        (Some(EventKind::Dataset), Some(Subject::Dataset { name, digest })) => {
            let rec = st.pointer("/facts/record");
            rec.and_then(|r| r.get("name")).and_then(Value::as_str) == name.as_deref()
                && rec.and_then(|r| r.get("digest")).and_then(Value::as_str) == digest.as_deref()
        }
        (Some(k), Some(sub)) => sub.subject_type() == k.subject_type(),
        _ => false,
    };
    pass_fail(
        "Subject",
        ok,
        "the envelope is about this lineage's object",
        "the envelope is about another object",
    )
}

fn rederive_row(kind: Option<EventKind>, payload: Option<&[u8]>, st: &Value) -> Row {
    const LABEL: &str = "Record Re-derived";
    let facts = st.get("facts").filter(|f| !f.is_null());
    let rebuilt: Option<Result<Vec<u8>, String>> = match (kind, facts) {
        (Some(EventKind::Training), Some(f)) => return training_row(payload, f),
        (Some(EventKind::Dataset), Some(f)) => Some(
            serde_json::from_value::<DatasetRecord>(
                f.get("record").cloned().unwrap_or(Value::Null),
            )
            .map_err(|e| e.to_string())
            .and_then(|r| payload::canonical(&payload::dataset(&r)).map_err(|e| e.to_string())),
        ),
        (Some(EventKind::Registration), Some(f)) => {
            return registration_row(payload, f);
        }
        (Some(EventKind::Training | EventKind::Dataset | EventKind::Registration), None) => {
            return row(
                LABEL,
                Outcome::Fail,
                "the bundle lacks the MLflow facts this event is re-derived from",
                true,
            );
        }
        _ => None,
    };
    match (rebuilt, payload) {
        (None, _) => row(
            LABEL,
            Outcome::NotApplicable,
            "no independent MLflow facts for this event: the stored payload is all there is",
            false,
        ),
        (Some(Err(e)), _) => row(
            LABEL,
            Outcome::Fail,
            format!("the facts do not rebuild a payload: {e} {FROM_BUNDLE}"),
            true,
        ),
        (Some(Ok(b)), Some(p)) if b == p => row(
            LABEL,
            Outcome::Pass,
            format!("the payload rebuilt from MLflow's facts is byte-identical {FROM_BUNDLE}"),
            true,
        ),
        (Some(Ok(_)), _) => row(
            LABEL,
            Outcome::Fail,
            format!("the payload rebuilt from MLflow's facts differs {FROM_BUNDLE}"),
            true,
        ),
    }
}

/// The members of a training payload MLflow's facts re-derive (metadata
/// members are the producer's and are not).
const TRAINING_LIVE: [&str; 8] = [
    "event_type",
    "run_id",
    "params",
    "metrics",
    "artifact_checksums",
    "source_name",
    "git_commit",
    "dataset_inputs",
];

fn training_row(payload: Option<&[u8]>, f: &Value) -> Row {
    const LABEL: &str = "Record Re-derived";
    let rebuilt = match training(f)
        .and_then(|b| serde_json::from_slice::<Value>(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            return row(
                LABEL,
                Outcome::Fail,
                format!("the facts do not rebuild a payload: {e} {FROM_BUNDLE}"),
                true,
            )
        }
    };
    let stored: Value = payload
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let differing: Vec<&str> = TRAINING_LIVE
        .iter()
        .copied()
        .filter(|k| stored.get(*k) != rebuilt.get(*k))
        .collect();
    if differing.is_empty() {
        row(LABEL, Outcome::Pass, format!("params, metrics, files, source and datasets rebuilt from MLflow's facts match {FROM_BUNDLE}"), true)
    } else {
        row(
            LABEL,
            Outcome::Fail,
            format!(
                "rebuilt from MLflow's facts, these members differ: {} {FROM_BUNDLE}",
                differing.join(", ")
            ),
            true,
        )
    }
}

fn training(f: &Value) -> Result<Vec<u8>, String> {
    let body = f
        .get("runs_get_body")
        .and_then(Value::as_str)
        .ok_or("no runs/get body")?;
    let sums: BTreeMap<String, String> =
        serde_json::from_value(f.get("artifact_checksums").cloned().unwrap_or(Value::Null))
            .map_err(|e| e.to_string())?;
    crate::run_facts::training_payload_from_response(body.as_bytes(), sums)
        .map_err(|e| e.to_string())
}

fn registration_row(payload: Option<&[u8]>, f: &Value) -> Row {
    let p: Value = payload
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let mv = f.get("model_version").cloned().unwrap_or(Value::Null);
    // Name, version and source must be present and equal; the run may be
    // absent on both sides (a version registered from a non-run source).
    let same =
        |pk: &str, fk: &str| p.get(pk).is_some_and(|v| !v.is_null()) && p.get(pk) == mv.get(fk);
    let run = |v: &Value, k: &str| v.get(k).filter(|x| !x.is_null()).cloned();
    let ok = same("model_name", "name")
        && same("model_version", "version")
        && same("source", "source")
        && run(&p, "source_run_id") == run(&mv, "run_id");
    pass_fail(
        "Record Re-derived",
        ok,
        format!("name, version, source and run match MLflow's version record {FROM_BUNDLE}"),
        format!("the registration differs from MLflow's version record {FROM_BUNDLE}"),
    )
}

fn chain_row(
    kind: Option<EventKind>,
    envelope: &Value,
    txs: &BTreeMap<String, String>,
) -> Option<Row> {
    let prev = s(envelope, "previous_hash")?;
    let want = match kind? {
        EventKind::Registration => txs.get("training").map_or(GENESIS, String::as_str),
        EventKind::StageTransition | EventKind::AliasSet => txs.get("registration")?.as_str(),
        _ => return None,
    };
    Some(pass_fail(
        "Chain Link",
        prev == want,
        "previous_hash names the stage before it in this bundle",
        format!("previous_hash {prev} is not {want}"),
    ))
}

fn files_row(payload: Option<&[u8]>, body: &Value) -> Row {
    let p: Value = payload
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let anchored = p.get("artifact_checksums").cloned().unwrap_or(Value::Null);
    let files: serde_json::Map<String, Value> = body
        .get("files")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|f| Some((s(f, "path")?.to_owned(), f.get("sha256")?.clone())))
                .collect()
        })
        .unwrap_or_default();
    pass_fail(
        "Model Files",
        anchored == Value::Object(files),
        format!("the files' digests are the anchored checksums {FROM_BUNDLE}"),
        format!("the files' digests differ from the anchored checksums {FROM_BUNDLE}"),
    )
}

pub(super) fn trust_row(envelope: &Value, trust: Option<&TrustPolicy>) -> Row {
    const LABEL: &str = "Signer Trusted";
    let Some(policy) = trust else {
        return row(
            LABEL,
            Outcome::NotApplicable,
            "not checked: no trust policy given, so any signing key was accepted",
            false,
        );
    };
    let c = policy.judge(
        s(envelope, "public_key"),
        s(envelope, "signed_at"),
        Err("the uploader is not in the bundle"),
    );
    let outcome = match c.ok() {
        Some(true) => Outcome::Pass,
        Some(false) => Outcome::Fail,
        None => Outcome::Undetermined,
    };
    row(LABEL, outcome, c.message, true)
}
