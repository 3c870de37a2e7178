//! Recording decisions against a real MLflow server and the devnet: the
//! batched recorder (full speed on one core, and paced at 1,000 a second),
//! our per-decision mode, and the Python plugin's `VerifiedModel.predict`
//! on the same trivial model (so the model's own cost is not measured).

use std::process::Command;

use anyhow::Context as _;
use serde_json::Value;

use super::{example, json_line, num, Args, Row};
use crate::peers::Peers;
use crate::stack::Stack;
use crate::util::root;

/// Decisions of the slow, per-decision paths.
const PER_DECISION_N: usize = 300;
/// The paced run: decisions a second, and seconds.
const PACED_RATE: usize = 1000;
const PACED_SECONDS: usize = 20;

pub(crate) fn run(peers: &Peers, args: &Args) -> anyhow::Result<Vec<Row>> {
    eprintln!("[bench] decisions: starting MLflow and the devnet");
    let work = root().join("target/bench/decisions");
    let stack = Stack::start(
        &peers.python,
        root().join("target/release/ar-io-mlflow"),
        &work,
    )?;
    let (server, env, vars) = (&stack.server, &stack.env, &stack.env.vars);
    let logged = server
        .python("log_trivial_model.py", &["--experiment", "bench-decisions"])
        .map_err(anyhow::Error::msg)?;
    let run_id = logged["run_id"].as_str().context("run_id")?.to_owned();
    env.ok(&["anchor", "run", &run_id, "--allow-empty-datasets"])?;
    let source = format!("runs:/{run_id}/model");
    env.ok(&[
        "register",
        "bench-trivial",
        "--source",
        &source,
        "--run-id",
        &run_id,
    ])?;
    let uri = "models:/bench-trivial/1";

    let record = |mode: &str, n: usize, extra: &[&str], pin: bool| -> anyhow::Result<Value> {
        let dir = work.join(format!("journal-{mode}-{n}"));
        let mut c = if pin {
            let mut c = Command::new("taskset");
            c.args(["-c", "0"]).arg(example("bench_record"));
            c
        } else {
            Command::new(example("bench_record"))
        };
        c.args([
            "--model",
            uri,
            "--mode",
            mode,
            "--n",
            &n.to_string(),
            "--dir",
        ])
        .arg(&dir)
        .args(extra)
        .envs(vars.iter().map(|(k, v)| (k, v)));
        json_line(&c.output()?)
    };
    eprintln!(
        "[bench] decisions: batched recorder, {} decisions on one core",
        args.decisions
    );
    let fast = record("batched", args.decisions, &[], true)?;
    eprintln!("[bench] decisions: batched recorder paced at {PACED_RATE}/s for {PACED_SECONDS} s");
    let paced_n = PACED_RATE * PACED_SECONDS;
    let paced = record(
        "batched",
        paced_n,
        &["--rate", &PACED_RATE.to_string()],
        true,
    )?;
    eprintln!("[bench] decisions: per-decision mode, {PER_DECISION_N} decisions");
    let single = record("per-decision", PER_DECISION_N, &[], false)?;
    eprintln!("[bench] decisions: the Python plugin's VerifiedModel.predict, {PER_DECISION_N} predictions");
    let pyhome = work.join("pyhome");
    std::fs::create_dir_all(&pyhome)?;
    let plugin = server
        .python_env(
            "bench_plugin_predict.py",
            &["--model-uri", uri, "--n", &PER_DECISION_N.to_string()],
            &[("HOME", pyhome.as_os_str())],
        )
        .map_err(anyhow::Error::msg)?;

    let us = |v: &Value| -> anyhow::Result<String> {
        Ok(format!(
            "{:.1} / {:.1} / {:.1}",
            num(v, "p50_us")?,
            num(v, "p99_us")?,
            num(v, "p999_us")?
        ))
    };
    let per_m = |v: &Value, k: &str| -> anyhow::Result<String> { Ok(format!("{:.0}", num(v, k)?)) };
    let plugin_req_m = num(&plugin, "mlflow_requests")? * 1e6 / num(&plugin, "n")?;
    let single_up = num(&single, "uploads_per_million")?;
    let paced_up = num(&paced, "uploads_per_million")?;
    Ok(vec![
        Row::new(
            "`record` latency p50 / p99 / p99.9 (µs), batched recorder, 1 core",
            us(&fast)?,
            format!("{} (Python plugin predict, uploads off)", us(&plugin)?),
            format!("{:.0}x lower p99", num(&plugin, "p99_us")? / num(&fast, "p99_us")?),
            "p99 <= 50 µs",
        ),
        Row::new(
            "decision latency p50 / p99 / p99.9 (µs), our per-decision mode (`decide`)",
            us(&single)?,
            format!("{} (Python plugin)", us(&plugin)?),
            format!("{:.2}x lower p50", num(&plugin, "p50_us")? / num(&single, "p50_us")?),
            "",
        ),
        Row::new(
            "decisions/s sustained, batched recorder, 1 core, checkpoints to the devnet",
            format!("{:.0}", num(&fast, "per_s")?),
            format!("{:.1} (Python plugin predict); {:.1} (ours per-decision)", num(&plugin, "per_s")?, num(&single, "per_s")?),
            format!("{:.0}x the plugin", num(&fast, "per_s")? / num(&plugin, "per_s")?),
            ">= 150,000/s",
        ),
        Row::new(
            format!("uploads per million decisions at {PACED_RATE}/s (batched: paced {PACED_SECONDS} s)"),
            per_m(&paced, "uploads_per_million")?,
            format!("{} (ours per-decision); plugin: one per prediction by design (uploads off here)", per_m(&single, "uploads_per_million")?),
            format!("{:.0}x fewer", single_up / paced_up.max(1e-9)),
            ">= 100x fewer",
        ),
        Row::new(
            "uploads per million decisions at full speed (batched)",
            per_m(&fast, "uploads_per_million")?,
            "",
            format!("{} checkpoints", fast["checkpoints"]),
            "",
        ),
        Row::new(
            "MLflow requests per million decisions",
            format!("{} (full speed); {} (paced)", per_m(&fast, "mlflow_requests_per_million")?, per_m(&paced, "mlflow_requests_per_million")?),
            format!("{:.0} (Python plugin predict); {} (ours per-decision)", plugin_req_m, per_m(&single, "mlflow_requests_per_million")?),
            format!("{:.0}x fewer than the plugin", plugin_req_m / num(&fast, "mlflow_requests_per_million")?.max(1e-9)),
            "",
        ),
    ])
}
