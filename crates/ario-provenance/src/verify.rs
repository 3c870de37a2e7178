//! Verification of anchored events against Arweave and live MLflow.
//!
//! Four checks, each tri-state (`ok`: pass / fail / could-not-run): the
//! envelope signature, the anchored payload bytes re-hashed, the payload
//! re-derived from a second live MLflow surface, and the ar.io attestation
//! with the operator's RSA-PSS signature checked. A check that cannot run
//! is never counted as passed.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::{verify_envelope, VerifyOptions};
use ario_envelope::SpecVersionStatus;
use ario_gateway::verify_service::{check_attestation, VerifyClient, VerifyServiceError};
use ario_mlflow_client::MlflowError;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::context::Provenance;
use crate::mlflow_io as io;
use crate::payload::{self, event};
use crate::tags;
use crate::training::{model_location, run_datasets, training_fields};

/// Largest payload artifact read back (payloads are a few KiB).
const MAX_PAYLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// Minimum attestation level counted as attested (the plugin's default).
pub const MIN_ATTESTATION_LEVEL: u8 = 2;

/// One check, in the plugin's `{"ok", "reason"}` shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// `true` passed, `false` ran and failed, `null` could not run / not applicable.
    pub ok: Option<bool>,
    /// Why (empty on a plain pass).
    pub reason: String,
    /// Attestation details (the attestation check only).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<Attestation>,
}

/// What ar.io Verify said about a transaction.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attestation {
    /// Level reached.
    pub attestation_level: u8,
    /// Attesting gateway.
    pub attested_by: Option<String>,
    /// When.
    pub attested_at: Option<String>,
    /// Report page.
    pub report_url: Option<String>,
    /// Minimum level counted as attested.
    pub min_attestation_level: u8,
}

impl Check {
    fn pass() -> Self {
        Check {
            ok: Some(true),
            reason: String::new(),
            attestation: None,
        }
    }
    fn fail(r: impl Into<String>) -> Self {
        Check {
            ok: Some(false),
            reason: r.into(),
            attestation: None,
        }
    }
    fn none(r: impl Into<String>) -> Self {
        Check {
            ok: None,
            reason: r.into(),
            attestation: None,
        }
    }
}

/// The four checks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checks {
    /// Ed25519 signature and profile.
    pub signature: Check,
    /// The stored payload bytes hash to `payload_hash`.
    pub anchored_bytes: Check,
    /// The payload re-derived from live MLflow equals the stored bytes.
    pub source_of_truth: Check,
    /// ar.io Verify attestation.
    pub ario_attestation: Check,
}

/// How a row came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Passed.
    Pass,
    /// Ran and failed.
    Fail,
    /// Could not run.
    Undetermined,
    /// Ran; the answer is not final yet (attestation below the bar).
    Pending,
    /// Nothing to check for this event.
    NotApplicable,
}

/// One line of the verification panel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// `Proof Found`, `Training Record Matches`, `Signature Confirmed`, `ar.io attestation`.
    pub label: String,
    /// Result.
    pub outcome: Outcome,
    /// Explanation.
    pub detail: String,
    /// Whether it decides the overall status.
    pub decisive: bool,
}

/// Overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every decisive check passed.
    Verified,
    /// A check ran and failed.
    Failed,
    /// No anchor recorded for the object.
    NotAnchored,
    /// The envelope is not a well-formed JSON object.
    Malformed,
    /// No gateway could be reached.
    Unavailable,
    /// A decisive check could not run.
    Undetermined,
}

impl Status {
    /// 0 verified, 1 failed, 2 not anchored or malformed, 3 unavailable or undetermined.
    pub fn exit_code(self) -> i32 {
        match self {
            Status::Verified => 0,
            Status::Failed => 1,
            Status::NotAnchored | Status::Malformed => 2,
            Status::Unavailable | Status::Undetermined => 3,
        }
    }
}

/// The result of verifying one anchored object.
#[derive(Debug, Clone, Serialize)]
pub struct Verification {
    /// `run`, `model`, `trace`, `dataset` or `tx`.
    pub kind: String,
    /// The object (`run <id>`, `iris/1`, …).
    pub target: String,
    /// The transaction checked.
    pub tx_id: Option<String>,
    /// Event type of the envelope.
    pub event_type: Option<String>,
    /// Overall status.
    pub status: Status,
    /// The panel.
    pub rows: Vec<Row>,
    /// The checks (absent when no envelope was obtained).
    pub checks: Option<Checks>,
    /// The envelope fetched.
    pub envelope: Option<Value>,
    /// Field names that differ between live MLflow and the anchored payload.
    pub live_mismatches: Vec<String>,
    /// MLflow tags written back (only after a full pass).
    pub tags_written: usize,
}

