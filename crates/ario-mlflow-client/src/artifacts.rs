//! Artifact access: recursive listing, streaming download and hashing with
//! bounded memory, and small uploads — through the server's proxied artifact
//! service (`mlflow-artifacts:`), or directly from a `file://` store (and
//! `s3://`, `gs://`, `az://` behind features) when the server does not proxy.

use std::path::{Path, PathBuf};

use futures_util::StreamExt as _;
use object_store::{ObjectStore as _, ObjectStoreExt as _};
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;

use crate::client::MlflowClient;
use crate::error::MlflowError;

/// Characters escaped inside one path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'?')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// Where a run's (or a LoggedModel's) artifacts live.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArtifactRoot {
    /// Served by the tracking server's proxied artifact service; the path below
    /// `/api/2.0/mlflow-artifacts/artifacts/`.
    Proxied(String),
    /// A local directory (`file://` or a bare absolute path).
    Local(PathBuf),
    /// Another object store URL (read with `object_store` when its feature is on).
    ObjectStore(String),
}

impl ArtifactRoot {
    /// From an artifact URI as MLflow reports it (`artifact_uri`, `artifact_location`).
    pub fn from_uri(uri: &str) -> Result<Self, MlflowError> {
        if let Some(rest) = uri.strip_prefix("mlflow-artifacts:") {
            // `mlflow-artifacts:/1/R/artifacts` or `mlflow-artifacts://host:port/1/R/artifacts`
            let path = match rest.strip_prefix("//") {
                Some(hosted) => hosted.split_once('/').map_or("", |(_, p)| p),
                None => rest,
            };
            return Ok(ArtifactRoot::Proxied(path.trim_matches('/').to_owned()));
        }
        if let Some(rest) = uri.strip_prefix("file://") {
            return Ok(ArtifactRoot::Local(PathBuf::from(rest)));
        }
        if uri.starts_with('/') {
            return Ok(ArtifactRoot::Local(PathBuf::from(uri)));
        }
        if ["s3://", "gs://", "az://", "abfss://", "wasbs://"]
            .iter()
            .any(|p| uri.starts_with(p))
        {
            return Ok(ArtifactRoot::ObjectStore(uri.to_owned()));
        }
        Err(MlflowError::UnsupportedTrackingUri {
            uri: uri.to_owned(),
            hint: "unsupported artifact URI scheme",
        })
    }
}

/// One file below an artifact root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtifactFile {
    /// Path relative to the root, `/`-separated.
    pub path: String,
    /// Size in bytes, when the server said.
    pub size: Option<u64>,
}

/// Refuses paths that leave the root (`..`, absolute, empty segments, backslashes).
pub fn check_relative(path: &str) -> Result<(), MlflowError> {
    if path.is_empty() {
        return Ok(());
    }
    let bad = path.starts_with('/')
        || path.contains('\\')
        || path
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..");
    if bad {
        return Err(MlflowError::UnsafePath(path.to_owned()));
    }
    Ok(())
}

fn join(a: &str, b: &str) -> String {
    match (a.is_empty(), b.is_empty()) {
        (true, _) => b.to_owned(),
        (_, true) => a.to_owned(),
        _ => format!("{a}/{b}"),
    }
}

