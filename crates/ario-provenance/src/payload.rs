//! The canonical payloads of every lifecycle event, built exactly as the
//! Python plugin builds them (spec/envelope/v1.md §10–§11).
//!
//! Every builder returns a JSON object; [`canonical`] turns it into the bytes
//! that are hashed, stored in MLflow and committed to by the envelope.

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_envelope::jcs::{canonicalize, CanonError};
use serde_json::{Map, Value};

use crate::event::EventKind;
use crate::numbers::round6;

/// Canonical (RFC 8785) bytes of a payload.
pub fn canonical(payload: &Value) -> Result<Vec<u8>, CanonError> {
    canonicalize(payload)
}

/// Merges caller metadata after the structural members; a key that collides
/// with a structural member is dropped (the plugin's rule).
pub fn merge_metadata(payload: &mut Map<String, Value>, metadata: &BTreeMap<String, Value>) {
    for (k, v) in metadata {
        if payload.contains_key(k) {
            tracing::debug!(key = %k, "metadata key collides with a structural member; dropped");
            continue;
        }
        payload.insert(k.clone(), v.clone());
    }
}

/// `sha256hex(JCS(checksums))`, the directory digest tagged `ario.artifact_hash`;
/// `None` for an empty map (the plugin writes no hash then).
pub fn artifact_hash(checksums: &BTreeMap<String, String>) -> Option<String> {
    if checksums.is_empty() {
        return None;
    }
    let v = Value::Object(
        checksums
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    canonicalize(&v).ok().map(|b| sha256_hex(&b))
}

/// The hash of a dataset schema string: the canonical form of the parsed
/// JSON (duplicate keys: the last wins, as Python's `json.loads`), or the raw
/// UTF-8 bytes when it does not parse or canonicalize; `""` when empty.
pub fn schema_hash(schema: Option<&str>) -> String {
    let Some(schema) = schema.filter(|s| !s.is_empty()) else {
        return String::new();
    };
    match serde_json::from_str::<Value>(schema)
        .ok()
        .and_then(|v| canonicalize(&v).ok())
    {
        Some(bytes) => sha256_hex(&bytes),
        None => sha256_hex(schema.as_bytes()),
    }
}

/// One logged dataset as MLflow reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DatasetRecord {
    /// Dataset name.
    pub name: Option<String>,
    /// MLflow's JSON-encoded source, verbatim.
    pub source: Option<String>,
    /// Source type (`local`, `http`, `s3`, …).
    pub source_type: Option<String>,
    /// MLflow's digest, verbatim.
    pub digest: Option<String>,
    /// The schema JSON string.
    pub schema: Option<String>,
    /// The `mlflow.data.context` input tag (training runs only).
    pub context: Option<String>,
}

fn opt(v: &Option<String>) -> Value {
    v.clone().map(Value::String).unwrap_or(Value::Null)
}

/// The `dataset_inputs` list of a training payload, in the plugin's order.
pub fn dataset_inputs(records: &[DatasetRecord]) -> Value {
    let mut sorted: Vec<&DatasetRecord> = records.iter().collect();
    let key = |r: &DatasetRecord| {
        [
            r.name.clone().unwrap_or_default(),
            r.source.clone().unwrap_or_default(),
            r.context.clone().unwrap_or_default(),
            r.digest.clone().unwrap_or_default(),
        ]
    };
    // Rust's `str` order is code-point order, as Python's.
    sorted.sort_by_key(|r| key(r));
    Value::Array(
        sorted
            .into_iter()
            .map(|r| {
                let mut m = Map::new();
                m.insert("name".into(), opt(&r.name));
                m.insert("source".into(), opt(&r.source));
                m.insert("source_type".into(), opt(&r.source_type));
                m.insert("digest".into(), opt(&r.digest));
                m.insert(
                    "schema_hash".into(),
                    Value::String(schema_hash(r.schema.as_deref())),
                );
                m.insert("context".into(), opt(&r.context));
                Value::Object(m)
            })
            .collect(),
    )
}

