//! Training anchors (`training_complete`) and the standalone dataset anchors
//! made for each logged input.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::{Envelope, GENESIS};
use ario_mlflow_client::records::{run_root, run_tags};
use ario_mlflow_client::TagTarget;
use serde_json::Value;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::layout::tx_tag;
use crate::payload::{self, DatasetRecord};
use crate::pipeline::{Committed, PreparedEvent};
use crate::run_facts::{model_location, run_datasets, training_fields};
use crate::tags;
use crate::verify::{REANCHOR_REASON, SUPERSEDES};
use crate::writeback::Writeback;

/// Options of [`Anchorer::anchor_run`].
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
    /// Anchor a run that already carries a training anchor, saying why: the
    /// new payload names the transaction it supersedes and this reason.
    pub reanchor: Option<String>,
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

/// What [`Anchorer::anchor_run`] did.
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
    pub envelope: Envelope,
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

impl Anchorer {
    /// The dataset named `name` among a run's logged inputs.
    pub async fn logged_dataset(
        &self,
        run_id: &str,
        name: &str,
    ) -> Result<DatasetRecord, ProvenanceError> {
        let run = self.mlflow().run(run_id).await?;
        run_datasets(&run)
            .into_iter()
            .find(|d| d.name.as_deref() == Some(name))
            .ok_or_else(|| ProvenanceError::DatasetNotFound {
                run_id: run_id.into(),
                name: name.into(),
            })
    }

    /// Anchors one dataset as a standalone `dataset` event; with `run_id`,
    /// the run gets `ario.dataset_anchor_tx.<name>` once uploaded.
    pub async fn anchor_dataset(
        &self,
        record: &DatasetRecord,
        run_id: Option<&str>,
    ) -> Result<DatasetAnchor, ProvenanceError> {
        let bytes = payload::canonical(&payload::dataset(record))?;
        let hash = sha256_hex(&bytes);
        let name = record.name.clone().unwrap_or_default();
        let committed = self
            .commit(PreparedEvent {
                kind: EventKind::Dataset,
                subject: Subject::Dataset {
                    name: record.name.clone(),
                    digest: record.digest.clone(),
                },
                payload_bytes: bytes.clone(),
                previous_hash: GENESIS.into(),
                store_in: None,
                pre_tags: vec![],
                writeback: Writeback::Dataset {
                    run_id: run_id.map(str::to_owned),
                    name: name.clone(),
                },
            })
            .await?;
        Ok(DatasetAnchor {
            name,
            payload_bytes: bytes,
            payload_hash: hash,
            committed,
        })
    }

    /// The chain link of a run's training anchor: the registered model's
    /// head when the run backs a version, else `GENESIS`. A failed lookup is
    /// an error, never a silent `GENESIS`.
    async fn training_chain(
        &self,
        run_id: &str,
    ) -> Result<(Option<String>, String), ProvenanceError> {
        let c = self.mlflow();
        let filter = format!("run_id='{}'", run_id.replace('\'', "\\'"));
        let model = c
            .search_versions(&filter)
            .await?
            .into_iter()
            .find_map(|mv| mv.name);
        let Some(m) = model else {
            return Ok((None, GENESIS.into()));
        };
        let head = c
            .registered_model(&m)
            .await?
            .tags
            .into_iter()
            .find(|t| t.key == tags::LAST_TRAINING_HASH)
            .map_or_else(|| GENESIS.to_owned(), |t| t.value);
        Ok((Some(m), head))
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
            Err(e) => (ArtifactStatus::HashFailed, Some(e.to_string())),
            Ok(()) if fields.artifact_checksums.is_empty() => (ArtifactStatus::NoArtifacts, None),
            Ok(()) => (ArtifactStatus::Hashed, None),
        };
        let datasets = fields.dataset_inputs.clone().unwrap_or_default();
        if datasets.is_empty() && !opts.allow_empty_datasets {
            return Err(ProvenanceError::NoDatasetInputs {
                run_id: run_id.into(),
            });
        }
        let mut metadata = opts.metadata.clone();
        if let Some(previous) = run_tags(&run).get(tx_tag(EventKind::Training)) {
            match opts.reanchor.as_deref().map(str::trim) {
                Some(reason) if !reason.is_empty() => {
                    metadata.insert(SUPERSEDES.into(), previous.clone().into());
                    metadata.insert(REANCHOR_REASON.into(), reason.into());
                }
                Some(_) => return Err(ProvenanceError::ReanchorWithoutReason),
                None if opts.dry_run => {}
                None => {
                    return Err(ProvenanceError::AlreadyAnchored {
                        run_id: run_id.into(),
                        tx_id: previous.clone(),
                    })
                }
            }
        }
        let artifact_hash = payload::artifact_hash(&fields.artifact_checksums);
        let p = payload::training(&fields, &metadata);
        let payload_bytes = payload::canonical(&p)?;
        let payload_hash = sha256_hex(&payload_bytes);
        let (registered_model, previous_hash) = self.training_chain(run_id).await?;
        let subject = Subject::Run {
            run_id: run_id.into(),
        };
        let mut out = RunAnchor {
            run_id: run_id.into(),
            payload: p,
            envelope: self.unsigned_envelope(
                EventKind::Training,
                &subject,
                &payload_hash,
                &previous_hash,
            ),
            payload_bytes,
            payload_hash,
            previous_hash,
            registered_model,
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
        let target = TagTarget::Run(run_id.into());
        let mut pre_tags = vec![
            (target.clone(), tags::PUBLIC_KEY, self.public_key_hex()),
            (target.clone(), tags::VERIFY_STATUS, "signed".to_owned()),
            (target.clone(), tags::PAYLOAD_HASH, out.payload_hash.clone()),
        ];
        if let Some(h) = &out.artifact_hash {
            pre_tags.push((target.clone(), tags::ARTIFACT_HASH, h.clone()));
        }
        for (k, v) in self.wallet_tags() {
            pre_tags.push((target.clone(), k, v));
        }
        let committed = self
            .commit(PreparedEvent {
                kind: EventKind::Training,
                subject,
                payload_bytes: out.payload_bytes.clone(),
                previous_hash: out.previous_hash.clone(),
                store_in: Some(run_root(&run)?),
                pre_tags,
                writeback: Writeback::Training {
                    run_id: run_id.into(),
                    registered_model: out.registered_model.clone(),
                    payload_hash: out.payload_hash.clone(),
                },
            })
            .await?;
        out.envelope = committed.envelope.clone();
        out.committed = Some(committed);
        Ok(out)
    }
}
