//! The registry, run and trace reads and writes the provenance layer needs,
//! as plain Rust values (tags as maps) over the generated client.

use std::collections::BTreeMap;

use crate::generated::types;
use crate::{ArtifactRoot, MlflowClient, MlflowError};

/// An MLflow object that carries tags.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TagTarget {
    /// A run.
    Run(String),
    /// A model version: name, version.
    Version(String, String),
    /// A registered model.
    Model(String),
    /// A trace.
    Trace(String),
}

/// Tags of a run as a map.
pub fn run_tags(run: &types::Run) -> BTreeMap<String, String> {
    run.data
        .as_ref()
        .map(|d| {
            d.tags
                .iter()
                .map(|t| (t.key.clone(), t.value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Tags of a model version as a map.
pub fn version_tags(mv: &types::ModelVersion) -> BTreeMap<String, String> {
    mv.tags
        .iter()
        .map(|t| (t.key.clone(), t.value.clone()))
        .collect()
}

/// The run's artifact root.
pub fn run_root(run: &types::Run) -> Result<ArtifactRoot, MlflowError> {
    let uri = run
        .info
        .as_ref()
        .and_then(|i| i.artifact_uri.as_deref())
        .unwrap_or_default();
    ArtifactRoot::from_uri(uri)
}

impl MlflowClient {
    /// Sets one tag on a run, model version, registered model or trace
    /// (traces through the v2 route, which 2.x and 3.x servers both serve).
    pub async fn set_tag(
        &self,
        target: &TagTarget,
        key: &str,
        value: &str,
    ) -> Result<(), MlflowError> {
        let (k, v) = (key.to_owned(), value.to_owned());
        match target {
            TagTarget::Run(run_id) => {
                let body = types::SetRunTagBody {
                    key: k,
                    run_id: run_id.clone(),
                    value: v,
                };
                self.call(|api| {
                    let b = body.clone();
                    async move { api.set_run_tag(&b).await }
                })
                .await
                .map(drop)
            }
            TagTarget::Version(name, version) => {
                let body = types::SetModelVersionTagBody {
                    key: k,
                    name: name.clone(),
                    value: v,
                    version: version.clone(),
                };
                self.call(|api| {
                    let b = body.clone();
                    async move { api.set_model_version_tag(&b).await }
                })
                .await
                .map(drop)
            }
            TagTarget::Model(name) => {
                let body = types::SetRegisteredModelTagBody {
                    key: k,
                    name: name.clone(),
                    value: v,
                };
                self.call(|api| {
                    let b = body.clone();
                    async move { api.set_registered_model_tag(&b).await }
                })
                .await
                .map(drop)
            }
            TagTarget::Trace(trace_id) => {
                let body = types::SetTraceTagBody { key: k, value: v };
                self.call(|api| {
                    let b = body.clone();
                    let id = trace_id.clone();
                    async move { api.set_trace_tag(&id, &b).await }
                })
                .await
                .map(drop)
            }
        }
    }

    /// A model version.
    pub async fn model_version(
        &self,
        name: &str,
        version: &str,
    ) -> Result<types::ModelVersion, MlflowError> {
        let (n, v) = (name.to_owned(), version.to_owned());
        let r = self
            .call(|api| {
                let (n, v) = (n.clone(), v.clone());
                async move { api.get_model_version(&n, &v).await }
            })
            .await?;
        r.model_version.ok_or_else(|| {
            MlflowError::Decode("model-versions/get answered without a version".into())
        })
    }

    /// A registered model.
    pub async fn registered_model(
        &self,
        name: &str,
    ) -> Result<types::RegisteredModel, MlflowError> {
        let n = name.to_owned();
        let r = self
            .call(|api| {
                let n = n.clone();
                async move { api.get_registered_model(&n).await }
            })
            .await?;
        r.registered_model.ok_or_else(|| {
            MlflowError::Decode("registered-models/get answered without a model".into())
        })
    }

    /// Model versions matching a filter (first page, up to 200).
    pub async fn search_versions(
        &self,
        filter: &str,
    ) -> Result<Vec<types::ModelVersion>, MlflowError> {
        let f = filter.to_owned();
        let r = self
            .call(|api| {
                let f = f.clone();
                async move { api.search_model_versions(Some(&f), Some(200), None).await }
            })
            .await?;
        Ok(r.model_versions)
    }

    /// Tags of a trace (v3 route first, then the v2 route for 2.x servers).
    pub async fn trace_tags(
        &self,
        trace_id: &str,
    ) -> Result<BTreeMap<String, String>, MlflowError> {
        let id = trace_id.to_owned();
        let v3 = self
            .call(|api| {
                let id = id.clone();
                async move { api.get_trace_info_v3(&id).await }
            })
            .await;
        match v3 {
            Ok(r) => {
                let info = r
                    .trace
                    .and_then(|t| t.trace_info)
                    .ok_or_else(|| MlflowError::Decode("trace answered without info".into()))?;
                Ok(info.tags.into_iter().collect())
            }
            Err(MlflowError::Http { .. }) => {
                let r = self
                    .call(|api| {
                        let id = id.clone();
                        async move { api.get_trace_info_v2(&id).await }
                    })
                    .await?;
                let info = r
                    .trace_info
                    .ok_or_else(|| MlflowError::Decode("trace answered without info".into()))?;
                Ok(info.tags.into_iter().map(|t| (t.key, t.value)).collect())
            }
            Err(e) => Err(e),
        }
    }

    /// The tags of a run, read now.
    pub async fn run_tags(&self, run_id: &str) -> Result<BTreeMap<String, String>, MlflowError> {
        Ok(run_tags(&self.run(run_id).await?))
    }

    /// The artifact root of a run, read now.
    pub async fn run_root(&self, run_id: &str) -> Result<ArtifactRoot, MlflowError> {
        run_root(&self.run(run_id).await?)
    }
}
