//! Registration, stage transitions and alias moves: the MLflow call returns
//! at once; the anchor runs in the background behind a status handle.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use ario_envelope::encoding::sha256_hex;
use ario_mlflow_client::generated::types;
use ario_mlflow_client::uri::parse_runs_uri;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::context::{pretty, Provenance};
use crate::error::ProvenanceError;
use crate::mlflow_io as io;
use crate::outbox::Writeback;
use crate::payload;
use crate::tags;
use crate::training::checksums;

/// Where a background anchor stands (the plugin's vocabulary).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AnchorStatus {
    /// Still running.
    Anchoring,
    /// On Arweave.
    Anchored {
        /// The transaction.
        tx_id: String,
    },
    /// Signed and stored; the upload is pending in the outbox.
    Signed {
        /// Why the upload did not go through.
        error: Option<String>,
    },
    /// No proof was made.
    Failed {
        /// Why.
        error: String,
    },
    /// Nothing was queued under this key.
    Unknown,
}

impl AnchorStatus {
    /// `anchored` when the upload went through, else `signed`.
    pub fn of(committed: &crate::context::Committed) -> Self {
        match committed.tx_id() {
            Some(tx) => AnchorStatus::Anchored { tx_id: tx.into() },
            None => AnchorStatus::Signed {
                error: committed.upload_error.clone(),
            },
        }
    }
    /// Finished (any state but `anchoring`).
    pub fn done(&self) -> bool {
        !matches!(self, AnchorStatus::Anchoring)
    }
    /// The short name (`anchoring`, `anchored`, `signed`, `failed`, `unknown`).
    pub fn name(&self) -> &'static str {
        match self {
            AnchorStatus::Anchoring => "anchoring",
            AnchorStatus::Anchored { .. } => "anchored",
            AnchorStatus::Signed { .. } => "signed",
            AnchorStatus::Failed { .. } => "failed",
            AnchorStatus::Unknown => "unknown",
        }
    }
}

/// A handle on one background anchor.
#[derive(Debug, Clone)]
pub struct AnchorHandle {
    rx: watch::Receiver<AnchorStatus>,
}

impl AnchorHandle {
    pub(crate) fn from_receiver(rx: watch::Receiver<AnchorStatus>) -> Self {
        AnchorHandle { rx }
    }
    /// Current status.
    pub fn status(&self) -> AnchorStatus {
        self.rx.borrow().clone()
    }
    /// Waits until done or `timeout`; true when done.
    pub async fn wait(&self, timeout: Duration) -> bool {
        let mut rx = self.rx.clone();
        tokio::time::timeout(timeout, rx.wait_for(AnchorStatus::done))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

/// Which kind of background event a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// Registration.
    Registration,
    /// Stage transition.
    Promotion,
    /// Alias move.
    Alias,
}

type Key = (EventKind, String, String);

/// The status table of background anchors.
#[derive(Debug, Default)]
pub struct Tasks(Mutex<HashMap<Key, watch::Receiver<AnchorStatus>>>);

impl Provenance {
    fn spawn_anchor<F>(&self, key: Key, work: F) -> AnchorHandle
    where
        F: std::future::Future<Output = AnchorStatus> + Send + 'static,
    {
        let (tx, rx) = watch::channel(AnchorStatus::Anchoring);
        if let Ok(mut t) = self.tasks().0.lock() {
            t.insert(key, rx.clone());
        }
        tokio::spawn(async move {
            let status = work.await;
            let _ = tx.send(status);
        });
        AnchorHandle { rx }
    }

    /// Status of the latest background anchor of this kind for a version.
    pub fn anchor_status(&self, kind: EventKind, name: &str, version: &str) -> AnchorStatus {
        self.tasks()
            .0
            .lock()
            .ok()
            .and_then(|t| t.get(&(kind, name.into(), version.into())).cloned())
            .map(|rx| rx.borrow().clone())
            .unwrap_or(AnchorStatus::Unknown)
    }

    /// Creates the registered model when it does not exist yet.
    pub async fn ensure_registered_model(&self, name: &str) -> Result<(), ProvenanceError> {
        match io::registered_model(self.mlflow(), name).await {
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
    ) -> Result<(types::ModelVersion, AnchorHandle), ProvenanceError> {
        let body = types::CreateModelVersionBody {
            description: None,
            model_id: None,
            name: name.into(),
            run_id: run_id.map(str::to_owned),
            run_link: None,
            source: source.into(),
            tags: vec![],
        };
        let mv = self
            .mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.create_model_version(&b).await }
            })
            .await?
            .model_version
            .ok_or_else(|| ProvenanceError::Invalid("create answered without a version".into()))?;
        let version = mv.version.clone().unwrap_or_default();
        let me = self.clone();
        let (n, v, s, r) = (
            name.to_owned(),
            version.clone(),
            source.to_owned(),
            run_id.map(str::to_owned),
        );
        let handle = self.spawn_anchor(
            (EventKind::Registration, name.into(), version),
            async move {
                match me
                    .anchor_registration(&n, &v, &s, r.as_deref(), &metadata)
                    .await
                {
                    Ok(s) => s,
                    Err(e) => AnchorStatus::Failed {
                        error: e.to_string(),
                    },
                }
            },
        );
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
            let t = io::run_tags(&run);
            expected = t.get(tags::ARTIFACT_HASH).cloned();
            training_tx = t.get(tags::TRAINING_TX).cloned();
            root = Some(io::run_root(&run)?);
            if let Some(exp) = &expected {
                let p = path.clone().unwrap_or_else(|| "model".into());
                if let Ok(loc) = c.run_path_location(rid, &p).await {
                    if let Ok(sums) = checksums(c, &loc).await {
                        if let Some(h) = payload::artifact_hash(&sums) {
                            verified = Some(&h == exp);
                        }
                    }
                }
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
        let bytes = payload::canonical(&p)?;
        let hash = sha256_hex(&bytes);
        let unsigned = self.unsigned_envelope(
            payload::event::REGISTRATION,
            json!({"type": "mlflow_model_version", "name": name, "version": version}),
            &hash,
            training_tx.as_deref().unwrap_or("GENESIS"),
        );
        let (env, env_bytes) = self.sign(&unsigned)?;
        if let Some(root) = &root {
            self.put_artifact(root, "ario/registration_payload.json", bytes)
                .await?;
            self.put_artifact(root, "ario/registration_proof.json", pretty(&env))
                .await?;
        }
        let mut base = vec![
            (tags::VERIFY_STATUS, "signed".to_owned()),
            (tags::PUBLIC_KEY, self.public_key_hex()),
            (tags::PAYLOAD_HASH, hash),
        ];
        if let Some(v) = verified {
            base.push((tags::ARTIFACT_VERIFIED, v.to_string()));
        }
        // Model versions get the wallet mode only (as the plugin writes them).
        base.extend(
            self.wallet_tags()
                .into_iter()
                .filter(|(k, _)| *k == tags::WALLET_MODE),
        );
        for (k, v) in &base {
            io::set_version_tag(c, name, version, k, v).await?;
        }
        let wb = Writeback::Registration {
            name: name.into(),
            version: version.into(),
            run_id: source_run_id,
        };
        self.finish(env, env_bytes, wb).await
    }

