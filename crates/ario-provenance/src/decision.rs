//! Decisions: a model opened only after its files match what was anchored,
//! and one `prediction` anchor per recorded decision.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ario_envelope::encoding::sha256_hex;
use ario_gateway::verify_status::{Outcome, VerifyStatus, VerifyStatusClient, VerifyStatusError};
use ario_mlflow_client::generated::types;
use ario_mlflow_client::uri::ModelUri;
use ario_mlflow_client::MlflowError;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::context::{pretty, Provenance};
use crate::error::ProvenanceError;
use crate::mlflow_io as io;
use crate::outbox::Writeback;
use crate::payload::{self, PredictionFields};
use crate::registry::{AnchorHandle, AnchorStatus};
use crate::tags;
use crate::training::checksums;

/// The model's files are not the ones that were anchored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "model artifact integrity check failed for {model_uri}: expected {expected}, got {computed}"
)]
pub struct IntegrityError {
    /// The URI opened.
    pub model_uri: String,
    /// `ario.artifact_hash` of the source run.
    pub expected: String,
    /// What the files hash to now (or why they could not be hashed).
    pub computed: String,
}

/// The verify-status gate refused (the plugin's error family).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GateError {
    /// Outcome `tampered`.
    #[error("asset {asset_id:?} is tampered")]
    Tampered {
        /// Asset.
        asset_id: String,
    },
    /// Outcome `missing`.
    #[error("asset {asset_id:?} is missing")]
    Missing {
        /// Asset.
        asset_id: String,
    },
    /// Verified but stale, or `unavailable`.
    #[error("asset {asset_id:?} verification is stale or unavailable")]
    Stale {
        /// Asset.
        asset_id: String,
    },
    /// Outcome `unknown`.
    #[error("asset {asset_id:?} verification status is unknown")]
    Unknown {
        /// Asset.
        asset_id: String,
    },
    /// The gate could not be asked (auth, unknown asset, licence, transport).
    #[error(transparent)]
    Service(#[from] VerifyStatusError),
}

/// Maps a status to pass or the plugin's error.
pub fn gate_outcome(s: &VerifyStatus) -> Result<(), GateError> {
    let asset_id = s.asset_id.clone();
    match (s.outcome, s.stale) {
        (Outcome::Verified, false) => Ok(()),
        (Outcome::Verified, true) | (Outcome::Unavailable, _) => Err(GateError::Stale { asset_id }),
        (Outcome::Tampered, _) => Err(GateError::Tampered { asset_id }),
        (Outcome::Missing, _) => Err(GateError::Missing { asset_id }),
        (Outcome::Unknown, _) => Err(GateError::Unknown { asset_id }),
    }
}

/// What to do when the gate refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GatePolicy {
    /// Return the error (default).
    #[default]
    FailClosed,
    /// Log a warning and go on.
    FailOpen,
}

/// The optional verify-status gate (the agent's management endpoint).
#[derive(Debug, Clone)]
pub struct Gate {
    /// Client of the endpoint.
    pub client: Arc<VerifyStatusClient>,
    /// Asset to ask about.
    pub asset_id: String,
    /// Refusal policy.
    pub policy: GatePolicy,
    /// Ask again before every decision.
    pub recheck_per_decision: bool,
    /// Cache age accepted on re-checks.
    pub max_cache_age: Option<Duration>,
}

impl Gate {
    async fn check(&self, phase: &str, max_age: Option<Duration>) -> Result<(), GateError> {
        let r = match self.client.get(&self.asset_id, max_age).await {
            Ok(s) => gate_outcome(&s),
            Err(e) => Err(GateError::Service(e)),
        };
        match (r, self.policy) {
            (Ok(()), _) => {
                tracing::info!(asset_id = %self.asset_id, phase, "verify-status gate passed");
                Ok(())
            }
            (Err(e), GatePolicy::FailOpen) => {
                tracing::warn!(asset_id = %self.asset_id, phase, error = %e, "fail_open: proceeding DESPITE a failed verification gate");
                Ok(())
            }
            (Err(e), GatePolicy::FailClosed) => Err(e),
        }
    }
}

/// Options of [`VerifiedModel::open`].
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    /// Verify-status gate.
    pub gate: Option<Gate>,
    /// Where to put the model files (default: under the home directory).
    pub download_to: Option<PathBuf>,
    /// Refuse also when no integrity check could be made (no anchored hash).
    pub require_verified: bool,
}

/// A model version whose files were checked against its anchored hash.
#[derive(Debug)]
pub struct VerifiedModel {
    prov: Provenance,
    /// The URI it was opened from.
    pub model_uri: String,
    /// Registered model name (or `unknown`).
    pub name: String,
    /// Version (or `unknown`).
    pub version: String,
    /// Source run (or `unknown`).
    pub run_id: String,
    experiment_id: Option<String>,
    /// `Some(true)` when the files matched `ario.artifact_hash`.
    pub artifact_verified: Option<bool>,
    local_dir: PathBuf,
    previous_hash: String,
    gate: Option<Gate>,
}

