//! A process killed (SIGKILL) while its upload is in flight loses nothing
//! and pays for nothing twice: `retry` sends the very same data item, and
//! the run verifies with exactly one item per event on the devnet.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use ario_devnet::{Devnet, DevnetOptions, Faults};
use ario_test_support::{mlflow, unique};
use common::cli;

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_during_the_upload_then_retry_anchors_each_event_once() {
    let Some(server) = mlflow() else { return };
    let dir = tempfile::tempdir().unwrap();
    let devnet = Devnet::start(DevnetOptions::new(dir.path().join("devnet")))
        .await
        .unwrap();
    let home = dir.path().join("home");
    let logged = server
        .python("log_iris_run.py", &["--experiment", &unique("crash")])
        .unwrap();
    let run_id = logged["run_id"].as_str().unwrap();

    // Every upload is slow, so the training upload is surely in flight when killed.
    devnet.set_faults(Faults {
        latency_ms: 4000,
        path_prefix: Some("/turbo/tx".into()),
        ..Default::default()
    });
    let mut child = cli(server.url(), &devnet.url(), &home)
        .args(["anchor", "run", run_id])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let uploads = || {
        devnet
            .requests()
            .iter()
            .filter(|r| r.method == "POST" && r.path.starts_with("/turbo/tx"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    while uploads() < 2 {
        assert!(
            Instant::now() < deadline,
            "the training upload never started"
        );
        assert!(child.try_wait().unwrap().is_none(), "anchor ended early");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    devnet.set_faults(Faults::default());

    let out = cli(server.url(), &devnet.url(), &home)
        .args(["retry"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let out = cli(server.url(), &devnet.url(), &home)
        .args(["verify", "run", run_id, "--no-write-back"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        devnet.store().len(),
        2,
        "one data item for the dataset, one for the training run"
    );
}
