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
