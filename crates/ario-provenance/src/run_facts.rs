//! What a training payload is made of, read from a run as MLflow reports it:
//! params, metrics, logged datasets, the model directory and its files.

use std::collections::BTreeMap;

use ario_mlflow_client::generated::types;
use ario_mlflow_client::records::run_tags;
use ario_mlflow_client::resolve::ModelLocation;
use ario_mlflow_client::MlflowClient;

use crate::error::ProvenanceError;
use crate::integrity::checksums;
use crate::payload::{DatasetRecord, TrainingFields};

/// Default model directory of a run that logged no model explicitly.
const DEFAULT_MODEL_PATH: &str = "model";
/// The input tag naming a dataset's role.
const DATASET_CONTEXT_TAG: &str = "mlflow.data.context";
/// Run tag: the entry point.
const SOURCE_NAME_TAG: &str = "mlflow.source.name";
/// Run tag: the git commit.
const GIT_COMMIT_TAG: &str = "mlflow.source.git.commit";

/// The path of a model below its run when none is given.
pub(crate) fn default_model_path() -> &'static str {
    DEFAULT_MODEL_PATH
}

fn run_params(run: &types::Run) -> BTreeMap<String, String> {
    run.data
        .as_ref()
        .map(|d| {
            d.params
                .iter()
                .map(|p| (p.key.clone(), p.value.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// Latest value of each metric; non-finite values are refused.
fn run_metrics(run_id: &str, run: &types::Run) -> Result<BTreeMap<String, f64>, ProvenanceError> {
    let mut out = BTreeMap::new();
    for m in run
        .data
        .as_ref()
        .map(|d| d.metrics.as_slice())
        .unwrap_or_default()
    {
        let refuse = |value: String| ProvenanceError::NonFiniteMetric {
            run_id: run_id.into(),
            key: m.key.clone(),
            value,
        };
        let v = match &m.value {
            types::MetricValue::Double(v) if v.is_finite() => *v,
            types::MetricValue::Double(v) => return Err(refuse(v.to_string())),
            types::MetricValue::String(s) => return Err(refuse(s.clone())),
        };
        out.insert(m.key.clone(), v);
    }
    Ok(out)
}

/// The run's logged datasets, in logged order.
pub(crate) fn run_datasets(run: &types::Run) -> Vec<DatasetRecord> {
    run.inputs
        .as_ref()
        .map(|i| i.dataset_inputs.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|di| {
            let ds = di.dataset.as_ref()?;
            Some(DatasetRecord {
                name: ds.name.clone(),
                source: ds.source.clone(),
                source_type: ds.source_type.clone(),
                digest: ds.digest.clone(),
                schema: ds.schema.clone(),
                context: di
                    .tags
                    .iter()
                    .find(|t| t.key == DATASET_CONTEXT_TAG)
                    .map(|t| t.value.clone()),
            })
        })
        .collect()
}

/// The model directory of a run: the explicit path, else the single logged
/// model; several logged models are an error when `strict`, else `model`.
pub(crate) async fn model_location(
    c: &MlflowClient,
    run_id: &str,
    run: &types::Run,
    artifact_path: Option<&str>,
    strict: bool,
) -> Result<ModelLocation, ProvenanceError> {
    if let Some(p) = artifact_path {
        return Ok(c.run_path_location(run_id, p).await?);
    }
    let mut locations = c.run_model_locations(run).await?;
    match locations.len() {
        1 => Ok(locations.remove(0)),
        n if n > 1 && strict => Err(ProvenanceError::AmbiguousModel {
            run_id: run_id.into(),
            paths: locations.into_iter().map(|l| l.name).collect(),
        }),
        _ => Ok(c.run_path_location(run_id, DEFAULT_MODEL_PATH).await?),
    }
}

/// Everything of a run that a training payload re-derives from live MLflow,
/// and whether the model files could be hashed.
pub(crate) async fn training_fields(
    c: &MlflowClient,
    run_id: &str,
    run: &types::Run,
    loc: &ModelLocation,
) -> Result<(TrainingFields, Result<(), ario_mlflow_client::MlflowError>), ProvenanceError> {
    let tags = run_tags(run);
    let (artifact_checksums, hashed) = match checksums(c, loc).await {
        Ok(m) => (m, Ok(())),
        Err(e) => (BTreeMap::new(), Err(e)),
    };
    Ok((
        TrainingFields {
            run_id: run_id.into(),
            params: run_params(run),
            metrics: run_metrics(run_id, run)?,
            artifact_checksums,
            source_name: tags.get(SOURCE_NAME_TAG).cloned().unwrap_or_default(),
            git_commit: tags.get(GIT_COMMIT_TAG).cloned().unwrap_or_default(),
            dataset_inputs: Some(run_datasets(run)),
        },
        hashed,
    ))
}

/// The canonical training payload bytes rebuilt from MLflow's `runs/get`
/// answer as it came over the wire (`body`) and the model files' checksums:
/// what a payload builder makes of an MLflow response, without a server.
pub fn training_payload_from_response(
    body: &[u8],
    artifact_checksums: BTreeMap<String, String>,
) -> Result<Vec<u8>, ProvenanceError> {
    let answer: types::RunResponse = serde_json::from_slice(body)
        .map_err(|e| ario_mlflow_client::MlflowError::Decode(e.to_string()))?;
    let run = answer.run.ok_or(ProvenanceError::IncompleteAnswer {
        operation: "runs/get",
        missing: "run",
    })?;
    let run_id = run
        .info
        .as_ref()
        .and_then(|i| i.run_id.clone())
        .unwrap_or_default();
    let tags = run_tags(&run);
    let fields = TrainingFields {
        params: run_params(&run),
        metrics: run_metrics(&run_id, &run)?,
        artifact_checksums,
        source_name: tags.get(SOURCE_NAME_TAG).cloned().unwrap_or_default(),
        git_commit: tags.get(GIT_COMMIT_TAG).cloned().unwrap_or_default(),
        dataset_inputs: Some(run_datasets(&run)),
        run_id,
    };
    Ok(crate::payload::canonical(&crate::payload::training(
        &fields,
        &BTreeMap::new(),
    ))?)
}
