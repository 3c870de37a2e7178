//! The source-of-truth check: re-derive an anchored payload's live members
//! from MLflow now and compare the rebuilt bytes with the stored ones.

use ario_mlflow_client::records::run_tags;
use ario_mlflow_client::uri::parse_runs_uri;
use ario_mlflow_client::MlflowError;
use serde_json::{Map, Value};

use super::check::{Check, FailReason, NotRunCause};
use super::locate::mlflow_check;
use crate::event::EventKind;
use crate::integrity::{check_files, IntegrityVerdict};
use crate::payload;
use crate::run_facts::{default_model_path, model_location, training_fields};
use crate::tags;
use crate::verifier::Verifier;

fn s<'a>(v: &'a Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str)
}

/// An MLflow error while re-reading live members.
fn refetch(e: &MlflowError, what: &str) -> Check {
    let c = mlflow_check(e, what, FailReason::LiveRefetchIncomplete);
    match c.fail_reason() {
        Some(r) => Check::failed(r, format!("live_refetch_incomplete: {}", c.message)),
        None => c,
    }
}

fn malformed(why: &str) -> Check {
    Check::failed(FailReason::PayloadUnreadable, why.to_owned())
}

impl Verifier {
    /// The live members of a payload, re-derived from MLflow.
    async fn live_fields(
        &self,
        kind: EventKind,
        original: &Value,
    ) -> Result<Map<String, Value>, Check> {
        let c = self.mlflow();
        match kind {
            EventKind::Training => {
                let run_id =
                    s(original, "run_id").ok_or_else(|| malformed("payload missing run_id"))?;
                let run = c
                    .run(run_id)
                    .await
                    .map_err(|e| refetch(&e, &format!("run {run_id}")))?;
                let loc =
                    model_location(c, run_id, &run, None, false)
                        .await
                        .map_err(|e| match e {
                            crate::ProvenanceError::Mlflow(e) => refetch(&e, "model location"),
                            e => Check::failed(FailReason::LiveRefetchIncomplete, e.to_string()),
                        })?;
                let (mut f, hashed) =
                    training_fields(c, run_id, &run, &loc).await.map_err(|e| {
                        Check::failed(
                            FailReason::LiveRefetchIncomplete,
                            format!("live_refetch_incomplete: {e}"),
                        )
                    })?;
                if let Err(e) = hashed {
                    return Err(Check::not_run(
                        NotRunCause::ArtifactsNotHashable,
                        format!("could not re-hash artifacts for run {run_id}: {e}"),
                    ));
                }
                if original.get("dataset_inputs").is_none() {
                    f.dataset_inputs = None;
                }
                Ok(payload::training_live_fields(&f))
            }
            EventKind::Registration => {
                let (Some(name), Some(version)) =
                    (s(original, "model_name"), s(original, "model_version"))
                else {
                    return Err(malformed("payload missing model_name or model_version"));
                };
                let mv = c
                    .model_version(name, version)
                    .await
                    .map_err(|e| refetch(&e, &format!("model version {name}/{version}")))?;
                let mut fresh = Map::new();
                fresh.insert(
                    "source".into(),
                    mv.source.clone().unwrap_or_default().into(),
                );
                let Some(rid) = s(original, "source_run_id") else {
                    return Ok(fresh);
                };
                let run = c
                    .run(rid)
                    .await
                    .map_err(|e| refetch(&e, &format!("source run {rid}")))?;
                let expected = run_tags(&run).get(tags::ARTIFACT_HASH).cloned();
                let verified = match &expected {
                    None => None,
                    Some(exp) => {
                        let (_, path) = parse_runs_uri(s(original, "source").unwrap_or_default());
                        let loc = c
                            .run_path_location(rid, path.as_deref().unwrap_or(default_model_path()))
                            .await;
                        match check_files(c, loc, Some(exp)).await.verdict {
                            IntegrityVerdict::Unavailable { reason, unreachable: true } => {
                                return Err(Check::not_run(NotRunCause::MlflowUnreachable, reason))
                            }
                            IntegrityVerdict::Unavailable { reason, .. } => {
                                return Err(Check::failed(
                                    FailReason::LiveRefetchIncomplete,
                                    format!("live_refetch_incomplete: re-hash of source run {rid}: {reason}"),
                                ))
                            }
                            v => v.ok(),
                        }
                    }
                };
                fresh.insert(
                    "source_run_id".into(),
                    mv.run_id.clone().map_or(Value::Null, Value::from),
                );
                fresh.insert(
                    "artifact_hash".into(),
                    expected.map_or(Value::Null, Value::from),
                );
                fresh.insert(
                    "artifact_verified".into(),
                    verified.map_or(Value::Null, Value::Bool),
                );
                Ok(fresh)
            }
            EventKind::Prediction => {
                let Some(trace_id) = s(original, "mlflow_trace_id") else {
                    return Err(Check::not_run(
                        NotRunCause::NoLiveSurface,
                        "payload has no mlflow_trace_id; the stored payload is the whole record",
                    ));
                };
                let t = c.trace_tags(trace_id).await.map_err(|e| {
                    if e.is_not_found() || matches!(e, MlflowError::Http { status: 404, .. }) {
                        Check::failed(
                            FailReason::LiveMismatch,
                            format!("trace {trace_id} not found (deleted?)"),
                        )
                    } else {
                        refetch(&e, &format!("trace {trace_id}"))
                    }
                })?;
                let Some(pj) = t.get(tags::PAYLOAD_JSON) else {
                    return Err(Check::failed(
                        FailReason::LiveMismatch,
                        format!("trace {trace_id} missing ario.payload_json tag"),
                    ));
                };
                match serde_json::from_str::<Value>(pj) {
                    Ok(Value::Object(m)) => Ok(m),
                    Ok(_) => Err(Check::failed(
                        FailReason::LiveMismatch,
                        format!("trace {trace_id} has non-object ario.payload_json"),
                    )),
                    Err(e) => Err(Check::failed(
                        FailReason::LiveMismatch,
                        format!("could not parse ario.payload_json from trace {trace_id}: {e}"),
                    )),
                }
            }
            // The bytes the anchored-bytes check compared were already
            // rebuilt from the run's logged input: every member is live.
            EventKind::Dataset => Ok(Map::new()),
            // Checked against the batch file by `source_of_truth` before
            // live members are asked for; never reached.
            EventKind::DecisionCheckpoint => Err(Check::not_run(
                NotRunCause::NoPayload,
                "a checkpoint is checked against its batch file",
            )),
            EventKind::StageTransition | EventKind::AliasSet | EventKind::KeyRetired => {
                Err(Check::not_run(
                    NotRunCause::NoLiveSurface,
                    "no live MLflow surface for this event",
                ))
            }
        }
    }