/// Options of one decision.
#[derive(Debug, Clone, Default)]
pub struct DecisionOptions {
    /// Inference latency to record (`latency_ms`).
    pub latency_ms: f64,
    /// Extra payload members.
    pub metadata: BTreeMap<String, Value>,
}

/// A recorded decision.
#[derive(Debug, Clone)]
pub struct Decision {
    /// The decision id.
    pub decision_id: String,
    /// The payload.
    pub payload: Value,
    /// Its hash.
    pub payload_hash: String,
    /// The MLflow trace written for it.
    pub trace_id: Option<String>,
    /// The background anchor.
    pub handle: AnchorHandle,
}

fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

impl VerifiedModel {
    /// Resolves `uri`, re-hashes the version's files, refuses with
    /// [`IntegrityError`] when they differ from the anchored hash, and only
    /// then downloads them.
    pub async fn open(
        prov: &Provenance,
        uri: &str,
        opts: OpenOptions,
    ) -> Result<Self, ProvenanceError> {
        if let Some(g) = &opts.gate {
            g.check("load", None).await?;
        }
        let c = prov.mlflow();
        let parsed = ModelUri::parse(uri).map_err(|e| ProvenanceError::Invalid(e.to_string()))?;
        let resolved = c.resolve(&parsed).await?;
        let run_id = resolved.run_id.clone().filter(|r| !r.is_empty());
        let mut artifact_verified = None;
        let mut experiment_id = None;
        if let Some(rid) = &run_id {
            let run = c.run(rid).await?;
            experiment_id = run.info.as_ref().and_then(|i| i.experiment_id.clone());
            if let Some(expected) = io::run_tags(&run).get(tags::ARTIFACT_HASH) {
                let computed = match checksums(c, &resolved.location).await {
                    Ok(sums) => payload::artifact_hash(&sums)
                        .unwrap_or_else(|| "no files at the model path".into()),
                    Err(e) => format!("unavailable ({e})"),
                };
                if &computed != expected {
                    return Err(IntegrityError {
                        model_uri: uri.into(),
                        expected: expected.clone(),
                        computed,
                    }
                    .into());
                }
                artifact_verified = Some(true);
            }
        }
        if artifact_verified.is_none() && opts.require_verified {
            return Err(ProvenanceError::Invalid(format!(
                "{uri}: no anchored artifact hash to check the model against"
            )));
        }
        let previous_hash = resolved
            .model_version
            .as_ref()
            .and_then(|mv| io::version_tags(mv).get(tags::REGISTRATION_TX).cloned())
            .unwrap_or_else(|| "GENESIS".into());
        let local_dir = opts.download_to.clone().unwrap_or_else(|| {
            prov.home()
                .join("models")
                .join(sanitize(&resolved.name))
                .join(sanitize(&resolved.version))
        });
        if local_dir.exists() {
            std::fs::remove_dir_all(&local_dir).map_err(|error| ProvenanceError::Io {
                path: local_dir.clone(),
                error,
            })?;
        }
        c.download_dir(&resolved.location.root, &resolved.location.dir, &local_dir)
            .await?;
        Ok(VerifiedModel {
            prov: prov.clone(),
            model_uri: uri.into(),
            name: resolved.name.clone(),
            version: resolved.version.clone(),
            run_id: run_id.unwrap_or_else(|| "unknown".into()),
            experiment_id,
            artifact_verified,
            local_dir,
            previous_hash,
            gate: opts.gate,
        })
    }

    /// The checked model files.
    pub fn local_dir(&self) -> &Path {
        &self.local_dir
    }

