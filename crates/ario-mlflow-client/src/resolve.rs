//! Where a model's files are, for both MLflow eras.
//!
//! * 2.x clients log models under the run (`<artifact_path>/…`) and record
//!   them in the run tag `mlflow.log-model.history`;
//! * 3.x clients log LoggedModels (`…/models/<model_id>/artifacts`) listed in
//!   `run.outputs.model_outputs`; a registered `runs:/<run>/<name>` source then
//!   points at a run path that is empty, and the files are in the LoggedModel
//!   named `<name>` whose source run is `<run>`.
//!
//! Resolution goes by data, not by server version.

use serde_json::{json, Value};

use crate::artifacts::ArtifactRoot;
use crate::error::MlflowError;
use crate::generated::types;
use crate::uri::ModelUri;
use crate::MlflowClient;

/// A directory of model files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelLocation {
    /// Artifact root the directory is under.
    pub root: ArtifactRoot,
    /// Directory below the root (`""`: the root itself).
    pub dir: String,
    /// The logical model path (`artifact_path` in 2.x, LoggedModel `name` in 3.x).
    pub name: String,
}

/// A model URI resolved to a registry entry (when there is one) and its files.
#[derive(Debug, Clone)]
pub struct ResolvedModel {
    /// Registered model name, or the LoggedModel name.
    pub name: String,
    /// Version number, or the LoggedModel id for `models:/<model_id>`.
    pub version: String,
    /// Source run, when known.
    pub run_id: Option<String>,
    /// The version's `source` (or a synthesized `runs:/<run>/<name>`).
    pub source: String,
    /// The model version, for registry URIs.
    pub model_version: Option<types::ModelVersion>,
    /// Where its files are.
    pub location: ModelLocation,
}

fn location_of(info: &types::LoggedModelInfo) -> Result<ModelLocation, MlflowError> {
    Ok(ModelLocation {
        root: ArtifactRoot::from_uri(info.artifact_uri.as_deref().unwrap_or_default())?,
        dir: String::new(),
        name: info.name.clone().unwrap_or_default(),
    })
}

fn decode<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, MlflowError> {
    serde_json::from_value(v).map_err(|e| MlflowError::Decode(e.to_string()))
}

impl MlflowClient {
    /// The run.
    pub async fn run(&self, run_id: &str) -> Result<types::Run, MlflowError> {
        let id = run_id.to_owned();
        let r = self
            .call(|api| {
                let id = id.clone();
                async move { api.get_run(&id).await }
            })
            .await?;
        r.run
            .ok_or_else(|| MlflowError::Decode("runs/get answered without a run".into()))
    }

    /// The model directories a run logged, in logging order (deduplicated).
    pub async fn run_model_locations(
        &self,
        run: &types::Run,
    ) -> Result<Vec<ModelLocation>, MlflowError> {
        let info = run
            .info
            .as_ref()
            .ok_or_else(|| MlflowError::Decode("run without info".into()))?;
        let run_root = ArtifactRoot::from_uri(info.artifact_uri.as_deref().unwrap_or_default())?;
        let history = run
            .data
            .as_ref()
            .and_then(|d| d.tags.iter().find(|t| t.key == "mlflow.log-model.history"))
            .map(|t| t.value.clone());
        let mut out: Vec<ModelLocation> = Vec::new();
        if let Some(h) = history {
            let entries: Vec<Value> = serde_json::from_str(&h).unwrap_or_default();
            for e in entries {
                if let Some(p) = e.get("artifact_path").and_then(Value::as_str) {
                    if !out.iter().any(|l| l.name == p) {
                        out.push(ModelLocation {
                            root: run_root.clone(),
                            dir: p.to_owned(),
                            name: p.to_owned(),
                        });
                    }
                }
            }
            if !out.is_empty() {
                return Ok(out);
            }
        }
        for m in run
            .outputs
            .as_ref()
            .map(|o| o.model_outputs.as_slice())
            .unwrap_or_default()
        {
            let lm = self.logged_model(&m.model_id).await?;
            if !out.iter().any(|l| l.name == lm.name) {
                out.push(lm);
            }
        }
        Ok(out)
    }

    /// A LoggedModel's info (3.x).
    pub async fn logged_model_info(
        &self,
        model_id: &str,
    ) -> Result<types::LoggedModelInfo, MlflowError> {
        let id = model_id.to_owned();
        let r = self
            .call(|api| {
                let id = id.clone();
                async move { api.get_logged_model(&id).await }
            })
            .await?;
        r.model
            .and_then(|m| m.info)
            .ok_or_else(|| MlflowError::Decode("logged model without info".into()))
    }

    /// The files of a LoggedModel.
    pub async fn logged_model(&self, model_id: &str) -> Result<ModelLocation, MlflowError> {
        location_of(&self.logged_model_info(model_id).await?)
    }