    /// Compares the stored payload with one rebuilt from live MLflow; also
    /// returns the names of the members that differ.
    pub(crate) async fn source_of_truth(
        &self,
        kind: EventKind,
        bytes: &[u8],
    ) -> (Check, Vec<String>) {
        let original: Value = match ario_envelope::json::parse(bytes) {
            Ok(v @ Value::Object(_)) => v,
            Ok(_) => return (malformed("payload_parse_failed: not an object"), vec![]),
            Err(e) => return (malformed(&format!("payload_parse_failed: {e}")), vec![]),
        };
        if kind == EventKind::DecisionCheckpoint {
            return (self.batch_truth(&original).await.0, vec![]);
        }
        let fresh = match self.live_fields(kind, &original).await {
            Ok(f) => f,
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
        let check = match payload::canonical(&Value::Object(rebuilt)) {
            Ok(b) if b == bytes => Check::passed(""),
            Ok(_) if diff.is_empty() => Check::failed(
                FailReason::LiveMismatch,
                "live_mlflow_mismatch: stored payload is not canonical",
            ),
            Ok(_) => Check::failed(
                FailReason::LiveMismatch,
                format!("live MLflow differs in: {}", diff.join(", ")),
            ),
            Err(e) => Check::failed(
                FailReason::LiveMismatch,
                format!("live values cannot be canonicalized: {e}"),
            ),
        };
        (check, diff)
    }
}