impl Verification {
    fn not_anchored(kind: &str, target: String, why: String) -> Self {
        Verification {
            kind: kind.into(),
            target,
            tx_id: None,
            event_type: None,
            status: Status::NotAnchored,
            rows: vec![Row {
                label: "Proof Found".into(),
                outcome: Outcome::Fail,
                detail: why,
                decisive: true,
            }],
            checks: None,
            envelope: None,
            live_mismatches: vec![],
            tags_written: 0,
        }
    }
}

/// Where verification writes tags back after a full pass.
#[derive(Debug, Clone)]
pub enum Target {
    /// Run tags.
    Run(String),
    /// Model-version tags.
    Version(String, String),
    /// Trace tags.
    Trace(String),
    /// Nothing.
    None,
}

/// What the caller expects the envelope to be about.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// `subject` members that must match.
    pub subject: BTreeMap<String, String>,
    /// For datasets: the run whose logged input re-derives the payload.
    pub dataset_run: Option<String>,
}

fn record_label(event_type: &str) -> &'static str {
    match event_type {
        event::TRAINING => "Training Record Matches",
        event::REGISTRATION => "Registration Record Matches",
        event::STAGE => "Promotion Record Matches",
        event::ALIAS => "Alias Record Matches",
        event::PREDICTION => "Decision Record Matches",
        event::DATASET => "Dataset Record Matches",
        _ => "Record Matches",
    }
}

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

enum Located {
    Bytes(Vec<u8>),
    Missing(String),
    CannotRun(String),
    NotExpected(String),
}

fn classify(e: MlflowError, what: &str) -> Located {
    // Only an unreachable server leaves the question open; any answer
    // (not found, or an error in place of the bytes) means they are not there.
    if matches!(e, MlflowError::Unreachable { .. }) {
        Located::CannotRun(format!("{what}: {e}"))
    } else {
        Located::Missing(format!("{what}: {e}"))
    }
}

impl Provenance {
    async fn read_run_artifact(&self, run_id: &str, path: &str) -> Located {
        let c = self.mlflow();
        let run = match c.run(run_id).await {
            Ok(r) => r,
            Err(e) => return classify(e, &format!("run {run_id}")),
        };
        let root = match io::run_root(&run) {
            Ok(r) => r,
            Err(e) => return Located::CannotRun(e.to_string()),
        };
        match c.read_artifact(&root, path, MAX_PAYLOAD_BYTES).await {
            Ok(b) => Located::Bytes(b),
            Err(e) => classify(e, &format!("payload artifact {path}")),
        }
    }

    async fn locate_payload(&self, env: &Value, expect: &Expect) -> Located {
        let subject = env.get("subject").cloned().unwrap_or(Value::Null);
        let et = s(env, "event_type").unwrap_or_default();
        match s(&subject, "type").unwrap_or_default() {
            "mlflow_run" => match s(&subject, "run_id") {
                Some(r) => self.read_run_artifact(r, "ario/payload.json").await,
                None => Located::Missing("subject_missing_run_id".into()),
            },
            "mlflow_model_version" => {
                let (Some(n), Some(v)) = (s(&subject, "name"), s(&subject, "version")) else {
                    return Located::Missing("subject_missing_name_or_version".into());
                };
                let mv = match io::model_version(self.mlflow(), n, v).await {
                    Ok(mv) => mv,
                    Err(e) => return classify(e, &format!("model version {n}/{v}")),
                };
                let Some(run_id) = mv.run_id.filter(|r| !r.is_empty()) else {
                    return Located::Missing("model version has no run".into());
                };
                let eid = s(&subject, "event_id").or(s(env, "event_id")).unwrap_or_default();
                let path = match et {
                    event::REGISTRATION => "ario/registration_payload.json".to_owned(),
                    event::STAGE => format!("ario/promotions/{eid}/payload.json"),
                    event::ALIAS => format!("ario/aliases/{eid}/payload.json"),
                    _ => "ario/payload.json".to_owned(),
                };
                self.read_run_artifact(&run_id, &path).await
            }
            "mlflow_prediction" => match (s(&subject, "model_run_id"), s(&subject, "decision_id")) {
                (Some(r), Some(d)) if r != "unknown" => {
                    self.read_run_artifact(r, &format!("ario/predictions/{d}/payload.json"))
                        .await
                }
                _ => Located::Missing("subject_missing_decision_id_or_run_id".into()),
            },
            "mlflow_dataset" => match &expect.dataset_run {
                Some(run_id) => self.rebuild_dataset(run_id, &subject).await,
                None => Located::NotExpected(
                    "datasets are not stored in MLflow; pass --run RUN_ID to re-derive from the run's logged input".into(),
                ),
            },
            other => Located::NotExpected(format!("unknown_subject_type: {other:?}")),
        }
    }

