//! Gathering an audit: reads the lineage from MLflow, verifies each stage
//! and re-hashes the model files.

use std::collections::BTreeMap;

use ario_envelope::Envelope;
use ario_mlflow_client::records::{run_root, run_tags, version_tags};
use ario_mlflow_client::{ArtifactRoot, MlflowError};
use serde_json::Value;

use super::{decision_summary, overall, Audit, AuditStage, Integrity, SCHEMA};
use crate::error::ProvenanceError;
use crate::event::EventKind;
use crate::integrity::check_files;
use crate::layout::{artifact_path, dataset_tx_tag, event_dir, tx_tag, ArtifactFile};
use crate::verifier::Verifier;
use crate::verify::{Expect, TargetKind};

/// Largest small artifact read back (proofs, receipts, payloads).
const MAX_SMALL_ARTIFACT: u64 = 16 << 20;

/// One per-event folder read back.
pub(super) struct Recorded {
    pub(super) id: String,
    pub(super) envelope: Option<Envelope>,
    pub(super) tx: Option<String>,
}

impl Verifier {
    pub(super) async fn read_json(
        &self,
        root: &ArtifactRoot,
        path: Option<String>,
    ) -> Option<Value> {
        let b = self
            .mlflow()
            .read_artifact(root, &path?, MAX_SMALL_ARTIFACT)
            .await
            .ok()?;
        serde_json::from_slice(&b).ok()
    }

