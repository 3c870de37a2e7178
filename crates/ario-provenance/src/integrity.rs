//! The one integrity check of a model's files: hash every file below the
//! model directory, digest the list, and compare with the anchored
//! `ario.artifact_hash`. Registration, [`crate::VerifiedModel`],
//! verification and audit all use it and read its verdict the same way.

use std::collections::BTreeMap;
use std::path::Path;

use ario_mlflow_client::resolve::ModelLocation;
use ario_mlflow_client::{MlflowClient, MlflowError};
use sha2::{Digest as _, Sha256};

use crate::payload;

/// MLflow's bookkeeping file inside registered model directories, never hashed.
const REGISTRY_META: &str = "registered_model_meta";

/// `relpath -> sha256hex` of every file below the model directory, except
/// MLflow's registry bookkeeping (at any depth).
pub(crate) async fn checksums(
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
    let progress = crate::progress::begin("hashing model files", files.len());
    for f in files {
        progress.step();
        let rel = f.path.strip_prefix(&prefix).unwrap_or(&f.path).to_owned();
        if rel.is_empty() || rel.rsplit('/').next() == Some(REGISTRY_META) {
            continue;
        }
        let h = c.hash_artifact(&loc.root, &f.path).await?;
        out.insert(rel, h);
    }
    Ok(out)
}

/// How a model's files stand against the anchored hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntegrityVerdict {
    /// The files digest to the anchored hash.
    Matches,
    /// They digest to something else (`None`: no files at the model path).
    Differs {
        /// The digest now.
        computed: Option<String>,
    },
    /// No hash was anchored for these files: nothing to compare with.
    NotAnchored,
    /// The files could not be hashed (MLflow unreachable or an artifact error).
    Unavailable {
        /// Why.
        reason: String,
        /// MLflow could not be reached at all (the question stays open).
        unreachable: bool,
    },
}

impl IntegrityVerdict {
    /// `Some(true)` matches, `Some(false)` differs, `None` not checkable.
    pub fn ok(&self) -> Option<bool> {
        match self {
            IntegrityVerdict::Matches => Some(true),
            IntegrityVerdict::Differs { .. } => Some(false),
            _ => None,
        }
    }
}

/// The files of a model, hashed now, and their verdict.
#[derive(Debug, Clone)]
pub struct ModelFiles {
    /// The anchored hash compared with.
    pub expected: Option<String>,
    /// `relpath -> sha256hex` now (empty when hashing failed).
    pub checksums: BTreeMap<String, String>,
    /// Their digest (`None`: no files, or hashing failed).
    pub computed: Option<String>,
    /// The verdict.
    pub verdict: IntegrityVerdict,
}

fn unavailable(e: &MlflowError) -> (String, bool) {
    (e.to_string(), matches!(e, MlflowError::Unreachable { .. }))
}

/// The verdict of hashed files (or of the reason they could not be hashed:
/// the message, and whether the source could not be reached at all).
fn judge(
    hashed: Result<BTreeMap<String, String>, (String, bool)>,
    expected: Option<&str>,
) -> ModelFiles {
    let expected = expected.map(str::to_owned);
    match hashed {
        Err((reason, unreachable)) => ModelFiles {
            verdict: IntegrityVerdict::Unavailable {
                reason,
                unreachable,
            },
            expected,
            checksums: BTreeMap::new(),
            computed: None,
        },
        Ok(sums) => {
            let computed = payload::artifact_hash(&sums);
            let verdict = match &expected {
                None => IntegrityVerdict::NotAnchored,
                Some(e) if computed.as_deref() == Some(e.as_str()) => IntegrityVerdict::Matches,
                Some(_) => IntegrityVerdict::Differs {
                    computed: computed.clone(),
                },
            };
            ModelFiles {
                expected,
                checksums: sums,
                computed,
                verdict,
            }
        }
    }
}

/// Hashes the files at `location` in MLflow (or takes the error that kept
/// it from being found) and compares them with `expected`.
pub(crate) async fn check_files(
    c: &MlflowClient,
    location: Result<ModelLocation, MlflowError>,
    expected: Option<&str>,
) -> ModelFiles {
    let hashed = match location {
        Ok(loc) => checksums(c, &loc).await,
        Err(e) => Err(e),
    };
    judge(hashed.map_err(|e| unavailable(&e)), expected)
}

/// `relpath -> sha256hex` of every file below a local directory, with the
/// same exclusions as [`checksums`] (so a faithful copy digests the same).
/// Reads `file` to its end into `hasher` through `buf` (large reads: fewer
/// system calls than `io::copy`'s 8 KiB).
fn hash_into(file: &mut std::fs::File, hasher: &mut Sha256, buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read as _;
    loop {
        match file.read(buf) {
            Ok(0) => return Ok(()),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn local_checksums(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let mut buf = vec![0u8; 1 << 20];
    for entry in walkdir::WalkDir::new(dir).follow_links(false) {
        let entry = entry.map_err(|e| e.to_string())?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .map_err(|e| e.to_string())?
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if rel.rsplit('/').next() == Some(REGISTRY_META) {
            continue;
        }
        let mut file = std::fs::File::open(entry.path())
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        let mut hasher = Sha256::new();
        hash_into(&mut file, &mut hasher, &mut buf)
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        out.insert(rel, hex::encode(hasher.finalize()));
    }
    Ok(out)
}

/// Hashes the files of a local model directory (every file, by relative
/// path, the way the anchored `ario.artifact_hash` was computed) and
/// compares their digest with `expected`.
pub async fn check_local(dir: &Path, expected: Option<&str>) -> ModelFiles {
    let d = dir.to_owned();
    let hashed = tokio::task::spawn_blocking(move || local_checksums(&d))
        .await
        .unwrap_or_else(|e| Err(e.to_string()));
    judge(hashed.map_err(|e| (e, false)), expected)
}

/// The model's files are not the ones that were anchored, or could not be
/// shown to be.
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

impl ModelFiles {
    /// Refuses unless the files match (`require_anchor`: also when nothing
    /// was anchored to compare with). `Ok(true)` when they were checked.
    pub(crate) fn require_match(&self, model_uri: &str) -> Result<bool, IntegrityError> {
        let refuse = |computed: String| IntegrityError {
            model_uri: model_uri.into(),
            expected: self.expected.clone().unwrap_or_default(),
            computed,
        };
        match &self.verdict {
            IntegrityVerdict::Matches => Ok(true),
            IntegrityVerdict::NotAnchored => Ok(false),
            IntegrityVerdict::Differs { computed } => Err(refuse(
                computed
                    .clone()
                    .unwrap_or_else(|| "no files at the model path".into()),
            )),
            IntegrityVerdict::Unavailable { reason, .. } => {
                Err(refuse(format!("unavailable ({reason})")))
            }
        }
    }
}
