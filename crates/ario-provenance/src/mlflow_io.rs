//! The few MLflow reads and writes the lifecycle needs, over the generated client.

use std::collections::BTreeMap;

use ario_mlflow_client::generated::types;
use ario_mlflow_client::{ArtifactRoot, MlflowClient, MlflowError};

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

/// Sets one run tag.
pub async fn set_run_tag(
    c: &MlflowClient,
    run_id: &str,
    key: &str,
    value: &str,
) -> Result<(), MlflowError> {
    let body = types::SetRunTagBody {
        key: key.into(),
        run_id: run_id.into(),
        value: value.into(),
    };
    c.call(|api| {
        let b = body.clone();
        async move { api.set_run_tag(&b).await }
    })
    .await
    .map(drop)
}

/// Sets one model-version tag.
pub async fn set_version_tag(
    c: &MlflowClient,
    name: &str,
    version: &str,
    key: &str,
    value: &str,
) -> Result<(), MlflowError> {
    let body = types::SetModelVersionTagBody {
        key: key.into(),
        name: name.into(),
        value: value.into(),
        version: version.into(),
    };
    c.call(|api| {
        let b = body.clone();
        async move { api.set_model_version_tag(&b).await }
    })
    .await
    .map(drop)
}

/// Sets one registered-model tag.
pub async fn set_model_tag(
    c: &MlflowClient,
    name: &str,
    key: &str,
    value: &str,
) -> Result<(), MlflowError> {
    let body = types::SetRegisteredModelTagBody {
        key: key.into(),
        name: name.into(),
        value: value.into(),
    };
    c.call(|api| {
        let b = body.clone();
        async move { api.set_registered_model_tag(&b).await }
    })
    .await
    .map(drop)
}

/// Sets one trace tag (the v2 route, served by 2.x and 3.x).
pub async fn set_trace_tag(
    c: &MlflowClient,
    trace_id: &str,
    key: &str,
    value: &str,
) -> Result<(), MlflowError> {
    let body = types::SetTraceTagBody {
        key: key.into(),
        value: value.into(),
    };
    let id = trace_id.to_owned();
    c.call(|api| {
        let b = body.clone();
        let id = id.clone();
        async move { api.set_trace_tag(&id, &b).await }
    })
    .await
    .map(drop)
}

/// A model version.
pub async fn model_version(
    c: &MlflowClient,
    name: &str,
    version: &str,
) -> Result<types::ModelVersion, MlflowError> {
    let (n, v) = (name.to_owned(), version.to_owned());
    let r = c
        .call(|api| {
            let (n, v) = (n.clone(), v.clone());
            async move { api.get_model_version(&n, &v).await }
        })
        .await?;
    r.model_version
        .ok_or_else(|| MlflowError::Decode("model-versions/get answered without a version".into()))
}

/// A registered model.
pub async fn registered_model(
    c: &MlflowClient,
    name: &str,
) -> Result<types::RegisteredModel, MlflowError> {
    let n = name.to_owned();
    let r = c
        .call(|api| {
            let n = n.clone();
            async move { api.get_registered_model(&n).await }
        })
        .await?;
    r.registered_model
        .ok_or_else(|| MlflowError::Decode("registered-models/get answered without a model".into()))
}

/// Model versions matching a filter (first page, up to 200).
pub async fn search_versions(
    c: &MlflowClient,
    filter: &str,
) -> Result<Vec<types::ModelVersion>, MlflowError> {
    let f = filter.to_owned();
    let r = c
        .call(|api| {
            let f = f.clone();
            async move { api.search_model_versions(Some(&f), Some(200), None).await }
        })
        .await?;
    Ok(r.model_versions)
}

/// Tags of a trace (v3 route first, then the v2 route for 2.x servers).
pub async fn trace_tags(
    c: &MlflowClient,
    trace_id: &str,
) -> Result<BTreeMap<String, String>, MlflowError> {
    let id = trace_id.to_owned();
    let v3 = c
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
            let r = c
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
