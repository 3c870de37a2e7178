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
    let wrapped = match input {
        Value::Object(_) => input.clone(),
        Value::String(s) => serde_json::json!({
            "features": s.chars().map(|c| Value::String(c.to_string())).collect::<Vec<_>>()
        }),
        other => serde_json::json!({ "features": other }),
    };
    Ok(sha256_hex(&canonicalize(&wrapped)?))
}

/// The plugin's `output_hash`: `sha256hex(JCS({"prediction": output}))`.
pub fn output_hash(output: &Value) -> Result<String, CanonError> {
    Ok(sha256_hex(&canonicalize(
        &serde_json::json!({ "prediction": output }),
    )?))
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
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        String::from_utf8(canonical(v).unwrap()).unwrap()
    }

    fn iris() -> DatasetRecord {
        DatasetRecord {
            name: Some("iris-train".into()),
            source: Some(r#"{"url": "https://archive.ics.uci.edu/dataset/53/iris"}"#.into()),
            source_type: Some("http".into()),
            digest: Some("5d9c1a7e".into()),
            schema: Some(
                r#"{"mlflow_colspec": [{"type": "double", "name": "sepal_length", "required": true}]}"#
                    .into(),
            ),
            context: Some("training".into()),
        }
    }

    #[test]
    fn schema_hash_matches_reference_and_last_duplicate_wins() {
        let h = "d037a8448cec0440eafa2b2a0c94f6010ca003f12bcad28006a19692d95d61d1";
        assert_eq!(schema_hash(iris().schema.as_deref()), h);
        let dup = r#"{"mlflow_colspec": "x", "mlflow_colspec": [{"type": "double", "name": "sepal_length", "required": true}]}"#;
        assert_eq!(schema_hash(Some(dup)), h);
        assert_eq!(schema_hash(Some("not json")), sha256_hex(b"not json"));
        assert_eq!(schema_hash(Some("")), "");
        assert_eq!(schema_hash(None), "");
    }

    #[test]
    fn training_payload_reproduces_appendix_a() {
        let f = TrainingFields {
            run_id: "3f2a9c1b7d5e4f60a1b2c3d4e5f60718".into(),
            params: [("max_iter", "200"), ("random_state", "42")]
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            metrics: [("accuracy".to_string(), 0.9666666666666667)].into(),
            artifact_checksums: [
                (
                    "MLmodel",
                    "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727",
                ),
                (
                    "conda.yaml",
                    "355a41fc403dbe0e7abc27b08e51543f1be83f1208b406f40678f82e5fe99027",
                ),
                (
                    "model.pkl",
                    "32ad9eb9527f0f606ecf7c35c7dd5d734d2f563968a98f0ef3695a3c77427fa0",
                ),
                (
                    "python_env.yaml",
                    "b6224d4d0b917277a1d4fff3ed9ec52c7a5d846201d9177e63fb5f31c32590ba",
                ),
                (
                    "requirements.txt",
                    "2d3da8c987e5cc58be5be698a8ba234b2b1844fba45446ac31a3a81a6fa6c8ad",
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect(),
            source_name: "train_and_anchor.py".into(),
            git_commit: String::new(),
            dataset_inputs: Some(vec![iris()]),
        };
        assert_eq!(
            artifact_hash(&f.artifact_checksums).unwrap(),
            "37b40fcd1596ecfc91e656a9bf7cfaf5627ee3d9477cd943503328a511e2d0ee"
        );
        let md = [
            ("service_name".to_string(), json!("ar-io-mlflow-quickstart")),
            ("run_id".to_string(), json!("dropped")),
        ]
        .into();
        let p = training(&f, &md);
        assert_eq!(
            sha256_hex(&canonical(&p).unwrap()),
            "dafee90fa2d40e5feb7900f9e9e51d6ae09ed36a3101c0247cb8330542b717d7"
        );
    }

    #[test]
    fn other_payloads_reproduce_appendix_a() {
        let none = BTreeMap::new();
        let d = dataset(&iris());
        assert_eq!(
            sha256_hex(&canonical(&d).unwrap()),
            "4ff082a7fcc84e268d9e736581c0a04bb2bb40f179df277f711e2923bf4d52a2"
        );
        let r = registration(
            "iris-classifier",
            "1",
            Some("3f2a9c1b7d5e4f60a1b2c3d4e5f60718"),
            "runs:/3f2a9c1b7d5e4f60a1b2c3d4e5f60718/model",
            Some(true),
            Some("37b40fcd1596ecfc91e656a9bf7cfaf5627ee3d9477cd943503328a511e2d0ee"),
            &none,
        );
        assert_eq!(
            sha256_hex(&canonical(&r).unwrap()),
            "f44a79c6ad39227fe9660efbe43f9d4ca96cdaae15ef7f201da7140fc546cee7"
        );
        let s = stage_transition("iris-classifier", "1", "None", "Production", &none);
        assert_eq!(
            sha256_hex(&canonical(&s).unwrap()),
            "a78b41433b77260e60ab8b805d7a448552b1018dbd8b7961ab2a71b20928744e"
        );
        let input = json!({"annual_income":78000,"credit_utilization":0.18,"debt_to_income_ratio":0.22,"months_employed":72,"credit_score":745});
        let f = PredictionFields {
            decision_id: "9c8b7a6f-5e4d-4c3b-a291-8f7e6d5c4b3a".into(),
            model_name: "credit-scorer".into(),
            model_version: "1".into(),
            run_id: "3f2a9c1b7d5e4f60a1b2c3d4e5f60718".into(),
            model_uri: "models:/credit-scorer/1".into(),
            input_hash: input_hash(&input).unwrap(),
            output_hash: output_hash(&json!([1])).unwrap(),
            latency_ms: 1.37,
            artifact_verified: Some(true),
            mlflow_trace_id: Some("tr-0af7651916cd43dd8448eb211c80319c".into()),
        };
        let md = [
            ("otel_span_id".to_string(), json!("00f067aa0ba902b7")),
            (
                "otel_trace_id".to_string(),
                json!("4bf92f3577b34da6a3ce929d0e0e4736"),
            ),
            ("service_name".to_string(), json!("credit-api")),
        ]
        .into();
        let p = prediction(&f, &md);
        assert_eq!(
            sha256_hex(&canonical(&p).unwrap()),
            "8cdf3c33d370d6e70fa39ce9615d68f45a3802a621030e32a3937de17d8a1d37"
        );
    }

    #[test]
    fn input_hash_recipes() {
        assert_eq!(
            input_hash(&json!([78000, 0.18, 0.22, 72, 745])).unwrap(),
            "f985913dd680572d6ba3c6c34df1b35fe0f407900e64d2ee320f858d38d6c523"
        );
        assert_eq!(
            input_hash(&json!("ab")).unwrap(),
            input_hash(&json!(["a", "b"])).unwrap()
        );
        assert_eq!(
            output_hash(&json!([1])).unwrap(),
            "1eee05979bc26e5bc80028d7b598a5ed9e69af39e95bca31376655e31f6d8d1f"
        );
        assert_eq!(text(&json!({"features": 3})), r#"{"features":3}"#);
        assert_eq!(
            input_hash(&json!(3)).unwrap(),
            sha256_hex(br#"{"features":3}"#)
        );
    }

    #[test]
    fn datasets_sort_by_name_source_context_digest() {
        let mut a = iris();
        a.context = Some("validation".into());
        let b = iris();
        let mut c = iris();
        c.name = Some("Iris".into());
        let v = dataset_inputs(&[a, b, c]);
        let ctx: Vec<_> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["name"].as_str().unwrap().to_owned(),
                    d["context"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            ctx,
            [
                ("Iris".into(), "training".into()),
                ("iris-train".into(), "training".into()),
                ("iris-train".into(), "validation".into())
            ]
        );
    }
}