fn encode_path(path: &str) -> String {
    path.split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// An object store for a non-proxied artifact root (`s3://`, `gs://`, `az://`),
/// configured from the usual `AWS_*`, `GOOGLE_*` and `AZURE_*` variables; only
/// the backends enabled by this crate's features are available.
fn remote(
    uri: &str,
    rel: &str,
) -> Result<(Box<dyn object_store::ObjectStore>, object_store::path::Path), MlflowError> {
    let full = format!("{}/{}", uri.trim_end_matches('/'), rel);
    let url = url::Url::parse(&full)
        .map_err(|e| MlflowError::Config(format!("artifact URI {full}: {e}")))?;
    let opts = std::env::vars()
        .filter(|(k, _)| {
            ["AWS_", "GOOGLE_", "AZURE_"]
                .iter()
                .any(|p| k.starts_with(p))
        })
        .map(|(k, v)| (k.to_ascii_lowercase(), v));
    object_store::parse_url_opts(&url, opts).map_err(|e| MlflowError::UnsupportedTrackingUri {
        uri: uri.to_owned(),
        hint: if matches!(e, object_store::Error::NotImplemented { .. }) || e.to_string().contains("feature") {
            "this build has no backend for that scheme: enable the s3, gcs or azure feature, or serve artifacts through the tracking server (--serve-artifacts)"
        } else {
            "the object store URL or its credentials are not usable"
        },
    })
}

fn store_err(uri: &str, e: &object_store::Error) -> MlflowError {
    MlflowError::Io {
        path: uri.to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> MlflowError + '_ {
    move |source| MlflowError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl MlflowClient {
    /// URL of one file in the proxied artifact service.
    pub(crate) fn proxied_url(&self, base: &str, path: &str) -> String {
        self.url(&format!(
            "/api/2.0/mlflow-artifacts/artifacts/{}",
            encode_path(&join(base, path))
        ))
    }

    /// Every file below `dir` (relative to `root`), recursively.
    pub async fn list_artifacts(
        &self,
        root: &ArtifactRoot,
        dir: &str,
    ) -> Result<Vec<ArtifactFile>, MlflowError> {
        check_relative(dir)?;
        match root {
            ArtifactRoot::Proxied(base) => {
                let mut out = Vec::new();
                let mut pending = vec![dir.to_owned()];
                while let Some(d) = pending.pop() {
                    let v = self
                        .get_json(
                            "/api/2.0/mlflow-artifacts/artifacts",
                            &[("path", &join(base, &d))],
                        )
                        .await?;
                    for f in v
                        .get("files")
                        .and_then(Value::as_array)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                    {
                        let name = f.get("path").and_then(Value::as_str).unwrap_or_default();
                        check_relative(name)?;
                        let rel = join(&d, name);
                        if f.get("is_dir").and_then(Value::as_bool).unwrap_or(false) {
                            pending.push(rel);
                        } else {
                            out.push(ArtifactFile {
                                path: rel,
                                size: f.get("file_size").and_then(Value::as_u64).or(Some(0)),
                            });
                        }
                    }
                }
                out.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(out)
            }
            ArtifactRoot::Local(base) => {
                let store = object_store::local::LocalFileSystem::new_with_prefix(base.join(dir))
                    .map_err(|e| MlflowError::Io {
                    path: base.display().to_string(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                let mut out = Vec::new();
                let mut listing = store.list(None);
                while let Some(meta) = listing.next().await {
                    let meta = meta.map_err(|e| MlflowError::Io {
                        path: base.display().to_string(),
                        source: std::io::Error::other(e.to_string()),
                    })?;
                    out.push(ArtifactFile {
                        path: join(dir, meta.location.as_ref()),
                        size: Some(meta.size),
                    });
                }
                out.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(out)
            }
            ArtifactRoot::ObjectStore(uri) => {
                let (store, prefix) = remote(uri, dir)?;
                let mut out = Vec::new();
                let mut listing = store.list(Some(&prefix));
                while let Some(meta) = listing.next().await {
                    let meta = meta.map_err(|e| store_err(uri, &e))?;
                    let rel = meta
                        .location
                        .as_ref()
                        .strip_prefix(prefix.as_ref())
                        .unwrap_or(meta.location.as_ref());
                    out.push(ArtifactFile {
                        path: join(dir, rel.trim_start_matches('/')),
                        size: Some(meta.size),
                    });
                }
                out.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(out)
            }
        }
    }

    /// Streams one artifact into `sink`, hashing as it goes; returns (bytes, SHA-256).
    /// Memory stays bounded by the chunk size whatever the file size.
    pub async fn stream_artifact<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        root: &ArtifactRoot,
        path: &str,
        sink: &mut W,
    ) -> Result<(u64, [u8; 32]), MlflowError> {
        check_relative(path)?;
        let mut hasher = Sha256::new();
        let mut total = 0u64;
        match root {
            ArtifactRoot::Proxied(base) => {
                let url = self.proxied_url(base, path);
                let resp = self.send(|| self.http.get(&url)).await?;
                let mut stream = resp.bytes_stream();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| MlflowError::Unreachable {
                        url: url.clone(),
                        detail: ario_http::describe(&e),
                    })?;
                    hasher.update(&chunk);
                    total += chunk.len() as u64;
                    sink.write_all(&chunk)
                        .await
                        .map_err(io_err(Path::new(path)))?;
                }
            }
            ArtifactRoot::Local(base) => {
                let p = base.join(path);
                let mut f = tokio::fs::File::open(&p).await.map_err(io_err(&p))?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = tokio::io::AsyncReadExt::read(&mut f, &mut buf)
                        .await
                        .map_err(io_err(&p))?;
                    if n == 0 {
                        break;
                    }
                    hasher.update(&buf[..n]);
                    total += n as u64;
                    sink.write_all(&buf[..n]).await.map_err(io_err(&p))?;
                }
            }
            ArtifactRoot::ObjectStore(uri) => {
                let (store, location) = remote(uri, path)?;
                let mut stream = store
                    .get(&location)
                    .await
                    .map_err(|e| store_err(uri, &e))?
                    .into_stream();
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(|e| store_err(uri, &e))?;
                    hasher.update(&chunk);
                    total += chunk.len() as u64;
                    sink.write_all(&chunk)
                        .await
                        .map_err(io_err(Path::new(path)))?;
                }
            }
        }
        sink.flush().await.map_err(io_err(Path::new(path)))?;
        Ok((total, hasher.finalize().into()))
    }

    /// SHA-256 (lowercase hex) of one artifact, streamed.
    pub async fn hash_artifact(
        &self,
        root: &ArtifactRoot,
        path: &str,
    ) -> Result<String, MlflowError> {
        let (_, digest) = self
            .stream_artifact(root, path, &mut tokio::io::sink())
            .await?;
        Ok(hex::encode(digest))
    }

    /// Downloads every file below `dir` into `dest` (created), streaming each one.
    pub async fn download_dir(
        &self,
        root: &ArtifactRoot,
        dir: &str,
        dest: &Path,
    ) -> Result<Vec<ArtifactFile>, MlflowError> {
        let files = self.list_artifacts(root, dir).await?;
        for f in &files {
            let rel = f
                .path
                .strip_prefix(dir)
                .unwrap_or(&f.path)
                .trim_start_matches('/');
            let target = dest.join(rel);
            if let Some(parent) = target.parent() {
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(io_err(parent))?;
            }
            let mut file = tokio::fs::File::create(&target)
                .await
                .map_err(io_err(&target))?;
            self.stream_artifact(root, &f.path, &mut file).await?;
        }
        Ok(files)
    }

    /// Uploads `bytes` as `path` below `root` (overwrites silently, as MLflow does).
    pub async fn upload_artifact(
        &self,
        root: &ArtifactRoot,
        path: &str,
        bytes: Vec<u8>,
    ) -> Result<(), MlflowError> {
        check_relative(path)?;
        if path.is_empty() {
            return Err(MlflowError::UnsafePath(String::new()));
        }
        match root {
            ArtifactRoot::Proxied(base) => {
                let url = self.proxied_url(base, path);
                self.send(|| self.http.put(&url).body(bytes.clone()))
                    .await?;
                Ok(())
            }
            ArtifactRoot::Local(base) => {
                let target = base.join(path);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent)
                        .await
                        .map_err(io_err(parent))?;
                }
                tokio::fs::write(&target, bytes)
                    .await
                    .map_err(io_err(&target))
            }
            ArtifactRoot::ObjectStore(uri) => {
                let (store, location) = remote(uri, path)?;
                store
                    .put(&location, bytes.into())
                    .await
                    .map_err(|e| store_err(uri, &e))?;
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_and_paths() {
        assert_eq!(
            ArtifactRoot::from_uri("mlflow-artifacts:/1/R/artifacts").unwrap(),
            ArtifactRoot::Proxied("1/R/artifacts".into())
        );
        assert_eq!(
            ArtifactRoot::from_uri("mlflow-artifacts://h:5000/1/models/m-1/artifacts").unwrap(),
            ArtifactRoot::Proxied("1/models/m-1/artifacts".into())
        );
        assert_eq!(
            ArtifactRoot::from_uri("file:///tmp/a").unwrap(),
            ArtifactRoot::Local("/tmp/a".into())
        );
        assert!(matches!(
            ArtifactRoot::from_uri("s3://b/k").unwrap(),
            ArtifactRoot::ObjectStore(_)
        ));
        assert!(ArtifactRoot::from_uri("ftp://x").is_err());
        for bad in ["../x", "a/../b", "/etc/passwd", "a//b", "a\\b", "./a"] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        assert!(check_relative("ario/predictions/d-1/payload.json").is_ok());
        assert_eq!(encode_path("ario/a b/%x#.json"), "ario/a%20b/%25x%23.json");
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn an_s3_root_without_the_feature_says_what_to_do() {
        let Err(MlflowError::UnsupportedTrackingUri { hint, .. }) =
            remote("s3://bucket/1/r/artifacts", "model")
        else {
            panic!("expected a refusal");
        };
        assert!(
            hint.contains("feature") || hint.contains("--serve-artifacts"),
            "{hint}"
        );
    }
}
