//! Shared by the CLI tests that drive the binary against MLflow and a devnet.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod serve;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The CLI with MLflow, the devnet and a home directory, and no key or
/// wallet from the caller's environment. Anchors may take up to 300 s to
/// be confirmed: a loaded CI machine is slower than the CLI's default wait.
pub fn cli(mlflow: &str, devnet: &str, home: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ar-io-mlflow"));
    c.env("MLFLOW_TRACKING_URI", mlflow)
        .env("ARIO_MLFLOW_DEVNET", devnet)
        .env("ARIO_MLFLOW_HOME", home)
        .env("ARIO_MLFLOW_WAIT", "300")
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

/// Spawns a long-running command and reads its stdout until a line holding
/// `marker`; returns the child and the first word of that line starting
/// with `http` (the address it serves on).
#[allow(clippy::zombie_processes)] // the caller owns (and waits for) the child
pub fn spawn_serving(mut c: Command, marker: &str) -> (Child, String) {
    let mut child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    loop {
        let mut line = String::new();
        let n = out.read_line(&mut line).unwrap();
        if n == 0 {
            let status = child.wait();
            panic!("exited ({status:?}) before printing {marker:?}; printed:\n{seen}");
        }
        seen.push_str(&line);
        if line.contains(marker) {
            let url = line
                .split_whitespace()
                .find(|w| w.starts_with("http"))
                .unwrap_or_else(|| panic!("no address in {line:?}"))
                .to_owned();
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || {
                let mut sink = String::new();
                while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                    sink.clear();
                }
            });
            return (child, url);
        }
    }
}