/// A standalone `dataset` payload.
pub fn dataset(record: &DatasetRecord) -> Value {
    let mut m = Map::new();
    m.insert("event_type".into(), EventKind::Dataset.wire_name().into());
    m.insert("name".into(), opt(&record.name));
    m.insert("source".into(), opt(&record.source));
    m.insert("source_type".into(), opt(&record.source_type));
    m.insert("digest".into(), opt(&record.digest));
    m.insert(
        "schema_hash".into(),
        Value::String(schema_hash(record.schema.as_deref())),
    );
    Value::Object(m)
}

/// Everything a `training_complete` payload is made of.
#[derive(Debug, Clone, Default)]
pub struct TrainingFields {
    /// The run id.
    pub run_id: String,
    /// Params (MLflow keeps them as strings).
    pub params: BTreeMap<String, String>,
    /// Latest value of each metric (rounded here).
    pub metrics: BTreeMap<String, f64>,
    /// Model file checksums (`relpath -> sha256hex`).
    pub artifact_checksums: BTreeMap<String, String>,
    /// Run tag `mlflow.source.name`, or `""`.
    pub source_name: String,
    /// Run tag `mlflow.source.git.commit`, or `""`.
    pub git_commit: String,
    /// Logged datasets; `None` for payloads that predate the member.
    pub dataset_inputs: Option<Vec<DatasetRecord>>,
}

