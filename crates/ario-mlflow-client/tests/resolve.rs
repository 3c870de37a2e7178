//! Model resolution for every URI form, on a run logged by the real MLflow
//! Python client (3.x layout on a 3.x server; 2.x layout under a 2.x client),
//! and on a 2.x-style layout seeded over REST.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ario_mlflow_client::uri::ModelUri;
use ario_mlflow_client::{MlflowClient, TrackingConfig};
use ario_test_support::unique;
use serde_json::json;

async fn files_of(c: &MlflowClient, uri: &str) -> Vec<String> {
    let r = c
        .resolve(&ModelUri::parse(uri).unwrap())
        .await
        .unwrap_or_else(|e| panic!("{uri}: {e}"));
    let files = c
        .list_artifacts(&r.location.root, &r.location.dir)
        .await
        .unwrap();
    files
        .iter()
        .map(|f| f.path.rsplit('/').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_uri_form_reaches_the_model_files() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    let c = MlflowClient::new(TrackingConfig::new(server.url()).unwrap()).unwrap();
    let name = unique("iris");
    let logged = server
        .python(
            "log_iris_run.py",
            &[
                "--register",
                &name,
                "--alias",
                "champion",
                "--stage",
                "Production",
            ],
        )
        .unwrap();
    let run_id = logged["run_id"].as_str().unwrap();
    let version = logged["version"].as_str().unwrap();

    let run = c.run(run_id).await.unwrap();
    let models = c.run_model_locations(&run).await.unwrap();
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].name, "model");

    let mut uris = vec![
        format!("runs:/{run_id}/model"),
        format!("models:/{name}/{version}"),
        format!("models:/{name}@champion"),
        format!("models:/{name}/Production"),
        format!("models:/{name}/latest"),
    ];
    if let Some(model_id) = logged["model_id"].as_str() {
        uris.push(format!("models:/{model_id}"));
    }
    for uri in &uris {
        let files = files_of(&c, uri).await;
        assert!(files.contains(&"MLmodel".to_owned()), "{uri}: {files:?}");
    }
    let r = c
        .resolve(&ModelUri::parse(&format!("models:/{name}@champion")).unwrap())
        .await
        .unwrap();
    assert_eq!(
        (r.version.as_str(), r.run_id.as_deref()),
        (version, Some(run_id))
    );
    let missing = c
        .resolve(&ModelUri::parse(&format!("models:/{name}/99")).unwrap())
        .await
        .unwrap_err();
    assert!(missing.is_not_found());
}

#[tokio::test]
async fn two_x_layout_via_log_model_history() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    let c = MlflowClient::new(TrackingConfig::new(server.url()).unwrap()).unwrap();
    let http = reqwest::Client::new();
    let url = server.url();
    let (_, run_id, artifact_uri) = server.create_run("two-x").await.unwrap();
    let root = ario_mlflow_client::ArtifactRoot::from_uri(&artifact_uri).unwrap();
    c.upload_artifact(
        &root,
        "sk-model/MLmodel",
        b"artifact_path: sk-model\n".to_vec(),
    )
    .await
    .unwrap();
    c.upload_artifact(&root, "sk-model/model.pkl", b"\x80\x04fake".to_vec())
        .await
        .unwrap();
    let model_json = json!({"run_id": run_id, "artifact_path": "sk-model", "utc_time_created": "2026-11-22 10:00:00.000000", "flavors": {}}).to_string();
    http.post(format!("{url}/api/2.0/mlflow/runs/log-model"))
        .json(&json!({"run_id": run_id, "model_json": model_json}))
        .send()
        .await
        .unwrap();
    let run = c.run(&run_id).await.unwrap();
    let locs = c.run_model_locations(&run).await.unwrap();
    assert_eq!(locs.len(), 1);
    assert_eq!(locs[0].dir, "sk-model");
    let files = files_of(&c, &format!("runs:/{run_id}/sk-model")).await;
    assert_eq!(files, vec!["MLmodel", "model.pkl"]);
}
