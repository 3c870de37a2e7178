//! Shared by the CLI tests that drive the binary against MLflow and a devnet.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::process::Command;

/// The CLI with MLflow, the devnet and a home directory, and no key or
/// wallet from the caller's environment.
pub fn cli(mlflow: &str, devnet: &str, home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"));
    c.env("MLFLOW_TRACKING_URI", mlflow)
        .env("ARIO_MLFLOW_DEVNET", devnet)
        .env("ARIO_MLFLOW_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("ARIO_MLFLOW_SIGNING_KEY")
        .env_remove("ARIO_MLFLOW_ARWEAVE_WALLET");
    c
}

/// A devnet in `dir/devnet` on a runtime of the caller's (it stops with it).
pub fn devnet(rt: &tokio::runtime::Runtime, dir: &std::path::Path) -> ario_devnet::Devnet {
    rt.block_on(ario_devnet::Devnet::start(ario_devnet::DevnetOptions::new(
        dir.join("devnet"),
    )))
    .unwrap()
}
