//! A secured MLflow (`mlflow server --app-name basic-auth`): with the
//! credentials from MLflow's environment variables the CLI anchors and
//! verifies; without them, or with a wrong password, it says so plainly
//! (exit 2) and claims nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ario_test_support::{env_path_or_skip, unique, MlflowServer, PathKind, SkipKind};
use common::cli;
use serde_json::Value;

#[test]
fn the_cli_works_against_a_secured_mlflow_and_names_missing_or_wrong_credentials() {
    let Some(py) = env_path_or_skip(
        ario_test_support::PEER_PYTHON_VAR,
        PathKind::Executable,
        SkipKind::Mlflow,
        "no MLflow server to secure",
    ) else {
        return;
    };
    let server = MlflowServer::start_with_auth(&py).unwrap();
    let creds = server.credentials().unwrap().clone();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let devnet = common::devnet(&rt, dir.path());
    let home = dir.path().join("home");
    // The Python client logs the run with the admin login.
    let logged = server
        .python("log_iris_run.py", &["--experiment", &unique("secured")])
        .unwrap();
    let run_id = logged["run_id"].as_str().unwrap();

    let with = |user: &str, password: &str| {
        let mut c = cli(server.url(), &devnet.url(), &home);
        c.env("MLFLOW_TRACKING_USERNAME", user)
            .env("MLFLOW_TRACKING_PASSWORD", password);
        c
    };
    let out = with(&creds.username, &creds.password)
        .args(["anchor", "run", run_id])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = with(&creds.username, &creds.password)
        .args(["verify", "run", run_id, "--format", "json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), v["status"].as_str()),
        (Some(0), Some("verified")),
        "{v:#}"
    );

    let wrong = with(&creds.username, "not-the-password-at-all")
        .args(["verify", "run", run_id, "--format", "json"])
        .output()
        .unwrap();
    let mut none = cli(server.url(), &devnet.url(), &home);
    none.env_remove("MLFLOW_TRACKING_USERNAME")
        .env_remove("MLFLOW_TRACKING_PASSWORD")
        .env_remove("MLFLOW_TRACKING_TOKEN");
    let missing = none
        .args(["verify", "run", run_id, "--format", "json"])
        .output()
        .unwrap();
    for out in [wrong, missing] {
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{v:#}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("refused the request (HTTP 401)")
                && msg.contains("MLFLOW_TRACKING_USERNAME"),
            "{msg}"
        );
        assert_ne!(v["status"], "verified");
    }
}