    async fn start_trace(
        &self,
        trace_id: &str,
        tags_map: &BTreeMap<String, String>,
    ) -> Result<bool, ProvenanceError> {
        let Some(exp) = &self.experiment_id else {
            return Ok(false);
        };
        let body: types::StartTraceV3Body = serde_json::from_value(json!({
            "trace": {"trace_info": {
                "trace_id": trace_id,
                "trace_location": {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}},
                "request_time": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "execution_duration": "0s",
                "state": "OK",
                "trace_metadata": {"mlflow.trace_schema.version": "3"},
                "tags": tags_map,
            }}
        }))
        .map_err(|e| ProvenanceError::Invalid(e.to_string()))?;
        match self
            .prov
            .mlflow()
            .call(|api| {
                let b = body.clone();
                async move { api.start_trace_v3(&b).await }
            })
            .await
        {
            Ok(_) => Ok(true),
            // A 2.x server has no v3 traces: record the decision without one.
            Err(MlflowError::Http { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Records one decision: builds the `prediction` payload with the
    /// plugin's hashing recipes, writes its trace, tags and artifacts, stores
    /// the signed envelope in the outbox and anchors it in the background.
    pub async fn record_decision(
        &self,
        input: &Value,
        output: &Value,
        opts: DecisionOptions,
    ) -> Result<Decision, ProvenanceError> {
        if let Some(g) = self.gate.as_ref().filter(|g| g.recheck_per_decision) {
            g.check("predict", g.max_cache_age).await?;
        }
        let decision_id = uuid::Uuid::new_v4().to_string();
        let trace_id = format!("tr-{}", uuid::Uuid::new_v4().simple());
        let mut fields = PredictionFields {
            decision_id: decision_id.clone(),
            model_name: self.name.clone(),
            model_version: self.version.clone(),
            run_id: self.run_id.clone(),
            model_uri: self.model_uri.clone(),
            input_hash: payload::input_hash(input)?,
            output_hash: payload::output_hash(output)?,
            latency_ms: opts.latency_ms,
            artifact_verified: self.artifact_verified.filter(|v| *v),
            mlflow_trace_id: Some(trace_id.clone()),
        };
        let build = |f: &PredictionFields| -> Result<(Value, Vec<u8>, String), ProvenanceError> {
            let p = payload::prediction(f, &opts.metadata);
            let b = payload::canonical(&p)?;
            let h = sha256_hex(&b);
            Ok((p, b, h))
        };
        let (mut p, mut bytes, mut hash) = build(&fields)?;
        let trace_tags = |p: &Value, bytes: &[u8], hash: &str| {
            let mut t = BTreeMap::new();
            t.insert(
                tags::PAYLOAD_JSON.to_owned(),
                String::from_utf8_lossy(bytes).into_owned(),
            );
            t.insert(tags::DECISION_ID.to_owned(), decision_id.clone());
            t.insert(tags::MODEL_NAME.to_owned(), self.name.clone());
            t.insert(tags::MODEL_VERSION.to_owned(), self.version.clone());
            for (k, m) in [
                (tags::INPUT_HASH, "input_hash"),
                (tags::OUTPUT_HASH, "output_hash"),
            ] {
                t.insert(k.to_owned(), p[m].as_str().unwrap_or_default().to_owned());
            }
            t.insert(tags::PAYLOAD_HASH.to_owned(), hash.to_owned());
            t.insert(tags::PROOF_STATUS.to_owned(), "anchoring".to_owned());
            if self.artifact_verified == Some(true) {
                t.insert(tags::ARTIFACT_VERIFIED.to_owned(), "true".to_owned());
            }
            t
        };
        let have_trace = self
            .start_trace(&trace_id, &trace_tags(&p, &bytes, &hash))
            .await?;
        if !have_trace {
            fields.mlflow_trace_id = None;
            (p, bytes, hash) = build(&fields)?;
        }
        let mut subject = json!({"type": "mlflow_prediction", "decision_id": decision_id, "model_run_id": self.run_id});
        if have_trace {
            subject["trace_id"] = json!(trace_id);
        }
        let unsigned = self.prov.unsigned_envelope(
            payload::event::PREDICTION,
            subject,
            &hash,
            &self.previous_hash,
        );
        let (env, env_bytes) = self.prov.sign(&unsigned)?;
        let run_id = (self.run_id != "unknown").then(|| self.run_id.clone());
        if let Some(rid) = &run_id {
            let root = io::run_root(&self.prov.mlflow().run(rid).await?)?;
            let dir = format!("ario/predictions/{decision_id}");
            self.prov
                .put_artifact(&root, &format!("{dir}/payload.json"), bytes.clone())
                .await?;
            self.prov
                .put_artifact(&root, &format!("{dir}/proof.json"), pretty(&env))
                .await?;
        }
        let wb = Writeback::Prediction {
            decision_id: decision_id.clone(),
            trace_id: have_trace.then(|| trace_id.clone()),
            run_id,
        };
        let staged = self.prov.stage(env, env_bytes, wb)?;
        let (tx, rx) = watch::channel(AnchorStatus::Anchoring);
        let prov = self.prov.clone();
        let failed_trace = have_trace.then(|| trace_id.clone());
        tokio::spawn(async move {
            let status = match prov.deliver(staged).await {
                Ok(c) => AnchorStatus::of(&c),
                Err(e) => AnchorStatus::Failed {
                    error: e.to_string(),
                },
            };
            if let (Some(t), false) = (
                &failed_trace,
                matches!(status, AnchorStatus::Anchored { .. }),
            ) {
                let _ = io::set_trace_tag(prov.mlflow(), t, tags::PROOF_STATUS, "failed").await;
            }
            let _ = tx.send(status);
        });
        Ok(Decision {
            decision_id,
            payload: p,
            payload_hash: hash,
            trace_id: have_trace.then_some(trace_id),
            handle: AnchorHandle::from_receiver(rx),
        })
    }
}
