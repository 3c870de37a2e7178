//! The events the `mlflow/` vectors are made of: fixed ids, times and payloads.

use serde_json::{json, Value};

/// One event of the mlflow profile with fixed identity.
pub(crate) struct Event {
    pub(crate) slug: &'static str,
    pub(crate) description: &'static str,
    pub(crate) event_type: &'static str,
    pub(crate) event_id: &'static str,
    pub(crate) signed_at: &'static str,
    pub(crate) previous_hash: &'static str,
    pub(crate) subject: Value,
    pub(crate) payload: Value,
}

const RUN_ID: &str = "3f2a9c1b7d5e4f60a1b2c3d4e5f60718";
const SOURCE: &str = "{\"url\": \"https://archive.ics.uci.edu/dataset/53/iris\"}";
const SCHEMA_HASH: &str = "d037a8448cec0440eafa2b2a0c94f6010ca003f12bcad28006a19692d95d61d1";

pub(crate) fn events() -> Vec<Event> {
    vec![
        Event {
            slug: "training-complete-01",
            description: "training_complete: params, 6-dp metrics, artifact checksums, one dataset input, metadata",
            event_type: "training_complete",
            event_id: "6f1c2d3e-4b5a-4c6d-8e7f-0123456789ab",
            signed_at: "2026-06-15T12:00:00.123456+00:00",
            previous_hash: "GENESIS",
            subject: json!({"type": "mlflow_run", "run_id": RUN_ID}),
            payload: json!({
                "artifact_checksums": {
                    "MLmodel": "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727",
                    "conda.yaml": "355a41fc403dbe0e7abc27b08e51543f1be83f1208b406f40678f82e5fe99027",
                    "model.pkl": "32ad9eb9527f0f606ecf7c35c7dd5d734d2f563968a98f0ef3695a3c77427fa0",
                    "python_env.yaml": "b6224d4d0b917277a1d4fff3ed9ec52c7a5d846201d9177e63fb5f31c32590ba",
                    "requirements.txt": "2d3da8c987e5cc58be5be698a8ba234b2b1844fba45446ac31a3a81a6fa6c8ad"
                },
                "dataset_inputs": [{
                    "context": "training", "digest": "5d9c1a7e", "name": "iris-train",
                    "schema_hash": SCHEMA_HASH, "source": SOURCE, "source_type": "http"
                }],
                "event_type": "training_complete", "git_commit": "", "metrics": {"accuracy": 0.966667},
                "params": {"max_iter": "200", "random_state": "42"}, "run_id": RUN_ID,
                "service_name": "ar-io-mlflow-quickstart", "source_name": "train_and_anchor.py"
            }),
        },
        Event {
            slug: "training-reanchor-01",
            description: "training_complete re-anchored explicitly (ar-io-mlflow-rs): the payload names the transaction it supersedes and why",
            event_type: "training_complete",
            event_id: "7a2d3e4f-5b6c-4d7e-8f90-123456789abc",
            signed_at: "2026-06-16T09:00:00.000000+00:00",
            previous_hash: "GENESIS",
            subject: json!({"type": "mlflow_run", "run_id": RUN_ID}),
            payload: json!({
                "artifact_checksums": {
                    "MLmodel": "14f9efd2a3039f6fd2a95f6c497ca84aacf5d0528b760e2656f6a66dc4eda727"
                },
                "dataset_inputs": [],
                "event_type": "training_complete", "git_commit": "", "metrics": {"accuracy": 0.97},
                "params": {"max_iter": "200"}, "run_id": RUN_ID,
                "reanchor_reason": "metric corrected after a logging bug",
                "source_name": "train_and_anchor.py",
                "supersedes": "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z"
            }),
        },
        Event {
            slug: "dataset-01",
            description: "standalone dataset anchor (no MLflow artifact; subject carries name and digest)",
            event_type: "dataset",
            event_id: "0b7e3f52-9d41-4c2a-b6e8-5a1f2c3d4e5f",
            signed_at: "2026-06-15T12:00:00.100000+00:00",
            previous_hash: "GENESIS",
            subject: json!({"type": "mlflow_dataset", "name": "iris-train", "digest": "5d9c1a7e"}),
            payload: json!({
                "digest": "5d9c1a7e", "event_type": "dataset", "name": "iris-train",
                "schema_hash": SCHEMA_HASH, "source": SOURCE, "source_type": "http"
            }),
        },
        Event {
            slug: "model-registered-01",
            description: "model_registered chained to the training transaction id",
            event_type: "model_registered",
            event_id: "a5b4c3d2-e1f0-4a9b-8c7d-6e5f4a3b2c1d",
            signed_at: "2026-06-15T12:01:00.000001+00:00",
            previous_hash: "kJ7vX2pQ8mNcLw9Yb4Tz_Fh1aGdRsE6oWpA1b2C3d4E",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "artifact_hash": "37b40fcd1596ecfc91e656a9bf7cfaf5627ee3d9477cd943503328a511e2d0ee",
                "artifact_verified": true, "event_type": "model_registered", "model_name": "iris-classifier",
                "model_version": "1", "source": format!("runs:/{RUN_ID}/model"), "source_run_id": RUN_ID
            }),
        },
        Event {
            slug: "stage-transition-01",
            description: "stage_transition None -> Production, chained to the registration transaction id",
            event_type: "stage_transition",
            event_id: "c0ffee00-1234-4abc-9def-0123456789ab",
            signed_at: "2026-06-15T12:02:00+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "event_type": "stage_transition", "from_stage": "None", "model_name": "iris-classifier",
                "model_version": "1", "to_stage": "Production"
            }),
        },
        Event {
            slug: "prediction-01",
            description: "prediction with trace id, OTel ids and a float latency (exceeds 700 bytes)",
            event_type: "prediction",
            event_id: "1e2d3c4b-5a69-4788-9a6b-5c4d3e2f1a0b",
            signed_at: "2026-06-15T12:05:00.654321+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({
                "type": "mlflow_prediction", "decision_id": "9c8b7a6f-5e4d-4c3b-a291-8f7e6d5c4b3a",
                "model_run_id": RUN_ID, "trace_id": "tr-0af7651916cd43dd8448eb211c80319c"
            }),
            payload: json!({
                "artifact_verified": true, "decision_id": "9c8b7a6f-5e4d-4c3b-a291-8f7e6d5c4b3a",
                "event_type": "prediction",
                "input_hash": "13d43b8acaa531e1380d1455bc59d1a7623a08374db3fa7f85fdf452f0a529a8",
                "latency_ms": 1.37, "mlflow_trace_id": "tr-0af7651916cd43dd8448eb211c80319c",
                "model_name": "credit-scorer", "model_uri": "models:/credit-scorer/1", "model_version": "1",
                "otel_span_id": "00f067aa0ba902b7", "otel_trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
                "output_hash": "1eee05979bc26e5bc80028d7b598a5ed9e69af39e95bca31376655e31f6d8d1f",
                "run_id": RUN_ID, "service_name": "credit-api"
            }),
        },
        Event {
            slug: "alias-set-01",
            description: "alias_set (additive ar-io-mlflow-rs event): alias 'champion' moved from no version to 1",
            event_type: "alias_set",
            event_id: "d1a5e7b0-2c3d-4e5f-8a9b-0c1d2e3f4a5b",
            signed_at: "2026-06-15T12:03:00.500000+00:00",
            previous_hash: "Zq3xY8wV7uT6sR5qP4oN3mL2kJ1iH0gF9eD8cB7aA6z",
            subject: json!({"type": "mlflow_model_version", "name": "iris-classifier", "version": "1"}),
            payload: json!({
                "alias": "champion", "event_type": "alias_set", "model_name": "iris-classifier",
                "model_version": "1", "previous_version": null
            }),
        },
        Event {
            slug: "key-retired-01",
            description: "key_retired (additive ar-io-mlflow-rs event): the signing key hands over to its successor; the upstream payload shape, signed by the retiring key",
            event_type: "key_retired",
            event_id: "e2b6f8c1-3d4e-4f5a-9b0c-1d2e3f4a5b6c",
            signed_at: "2026-09-01T00:00:00.000000+00:00",
            previous_hash: "GENESIS",
            subject: json!({
                "type": "mlflow_signer",
                "public_key": "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6",
                "successor_public_key": "9e3b4f1c8a6d2e5f7b0a9c1e3f5a7d2e4c6f8b0a1d3e5f7a9b1c2d4e6f8a0b3c"
            }),
            payload: json!({
                "new_public_key": "9e3b4f1c8a6d2e5f7b0a9c1e3f5a7d2e4c6f8b0a1d3e5f7a9b1c2d4e6f8a0b3c",
                "reason": "rotation",
                "retired_at": "2026-09-01T00:00:00.000Z",
                "retired_public_key": "207a067892821e25d770f1fba0c47c11ff4b813e54162ece9eb839e076231ab6"
            }),
        },
    ]
}