/// The live-derivable members of a training payload (what verification re-derives).
pub fn training_live_fields(f: &TrainingFields) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "params".into(),
        Value::Object(
            f.params
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    m.insert(
        "metrics".into(),
        Value::Object(
            f.metrics
                .iter()
                .map(|(k, v)| {
                    let r = round6(*v);
                    (
                        k.clone(),
                        serde_json::Number::from_f64(r)
                            .map(Value::Number)
                            .unwrap_or(Value::Null),
                    )
                })
                .collect(),
        ),
    );
    m.insert(
        "artifact_checksums".into(),
        Value::Object(
            f.artifact_checksums
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    m.insert("source_name".into(), f.source_name.clone().into());
    m.insert("git_commit".into(), f.git_commit.clone().into());
    if let Some(d) = &f.dataset_inputs {
        m.insert("dataset_inputs".into(), dataset_inputs(d));
    }
    m
}

/// A `training_complete` payload.
pub fn training(f: &TrainingFields, metadata: &BTreeMap<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert("event_type".into(), EventKind::Training.wire_name().into());
    m.insert("run_id".into(), f.run_id.clone().into());
    m.extend(training_live_fields(f));
    if !m.contains_key("dataset_inputs") {
        m.insert("dataset_inputs".into(), Value::Array(vec![]));
    }
    merge_metadata(&mut m, metadata);
    Value::Object(m)
}

/// A `model_registered` payload.
pub fn registration(
    name: &str,
    version: &str,
    source_run_id: Option<&str>,
    source: &str,
    artifact_verified: Option<bool>,
    artifact_hash: Option<&str>,
    metadata: &BTreeMap<String, Value>,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "event_type".into(),
        EventKind::Registration.wire_name().into(),
    );
    m.insert("model_name".into(), name.into());
    m.insert("model_version".into(), version.into());
    m.insert(
        "source_run_id".into(),
        source_run_id.map(Value::from).unwrap_or(Value::Null),
    );
    m.insert("source".into(), source.into());
    m.insert(
        "artifact_verified".into(),
        artifact_verified.map(Value::Bool).unwrap_or(Value::Null),
    );
    m.insert(
        "artifact_hash".into(),
        artifact_hash.map(Value::from).unwrap_or(Value::Null),
    );
    merge_metadata(&mut m, metadata);
    Value::Object(m)
}

/// A `stage_transition` payload.
pub fn stage_transition(
    name: &str,
    version: &str,
    from_stage: &str,
    to_stage: &str,
    metadata: &BTreeMap<String, Value>,
) -> Value {
    let mut m = Map::new();
    m.insert(
        "event_type".into(),
        EventKind::StageTransition.wire_name().into(),
    );
    m.insert("model_name".into(), name.into());
    m.insert("model_version".into(), version.into());
    m.insert("from_stage".into(), from_stage.into());
    m.insert("to_stage".into(), to_stage.into());
    merge_metadata(&mut m, metadata);
    Value::Object(m)
}

/// An `alias_set` payload (spec §11).
pub fn alias_set(
    name: &str,
    version: &str,
    alias: &str,
    previous_version: Option<&str>,
    metadata: &BTreeMap<String, Value>,
) -> Value {
    let mut m = Map::new();
    m.insert("event_type".into(), EventKind::AliasSet.wire_name().into());
    m.insert("model_name".into(), name.into());
    m.insert("model_version".into(), version.into());
    m.insert("alias".into(), alias.into());
    m.insert(
        "previous_version".into(),
        previous_version.map(Value::from).unwrap_or(Value::Null),
    );
    merge_metadata(&mut m, metadata);
    Value::Object(m)
}

/// The plugin's `input_hash`: an object is hashed as given; anything else as
/// `{"features": …}` — arrays as they are, strings as the list of their
/// characters (Python iterates them), scalars as themselves.
pub fn input_hash(input: &Value) -> Result<String, CanonError> {
    match input {
        Value::Object(_) => Ok(sha256_hex(&canonicalize(input)?)),
        Value::String(s) => wrapped_hash(
            "features",
            &Value::Array(s.chars().map(|c| Value::String(c.to_string())).collect()),
        ),
        other => wrapped_hash("features", other),
    }
}

/// `sha256hex(JCS({key: value}))`, without copying `value`: the canonical
/// bytes of a one-member object are `{"key":` + JCS(value) + `}`.
fn wrapped_hash(key: &str, value: &Value) -> Result<String, CanonError> {
    let mut out = Vec::with_capacity(128);
    out.push(b'{');
    ario_envelope::jcs::append_string(&mut out, key);
    out.push(b':');
    ario_envelope::jcs::append_value(&mut out, value, 1)?;
    out.push(b'}');
    Ok(sha256_hex(&out))
}

/// The plugin's `output_hash`: `sha256hex(JCS({"prediction": output}))`.
pub fn output_hash(output: &Value) -> Result<String, CanonError> {
    wrapped_hash("prediction", output)
}

/// Everything a `prediction` payload is made of.
#[derive(Debug, Clone)]
pub struct PredictionFields {
    /// Fresh UUIDv4.
    pub decision_id: String,
    /// Registered model name, or `"unknown"`.
    pub model_name: String,
    /// Version, or `"unknown"`.
    pub model_version: String,
    /// Source run, or `"unknown"`.
    pub run_id: String,
    /// The model URI as given.
    pub model_uri: String,
    /// [`input_hash`].
    pub input_hash: String,
    /// [`output_hash`].
    pub output_hash: String,
    /// Inference latency, rounded to 2 places.
    pub latency_ms: f64,
    /// `Some(true)` when the artifacts were checked, else `None`.
    pub artifact_verified: Option<bool>,
    /// The MLflow trace, when one was written.
    pub mlflow_trace_id: Option<String>,
}

/// A `prediction` payload.
pub fn prediction(f: &PredictionFields, metadata: &BTreeMap<String, Value>) -> Value {
    let mut m = Map::new();
    m.insert(
        "event_type".into(),
        EventKind::Prediction.wire_name().into(),
    );
    m.insert("decision_id".into(), f.decision_id.clone().into());
    m.insert("model_name".into(), f.model_name.clone().into());
    m.insert("model_version".into(), f.model_version.clone().into());
    m.insert("run_id".into(), f.run_id.clone().into());
    m.insert("model_uri".into(), f.model_uri.clone().into());
    m.insert("input_hash".into(), f.input_hash.clone().into());
    m.insert("output_hash".into(), f.output_hash.clone().into());
    let latency = (f.latency_ms * 100.0).round_ties_even() / 100.0;
    m.insert(
        "latency_ms".into(),
        serde_json::Number::from_f64(latency)
            .map(Value::Number)
            .unwrap_or(Value::Null),
    );
    m.insert(
        "artifact_verified".into(),
        f.artifact_verified.map(Value::Bool).unwrap_or(Value::Null),
    );
    if let Some(t) = &f.mlflow_trace_id {
        m.insert("mlflow_trace_id".into(), t.clone().into());
    }
    merge_metadata(&mut m, metadata);
    Value::Object(m)
}

#[cfg(test)]
mod tests;
