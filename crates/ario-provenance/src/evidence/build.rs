//! Building a bundle from an audit: every anchored stage's envelope (as the
//! gateway served it), payload bytes (as MLflow keeps them) and the MLflow
//! facts that re-derive them.

use serde_json::{json, Value};

use super::seal;
use crate::anchorer::Anchorer;
use crate::audit::{Audit, AuditStage};
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::run_facts::run_datasets;

fn incomplete(stage: &AuditStage, why: impl std::fmt::Display) -> ProvenanceError {
    ProvenanceError::EvidenceIncomplete {
        stage: format!("{} ({})", stage.stage.stage_name(), stage.detail),
        why: why.to_string(),
    }
}

impl Anchorer {
    /// The evidence bundle of an audited model version, signed with our key.
    /// Every anchored stage must be obtainable (envelope and payload), or
    /// there is no bundle: it would claim more than it holds.
    pub async fn evidence(&self, audit: &Audit) -> Result<Value, ProvenanceError> {
        let mut stages = Vec::new();
        for s in audit.stages.iter().filter(|s| s.anchored) {
            let Some(tx) = &s.tx_id else { continue };
            stages.push(self.stage_evidence(audit, s, tx).await?);
        }
        let files: Vec<Value> = audit
            .artifact_integrity
            .digests()
            .into_iter()
            .map(|(path, h)| json!({"path": path, "sha256": h}))
            .collect();
        // Each stage's digest, signed with the rest: a changed byte in one
        // stage is found in that stage, not only in the wrapper.
        let stage_digests = stages
            .iter()
            .map(|st| {
                ario_envelope::jcs::canonicalize(st)
                    .map(|b| ario_envelope::encoding::sha256_hex(&b))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let body = json!({
            "model": audit.model,
            "version": audit.version,
            "run_id": audit.run_id,
            "tracking_uri": audit.tracking_uri,
            "audited_at": audit.generated_at,
            "files": files,
            "stages": stages,
            "stage_digests": stage_digests,
        });
        let status = serde_json::to_value(audit.overall)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "undetermined".into());
        let summary = format!(
            "{}/v{}: {} anchored stage(s), audited {}",
            audit.model,
            audit.version,
            audit.stages.iter().filter(|s| s.anchored).count(),
            audit.generated_at
        );
        let gateway = self.gateway().gateways.first().cloned().unwrap_or_default();
        Ok(seal(body, &status, summary, &gateway, &self.parts.key)?)
    }

    async fn stage_evidence(
        &self,
        audit: &Audit,
        s: &AuditStage,
        tx: &str,
    ) -> Result<Value, ProvenanceError> {
        let fetched = self
            .reader()
            .fetch_envelope(tx)
            .await
            .map_err(|e| incomplete(s, e))?;
        let envelope = fetched.json().map_err(|e| incomplete(s, e))?;
        let subject = Subject::from_json(envelope.get("subject")).map_err(|e| incomplete(s, e))?;
        let event_id = envelope
            .get("event_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let payload = self
            .locate_payload(s.stage, &subject, &event_id, audit.run_id.as_deref())
            .await
            .map_err(|c| incomplete(s, c.message))?;
        let facts = self.facts(s, &subject, audit).await?;
        let attestation = s
            .checks
            .as_ref()
            .and_then(|c| c.ario_attestation.attestation.as_ref());
        // The recorded answer is checked offline against JCS(envelope); it
        // is recorded only when that is what the gateway served (producers
        // upload JCS), so a bundle never fails a check the live one passed.
        let served_jcs =
            ario_envelope::jcs::canonicalize(&envelope).is_ok_and(|b| b == fetched.bytes);
        let recorded = attestation
            .and_then(|a| a.evidence.as_ref())
            .filter(|_| served_jcs);
        Ok(json!({
            "stage": s.stage.stage_name(),
            "event_type": s.stage.wire_name(),
            "detail": s.detail,
            "tx_id": tx,
            "envelope": envelope,
            "payload_hex": hex::encode(&payload),
            "facts": facts,
            "gateway": {"url": fetched.gateway},
            "attestation": attestation,
            "attestation_evidence": recorded,
            "live_rows": s.rows,
        }))
    }

    /// The MLflow facts a stage's payload is re-derived from (`null` for
    /// events whose stored payload is all there is).
    async fn facts(
        &self,
        s: &AuditStage,
        subject: &Subject,
        audit: &Audit,
    ) -> Result<Value, ProvenanceError> {
        Ok(match (s.stage, subject) {
            (EventKind::Training, Subject::Run { run_id }) => {
                let run = self.mlflow().run(run_id).await?;
                let sums = audit.artifact_integrity.digests();
                json!({
                    "runs_get_body": serde_json::to_string(&json!({"run": run})).map_err(|e| incomplete(s, e))?,
                    "artifact_checksums": sums,
                })
            }
            (EventKind::Dataset, Subject::Dataset { name, digest }) => {
                let Some(run_id) = &audit.run_id else {
                    return Err(incomplete(s, "the dataset's run is not known"));
                };
                let run = self.mlflow().run(run_id).await?;
                let record = run_datasets(&run)
                    .into_iter()
                    .find(|d| &d.name == name && &d.digest == digest)
                    .ok_or_else(|| incomplete(s, "the run no longer logs this dataset"))?;
                json!({"record": record})
            }
            (EventKind::Registration, Subject::ModelVersion { name, version }) => {
                let mv = self.mlflow().model_version(name, version).await?;
                json!({"model_version": {
                    "name": mv.name, "version": mv.version, "source": mv.source,
                    "run_id": mv.run_id.filter(|r| !r.is_empty()),
                }})
            }
            _ => Value::Null,
        })
    }
}
