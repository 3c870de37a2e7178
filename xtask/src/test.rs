//! `cargo xtask test`: the project's one test command.

use std::process::Command;

use crate::util::{root, shared_dir};

/// Arguments of `xtask test`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Skip installing/using the Python and npm peers (kernel-only run).
    #[arg(long)]
    no_peers: bool,
    /// Run the MLflow integration tests against another MLflow version (e.g. 2.22.5)
    /// in its own venv; only the MLflow-facing crates are tested.
    #[arg(long)]
    mlflow: Option<String>,
}

/// The pinned requirements with the MLflow pin replaced by `version`.
fn requirements_for(version: &str) -> anyhow::Result<String> {
    let base = std::fs::read_to_string(root().join("xtask/python/requirements.txt"))?;
    let mut out: Vec<String> = base
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("mlflow==") {
                format!("mlflow=={version}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    if version.starts_with("2.") {
        // MLflow 2.x servers fail to start with SQLAlchemy 2.1.
        out.push("sqlalchemy<2.1".into());
    }
    Ok(out.join("\n") + "\n")
}

fn matrix(version: &str) -> anyhow::Result<()> {
    let python =
        crate::peers::python_env(&format!("py-mlflow-{version}"), &requirements_for(version)?)?;
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(root())
        .args([
            "test",
            "--locked",
            "-p",
            "ario-mlflow-client",
            "-p",
            "ario-test-support",
        ])
        .env("ARIO_PEER_PYTHON", python);
    crate::util::sh(&mut cargo)
}

pub(crate) fn run(args: &Args) -> anyhow::Result<()> {
    if let Some(v) = &args.mlflow {
        return matrix(v);
    }
    let peers = if args.no_peers {
        None
    } else {
        Some(crate::peers::install()?)
    };
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cargo
        .current_dir(root())
        .args(["test", "--workspace", "--all-targets", "--locked"]);
    if let Some(shared) = shared_dir() {
        set_default(
            &mut cargo,
            "ARIO_CONFORMANCE_DIR",
            shared.join("conformance/ar-io-proof/test-vectors"),
        );
        set_default(
            &mut cargo,
            "ARIO_MLFLOW_FIXTURES_DIR",
            shared.join("conformance/ar-io-mlflow"),
        );
    }
    if let Some(p) = &peers {
        cargo.env("ARIO_PEER_PYTHON", &p.python);
        if let Some(node) = &p.node_dir {
            cargo.env("ARIO_PEER_NODE_MODULES", node.join("node_modules"));
        }
    }
    crate::util::sh(&mut cargo)?;
    let mut doc = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    crate::util::sh(
        doc.current_dir(root())
            .args(["test", "--workspace", "--doc", "--locked"]),
    )?;
    crate::vectors::run(&crate::vectors::Args { check: true })?;
    if root().join("spec/mlflow/openapi.yaml").is_file() {
        crate::codegen::run(&crate::codegen::Args {
            check: true,
            ..Default::default()
        })?;
        if let Some(p) = &peers {
            // Every route, parameter and field name in the spec against MLflow's proto descriptors.
            crate::util::sh(
                Command::new(&p.python).arg(root().join("xtask/python/check_openapi.py")),
            )?;
        }
    }
    if peers.is_some() {
        crate::cross_kernel::run(&crate::cross_kernel::Args::default())?;
    }
    Ok(())
}

fn set_default(cmd: &mut Command, var: &str, value: std::path::PathBuf) {
    if std::env::var_os(var).is_none() && value.is_dir() {
        cmd.env(var, value);
    }
}
