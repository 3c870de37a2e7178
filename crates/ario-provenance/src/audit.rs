//! `audit`: the whole lineage of a model version — training, its datasets,
//! registration, every promotion and alias move, and the recorded decisions —
//! each verified, with the model files re-hashed.
//!
//! The JSON form keeps every `ario.mlflow.audit/v1` member (a compatible
//! superset of the plugin's bundle).

use std::collections::BTreeMap;

use ario_mlflow_client::ArtifactRoot;
use serde::Serialize;
use serde_json::Value;

use crate::context::Provenance;
use crate::error::ProvenanceError;
use crate::mlflow_io as io;
use crate::payload;
use crate::tags;
use crate::training::checksums;
use crate::verify::{Checks, Expect, Row, Status, Verification};

/// Schema id of the audit bundle.
pub const SCHEMA: &str = "ario.mlflow.audit/v1";

/// One stage of the lineage.
#[derive(Debug, Clone, Serialize)]
pub struct AuditStage {
    /// `training`, `dataset`, `registration`, `promotion`, `alias` or `decision`.
    pub stage: String,
    /// Transaction, when anchored.
    pub tx_id: Option<String>,
    /// Whether a transaction is recorded.
    pub anchored: bool,
    /// The four checks.
    pub checks: Option<Checks>,
    /// `true` verified, `false` failed, `null` not anchored or undetermined.
    pub ok: Option<bool>,
    /// What the stage is (`None → Production`, `alias champion`, a decision id…).
    pub detail: String,
    /// The envelope's event id, when known.
    pub event_id: Option<String>,
    /// When it was signed.
    pub signed_at: Option<String>,
    /// Overall verification status of the stage.
    pub status: Option<Status>,
    /// The verification panel.
    pub rows: Vec<Row>,
}

/// One model file, re-hashed.
#[derive(Debug, Clone, Serialize)]
pub struct FileCheck {
    /// Path below the model directory.
    pub path: String,
    /// Hash now (`null`: the file is gone).
    pub sha256: Option<String>,
    /// Hash in the training payload (`null`: not anchored).
    pub anchored_sha256: Option<String>,
    /// Equal.
    pub ok: bool,
}

/// The model files against what was anchored.
#[derive(Debug, Clone, Serialize)]
pub struct Integrity {
    /// `ario.artifact_hash` of the source run.
    pub expected: Option<String>,
    /// The directory digest now.
    pub computed: Option<String>,
    /// `true` equal, `false` different, `null` could not be checked.
    pub ok: Option<bool>,
    /// File by file.
    pub files: Vec<FileCheck>,
    /// Why it could not be checked.
    pub error: Option<String>,
}

/// Decision counts.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionSummary {
    /// Decisions recorded under the model's run.
    pub total: usize,
    /// Decisions verified in this audit.
    pub audited: usize,
}

/// The audit bundle.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// Registered model.
    pub model: String,
    /// Version.
    pub version: String,
    /// When (UTC).
    pub generated_at: String,
    /// MLflow tracking URI.
    pub tracking_uri: String,
    /// Source run.
    pub run_id: Option<String>,
    /// Current stage.
    pub current_stage: Option<String>,
    /// `ario.artifact_hash`.
    pub artifact_hash: Option<String>,
    /// Lineage, in order.
    pub stages: Vec<AuditStage>,
    /// Every anchored stage verified and the files intact.
    pub overall_ok: bool,
    /// Aliases now pointing at the version.
    pub aliases: Vec<String>,
    /// The model files re-hashed.
    pub artifact_integrity: Integrity,
    /// Decisions.
    pub decisions: DecisionSummary,
}

impl Audit {
    /// 0 all verified, 1 something failed, 2 nothing anchored, 3 something could not be determined.
    pub fn exit_code(&self) -> i32 {
        if self.overall_ok {
            0
        } else if !self.stages.iter().any(|s| s.anchored) {
            2
        } else if self.stages.iter().any(|s| s.ok == Some(false))
            || self.artifact_integrity.ok == Some(false)
        {
            1
        } else {
            3
        }
    }
}

fn stage_from(stage: &str, detail: String, v: Verification) -> AuditStage {
    let ok = match v.status {
        Status::Verified => Some(true),
        Status::Failed | Status::Malformed => Some(false),
        _ => None,
    };
    let env = v.envelope.clone().unwrap_or(Value::Null);
    AuditStage {
        stage: stage.into(),
        tx_id: v.tx_id.clone(),
        anchored: true,
        checks: v.checks.clone(),
        ok,
        detail,
        event_id: env
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
        signed_at: env
            .get("signed_at")
            .and_then(Value::as_str)
            .map(str::to_owned),
        status: Some(v.status),
        rows: v.rows,
    }
}

