//! Fixtures shared by the provenance integration tests: the real MLflow
//! server of this test binary, a fresh devnet and home directory per test.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    dead_code,
    unreachable_pub
)]

use std::time::Duration;

use ario_devnet::{Devnet, DevnetOptions};
use ario_gateway::config::GatewayConfig;
use ario_mlflow_client::{MlflowClient, TrackingConfig};
use ario_provenance::{Anchorer, Settings};
use ario_test_support::{mlflow, MlflowServer};
use serde_json::Value;

pub struct Fixture {
    pub server: &'static MlflowServer,
    pub devnet: Devnet,
    pub prov: Anchorer,
    pub home: tempfile::TempDir,
    _devnet_dir: tempfile::TempDir,
}

pub fn gateway(url: &str) -> GatewayConfig {
    let mut g = GatewayConfig::default().with_devnet(url);
    g.retry.max_retries = 1;
    g.retry.base_backoff = Duration::from_millis(10);
    g.retry.max_backoff = Duration::from_millis(50);
    g
}

pub fn provenance(mlflow_url: &str, devnet_url: &str, home: &std::path::Path) -> Anchorer {
    let client = MlflowClient::new(TrackingConfig::new(mlflow_url).unwrap()).unwrap();
    Anchorer::new(
        client,
        gateway(devnet_url),
        Settings {
            home: home.to_owned(),
            signing_key: None,
            upload: true,
        },
    )
    .unwrap()
}

/// A devnet in a fresh directory (kept as long as the returned guard lives).
pub async fn devnet_with(f: impl FnOnce(&mut DevnetOptions)) -> (Devnet, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut o = DevnetOptions::new(dir.path());
    f(&mut o);
    (Devnet::start(o).await.unwrap(), dir)
}

/// `None` (test skipped) without the peer venv.
pub async fn fixture() -> Option<Fixture> {
    let server = mlflow()?;
    let (devnet, devnet_dir) = devnet_with(|_| {}).await;
    let home = tempfile::tempdir().unwrap();
    let prov = provenance(server.url(), &devnet.url(), home.path());
    Some(Fixture {
        server,
        devnet,
        prov,
        home,
        _devnet_dir: devnet_dir,
    })
}

/// Logs an iris run (params, metrics, dataset, model) with real MLflow Python.
pub fn iris_run(server: &MlflowServer) -> Value {
    server
        .python(
            "log_iris_run.py",
            &["--experiment", &ario_test_support::unique("prov")],
        )
        .unwrap()
}

/// Waits (bounded) for a background anchor and asserts it reached Arweave.
pub async fn assert_anchored(h: &ario_provenance::AnchorHandle) {
    assert!(
        h.wait(std::time::Duration::from_secs(300)).await,
        "anchor still running"
    );
    assert!(
        matches!(h.status(), ario_provenance::AnchorStatus::Anchored { .. }),
        "{:?}",
        h.status()
    );
}

/// Registers the model a run logged (`runs:/<run>/model`) under a fresh
/// name and waits for its registration anchor; returns (name, version).
pub async fn register(p: &Anchorer, run_id: &str, prefix: &str) -> (String, String) {
    let name = ario_test_support::unique(prefix);
    p.ensure_registered_model(&name).await.unwrap();
    let (mv, h) = p
        .create_model_version(
            &name,
            &format!("runs:/{run_id}/model"),
            Some(run_id),
            std::collections::BTreeMap::new(),
        )
        .await
        .unwrap();
    assert_anchored(&h).await;
    (name, mv.version)
}
