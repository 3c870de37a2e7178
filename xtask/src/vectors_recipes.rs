//! `test-vectors/recipes/`: the payload recipes — MLflow's REST answers and
//! registry arguments in, canonical payload bytes and hashes out — and the
//! hashing recipes (directory digest, schema, decision input and output).

use std::collections::BTreeMap;

use ario_envelope::encoding::sha256_hex;
use ario_provenance::payload;
use serde_json::{json, Value};

fn hex(b: &[u8]) -> String {
    hex::encode(b)
}

fn payload_case(recipe: &str, inputs: Value, p: &Value) -> anyhow::Result<Value> {
    let bytes = payload::canonical(p)?;
    Ok(json!({
        "recipe": recipe,
        "inputs": inputs,
        "expect": {"payload_jcs_hex": hex(&bytes), "payload_hash_hex": sha256_hex(&bytes)},
    }))
}

fn metadata(v: &Value) -> BTreeMap<String, Value> {
    v.as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

fn registry_cases() -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for md in [
        json!({}),
        json!({"team": "fraud", "event_type": "ignored: collides"}),
    ] {
        let p = payload::stage_transition(
            "iris-classifier",
            "3",
            "Staging",
            "Production",
            &metadata(&md),
        );
        out.push(payload_case(
            "stage_transition",
            json!({"model_name": "iris-classifier", "model_version": "3", "from_stage": "Staging", "to_stage": "Production", "metadata": md}),
            &p,
        )?);
        for previous in [None, Some("2")] {
            let p =
                payload::alias_set("iris-classifier", "3", "champion", previous, &metadata(&md));
            out.push(payload_case(
                "alias_set",
                json!({"model_name": "iris-classifier", "model_version": "3", "alias": "champion", "previous_version": previous, "metadata": md}),
                &p,
            )?);
        }
    }
    for record in [
        json!({"name": "iris", "source": "{\"url\": \"https://example.org/iris.csv\"}", "source_type": "http", "digest": "2bf3ace3", "schema": "{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"x\"}]}"}),
        json!({"name": null, "source": null, "source_type": null, "digest": null, "schema": null}),
    ] {
        let r: payload::DatasetRecord = serde_json::from_value(record.clone())?;
        out.push(payload_case(
            "dataset",
            json!({"record": record}),
            &payload::dataset(&r),
        )?);
    }
    let hash = "1ef0664dd8f5a90158282794ccebbb18eac7fc4bf50127b2991cfa0e7920d1b8";
    for (run, verified, h) in [
        (
            Some("c53c2c0a52264ab2bc3a7a2d21ea2577"),
            Some(true),
            Some(hash),
        ),
        (None, None, None),
        (
            Some("c53c2c0a52264ab2bc3a7a2d21ea2577"),
            Some(false),
            Some(hash),
        ),
    ] {
        let source = "runs:/c53c2c0a52264ab2bc3a7a2d21ea2577/model";
        let p = payload::registration(
            "iris-classifier",
            "1",
            run,
            source,
            verified,
            h,
            &BTreeMap::new(),
        );
        out.push(payload_case(
            "registration",
            json!({"model_name": "iris-classifier", "model_version": "1", "source_run_id": run, "source": source, "artifact_verified": verified, "artifact_hash": h, "metadata": {}}),
            &p,
        )?);
    }
    Ok(out)
}

/// A `runs/get` answer as MLflow's server writes it (text, not an object:
/// the recipe starts from the bytes on the wire).
fn runs_get(metrics: &str, params: &str, datasets: &str) -> String {
    format!(
        r#"{{"run": {{"info": {{"run_id": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718", "run_uuid": "3f2a9c1b7d5e4f60a1b2c3d4e5f60718", "experiment_id": "1", "run_name": "bright-owl-42", "user_id": "ci", "status": "FINISHED", "start_time": 1796205600000, "end_time": 1796205660000, "artifact_uri": "mlflow-artifacts:/1/3f2a9c1b7d5e4f60a1b2c3d4e5f60718/artifacts", "lifecycle_stage": "active"}}, "data": {{"metrics": [{metrics}], "params": [{params}], "tags": [{{"key": "mlflow.source.name", "value": "train.py"}}, {{"key": "mlflow.source.git.commit", "value": "9fceb02d0ae598e95dc970b74767f19372d61af8"}}, {{"key": "mlflow.runName", "value": "bright-owl-42"}}]}}, "inputs": {{"dataset_inputs": [{datasets}]}}}}}}"#
    )
}

