//! Registration, stage transitions and alias moves: the MLflow call returns
//! at once; the anchor runs in the background behind a status handle.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::envelope::GENESIS;
use ario_mlflow_client::generated::types;
use ario_mlflow_client::records::{run_root, run_tags, version_tags};
use ario_mlflow_client::uri::parse_runs_uri;
use ario_mlflow_client::TagTarget;
use serde_json::Value;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject};
use crate::integrity::{check_files, IntegrityVerdict};
use crate::layout::payload_hash_tag;
use crate::payload;
use crate::pipeline::PreparedEvent;
use crate::run_facts::default_model_path;
use crate::tags;
use crate::tasks::{self, AnchorHandle, AnchorStatus};
use crate::writeback::Writeback;

/// A model version MLflow created or changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersionRef {
    /// Registered model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Current stage after the change, when MLflow reports one.
    pub current_stage: Option<String>,
}

fn version_ref(
    mv: Option<types::ModelVersion>,
    operation: &'static str,
) -> Result<ModelVersionRef, ProvenanceError> {
    let mv = mv.ok_or(ProvenanceError::IncompleteAnswer {
        operation,
        missing: "model version",
    })?;
    Ok(ModelVersionRef {
        name: mv.name.unwrap_or_default(),
        version: mv.version.ok_or(ProvenanceError::IncompleteAnswer {
            operation,
            missing: "version number",
        })?,
        current_stage: mv.current_stage,
    })
}

fn status_of(r: Result<crate::pipeline::Committed, ProvenanceError>) -> AnchorStatus {
    match r {
        Ok(c) => c.status(),
        Err(e) => AnchorStatus::Failed {
            error: e.to_string(),
        },
    }
}

impl Anchorer {
    fn spawn_event(
        &self,
        kind: EventKind,
        name: &str,
        version: &str,
        ev: PreparedEventTask,
    ) -> AnchorHandle {
        let me = self.clone();
        tasks::spawn(
            Some((&self.parts.tasks, (kind, name.into(), version.into()))),
            async move { status_of(ev.run(&me).await) },
        )
    }

    /// Status of the latest background anchor of this kind for a version.
    pub fn anchor_status(&self, kind: EventKind, name: &str, version: &str) -> AnchorStatus {
        self.parts
            .tasks
            .status(&(kind, name.into(), version.into()))
    }