fn unanchored(stage: &str, detail: String, env: Option<&Value>) -> AuditStage {
    AuditStage {
        stage: stage.into(),
        tx_id: None,
        anchored: false,
        checks: None,
        ok: None,
        detail,
        event_id: env
            .and_then(|e| e.get("event_id"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        signed_at: env
            .and_then(|e| e.get("signed_at"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        status: None,
        rows: vec![],
    }
}

/// A `ario/<dir>/<id>/…` event directory read back.
struct Recorded {
    id: String,
    envelope: Option<Value>,
    tx: Option<String>,
}

impl Provenance {
    async fn recorded(&self, root: &ArtifactRoot, dir: &str) -> Vec<Recorded> {
        let c = self.mlflow();
        let files = c.list_artifacts(root, dir).await.unwrap_or_default();
        let mut ids: Vec<String> = files
            .iter()
            .filter_map(|f| {
                f.path
                    .strip_prefix(&format!("{dir}/"))?
                    .split('/')
                    .next()
                    .map(str::to_owned)
            })
            .collect();
        ids.sort();
        ids.dedup();
        let mut out = Vec::new();
        for id in ids {
            let read = |name: &str| format!("{dir}/{id}/{name}");
            let envelope = c
                .read_artifact(root, &read("proof.json"), 1 << 20)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
            let tx = c
                .read_artifact(root, &read("receipt.json"), 1 << 20)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|r| r.get("id").and_then(Value::as_str).map(str::to_owned));
            out.push(Recorded { id, envelope, tx });
        }
        out.sort_by(|a, b| {
            let t = |r: &Recorded| {
                r.envelope
                    .as_ref()
                    .and_then(|e| e.get("signed_at"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            t(a).cmp(&t(b))
        });
        out
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
        let mv = io::model_version(c, name, version).await?;
        let mv_tags = io::version_tags(&mv);
        let run_id = mv.run_id.clone().filter(|r| !r.is_empty());
        let run = match &run_id {
            Some(r) => Some(c.run(r).await?),
            None => None,
        };
        let run_tags = run.as_ref().map(io::run_tags).unwrap_or_default();
        let mut stages = Vec::new();

        // Training and its datasets.
        match (&run_id, run_tags.get(tags::TRAINING_TX)) {
            (Some(r), Some(tx)) => {
                let expect = Expect {
                    subject: [("run_id".to_string(), r.clone())].into(),
                    dataset_run: None,
                };
                let v = self
                    .verify_tx("run", &format!("run {r}"), tx, &expect)
                    .await;
                stages.push(stage_from("training", format!("run {r}"), v));
            }
            (r, _) => stages.push(unanchored(
                "training",
                format!("run {}", r.as_deref().unwrap_or("unknown")),
                None,
            )),
        }
        for (k, tx) in &run_tags {
            if let Some(ds) = k.strip_prefix(tags::DATASET_ANCHOR_TX_PREFIX) {
                let v = self.verify_dataset(tx, run_id.as_deref()).await;
                stages.push(stage_from("dataset", format!("dataset {ds}"), v));
            }
        }

        // Registration.
        let target = format!("{name}/v{version}");
        let vexpect = Expect {
            subject: [
                ("name".to_string(), name.to_string()),
                ("version".to_string(), version.to_string()),
            ]
            .into(),
            dataset_run: None,
        };
        match mv_tags.get(tags::REGISTRATION_TX) {
            Some(tx) => {
                let v = self.verify_tx("model", &target, tx, &vexpect).await;
                stages.push(stage_from("registration", format!("version {version}"), v));
            }
            None => stages.push(unanchored(
                "registration",
                format!("version {version}"),
                None,
            )),
        }

        // Every promotion and alias move recorded under the version's run.
        let root = run.as_ref().map(io::run_root).transpose()?;
        for (stage, dir, tx_tag) in [
            ("promotion", "ario/promotions", tags::PROMOTION_TX),
            ("alias", "ario/aliases", tags::ALIAS_TX),
        ] {
            let Some(root) = &root else { break };
            let latest_tx = mv_tags.get(tx_tag).cloned();
            let mut covered_latest = false;
            for rec in self.recorded(root, dir).await {
                let env = rec.envelope.as_ref();
                let subj = env.and_then(|e| e.get("subject"));
                let for_us = subj.and_then(|s| s.get("name")).and_then(Value::as_str) == Some(name)
                    && subj.and_then(|s| s.get("version")).and_then(Value::as_str) == Some(version);
                if env.is_some() && !for_us {
                    continue;
                }
                let detail = self.event_detail(root, dir, &rec.id).await;
                let tx = match (&rec.tx, &latest_tx) {
                    (Some(t), _) => Some(t.clone()),
                    (None, Some(t)) => {
                        // The plugin keeps no receipt for promotions: the tag holds the latest one.
                        let matches = self
                            .reader()
                            .fetch_envelope(t)
                            .await
                            .ok()
                            .and_then(|f| f.json().ok())
                            .and_then(|e| {
                                e.get("event_id").and_then(Value::as_str).map(str::to_owned)
                            })
                            == Some(rec.id.clone());
                        matches.then(|| t.clone())
                    }
                    _ => None,
                };
                if tx.is_some() && tx == latest_tx {
                    covered_latest = true;
                }
                match tx {
                    Some(tx) => {
                        let v = self.verify_tx("model", &target, &tx, &vexpect).await;
                        stages.push(stage_from(stage, detail, v));
                    }
                    None => stages.push(unanchored(
                        stage,
                        format!("{detail} (signed, upload pending)"),
                        env,
                    )),
                }
            }
            if let (Some(t), false) = (&latest_tx, covered_latest) {
                let v = self.verify_tx("model", &target, t, &vexpect).await;
                stages.push(stage_from(
                    stage,
                    format!("latest {stage} (tag {tx_tag})"),
                    v,
                ));
            }
        }

        // Decisions.
        let mut total = 0;
        let mut audited = 0;
        if let Some(root) = &root {
            let mut recs = self.recorded(root, "ario/predictions").await;
            total = recs.len();
            recs.reverse();
            for rec in recs.into_iter().take(decisions.unwrap_or(usize::MAX)) {
                audited += 1;
                let trace_id = rec
                    .envelope
                    .as_ref()
                    .and_then(|e| e["subject"].get("trace_id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let mut tx = rec.tx.clone();
                if tx.is_none() {
                    if let Some(t) = &trace_id {
                        tx = io::trace_tags(c, t)
                            .await
                            .ok()
                            .and_then(|m| m.get(tags::PREDICTION_TX).cloned());
                    }
                }
                let detail = format!("decision {}", rec.id);
                match tx {
                    Some(tx) => {
                        let expect = Expect {
                            subject: [("decision_id".to_string(), rec.id.clone())].into(),
                            dataset_run: None,
                        };
                        let v = self.verify_tx("trace", &detail, &tx, &expect).await;
                        stages.push(stage_from("decision", detail, v));
                    }
                    None => stages.push(unanchored(
                        "decision",
                        format!("{detail} (signed, upload pending)"),
                        rec.envelope.as_ref(),
                    )),
                }
            }
        }

        let artifact_integrity = self.integrity(&mv, &run_tags, root.as_ref()).await;
        let overall_ok = stages.iter().all(|s| !s.anchored || s.ok == Some(true))
            && stages.iter().any(|s| s.anchored)
            && artifact_integrity.ok != Some(false);
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
            artifact_hash: run_tags.get(tags::ARTIFACT_HASH).cloned(),
            stages,
            overall_ok,
            aliases: mv.aliases.clone(),
            artifact_integrity,
            decisions: DecisionSummary { total, audited },
        })
    }

    async fn event_detail(&self, root: &ArtifactRoot, dir: &str, id: &str) -> String {
        let p = self
            .mlflow()
            .read_artifact(root, &format!("{dir}/{id}/payload.json"), 1 << 20)
            .await
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .unwrap_or(Value::Null);
        let g = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
        match p.get("event_type").and_then(Value::as_str) {
            Some(payload::event::STAGE) => format!("{} → {}", g("from_stage"), g("to_stage")),
            Some(payload::event::ALIAS) => {
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

    async fn integrity(
        &self,
        mv: &ario_mlflow_client::generated::types::ModelVersion,
        run_tags: &BTreeMap<String, String>,
        root: Option<&ArtifactRoot>,
    ) -> Integrity {
        let c = self.mlflow();
        let expected = run_tags.get(tags::ARTIFACT_HASH).cloned();
        let anchored: BTreeMap<String, String> = match root {
            Some(r) => c
                .read_artifact(r, "ario/payload.json", 16 << 20)
                .await
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|p| serde_json::from_value(p.get("artifact_checksums")?.clone()).ok())
                .unwrap_or_default(),
            None => BTreeMap::new(),
        };
        let now = match c.version_location(mv).await {
            Ok(loc) => checksums(c, &loc).await.map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let now = match now {
            Ok(n) => n,
            Err(e) => {
                return Integrity {
                    expected,
                    computed: None,
                    ok: None,
                    files: vec![],
                    error: Some(e),
                };
            }
        };
        let computed = payload::artifact_hash(&now);
        let mut paths: Vec<&String> = now.keys().chain(anchored.keys()).collect();
        paths.sort();
        paths.dedup();
        let files = paths
            .into_iter()
            .map(|p| FileCheck {
                path: p.clone(),
                sha256: now.get(p).cloned(),
                anchored_sha256: anchored.get(p).cloned(),
                ok: now.contains_key(p) && now.get(p) == anchored.get(p),
            })
            .collect();
        let ok = expected.as_ref().map(|e| Some(e) == computed.as_ref());
        Integrity {
            expected,
            computed,
            ok,
            files,
            error: None,
        }
    }
}
