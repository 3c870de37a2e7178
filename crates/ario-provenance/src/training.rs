//! Training anchors (`training_complete`) and the standalone dataset anchors
//! made for each logged input.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_mlflow_client::generated::types;
use ario_mlflow_client::resolve::ModelLocation;
use ario_mlflow_client::{MlflowClient, MlflowError};
use serde_json::{json, Value};

use crate::context::{pretty, Committed, Provenance};
use crate::error::ProvenanceError;
use crate::mlflow_io as io;
use crate::outbox::Writeback;
use crate::payload::{self, DatasetRecord, TrainingFields};
use crate::tags;

/// Options of [`Provenance::anchor_run`].
#[derive(Debug, Clone, Default)]
pub struct AnchorRunOptions {
    /// The logged model's path (required when the run logged several).
    pub artifact_path: Option<String>,
    /// Anchor a run that logged no dataset.
    pub allow_empty_datasets: bool,
    /// Extra payload members (structural members win on collision).
    pub metadata: BTreeMap<String, Value>,
    /// Build and sign nothing; write nothing.
    pub dry_run: bool,
}

/// How the model files were hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArtifactStatus {
    /// Files found and hashed.
    Hashed,
    /// No files at the model path.
    NoArtifacts,
    /// Hashing failed (the payload carries `{}`, as the plugin's does).
    HashFailed,
}

/// One standalone dataset anchor.
#[derive(Debug, Clone)]
pub struct DatasetAnchor {
    /// Dataset name.
    pub name: String,
    /// Payload bytes.
    pub payload_bytes: Vec<u8>,
    /// Payload hash.
    pub payload_hash: String,
    /// The signed envelope and upload result.
    pub committed: Committed,
}

/// What [`Provenance::anchor_run`] did.
#[derive(Debug, Clone)]
pub struct RunAnchor {
    /// The run.
    pub run_id: String,
    /// The payload.
    pub payload: Value,
    /// Its canonical bytes (`ario/payload.json`).
    pub payload_bytes: Vec<u8>,
    /// Their hash.
    pub payload_hash: String,
    /// Chain link.
    pub previous_hash: String,
    /// Registered model whose chain this extends.
    pub registered_model: Option<String>,
    /// The envelope (unsigned on a dry run).
    pub envelope: Value,
    /// Signed and committed (absent on a dry run).
    pub committed: Option<Committed>,
    /// Hashing outcome.
    pub artifact_status: ArtifactStatus,
    /// Why hashing failed.
    pub artifact_error: Option<String>,
    /// `ario.artifact_hash`.
    pub artifact_hash: Option<String>,
    /// The model directory that was hashed.
    pub artifact_path: String,
    /// Dataset anchors made first.
    pub dataset_anchors: Vec<DatasetAnchor>,
}