fn metric(key: &str, value: &str) -> String {
    format!(r#"{{"key": "{key}", "value": {value}, "timestamp": 1796205650000, "step": 0}}"#)
}

fn dataset(name: &str, digest: &str, schema: &str, context: &str) -> String {
    let schema = serde_json::to_string(schema).unwrap_or_default();
    format!(
        r#"{{"tags": [{{"key": "mlflow.data.context", "value": "{context}"}}], "dataset": {{"name": "{name}", "digest": "{digest}", "source_type": "http", "source": "{{\"url\": \"https://example.org/{name}.csv\"}}", "schema": {schema}}}}}"#
    )
}

fn training_cases() -> anyhow::Result<Vec<Value>> {
    let schema = r#"{"mlflow_colspec": [{"type": "double", "name": "sepal length (cm)"}, {"type": "long", "name": "target"}]}"#;
    let checksums: BTreeMap<String, String> = [
        (
            "MLmodel",
            "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727",
        ),
        (
            "model.pkl",
            "32ad9eb9527f0f606ecf7c35c7dd5d734d2f563968a98f0ef3695a3c77427fa0",
        ),
        (
            "requirements.txt",
            "2d3da8c987e5cc58be5be698a8ba234b2b1844fba45446ac31a3a81a6fa6c8ad",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let bodies = [
        (
            "round(x, 6) on every metric: ties below the binary value, negative zero, integers, huge and tiny values",
            runs_get(
                &[
                    metric("accuracy", "0.9666666666666667"),
                    metric("tie_below", "0.1234565"),
                    metric("tie_below_2", "0.1234575"),
                    metric("neg_tiny", "-1e-07"),
                    metric("whole", "3.0"),
                    metric("huge", "1e+300"),
                    metric("tiny", "4e-07"),
                ]
                .join(", "),
                r#"{"key": "max_iter", "value": "200"}, {"key": "C", "value": "1.0"}, {"key": "élan", "value": "ünïcode"}, {"key": "Zeta", "value": ""}"#,
                &[
                    dataset("iris-train", "5d9c1a7e", schema, "training"),
                    dataset("iris-eval", "0b7e44c1", "", "evaluation"),
                ]
                .join(", "),
            ),
            checksums.clone(),
        ),
        (
            "a run with no metrics, params, datasets or model files",
            runs_get("", "", ""),
            BTreeMap::new(),
        ),
    ];
    let mut out = Vec::new();
    for (what, body, sums) in bodies {
        let bytes = ario_provenance::training_payload_from_response(body.as_bytes(), sums.clone())?;
        out.push(json!({
            "recipe": "training_from_runs_get",
            "description": what,
            "inputs": {"runs_get_body": body, "artifact_checksums": sums},
            "expect": {
                "payload_jcs_hex": hex(&bytes),
                "payload_hash_hex": sha256_hex(&bytes),
                "artifact_hash": payload::artifact_hash(&sums),
            },
        }));
    }
    let nan = runs_get(&metric("loss", "\"NaN\""), "", "");
    let refused = ario_provenance::training_payload_from_response(nan.as_bytes(), BTreeMap::new());
    anyhow::ensure!(refused.is_err(), "a NaN metric must be refused");
    out.push(json!({
        "recipe": "training_from_runs_get",
        "description": "a non-finite metric cannot be anchored",
        "inputs": {"runs_get_body": nan, "artifact_checksums": {}},
        "expect": {"error": "non_finite_metric"},
    }));
    Ok(out)
}

fn hash_cases() -> anyhow::Result<Vec<Value>> {
    let mut out = Vec::new();
    for v in [
        json!({"sepal_length": 5.1, "petal_width": 0.2, "species": "setosa"}),
        json!([[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]]),
        json!("abc"),
        json!("ß→€"),
        json!(3.5),
        json!(null),
        json!({"é": [1, 2.0, 1e21], "a": {"z": true, "b": null}}),
    ] {
        out.push(json!({"recipe": "input_hash", "inputs": {"value": v}, "expect": {"hash": payload::input_hash(&v)?}}));
        out.push(json!({"recipe": "output_hash", "inputs": {"value": v}, "expect": {"hash": payload::output_hash(&v)?}}));
    }
    for s in [
        None,
        Some(""),
        Some(r#"{"b": 1, "a": [1, 2]}"#),
        Some("{\n  \"a\": [1,2],\n  \"b\": 1\n}"),
        Some(r#"{"a": 1, "a": 2}"#),
        Some("not json {"),
    ] {
        out.push(json!({"recipe": "schema_hash", "inputs": {"schema": s}, "expect": {"hash": payload::schema_hash(s)}}));
    }
    for sums in [
        json!({}),
        json!({"MLmodel": "aa", "model.pkl": "bb", "sub/dir/x.bin": "cc"}),
        json!({"é.txt": "01", "z.txt": "02", "E.txt": "03"}),
    ] {
        let map: BTreeMap<String, String> = serde_json::from_value(sums.clone())?;
        out.push(json!({"recipe": "artifact_hash", "inputs": {"artifact_checksums": sums}, "expect": {"hash": payload::artifact_hash(&map)}}));
    }
    Ok(out)
}

/// The vector file.
pub(crate) fn payload_recipes() -> anyhow::Result<Value> {
    let mut cases = registry_cases()?;
    cases.extend(training_cases()?);
    cases.extend(hash_cases()?);
    Ok(json!({
        "format": "ario-mlflow-rs/recipe-vector/v1",
        "vector_id": "payload-recipes-01",
        "description": "payloads and hashes rebuilt from MLflow's answers and the registry's arguments",
        "cases": cases,
    }))
}
