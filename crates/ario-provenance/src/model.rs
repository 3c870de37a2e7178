//! [`VerifiedModel`]: a model version opened only after its files match
//! what was anchored for it.

use std::path::{Path, PathBuf};

use ario_envelope::envelope::GENESIS;
use ario_mlflow_client::records::{run_tags, version_tags};
use ario_mlflow_client::uri::ModelUri;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::gate::Gate;
use crate::integrity::check_files;
use crate::tags;

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
    pub(crate) anchorer: Anchorer,
    /// The URI it was opened from.
    pub model_uri: String,
    /// Registered model name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Source run, when the version has one.
    pub run_id: Option<String>,
    pub(crate) experiment_id: Option<String>,
    /// `Some(true)` when the files matched `ario.artifact_hash`; `None` when
    /// no hash was anchored to check them against.
    pub artifact_verified: Option<bool>,
    local_dir: PathBuf,
    pub(crate) previous_hash: String,
    pub(crate) gate: Option<Gate>,
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
    /// [`crate::IntegrityError`] when they differ from the anchored hash (or
    /// cannot be hashed), and only then downloads them.
    pub async fn open(
        anchorer: &Anchorer,
        uri: &str,
        opts: OpenOptions,
    ) -> Result<Self, ProvenanceError> {
        if let Some(g) = &opts.gate {
            g.check("load", None).await?;
        }
        let c = anchorer.mlflow();
        let resolved = c.resolve(&ModelUri::parse(uri)?).await?;
        let run_id = resolved.run_id.clone().filter(|r| !r.is_empty());
        let mut artifact_verified = None;
        let mut experiment_id = None;
        if let Some(rid) = &run_id {
            let run = c.run(rid).await?;
            experiment_id = run.info.as_ref().and_then(|i| i.experiment_id.clone());
            if let Some(expected) = run_tags(&run).get(tags::ARTIFACT_HASH) {
                let files =
                    check_files(c, Ok(resolved.location.clone()), Some(expected.as_str())).await;
                artifact_verified = Some(files.require_match(uri)?);
            }
        }
        if artifact_verified.is_none() && opts.require_verified {
            return Err(ProvenanceError::Unverifiable {
                model_uri: uri.into(),
            });
        }
        let previous_hash = resolved
            .model_version
            .as_ref()
            .and_then(|mv| version_tags(mv).get(tags::REGISTRATION_TX).cloned())
            .unwrap_or_else(|| GENESIS.into());
        let local_dir = opts.download_to.clone().unwrap_or_else(|| {
            anchorer
                .home()
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
            anchorer: anchorer.clone(),
            model_uri: uri.into(),
            name: resolved.name.clone(),
            version: resolved.version.clone(),
            run_id,
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
}