/// Params of a run.
pub fn run_params(run: &types::Run) -> BTreeMap<String, String> {
    run.data
        .as_ref()
        .map(|d| {
            d.params
                .iter()
                .map(|p| (p.key.clone(), p.value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Latest value of each metric; non-finite values are refused.
pub fn run_metrics(
    run_id: &str,
    run: &types::Run,
) -> Result<BTreeMap<String, f64>, ProvenanceError> {
    let mut out = BTreeMap::new();
    for m in run
        .data
        .as_ref()
        .map(|d| d.metrics.as_slice())
        .unwrap_or_default()
    {
        let v = match &m.value {
            types::MetricValue::Double(v) if v.is_finite() => *v,
            types::MetricValue::Double(v) => {
                return Err(ProvenanceError::NonFiniteMetric {
                    run_id: run_id.into(),
                    key: m.key.clone(),
                    value: v.to_string(),
                })
            }
            types::MetricValue::String(s) => {
                return Err(ProvenanceError::NonFiniteMetric {
                    run_id: run_id.into(),
                    key: m.key.clone(),
                    value: s.clone(),
                })
            }
        };
        out.insert(m.key.clone(), v);
    }
    Ok(out)
}

/// The run's logged datasets, in logged order.
pub fn run_datasets(run: &types::Run) -> Vec<DatasetRecord> {
    run.inputs
        .as_ref()
        .map(|i| i.dataset_inputs.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|di| {
            let ds = di.dataset.as_ref()?;
            Some(DatasetRecord {
                name: ds.name.clone(),
                source: ds.source.clone(),
                source_type: ds.source_type.clone(),
                digest: ds.digest.clone(),
                schema: ds.schema.clone(),
                context: di
                    .tags
                    .iter()
                    .find(|t| t.key == "mlflow.data.context")
                    .map(|t| t.value.clone()),
            })
        })
        .collect()
}

/// The model directory of a run: the explicit path, else the single logged
/// model; several logged models are an error when `strict`, else `model`.
pub async fn model_location(
    c: &MlflowClient,
    run_id: &str,
    run: &types::Run,
    artifact_path: Option<&str>,
    strict: bool,
) -> Result<ModelLocation, ProvenanceError> {
    if let Some(p) = artifact_path {
        return Ok(c.run_path_location(run_id, p).await?);
    }
    let locations = c.run_model_locations(run).await.unwrap_or_default();
    match locations.len() {
        1 => Ok(locations
            .into_iter()
            .next()
            .ok_or_else(|| ProvenanceError::Invalid("model location vanished".into()))?),
        0 => Ok(c.run_path_location(run_id, "model").await?),
        _ if strict => Err(ProvenanceError::AmbiguousModel {
            run_id: run_id.into(),
            paths: locations.into_iter().map(|l| l.name).collect(),
        }),
        _ => Ok(c.run_path_location(run_id, "model").await?),
    }
}

/// `relpath -> sha256hex` of every file below the model directory, except
/// MLflow's `registered_model_meta` bookkeeping (at any depth).
pub async fn checksums(
    c: &MlflowClient,
    loc: &ModelLocation,
) -> Result<BTreeMap<String, String>, MlflowError> {
    let files = c.list_artifacts(&loc.root, &loc.dir).await?;
    let prefix = if loc.dir.is_empty() {
        String::new()
    } else {
        format!("{}/", loc.dir.trim_end_matches('/'))
    };
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.path.strip_prefix(&prefix).unwrap_or(&f.path).to_owned();
        if rel.rsplit('/').next() == Some("registered_model_meta") || rel.is_empty() {
            continue;
        }
        let h = c.hash_artifact(&loc.root, &f.path).await?;
        out.insert(rel, h);
    }
    Ok(out)
}

/// Everything of a run that a training payload re-derives from live MLflow.
pub async fn training_fields(
    c: &MlflowClient,
    run_id: &str,
    run: &types::Run,
    loc: &ModelLocation,
) -> Result<(TrainingFields, Result<(), String>), ProvenanceError> {
    let tags = io::run_tags(run);
    let (artifact_checksums, hashed) = match checksums(c, loc).await {
        Ok(m) => (m, Ok(())),
        Err(e) => (BTreeMap::new(), Err(e.to_string())),
    };
    Ok((
        TrainingFields {
            run_id: run_id.into(),
            params: run_params(run),
            metrics: run_metrics(run_id, run)?,
            artifact_checksums,
            source_name: tags.get("mlflow.source.name").cloned().unwrap_or_default(),
            git_commit: tags
                .get("mlflow.source.git.commit")
                .cloned()
                .unwrap_or_default(),
            dataset_inputs: Some(run_datasets(run)),
        },
        hashed,
    ))
}

/// The subject of a dataset envelope.
pub fn dataset_subject(r: &DatasetRecord) -> Value {
    json!({"type": "mlflow_dataset", "name": r.name, "digest": r.digest})
}

impl Provenance {
    /// Anchors one dataset as a standalone `dataset` event; with `run_id`,
    /// the run gets `ario.dataset_anchor_tx.<name>` once uploaded.
    pub async fn anchor_dataset(
        &self,
        record: &DatasetRecord,
        run_id: Option<&str>,
    ) -> Result<DatasetAnchor, ProvenanceError> {
        let p = payload::dataset(record);
        let bytes = payload::canonical(&p)?;
        let hash = sha256_hex(&bytes);
        let unsigned = self.unsigned_envelope(
            payload::event::DATASET,
            dataset_subject(record),
            &hash,
            "GENESIS",
        );
        let (env, env_bytes) = self.sign(&unsigned)?;
        let wb = Writeback::Dataset {
            run_id: run_id.map(str::to_owned),
            name: record.name.clone().unwrap_or_default(),
        };
        let committed = self.commit_and_write_back(env, env_bytes, wb).await?;
        Ok(DatasetAnchor {
            name: record.name.clone().unwrap_or_default(),
            payload_bytes: bytes,
            payload_hash: hash,
            committed,
        })
    }

    /// Anchors a finished training run exactly as the plugin's `anchor()`:
    /// one dataset anchor per logged input, then the `training_complete`
    /// event, its `ario/` artifacts, run tags and the model's chain head.
    pub async fn anchor_run(
        &self,
        run_id: &str,
        opts: &AnchorRunOptions,
    ) -> Result<RunAnchor, ProvenanceError> {
        let c = self.mlflow();
        let run = c.run(run_id).await?;
        let loc = model_location(c, run_id, &run, opts.artifact_path.as_deref(), true).await?;
        let (fields, hashed) = training_fields(c, run_id, &run, &loc).await?;
        let (artifact_status, artifact_error) = match &hashed {
            Err(e) => (ArtifactStatus::HashFailed, Some(e.clone())),
            Ok(()) if fields.artifact_checksums.is_empty() => (ArtifactStatus::NoArtifacts, None),
            Ok(()) => (ArtifactStatus::Hashed, None),
        };
        let datasets = fields.dataset_inputs.clone().unwrap_or_default();
        if datasets.is_empty() && !opts.allow_empty_datasets {
            return Err(ProvenanceError::NoDatasetInputs {
                run_id: run_id.into(),
            });
        }
        let artifact_hash = payload::artifact_hash(&fields.artifact_checksums);
        let p = payload::training(&fields, &opts.metadata);
        let payload_bytes = payload::canonical(&p)?;
        let payload_hash = sha256_hex(&payload_bytes);
        let filter = format!("run_id='{}'", run_id.replace('\'', "\\'"));
        let registered_model = io::search_versions(c, &filter)
            .await
            .ok()
            .and_then(|v| v.into_iter().next())
            .and_then(|mv| mv.name);
        let previous_hash = match &registered_model {
            Some(m) => io::registered_model(c, m)
                .await
                .ok()
                .and_then(|rm| {
                    rm.tags
                        .into_iter()
                        .find(|t| t.key == tags::LAST_TRAINING_HASH)
                        .map(|t| t.value)
                })
                .unwrap_or_else(|| "GENESIS".into()),
            None => "GENESIS".into(),
        };
        let subject = json!({"type": "mlflow_run", "run_id": run_id});
        let unsigned = self.unsigned_envelope(
            payload::event::TRAINING,
            subject,
            &payload_hash,
            &previous_hash,
        );
        let mut out = RunAnchor {
            run_id: run_id.into(),
            payload: p,
            payload_bytes,
            payload_hash,
            previous_hash,
            registered_model,
            envelope: unsigned.clone(),
            committed: None,
            artifact_status,
            artifact_error,
            artifact_hash,
            artifact_path: loc.name.clone(),
            dataset_anchors: vec![],
        };
        if opts.dry_run {
            return Ok(out);
        }
        for d in &datasets {
            match self.anchor_dataset(d, Some(run_id)).await {
                Ok(a) => out.dataset_anchors.push(a),
                Err(e) => {
                    tracing::warn!(dataset = ?d.name, error = %e, "dataset anchor failed; continuing")
                }
            }
        }
        let (env, env_bytes) = self.sign(&unsigned)?;
        // MLflow first: once the envelope is in the outbox, everything a
        // verifier needs besides the transaction id is already stored.
        let root = io::run_root(&run)?;
        self.put_artifact(&root, "ario/payload.json", out.payload_bytes.clone())
            .await?;
        self.put_artifact(&root, "ario/proof.json", pretty(&env))
            .await?;
        let mut base = vec![
            (tags::PUBLIC_KEY, self.public_key_hex()),
            (tags::VERIFY_STATUS, "signed".to_owned()),
            (tags::PAYLOAD_HASH, out.payload_hash.clone()),
        ];
        if let Some(h) = &out.artifact_hash {
            base.push((tags::ARTIFACT_HASH, h.clone()));
        }
        base.extend(self.wallet_tags());
        for (k, v) in &base {
            io::set_run_tag(c, run_id, k, v).await?;
        }
        let wb = Writeback::Training {
            run_id: run_id.into(),
            registered_model: out.registered_model.clone(),
            payload_hash: out.payload_hash.clone(),
        };
        let committed = self
            .commit_and_write_back(env.clone(), env_bytes, wb)
            .await?;
        out.envelope = env;
        out.committed = Some(committed);
        Ok(out)
    }
}
