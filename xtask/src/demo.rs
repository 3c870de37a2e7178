//! `cargo xtask demo`: the main job end to end on a local default.
//!
//! Sets up the Python venv with MLflow, starts a real MLflow server and our
//! devnet on loopback, trains the iris model, then drives the `ar-io-mlflow`
//! CLI through the lifecycle: anchor the run, register and promote (alias)
//! the model, record three decisions, verify each, and audit the version
//! into a self-contained HTML report.

use std::process::Command;
use std::time::Instant;

use anyhow::Context as _;
use ario_test_support::MlflowServer;
use serde_json::Value;

use crate::stack::{start_devnet, Env};
use crate::util::{root, sh};

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

pub(crate) fn run() -> anyhow::Result<()> {
    let started = Instant::now();
    println!("ar-io-mlflow-rs demo: the MLflow lifecycle, anchored and verified on a local devnet");

    step(1, "set up the Python venv with MLflow and build the CLI");
    let peers = crate::peers::install()?;
    sh(Command::new("cargo")
        .args(["build", "--quiet", "-p", "ar-io-mlflow"])
        .current_dir(root()))?;
    let cli = root().join("target/debug/ar-io-mlflow");
    let work = root().join("target/demo");
    let _ = std::fs::remove_dir_all(work.join("devnet"));
    std::fs::create_dir_all(&work)?;
    println!("    venv {}, CLI {}", peers.python.display(), cli.display());

    step(
        2,
        "start MLflow (SQLite, --serve-artifacts) and the devnet on 127.0.0.1",
    );
    let server = MlflowServer::start(&peers.python).map_err(anyhow::Error::msg)?;
    let (_devnet, devnet_url) = start_devnet(&cli, &work.join("devnet"))?;
    println!("    MLflow {} at {}", server.version(), server.url());
    println!("    devnet (Turbo upload, gateway, ar.io Verify) at {devnet_url}");
    let home = work.join("home");
    let env = Env {
        cli,
        echo: true,
        vars: vec![
            ("MLFLOW_TRACKING_URI".into(), server.url().into()),
            ("ARIO_MLFLOW_DEVNET".into(), devnet_url.clone()),
            ("ARIO_MLFLOW_HOME".into(), home.display().to_string()),
        ],
    };
    println!(
        "    keys, wallet and outbox in {} (kept between runs; the key never rotates)",
        home.display()
    );

    step(
        3,
        "train the iris model (scikit-learn) with a short Python script",
    );
    std::env::set_var("ARIO_PEER_PYTHON", &peers.python);
    let trained = server
        .python("log_iris_run.py", &["--experiment", "ar-io-mlflow-demo"])
        .map_err(anyhow::Error::msg)?;
    let run_id = trained["run_id"].as_str().context("run_id")?.to_owned();
    println!("    run {run_id} logged params, metrics, the iris dataset and the model");

    step(
        4,
        "anchor the training run (dataset anchor first, then training_complete)",
    );
    env.ok(&[
        "anchor",
        "run",
        &run_id,
        "--metadata",
        "service_name=ar-io-mlflow-demo",
    ])?;

    step(5, "register the model and anchor the registration");
    let model = "iris-demo";
    let out = env.ok(&[
        "register",
        model,
        "--source",
        &format!("runs:/{run_id}/model"),
        "--run-id",
        &run_id,
        "--format",
        "json",
    ])?;
    let reg: Value = serde_json::from_str(&out)?;
    let version = reg["version"].as_str().context("version")?.to_owned();

    step(
        6,
        "promote it: move the alias `champion` to the new version (anchored as alias_set)",
    );
    env.ok(&["promote", model, &version, "--alias", "champion"])?;

    step(
        7,
        "record three decisions through models:/iris-demo@champion (files re-hashed first)",
    );
    let mut traces = Vec::new();
    for ex in trained["examples"].as_array().context("examples")? {
        let out = env.ok(&[
            "decide",
            "--model",
            &format!("models:/{model}@champion"),
            "--input",
            &ex["input"].to_string(),
            "--output",
            &ex["output"].to_string(),
            "--format",
            "json",
        ])?;
        let d: Value = serde_json::from_str(&out)?;
        traces.push(d["trace_id"].as_str().unwrap_or_default().to_owned());
    }

    step(
        8,
        "verify the run, the model version and each decision against Arweave and live MLflow",
    );
    env.ok(&["verify", "run", &run_id])?;
    env.ok(&["verify", "model", &format!("{model}/{version}")])?;
    for t in traces.iter().filter(|t| !t.is_empty()) {
        env.ok(&["verify", "trace", t])?;
    }

    step(
        9,
        "pin our key in a trust policy: the same checks now also show who signed",
    );
    let stanza = env.ok(&["keys", "show", "--name", "demo-signer", "--format", "toml"])?;
    let trust = work.join("trust.toml");
    std::fs::write(&trust, stanza)?;
    let trust = trust.display().to_string();
    env.ok(&["verify", "run", &run_id, "--trust", &trust])?;

    step(10, "audit the version's whole lineage into one HTML file");
    let report = work.join("audit.html");
    env.ok(&[
        "audit",
        &format!("{model}/{version}"),
        "--format",
        "html",
        "--output",
        &report.display().to_string(),
    ])?;
    env.ok(&["audit", &format!("{model}/{version}"), "--trust", &trust])?;

    step(
        11,
        "write an evidence bundle and re-check it offline (no MLflow, no gateway)",
    );
    let bundle = work.join("evidence.json");
    env.ok(&[
        "audit",
        &format!("{model}/{version}"),
        "--format",
        "evidence",
        "--output",
        &bundle.display().to_string(),
    ])?;
    env.ok(&[
        "proof",
        "verify",
        "--bundle",
        &bundle.display().to_string(),
        "--trust",
        &trust,
    ])?;

    println!(
        "\ndone in {:.0} s. The audit report is {}\n(open it in a browser; it has no external assets).",
        started.elapsed().as_secs_f64(),
        report.display()
    );
    Ok(())
}