    async fn finish(
        &self,
        env: Value,
        env_bytes: Vec<u8>,
        wb: Writeback,
    ) -> Result<AnchorStatus, ProvenanceError> {
        let committed = self.commit_and_write_back(env, env_bytes, wb).await?;
        Ok(AnchorStatus::of(&committed))
    }

    /// MLflow's transition-stage, then a background `stage_transition` anchor.
    pub async fn transition_stage(
        &self,
        name: &str,
        version: &str,
        stage: &str,
        archive_existing: bool,
        metadata: BTreeMap<String, Value>,
    ) -> Result<(types::ModelVersion, AnchorHandle), ProvenanceError> {
        let before = io::model_version(self.mlflow(), name, version).await?;
        let from = before
            .current_stage
            .clone()
            .unwrap_or_else(|| "None".into());
        let body = types::TransitionModelVersionStageBody {
            archive_existing_versions: Some(archive_existing),
            name: name.into(),
            stage: stage.into(),
            version: version.into(),
        };
        let mv = self
            .mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.transition_model_version_stage(&b).await }
            })
            .await?
            .model_version
            .ok_or_else(|| {
                ProvenanceError::Invalid("transition answered without a version".into())
            })?;
        let p = payload::stage_transition(name, version, &from, stage, &metadata);
        let handle = self.spawn_version_event(EventKind::Promotion, name, version, p);
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
        Ok(self.spawn_version_event(EventKind::Alias, name, version, p))
    }

    fn spawn_version_event(
        &self,
        kind: EventKind,
        name: &str,
        version: &str,
        p: Value,
    ) -> AnchorHandle {
        let me = self.clone();
        let (n, v) = (name.to_owned(), version.to_owned());
        self.spawn_anchor((kind, name.into(), version.into()), async move {
            match me.anchor_version_event(kind, &n, &v, &p).await {
                Ok(s) => s,
                Err(e) => AnchorStatus::Failed {
                    error: e.to_string(),
                },
            }
        })
    }

    /// Anchors a promotion or alias payload of a version.
    pub async fn anchor_version_event(
        &self,
        kind: EventKind,
        name: &str,
        version: &str,
        p: &Value,
    ) -> Result<AnchorStatus, ProvenanceError> {
        let c = self.mlflow();
        let mv = io::model_version(c, name, version).await?;
        let registration_tx = io::version_tags(&mv).get(tags::REGISTRATION_TX).cloned();
        let bytes = payload::canonical(p)?;
        let hash = sha256_hex(&bytes);
        let event_type = p["event_type"].as_str().unwrap_or_default().to_owned();
        let unsigned = self.unsigned_envelope(
            &event_type,
            json!({"type": "mlflow_model_version", "name": name, "version": version}),
            &hash,
            registration_tx.as_deref().unwrap_or("GENESIS"),
        );
        let (env, env_bytes) = self.sign(&unsigned)?;
        let event_id = env["event_id"].as_str().unwrap_or_default().to_owned();
        let (dir, hash_tag) = match kind {
            EventKind::Alias => ("aliases", tags::ALIAS_PAYLOAD_HASH),
            _ => ("promotions", tags::PROMOTION_PAYLOAD_HASH),
        };
        let run_id = mv.run_id.clone().filter(|r| !r.is_empty());
        if let Some(rid) = &run_id {
            let root = io::run_root(&c.run(rid).await?)?;
            self.put_artifact(&root, &format!("ario/{dir}/{event_id}/payload.json"), bytes)
                .await?;
            self.put_artifact(
                &root,
                &format!("ario/{dir}/{event_id}/proof.json"),
                pretty(&env),
            )
            .await?;
        }
        io::set_version_tag(c, name, version, hash_tag, &hash).await?;
        let wb = match kind {
            EventKind::Alias => Writeback::Alias {
                name: name.into(),
                version: version.into(),
                run_id,
            },
            _ => Writeback::Promotion {
                name: name.into(),
                version: version.into(),
                run_id,
            },
        };
        self.finish(env, env_bytes, wb).await
    }
}
