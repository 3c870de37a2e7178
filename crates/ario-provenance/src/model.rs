//! [`VerifiedModel`]: a model version opened only after its files match
//! what was anchored for it.

use std::path::{Path, PathBuf};

use ario_envelope::envelope::GENESIS;
use ario_mlflow_client::records::{run_tags, version_tags};
use ario_mlflow_client::uri::ModelUri;

use crate::anchorer::Anchorer;
use crate::error::ProvenanceError;
use crate::gate::Gate;
use crate::integrity::check_local;
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
    /// The source run's artifact root (where decisions keep their files).
    pub(crate) run_root: Option<ario_mlflow_client::ArtifactRoot>,
    /// `Some(true)` when the files matched `ario.artifact_hash`; `None` when
    /// no hash was anchored to check them against.
    pub artifact_verified: Option<bool>,
    expected: Option<String>,
    local_dir: PathBuf,
    pub(crate) previous_hash: String,
    pub(crate) gate: Option<Gate>,
}

/// A private (0700) directory beside the destination, removed unless promoted.
struct Staging(Option<PathBuf>);

impl Staging {
    fn create(dest: &Path) -> Result<Self, ProvenanceError> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        let io = |path: &Path| {
            let path = path.to_owned();
            move |error| ProvenanceError::Io { path, error }
        };
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let dir = parent.join(format!(".staging-{}", uuid::Uuid::new_v4().simple()));
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&dir).map_err(io(&dir))?;
        Ok(Staging(Some(dir)))
    }
    fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or(Path::new("."))
    }
    /// Replaces `dest` with the staged copy.
    fn promote(mut self, dest: &Path) -> Result<(), ProvenanceError> {
        let io = |error| ProvenanceError::Io {
            path: dest.to_owned(),
            error,
        };
        if dest.exists() {
            std::fs::remove_dir_all(dest).map_err(io)?;
        }
        let staged = self.0.take().unwrap_or_default();
        std::fs::rename(&staged, dest).map_err(|e| {
            // Nothing half-moved is left behind to be mistaken for the model.
            let _ = std::fs::remove_dir_all(&staged);
            io(e)
        })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if let Some(dir) = self.0.take() {
            if let Err(e) = std::fs::remove_dir_all(&dir) {
                tracing::warn!(dir = %dir.display(), error = %e, "could not remove a staging directory");
            }
        }
    }
}

pub(crate) fn sanitize(s: &str) -> String {
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
    /// Resolves `uri`, downloads the version's files once into a private
    /// staging directory, hashes that copy and refuses with
    /// [`crate::IntegrityError`] (removing it) when it differs from the
    /// anchored hash or cannot be hashed; only then moves it into place. The
    /// directory handed out is exactly what was hashed.
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
        let (mut expected, mut experiment_id, mut root) = (None, None, None);
        if let Some(rid) = &run_id {
            let run = c.run(rid).await?;
            experiment_id = run.info.as_ref().and_then(|i| i.experiment_id.clone());
            root = Some(ario_mlflow_client::records::run_root(&run)?);
            expected = run_tags(&run).get(tags::ARTIFACT_HASH).cloned();
        }
        if expected.is_none() && opts.require_verified {
            return Err(ProvenanceError::Unverifiable {
                model_uri: uri.into(),
            });
        }
        let local_dir = opts.download_to.clone().unwrap_or_else(|| {
            anchorer
                .home()
                .join("models")
                .join(sanitize(&resolved.name))
                .join(sanitize(&resolved.version))
        });
        let staging = Staging::create(&local_dir)?;
        c.download_dir(
            &resolved.location.root,
            &resolved.location.dir,
            staging.path(),
        )
        .await?;
        let files = check_local(staging.path(), expected.as_deref()).await;
        let artifact_verified = files.require_match(uri)?.then_some(true);
        staging.promote(&local_dir)?;
        let previous_hash = resolved
            .model_version
            .as_ref()
            .and_then(|mv| version_tags(mv).get(tags::REGISTRATION_TX).cloned())
            .unwrap_or_else(|| GENESIS.into());
        Ok(VerifiedModel {
            anchorer: anchorer.clone(),
            model_uri: uri.into(),
            name: resolved.name.clone(),
            version: resolved.version.clone(),
            run_id,
            experiment_id,
            run_root: root,
            artifact_verified,
            expected,
            local_dir,
            previous_hash,
            gate: opts.gate,
        })
    }

    /// Hashes the local copy again and compares it with the anchored hash:
    /// `Ok(true)` when it still matches, `Ok(false)` when no hash was
    /// anchored to compare with, an [`crate::IntegrityError`] when it differs.
    pub async fn recheck(&self) -> Result<bool, ProvenanceError> {
        let files = check_local(&self.local_dir, self.expected.as_deref()).await;
        Ok(files.require_match(&self.model_uri)?)
    }

    /// The checked model files.
    pub fn local_dir(&self) -> &Path {
        &self.local_dir
    }
}