    /// Files of `runs:/<run_id>/<path>`: the run's own directory, or (3.x) the
    /// LoggedModel named `<path>` whose source run is `<run_id>`.
    pub async fn run_path_location(
        &self,
        run_id: &str,
        path: &str,
    ) -> Result<ModelLocation, MlflowError> {
        let run = self.run(run_id).await?;
        let info = run
            .info
            .as_ref()
            .ok_or_else(|| MlflowError::Decode("run without info".into()))?;
        let root = ArtifactRoot::from_uri(info.artifact_uri.as_deref().unwrap_or_default())?;
        if !self.list_artifacts(&root, path).await?.is_empty() {
            return Ok(ModelLocation {
                root,
                dir: path.to_owned(),
                name: path.to_owned(),
            });
        }
        let exp = info.experiment_id.clone().unwrap_or_default();
        let (head, rest) = path.split_once('/').unwrap_or((path, ""));
        let body: types::SearchLoggedModelsBody = decode(
            json!({"experiment_ids": [exp], "filter": format!("name = '{}'", head.replace('\'', "\\'")), "max_results": 100}),
        )?;
        let found = self
            .call(|api| {
                let b = body.clone();
                async move { api.search_logged_models(&b).await }
            })
            .await;
        let models = match found {
            Ok(r) => r.models,
            Err(MlflowError::Http { .. }) => vec![], // 2.x server: no LoggedModels
            Err(e) => return Err(e),
        };
        for m in models {
            let Some(info) = m.info else { continue };
            if info.source_run_id.as_deref() == Some(run_id) {
                return Ok(ModelLocation {
                    root: ArtifactRoot::from_uri(info.artifact_uri.as_deref().unwrap_or_default())?,
                    dir: rest.to_owned(),
                    name: head.to_owned(),
                });
            }
        }
        Ok(ModelLocation {
            root,
            dir: path.to_owned(),
            name: path.to_owned(),
        })
    }

    /// Files of a model version, from its `source`.
    pub async fn version_location(
        &self,
        mv: &types::ModelVersion,
    ) -> Result<ModelLocation, MlflowError> {
        let source = mv.source.clone().unwrap_or_default();
        match ModelUri::parse(&source) {
            Ok(ModelUri::Run { run_id, path }) => {
                self.run_path_location(&run_id, path.as_deref().unwrap_or(""))
                    .await
            }
            Ok(ModelUri::LoggedModel { model_id }) => self.logged_model(&model_id).await,
            _ => Ok(ModelLocation {
                root: ArtifactRoot::from_uri(&source)?,
                dir: String::new(),
                name: String::new(),
            }),
        }
    }

    /// Resolves any model URI form to its registry entry and files.
    pub async fn resolve(&self, uri: &ModelUri) -> Result<ResolvedModel, MlflowError> {
        let mv = match uri {
            ModelUri::Run { run_id, path } => {
                let path = path.clone().unwrap_or_default();
                let location = self.run_path_location(run_id, &path).await?;
                return Ok(ResolvedModel {
                    name: location.name.clone(),
                    version: String::new(),
                    run_id: Some(run_id.clone()),
                    source: uri.to_string(),
                    model_version: None,
                    location,
                });
            }
            ModelUri::LoggedModel { model_id } => {
                let info = self.logged_model_info(model_id).await?;
                let name = info.name.clone().unwrap_or_default();
                let run_id = info.source_run_id.clone();
                return Ok(ResolvedModel {
                    source: format!("runs:/{}/{}", run_id.clone().unwrap_or_default(), name),
                    name,
                    version: model_id.clone(),
                    run_id,
                    model_version: None,
                    location: location_of(&info)?,
                });
            }
            ModelUri::Version { name, version, .. } => {
                let (n, v) = (name.clone(), version.clone());
                self.call(|api| {
                    let (n, v) = (n.clone(), v.clone());
                    async move { api.get_model_version(&n, &v).await }
                })
                .await?
                .model_version
            }
            ModelUri::Alias { name, alias, .. } => {
                let (n, a) = (name.clone(), alias.clone());
                self.call(|api| {
                    let (n, a) = (n.clone(), a.clone());
                    async move { api.get_model_version_by_alias(&a, &n).await }
                })
                .await?
                .model_version
            }
            ModelUri::Stage { name, stage, .. } => {
                let stages = if stage.eq_ignore_ascii_case("latest") {
                    json!([])
                } else {
                    json!([stage])
                };
                let body: types::GetLatestVersionsBody =
                    decode(json!({"name": name, "stages": stages}))?;
                let r = self
                    .call(|api| {
                        let b = body.clone();
                        async move { api.get_latest_versions(&b).await }
                    })
                    .await?;
                r.model_versions.into_iter().max_by_key(|m| {
                    m.version
                        .as_deref()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                })
            }
        };
        let mv = mv.ok_or_else(|| MlflowError::Api {
            status: 404,
            error_code: "RESOURCE_DOES_NOT_EXIST".into(),
            message: format!("no model version for {uri}"),
        })?;
        let mut location = self.version_location(&mv).await?;
        let sub = match uri {
            ModelUri::Version { sub_path, .. }
            | ModelUri::Alias { sub_path, .. }
            | ModelUri::Stage { sub_path, .. } => sub_path.clone(),
            _ => None,
        };
        if let Some(sub) = sub {
            location.dir = if location.dir.is_empty() {
                sub
            } else {
                format!("{}/{sub}", location.dir)
            };
        }
        Ok(ResolvedModel {
            name: mv.name.clone().unwrap_or_default(),
            version: mv.version.clone().unwrap_or_default(),
            run_id: mv.run_id.clone().filter(|r| !r.is_empty()),
            source: mv.source.clone().unwrap_or_default(),
            model_version: Some(mv),
            location,
        })
    }
}