    /// Creates the registered model when it does not exist yet.
    pub async fn ensure_registered_model(&self, name: &str) -> Result<(), ProvenanceError> {
        match self.mlflow().registered_model(name).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_not_found() => {
                let body = types::CreateRegisteredModelBody {
                    description: None,
                    name: name.into(),
                    tags: vec![],
                };
                match self
                    .mlflow()
                    .call(|api| {
                        let b = body.clone();
                        async move { api.create_registered_model(&b).await }
                    })
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(e) if e.error_code() == Some("RESOURCE_ALREADY_EXISTS") => Ok(()),
                    Err(e) => Err(e.into()),
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// MLflow's create-model-version, then a background `model_registered` anchor.
    pub async fn create_model_version(
        &self,
        name: &str,
        source: &str,
        run_id: Option<&str>,
        metadata: BTreeMap<String, Value>,
    ) -> Result<(ModelVersionRef, AnchorHandle), ProvenanceError> {
        let body = types::CreateModelVersionBody {
            description: None,
            model_id: None,
            name: name.into(),
            run_id: run_id.map(str::to_owned),
            run_link: None,
            source: source.into(),
            tags: vec![],
        };
        let created = self
            .mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.create_model_version(&b).await }
            })
            .await?;
        let mv = version_ref(created.model_version, "create-model-version")?;
        let task = PreparedEventTask::Registration {
            name: name.into(),
            version: mv.version.clone(),
            source: source.into(),
            run_id: run_id.map(str::to_owned),
            metadata,
        };
        let handle = self.spawn_event(EventKind::Registration, name, &mv.version, task);
        Ok((mv, handle))
    }

    /// Anchors the registration of an existing version (what the background task runs).
    pub async fn anchor_registration(
        &self,
        name: &str,
        version: &str,
        source: &str,
        run_id: Option<&str>,
        metadata: &BTreeMap<String, Value>,
    ) -> Result<AnchorStatus, ProvenanceError> {
        let ev = self
            .prepare_registration(name, version, source, run_id, metadata)
            .await?;
        Ok(self.commit(ev).await?.status())
    }

    async fn prepare_registration(
        &self,
        name: &str,
        version: &str,
        source: &str,
        run_id: Option<&str>,
        metadata: &BTreeMap<String, Value>,
    ) -> Result<PreparedEvent, ProvenanceError> {
        let c = self.mlflow();
        let (parsed, path) = parse_runs_uri(source);
        if let (Some(given), Some(parsed)) = (run_id, parsed.as_deref()) {
            if given != parsed {
                return Err(ProvenanceError::RunIdMismatch {
                    given: given.into(),
                    parsed: parsed.into(),
                });
            }
        }
        let source_run_id = run_id.map(str::to_owned).or(parsed);
        let (mut verified, mut expected, mut training_tx, mut root) = (None, None, None, None);
        if let Some(rid) = &source_run_id {
            // Never mint a GENESIS-linked proof because of a transient error.
            let run = c.run(rid).await?;
            let t = run_tags(&run);
            expected = t.get(tags::ARTIFACT_HASH).cloned();
            training_tx = t.get(tags::TRAINING_TX).cloned();
            root = Some(run_root(&run)?);
            if let Some(exp) = &expected {
                let p = path.as_deref().unwrap_or(default_model_path());
                let files = check_files(c, c.run_path_location(rid, p).await, Some(exp)).await;
                verified = match files.verdict {
                    IntegrityVerdict::Unavailable { .. } => None,
                    v => v.ok(),
                };
            }
        }
        let p = payload::registration(
            name,
            version,
            source_run_id.as_deref(),
            source,
            verified,
            expected.as_deref(),
            metadata,
        );
        let target = TagTarget::Version(name.into(), version.into());
        let mut pre_tags = vec![
            (target.clone(), tags::VERIFY_STATUS, "signed".to_owned()),
            (target.clone(), tags::PUBLIC_KEY, self.public_key_hex()),
        ];
        let payload_bytes = payload::canonical(&p)?;
        pre_tags.push((
            target.clone(),
            payload_hash_tag(EventKind::Registration),
            sha256_hex(&payload_bytes),
        ));
        if let Some(v) = verified {
            pre_tags.push((target.clone(), tags::ARTIFACT_VERIFIED, v.to_string()));
        }
        // Model versions get the wallet mode only (as the plugin writes them).
        for (k, v) in self.wallet_tags() {
            if k == tags::WALLET_MODE {
                pre_tags.push((target.clone(), k, v));
            }
        }
        Ok(PreparedEvent {
            kind: EventKind::Registration,
            subject: Subject::ModelVersion {
                name: name.into(),
                version: version.into(),
            },
            payload_bytes,
            previous_hash: training_tx.unwrap_or_else(|| GENESIS.into()),
            store_in: root,
            pre_tags,
            writeback: Writeback::Registration {
                name: name.into(),
                version: version.into(),
                run_id: source_run_id,
            },
        })
    }

    /// MLflow's transition-stage, then a background `stage_transition` anchor.
    pub async fn transition_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing: bool,
        metadata: BTreeMap<String, Value>,
    ) -> Result<(ModelVersionRef, AnchorHandle), ProvenanceError> {
        let before = self.mlflow().model_version(name, version).await?;
        let from = before.current_stage.unwrap_or_else(|| "None".into());
        let body = types::TransitionModelVersionStageBody {
            archive_existing_versions: Some(archive_existing),
            name: name.into(),
            stage: stage.into(),
            version: version.into(),
        };
        let moved = self
            .mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.transition_model_version_stage(&b).await }
            })
            .await?;
        let mv = version_ref(moved.model_version, "transition-stage")?;
        let p = payload::stage_transition(name, version, &from, stage, &metadata);
        let task = PreparedEventTask::VersionEvent {
            kind: EventKind::StageTransition,
            name: name.into(),
            version: version.into(),
            payload: p,
        };
        let handle = self.spawn_event(EventKind::StageTransition, name, version, task);
        Ok((mv, handle))
    }

    /// MLflow's set-alias, then a background `alias_set` anchor (spec §11).
    pub async fn set_alias(
        &self,
        name: &str,
        alias: &str,
        version: &str,
        metadata: BTreeMap<String, Value>,
    ) -> Result<AnchorHandle, ProvenanceError> {
        let (n, a) = (name.to_owned(), alias.to_owned());
        let previous = match self
            .mlflow()
            .call(|api| {
                let (n, a) = (n.clone(), a.clone());
                async move { api.get_model_version_by_alias(&a, &n).await }
            })
            .await
        {
            Ok(r) => r.model_version.and_then(|mv| mv.version),
            Err(e) if e.is_not_found() || e.error_code() == Some("INVALID_PARAMETER_VALUE") => None,
            Err(e) => return Err(e.into()),
        };
        let body = types::SetRegisteredModelAliasBody {
            alias: alias.into(),
            name: name.into(),
            version: version.into(),
        };
        self.mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.set_registered_model_alias(&b).await }
            })
            .await?;
        let p = payload::alias_set(name, version, alias, previous.as_deref(), &metadata);
        let task = PreparedEventTask::VersionEvent {
            kind: EventKind::AliasSet,
            name: name.into(),
            version: version.into(),
            payload: p,
        };
        Ok(self.spawn_event(EventKind::AliasSet, name, version, task))
    }

    /// Anchors a promotion or alias payload of a version.
    pub(crate) async fn prepare_version_event(
        &self,
        kind: EventKind,
        name: &str,
        version: &str,
        p: &Value,
    ) -> Result<PreparedEvent, ProvenanceError> {
        let c = self.mlflow();
        let mv = c.model_version(name, version).await?;
        let registration_tx = version_tags(&mv).get(tags::REGISTRATION_TX).cloned();
        let payload_bytes = payload::canonical(p)?;
        let run_id = mv.run_id.clone().filter(|r| !r.is_empty());
        let store_in = match &run_id {
            Some(rid) => Some(c.run_root(rid).await?),
            None => None,
        };
        let target = TagTarget::Version(name.into(), version.into());
        let hash = sha256_hex(&payload_bytes);
        let (n, v) = (name.to_owned(), version.to_owned());
        let writeback = if kind == EventKind::AliasSet {
            Writeback::Alias {
                name: n,
                version: v,
                run_id,
            }
        } else {
            Writeback::Promotion {
                name: n,
                version: v,
                run_id,
            }
        };
        Ok(PreparedEvent {
            kind,
            subject: Subject::ModelVersion {
                name: name.into(),
                version: version.into(),
            },
            payload_bytes,
            previous_hash: registration_tx.unwrap_or_else(|| GENESIS.into()),
            store_in,
            pre_tags: vec![(target, payload_hash_tag(kind), hash)],
            writeback,
        })
    }
}

/// The work of one background registry anchor.
enum PreparedEventTask {
    Registration {
        name: String,
        version: String,
        source: String,
        run_id: Option<String>,
        metadata: BTreeMap<String, Value>,
    },
    VersionEvent {
        kind: EventKind,
        name: String,
        version: String,
        payload: Value,
    },
}

impl PreparedEventTask {
    async fn run(self, a: &Anchorer) -> Result<crate::pipeline::Committed, ProvenanceError> {
        let ev = match &self {
            PreparedEventTask::Registration {
                name,
                version,
                source,
                run_id,
                metadata,
            } => {
                a.prepare_registration(name, version, source, run_id.as_deref(), metadata)
                    .await?
            }
            PreparedEventTask::VersionEvent {
                kind,
                name,
                version,
                payload,
            } => {
                a.prepare_version_event(*kind, name, version, payload)
                    .await?
            }
        };
        a.commit(ev).await
    }
}
