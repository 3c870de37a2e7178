//! `verify run` end to end on the same run, MLflow and devnet: ours against
//! the Python plugin's own `verify run` (its https gateway fetch rewritten to
//! the devnet's http; see `bench_plugin_verify_run.py`).

use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;

use super::{example, json_line, num, Row};
use crate::peers::Peers;
use crate::stack::Stack;
use crate::util::root;

/// Gateway requests the devnet has logged so far.
fn gateway_requests(devnet: &str) -> Option<usize> {
    let out = Command::new("curl")
        .args(["-sf", &format!("{devnet}/__devnet/requests")])
        .output()
        .ok()?;
    let log: Vec<Value> = serde_json::from_slice(&out.stdout).ok()?;
    Some(
        log.iter()
            .filter(|r| {
                !r["path"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("/__devnet")
            })
            .count(),
    )
}

pub(crate) fn run(peers: &Peers) -> anyhow::Result<Vec<Row>> {
    eprintln!("[bench] verify run: ours against the Python plugin's");
    let work = root().join("target/bench/verify-run");
    let stack = Stack::start(
        &peers.python,
        root().join("target/release/ar-io-mlflow"),
        &work,
    )?;
    let (server, env, vars, devnet_url) = (
        &stack.server,
        &stack.env,
        &stack.env.vars,
        &stack.devnet_url,
    );
    let logged = server
        .python("log_iris_run.py", &["--experiment", "bench-verify"])
        .map_err(anyhow::Error::msg)?;
    let run_id = logged["run_id"].as_str().context("run_id")?.to_owned();
    env.ok(&["anchor", "run", &run_id])?;

    let repeat = 5;
    let before = gateway_requests(devnet_url);
    let ours = json_line(
        &Command::new(example("bench_verify_run"))
            .args(["--run", &run_id, "--repeat", &repeat.to_string()])
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .output()?,
    )?;
    anyhow::ensure!(
        ours["verified"] == true,
        "our verify run did not verify: {ours}"
    );
    let after = gateway_requests(devnet_url);
    let host = devnet_url.trim_start_matches("http://").to_owned();
    let pyhome = work.join("pyhome");
    std::fs::create_dir_all(&pyhome)?;
    let theirs = server
        .python_env(
            "bench_plugin_verify_run.py",
            &[
                "--run-id",
                &run_id,
                "--gateway",
                &host,
                "--repeat",
                &repeat.to_string(),
            ],
            &[("HOME", pyhome.as_os_str())],
        )
        .map_err(anyhow::Error::msg)?;
    // Ours: one warm-up run plus `repeat` timed runs went through the devnet.
    let our_gateway = match (before, after) {
        (Some(b), Some(a)) => format!("{:.0}", (a - b) as f64 / (repeat + 1) as f64),
        _ => "n/a".into(),
    };
    let our_mlflow = ours["mlflow_requests"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .unwrap_or(Value::Null);
    let (o, t) = (
        num(&ours, "wall_ms_median")?,
        num(&theirs, "wall_ms_median")?,
    );
    Ok(vec![
        Row::new(
            "`verify run` end to end, median of 5 (ms)",
            format!("{o:.1}"),
            format!("{t:.1} (Python plugin `verify run`)"),
            format!("{:.1}x faster", t / o),
            "",
        ),
        Row::new(
            "`verify run` requests per run: MLflow / gateway",
            format!("{our_mlflow} / {our_gateway}"),
            format!(
                "{} / {} (Python plugin)",
                theirs["mlflow_requests_per_run"], theirs["gateway_requests_per_run"]
            ),
            "",
            "",
        ),
    ])
}