    async fn rebuild_dataset(&self, run_id: &str, subject: &Value) -> Located {
        let run = match self.mlflow().run(run_id).await {
            Ok(r) => r,
            Err(e) => return classify(e, &format!("run {run_id}")),
        };
        let found = run_datasets(&run).into_iter().find(|d| {
            d.name.as_deref() == s(subject, "name") && d.digest.as_deref() == s(subject, "digest")
        });
        match found.map(|d| payload::canonical(&payload::dataset(&d))) {
            Some(Ok(b)) => Located::Bytes(b),
            Some(Err(e)) => Located::Missing(e.to_string()),
            None => Located::Missing(format!(
                "run {run_id} has no logged dataset {:?} with digest {:?}",
                s(subject, "name").unwrap_or_default(),
                s(subject, "digest").unwrap_or_default()
            )),
        }
    }

    /// Re-derives the live members of a payload from MLflow; `Ok(None)` when
    /// the event type has no second surface.
    async fn live_fields(&self, original: &Value) -> Result<Option<Map<String, Value>>, Check> {
        let c = self.mlflow();
        let et = s(original, "event_type").unwrap_or_default();
        let cannot = |e: MlflowError, what: String| -> Check {
            if matches!(e, MlflowError::Unreachable { .. }) {
                Check::none(format!("{what}: {e}"))
            } else {
                Check::fail(format!("live_refetch_incomplete: {what}: {e}"))
            }
        };
        match et {
            event::TRAINING => {
                let run_id =
                    s(original, "run_id").ok_or_else(|| Check::fail("payload missing run_id"))?;
                let run = c
                    .run(run_id)
                    .await
                    .map_err(|e| cannot(e, format!("run {run_id}")))?;
                let loc = model_location(c, run_id, &run, None, false)
                    .await
                    .map_err(|e| Check::none(format!("model location: {e}")))?;
                let (mut f, hashed) = training_fields(c, run_id, &run, &loc)
                    .await
                    .map_err(|e| Check::fail(format!("live_refetch_incomplete: {e}")))?;
                if let Err(e) = hashed {
                    return Err(Check::none(format!(
                        "could not re-hash artifacts for run {run_id}: {e}"
                    )));
                }
                if original.get("dataset_inputs").is_none() {
                    f.dataset_inputs = None;
                }
                Ok(Some(payload::training_live_fields(&f)))
            }
            event::REGISTRATION => {
                let (Some(name), Some(version)) =
                    (s(original, "model_name"), s(original, "model_version"))
                else {
                    return Err(Check::fail("payload missing model_name or model_version"));
                };
                let mv = io::model_version(c, name, version)
                    .await
                    .map_err(|e| cannot(e, format!("model version {name}/{version}")))?;
                let mut fresh = Map::new();
                fresh.insert(
                    "source".into(),
                    mv.source.clone().unwrap_or_default().into(),
                );
                let Some(rid) = s(original, "source_run_id") else {
                    return Ok(Some(fresh));
                };
                let run = c
                    .run(rid)
                    .await
                    .map_err(|e| cannot(e, format!("source run {rid}")))?;
                let expected = io::run_tags(&run).get(tags::ARTIFACT_HASH).cloned();
                let verified = match &expected {
                    None => None,
                    Some(exp) => {
                        let (_, path) = ario_mlflow_client::uri::parse_runs_uri(
                            s(original, "source").unwrap_or_default(),
                        );
                        let loc = c
                            .run_path_location(rid, path.as_deref().unwrap_or("model"))
                            .await
                            .map_err(|e| cannot(e, "model location".into()))?;
                        let sums = crate::training::checksums(c, &loc)
                            .await
                            .map_err(|e| cannot(e, format!("re-hash of source run {rid}")))?;
                        Some(payload::artifact_hash(&sums).as_ref() == Some(exp))
                    }
                };
                fresh.insert(
                    "source_run_id".into(),
                    mv.run_id.clone().map(Value::from).unwrap_or(Value::Null),
                );
                fresh.insert(
                    "artifact_hash".into(),
                    expected.map(Value::from).unwrap_or(Value::Null),
                );
                fresh.insert(
                    "artifact_verified".into(),
                    verified.map(Value::Bool).unwrap_or(Value::Null),
                );
                Ok(Some(fresh))
            }
            event::PREDICTION => {
                let Some(trace_id) = s(original, "mlflow_trace_id") else {
                    return Err(Check::none(
                        "payload has no mlflow_trace_id; no second surface to compare",
                    ));
                };
                let t = io::trace_tags(c, trace_id).await.map_err(|e| {
                    if e.is_not_found() || matches!(e, MlflowError::Http { status: 404, .. }) {
                        Check::fail(format!("trace {trace_id} not found (deleted?)"))
                    } else {
                        cannot(e, format!("trace {trace_id}"))
                    }
                })?;
                let Some(pj) = t.get(tags::PAYLOAD_JSON) else {
                    return Err(Check::fail(format!(
                        "trace {trace_id} missing ario.payload_json tag"
                    )));
                };
                match serde_json::from_str::<Value>(pj) {
                    Ok(Value::Object(m)) => Ok(Some(m)),
                    Ok(_) => Err(Check::fail(format!(
                        "trace {trace_id} has non-object ario.payload_json"
                    ))),
                    Err(e) => Err(Check::fail(format!(
                        "could not parse ario.payload_json from trace {trace_id}: {e}"
                    ))),
                }
            }
            // The bytes check 2 compared were already rebuilt from the run's
            // logged input: every member is live.
            event::DATASET => Ok(Some(Map::new())),
            _ => Ok(None),
        }
    }