    /// The per-event folders of `kind` below a run, oldest first. A listing
    /// that fails is an error: a stage must never drop out of the audit.
    pub(super) async fn recorded(
        &self,
        root: &ArtifactRoot,
        kind: EventKind,
    ) -> Result<Vec<Recorded>, MlflowError> {
        let Some(dir) = event_dir(kind) else {
            return Ok(vec![]);
        };
        let files = match self.mlflow().list_artifacts(root, &dir).await {
            Ok(f) => f,
            Err(e) if e.is_not_found() => vec![],
            Err(e) => return Err(e),
        };
        let prefix = format!("{dir}/");
        let mut ids: Vec<String> = files
            .iter()
            .filter_map(|f| {
                f.path
                    .strip_prefix(&prefix)?
                    .split('/')
                    .next()
                    .map(str::to_owned)
            })
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            let file = |f| artifact_path(kind, &id, f);
            let envelope = self
                .read_json(root, file(ArtifactFile::Proof))
                .await
                .and_then(|v| Envelope::from_value(v).ok());
            let tx = self
                .read_json(root, file(ArtifactFile::Receipt))
                .await
                .and_then(|r| r.get("id").and_then(Value::as_str).map(str::to_owned));
            out.push(Recorded { id, envelope, tx });
        }
        out.sort_by(|a, b| {
            let t = |r: &Recorded| r.envelope.as_ref().and_then(|e| e.signed_at.clone());
            t(a).cmp(&t(b))
        });
        Ok(out)
    }

    async fn event_detail(&self, root: &ArtifactRoot, kind: EventKind, id: &str) -> String {
        let p = self
            .read_json(root, artifact_path(kind, id, ArtifactFile::Payload))
            .await
            .unwrap_or(Value::Null);
        let g = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
        match kind {
            EventKind::StageTransition => format!("{} → {}", g("from_stage"), g("to_stage")),
            EventKind::AliasSet => {
                let prev = p
                    .get("previous_version")
                    .and_then(Value::as_str)
                    .map(|v| format!(" (was v{v})"))
                    .unwrap_or_default();
                format!("alias {}{prev}", g("alias"))
            }
            _ => format!("event {id}"),
        }
    }

    /// The event id of the envelope at `tx`, when it can be fetched.
    async fn event_id_at(&self, tx: &str) -> Option<String> {
        let env = self.reader().fetch_envelope(tx).await.ok()?.json().ok()?;
        env.get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    }

    /// Every promotion or alias move recorded for the version.
    async fn version_events(
        &self,
        kind: EventKind,
        root: &ArtifactRoot,
        latest_tx: Option<&String>,
        expect: &Expect,
        target: &str,
        stages: &mut Vec<AuditStage>,
    ) -> Result<(), MlflowError> {
        let Expect::Version(name, version) = expect else {
            return Ok(());
        };
        let mut covered_latest = false;
        for rec in self.recorded(root, kind).await? {
            let subject = rec.envelope.as_ref().and_then(|e| e.subject.as_ref());
            let member = |k: &str| subject.and_then(|s| s.get(k)).and_then(Value::as_str);
            let for_us = member("name") == Some(name) && member("version") == Some(version);
            if rec.envelope.is_some() && !for_us {
                continue;
            }
            let detail = self.event_detail(root, kind, &rec.id).await;
            let tx = match (&rec.tx, latest_tx) {
                (Some(t), _) => Some(t.clone()),
                // The plugin keeps no receipt for promotions: the tag holds the latest one.
                (None, Some(t)) if self.event_id_at(t).await.as_ref() == Some(&rec.id) => {
                    Some(t.clone())
                }
                _ => None,
            };
            covered_latest |= tx.is_some() && tx.as_ref() == latest_tx;
            stages.push(match tx {
                Some(tx) => {
                    let v = self.verify_tx(TargetKind::Model, target, &tx, expect).await;
                    AuditStage::verified(kind, detail, v)
                }
                None => AuditStage::unanchored(
                    kind,
                    format!("{detail} (signed, upload pending)"),
                    rec.envelope.as_ref(),
                ),
            });
        }
        if let (Some(t), false) = (latest_tx, covered_latest) {
            let v = self.verify_tx(TargetKind::Model, target, t, expect).await;
            let detail = format!("latest {} (tag {})", kind.stage_name(), tx_tag(kind));
            stages.push(AuditStage::verified(kind, detail, v));
        }
        Ok(())
    }

    /// The latest decisions recorded under the run (`limit`: how many; `None`: all).
    async fn decisions(
        &self,
        root: &ArtifactRoot,
        limit: Option<usize>,
        stages: &mut Vec<AuditStage>,
    ) -> Result<usize, MlflowError> {
        let kind = EventKind::Prediction;
        let mut recs = self.recorded(root, kind).await?;
        let total = recs.len();
        recs.reverse();
        let count = recs.len().min(limit.unwrap_or(usize::MAX));
        let progress = crate::progress::begin("verifying decisions", count);
        for rec in recs.into_iter().take(count) {
            progress.step();
            let mut tx = rec.tx.clone();
            let trace_id = rec
                .envelope
                .as_ref()
                .and_then(|e| e.subject.as_ref())
                .and_then(|s| s.get("trace_id"))
                .and_then(Value::as_str);
            if let (None, Some(t)) = (&tx, trace_id) {
                tx = self
                    .mlflow()
                    .trace_tags(t)
                    .await
                    .ok()
                    .and_then(|m| m.get(tx_tag(kind)).cloned());
            }
            let detail = format!("decision {}", rec.id);
            stages.push(match tx {
                Some(tx) => {
                    let expect = Expect::Decision(rec.id.clone());
                    let v = self
                        .verify_tx(TargetKind::Trace, &detail, &tx, &expect)
                        .await;
                    AuditStage::verified(kind, detail, v)
                }
                None => AuditStage::unanchored(
                    kind,
                    format!("{detail} (signed, upload pending)"),
                    rec.envelope.as_ref(),
                ),
            });
        }
        Ok(total)
    }

    /// Audits a model version. `decisions`: how many of the latest decisions
    /// to verify (`None`: all).
    pub async fn audit(
        &self,
        name: &str,
        version: &str,
        decisions: Option<usize>,
    ) -> Result<Audit, ProvenanceError> {
        let c = self.mlflow();
        let mv = c.model_version(name, version).await?;
        let mv_tags = version_tags(&mv);
        let run_id = mv.run_id.clone().filter(|r| !r.is_empty());
        let run = match &run_id {
            Some(r) => Some(c.run(r).await?),
            None => None,
        };
        let rtags = run.as_ref().map(run_tags).unwrap_or_default();
        let root = run.as_ref().map(run_root).transpose()?;
        let mut stages = Vec::new();

        // Training and its datasets.
        let training = EventKind::Training;
        match (&run_id, rtags.get(tx_tag(training))) {
            (Some(r), Some(tx)) => {
                let target = format!("run {r}");
                let v = self
                    .verify_tx(TargetKind::Run, &target, tx, &Expect::Run(r.clone()))
                    .await;
                stages.push(AuditStage::verified(training, target, v));
            }
            (r, _) => {
                let detail = format!("run {}", r.as_deref().unwrap_or(crate::event::UNKNOWN_RUN));
                stages.push(AuditStage::unanchored(training, detail, None));
            }
        }
        for (k, tx) in &rtags {
            if let Some(ds) = k.strip_prefix(&dataset_tx_tag("")) {
                let v = self.verify_dataset(tx, run_id.as_deref()).await;
                stages.push(AuditStage::verified(
                    EventKind::Dataset,
                    format!("dataset {ds}"),
                    v,
                ));
            }
        }

        // Registration, then every promotion and alias move.
        let target = format!("{name}/v{version}");
        let expect = Expect::Version(name.into(), version.into());
        let reg = EventKind::Registration;
        match mv_tags.get(tx_tag(reg)) {
            Some(tx) => {
                let v = self
                    .verify_tx(TargetKind::Model, &target, tx, &expect)
                    .await;
                stages.push(AuditStage::verified(reg, format!("version {version}"), v));
            }
            None => stages.push(AuditStage::unanchored(
                reg,
                format!("version {version}"),
                None,
            )),
        }
        let (mut total, mut batches) = (0, 0);
        if let Some(root) = &root {
            for kind in [EventKind::StageTransition, EventKind::AliasSet] {
                let latest = mv_tags.get(tx_tag(kind));
                self.version_events(kind, root, latest, &expect, &target, &mut stages)
                    .await?;
            }
            total = self.decisions(root, decisions, &mut stages).await?;
            batches = self.decision_batches(root, decisions, &mut stages).await?;
        }

        let artifact_integrity = self.integrity(&mv, &rtags, root.as_ref()).await;
        let overall = overall(&stages, artifact_integrity.ok);
        Ok(Audit {
            schema: SCHEMA,
            model: name.into(),
            version: version.into(),
            generated_at: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.6fZ")
                .to_string(),
            tracking_uri: c.tracking_uri().to_owned(),
            run_id,
            current_stage: mv.current_stage.clone(),
            artifact_hash: rtags.get(crate::tags::ARTIFACT_HASH).cloned(),
            decisions: decision_summary(&stages, total),
            decision_batches: super::batch_summary(&stages, batches),
            stages,
            overall,
            overall_ok: overall == crate::verify::verdict::Status::Verified,
            aliases: mv.aliases.clone(),
            artifact_integrity,
        })
    }

    async fn integrity(
        &self,
        mv: &ario_mlflow_client::generated::types::ModelVersion,
        rtags: &BTreeMap<String, String>,
        root: Option<&ArtifactRoot>,
    ) -> Integrity {
        let expected = rtags.get(crate::tags::ARTIFACT_HASH).map(String::as_str);
        let anchored: BTreeMap<String, String> = match root {
            Some(r) => self
                .read_json(
                    r,
                    artifact_path(EventKind::Training, "", ArtifactFile::Payload),
                )
                .await
                .and_then(|p| serde_json::from_value(p.get("artifact_checksums")?.clone()).ok())
                .unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let files = check_files(
            self.mlflow(),
            self.mlflow().version_location(mv).await,
            expected,
        )
        .await;
        Integrity::from_files(&files, &anchored)
    }
}
