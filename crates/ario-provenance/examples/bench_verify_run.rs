//! `verify run` end to end, measured, for `cargo xtask bench verify-run`.
//!
//! Usage: `bench_verify_run --run RUN_ID [--repeat K]` with MLflow and the
//! devnet from the environment (`MLFLOW_TRACKING_URI`, `ARIO_MLFLOW_DEVNET`).
//! One untimed run warms up; each timed run builds nothing new and verifies
//! the run's training anchor against live MLflow and the gateway, without
//! writing back. Prints one JSON object: wall time per run (median, min) and
//! the MLflow requests each run made.

// A measurement tool: a failure means the setup is wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use ario_gateway::config::GatewayConfig;
use ario_mlflow_client::MlflowClient;
use ario_provenance::{Status, Verifier};

fn arg(name: &str) -> Option<String> {
    let mut it = std::env::args();
    it.position(|a| a == name)?;
    it.next()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let run = arg("--run").ok_or("--run RUN_ID")?;
    let repeat: usize = arg("--repeat").unwrap_or_else(|| "5".into()).parse()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let client = MlflowClient::from_env()?;
    let verifier = Verifier::new(client.clone(), GatewayConfig::from_env());
    let warm = rt.block_on(verifier.verify_run(&run, false))?;
    let mut wall = Vec::new();
    let mut requests = Vec::new();
    let mut status = warm.status;
    for _ in 0..repeat {
        let before = client.requests_sent();
        let t = Instant::now();
        let v = rt.block_on(verifier.verify_run(&run, false))?;
        wall.push(t.elapsed().as_secs_f64() * 1000.0);
        requests.push(client.requests_sent() - before);
        status = v.status;
    }
    wall.sort_by(f64::total_cmp);
    println!(
        "{}",
        serde_json::json!({
            "runs": repeat, "wall_ms_median": wall[wall.len() / 2], "wall_ms_min": wall[0],
            "wall_ms": wall, "mlflow_requests": requests,
            "verified": status == Status::Verified, "status": status,
        })
    );
    Ok(())
}