    async fn source_of_truth(&self, bytes: &[u8]) -> (Check, Vec<String>) {
        let original: Value = match ario_envelope::json::parse(bytes) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return (Check::fail("payload_parse_failed: not an object"), vec![]),
            Err(e) => return (Check::fail(format!("payload_parse_failed: {e}")), vec![]),
        };
        let fresh = match self.live_fields(&original).await {
            Ok(Some(f)) => f,
            Ok(None) => return (Check::none("no_live_fields_for_event_type"), vec![]),
            Err(c) => return (c, vec![]),
        };
        let mut rebuilt = original.as_object().cloned().unwrap_or_default();
        let mut diff = Vec::new();
        for (k, v) in fresh {
            if original.get(&k).map(|o| payload::canonical(o).ok())
                != Some(payload::canonical(&v).ok())
            {
                diff.push(k.clone());
            }
            rebuilt.insert(k, v);
        }
        match payload::canonical(&Value::Object(rebuilt)) {
            Ok(b) if b == bytes => (Check::pass(), diff),
            Ok(_) if diff.is_empty() => (
                Check::fail("live_mlflow_mismatch: stored payload is not canonical"),
                diff,
            ),
            Ok(_) => (
                Check::fail(format!("live MLflow differs in: {}", diff.join(", "))),
                diff,
            ),
            Err(e) => (
                Check::fail(format!("live values cannot be canonicalized: {e}")),
                diff,
            ),
        }
    }

    async fn attestation(&self, tx_id: &str, envelope_bytes: &[u8]) -> Check {
        let Some(client) = VerifyClient::from_config(self.gateway()) else {
            return Check::none("ario_verify_not_enabled");
        };
        let result = match client.submit(tx_id).await {
            Ok(r) => r,
            Err(VerifyServiceError::Request(e)) => {
                return Check::none(format!("ar.io Verify unreachable: {e}"))
            }
            Err(e) => return Check::fail(format!("ario_verify_returned_no_result: {e}")),
        };
        let level = result.level.unwrap_or(0);
        let by = result
            .attested_by
            .clone()
            .unwrap_or_else(|| "unknown".into());
        let details = Attestation {
            attestation_level: level,
            attested_by: result.attested_by.clone(),
            attested_at: result.attested_at.clone(),
            report_url: result.report_url.clone(),
            min_attestation_level: MIN_ATTESTATION_LEVEL,
        };
        let with = |mut c: Check| {
            c.attestation = Some(details.clone());
            c
        };
        if level < MIN_ATTESTATION_LEVEL {
            return with(Check::fail(format!(
                "attestation_level_below_threshold: level {level} (by {by})"
            )));
        }
        let key = match &result.verification_id {
            Some(id) => client.operator_key(id).await.ok().flatten(),
            None => None,
        };
        let chk = check_attestation(&result, key.as_ref(), tx_id, envelope_bytes, None);
        let bound = [
            chk.signature_ok,
            chk.operator_bound,
            chk.data_hash_bound,
            chk.tx_bound,
        ];
        if bound.contains(&Some(false)) {
            return with(Check::fail(format!(
                "attestation by {by} does not hold: operator signature {:?}, operator {:?}, data hash {:?}, tx {:?}",
                chk.signature_ok, chk.operator_bound, chk.data_hash_bound, chk.tx_bound
            )));
        }
        if bound.contains(&None) {
            return with(Check::none(format!(
                "level {level} by {by}; the operator's signature could not be checked"
            )));
        }
        with(Check {
            ok: Some(true),
            reason: format!("Verified by {by} (level {level}, operator signature checked)"),
            attestation: None,
        })
    }

    /// Verifies the envelope at `tx_id` against live MLflow.
    pub async fn verify_tx(
        &self,
        kind: &str,
        target: &str,
        tx_id: &str,
        expect: &Expect,
    ) -> Verification {
        let mut v = Verification {
            kind: kind.into(),
            target: target.into(),
            tx_id: Some(tx_id.into()),
            event_type: None,
            status: Status::Undetermined,
            rows: vec![],
            checks: None,
            envelope: None,
            live_mismatches: vec![],
            tags_written: 0,
        };
        let fetched = match self.reader().fetch_envelope(tx_id).await {
            Ok(f) => f,
            Err(e) => {
                let unavailable = e.is_unavailable();
                v.status = if unavailable {
                    Status::Unavailable
                } else {
                    Status::Failed
                };
                v.rows.push(Row {
                    label: "Proof Found".into(),
                    outcome: if unavailable {
                        Outcome::Undetermined
                    } else {
                        Outcome::Fail
                    },
                    detail: e.to_string(),
                    decisive: true,
                });
                return v;
            }
        };
        let env = match fetched.json() {
            Ok(env @ Value::Object(_)) => env,
            Ok(_) | Err(_) => {
                v.status = Status::Malformed;
                v.rows.push(Row {
                    label: "Proof Found".into(),
                    outcome: Outcome::Fail,
                    detail: format!("the bytes at {tx_id} are not an envelope (JSON object)"),
                    decisive: true,
                });
                return v;
            }
        };
        let et = s(&env, "event_type").unwrap_or_default().to_owned();
        v.event_type = Some(et.clone());
        let mismatched: Vec<String> = expect
            .subject
            .iter()
            .filter(|(k, want)| {
                env["subject"].get(k.as_str()).and_then(Value::as_str) != Some(want.as_str())
            })
            .map(|(k, want)| {
                format!(
                    "subject.{k} is {:?}, expected {want:?}",
                    env["subject"]
                        .get(k.as_str())
                        .cloned()
                        .unwrap_or(Value::Null)
                )
            })
            .collect();
        v.rows.push(Row {
            label: "Proof Found".into(),
            outcome: if mismatched.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            detail: if mismatched.is_empty() {
                format!("envelope retrieved from {}", fetched.gateway)
            } else {
                format!(
                    "envelope is about another object: {}",
                    mismatched.join("; ")
                )
            },
            decisive: true,
        });

        // Check 2: anchored bytes.
        let located = self.locate_payload(&env, expect).await;
        let (anchored_bytes, payload_bytes) = match located {
            Located::Bytes(b) => {
                let h = sha256_hex(&b);
                if Some(h.as_str()) == s(&env, "payload_hash") {
                    (Check::pass(), Some(b))
                } else {
                    (
                        Check::fail(format!(
                            "anchored_bytes_mismatch: stored payload hashes to {h}"
                        )),
                        None,
                    )
                }
            }
            Located::Missing(r) => (
                Check::fail(format!("payload_artifact_not_available: {r}")),
                None,
            ),
            Located::CannotRun(r) => (Check::none(r), None),
            Located::NotExpected(r) => (Check::none(r), None),
        };
        // Check 1: signature (and, given the bytes, the kernel's binding).
        let verdict = verify_envelope(
            &env,
            VerifyOptions {
                payload_bytes: payload_bytes.as_deref(),
                allow_legacy: true,
            },
        );
        let signature = if verdict.signature_ok
            && verdict.spec_version_status != SpecVersionStatus::Unsupported
        {
            Check::pass()
        } else if !verdict.signature_ok {
            Check::fail(
                verdict
                    .reasons
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        } else {
            Check::fail("unsupported_spec_version")
        };
        // Check 3: live re-derivation.
        let (source_of_truth, diff) = match &payload_bytes {
            Some(b) => self.source_of_truth(b).await,
            None => (Check::none("no_payload_to_compare"), vec![]),
        };
        v.live_mismatches = diff;
        let ario_attestation = self.attestation(tx_id, &fetched.bytes).await;

        let no_live = source_of_truth.ok.is_none()
            && source_of_truth.reason == "no_live_fields_for_event_type";
        let record = match (anchored_bytes.ok, source_of_truth.ok) {
            (Some(false), _) => (Outcome::Fail, anchored_bytes.reason.clone()),
            (_, Some(false)) => (Outcome::Fail, source_of_truth.reason.clone()),
            (None, _) => (Outcome::Undetermined, anchored_bytes.reason.clone()),
            (Some(true), None) if no_live => (
                Outcome::Pass,
                "anchored bytes match (no live MLflow surface for this event)".into(),
            ),
            (Some(true), None) => (Outcome::Undetermined, source_of_truth.reason.clone()),
            (Some(true), Some(true)) => {
                (Outcome::Pass, "live MLflow matches anchored bytes".into())
            }
        };
        v.rows.push(Row {
            label: record_label(&et).into(),
            outcome: record.0,
            detail: record.1,
            decisive: true,
        });
        v.rows.push(Row {
            label: "Signature Confirmed".into(),
            outcome: if signature.ok == Some(true) {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            detail: if signature.ok == Some(true) {
                "signature valid".into()
            } else {
                signature.reason.clone()
            },
            decisive: true,
        });
        let att_row = match ario_attestation.ok {
            Some(true) => (Outcome::Pass, ario_attestation.reason.clone(), false),
            Some(false)
                if ario_attestation
                    .reason
                    .starts_with("attestation_level_below_threshold") =>
            {
                (
                    Outcome::Pending,
                    format!("Pending verification: {}", ario_attestation.reason),
                    false,
                )
            }
            Some(false) => (Outcome::Fail, ario_attestation.reason.clone(), true),
            None => (
                Outcome::Undetermined,
                ario_attestation.reason.clone(),
                false,
            ),
        };
        v.rows.push(Row {
            label: "ar.io attestation".into(),
            outcome: att_row.0,
            detail: att_row.1,
            decisive: att_row.2,
        });
        v.status = if v
            .rows
            .iter()
            .any(|r| r.decisive && r.outcome == Outcome::Fail)
        {
            Status::Failed
        } else if v
            .rows
            .iter()
            .any(|r| r.decisive && r.outcome != Outcome::Pass)
        {
            Status::Undetermined
        } else {
            Status::Verified
        };
        v.checks = Some(Checks {
            signature,
            anchored_bytes,
            source_of_truth,
            ario_attestation,
        });
        v.envelope = Some(env);
        v
    }

    async fn write_verified(&self, v: &mut Verification, target: &Target) {
        if v.status != Status::Verified {
            return;
        }
        let mut t: Vec<(&str, String)> = vec![
            (tags::VERIFY_STATUS, "verified".into()),
            (
                tags::VERIFIED_AT,
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ];
        if let Some(att) = v
            .checks
            .as_ref()
            .filter(|c| c.ario_attestation.ok == Some(true))
            .and_then(|c| c.ario_attestation.attestation.clone())
        {
            t.push((tags::ATTESTATION_LEVEL, att.attestation_level.to_string()));
            for (k, val) in [
                (tags::ATTESTED_BY, att.attested_by),
                (tags::ATTESTED_AT, att.attested_at),
                (tags::REPORT_URL, att.report_url),
            ] {
                if let Some(val) = val.filter(|v| !v.is_empty()) {
                    t.push((k, val));
                }
            }
        }
        let c = self.mlflow();
        for (k, val) in t {
            let r = match target {
                Target::Run(r) => io::set_run_tag(c, r, k, &val).await,
                Target::Version(n, ver) => io::set_version_tag(c, n, ver, k, &val).await,
                Target::Trace(id) => io::set_trace_tag(c, id, k, &val).await,
                Target::None => return,
            };
            match r {
                Ok(()) => v.tags_written += 1,
                Err(e) => tracing::warn!(tag = k, error = %e, "could not write verification tag"),
            }
        }
    }

    /// `verify run <RUN_ID>`: the training anchor of a run.
    pub async fn verify_run(
        &self,
        run_id: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let run = self.mlflow().run(run_id).await?;
        let Some(tx) = io::run_tags(&run).get(tags::TRAINING_TX).cloned() else {
            return Ok(Verification::not_anchored(
                "run",
                format!("run {run_id}"),
                format!("Run {run_id}: no ario.training_tx tag found. Not anchored."),
            ));
        };
        let expect = Expect {
            subject: [("run_id".to_string(), run_id.to_string())].into(),
            dataset_run: None,
        };
        let mut v = self
            .verify_tx("run", &format!("run {run_id}"), &tx, &expect)
            .await;
        if write_back {
            self.write_verified(&mut v, &Target::Run(run_id.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify model <NAME>/<VERSION>`: the registration anchor of a version.
    pub async fn verify_model(
        &self,
        name: &str,
        version: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let mv = io::model_version(self.mlflow(), name, version).await?;
        let target = format!("{name}/v{version}");
        let Some(tx) = io::version_tags(&mv).get(tags::REGISTRATION_TX).cloned() else {
            return Ok(Verification::not_anchored(
                "model",
                target,
                format!(
                    "Model {name}/v{version}: no ario.registration_tx tag found. Not anchored."
                ),
            ));
        };
        let expect = Expect {
            subject: [
                ("name".to_string(), name.to_string()),
                ("version".to_string(), version.to_string()),
            ]
            .into(),
            dataset_run: None,
        };
        let mut v = self.verify_tx("model", &target, &tx, &expect).await;
        if write_back {
            self.write_verified(&mut v, &Target::Version(name.into(), version.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify trace <TRACE_ID>`: the prediction anchor of a trace.
    pub async fn verify_trace(
        &self,
        trace_id: &str,
        write_back: bool,
    ) -> Result<Verification, MlflowError> {
        let target = format!("trace {trace_id}");
        let t = match io::trace_tags(self.mlflow(), trace_id).await {
            Ok(t) => t,
            Err(e) if e.is_not_found() || matches!(e, MlflowError::Http { status: 404, .. }) => {
                return Ok(Verification::not_anchored(
                    "trace",
                    target,
                    format!("Trace {trace_id} not found."),
                ));
            }
            Err(e) => return Err(e),
        };
        let Some(tx) = t
            .get(tags::PREDICTION_TX)
            .or(t.get(tags::ARWEAVE_TX_LEGACY))
            .cloned()
        else {
            return Ok(Verification::not_anchored(
                "trace",
                target,
                format!("Trace {trace_id}: no ario.prediction_tx tag found. Not anchored yet."),
            ));
        };
        let expect = Expect {
            subject: [("trace_id".to_string(), trace_id.to_string())].into(),
            dataset_run: None,
        };
        let mut v = self.verify_tx("trace", &target, &tx, &expect).await;
        if write_back {
            self.write_verified(&mut v, &Target::Trace(trace_id.into()))
                .await;
        }
        Ok(v)
    }

    /// `verify dataset <TX_ID> [--run RUN_ID]`.
    pub async fn verify_dataset(&self, tx_id: &str, run_id: Option<&str>) -> Verification {
        let expect = Expect {
            subject: BTreeMap::new(),
            dataset_run: run_id.map(str::to_owned),
        };
        self.verify_tx("dataset", &format!("dataset {tx_id}"), tx_id, &expect)
            .await
    }
}
